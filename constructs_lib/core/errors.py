"""Errors raised by the library. Each message names the field or construct path and what to change."""

from __future__ import annotations

__all__ = ["MlopsError", "SchemaValidationError", "SpecError", "SynthError"]


class MlopsError(Exception):
    """Base class of every error this library raises on purpose (the CLI prints it without a traceback)."""


class SpecError(MlopsError):
    """A platform spec file is missing, unreadable or invalid."""


class SynthError(MlopsError):
    """Synthesis failed; earlier output was left untouched."""


class SchemaValidationError(SynthError):
    """One or more blocks do not match the bundled provider schema."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        head = f"{len(problems)} block(s) do not match the provider schema; nothing was written:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in problems)]))
