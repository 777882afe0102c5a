"""Standard 5-field cron expressions (UTC), parsed once for every cloud's schedule syntax.

:func:`parse_cron` reads ``minute hour day-of-month month day-of-week`` into :class:`Cron`: per
field, its comma-separated items (``*``, a value, a range, each with an optional ``/step``), with
month and weekday names (``JAN``, ``MON``) turned into numbers and every value range-checked.
A cloud then writes the schedule in its own syntax from the parsed items (EventBridge
``cron(...)``, Azure ML NCRONTAB, Cloud Scheduler unix-cron) instead of parsing the text again.

Accepted: ``*``, ``n``, ``a-b``, ``*/s``, ``a-b/s``, ``n/s`` and lists of them; ``?`` as a whole
field means "any" (the AWS habit for one of the day fields). Day-of-week is 0-7 with both 0 and 7
Sunday; the 7 is kept as written (a cloud decides how to say Sunday). Quartz extensions (``L``,
``W``, ``#``) are refused: standard cron has no such thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .automation_props import cron_fields
from .errors import ConstructError

__all__ = ["FIELDS", "MONTHS", "WEEKDAYS", "Cron", "CronField", "CronItem", "parse_cron"]

MONTHS: tuple[str, ...] = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
"""Month names in cron order (``JAN`` = 1)."""
WEEKDAYS: tuple[str, ...] = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
"""Weekday names in cron order (``SUN`` = 0)."""


@dataclass(frozen=True)
class CronField:
    """One of the five fields: its name in messages, its value range and the names it accepts."""

    name: str
    low: int
    high: int
    #: Names accepted for values, in order; the first is ``low`` (weekday ``SUN`` = 0, ``JAN`` = 1).
    names: tuple[str, ...] = ()


FIELDS: tuple[CronField, ...] = (
    CronField("minute", 0, 59),
    CronField("hour", 0, 23),
    CronField("day-of-month", 1, 31),
    CronField("month", 1, 12, MONTHS),
    CronField("day-of-week", 0, 7, WEEKDAYS),
)
"""The five fields in expression order."""

_ITEM = re.compile(r"^(?P<base>\*|[A-Za-z0-9]+(-[A-Za-z0-9]+)?)(/(?P<step>\d+))?$")
_QUARTZ = re.compile(r"(^|[^A-Z])[LW]($|[^A-Z])")


@dataclass(frozen=True)
class CronItem:
    """One comma-separated item of a field.

    ``start`` is None for ``*`` (and ``?``); ``end`` is the last value of a range ``a-b`` (None for
    a single value or ``*``); ``step`` is the ``/s`` part (None without one).
    """

    start: int | None
    end: int | None = None
    step: int | None = None

    @property
    def wildcard(self) -> bool:
        """True for ``*`` / ``*/s`` (and ``?``)."""
        return self.start is None

    def values(self, field: CronField) -> range:
        """The values this item selects in ``field`` (a single value with a step runs to the top)."""
        first = field.low if self.start is None else self.start
        if self.end is not None:
            last = self.end
        elif self.start is None or self.step is not None:
            last = field.high
        else:
            last = self.start
        return range(first, last + 1, self.step or 1)


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression: ``fields[n]`` are the items of field ``n`` (see :data:`FIELDS`)."""

    expression: str
    fields: tuple[tuple[CronItem, ...], ...]

    def values(self, n: int) -> frozenset[int]:
        """Every value field ``n`` selects (day-of-week keeps 7 as written; use ``% 7`` for Sunday 0)."""
        return frozenset(v for item in self.fields[n] for v in item.values(FIELDS[n]))

    def restricted(self, n: int) -> bool:
        """Whether field ``n`` is anything but a plain ``*`` (or ``?``)."""
        items = self.fields[n]
        return not (len(items) == 1 and items[0].wildcard and items[0].step is None)


def parse_cron(expression: str) -> Cron:
    """Parse a standard 5-field cron expression (whitespace is normalised).

    Raises :class:`~.errors.ConstructError` (without a path; a construct adds its own) naming the
    expression, the field and what is wrong: not five fields, a Quartz extension, a value that is
    not a number or name, a value outside the field's range, a backwards range, a zero step.
    """
    text = " ".join(expression.split())
    fields = cron_fields(text)
    return Cron(text, tuple(_field(n, field, text) for n, field in enumerate(fields)))


def _field(n: int, text: str, expr: str) -> tuple[CronItem, ...]:
    if text == "?":
        return (CronItem(None),)
    return tuple(_item(n, item, expr) for item in text.split(","))


def _item(n: int, item: str, expr: str) -> CronItem:
    field = FIELDS[n]
    if "#" in item or _QUARTZ.search(item.upper()):
        raise ConstructError(
            None,
            f"{expr!r}: {field.name} {item!r} uses a Quartz extension (L, W, #) that standard "
            "cron does not support; list the days explicitly",
        )
    m = _ITEM.match(item)
    if m is None:
        raise ConstructError(None, f"{expr!r}: {field.name} {item!r} is not a cron value, range or step")
    base, step_text = m["base"], m["step"]
    step = int(step_text) if step_text is not None else None
    if step == 0:
        raise ConstructError(None, f"{expr!r}: {field.name} step must be at least 1")
    if base == "*":
        return CronItem(None, None, step)
    if "-" in base:
        a_text, b_text = base.split("-", 1)
        a, b = _value(field, a_text, expr), _value(field, b_text, expr)
        if a > b:
            raise ConstructError(None, f"{expr!r}: {field.name} range {item!r} runs backwards")
        return CronItem(a, b, step)
    return CronItem(_value(field, base, expr), None, step)


def _value(field: CronField, text: str, expr: str) -> int:
    upper = text.upper()
    if upper in field.names:
        return field.names.index(upper) + field.low
    if not text.isdigit():
        raise ConstructError(None, f"{expr!r}: {field.name} value {text!r} is not a number")
    number = int(text)
    if not field.low <= number <= field.high:
        raise ConstructError(None, f"{expr!r}: {field.name} value {number} is outside {field.low}-{field.high}")
    return number
