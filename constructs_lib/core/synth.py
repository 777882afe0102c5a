"""Synthesis: finalize an app (tags, schema validation, acknowledgements) and write it atomically.

Two entry points:

* :func:`synth_app` — for any engine ``App`` (the repository's ``python -m stacks``, or a user's own
  cdktf app that mixes these constructs with other resources): applies tags, validates every block
  of every stack against the bundled schemas (nothing is written when a block is invalid), runs the
  engine's synth, and writes ``acknowledgements.json`` and ``provenance.json`` (:mod:`.provenance`)
  beside each stack.
* :func:`synthesize_specs` — builds one stack per spec (with the platform layer's ``build_stack``)
  and synthesizes into a temporary directory that replaces ``outdir`` only on success: a failed
  synth leaves earlier output untouched. :func:`constructs_lib.platform.synthesize` reads spec files
  and calls it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import engine
from .errors import SchemaValidationError
from . import azapi_schema, google_rest
from .provenance import PROVENANCE_FILE, provenance
from .schema import construct_path, schemas_for, validate_stack
from .tags import gcp_labels

__all__ = ["StackResult", "SynthResult", "stack_document", "synth_app", "synthesize_specs"]

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


def _registries(app: Any, *attrs: str) -> list[dict[str, dict[str, str]]]:
    """For each of ``attrs``: construct path -> what ``Tags`` / ``Acknowledge`` stored there.

    One walk of the construct tree serves every attribute, and each construct's path (an engine
    call) is read at most once.
    """
    out: list[dict[str, dict[str, str]]] = [{} for _ in attrs]
    for node in app.node.find_all():
        values = [getattr(node, attr, None) for attr in attrs]
        if any(values):
            path = node.node.path
            for registry, value in zip(out, values):
                if value:
                    registry[path] = value
    return out


def _inherited(path: str, registry: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Entries of every ancestor of ``path`` (and ``path`` itself), nearest winning."""
    merged: dict[str, str] = {}
    parts = path.split("/")
    for n in range(1, len(parts) + 1):
        entry = registry.get("/".join(parts[:n]))
        if entry:
            merged.update(entry)
    return merged


def _taggable(tf_type: str) -> str | None:
    provider = tf_type.split("_", 1)[0]
    arg = _TAG_ARG.get(provider)
    schemas = schemas_for(provider) if arg else ()
    if not schemas:
        return None
    for schema in schemas:
        block = schema.resources.get(tf_type)
        if block is None or arg not in block.get("a", {}):
            return None
    return arg


def _apply_tags(doc: dict[str, Any], registry: Mapping[str, Mapping[str, str]]) -> None:
    """Merge inherited ``Tags`` into every taggable resource (values a resource sets win)."""
    if not registry:
        return
    for tf_type, instances in doc.get("resource", {}).items():
        arg = _taggable(tf_type)
        if arg is None:
            continue
        for body in instances.values():
            path = construct_path(body)
            tags = _inherited(path, registry) if path else {}
            if tf_type == "azapi_resource":
                _tag_azapi(body, tags)
                continue
            own = body.get(arg) or {}
            if not tags or not isinstance(own, Mapping):  # a token: the resource chose its tags
                continue
            merged = {**tags, **own}
            body[arg] = gcp_labels(merged) if arg == "labels" else dict(sorted(merged.items()))


def _tag_azapi(block: dict[str, Any], tags: Mapping[str, str]) -> None:
    """Inherited tags on an ``azapi_resource`` go where its REST body takes them: the ``tags``
    argument (azapi merges it into the body), ``body.properties.tags`` (Azure ML assets, schedules),
    or nowhere (types without tags, and types outside the bundled definitions)."""
    target = azapi_schema.tag_target(block.get("type")) if tags else None
    if target == "tags":
        holder, key = block, "tags"
    elif target == "properties.tags" and isinstance(block.get("body"), dict):
        holder, key = block["body"].get("properties"), "tags"
        if holder is None:
            holder = block["body"]["properties"] = {}
    else:
        return
    own = holder.get(key) or {} if isinstance(holder, dict) else None
    if not isinstance(own, Mapping):  # a token: the resource chose its tags
        return
    holder[key] = dict(sorted({**tags, **own}.items()))


