"""A generator for a column that names none, chosen from its type, its name and its constraints.

Users of tools that describe data by types alone (DW Simulator, DDL) write columns without a
generator; each gets the generator a person would pick, which ``describe`` shows (marked
"default") and a written ``generator`` replaces. In order, the first rule that applies:

1. ``allowed`` values: ``choice`` over them;
2. an integer, decimal or float column that is the primary key or ``unique``: ``sequence``;
3. a ``uuid`` column, or a string primary key or ``unique`` string without a name rule: ``uuid4``;
4. a string with a ``pattern``: ``regex`` with that pattern;
5. a string whose name says what it holds (``email``, ``first_name``, ``city``, ``phone`` …):
   that Faker provider (``NAME_RULES``); any other string: ``words``;
6. ``bool``: ``bernoulli`` (p = 0.5);
7. a number: ``uniform_int`` (int) or ``uniform_float`` inside ``min``/``max``; a missing bound
   is the other one ∓ 1,000, or 0 and 1,000 when neither is given (``DEFAULT_SPAN``);
8. a date or timestamp: uniform inside ``min``/``max``, by default the three years before the
   schema's anchor (``DEFAULT_WINDOW``).

A ``struct`` or ``list`` column gets the ``struct`` / ``list`` generator, which assembles it
from its fields or items (each of which gets a generator by these rules). Foreign keys are
never guessed: a reference is declared with ``fk``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from shared.model.types import DType

#: numbers without bounds: [0, DEFAULT_SPAN]; with one bound, DEFAULT_SPAN beyond it
DEFAULT_SPAN = 1000
#: dates and timestamps without bounds: from this long before the anchor up to the anchor
DEFAULT_WINDOW = "-1095d"
DEFAULT_WINDOW_DAYS = 1095

#: column names (split into words at ``_``, case and plural ``s`` ignored) → a Faker provider;
#: the longest match wins (``company_name`` is a company, not a person's name)
NAME_RULES: dict[tuple[str, ...], str] = {
    ("email",): "email", ("e", "mail"): "email", ("email", "address"): "email",
    ("first", "name"): "first_name", ("firstname",): "first_name", ("given", "name"): "first_name",
    ("last", "name"): "last_name", ("lastname",): "last_name", ("surname",): "last_name",
    ("family", "name"): "last_name",
    ("name",): "name", ("full", "name"): "name", ("customer", "name"): "name", ("contact", "name"): "name",
    ("user", "name"): "user_name", ("username",): "user_name", ("login",): "user_name",
    ("phone",): "phone_number", ("phone", "number"): "phone_number", ("mobile",): "phone_number",
    ("telephone",): "phone_number",
    ("city",): "city", ("country",): "country", ("country", "code"): "country_code",
    ("state",): "state", ("region",): "state",
    ("zip",): "postcode", ("zipcode",): "postcode", ("zip", "code"): "postcode", ("postcode",): "postcode",
    ("postal", "code"): "postcode",
    ("address",): "street_address", ("street",): "street_address", ("street", "address"): "street_address",
    ("address", "line"): "street_address",
    ("company",): "company", ("company", "name"): "company", ("employer",): "company",
    ("url",): "url", ("website",): "url", ("homepage",): "url",
    ("job",): "job", ("job", "title"): "job", ("occupation",): "job",
    ("description",): "sentence", ("comment",): "sentence", ("note",): "sentence", ("remark",): "sentence",
    ("currency",): "currency_code", ("currency", "code"): "currency_code",
    ("color",): "color_name", ("colour",): "color_name",
    ("ip",): "ipv4", ("ip", "address"): "ipv4", ("ipv4",): "ipv4",
    ("iban",): "iban", ("domain",): "domain_name",
}
_WORD = re.compile(r"[A-Za-z0-9]+")


def _words(name: str) -> tuple[str, ...]:
    # camelCase and snake_case alike: firstName, first_name, FirstName
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    words = (w.lower() for w in _WORD.findall(spaced))
    return tuple(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


def provider_for(name: str) -> str | None:
    """The Faker provider a column's name asks for: the longest rule that ends the name
    (``billing_email`` → email, ``company_name`` → company), or None."""
    words = _words(name)
    best: tuple[int, str] | None = None
    for rule, provider in NAME_RULES.items():
        n = len(rule)
        if words[-n:] == rule and (best is None or n > best[0]):
            best = (n, provider)
    return best[1] if best else None


def choose(column: dict[str, Any], dtype: DType, *, key: bool, anchor_us: int) -> tuple[dict[str, Any], str]:
    """The generator (``{type, params}``) for a column written without one, and why, in words.
    ``key``: the column is the table's single-column primary key or ``unique``."""
    kind = dtype.kind
    if dtype.is_nested:  # assembled from its fields or items, each with its own generator
        return {"type": kind, "params": {}}, f"a {kind} column"
    if column.get("allowed"):
        return {"type": "choice", "params": {"values": list(column["allowed"])}}, "its allowed values"
    if kind in ("int", "decimal", "float") and key:
        return {"type": "sequence", "params": {}}, "a numeric key"
    provider = provider_for(column["name"]) if kind == "string" else None
    if kind == "uuid" or (kind == "string" and key and provider is None):
        return {"type": "uuid4", "params": {}}, "a uuid column" if kind == "uuid" else "a text key"
    if kind == "string":
        if column.get("pattern"):
            return {"type": "regex", "params": {"pattern": column["pattern"]}}, "its pattern"
        if provider is not None:
            return {"type": "faker", "params": {"provider": provider}}, f"its name ({provider})"
        return {"type": "words", "params": {}}, "a text column"
    if kind == "bool":
        return {"type": "bernoulli", "params": {}}, "a bool column"
    if kind in ("int", "decimal", "float"):
        given = [column.get("min"), column.get("max")]
        if any(v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))) for v in given):
            return {"type": "uniform_float" if kind != "int" else "uniform_int", "params": {}}, \
                "a number in its range"  # the bound itself is refused where it is written
        lo_g: float | None = given[0]
        hi_g: float | None = given[1]
        lo = lo_g if lo_g is not None else (hi_g - DEFAULT_SPAN if hi_g is not None else 0)
        hi = hi_g if hi_g is not None else lo + DEFAULT_SPAN
        held = dtype.exact_range()  # inside what the type holds (a decimal(5,2) stops at 999.99)
        if held is not None:
            lo, hi = max(lo, float(held[0])), min(hi, float(held[1]))
        if kind == "int":
            lo_i, hi_i = math.ceil(lo), math.floor(hi)
            return {"type": "uniform_int", "params": {"min": lo_i, "max": hi_i}}, "a number in its range"
        return {"type": "uniform_float", "params": {"min": lo, "max": hi}}, "a number in its range"
    # date, timestamp: inside the column's own min/max (the generator falls back to them)
    return {"type": "uniform_date" if kind == "date" else "uniform_timestamp",
            "params": _window(column, kind, anchor_us)}, "a time in its window"


def _window(column: dict[str, Any], kind: str, anchor_us: int) -> dict[str, Any]:
    from shared.model import timeutil

    lo, hi = column.get("min"), column.get("max")
    if lo is None and hi is None:
        return {"start": DEFAULT_WINDOW, "end": "+0d"}
    if lo is not None and hi is not None:
        return {}
    try:
        if kind == "date":
            day = timeutil.parse_date(lo if lo is not None else hi)
            other = day + DEFAULT_WINDOW_DAYS if lo is not None else day - DEFAULT_WINDOW_DAYS
            return {"end" if lo is not None else "start": timeutil.format_date(other)}
        us = timeutil.parse_timestamp(lo if lo is not None else hi, anchor_us)
        step = DEFAULT_WINDOW_DAYS * timeutil.US_PER_DAY
        other = us + step if lo is not None else us - step
        other = min(max(other, timeutil.TIMESTAMP_MIN_US), timeutil.TIMESTAMP_MAX_US)
        return {"end" if lo is not None else "start": timeutil.format_timestamp(other)}
    except (ValueError, OverflowError):
        return {}  # the bound itself is refused where it is written
