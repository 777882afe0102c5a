"""``cdktf-mlops report`` on every example: files written, DR names real, acknowledgements shown, deterministic.

The DR plan's names are checked against the synthesized JSON independently of the report's own
name resolution: every word of the plan that starts with the stack's name prefix must be one of
the stack's string values (the AWS account id, known only at apply time, written ``${ACCOUNT_ID}``).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from constructs_lib.cli import app
from constructs_lib.ops.report import ReportError, build_report, write_reports

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = tuple(sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir() and list(p.glob("*.yaml"))))
#: CLI options whose value is a resource name (not --display-name: that one the operator chooses).
_NAME_ARGS = r"(?<!display)(?:-name|--bucket|--resource-group|--zone|--key-id|--alarm-names|--profile-name)[ =](\S+)"
_ACCOUNT = re.compile(r"\$\{data\.aws_caller_identity\.[^.}]+\.account_id\}")


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example (3 clouds each) synthesized into one output folder."""
    from constructs_lib.platform import synthesize

    out = tmp_path_factory.mktemp("report") / "cdktf.out"
    synthesize([ROOT / "examples" / e for e in EXAMPLES], outdir=out)
    return out


def _stack_dirs(out: Path) -> list[Path]:
    return sorted(p.parent for p in out.glob("stacks/*/cdk.tf.json"))


def _strings(value, into: set[str]) -> set[str]:
    if isinstance(value, str):
        into.add(_ACCOUNT.sub("${ACCOUNT_ID}", value))
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, into)
    elif isinstance(value, list):
        for v in value:
            _strings(v, into)
    return into


