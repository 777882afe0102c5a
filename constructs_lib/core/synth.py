"""Synthesis: finalize an app (tags, schema validation, acknowledgements) and write it atomically.

Two entry points:

* :func:`synth_app` — for any engine ``App`` (the repository's ``python -m stacks``, or a user's own
  cdktf app that mixes these constructs with other resources): applies tags, validates every block
  of every stack against the bundled schemas (nothing is written when a block is invalid), runs the
  engine's synth, and writes ``acknowledgements.json`` beside each stack.
* :func:`synthesize` — loads spec files, builds one stack per spec and synthesizes into a temporary
  directory that replaces ``outdir`` only on success: a failed synth leaves earlier output untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import engine
from .acknowledge import Acknowledge
from .errors import SchemaValidationError, SynthError
from .resource import Resource
from .schema import schemas_for, validate_stack
from .tags import Tags, gcp_labels

__all__ = ["StackResult", "SynthResult", "synth_app", "synthesize"]

ACK_FILE = "acknowledgements.json"
_TAG_ARG = {"aws": "tags", "azurerm": "tags", "google": "labels", "azapi": "tags"}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class StackResult:
    """What one synthesized stack contains."""

    name: str
    directory: Path
    resources: int
    data_sources: int
    acknowledgements: int
    resource_types: tuple[str, ...]


@dataclass(frozen=True)
class SynthResult:
    """The outcome of a synthesis: the output folder and its stacks."""

    outdir: Path
    stacks: tuple[StackResult, ...]
    seconds: float


def _stacks(app: Any) -> list[Any]:
    return [c for c in app.node.children if isinstance(c, engine.TerraformStack)]


def _taggable(tf_type: str) -> str | None:
    provider = tf_type.split("_", 1)[0]
    arg = _TAG_ARG.get(provider)
    if arg is None:
        return None
    for schema in schemas_for(provider):
        block = schema.resources.get(tf_type)
        if block is None or arg not in block.get("a", {}):
            return None
    return arg if schemas_for(provider) else None


def apply_tags(stack: Any) -> None:
    """Merge ``Tags.of(...)`` of ancestors into every taggable ``Resource`` of ``stack``."""
    for node in stack.node.find_all():
        if not isinstance(node, Resource):
            continue
        tags = Tags.of(node).effective()
        if not tags:
            continue
        arg = _taggable(node.terraform_resource_type)
        if arg is None:
            continue
        own = node.get(arg) or {}
        if isinstance(own, str):  # a token: the construct chose its tags deliberately
            continue
        merged = {**tags, **own}
        if arg == "labels":
            merged = gcp_labels(merged)
        node.set(**{arg: dict(sorted(merged.items()))})


def _acknowledgements(stack: Any) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for node in stack.node.find_all():
        if not isinstance(node, engine.TerraformResource):
            continue
        acks = Acknowledge.of(node).effective()
        if acks:
            address = f"{node.terraform_resource_type}.{stack.get_logical_id(node)}"
            out[address] = [{"check_id": a.check_id, "reason": a.reason} for a in acks]
    return dict(sorted(out.items()))


def synth_app(app: Any, *, progress: Progress | None = None) -> list[StackResult]:
    """Finalize and synthesize ``app`` into its ``outdir``.

    Raises :class:`SchemaValidationError` (before anything is written) when a block of any stack
    does not match the bundled provider schemas.
    """
    say = progress or (lambda _msg: None)
    stacks = _stacks(app)
    docs: dict[str, Mapping[str, Any]] = {}
    problems: list[str] = []
    for stack in stacks:
        apply_tags(stack)
        name = stack.node.id
        say(f"validating {name}")
        doc = stack.to_terraform()
        docs[name] = doc
        problems.extend(validate_stack(doc, stack=name))
    if problems:
        raise SchemaValidationError(problems)
    say("writing Terraform JSON")
    app.synth()
    results = []
    for stack in stacks:
        name = stack.node.id
        directory = Path(app.outdir) / "stacks" / name
        acks = _acknowledgements(stack)
        payload = {"format": 1, "stack": name, "acknowledgements": acks}
        (directory / ACK_FILE).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        doc = docs[name]
        res = doc.get("resource", {})
        results.append(
            StackResult(
                name=name,
                directory=directory,
                resources=sum(len(v) for v in res.values()),
                data_sources=sum(len(v) for v in doc.get("data", {}).values()),
                acknowledgements=sum(len(v) for v in acks.values()),
                resource_types=tuple(sorted(res)),
            )
        )
    return results


def synthesize(
    paths: Iterable[str | os.PathLike[str]] = ("examples/reference",),
    *,
    outdir: str | os.PathLike[str] = "cdktf.out",
    hcl: bool = False,
    progress: Progress | None = None,
) -> SynthResult:
    """Build one stack per spec in ``paths`` and synthesize them into ``outdir`` atomically.

    The output is written to a temporary sibling folder and renamed over ``outdir`` only when
    every stack validated and synthesized; on any error ``outdir`` is left as it was.
    """
    from ..platform import build_stack  # local import: keeps core free of cloud packages
    from .spec import load_specs

    say = progress or (lambda _msg: None)
    start = time.perf_counter()
    say("reading specs")
    specs = load_specs(paths)
    target = Path(outdir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        app = engine.App(outdir=str(tmp))
        for spec in specs:
            say(f"building {spec.name} ({spec.cloud})")
            build_stack(app, spec)
        stacks = synth_app(app, progress=say)
        if hcl:
            say("rendering HCL")
            _to_hcl(tmp)
        _replace(tmp, target)
    except SynthError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    moved = tuple(
        StackResult(**{**s.__dict__, "directory": target / "stacks" / s.name}) for s in stacks
    )
    return SynthResult(outdir=target, stacks=moved, seconds=time.perf_counter() - start)


def _to_hcl(outdir: Path) -> None:
    """Replace each stack's ``cdk.tf.json`` with ``cdk.tf`` and point the manifest at it."""
    from .hcl import to_hcl

    manifest_path = outdir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for name, entry in manifest.get("stacks", {}).items():
        src = outdir / entry["synthesizedStackPath"]
        (src.parent / "cdk.tf").write_text(to_hcl(json.loads(src.read_text())))
        src.unlink()
        entry["synthesizedStackPath"] = str(Path(entry["synthesizedStackPath"]).parent / "cdk.tf")
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _replace(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``; the old ``target`` (if any) is removed only after the swap."""
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        old.rmdir()
        os.replace(target, old)
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)
