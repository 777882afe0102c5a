"""Inventory of a synthesized output folder, as Markdown: what each capability creates, per stack.

For every stack under ``<outdir>/stacks/`` it prints the Terraform resource types of each
top-level construct (the capability: ``network``, ``training``, ``endpoint-churn-<region>``, ...;
region suffixes folded) and the recovery objectives the stack exposes as ``*recovery*`` outputs.
Usage: ``python tools/inventory.py [OUTDIR]`` (default ``cdktf.out``).
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

_REGION = re.compile(r"-(?:[a-z]{2}-[a-z]+-\d|[a-z]+-[a-z]+\d|[a-z]+\d?)$")


def capability(path: str, regions: set[str]) -> str:
    """The top-level construct id under the stack, without a region suffix."""
    top = path.split("/")[1] if "/" in path else path
    for region in regions:
        if top.endswith("-" + region):
            return top[: -len(region) - 1]
    return top


def stack_inventory(doc: dict) -> tuple[dict[str, set[str]], dict[str, str]]:
    regions = {
        cfg["region"] if "region" in cfg else cfg.get("location", "")
        for configs in doc.get("provider", {}).values()
        for cfg in configs
        if isinstance(cfg, dict)
    } - {""}
    types: dict[str, set[str]] = defaultdict(set)
    for section, prefix in (("resource", ""), ("data", "data.")):
        for tf_type, instances in doc.get(section, {}).items():
            for body in instances.values():
                path = body.get("//", {}).get("metadata", {}).get("path", "")
                types[capability(path, regions)].add(prefix + tf_type)
    recovery = {
        name: json.dumps(body["value"], sort_keys=True)
        for name, body in sorted(doc.get("output", {}).items())
        if "recovery" in name
    }
    return types, recovery


def main(argv: list[str]) -> None:
    outdir = Path(argv[0] if argv else "cdktf.out")
    files = sorted(outdir.glob("stacks/*/cdk.tf.json"))
    if not files:
        sys.exit(f"no stacks under {outdir}/stacks: synthesize first (cdktf-mlops synth ...)")
    for path in files:
        doc = json.loads(path.read_text())
        types, recovery = stack_inventory(doc)
        total = sum(len(v) for v in doc.get("resource", {}).values())
        print(f"### {path.parent.name} ({total} resources)\n")
        print("| construct | resource / data types |\n|---|---|")
        for cap in sorted(types):
            print(f"| {cap} | {', '.join(sorted(types[cap]))} |")
        if recovery:
            print("\n| recovery output | value |\n|---|---|")
            for name, value in recovery.items():
                print(f"| {name} | `{value}` |")
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
