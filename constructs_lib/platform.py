"""Cloud-agnostic front door: a :class:`PlatformSpec` becomes one stack on the chosen cloud.

``build_stack(app, spec)`` creates the stack with its state backend, then hands it to the chosen
cloud's ``platform.build_platform(stack, spec)``, which declares that cloud's providers (the
default region and, when the spec names a second region, an aliased ``replica`` provider) and the
platform's constructs, and — when the spec has pipelines, retraining or airflow — to the cloud's
``automation.build_automation(stack, spec)``. Cloud packages are imported only for the cloud a spec uses.

A construct rule or props check that fails while the stack is built is raised as a
:class:`~.core.errors.SpecError` naming the spec file and the spec field it comes from
(:mod:`.core.spec_fields`), not as the construct's own error.
"""

from __future__ import annotations

import importlib
from typing import Any

from .core import engine
from .core.errors import ConstructError
from .core.recovery import recovery_output
from .core.spec import PlatformSpec
from .core.spec_fields import spec_error

__all__ = ["PlatformStack", "build_stack"]


class PlatformStack(engine.TerraformStack):
    """The stack for one spec, with its constructs as attributes (the same names on every cloud).

    Each attribute is ``None`` (or empty) when the spec has no such section. Use them to extend the
    platform in your own app, e.g. ``stack.stores["data"].grant_read(my_role)`` or
    ``stack.endpoints["churn"]["eu-west-1"]``.
    """

    def __init__(self, scope: engine.Construct, spec: PlatformSpec) -> None:
        super().__init__(scope, spec.name)
        self.spec = spec
        #: Store name -> the cloud's ``DataStore``.
        self.stores: dict[str, Any] = {}
        #: The cloud's ``Network`` of the primary region when the spec needs one.
        self.network: Any = None
        #: ``Training`` (pools, execution identity) for ``training``.
        self.training: Any = None
        #: ``ContainerRegistry`` and ``ModelRegistry`` for ``registry``.
        self.containers: Any = None
        self.models: Any = None
        #: ``Tracking`` for ``tracking``; ``FeatureStore`` for ``features``.
        self.tracking: Any = None
        self.features: Any = None
        #: Azure: the ML ``Workspace`` that training, pipelines and schedules use.
        self.workspace: Any = None
        #: Endpoint name -> region -> the cloud's ``Endpoint``, for ``serving``.
        self.endpoints: dict[str, dict[str, Any]] = {}
        #: ``Routing`` in front of the endpoints (AWS: one per endpoint name, a dict), ``Monitoring``
        #: and ``Budget`` for those sections.
        self.routing: Any = None
        self.monitoring: Any = None
        self.budget: Any = None
        _backend(self, spec)
        try:
            cloud = importlib.import_module(f"constructs_lib.{spec.cloud}.platform")
            cloud.build_platform(self, spec)
            if spec.pipelines or spec.retraining or spec.airflow:
                automation = importlib.import_module(f"constructs_lib.{spec.cloud}.automation")
                automation.build_automation(self, spec)
        except ConstructError as err:
            raise spec_error(spec, err) from None
        for name, store in self.stores.items():
            engine.TerraformOutput(self, f"store_{name}_name", value=store.store_name,
                                   description=f"Name of the {name} store")
            engine.TerraformOutput(self, f"store_{name}_key", value=store.key_id,
                                   description=f"Customer-managed key of the {name} store")
            recovery_output(
                self, f"store_{name}_recovery", store.recovery,
                f"Recovery objectives of the {name} store (minutes; null = no cross-region copy)",
            )


def _backend(stack: engine.TerraformStack, spec: PlatformSpec) -> None:
    """The state backend of ``spec``: remote (encrypted, locked) when `state` is set, else local."""
    state = spec.state
    if state is None:
        # A relative path keeps the output machine-independent.
        engine.LocalBackend(stack, path=f"terraform.{spec.name}.tfstate")
        return
    region = state.region or spec.primary_region
    if spec.cloud == "aws":
        backend = engine.S3Backend(stack, bucket=spec.state_name, key=spec.state_key, region=region, encrypt=True)
        # S3-native locking (Terraform >= 1.10); set as an override so cdktf and cdktn emit it alike.
        backend.add_override("use_lockfile", True)
    elif spec.cloud == "azure":
        assert spec.azure is not None
        engine.AzurermBackend(
            stack,
            storage_account_name=spec.state_name,
            container_name=state.container,
            key=spec.state_key,
            resource_group_name=state.resource_group or spec.azure.resource_group,
            use_azuread_auth=True,
        )
    else:
        engine.GcsBackend(stack, bucket=spec.state_name, prefix=spec.state_key.rsplit("/", 1)[0])


def build_stack(app: engine.App, spec: PlatformSpec) -> PlatformStack:
    """Add the stack for ``spec`` to ``app`` and return it."""
    return PlatformStack(app, spec)
