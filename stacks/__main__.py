"""cdktf app entry: ``python -m stacks`` (what ``cdktf synth`` runs through ``cdktf.json``)."""

from __future__ import annotations

import os
import sys

from constructs_lib.core import engine
from constructs_lib.core.errors import MlopsError
from constructs_lib.core.spec import load_specs
from constructs_lib.core.synth import synth_app
from constructs_lib.platform import build_stack


def main() -> int:
    paths = os.environ.get("CDKTF_MLOPS_SPECS", "examples/reference").split(os.pathsep)
    try:
        app = engine.App()  # the engine reads CDKTF_OUTDIR set by the cdktf CLI
        for spec in load_specs(paths):
            build_stack(app, spec)
        synth_app(app)
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
