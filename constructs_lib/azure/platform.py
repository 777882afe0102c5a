"""The Azure platform: providers and constructs for one :class:`PlatformSpec` with ``cloud: azure``."""

from __future__ import annotations

from typing import Any

from ..core.providers import declare_provider
from ..core.resource import Resource
from ..core.spec import PlatformSpec
from ..core.tags import Tags
from .storage import DataStore, DataStoreProps

__all__ = ["build_platform"]


def build_platform(stack: Any, spec: PlatformSpec) -> None:
    """Declare ``azurerm`` (Entra ID auth for storage) and the platform's constructs.

    azurerm has no provider-level default tags, so the stack tags go through ``Tags`` to every
    taggable resource.
    """
    assert spec.azure is not None  # guaranteed by the spec validator
    declare_provider(
        stack,
        "azurerm",
        features={},
        storage_use_azuread=True,
        subscription_id=spec.azure.subscription_id,
    )
    Tags.of(stack).add_all(spec.all_tags)
    location = spec.primary_region
    if spec.azure.create_resource_group:
        rg = Resource(stack, "resource_group", "azurerm_resource_group",
                      name=spec.azure.resource_group, location=location)
        rg_name = rg.ref("name")
    else:
        rg_name = spec.azure.resource_group
    for store in spec.storage.stores:
        props = DataStoreProps(
            name=spec.resource_name(store),
            resource_group_name=rg_name,
            location=location,
            **spec.store_settings(),
        )
        stack.stores[store] = DataStore(stack, store, props)
