"""A synthesized stack folder as the report reads it: blocks, outputs, acknowledgements, provenance, scan.

Reads only files (``cdk.tf.json``, ``acknowledgements.json``, ``provenance.json``, ``scan.json``):
no engine, no cloud. References between blocks (``${aws_s3_bucket.x.id}``) are followed to turn
names into the literal text Terraform will create; a part only known at apply time (the AWS
account id) becomes a shell variable (``${ACCOUNT_ID}``) that the DR plan defines first.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.errors import MlopsError

__all__ = ["Block", "ReportError", "StackModel", "load_stack", "SHELL_VARIABLES"]

_TOKEN = re.compile(r"\$\{([^{}]*)\}")
_REF = re.compile(r"(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)")
#: Parts of names only known at apply time -> the shell variable the DR plan uses for them, and
#: the command that sets it.
SHELL_VARIABLES: dict[str, tuple[str, str]] = {
    "aws_caller_identity.account_id": ("ACCOUNT_ID", "ACCOUNT_ID=$(aws sts get-caller-identity --query Account --output text)"),
}
#: Attribute that holds a resource's own name, by type (first match wins; default: ``name``).
_NAME_ATTRS: dict[str, tuple[str, ...]] = {
    "aws_s3_bucket": ("bucket",),
    "aws_sagemaker_model_package_group": ("model_package_group_name",),
    "aws_sagemaker_feature_group": ("feature_group_name",),
    "aws_route53_zone": ("name",),
    "google_dns_managed_zone": ("name",),
}
_NAME_REFS = frozenset({"id", "name", "bucket", "model_package_group_name", "feature_group_name", "key_id"})


class ReportError(MlopsError):
    """The folder holds no synthesized stack the report can read."""


@dataclass(frozen=True)
class Block:
    """One resource or data block of a stack."""

    address: str
    tf_type: str
    name: str
    data: bool
    path: str
    body: Mapping[str, Any]

    @property
    def component(self) -> str:
        """The top-level construct id (``data``, ``training``, ``endpoint-churn-us-east-1``...)."""
        parts = self.path.split("/")
        return parts[1] if len(parts) > 1 else self.path


@dataclass
class StackModel:
    """One synthesized stack, read from its folder."""

    name: str
    directory: Path
    doc: dict[str, Any]
    blocks: dict[str, Block]
    outputs: dict[str, Any]
    acknowledgements: dict[str, list[dict[str, str]]]
    provenance: dict[str, Any] | None
    scan: dict[str, Any] | None
    cloud: str
    regions: list[str]
    _by_type: dict[str, list[Block]] = field(default_factory=dict, repr=False)

    # -- lookups -------------------------------------------------------------------------------
    def of_type(self, *types: str) -> list[Block]:
        """Blocks of the given resource types (not data sources), in address order."""
        if not self._by_type:
            for b in self.blocks.values():
                if not b.data:
                    self._by_type.setdefault(b.tf_type, []).append(b)
        return [b for t in types for b in self._by_type.get(t, [])]

    def refs(self, value: Any) -> list[Block]:
        """Every block that ``value`` (a string, list or dict, walked) references, in order, once."""
        seen: dict[str, Block] = {}
        for text in _strings(value):
            for token in _TOKEN.findall(text):
                for m in _REF.finditer(token):
                    address = f"{'data.' if m.group(1) else ''}{m.group(2)}.{m.group(3)}"
                    if address in self.blocks:
                        seen.setdefault(address, self.blocks[address])
        return list(seen.values())

    def ref(self, value: Any) -> Block | None:
        """The first block ``value`` references (None: a literal)."""
        found = self.refs(value)
        return found[0] if found else None

    def output(self, name: str) -> Any:
        """The value of output ``name`` (None when the stack has no such output)."""
        return self.outputs.get(name)

    # -- names ---------------------------------------------------------------------------------
    def name_of(self, block: Block) -> str | None:
        """The literal name Terraform gives ``block`` (``${VAR}`` for apply-time parts), or None."""
        for attr in _NAME_ATTRS.get(block.tf_type, ("name",)):
            value = block.body.get(attr)
            if isinstance(value, str):
                return self.render(value)
        return None

    def render(self, text: str, depth: int = 0) -> str | None:
        """``text`` with every ``${...}`` made literal: references to names resolved, apply-time
        values as shell variables. None when a part cannot be known before apply."""
        def one(m: re.Match[str]) -> str:
            ref = _REF.fullmatch(m.group(1).strip())
            if ref is None:
                raise _Unknown
            var = SHELL_VARIABLES.get(f"{ref.group(2)}.{ref.group(4)}")
            if var:
                return "${" + var[0] + "}"
            address = f"{'data.' if ref.group(1) else ''}{ref.group(2)}.{ref.group(3)}"
            target = self.blocks.get(address)
            if target is None or depth > 4:
                raise _Unknown
            if ref.group(4) == "location" and isinstance(target.body.get("location"), str):
                out = self.render(target.body["location"], depth + 1)
            elif ref.group(4) in _NAME_REFS:
                out = self.name_of(target)
            else:
                out = None
            if out is None:
                raise _Unknown
            return out

        try:
            return _TOKEN.sub(one, text)
        except _Unknown:
            return None

    def region_of(self, block: Block) -> str | None:
        """The region a block lives in: its literal ``location`` / ``region``, else its provider's."""
        for key in ("location", "region"):
            value = block.body.get(key)
            if isinstance(value, str):
                literal = self.render(value)
                if literal and literal.lower() not in ("global",):
                    return literal
        provider = block.body.get("provider")
        return self._provider_regions().get(provider if isinstance(provider, str) else "")

    def _provider_regions(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for local, configs in self.doc.get("provider", {}).items():
            for cfg in configs:
                region = cfg.get("region")
                if isinstance(region, str):
                    key = f"{local}.{cfg['alias']}" if cfg.get("alias") else ""
                    if key or local in ("aws", "google"):
                        out.setdefault(key, region)
        return out

    def component_region(self, component: str) -> str | None:
        """The region most of a component's blocks live in."""
        counts = Counter(r for b in self.blocks.values() if b.component == component and (r := self.region_of(b)))
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if counts else None

    @property
    def prefix(self) -> str:
        """``<name>-<environment>``: how the platform's resource names start."""
        spec = (self.provenance or {}).get("spec") or {}
        return f"{spec.get('name', self.name)}-{spec.get('environment', '')}".rstrip("-")


class _Unknown(Exception):
    pass


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _read(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _cloud(doc: Mapping[str, Any], provenance: Mapping[str, Any] | None) -> str:
    spec = (provenance or {}).get("spec") or {}
    if spec.get("cloud"):
        return str(spec["cloud"])
    providers = set(doc.get("provider", {}))
    return "azure" if "azurerm" in providers else "gcp" if "google" in providers else "aws"


def load_stack(directory: Path) -> StackModel:
    """Read the synthesized stack in ``directory`` (``cdk.tf.json`` and the files beside it)."""
    doc = _read(directory / "cdk.tf.json")
    if doc is None:
        raise ReportError(f"{directory}: no cdk.tf.json; run `cdktf-mlops synth` first (the report reads JSON, not --hcl output)")
    blocks: dict[str, Block] = {}
    for section, prefix in (("resource", ""), ("data", "data.")):
        for tf_type, instances in doc.get(section, {}).items():
            for name, body in instances.items():
                meta = body.get("//", {})
                path = meta.get("metadata", {}).get("path", name) if isinstance(meta, Mapping) else name
                address = f"{prefix}{tf_type}.{name}"
                blocks[address] = Block(address, tf_type, name, section == "data", path, body)
    acks = (_read(directory / "acknowledgements.json") or {}).get("acknowledgements", {})
    provenance = _read(directory / "provenance.json")
    outputs = {k: v.get("value") for k, v in doc.get("output", {}).items()}
    model = StackModel(
        name=directory.name, directory=directory, doc=doc, blocks=dict(sorted(blocks.items())),
        outputs=outputs, acknowledgements=acks, provenance=provenance,
        scan=_read(directory / "scan.json"), cloud=_cloud(doc, provenance), regions=[],
    )
    spec = (provenance or {}).get("spec") or {}
    model.regions = list(spec.get("regions") or []) or sorted(
        {r for b in model.blocks.values() if (r := model.region_of(b))}
    )
    return model
