"""Construct errors in spec terms: which spec field a platform construct or props class comes from.

The platform builds each construct from one spec section. When a construct rule or a props check
fails while the platform builds a spec's stack, :func:`spec_error` turns the
:class:`~.errors.ConstructError` into a :class:`~.errors.SpecError` whose lines read
``<spec file>: <spec field>: <what to change>``. The two tables below are the whole mapping; a
construct they do not cover is named by its construct path instead.
"""

from __future__ import annotations

from typing import Any

from .errors import ConstructError, PropsError, SpecError
from .spec import PlatformSpec

__all__ = ["PROPS_SECTIONS", "SECTIONS", "construct_fields", "spec_error"]

#: Top-level construct id of a platform stack -> the spec field it is built from. Ids made from
#: spec names (stores, pipelines, endpoints, regions) are listed by :func:`construct_fields`.
SECTIONS: dict[str, str] = {
    "network": "network",
    "training": "training",
    "containers": "registry.containers",
    "models": "registry.models",
    "tracking": "tracking",
    "features": "features",
    "retraining": "retraining",
    "airflow": "airflow",
    "routing": "routing",
    "monitoring": "monitoring",
    "budget": "budget",
}

#: Props class (by name, on every cloud) -> the spec section the platform builds it from. A props
#: field that the section has too is reported as ``<section>.<field>``.
PROPS_SECTIONS: dict[str, str] = {
    "DataStoreProps": "storage",
    "ReplicationProps": "storage",
    "NetworkProps": "network",
    "TrainingProps": "training",
    "ContainerRegistryProps": "registry.containers",
    "ModelRegistryProps": "registry.models",
    "TrackingProps": "tracking",
    "FeatureStoreProps": "features",
    "PipelineProps": "pipelines",
    "RetrainingProps": "retraining",
    "AirflowProps": "airflow",
    "EndpointProps": "serving.endpoints",
    "RoutingProps": "routing",
    "MonitoringProps": "monitoring",
    "BudgetProps": "budget",
}


def construct_fields(spec: PlatformSpec) -> dict[str, str]:
    """Top-level construct id -> spec field, for the constructs the platform builds from ``spec``.

    Besides :data:`SECTIONS`: each store (``storage.stores[i]``), each pipeline
    (``pipelines[i]``), each endpoint in each region (``endpoint-<name>-<region>`` on AWS and
    Azure, ``serving-<name>-<region>`` on GCP: ``serving.endpoints[i]``) and its AWS routing
    (``routing-<name>``), and the per-region serving infrastructure of the second and later regions
    (``regions[i]``).
    """
    fields = dict(SECTIONS)
    for i, store in enumerate(spec.storage.stores):
        fields[store] = f"storage.stores[{i}]"
    for i, pipeline in enumerate(spec.pipelines):
        fields[f"pipeline-{pipeline.name}"] = f"pipelines[{i}]"
    for n, region in enumerate(spec.regions):
        for prefix in ("serving-network", "serving-store", "serving", "workspace"):
            fields[f"{prefix}-{region}"] = f"regions[{n}]"
    for i, endpoint in enumerate(spec.serving.endpoints if spec.serving else []):
        fields[f"routing-{endpoint.name}"] = "routing"
        for region in spec.regions:
            for prefix in ("endpoint", "serving"):
                fields[f"{prefix}-{endpoint.name}-{region}"] = f"serving.endpoints[{i}]"
    return fields


def _section(spec: PlatformSpec, dotted: str) -> Any:
    """The spec's section object at ``dotted`` (the first entry of a list), or None."""
    obj: Any = spec
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if isinstance(obj, list):
            obj = obj[0] if obj else None
        if obj is None:
            return None
    return obj


def _field(spec: PlatformSpec, section: str, prop: str | None) -> tuple[str, str | None]:
    """(spec field, prop left to name) for a problem of ``prop`` of a construct built from ``section``.

    A prop that the spec section has too (``pools[0].machine_type`` of ``training``) becomes part
    of the spec field; others (a derived ``name``, cloud-only props) stay named as props.
    """
    if not prop:
        return section, None
    bare = prop.split(".", 1)[1] if prop[:1].isupper() and "." in prop else prop  # "TrainingProps.pools"
    top = bare.split(".", 1)[0].split("[", 1)[0]
    model = _section(spec, section.split("[", 1)[0])
    if top != "name" and top in getattr(type(model), "model_fields", {}):
        return f"{section}.{bare}", None
    return section, prop


def spec_error(spec: PlatformSpec, err: ConstructError) -> SpecError:
    """``err``, raised while building ``spec``'s stack, as a :class:`SpecError` in spec terms.

    Each line names the spec file (``spec.source``; the spec's name for a spec built in Python)
    and the spec field the failing construct or props come from (:func:`construct_fields`,
    :data:`PROPS_SECTIONS`), or the construct path when neither table covers it.
    """
    source = spec.source or f"spec {spec.name!r}"
    fields = construct_fields(spec)
    parts = (err.path or "").split("/")
    field = fields.get(parts[1]) if len(parts) > 1 and parts[0] == spec.name else None
    if field is None and isinstance(err, PropsError):
        field = PROPS_SECTIONS.get(err.props_type.__name__)
    lines = []
    for prop, message in err.problems:
        where = _field(spec, field, prop) if field else (err.path, prop)
        lines.append(": ".join(p for p in (source, *where, message) if p))
    return SpecError("\n".join(lines))
