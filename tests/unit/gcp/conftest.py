"""Helpers for the GCP construct tests: a stack with a google provider, synthesized to a dict."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

from constructs_lib.core import engine  # noqa: E402
from constructs_lib.core.resource import Provider  # noqa: E402

PROJECT = "ml-platform-dev"


class Built:
    """An app, its stack and the synthesized JSON (``doc``) with lookup helpers."""

    def __init__(self, app: Any, stack: Any) -> None:
        self.app = app
        self.stack = stack
        self.doc: dict[str, Any] = stack.to_terraform()

    def resources(self, tf_type: str) -> dict[str, dict[str, Any]]:
        """Blocks of ``tf_type`` by logical name (empty when there are none)."""
        return self.doc.get("resource", {}).get(tf_type, {})

    def data(self, tf_type: str) -> dict[str, dict[str, Any]]:
        return self.doc.get("data", {}).get(tf_type, {})

    def by_path(self, tf_type: str, path: str) -> dict[str, Any]:
        """The block of ``tf_type`` whose construct path is ``path`` (``stack/...``)."""
        for body in self.resources(tf_type).values():
            if body["//"]["metadata"]["path"] == path:
                return body
        raise AssertionError(f"no {tf_type} at {path}; have {sorted(self.resources(tf_type))}")

    def address(self, element: Any) -> str:
        """``type.logical_name`` of a construct's block, as Terraform references it."""
        return f"{element.terraform_resource_type}.{self.stack.get_logical_id(element)}"


@pytest.fixture
def build(tmp_path) -> Callable[[Callable[[Any], Any]], Built]:
    """``build(lambda stack: ...)`` → :class:`Built` for a stack with a default google provider."""

    def _build(body: Callable[[Any], Any]) -> Built:
        app = engine.App(outdir=str(tmp_path / "out"))
        stack = engine.TerraformStack(app, "gcp")
        Provider(
            stack,
            "google",
            "google",
            source="hashicorp/google",
            version=">= 8.0, < 9.0",
            project=PROJECT,
            region="us-central1",
        )
        body(stack)
        return Built(app, stack)

    return _build
