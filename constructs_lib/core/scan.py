"""checkov over synthesized stacks, with construct acknowledgements applied.

checkov runs offline (``--skip-download``) on every stack's ``cdk.tf.json`` with the
``terraform_json`` framework. A failed check is dropped when the resource (by address) carries an
acknowledgement of that check written at synthesis (``acknowledgements.json``). The scan fails on:
any unacknowledged failed check, any parsing error, a stack in which checkov ran no check at all
(it silently scans nothing when it cannot read a file), and any acknowledgement without a reason.
There is no global skip. Every stack also gets the least-privilege audit of
:mod:`~constructs_lib.core.iam_audit`; each of its findings fails the scan.

Each scanned stack gets ``scan.json`` beside its ``provenance.json``: the tool and version, and per
check that ran its name and the resources that passed, failed or were acknowledged (with the
reason), sorted, without times or paths — the same stack and checkov version give the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .errors import MlopsError
from .iam_audit import audit_stack

__all__ = ["SCAN_FILE", "Finding", "StackScan", "checkov_command", "scan", "scan_record", "to_sarif"]

SCAN_FILE = "scan.json"


@dataclass(frozen=True, order=True)
class Finding:
    """One failed checkov check on one resource."""

    check_id: str
    resource: str
    check_name: str = ""
    reason: str = ""  # the acknowledgement's reason, for acknowledged findings


@dataclass
class StackScan:
    """Scan result of one stack."""

    stack: str
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)
    acknowledged: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Every passed check: (check id, check name, resource address).
    passed_checks: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing unacknowledged failed and the scan itself had no problem."""
        return not self.failed and not self.problems


def checkov_command() -> list[str]:
    """The checkov executable of this environment (next to the interpreter), else from PATH."""
    local = Path(sys.executable).parent / "checkov"
    if local.exists():
        return [str(local)]
    found = shutil.which("checkov")
    if found:
        return [found]
    raise MlopsError("checkov is not installed: pip install 'cdktf-mlops[scan]' (checkov 3.3.x)")


def _load_acks(directory: Path) -> tuple[dict[str, dict[str, str]], list[str]]:
    path = directory / "acknowledgements.json"
    if not path.exists():
        return {}, []
    data = json.loads(path.read_text())
    acks: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for address, entries in data.get("acknowledgements", {}).items():
        for e in entries:
            reason = (e.get("reason") or "").strip()
            if not reason:
                problems.append(f"{address}: acknowledgement of {e.get('check_id')} has no reason")
                continue
            acks.setdefault(address, {})[e["check_id"]] = reason
    return acks, problems


