"""The README's library example runs as written (in a fresh interpreter, into a temporary folder)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_readme_block(after: str, cwd: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    """Run the first Python block of the README after the text ``after``; output into ``outdir``."""
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text[text.index(after):], re.S).group(1)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, "CDKTF_OUTDIR": str(outdir)}, check=False,
    )


def test_own_app_example_synthesizes(tmp_path: Path) -> None:
    proc = _run_readme_block("## Using the constructs in your own cdktf app", tmp_path, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "end-of-life" not in proc.stderr, "the README's import order should silence the Node banner"
    doc = json.loads((tmp_path / "out" / "stacks" / "ml" / "cdk.tf.json").read_text())
    assert "aws_s3_bucket" in doc["resource"] and "aws_batch_job_queue" in doc["resource"]
    policies = [json.loads(b["policy"]) for b in doc["resource"]["aws_iam_role_policy"].values()]
    assert any("s3:GetObject" in json.dumps(p) for p in policies)


def test_platform_stack_example_synthesizes(tmp_path: Path) -> None:
    proc = _run_readme_block("The platform itself is a construct too", ROOT, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["us-east-1", "us-east-1", "us-west-2", "us-west-2"]
    doc = json.loads((tmp_path / "out" / "stacks" / "reference-aws" / "cdk.tf.json").read_text())
    (role_key,) = [k for k, b in doc["resource"]["aws_iam_role"].items() if b["name"] == "reference-analyst"]
    grants = [b for b in doc["resource"]["aws_iam_role_policy"].values() if role_key in b["role"]]
    assert grants and "s3:GetObject" in grants[0]["policy"]
