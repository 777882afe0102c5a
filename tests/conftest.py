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
    from constructs_lib.core.synth import synthesize

    return synthesize([REFERENCE], outdir=tmp_path_factory.mktemp("reference") / "cdktf.out")
