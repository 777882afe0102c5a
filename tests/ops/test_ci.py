"""The generated GitHub Actions workflow: parsed and checked for the steps a reviewer expects, and
linted with actionlint and zizmor (offline, pedantic persona) for every example folder."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from constructs_lib.cli import app
from constructs_lib.ops.ci import ACTION_PINS, ARTIFACT_RETENTION_DAYS, PLAN_SUMMARY_SCRIPT

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir() and any(p.glob("*.yaml")))
VERSION = importlib.metadata.version("cdktf-mlops")
BIN = Path(sys.executable).parent


def generate_text(tmp_path: Path, *paths: str, name: str = "wf.yml") -> str:
    out = tmp_path / name
    res = CliRunner().invoke(app, ["ci", "github", *paths, "--output", str(out)])
    assert res.exit_code == 0, res.output
    return out.read_text()


def generate(tmp_path: Path, *paths: str) -> dict:
    return yaml.safe_load(generate_text(tmp_path, *paths))


def steps_of(job: dict) -> list[dict]:
    return job["steps"]


def runs_of(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in steps_of(job))


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.skip(f"{name} not installed (it comes with the dev extra: `make dev`)")
    return found


def test_workflow_shape(tmp_path: Path) -> None:
    wf = generate(tmp_path, str(ROOT / "examples" / "reference"))
    assert set(wf["on"]) == {"pull_request", "push"}
    assert wf["permissions"] == {}, "no permissions at the top level: each job names its own"
    jobs = wf["jobs"]
    assert list(jobs) == ["scan", "plan", "deploy"]
    scan_runs = runs_of(jobs["scan"])
    assert "cdktf-mlops synth" in scan_runs and "cdktf-mlops scan" in scan_runs and "--sarif" in scan_runs
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps_of(jobs["scan"]))
    assert jobs["scan"]["permissions"]["security-events"] == "write"
    assert "id-token" not in jobs["scan"]["permissions"], "the scan job needs no cloud identity"
    stacks = {i["stack"]: i["cloud"] for i in jobs["plan"]["strategy"]["matrix"]["include"]}
    assert stacks == {"reference-aws": "aws", "reference-azure": "azure", "reference-gcp": "gcp"}
    assert "terraform plan -input=false -lock-timeout=5m -out=tfplan" in runs_of(jobs["plan"])


def test_deploy_only_on_main_behind_an_environment(tmp_path: Path) -> None:
    deploy = generate(tmp_path, str(ROOT / "examples" / "reference"))["jobs"]["deploy"]
    assert deploy["environment"] == "production"
    assert deploy["needs"] == "plan"
    assert "refs/heads/main" in deploy["if"] and "push" in deploy["if"]
    assert any("terraform apply" in s.get("run", "") for s in steps_of(deploy))


def test_one_apply_per_stack_at_a_time(tmp_path: Path) -> None:
    deploy = generate(tmp_path, str(ROOT / "examples" / "reference"))["jobs"]["deploy"]
    assert deploy["concurrency"] == {"group": "cdktf-mlops-apply-${{ matrix.stack }}", "cancel-in-progress": False}


def test_apply_runs_the_reviewed_plan_file_from_the_artifact(tmp_path: Path) -> None:
    jobs = generate(tmp_path, str(ROOT / "examples" / "reference"))["jobs"]
    plan, deploy = jobs["plan"], jobs["deploy"]
    (upload,) = [s for s in steps_of(plan) if s.get("uses", "").startswith("actions/upload-artifact@")]
    plan_step = next(s for s in steps_of(plan) if "terraform plan" in s.get("run", ""))
    workdir = plan_step["working-directory"]
    assert "-out=tfplan" in plan_step["run"]
    paths = upload["with"]["path"].splitlines()
    assert f"{workdir}/" in paths, "the synthesized stack folder (with tfplan in it) is the artifact"
    assert f"!{workdir}/.terraform/" in paths, "providers are installed again, from the lock file"
    assert upload["with"]["include-hidden-files"] is True  # .terraform.lock.hcl
    assert 1 <= upload["with"]["retention-days"] == ARTIFACT_RETENTION_DAYS <= 7

    steps = steps_of(deploy)
    download = steps[0]
    assert download["uses"].startswith("actions/download-artifact@")
    assert download["with"]["name"] == upload["with"]["name"] == "plan-${{ matrix.stack }}"
    assert not any(s.get("uses", "").startswith("actions/checkout@") for s in steps), "nothing but the artifact"
    runs = runs_of(deploy)
    for forbidden in ("cdktf-mlops", "synth", "terraform plan", "-auto-approve", "pip install"):
        assert forbidden not in runs, f"the deploy job must not run {forbidden!r}"
    (apply,) = [s for s in steps if "terraform apply" in s.get("run", "")]
    assert apply["run"].split()[-1] == "tfplan" and apply["working-directory"] == download["with"]["path"]
    assert runs.count("terraform ") == 2  # init, apply


def test_every_action_is_pinned_to_a_commit_with_its_tag(tmp_path: Path) -> None:
    text = generate_text(tmp_path, str(ROOT / "examples" / "reference"))
    uses = [line.strip().removeprefix("- ") for line in text.splitlines() if "uses:" in line]
    assert uses
    for line in uses:
        match = re.fullmatch(r"uses: ([\w./-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)", line)
        assert match, f"not pinned to a 40-hex commit with its tag as a comment: {line}"
        action, sha, tag = match.groups()
        assert ACTION_PINS[action] == (sha, tag)
    used = {re.match(r"uses: ([\w./-]+)@", u).group(1) for u in uses}
    assert used == set(ACTION_PINS), "the pin table lists exactly the actions the workflow uses"


def test_checkouts_keep_no_token_and_runs_expand_no_expressions(tmp_path: Path) -> None:
    wf = generate(tmp_path, str(ROOT / "examples" / "reference"))
    for name, job in wf["jobs"].items():
        for step in steps_of(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name
            assert "${{" not in step.get("run", ""), f"{name}/{step['name']}: pass values through env:"


def test_installs_the_generating_version_with_the_lean_extras(tmp_path: Path) -> None:
    jobs = generate(tmp_path, str(ROOT / "examples" / "reference"))["jobs"]
    assert f"pip install 'cdktf-mlops[scan]=={VERSION}'" in runs_of(jobs["scan"])
    assert f"pip install 'cdktf-mlops=={VERSION}'" in runs_of(jobs["plan"])
    for job in jobs.values():
        assert "[dev]" not in runs_of(job) and "-e ." not in runs_of(job)


def test_summaries_plan_and_scan(tmp_path: Path) -> None:
    jobs = generate(tmp_path, str(ROOT / "examples" / "reference"))["jobs"]
    assert "GITHUB_STEP_SUMMARY" in runs_of(jobs["scan"])
    assert PLAN_SUMMARY_SCRIPT in runs_of(jobs["plan"])


def test_plan_summary_script_counts_like_terraform(tmp_path: Path) -> None:
    plan = {"resource_changes": [
        {"address": "a.new", "change": {"actions": ["create"]}},
        {"address": "a.tag", "change": {"actions": ["update"]}},
        {"address": "a.gone", "change": {"actions": ["delete"]}},
        {"address": "a.swap", "change": {"actions": ["delete", "create"]}},
        {"address": "a.same", "change": {"actions": ["no-op"]}},
    ]}
    (tmp_path / "tfplan.json").write_text(json.dumps(plan))
    summary = tmp_path / "summary.md"
    env = {**os.environ, "STACK": "demo-aws", "GITHUB_STEP_SUMMARY": str(summary)}
    subprocess.run([sys.executable, "-c", PLAN_SUMMARY_SCRIPT], cwd=tmp_path, env=env, check=True)
    text = summary.read_text()
    assert "### Plan: demo-aws" in text
    assert "2 to add, 1 to change, 2 to destroy." in text
    assert "`a.swap`: delete/create" in text and "a.same" not in text


def test_cloud_access_is_oidc_only(tmp_path: Path) -> None:
    wf = generate(tmp_path, str(ROOT / "examples" / "reference"))
    text = yaml.safe_dump(wf)
    for secret_word in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "client-secret", "credentials_json", "ARM_CLIENT_SECRET"):
        assert secret_word not in text
    for job in ("plan", "deploy"):
        j = wf["jobs"][job]
        assert j["permissions"]["id-token"] == "write"
        uses = {s.get("uses", "").split("@")[0]: s for s in steps_of(j)}
        assert "role-to-assume" in uses["aws-actions/configure-aws-credentials"]["with"]
        assert "client-id" in uses["azure/login"]["with"]
        assert "workload_identity_provider" in uses["google-github-actions/auth"]["with"]


def test_single_cloud_gets_only_its_login(tmp_path: Path) -> None:
    wf = generate(tmp_path, str(ROOT / "examples" / "reference" / "gcp.yaml"))
    uses = [s.get("uses", "") for s in wf["jobs"]["plan"]["steps"]]
    assert any(u.startswith("google-github-actions/auth") for u in uses)
    assert not any(u.startswith(("aws-actions/", "azure/login")) for u in uses)
    assert "ARM_USE_OIDC" not in wf["jobs"]["plan"]["env"]


def test_same_input_same_bytes(tmp_path: Path) -> None:
    first = generate_text(tmp_path, str(ROOT / "examples" / "retraining"), name="a.yml")
    assert generate_text(tmp_path, str(ROOT / "examples" / "retraining"), name="b.yml") == first


@pytest.fixture(scope="module")
def example_workflows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workflow of every example folder, in ``<repo>/.github/workflows/`` of a scratch repository."""
    repo = tmp_path_factory.mktemp("wf-repo")
    (repo / ".git").mkdir()  # actionlint looks for the repository root
    folder = repo / ".github" / "workflows"
    folder.mkdir(parents=True)
    for example in EXAMPLES:
        generate_text(folder, str(ROOT / "examples" / example), name=f"{example}.yml")
    return folder


