"""The synthesized stacks an ``ops`` command reads: ``<outdir>/stacks/<name>/cdk.tf.json``."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import MlopsError

__all__ = ["stack_dirs"]


def stack_dirs(outdir: str | Path, error: type[MlopsError] = MlopsError) -> list[Path]:
    """Every synthesized stack folder under ``outdir/stacks``, sorted by name.

    None is an ``error`` (the calling command's own type) that says to synthesize first.
    """
    dirs = sorted(p.parent for p in Path(outdir).glob("stacks/*/cdk.tf.json"))
    if not dirs:
        raise error(f"{outdir}: no synthesized stacks under stacks/; run `cdktf-mlops synth --out {outdir}` first")
    return dirs
