"""Helpers for the AWS construct tests: a stack with a default and a ``replica`` aws provider."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

from constructs_lib.core import engine  # noqa: E402
from constructs_lib.core.providers import PROVIDERS  # noqa: E402
from constructs_lib.core.resource import Provider  # noqa: E402
from constructs_lib.core.synth import stack_document  # noqa: E402

PRIMARY_REGION = "eu-west-1"
REPLICA_REGION = "eu-central-1"


class Built:
    """An app, its stack, the replica provider and the synthesized JSON (tags merged, as written)."""

    def __init__(self, app: Any, stack: Any, replica: Any) -> None:
        self.app = app
        self.stack = stack
        self.replica = replica
        self.doc: dict[str, Any] = stack_document(stack)

    def resources(self, tf_type: str) -> dict[str, dict[str, Any]]:
        """Blocks of ``tf_type`` by logical name (empty when there are none)."""
        return self.doc.get("resource", {}).get(tf_type, {})

    def by_path(self, tf_type: str, path: str) -> dict[str, Any]:
        """The block of ``tf_type`` whose construct path is ``path`` (``aws/...``)."""
        for body in self.resources(tf_type).values():
            if body["//"]["metadata"]["path"] == path:
                return body
        paths = sorted(b["//"]["metadata"]["path"] for b in self.resources(tf_type).values())
        raise AssertionError(f"no {tf_type} at {path}; have {paths}")

    def address(self, element: Any) -> str:
        """``type.logical_name`` of a construct's block (as in ``depends_on``)."""
        return f"{element.terraform_resource_type}.{self.stack.get_logical_id(element)}"

    def ref(self, element: Any, attribute: str) -> str:
        """``${type.logical_name.attribute}`` of a construct's block, as Terraform references it."""
        return f"${{{element.terraform_resource_type}.{self.stack.get_logical_id(element)}.{attribute}}}"


@pytest.fixture
def build(tmp_path) -> Callable[[Callable[[Any, Any], Any]], Built]:
    """``build(lambda stack, replica: ...)`` → :class:`Built`; ``replica`` is the aliased provider."""

    def _build(body: Callable[[Any, Any], Any]) -> Built:
        source, version = PROVIDERS["aws"]
        app = engine.App(outdir=str(tmp_path / "out"))
        stack = engine.TerraformStack(app, "aws")
        Provider(stack, "aws", "aws", source=source, version=version, region=PRIMARY_REGION)
        replica = Provider(
            stack,
            "aws-replica",
            "aws",
            source=source,
            version=version,
            region=REPLICA_REGION,
            alias="replica",
        )
        body(stack, replica)
        return Built(app, stack, replica)

    return _build