def _addresses(path: Path) -> dict[str, str]:
    """Logical name -> address (``type.name``, ``data.type.name``) of every block (names are unique per stack)."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return {
        name: f"{prefix}{tf_type}.{name}"
        for section, prefix in (("resource", ""), ("data", "data."))
        for tf_type, instances in doc.get(section, {}).items()
        if isinstance(instances, dict)
        for name in instances
    }


def _address_of(reported: str, addresses: dict[str, str]) -> str:
    # checkov's terraform_json runner sometimes reports ``resource.<name>`` instead of
    # ``<type>.<name>``; engine logical names are unique per stack, so the name identifies it.
    return addresses.get(reported.rsplit(".", 1)[-1], reported)


def scan(outdir: str | os.PathLike[str] = "cdktf.out", *, record: bool = True) -> list[StackScan]:
    """Run checkov over every stack in ``outdir`` and apply acknowledgements.

    With ``record`` (the default) each stack's results are written to ``scan.json`` beside it
    (:func:`scan_record`), where ``cdktf-mlops report`` shows them.
    """
    stacks_dir = Path(outdir) / "stacks"
    if not stacks_dir.is_dir():
        raise MlopsError(f"{outdir}: no synthesized stacks; run `cdktf-mlops synth --out {outdir}` first")
    dirs = sorted(d for d in stacks_dir.iterdir() if (d / "cdk.tf.json").is_file())
    if not dirs:
        raise MlopsError(f"{stacks_dir}: holds no cdk.tf.json")
    cmd = [*checkov_command(), "--framework", "terraform_json", "--skip-download",
           "--output", "json", "--compact"]
    for d in dirs:
        cmd += ["--file", str(d / "cdk.tf.json")]
    env = {**os.environ, "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", "BC_SKIP_MAPPING": "TRUE"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    try:
        raw: Any = json.loads(proc.stdout) if proc.stdout.strip() else []
    except json.JSONDecodeError:
        raise MlopsError(f"checkov did not produce JSON (exit {proc.returncode}):\n{proc.stderr[-2000:]}") from None
    reports = raw if isinstance(raw, list) else [raw]
    results: dict[str, StackScan] = {d.name: StackScan(d.name) for d in dirs}
    failed_by_stack: dict[str, list[dict[str, Any]]] = {d.name: [] for d in dirs}
    passed_by_stack: dict[str, list[dict[str, Any]]] = {d.name: [] for d in dirs}
    parsing_errors: list[str] = []

    def stack_of(path: str) -> str | None:
        parts = Path(path).parts
        return parts[-2] if len(parts) >= 2 and parts[-2] in results else None

    for report in reports:
        if not isinstance(report, dict) or report.get("check_type") not in (None, "terraform_json"):
            continue
        res = report.get("results", {})
        for check in res.get("failed_checks", []):
            s = stack_of(check.get("file_path", ""))
            if s:
                failed_by_stack[s].append(check)
        for check in res.get("passed_checks", []):
            s = stack_of(check.get("file_path", ""))
            if s:
                passed_by_stack[s].append(check)
        parsing_errors.extend(res.get("parsing_errors", []))
    for d in dirs:
        out = results[d.name]
        acks, problems = _load_acks(d)
        addresses = _addresses(d / "cdk.tf.json")
        out.problems.extend(problems)
        out.passed = len(passed_by_stack[d.name])
        out.passed_checks = sorted(
            (c["check_id"], c.get("check_name", ""), _address_of(c.get("resource", ""), addresses))
            for c in passed_by_stack[d.name]
        )
        for check in sorted(failed_by_stack[d.name], key=lambda c: (c["check_id"], c["resource"])):
            address = _address_of(check["resource"], addresses)
            reason = acks.get(address, {}).get(check["check_id"])
            finding = Finding(check["check_id"], address, check.get("check_name", ""), reason or "")
            (out.acknowledged if reason else out.failed).append(finding)
        if any(str(d / "cdk.tf.json").endswith(p.lstrip("/")) or p.endswith(f"{d.name}/cdk.tf.json") for p in parsing_errors):
            out.problems.append("checkov could not parse cdk.tf.json")
        if out.passed + len(out.failed) + len(out.acknowledged) == 0:
            out.problems.append("checkov ran no check on this stack (unparsed or empty file)")
        try:
            doc = json.loads((d / "cdk.tf.json").read_text())
        except json.JSONDecodeError:
            doc = None
        if isinstance(doc, dict):
            out.problems.extend(f"least privilege: {p}" for p in audit_stack(doc))
        if record:
            (d / SCAN_FILE).write_text(json.dumps(scan_record(out), indent=2, sort_keys=True) + "\n")
    return [results[d.name] for d in dirs]


def _checkov_version() -> str:
    try:
        return version("checkov")
    except PackageNotFoundError:
        return "unknown"


def scan_record(result: StackScan) -> dict[str, Any]:
    """The ``scan.json`` document of one stack's scan: per check, what passed, failed, was acknowledged."""
    checks: dict[str, dict[str, Any]] = {}

    def entry(check_id: str, name: str) -> dict[str, Any]:
        e = checks.setdefault(check_id, {"name": name, "passed": [], "failed": [], "acknowledged": []})
        e["name"] = e["name"] or name
        return e

    for check_id, name, resource in result.passed_checks:
        entry(check_id, name)["passed"].append(resource)
    for f in result.failed:
        entry(f.check_id, f.check_name)["failed"].append(f.resource)
    for f in result.acknowledged:
        entry(f.check_id, f.check_name)["acknowledged"].append({"resource": f.resource, "reason": f.reason})
    for e in checks.values():
        e["passed"] = sorted(set(e["passed"]))
        e["failed"] = sorted(set(e["failed"]))
        e["acknowledged"] = sorted(e["acknowledged"], key=lambda a: a["resource"])
    return {
        "format": 1,
        "stack": result.stack,
        "tool": {"name": "checkov", "version": _checkov_version(), "framework": "terraform_json"},
        "summary": {"passed": result.passed, "failed": len(result.failed),
                    "acknowledged": len(result.acknowledged), "ok": result.ok},
        "problems": sorted(result.problems),
        "checks": dict(sorted(checks.items())),
    }


def to_sarif(results: list[StackScan], outdir: str | os.PathLike[str] = "cdktf.out") -> dict[str, Any]:
    """SARIF 2.1.0 of the unacknowledged findings and scan problems (for code-scanning upload)."""
    rules: dict[str, dict[str, Any]] = {}
    sarif_results: list[dict[str, Any]] = []
    for r in results:
        uri = f"{Path(outdir).as_posix()}/stacks/{r.stack}/cdk.tf.json"
        for f in r.failed:
            rules.setdefault(f.check_id, {"id": f.check_id, "shortDescription": {"text": f.check_name or f.check_id}})
            sarif_results.append({
                "ruleId": f.check_id,
                "level": "error",
                "message": {"text": f"{r.stack}: {f.resource}: {f.check_name}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
            })
        for p in r.problems:
            rules.setdefault("CDKTF_MLOPS_SCAN", {"id": "CDKTF_MLOPS_SCAN", "shortDescription": {"text": "scan problem"}})
            sarif_results.append({
                "ruleId": "CDKTF_MLOPS_SCAN",
                "level": "error",
                "message": {"text": f"{r.stack}: {p}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
            })
    return {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {"name": "cdktf-mlops scan (checkov)", "rules": sorted(rules.values(), key=lambda x: x["id"])}},
            "results": sarif_results,
        }],
    }
