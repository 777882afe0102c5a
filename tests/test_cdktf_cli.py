"""The real CLIs on this repository's cdktf.json give the same stacks as the in-process synth.

- `cdktf synth` (npm cdktf-cli@0.21.0) with the default engine: byte-identical output.
- `cdktn synth` (npm cdktn-cli@0.24.0, CDK Terrain) with `CDKTF_MLOPS_ENGINE=cdktn`: identical
  apart from the engine version string. cdktn-cli 0.24 needs Node.js >= 22.19, so `make tools`
  installs Node 22 (npm package `node@22`) into `.tools/node22/` for this test only; the rest of
  the suite keeps the system Node.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".tools" / "node_modules" / ".bin"
CDKTF = shutil.which("cdktf") or str(TOOLS / "cdktf")
CDKTN = shutil.which("cdktn") or str(TOOLS / "cdktn")
NODE22_BIN = ROOT / ".tools" / "node22" / "node_modules" / ".bin"

pytestmark = pytest.mark.slow

needs_cdktf = pytest.mark.skipif(
    not Path(CDKTF).exists(),
    reason="cdktf CLI not installed: `make tools` (npm install cdktf-cli@0.21.0 into .tools/)",
)
needs_cdktn = pytest.mark.skipif(
    not Path(CDKTN).exists() or not (NODE22_BIN / "node").exists(),
    reason="cdktn CLI or Node 22 not installed: `make tools` (cdktn-cli@0.24.0 and node@22 into .tools/)",
)


def _run_cli(cli: str, out: Path, *, node_bin: Path | None = None, **env_extra: str) -> subprocess.CompletedProcess[str]:
    path = [str(Path(sys.executable).parent)]  # `python -m stacks` runs with this interpreter
    if node_bin is not None:
        path.insert(0, str(node_bin))
    env = {
        **os.environ,
        "PATH": os.pathsep.join([*path, os.environ.get("PATH", "")]),
        "CHECKPOINT_DISABLE": "1",
        "CI": "1",
        **env_extra,
    }
    return subprocess.run(
        [cli, "synth", "--output", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


@needs_cdktf
def test_cdktf_synth_matches_in_process_synth(tmp_path: Path, reference_out) -> None:
    out = tmp_path / "cdktf.out"
    proc = _run_cli(CDKTF, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for s in reference_out.stacks:
        produced = out / "stacks" / s.name
        assert (produced / "cdk.tf.json").read_bytes() == (s.directory / "cdk.tf.json").read_bytes(), s.name
        assert (produced / "acknowledgements.json").read_bytes() == (
            s.directory / "acknowledgements.json"
        ).read_bytes()


@needs_cdktf
def test_cdktf_synth_reports_a_bad_spec(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: demo-bad\ncloud: gcp\nenvironment: dev\nregions: [us-central1]\n")
    proc = _run_cli(CDKTF, tmp_path / "o", CDKTF_MLOPS_SPECS=str(bad))
    assert proc.returncode != 0
    assert "gcp: section is required" in proc.stdout + proc.stderr


def _without_engine_version(text: str) -> str:
    return re.sub(r'"version": "0\.2\d\.\d+"', '"version": "<engine>"', text)


@needs_cdktn
def test_cdktn_synth_matches_in_process_synth(tmp_path: Path, reference_out) -> None:
    from constructs_lib.core import engine

    out = tmp_path / "cdktn.out"
    proc = _run_cli(CDKTN, out, node_bin=NODE22_BIN, CDKTF_MLOPS_ENGINE="cdktn")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ours = f'"version": "{engine.ENGINE_VERSION}"'
    for s in reference_out.stacks:
        produced = (out / "stacks" / s.name / "cdk.tf.json").read_text()
        expected = (s.directory / "cdk.tf.json").read_text()
        assert ours in expected, "the engine version string moved; update this test"
        assert ours not in produced, f"{s.name}: cdktn synth did not run the cdktn engine"
        # The only difference allowed: the engine version in the metadata block.
        assert _without_engine_version(produced) == _without_engine_version(expected), s.name
        assert (out / "stacks" / s.name / "acknowledgements.json").read_bytes() == (
            s.directory / "acknowledgements.json"
        ).read_bytes()
