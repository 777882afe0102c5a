"""Cloud-agnostic front door: a :class:`PlatformSpec` becomes one stack on the chosen cloud.

``build_stack(app, spec)`` creates the stack with its state backend, then hands it to the chosen
cloud's ``platform.build_platform(stack, spec)``, which declares that cloud's providers (the
default region and, when the spec names a second region, an aliased ``replica`` provider) and the
platform's constructs. Cloud packages are imported only for the cloud a spec uses.
"""

from __future__ import annotations

import importlib
from typing import Any

from .core import engine
from .core.spec import PlatformSpec

__all__ = ["PlatformStack", "build_stack"]


class PlatformStack(engine.TerraformStack):
    """The stack for one spec. ``stores`` maps each store name of the spec to its ``DataStore``."""

    def __init__(self, scope: engine.Construct, spec: PlatformSpec) -> None:
        super().__init__(scope, spec.name)
        self.spec = spec
        self.stores: dict[str, Any] = {}
        # Local state until remote state lands; a relative path keeps the output machine-independent.
        engine.LocalBackend(self, path=f"terraform.{spec.name}.tfstate")
        cloud = importlib.import_module(f"constructs_lib.{spec.cloud}.platform")
        cloud.build_platform(self, spec)
        for name, store in self.stores.items():
            engine.TerraformOutput(self, f"store_{name}_name", value=store.store_name,
                                   description=f"Name of the {name} store")
            engine.TerraformOutput(self, f"store_{name}_key", value=store.key_id,
                                   description=f"Customer-managed key of the {name} store")
            rec = store.recovery
            engine.TerraformOutput(
                self, f"store_{name}_recovery",
                value={"rpo_minutes": rec.rpo_minutes, "rto_minutes": rec.rto_minutes,
                       "replica_region": rec.replica_region},
                description=f"Recovery objectives of the {name} store (minutes; null = no cross-region copy)",
            )


def build_stack(app: engine.App, spec: PlatformSpec) -> PlatformStack:
    """Add the stack for ``spec`` to ``app`` and return it."""
    return PlatformStack(app, spec)
