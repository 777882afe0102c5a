"""core.cron: the one cron parser the clouds' schedule converters read from."""

from __future__ import annotations

import pytest

from constructs_lib.core.cron import FIELDS, CronItem, parse_cron
from constructs_lib.core.errors import ConstructError


def test_items_are_parsed_with_names_as_numbers() -> None:
    cron = parse_cron("  0  8-18/2 1,15 JAN,jul mon-FRI ")
    assert cron.expression == "0 8-18/2 1,15 JAN,jul mon-FRI"
    assert cron.fields == (
        (CronItem(0),),
        (CronItem(8, 18, 2),),
        (CronItem(1), CronItem(15)),
        (CronItem(1), CronItem(7)),
        (CronItem(1, 5),),
    )


def test_wildcards_question_mark_and_steps() -> None:
    cron = parse_cron("*/15 * ? * *")
    assert cron.fields[0] == (CronItem(None, None, 15),) and cron.fields[0][0].wildcard
    assert cron.fields[2] == (CronItem(None),)
    assert not cron.restricted(2) and not cron.restricted(4) and cron.restricted(0)


def test_values_expand_every_item_form() -> None:
    cron = parse_cron("*/20 5/6 1-3,10 * 5-7")
    assert cron.values(0) == {0, 20, 40}
    assert cron.values(1) == {5, 11, 17, 23}  # a single value with a step runs to the top
    assert cron.values(2) == {1, 2, 3, 10}
    assert cron.values(3) == set(range(1, 13))
    assert cron.values(4) == {5, 6, 7}  # Sunday kept as written
    assert {v % 7 for v in cron.values(4)} == {5, 6, 0}


def test_fields_table() -> None:
    assert [f.name for f in FIELDS] == ["minute", "hour", "day-of-month", "month", "day-of-week"]
    assert (FIELDS[4].low, FIELDS[4].high) == (0, 7)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0 3 * *", "5-field"),
        ("0 3 L * *", "day-of-month 'L' uses a Quartz extension"),
        ("0 3 * * 1#2", "Quartz"),
        ("0 3 * * 5L", "Quartz"),
        ("60 3 * * *", "minute value 60 is outside 0-59"),
        ("0 24 * * *", "hour value 24 is outside 0-23"),
        ("0 3 0 * *", "day-of-month value 0 is outside 1-31"),
        ("0 3 * 13 *", "month value 13 is outside 1-12"),
        ("0 3 * * 8", "day-of-week value 8 is outside 0-7"),
        ("0 3 * * 5-2", "day-of-week range '5-2' runs backwards"),
        ("*/0 3 * * *", "minute step must be at least 1"),
        ("0 MON * * *", "hour value 'MON' is not a number"),
        ("0 3 * * 1-", "is not a cron value, range or step"),
    ],
)
def test_mistakes_name_the_expression_and_the_field(expr: str, message: str) -> None:
    with pytest.raises(ConstructError, match=message) as err:
        parse_cron(expr)
    assert err.value.path is None  # the construct that parses it adds its own path
    if "5-field" not in message:
        assert repr(" ".join(expr.split())) in str(err.value)
