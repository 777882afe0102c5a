"""Cloud-agnostic front door: a :class:`PlatformSpec` becomes one stack on the chosen cloud.

``build_stack(app, spec)`` declares the cloud's providers (the default region and, when the spec
names a second region, an aliased ``replica`` provider), the state backend and the platform's
constructs. Cloud packages are imported only for the cloud a spec uses.
"""

from __future__ import annotations

import importlib
from typing import Any

from .core import engine
from .core.naming import bucket_name
from .core.providers import PROVIDERS
from .core.resource import Provider, Resource
from .core.spec import PlatformSpec
from .core.tags import Tags, gcp_labels

__all__ = ["PlatformStack", "build_stack"]


def _provider(stack: engine.TerraformStack, name: str, *, alias: str | None = None, **config: Any) -> Provider:
    source, version = PROVIDERS[name]
    pid = name if alias is None else f"{name}_{alias}"
    return Provider(stack, pid, name, source=source, version=version, alias=alias, **config)


class PlatformStack(engine.TerraformStack):
    """The stack for one spec. ``stores`` maps each store name of the spec to its ``DataStore``."""

    def __init__(self, scope: engine.Construct, spec: PlatformSpec) -> None:
        super().__init__(scope, spec.name)
        self.spec = spec
        self.stores: dict[str, Any] = {}
        # Local state until remote state lands; a relative path keeps the output machine-independent.
        engine.LocalBackend(self, path=f"terraform.{spec.name}.tfstate")
        builder = {"aws": _build_aws, "azure": _build_azure, "gcp": _build_gcp}[spec.cloud]
        builder(self, spec)
        for name, store in self.stores.items():
            engine.TerraformOutput(self, f"store_{name}_name", value=store.store_name,
                                   description=f"Name of the {name} store")
            engine.TerraformOutput(self, f"store_{name}_key", value=store.key_id,
                                   description=f"Customer-managed key of the {name} store")


def build_stack(app: engine.App, spec: PlatformSpec) -> PlatformStack:
    """Add the stack for ``spec`` to ``app`` and return it."""
    return PlatformStack(app, spec)


def _store_settings(spec: PlatformSpec) -> dict[str, Any]:
    s = spec.storage
    replica = spec.replica_region
    return {
        "versioning": s.versioning,
        "lifecycle": s.lifecycle,
        "encryption": s.encryption,
        "deletion_protection": s.deletion_protection,
        "access_logging": s.access_logging,
        "replication": {"region": replica} if replica else None,
    }


def _build_aws(stack: PlatformStack, spec: PlatformSpec) -> None:
    aws = importlib.import_module("constructs_lib.aws")
    common: dict[str, Any] = {"default_tags": {"tags": spec.all_tags}}
    if spec.aws and spec.aws.account_id:
        common["allowed_account_ids"] = [spec.aws.account_id]
    _provider(stack, "aws", region=spec.primary_region, **common)
    replica = None
    if spec.replica_region:
        replica = _provider(stack, "aws", alias="replica", region=spec.replica_region, **common)
    for store in spec.storage.stores:
        props = aws.DataStoreProps(
            name=bucket_name(spec.name, spec.environment, store), **_store_settings(spec)
        )
        stack.stores[store] = aws.DataStore(stack, store, props, replica_provider=replica)


def _build_azure(stack: PlatformStack, spec: PlatformSpec) -> None:
    azure = importlib.import_module("constructs_lib.azure")
    assert spec.azure is not None  # guaranteed by the spec validator
    _provider(
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
        props = azure.DataStoreProps(
            name=bucket_name(spec.name, spec.environment, store),
            resource_group_name=rg_name,
            location=location,
            **_store_settings(spec),
        )
        stack.stores[store] = azure.DataStore(stack, store, props)


def _build_gcp(stack: PlatformStack, spec: PlatformSpec) -> None:
    gcp = importlib.import_module("constructs_lib.gcp")
    assert spec.gcp is not None  # guaranteed by the spec validator
    _provider(
        stack,
        "google",
        project=spec.gcp.project,
        region=spec.primary_region,
        default_labels=gcp_labels(spec.all_tags),
    )
    for store in spec.storage.stores:
        props = gcp.DataStoreProps(
            name=bucket_name(spec.name, spec.environment, store),
            project=spec.gcp.project,
            location=spec.primary_region,
            **_store_settings(spec),
        )
        stack.stores[store] = gcp.DataStore(stack, store, props)
