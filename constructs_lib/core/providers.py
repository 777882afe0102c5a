"""Provider sources and the version ranges the bundled schemas and tests cover.

Stacks write these into ``required_providers``. AWS constructs are checked against both bundled
AWS schemas (5.100 and 6.x), so the AWS range spans both major versions.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROVIDERS", "declare_provider"]

#: local name -> (registry source, version constraint)
PROVIDERS: dict[str, tuple[str, str]] = {
    "aws": ("hashicorp/aws", ">= 5.100, < 7.0"),
    "azurerm": ("hashicorp/azurerm", ">= 5.10, < 6.0"),
    "azapi": ("azure/azapi", ">= 2.13, < 3.0"),
    "google": ("hashicorp/google", ">= 8.7, < 9.0"),
}


def declare_provider(stack: Any, name: str, *, alias: str | None = None, **config: Any) -> Any:
    """Declare provider ``name`` in ``stack`` with its pinned source and version range.

    The default provider has construct id ``name``; an aliased one ``<name>_<alias>``.
    """
    from .resource import Provider

    source, version = PROVIDERS[name]
    pid = name if alias is None else f"{name}_{alias}"
    return Provider(stack, pid, name, source=source, version=version, alias=alias, **config)
