"""``cdktf-mlops cost``: offline monthly cost of synthesized stacks, with sources and advice.

Reads ``<outdir>/stacks/<name>/cdk.tf.json`` (never the cloud), turns each resource into
quantities (:mod:`.quantities` and the per-cloud extractors), prices them from the packaged
catalogue ``prices.csv`` (every row with its source and the date it was read; a ``--prices``
file overrides rows), and reports per resource and stack: the fixed cost, the estimate under a
usage profile and the ceiling at maximum scale, against the stack's budget, with advice.
A quantity without a price is reported as unpriced, never as 0.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .._stacks import stack_dirs
from .advice import Advice, advise
from .catalogue import Catalogue, PriceError, PriceRow, load_catalogue
from .classes import CLASSES, classify
from .engine import CostError, StackCost, analyse_stack, resource_class
from .profiles import PARAMETERS, PROFILES, Usage, UsageError, load_usage
from .render import assumptions, stack_markdown, summary_markdown, to_json

__all__ = [
    "Advice", "CLASSES", "Catalogue", "CostError", "PARAMETERS", "PROFILES", "PriceError", "PriceRow",
    "StackCost", "Usage", "UsageError", "analyse", "analyse_dir", "assumptions", "classify", "cost_markdown",
    "load_catalogue", "load_usage", "resource_class", "stack_markdown", "summary_markdown", "to_json",
]


def analyse_dir(stack_dir: str | Path, usage: Usage, catalogue: Catalogue) -> StackCost:
    """The priced stack in ``stack_dir`` with its advice."""
    stack = analyse_stack(Path(stack_dir), usage, catalogue)
    return replace(stack, advice=tuple(advise(stack, catalogue)))


def analyse(outdir: str | Path = "cdktf.out", *, profile: str = "typical", usage_file: str | Path | None = None,
            prices_file: str | Path | None = None) -> tuple[list[StackCost], Usage]:
    """Every stack under ``outdir/stacks`` priced under ``profile`` (or ``usage_file``), with advice."""
    dirs = stack_dirs(outdir, CostError)
    usage = load_usage(profile, usage_file)
    catalogue = load_catalogue(prices_file)
    return [analyse_dir(d, usage, catalogue) for d in dirs], usage


def cost_markdown(stack_dir: Path, profile: str = "typical") -> str:
    """The Markdown cost section of the stack synthesized in ``stack_dir`` (for ``cdktf-mlops report``)."""
    usage = load_usage(profile)
    return stack_markdown(analyse_dir(stack_dir, usage, load_catalogue()), usage)
