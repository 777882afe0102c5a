"""The price catalogue: ``prices.csv`` in this package, overridden row by row by a user's file.

A row prices one SKU (``key``) in one region (``global`` when the price is the same everywhere),
and says where the figure came from (``source``, ``source_title``, ``source_date``), when it was
read (``date_read``) and how (``how_obtained``). A lookup that finds no row is *unpriced*: the
caller reports the quantity and never prices it as 0. A row for ``us-east-1`` never prices
``us-west-2``: add a row (``--prices FILE``) for the regions you deploy to.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

from ...core.errors import MlopsError

__all__ = ["COLUMNS", "Catalogue", "PriceError", "PriceRow", "load_catalogue"]

#: The columns of a catalogue file (CSV header, or the keys of each JSON object).
COLUMNS = ("key", "region", "price", "unit", "currency", "source", "source_title", "source_date",
           "date_read", "how_obtained", "note")
_REQUIRED = ("key", "region", "price", "unit", "currency", "source", "date_read", "how_obtained")


class PriceError(MlopsError):
    """A price file that cannot be used (missing column, non-numeric price, no source or date)."""


@dataclass(frozen=True)
class PriceRow:
    """One price: ``price`` ``currency`` per ``unit`` of SKU ``key`` in ``region``."""

    key: str
    region: str
    price: float
    unit: str
    currency: str
    source: str
    source_title: str = ""
    source_date: str = ""
    date_read: str = ""
    how_obtained: str = ""
    note: str = ""
    origin: str = "catalogue"

    def cite(self) -> str:
        """One line naming the figure's source and when it was read."""
        title = f"{self.source_title}, " if self.source_title else ""
        dated = f"source dated {self.source_date}, " if self.source_date else ""
        return f"{title}{self.source} ({dated}read {self.date_read}; {self.how_obtained})"


def _rows(text: str, origin: str, where: str) -> list[PriceRow]:
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        data = json.loads(text)
        raw = data.get("prices", []) if isinstance(data, dict) else data
    else:
        raw = list(csv.DictReader(io.StringIO(text)))
    rows = []
    for n, item in enumerate(raw, start=2 if not stripped.startswith(("[", "{")) else 1):
        missing = [c for c in _REQUIRED if not str(item.get(c) or "").strip()]
        if missing:
            raise PriceError(f"{where}: row {n} ({item.get('key') or '?'}): missing {', '.join(missing)}; "
                             "every price needs a key, region, price, unit, currency, source, date_read and how_obtained")
        unknown = sorted(set(item) - set(COLUMNS))
        if unknown:
            raise PriceError(f"{where}: row {n}: unknown column(s) {', '.join(unknown)}; columns are {', '.join(COLUMNS)}")
        try:
            price = float(item["price"])
        except (TypeError, ValueError):
            raise PriceError(f"{where}: row {n} ({item['key']}): price {item['price']!r} is not a number") from None
        if price < 0:
            raise PriceError(f"{where}: row {n} ({item['key']}): price {price} is negative")
        values = {c: str(item.get(c) or "").strip() for c in COLUMNS if c != "price"}
        rows.append(PriceRow(price=price, origin=origin, **values))
    return rows


@dataclass(frozen=True)
class Catalogue:
    """Price rows by ``(key, region)``: the package's rows with a user's file laid over them."""

    rows: dict[tuple[str, str], PriceRow]

    def lookup(self, key: str, region: str) -> PriceRow | None:
        """The row of ``key`` in ``region``, else its ``global`` row, else None (unpriced)."""
        return self.rows.get((key, region)) or self.rows.get((key, "global"))

    def regions_of(self, key: str) -> list[str]:
        """The regions ``key`` has a price for (to say what *is* known when a region is not)."""
        return sorted(r for k, r in self.rows if k == key)

    def as_dicts(self) -> list[dict[str, object]]:
        """Every row as a dict, sorted by key and region."""
        out = []
        for _, row in sorted(self.rows.items()):
            out.append({f.name: getattr(row, f.name) for f in fields(row)})
        return out


def load_catalogue(override: str | Path | None = None) -> Catalogue:
    """The packaged catalogue, with the rows of ``override`` (CSV or JSON) replacing or adding rows."""
    text = resources.files(__package__).joinpath("prices.csv").read_text(encoding="utf-8")
    rows = {(r.key, r.region): r for r in _rows(text, "catalogue", "prices.csv")}
    if override is not None:
        path = Path(override)
        try:
            extra = _rows(path.read_text(encoding="utf-8"), f"override:{path.name}", str(path))
        except json.JSONDecodeError as exc:
            raise PriceError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); use CSV or JSON") from None
        rows.update({(r.key, r.region): r for r in extra})
    return Catalogue(rows)