def _acknowledgements(doc: Mapping[str, Any], registry: Mapping[str, Mapping[str, str]]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    if not registry:
        return out
    for section, prefix in (("resource", ""), ("data", "data.")):
        for tf_type, instances in doc.get(section, {}).items():
            for name, body in instances.items():
                path = construct_path(body)
                acks = _inherited(path, registry) if path else {}
                if acks:
                    out[f"{prefix}{tf_type}.{name}"] = [
                        {"check_id": k, "reason": v} for k, v in sorted(acks.items())
                    ]
    return dict(sorted(out.items()))


def stack_document(stack: Any) -> dict[str, Any]:
    """The Terraform JSON of one stack as synthesis writes it (tags merged), without writing.

    Handy in tests of constructs: ``doc = stack_document(stack)``. One difference from the
    written file: jsii drops ``null`` values from maps it hands back to Python, so an explicit
    ``Token.null_value()`` (e.g. in the ``recovery_*`` outputs) is missing here; synthesize to a
    folder to see those.
    """
    doc = json.loads(json.dumps(stack.to_terraform()))
    (tags,) = _registries(stack.node.root, "_mlops_tags")
    _apply_tags(doc, tags)
    return doc


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def synth_app(
    app: Any,
    *,
    progress: Progress | None = None,
    validate_first: bool = True,
    specs: Mapping[str, Any] | None = None,
) -> list[StackResult]:
    """Finalize and synthesize ``app`` into its ``outdir``.

    Tags are merged into every taggable resource, every block of every stack is validated against
    the bundled provider schemas, and ``acknowledgements.json`` is written beside each stack.
    With ``validate_first`` (the default) stacks are validated before anything is written, so an
    invalid block raises :class:`SchemaValidationError` and leaves the output folder as it was.
    ``synthesize`` turns it off because it writes into a temporary folder that it discards on error.
    ``specs`` (stack name -> the spec it was built from) fills the spec part of each stack's
    ``provenance.json``; a stack without one gets a provenance without spec.
    """
    say = progress or (lambda _msg: None)
    stacks = _stacks(app)
    tags, acks = _registries(app, "_mlops_tags", "_mlops_acknowledgements")
    names = [stack.node.id for stack in stacks]

    def check(docs: Mapping[str, dict[str, Any]]) -> None:
        problems: list[str] = []
        for name, doc in docs.items():
            say(f"validating {name}")
            _apply_tags(doc, tags)
            problems.extend(validate_stack(doc, stack=name))
            problems.extend(google_rest.validate_stack(doc, stack=name))
            problems.extend(azapi_schema.validate_stack(doc, stack=name))
        if problems:
            raise SchemaValidationError(problems)

    if validate_first:
        check({name: stack.to_terraform() for name, stack in zip(names, stacks)})
    say("synthesizing")
    app.synth()
    outdir = Path(app.outdir)
    files = {name: outdir / "stacks" / name / "cdk.tf.json" for name in names}
    docs = {name: json.loads(path.read_text()) for name, path in files.items()}
    if validate_first:
        for doc in docs.values():
            _apply_tags(doc, tags)
    else:
        check(docs)
    results = []
    for name, doc in docs.items():
        files[name].write_text(_dump(doc))
        stack_acks = _acknowledgements(doc, acks)
        (files[name].parent / ACK_FILE).write_text(
            _dump({"format": 1, "stack": name, "acknowledgements": stack_acks})
        )
        (files[name].parent / PROVENANCE_FILE).write_text(_dump(provenance(doc, name, (specs or {}).get(name))))
        res = doc.get("resource", {})
        results.append(
            StackResult(
                name=name,
                directory=files[name].parent,
                resources=sum(len(v) for v in res.values()),
                data_sources=sum(len(v) for v in doc.get("data", {}).values()),
                acknowledgements=len({a["check_id"] for v in stack_acks.values() for a in v}),
                resource_types=tuple(sorted(res)),
            )
        )
    return results


def synthesize_specs(
    specs: Sequence[Any],
    build: Callable[[Any, Any], Any],
    *,
    outdir: str | os.PathLike[str] = "cdktf.out",
    hcl: bool = False,
    progress: Progress | None = None,
    started: float | None = None,
) -> SynthResult:
    """Build one stack per spec with ``build(app, spec)`` and synthesize them into ``outdir`` atomically.

    The output is written to a temporary sibling folder and renamed over ``outdir`` only when
    every stack validated and synthesized; on any error ``outdir`` is left as it was. The platform
    layer passes its ``build_stack`` (see :func:`constructs_lib.platform.synthesize`): core knows
    nothing of clouds.
    """
    say = progress or (lambda _msg: None)
    start = time.perf_counter() if started is None else started
    target = Path(outdir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        app = engine.App(outdir=str(tmp))
        for spec in specs:
            say(f"building {spec.name} ({spec.cloud})")
            build(app, spec)
        stacks = synth_app(app, progress=say, validate_first=False, specs={s.name: s for s in specs})
        if hcl:
            say("rendering HCL")
            _to_hcl(tmp)
        _replace(tmp, target)
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
