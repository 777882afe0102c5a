"""Base class of every cdktf-mlops construct: the uniform interface in one place.

A construct checks that it got the props model it expects (one readable error naming the
construct path), keeps ``props`` and ``provider``, tags its subtree with ``props.tags`` and
remembers grants so that granting the same principal twice returns the first grant. A
:class:`~.errors.ConstructError` (or :class:`~.errors.PropsError`) raised without a path while a
construct is being built gets that construct's path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from . import engine
from .errors import ConstructError, ConstructTypeError
from .props import Model
from .tags import Tags

__all__ = ["MlopsConstruct", "grant_training", "shared", "stack_of"]

T = TypeVar("T")


def stack_of(scope: engine.Construct) -> Any:
    """The stack that holds ``scope``, remembered on ``scope`` (one engine lookup per construct)."""
    found = scope.__dict__.get("_mlops_stack")
    if found is None:
        found = scope.__dict__["_mlops_stack"] = engine.TerraformStack.of(scope)
    return found


def shared(scope: engine.Construct, cid: str, make: Callable[[Any], T]) -> T:
    """The stack-level child ``cid`` of ``scope``'s stack, made by ``make(stack)`` on first use.

    For blocks that every construct of a stack shares (a caller-identity data source, the
    project-services holder): later calls return the same object without asking the engine.
    A child ``cid`` that the stack already has (made elsewhere) is found and reused.
    """
    stack = stack_of(scope)
    registry: dict[str, Any] = stack.__dict__.setdefault("_mlops_shared", {})
    found = registry.get(cid)
    if found is None:
        found = stack.node.try_find_child(cid)
        if found is None:
            found = make(stack)
        registry[cid] = found
    return found  # type: ignore[no-any-return]


class MlopsConstruct(engine.Construct):
    """Base of the library's constructs. Subclasses set ``props_type``."""

    props_type: ClassVar[type[Model]] = Model
    #: What the cloud-specific props add, for the wrong-props error (e.g. "project and location").
    props_hint: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:
            cls.__init__ = _placing_errors(init)  # type: ignore[method-assign]

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
            raise ConstructTypeError(
                self.node.path,
                f"props must be {expected.__module__}.{expected.__qualname__}{hint}, "
                f"got {got.__module__}.{got.__qualname__}",
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


def _placing_errors(init: Callable[..., None]) -> Callable[..., None]:
    """``init`` that gives a :class:`ConstructError` raised without a path the path of the construct."""

    @functools.wraps(init)
    def wrapped(self: engine.Construct, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except ConstructError as err:
            if err.path is None:
                try:
                    err.path = self.node.path
                except Exception:  # the engine construct does not exist yet
                    pass
            raise

    return wrapped


def grant_training(
    principal: Any,
    *,
    data: Any = None,
    artifacts: Any = None,
    containers: Any = None,
    models: Any = None,
    tracking: Any = None,
    features: Any = None,
    **options: Any,
) -> None:
    """The training identity's grants, the same on every cloud, and nothing more.

    Read the ``data`` store, write the ``artifacts`` store, pull images from ``containers``,
    register model versions in ``models`` (pending approval), use ``tracking`` and read its SaaS
    tracker secrets (none when it has no trackers), read ``features``. Each is skipped when
    ``None``. ``options`` go to every ``grant_*`` call (Azure: ``principal_type``; GCP: ``id``).
    """
    if data is not None:
        data.grant_read(principal, **options)
    if artifacts is not None:
        artifacts.grant_write(principal, **options)
    if containers is not None:
        containers.grant_pull(principal, **options)
    if models is not None:
        models.grant_write(principal, **options)
    if tracking is not None:
        tracking.grant_access(principal, **options)
        tracking.grant_secret_read(principal, **options)
    if features is not None:
        features.grant_read(principal, **options)
