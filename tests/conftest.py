"""Shared fixtures: the reference example synthesized once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests check correctness, not speed: on a loaded 2-core CI machine a GC pause can exceed
# hypothesis' default 200 ms deadline and fail a run as "flaky" (speed is the benchmark's job).
settings.register_profile("cdktf-mlops", deadline=None, derandomize=True)
settings.load_profile("cdktf-mlops")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "examples" / "reference"

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")


@pytest.fixture(scope="session")
def reference_out(tmp_path_factory: pytest.TempPathFactory):
    """The reference example synthesized into a temporary folder (a SynthResult)."""
    from constructs_lib.platform import synthesize

    return synthesize([REFERENCE], outdir=tmp_path_factory.mktemp("reference") / "cdktf.out")


@pytest.fixture(scope="session")
def example_stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every example synthesized once per session: ``"<example>/<stack>"`` -> its cdk.tf.json as a dict."""
    import json

    from constructs_lib.platform import synthesize

    docs = {}
    for example in sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir() and list(p.glob("*.yaml"))):
        result = synthesize([example], outdir=tmp_path_factory.mktemp(example.name) / "out")
        for s in result.stacks:
            docs[f"{example.name}/{s.name}"] = json.loads((s.directory / "cdk.tf.json").read_text())
    return docs
