"""The AWS platform: providers and constructs for one :class:`PlatformSpec` with ``cloud: aws``."""

from __future__ import annotations

from typing import Any

from ..core.providers import declare_provider
from ..core.spec import PlatformSpec
from .storage import DataStore, DataStoreProps

__all__ = ["build_platform"]


def build_platform(stack: Any, spec: PlatformSpec) -> None:
    """Declare the AWS providers (stack tags as ``default_tags``) and the platform's constructs."""
    common: dict[str, Any] = {"default_tags": {"tags": spec.all_tags}}
    if spec.aws and spec.aws.account_id:
        common["allowed_account_ids"] = [spec.aws.account_id]
    declare_provider(stack, "aws", region=spec.primary_region, **common)
    replica = None
    if spec.replica_region:
        replica = declare_provider(stack, "aws", alias="replica", region=spec.replica_region, **common)
    for store in spec.storage.stores:
        props = DataStoreProps(name=spec.resource_name(store), **spec.store_settings())
        stack.stores[store] = DataStore(stack, store, props, replica_provider=replica)
