"""Provenance of a synthesized stack: what produced it, written as ``provenance.json`` beside it.

Every synthesis writes, for each stack (``<outdir>/stacks/<name>/provenance.json``):

* ``spec``: the spec file as the user named it (a relative path; an absolute one is made relative to
  the working directory when it lies below it, else only its file name is kept), the sha256 of its
  bytes, and the spec's name, cloud, environment and regions. ``null`` for a stack not built from a
  spec file (a user's own cdktf app).
* ``library``, ``engine``: names and versions of cdktf-mlops and of the engine (cdktf or cdktn).
* ``provider_schemas``: each provider the stack requires, its version constraint, and the bundled
  schema(s) (provider version) its blocks were validated against.
* ``resources``: for every resource and data-source address, its construct path and the spec
  field the construct was built from (:func:`~.spec_fields.construct_fields`; ``null`` when the
  construct is not built from a spec section, e.g. the providers' data sources).

Nothing in it depends on the time, the machine or the folder: the same spec gives the same bytes.
``cdktf-mlops scan`` writes its results beside it (``scan.json``, see :mod:`.scan`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from . import engine
from .schema import SCHEMA_FILES, construct_path, load
from .spec_fields import construct_fields

__all__ = ["PROVENANCE_FILE", "library_version", "provenance", "spec_record"]

PROVENANCE_FILE = "provenance.json"
FORMAT = 1

#: Platform-wide constructs that :func:`~.spec_fields.construct_fields` leaves out (they serve the
#: whole stack): the spec field they follow from.
_PLATFORM_FIELDS: dict[str, str] = {
    "resource_group": "azure.resource_group",
    "workspace": "regions[0]",
    "GcpServices": "gcp.project",
    "MlopsAwsCallerIdentity": "regions[0]",
    "MlopsAwsPartition": "regions[0]",
    "MlopsAwsCallerIdentity_replica": "regions[1]",
    "MlopsAwsPartition_replica": "regions[1]",
}


def library_version() -> str:
    """The installed version of cdktf-mlops (``unknown`` when it is not installed as a package)."""
    try:
        return version("cdktf-mlops")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown"


def _portable(source: str) -> str:
    """``source`` without anything machine-specific: relative paths as given, absolute ones made
    relative to the working directory (or reduced to the file name)."""
    path = Path(source)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.name


def spec_record(spec: Any) -> dict[str, Any] | None:
    """The ``spec`` entry of ``provenance.json`` for a :class:`~.spec.PlatformSpec` (None: no spec).

    The hash is of the file's bytes as read now; a spec built in Python (no source file) has
    ``path`` and ``sha256`` null.
    """
    if spec is None:
        return None
    source = getattr(spec, "source", None)
    digest = None
    if source and Path(source).is_file():
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    return {
        "path": _portable(source) if source and digest else None,
        "sha256": digest,
        "name": spec.name,
        "cloud": spec.cloud,
        "environment": spec.environment,
        "regions": list(spec.regions),
    }


def _schemas(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    required = doc.get("terraform", {}).get("required_providers", {})
    out = []
    for local, entry in sorted(required.items()):
        files = SCHEMA_FILES.get(local, ())
        out.append({
            "provider": local,
            "source": entry.get("source") if isinstance(entry, Mapping) else None,
            "constraint": entry.get("version") if isinstance(entry, Mapping) else None,
            "validated_against": [
                {"file": f, "version": load(f).version} for f in files
            ],
        })
    return out


def _resources(doc: Mapping[str, Any], stack: str, fields: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section, prefix in (("resource", ""), ("data", "data.")):
        for tf_type, instances in doc.get(section, {}).items():
            for name, body in instances.items():
                path = construct_path(body) or ""
                parts = path.split("/")
                top = parts[1] if len(parts) > 1 and parts[0] == stack else None
                out[f"{prefix}{tf_type}.{name}"] = {
                    "construct": path or None,
                    "spec_field": fields.get(top) if top else None,
                }
    return dict(sorted(out.items()))


def provenance(doc: Mapping[str, Any], stack: str, spec: Any = None) -> dict[str, Any]:
    """The ``provenance.json`` document of one synthesized stack (``doc`` is its ``cdk.tf.json``).

    ``spec`` is the :class:`~.spec.PlatformSpec` the stack was built from, or None for a stack of
    a user's own app (then ``spec`` is null and no resource names a spec field).
    """
    fields: Mapping[str, str] = {**_PLATFORM_FIELDS, **construct_fields(spec)} if spec is not None else {}
    return {
        "format": FORMAT,
        "stack": stack,
        "spec": spec_record(spec),
        "library": {"name": "cdktf-mlops", "version": library_version()},
        "engine": {"name": engine.ENGINE, "version": engine.ENGINE_VERSION},
        "provider_schemas": _schemas(doc),
        "resources": _resources(doc, stack, fields),
    }
