"""Base class of every cdktf-mlops construct: the uniform interface in one place.

A construct checks that it got the props model it expects (one readable error naming the
construct path), keeps ``props`` and ``provider``, tags its subtree with ``props.tags`` and
remembers grants so that granting the same principal twice returns the first grant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from . import engine
from .props import Model
from .tags import Tags

__all__ = ["MlopsConstruct"]

T = TypeVar("T")


class MlopsConstruct(engine.Construct):
    """Base of the library's constructs. Subclasses set ``props_type``."""

    props_type: ClassVar[type[Model]] = Model
    #: What the cloud-specific props add, for the wrong-props error (e.g. "project and location").
    props_hint: ClassVar[str] = ""

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: Any,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id)
        expected = type(self).props_type
        if not isinstance(props, expected):
            got = type(props)
            hint = f" (with {self.props_hint})" if self.props_hint else ""
            raise TypeError(
                f"{self.node.path}: props must be {expected.__module__}.{expected.__qualname__}"
                f"{hint}, got {got.__module__}.{got.__qualname__}"
            )
        self.props = props
        self._provider = provider
        self._grants: dict[str, Any] = {}
        tags = getattr(props, "tags", None)
        if tags:
            Tags.of(self).add_all(tags)

    def _once(self, key: str, make: Callable[[], T]) -> T:
        """Return the grant remembered under ``key``, creating it with ``make()`` the first time."""
        if key not in self._grants:
            self._grants[key] = make()
        return self._grants[key]
