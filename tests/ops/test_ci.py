"""The generated GitHub Actions workflow: parsed and checked for the steps a reviewer expects."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from constructs_lib.cli import app

ROOT = Path(__file__).resolve().parents[2]


def generate(tmp_path: Path, *paths: str) -> dict:
    out = tmp_path / "wf.yml"
    res = CliRunner().invoke(app, ["ci", "github", *paths, "--output", str(out)])
    assert res.exit_code == 0, res.output
    return yaml.safe_load(out.read_text())


def steps_of(job: dict) -> list[dict]:
    return job["steps"]


def test_workflow_shape(tmp_path: Path) -> None:
    wf = generate(tmp_path, str(ROOT / "examples" / "reference"))
    assert set(wf["on"]) == {"pull_request", "push"}
    assert wf["permissions"] == {"contents": "read"}
    jobs = wf["jobs"]
    assert list(jobs) == ["scan", "plan", "deploy"]
    scan_runs = " ".join(s.get("run", "") for s in steps_of(jobs["scan"]))
    assert "cdktf-mlops synth" in scan_runs and "cdktf-mlops scan" in scan_runs and "--sarif" in scan_runs
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps_of(jobs["scan"]))
    assert jobs["scan"]["permissions"]["security-events"] == "write"
    assert "id-token" not in jobs["scan"]["permissions"], "the scan job needs no cloud identity"
    stacks = {i["stack"]: i["cloud"] for i in jobs["plan"]["strategy"]["matrix"]["include"]}
    assert stacks == {"reference-aws": "aws", "reference-azure": "azure", "reference-gcp": "gcp"}
    assert any("terraform plan" in s.get("run", "") for s in steps_of(jobs["plan"]))


def test_deploy_only_on_main_behind_an_environment(tmp_path: Path) -> None:
    deploy = generate(tmp_path, str(ROOT / "examples" / "reference"))["jobs"]["deploy"]
    assert deploy["environment"] == "production"
    assert deploy["needs"] == "plan"
    assert "refs/heads/main" in deploy["if"] and "push" in deploy["if"]
    assert any("terraform apply" in s.get("run", "") for s in steps_of(deploy))


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
