"""Emit provider, resource and data-source blocks without prebuilt provider packages.

Everything goes through the engine's generic ``TerraformResource`` / ``TerraformDataSource`` /
``TerraformProvider`` classes. Attribute names are the Terraform names (snake_case); nested blocks
are dicts (single block) or lists of dicts (repeated block). ``None`` values are dropped, so a
construct can write ``kms_key_id=key_arn if encrypt else None``.

Arguments stay on the Python side until synthesis: the engine asks each block once for them
(``synthesizeAttributes``, as the prebuilt provider classes do), so building a block costs one
engine call and ``Resource.set`` costs none. The synthesized JSON is what ``add_override`` per
argument gives, minus the engine's ``//.metadata.overrides`` bookkeeping. cdktf's experimental
``hclOutput`` reads other hooks; use ``cdktf-mlops synth --hcl`` for HCL.

The returned objects are real engine constructs: they can be passed to ``depends_on`` of a user's
own resources, and ``.ref("arn")`` hands out a token (``${aws_s3_bucket.x.arn}``) usable anywhere.

Example::

    bucket = Resource(self, "Bucket", "aws_s3_bucket", bucket="my-data")
    Resource(self, "Versioning", "aws_s3_bucket_versioning",
             bucket=bucket.ref("id"),
             versioning_configuration={"status": "Enabled"})
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

import jsii

from . import engine

__all__ = ["DataSource", "Provider", "Resource", "clean"]

#: Arguments the engine writes from its own meta-argument fields (``provider``, ``lifecycle``, ...).
#: Its merge deletes these keys from the attribute map when the field is unset, so they are
#: written as overrides (applied after that merge) instead.
_META = frozenset(("depends_on", "lifecycle", "count", "for_each", "provider", "connection", "provisioner"))


def clean(value: Any) -> Any:
    """Return ``value`` with ``None`` entries removed from dicts and tuples turned into lists."""
    if isinstance(value, Mapping):
        return {k: clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value if v is not None]
    return value


class _Refs:
    """Token helpers shared by resources and data sources."""

    def ref(self, attribute: str) -> str:
        """A string token for ``attribute``, e.g. ``${aws_kms_key.key.arn}`` once synthesized.

        Tokens are cached per attribute: asking twice costs one engine call.
        """
        cache: dict[str, str] | None = self.__dict__.get("_mlops_refs")
        if cache is None:
            cache = self.__dict__["_mlops_refs"] = {}
        token = cache.get(attribute)
        if token is None:
            token = cache[attribute] = self.get_string_attribute(attribute)  # type: ignore[attr-defined]
        return token

    def ref_list(self, attribute: str) -> list[str]:
        """A list token for a list-valued ``attribute`` (e.g. ``subnet_ids``)."""
        return self.get_list_attribute(attribute)  # type: ignore[attr-defined]

    def ref_number(self, attribute: str) -> float:
        """A number token for a numeric ``attribute``."""
        return self.get_number_attribute(attribute)  # type: ignore[attr-defined]

    @property
    def address(self) -> str:
        """The Terraform address token (``type.name``) for use in ``depends_on`` strings."""
        return f"{self.terraform_resource_type}.{self.friendly_unique_id}"  # type: ignore[attr-defined]


def _engine_provider(provider: Any, attrs: dict[str, Any]) -> Any:
    """The provider to hand to the engine, or None when ``attrs`` carries it.

    For an aliased :class:`Provider` of ours the reference (``aws.replica``) is written directly:
    the engine would otherwise call back into Python for the alias several times per resource.
    """
    if isinstance(provider, Provider) and provider._mlops_alias:
        attrs["provider"] = f"{provider._mlops_name}.{provider._mlops_alias}"
        return None
    return provider


def _apply(element: Any, attrs: Mapping[str, Any]) -> None:
    for key, value in clean(dict(attrs)).items():
        element.add_override(key, value)


class _Attributes:
    """Arguments kept on the Python side and handed to the engine once, when it synthesizes.

    The engine's generic classes take arguments only through ``add_override`` (one engine call per
    argument, at creation). Overriding ``synthesizeAttributes`` — what the prebuilt provider
    classes do — costs one call per block at synthesis instead, and makes ``set`` free. Meta
    arguments still go through ``add_override`` (see :data:`_META`).
    """

    _mlops_attrs: dict[str, Any]

    def set(self, **attrs: Any) -> Any:
        """Add or replace arguments after creation (``None`` values are ignored)."""
        for key, value in clean(attrs).items():
            if key in _META:
                self.add_override(key, value)  # type: ignore[attr-defined]
            self._mlops_attrs[key] = value
        return self

    def get(self, argument: str) -> Any:
        """The value set for ``argument`` through this helper, or ``None``."""
        return self._mlops_attrs.get(argument)

    def add_override(self, path: str, value: Any) -> None:
        """The engine's escape hatch, with its replace semantics kept.

        The engine merges overrides into the synthesized arguments and *appends* list values to
        lists it already has; an override of an argument held here (``security_group_ids``,
        ``tags.team``) therefore replaces the value here instead. Other paths (meta arguments,
        list positions such as ``rule.0.status``, arguments not set through this helper) go to the
        engine unchanged.
        """
        parts = path.split(".")
        node: Any = self._mlops_attrs
        if value is not None and parts[0] not in _META:
            for part in parts[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict) and (len(parts) > 1 or parts[0] in node):
                node[parts[-1]] = clean(value)
                return
        super().add_override(path, value)  # type: ignore[misc]

    @jsii.member(jsii_name="synthesizeAttributes")
    def _synthesize_attributes(self) -> Mapping[str, Any]:
        return {k: v for k, v in self._mlops_attrs.items() if k not in _META}


class Resource(_Attributes, _Refs, engine.TerraformResource):
    """A ``resource`` block of type ``tf_type`` with the given Terraform arguments.

    ``provider`` selects a non-default provider (second region or account); ``depends_on`` takes
    other resources; ``prevent_destroy=True`` adds ``lifecycle { prevent_destroy = true }``;
    ``ignore_changes`` lists arguments Terraform should not reconcile.
    """

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        tf_type: str,
        /,
        *,
        provider: engine.TerraformProvider | None = None,
        depends_on: Sequence[Any] | None = None,
        prevent_destroy: bool = False,
        ignore_changes: Sequence[str] | None = None,
        **attrs: Any,
    ) -> None:
        super().__init__(
            scope,
            id,
            terraform_resource_type=tf_type,
            provider=_engine_provider(provider, attrs),
            depends_on=list(depends_on) if depends_on else None,
        )
        lifecycle: dict[str, Any] = {}
        if prevent_destroy:
            lifecycle["prevent_destroy"] = True
        if ignore_changes:
            lifecycle["ignore_changes"] = sorted(ignore_changes)
        if lifecycle:
            attrs["lifecycle"] = lifecycle
        self._mlops_attrs = {}
        self.set(**attrs)


class DataSource(_Attributes, _Refs, engine.TerraformDataSource):
    """A ``data`` block of type ``tf_type`` with the given Terraform arguments."""

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        tf_type: str,
        /,
        *,
        provider: engine.TerraformProvider | None = None,
        **attrs: Any,
    ) -> None:
        super().__init__(
            scope, id, terraform_resource_type=tf_type, provider=_engine_provider(provider, attrs)
        )
        self._mlops_attrs = {}
        self.set(**attrs)


class Provider(engine.TerraformProvider):
    """A ``provider`` block (and its ``required_providers`` entry).

    ``name`` is the local provider name (``aws``, ``azurerm``, ``google``, ``azapi``), ``source``
    the registry source and ``version`` the constraint written to ``required_providers``. An
    ``alias`` makes it a secondary provider (another region or account) that constructs take as
    their ``provider`` argument.
    """

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        name: str,
        /,
        *,
        source: str,
        version: str,
        alias: str | None = None,
        **config: Any,
    ) -> None:
        super().__init__(
            scope,
            id,
            terraform_resource_type=name,
            terraform_provider_source=source,
            terraform_generator_metadata={
                "provider_name": name,
                "provider_version_constraint": version,
            },
        )
        self._mlops_alias = alias
        self._mlops_name = name
        if alias:
            config["alias"] = alias
        _apply(self, config)

    # The engine's generic provider has no storage for ``alias``; overriding the jsii property lets
    # the engine compute ``aws.replica`` references for resources that use this provider.
    @builtins.property  # type: ignore[misc]
    @jsii.member(jsii_name="alias")
    def alias(self) -> str | None:
        """The provider alias, or ``None`` for the default provider of its type."""
        return self._mlops_alias
