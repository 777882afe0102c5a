"""The cdktf-mlops CLI: summary output, readable errors without traceback, committed JSON Schema."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from constructs_lib.cli import app
from constructs_lib.core.spec import PlatformSpec

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_synth_prints_summary(tmp_path: Path) -> None:
    res = runner.invoke(app, ["synth", str(ROOT / "examples/reference/gcp.yaml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "reference-gcp" in res.output and "valid" in res.output
    assert (tmp_path / "o" / "stacks" / "reference-gcp" / "cdk.tf.json").is_file()


def test_synth_hcl(tmp_path: Path) -> None:
    res = runner.invoke(app, ["synth", str(ROOT / "examples/reference/gcp.yaml"), "--out", str(tmp_path / "o"), "--hcl"])
    assert res.exit_code == 0, res.output
    stack_dir = tmp_path / "o" / "stacks" / "reference-gcp"
    text = (stack_dir / "cdk.tf").read_text()
    assert not (stack_dir / "cdk.tf.json").exists()
    assert 'resource "google_storage_bucket"' in text
    assert "versioning {" in text, "nested blocks must render as blocks"
    assert "labels = {" in text, "maps must render as attributes"
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["stacks"]["reference-gcp"]["synthesizedStackPath"].endswith("cdk.tf")
    terraform = shutil.which("terraform")
    if terraform:  # terraform parses the HCL of every reference stack (fmt needs no providers)
        res = runner.invoke(app, ["synth", str(ROOT / "examples/reference"), "--out", str(tmp_path / "all"), "--hcl"])
        assert res.exit_code == 0, res.output
        for tf in sorted((tmp_path / "all" / "stacks").glob("*/cdk.tf")):
            proc = subprocess.run([terraform, "fmt", "-"], input=tf.read_text(), capture_output=True, text=True, check=False)
            assert proc.returncode == 0, f"{tf.parent.name}: {proc.stderr}"


def test_bad_spec_gives_one_readable_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: demo\ncloud: aws\nenvironment: dev\nregions: [us-east-1]\nstorage:\n  lifecycle:\n    archive_after_days: 0\n")
    res = runner.invoke(app, ["synth", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "storage.lifecycle.archive_after_days" in res.output
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit)
    assert not (tmp_path / "o").exists()


def test_scan_without_output_is_a_clear_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["scan", "--out", str(tmp_path / "missing")])
    assert res.exit_code == 1 and "run `cdktf-mlops synth" in res.output


def test_committed_json_schema_is_current() -> None:
    committed = json.loads((ROOT / "schemas" / "platform-spec.schema.json").read_text())
    assert committed == PlatformSpec.model_json_schema(), "run `make schema` and commit schemas/platform-spec.schema.json"


def test_schema_command_prints_json_schema() -> None:
    res = runner.invoke(app, ["schema"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["title"] == "PlatformSpec" and "storage" in data["properties"]
    assert data["additionalProperties"] is False


def test_error_text_is_printed_literally(tmp_path: Path) -> None:
    # A spec whose name breaks the pattern: the message quotes the regex, brackets and braces included.
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Demo\ncloud: aws\nenvironment: dev\nregions: [us-east-1]\n")
    res = runner.invoke(app, ["synth", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert f"error: {bad}: name: String should match pattern '^[a-z][a-z0-9-]{{1,30}}[a-z0-9]$'" in res.output


def test_error_with_brackets_prints_intact(monkeypatch) -> None:
    from constructs_lib.core import errors, scan

    def no_checkov(_out_dir: Path) -> None:
        raise errors.MlopsError("pip install 'cdktf-mlops[ops]' or '[dev]'; names match ^[a-z]{1,30}$ [bold]x[/]")

    monkeypatch.setattr(scan, "scan", no_checkov)
    res = runner.invoke(app, ["scan"])
    assert res.exit_code == 1
    assert "error: pip install 'cdktf-mlops[ops]' or '[dev]'; names match ^[a-z]{1,30}$ [bold]x[/]" in res.output


def test_doctor_hint_prints_intact(monkeypatch) -> None:
    from constructs_lib.ops import doctor

    checks = [
        doctor.Check("node", "ok", "Node.js 20.0.0"),
        doctor.Check("gcp", "missing", "google-auth [not installed]", "pip install 'cdktf-mlops[ops]'"),
    ]
    monkeypatch.setattr(doctor, "run_checks", lambda clouds, metadata=False: checks)
    res = runner.invoke(app, ["doctor", str(ROOT / "examples/reference/gcp.yaml")])
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert lines[0] == "ok       node       Node.js 20.0.0"
    assert lines[1] == "missing  gcp        google-auth [not installed]  -> pip install 'cdktf-mlops[ops]'"


def test_unwritable_paths_are_one_error_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    res = runner.invoke(app, ["schema", "-o", str(blocker / "schema.json")])
    assert res.exit_code == 1 and res.output.startswith(f"error: {blocker}")
    res = runner.invoke(app, ["synth", str(ROOT / "examples/retraining/gcp.yaml"), "--out", str(blocker / "out")])
    assert res.exit_code == 1 and res.output.startswith(f"error: {blocker}")
    assert "Traceback" not in res.output and blocker.read_text() == "not a folder"
