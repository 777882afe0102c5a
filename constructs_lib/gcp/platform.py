"""The GCP platform: providers and constructs for one :class:`PlatformSpec` with ``cloud: gcp``."""

from __future__ import annotations

from typing import Any

from ..core.providers import declare_provider
from ..core.spec import PlatformSpec
from ..core.tags import gcp_labels
from .storage import DataStore, DataStoreProps

__all__ = ["build_platform"]


def build_platform(stack: Any, spec: PlatformSpec) -> None:
    """Declare ``google`` (stack tags as normalised ``default_labels``) and the platform's constructs."""
    assert spec.gcp is not None  # guaranteed by the spec validator
    declare_provider(
        stack,
        "google",
        project=spec.gcp.project,
        region=spec.primary_region,
        default_labels=gcp_labels(spec.all_tags),
    )
    for store in spec.storage.stores:
        props = DataStoreProps(
            name=spec.resource_name(store),
            project=spec.gcp.project,
            location=spec.primary_region,
            **spec.store_settings(),
        )
        stack.stores[store] = DataStore(stack, store, props)