def test_every_example_has_a_workflow(example_workflows: Path) -> None:
    assert len(EXAMPLES) >= 4
    assert sorted(p.stem for p in example_workflows.glob("*.yml")) == EXAMPLES


def test_actionlint_finds_nothing(example_workflows: Path) -> None:
    actionlint = _tool("actionlint")
    shellcheck = _tool("shellcheck")  # actionlint checks the run: scripts with it
    files = sorted(str(p) for p in example_workflows.glob("*.yml"))
    proc = subprocess.run(
        [actionlint, "-no-color", "-format", "{{json .}}", "-shellcheck", shellcheck, *files],
        cwd=example_workflows.parent.parent, capture_output=True, text=True, timeout=120, check=False,
    )
    findings = json.loads(proc.stdout or "[]")
    assert proc.returncode == 0 and findings == [], proc.stdout + proc.stderr


def test_zizmor_offline_finds_nothing(example_workflows: Path) -> None:
    zizmor = _tool("zizmor")
    files = sorted(str(p) for p in example_workflows.glob("*.yml"))
    proc = subprocess.run(
        # pedantic: also the low-severity audits (e.g. permissions without a comment)
        [zizmor, "--offline", "--no-config", "--persona=pedantic", "--format=json", *files],
        capture_output=True, text=True, timeout=120, check=False,
        env={k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_CONFIG")},
    )
    findings = json.loads(proc.stdout or "[]")
    assert proc.returncode == 0 and findings == [], proc.stdout + proc.stderr


def test_readme_lists_the_pins() -> None:
    readme = (ROOT / "README.md").read_text()
    for action, (sha, tag) in ACTION_PINS.items():
        assert f"| {action} | {tag} | `{sha}` |" in readme, f"README's pin table: {action} {tag} {sha}"


def test_scan_job_posts_the_cost_and_uploads_the_report(tmp_path: Path) -> None:
    jobs = generate(tmp_path)["jobs"]
    scan_runs = runs_of(jobs["scan"])
    assert 'cdktf-mlops cost --out cdktf.out --format markdown >> "$GITHUB_STEP_SUMMARY"' in scan_runs
    assert "cdktf-mlops report --out cdktf.out -o report" in scan_runs
    assert "apt-get install" in scan_runs and "graphviz" in scan_runs
    steps = steps_of(jobs["scan"])
    names = [s.get("name", "") for s in steps]
    assert names.index("Report (DR plan, governance, diagram, provenance, cost)") > names.index(
        "Scan (checkov + least-privilege audit)"), "the report shows the scan's results: it runs after the scan"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["name"] == "report" and upload["with"]["path"] == "report/"
