"""Helpers for the Azure build-side tests: a stack with azurerm + azapi and its synthesized JSON."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

from constructs_lib.core import engine  # noqa: E402
from constructs_lib.core.providers import declare_provider  # noqa: E402
from constructs_lib.core.schema import validate_stack  # noqa: E402
from constructs_lib.core.synth import stack_document  # noqa: E402

RG = "rg-ml"
LOCATION = "westeurope"
WORKSPACE_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/"
    "Microsoft.MachineLearningServices/workspaces/mlw-dev"
)
STORAGE_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/"
    "Microsoft.Storage/storageAccounts/stml"
)
PRINCIPAL = "33333333-3333-3333-3333-333333333333"
WHERE = {"resource_group_name": RG, "location": LOCATION}


class Built:
    """A synthesized test stack: JSON (tags merged) plus lookups by construct path."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        app = engine.App(outdir="/tmp/cdktf-mlops-azure-unit")
        self.stack = engine.TerraformStack(app, "test")
        declare_provider(self.stack, "azurerm", features={})
        declare_provider(self.stack, "azapi")
        self.built = build(self.stack)
        self.doc: dict[str, Any] = stack_document(self.stack)
        problems = validate_stack(self.doc, stack="test")
        assert problems == [], problems

    def of(self, tf_type: str) -> dict[str, dict[str, Any]]:
        """Resources of ``tf_type`` keyed by construct path relative to the stack."""
        return {
            body["//"]["metadata"]["path"].removeprefix("test/"): body
            for body in self.doc.get("resource", {}).get(tf_type, {}).values()
        }

    def at(self, tf_type: str, path: str) -> dict[str, Any]:
        found = self.of(tf_type)
        assert path in found, f"no {tf_type} at {path}; have {sorted(found)}"
        return found[path]

    def ref(self, tf_type: str, path: str, attribute: str) -> str:
        for name, body in self.doc["resource"][tf_type].items():
            if body["//"]["metadata"]["path"] == f"test/{path}":
                return "${%s.%s.%s}" % (tf_type, name, attribute)
        raise KeyError(path)

    def assignments(self) -> list[tuple[str, str, str]]:
        """(role name or definition ref, scope, principal) of every role assignment, sorted."""
        out = []
        for body in self.of("azurerm_role_assignment").values():
            role = body.get("role_definition_name") or body.get("role_definition_id")
            out.append((role, body["scope"], body["principal_id"]))
        return sorted(out)


def acks_of(construct: Any) -> set[str]:
    """Check ids acknowledged on ``construct`` or any construct below it."""
    from constructs_lib.core.acknowledge import Acknowledge

    found: set[str] = set()
    for node in construct.node.find_all():
        found |= {a.check_id for a in Acknowledge.of(node).own}
    return found
