"""Errors raised by the library. Each message names the field or construct path and what to change."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

__all__ = [
    "ConstructError",
    "MlopsError",
    "PropsError",
    "SchemaValidationError",
    "SpecError",
    "SynthError",
]


class MlopsError(Exception):
    """Base class of every error this library raises on purpose (the CLI prints it without a traceback)."""


class SpecError(MlopsError):
    """A platform spec file is missing, unreadable or invalid."""


class SynthError(MlopsError):
    """Synthesis failed; earlier output was left untouched."""


class SchemaValidationError(SynthError):
    """One or more blocks do not match the bundled provider schemas or REST definitions (azapi bodies,
    Vertex AI calls in Workflows)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        head = (
            f"{len(problems)} problem(s) against the provider schemas and REST definitions; nothing was written:"
        )
        super().__init__("\n".join([head, *(f"  - {p}" for p in problems)]))


class ConstructError(MlopsError, ValueError):
    """A construct's props or arguments break one of its rules: ``<construct path>: <prop>: <what to change>``.

    ``path`` is the construct path (``None`` until known: an error raised while a construct is being
    built gets the path of that construct); ``problems`` holds one ``(prop, message)`` pair per
    problem, ``prop`` being ``None`` when the problem is about the construct as a whole. It is also
    a ``ValueError``, so code that caught the ``ValueError`` constructs used to raise still works.
    """

    path: str | None
    problems: tuple[tuple[str | None, str], ...]

    def __init__(self, path: str | None, message: str, *, prop: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.problems = ((prop, message),)

    def __str__(self) -> str:
        return "\n".join(
            ": ".join(part for part in (self.path, prop, message) if part) for prop, message in self.problems
        )


class ConstructTypeError(ConstructError, TypeError):
    """A construct got an argument of the wrong type (e.g. another cloud's ``Network``); also a ``TypeError``."""


class PropsError(ConstructError, ValidationError):
    """Props that fail validation: one problem per invalid field, named ``<PropsClass>.<field>``.

    Raised when a props model (``DataStoreProps(...)``) is built in Python. It is also a pydantic
    ``ValidationError`` (``errors()`` lists the problems), so existing handlers keep working.
    ``props_type`` is the props class.
    """

    props_type: type

    def __init__(self, *_args: Any) -> None:
        # pydantic's from_exception_data calls cls(title, errors, ...); `of` fills in the rest.
        self.path, self.problems = None, ()

    @classmethod
    def of(cls, props_type: type, err: ValidationError, path: str | None = None) -> "PropsError":
        """The ``PropsError`` for ``err``, raised while validating ``props_type``."""
        new = cls.from_exception_data(err.title, [_line_error(e) for e in err.errors()])
        new.path = path
        new.props_type = props_type
        new.problems = tuple((f"{props_type.__name__}{_loc(e['loc'])}", _message(e, props_type)) for e in err.errors())
        return new


def _line_error(error: Any) -> Any:
    """One of ``err.errors()`` as pydantic takes it back; a custom error type as a custom error."""
    entry = {k: v for k, v in error.items() if k in ("type", "loc", "input", "ctx")}
    try:
        ValidationError.from_exception_data("check", [entry])
    except Exception:  # a type pydantic does not know (PydanticCustomError) or a context it wants
        entry = {"type": PydanticCustomError(str(error["type"]), str(error["msg"])), "loc": error["loc"],
                 "input": error.get("input")}
    return entry


def _loc(loc: tuple[int | str, ...]) -> str:
    """``('pools', 0, 'name')`` -> ``.pools[0].name``, the way the spec's messages write positions."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def _message(error: Any, props_type: type) -> str:
    """pydantic's message for one problem, with what to change where pydantic does not say it."""
    kind, msg = error["type"], str(error["msg"])
    if kind == "extra_forbidden":
        return f"{msg}: unknown field; check the spelling against {props_type.__name__}'s fields"
    if kind == "missing":
        return "required field is missing"
    return msg[len("Value error, ") :] if msg.startswith("Value error, ") else msg