def test_report_command_writes_every_stack(synthesized: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "--out", str(synthesized), "-o", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    stacks = [d.name for d in _stack_dirs(synthesized)]
    assert len(stacks) == 3 * len(EXAMPLES) and len(EXAMPLES) >= 5
    for name in stacks:
        for ext in ("html", "md", "svg"):
            assert (tmp_path / "report" / f"{name}.{ext}").is_file()
            assert f"wrote {tmp_path / 'report' / f'{name}.{ext}'}" in result.output.replace("\n", "")


def test_report_of_a_folder_without_stacks_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no synthesized stacks"):
        write_reports(tmp_path, tmp_path / "r")
    result = CliRunner().invoke(app, ["report", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_every_name_the_dr_plan_cites_exists_in_its_stack(synthesized: Path) -> None:
    for directory in _stack_dirs(synthesized):
        doc = json.loads((directory / "cdk.tf.json").read_text())
        values = _strings(doc, set())
        report = build_report(directory)
        dr = report.section("disaster-recovery")
        assert dr.citations, f"{directory.name}: the DR plan cites no resource name"
        for c in dr.citations:
            kind, _, name = c.address.partition(".")
            assert name.split(".")[0] in doc["resource"].get(kind, {}) or c.address.startswith("data."), c
            assert c.text in dr.markdown, c
            assert any(c.text == v or v.endswith(c.text) or c.text in v for v in values), f"{directory.name}: {c}"
        prefix = json.loads((directory / "provenance.json").read_text())["spec"]
        prefix = f"{prefix['name']}-{prefix['environment']}"
        words = set(re.findall(r"(?<![\w.-])(?:alias/)?" + re.escape(prefix) + r"[A-Za-z0-9${}_.-]*", dr.markdown))
        code = "\n".join(re.findall(r"```sh\n(.*?)```", dr.markdown, flags=re.S))
        words |= set(re.findall(r"(?:s3|gs)://([^/\s]+)", code))
        words |= {v.strip("'\"") for v in re.findall(_NAME_ARGS, code)}
        words = {w for w in words if not w.startswith(("<", "$"))}
        assert words, f"{directory.name}: no resource name in the DR plan"
        for word in words:
            word = word.rstrip(".").split("/<")[0]
            assert word in values or any(v.startswith(word + "/") for v in values), f"{directory.name}: {word} is not in the stack"


def test_every_acknowledged_finding_is_in_the_governance_section_with_its_reason(synthesized: Path) -> None:
    for directory in _stack_dirs(synthesized):
        acks = json.loads((directory / "acknowledgements.json").read_text())["acknowledgements"]
        assert acks, directory.name
        md = build_report(directory).section("governance").markdown
        rows = md.splitlines()
        for address, entries in acks.items():
            for e in entries:
                reason = e["reason"].replace("|", "\\|")
                assert any(e["check_id"] in r and f"`{address}`" in r and reason in r for r in rows), (address, e["check_id"])


def test_checkov_findings_that_were_acknowledged_are_shown(synthesized: Path, tmp_path: Path) -> None:
    """The real checkov run (scan.json): each acknowledged finding appears with its reason."""
    from constructs_lib.core.scan import checkov_command, scan

    try:
        checkov_command()
    except Exception as exc:  # noqa: BLE001 - the message says how to install it
        pytest.skip(str(exc))
    import shutil

    out = tmp_path / "out"
    shutil.copytree(synthesized, out)
    for d in _stack_dirs(out):
        if not d.name.startswith("reference-"):
            shutil.rmtree(d)
    results = scan(out)
    assert all(r.ok for r in results), [(r.stack, r.failed, r.problems) for r in results]
    for r in results:
        record = json.loads((out / "stacks" / r.stack / "scan.json").read_text())
        assert record["summary"]["acknowledged"] == len(r.acknowledged) > 0
        md = build_report(out / "stacks" / r.stack).section("governance").markdown
        assert f"{record['summary']['passed']} passed" in md
        for f in r.acknowledged:
            assert any(f.check_id in row and f.resource in row and f.reason.replace("|", "\\|") in row for row in md.splitlines()), f


def test_diagram_is_inline_self_contained_svg(synthesized: Path) -> None:
    report = build_report(synthesized / "stacks" / "reference-aws")
    html = report.section("architecture").html
    assert "<svg" in html and "<!--" not in html
    assert not re.search(r'(?:href|src)="(?!#)', html.replace('xmlns:xlink="http://www.w3.org/1999/xlink"', ""))
    for label in ("replicates", "routes", "grants", "triggers"):
        assert f">{label}</text>" in html, label
    text = re.sub(r"<[^>]+>", " ", __import__("html").unescape(html))
    assert "us-west-2" in text and "data (replica)" in text and "global" in text


def test_two_runs_are_byte_identical_and_fast(synthesized: Path, tmp_path: Path) -> None:
    start = time.perf_counter()
    first = write_reports(synthesized, tmp_path / "a")
    seconds = time.perf_counter() - start
    second = write_reports(synthesized, tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert seconds / 12 < 2.0, f"{seconds:.1f} s for 12 stacks"
    assert str(tmp_path) not in first[0].read_text()


def test_dr_plan_says_what_is_not_recoverable(synthesized: Path) -> None:
    md = build_report(synthesized / "stacks" / "reference-aws").section("disaster-recovery").markdown
    assert "not recoverable" in md
    assert "| store data | region loss | RPO 15 min / RTO 60 min (construct output) |" in md
    assert "aws s3 sync s3://reference-aws-prod-data-${ACCOUNT_ID}-dr/" in md
    assert "ACCOUNT_ID=$(aws sts get-caller-identity" in md
    assert "| date | scenario |" in md


def test_cost_section_shows_the_cost_commands_totals(synthesized: Path) -> None:
    """The report's cost section is the ``cost`` command's typical-profile result for the same stack."""
    from constructs_lib.ops.cost import analyse

    stacks, _usage = analyse(synthesized, profile="typical")
    for stack in stacks:
        section = build_report(synthesized / "stacks" / stack.name).section("cost")
        for which in ("fixed", "monthly", "ceiling"):
            figure = f"${stack.total(which):,.2f}"
            assert figure in section.markdown and figure in section.html, (stack.name, which, figure)
        assert "<script" not in section.html and "<table>" in section.html
