"""The real cdktf CLI (npm cdktf-cli@0.21.0) on this repository's cdktf.json gives the same stacks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CDKTF = shutil.which("cdktf") or str(ROOT / ".tools" / "node_modules" / ".bin" / "cdktf")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CDKTF).exists(),
        reason="cdktf CLI not installed: `make tools` (npm install cdktf-cli@0.21.0 into .tools/)",
    ),
]


def test_cdktf_synth_matches_in_process_synth(tmp_path: Path, reference_out) -> None:
    env = {
        **os.environ,
        # `python -m stacks` must run with this interpreter (the one that has the package installed).
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "CHECKPOINT_DISABLE": "1",
        "CI": "1",
    }
    out = tmp_path / "cdktf.out"
    proc = subprocess.run(
        [CDKTF, "synth", "--output", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for s in reference_out.stacks:
        produced = out / "stacks" / s.name
        assert (produced / "cdk.tf.json").read_bytes() == (s.directory / "cdk.tf.json").read_bytes(), s.name
        assert (produced / "acknowledgements.json").read_bytes() == (
            s.directory / "acknowledgements.json"
        ).read_bytes()


def test_cdktf_synth_reports_a_bad_spec(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: demo-bad\ncloud: gcp\nenvironment: dev\nregions: [us-central1]\n")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "CHECKPOINT_DISABLE": "1",
        "CI": "1",
        "CDKTF_MLOPS_SPECS": str(bad),
    }
    proc = subprocess.run(
        [CDKTF, "synth", "--output", str(tmp_path / "o")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode != 0
    assert "gcp: section is required" in proc.stdout + proc.stderr
