"""Bundled provider schemas and the validator that runs at every synth.

The schemas in ``core/schemas/*.json.gz`` are compact extracts (see ``tools/extract_schemas.py``)
of the provider schemas: resource and data-source types, settable arguments with their required
flag, and nested blocks with their item limits. :func:`validate_stack` checks every ``provider``,
``resource`` and ``data`` block of a synthesized stack — ours and a user's — and returns one
problem per mistake, each naming the construct path and the argument, with "did you mean"
suggestions. Block types of providers without a bundled schema are not checked.

AWS blocks are checked against both bundled AWS schemas (5.100 and 6.x), because the stacks pin
``>= 5.100, < 7.0``: an argument must exist in both.
"""

from __future__ import annotations

import difflib
import gzip
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["LazyJson", "ProviderSchema", "SCHEMA_FILES", "construct_path", "load", "schemas_for", "validate_stack"]

#: Provider local name -> bundled schema files it is validated against.
SCHEMA_FILES: dict[str, tuple[str, ...]] = {
    "aws": ("aws.json.gz", "aws-5.100.json.gz"),
    "azurerm": ("azurerm.json.gz",),
    "google": ("google.json.gz",),
    "azapi": ("azapi.json.gz",),
}

#: Type prefixes owned by each provider (``google-beta`` shares google's types).
_PREFIX = {"aws": "aws", "azurerm": "azurerm", "google": "google", "azapi": "azapi"}

#: Meta-arguments Terraform accepts on every resource / data block.
_META = frozenset(
    {"//", "count", "depends_on", "for_each", "lifecycle", "provider", "provisioner", "connection"}
)
_PROVIDER_META = frozenset({"//", "alias", "version"})


class LazyJson(Mapping[str, Any]):
    """Name -> value of a mapping whose values are stored as JSON strings, each parsed on first access
    (the bundled schema files store each block / model that way, so loading a file parses only its
    outer object)."""

    def __init__(self, raw: dict[str, str]) -> None:
        self._raw = raw
        self._parsed: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        try:
            return self._parsed[key]
        except KeyError:
            value = self._parsed[key] = json.loads(self._raw[key])
            return value

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


@dataclass(frozen=True)
class ProviderSchema:
    """One bundled provider schema."""

    provider: str
    source: str
    version: str
    provider_block: Mapping[str, Any]
    resources: Mapping[str, Any]
    data_sources: Mapping[str, Any]

    @property
    def label(self) -> str:
        """``aws 6.69.1`` style label used in messages."""
        return f"{self.provider} {self.version}"


@lru_cache(maxsize=None)
def load(filename: str) -> ProviderSchema:
    """Load one bundled schema file (cached for the process)."""
    data = json.loads(gzip.decompress(resources.files(__package__).joinpath("schemas", filename).read_bytes()))
    if data.get("format") != 2:
        raise RuntimeError(f"bundled schema {filename} has unsupported format {data.get('format')!r}")
    return ProviderSchema(
        provider=data["provider"],
        source=data["source"],
        version=data["version"],
        provider_block=data.get("provider_block", {}),
        resources=LazyJson(data["resources"]),
        data_sources=LazyJson(data["data_sources"]),
    )


def schemas_for(provider: str) -> tuple[ProviderSchema, ...]:
    """Every bundled schema of ``provider`` (empty when none is bundled)."""
    return tuple(load(f) for f in SCHEMA_FILES.get(provider, ()))


def _provider_of(tf_type: str) -> str | None:
    prefix = tf_type.split("_", 1)[0]
    return prefix if prefix in _PREFIX else None


def _suggest(name: str, options: Any) -> str:
    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def construct_path(body: Mapping[str, Any]) -> str | None:
    """The construct path the engine recorded in a block's ``//`` metadata, or None (a hand-written block)."""
    meta = body.get("//")
    return meta.get("metadata", {}).get("path") if isinstance(meta, Mapping) else None


def _where(body: Mapping[str, Any], fallback: str) -> str:
    return construct_path(body) or fallback


def _check_block(
    body: Mapping[str, Any],
    block: Mapping[str, Any],
    *,
    meta: frozenset[str],
    trail: str,
    label: str,
) -> Iterator[str]:
    attrs: Mapping[str, int] = block.get("a", {})
    blocks: Mapping[str, list[Any]] = block.get("b", {})
    for key, value in body.items():
        if key in meta or key == "dynamic":
            continue
        if key in attrs:
            continue
        if key in blocks:
            lo, hi, sub = blocks[key]
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(i, Mapping) for i in items):
                if isinstance(value, str) and value.startswith("${"):
                    continue  # a whole-block token (dynamic value) cannot be checked statically
                yield f'{trail}{key}: is a nested block in {label}; give an object or a list of objects'
                continue
            if hi and len(items) > hi:
                yield f"{trail}{key}: at most {hi} block(s) allowed in {label}, got {len(items)}"
            for n, item in enumerate(items):
                sub_trail = f"{trail}{key}[{n}]." if isinstance(value, list) else f"{trail}{key}."
                yield from _check_block(item, sub, meta=frozenset(), trail=sub_trail, label=label)
            continue
        yield f'{trail}{key}: unknown argument in {label}{_suggest(key, [*attrs, *blocks])}'
    for key, required in attrs.items():
        if required and key not in body:
            yield f"{trail}{key}: required argument is missing ({label})"
    for key, (lo, _hi, _sub) in blocks.items():
        if lo and key not in body and "dynamic" not in body:
            yield f"{trail}{key}: required block is missing ({label})"


def validate_stack(doc: Mapping[str, Any], *, stack: str = "") -> list[str]:
    """Problems of a synthesized stack (``cdk.tf.json`` as a dict) against the bundled schemas.

    An empty list means every block of every provider with a bundled schema is valid.
    """
    problems: list[str] = []
    prefix = f"{stack}: " if stack else ""
    for kind, section in (("resource", "resource"), ("data source", "data")):
        for tf_type, instances in sorted(doc.get(section, {}).items()):
            provider = _provider_of(tf_type)
            if provider is None:
                continue
            for schema in schemas_for(provider):
                table = schema.resources if section == "resource" else schema.data_sources
                block = table.get(tf_type)
                for name, body in sorted(instances.items()):
                    where = _where(body, f"{section}.{tf_type}.{name}")
                    if block is None:
                        problems.append(
                            f"{prefix}{where}: unknown {kind} type {tf_type!r} in "
                            f"{schema.label}{_suggest(tf_type, table)}"
                        )
                        continue
                    for p in _check_block(
                        body, block, meta=_META, trail="", label=f"{tf_type} ({schema.label})"
                    ):
                        problems.append(f"{prefix}{where}: {p}")
    for name, configs in sorted(doc.get("provider", {}).items()):
        for schema in schemas_for(name):
            for n, body in enumerate(configs if isinstance(configs, list) else [configs]):
                where = f"provider.{name}" + (f"[{body['alias']}]" if "alias" in body else f"[{n}]")
                for p in _check_block(
                    body,
                    schema.provider_block,
                    meta=_PROVIDER_META,
                    trail="",
                    label=f"provider {schema.label}",
                ):
                    problems.append(f"{prefix}{where}: {p}")
    # The same mistake against two AWS schemas reads once per schema; keep order, drop repeats.
    return list(dict.fromkeys(problems))
