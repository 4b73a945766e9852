"""Which generator a column gets when all an importer knows is its table, its name, its type and
its constraints — so an imported schema makes data that looks real at once.

``infer_generator(table, column, dtype, …)`` is a pure function (no database, no SQL parser):
every importer (SQL DDL, a live database, a peer's spec) calls it with what it learned and
writes the result, with the reason, into the schema it produces. The rules, first match wins:

1. ``allowed`` values (an enum, ``CHECK … IN``): ``choice`` over them, a default value weighted up;
2. a numeric identity / serial / autoincrement, or a single-column numeric key: ``sequence``;
3. a member of a composite key or unique group: a generator with a finite, indexable domain
   (``uniform_int``, a fixed-length ``regex``, ``uniform_date``), which the planner makes unique;
4. ``uuid``: ``uuid4``; JSON text: a few JSON objects; a text key: ``uuid4`` or a ``{_row}`` code;
5. names (``NAME_RULES``): e-mail, first/last name, phone, city, country, status, currency …;
   ``*_at`` / ``*_date`` after a sibling (``updated_at`` after ``created_at``): an ``expr``;
   amounts and prices: ``lognormal``; quantities: ``poisson``; ages, ratings, percentages,
   coordinates, years: their ranges; ``*_id`` without a declared reference: ``uniform_int``;
6. otherwise the DSL's own default for the type (``shared.schema_dsl.defaults.choose``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.model.types import parse_type
from shared.schema_dsl import defaults

__all__ = ["Inference", "infer_generator", "words_of"]


@dataclass(frozen=True)
class Inference:
    """A generator spec (``{type, params}``) and why it was chosen, in words."""

    generator: dict[str, Any]
    reason: str


def words_of(name: str) -> tuple[str, ...]:
    """A name's words, lower case, camelCase and snake_case alike, plural ``s`` dropped."""
    return defaults._words(name)


#: tables whose rows are people: their ``name`` is a person's name
PERSON_TABLES = {"customer", "user", "employee", "person", "people", "contact", "member", "author", "student",
                 "patient", "staff", "driver", "owner", "client", "subscriber", "account", "agent", "teacher",
                 "manager", "passenger", "guest", "player", "buyer", "seller", "rep", "worker", "applicant"}
#: tables whose rows are organisations: their ``name`` is a company
ORG_TABLES = {"company", "supplier", "vendor", "organization", "organisation", "org", "merchant", "partner",
              "carrier", "manufacturer", "brand", "publisher", "bank", "tenant", "shipper", "warehouse"}
#: later time → the sibling it follows (first present wins)
TIME_ORDER = {
    ("updated", "at"): ("created_at", "inserted_at"), ("modified", "at"): ("created_at",),
    ("last", "modified"): ("created_at",), ("updated", "on"): ("created_on",), ("modified", "on"): ("created_on",),
    ("updated",): ("created",), ("modified",): ("created",),
    ("end", "date"): ("start_date", "begin_date"), ("ends", "at"): ("starts_at",), ("ended", "at"): ("started_at",),
    ("end", "time"): ("start_time",), ("finished", "at"): ("started_at",), ("completed", "at"): ("started_at",
                                                                                                    "created_at"),
    ("shipped", "at"): ("ordered_at", "placed_at", "created_at"), ("ship", "date"): ("order_date",),
    ("shipped", "date"): ("order_date",), ("delivered", "at"): ("shipped_at",),
    ("delivery", "date"): ("ship_date", "shipped_date", "order_date"),
    ("paid", "at"): ("created_at", "ordered_at", "placed_at"), ("closed", "at"): ("opened_at", "created_at"),
    ("resolved", "at"): ("opened_at", "created_at"), ("expires", "at"): ("created_at", "issued_at"),
    ("due", "date"): ("invoice_date", "issue_date", "issued_date"), ("return", "date"): ("checkout_date",),
    ("check", "out"): ("check_in",), ("checkout", "date"): ("checkin_date",), ("last", "login"): ("created_at",),
}
STATUS_VALUES = {
    "order": ["pending", "paid", "shipped", "delivered", "cancelled", "returned"],
    "payment": ["pending", "authorized", "captured", "failed", "refunded"],
    "invoice": ["draft", "open", "paid", "void", "overdue"],
    "shipment": ["label_created", "in_transit", "delivered", "exception"],
    "ticket": ["open", "pending", "resolved", "closed"],
    "": ["active", "inactive", "pending", "suspended"],
}
STATUS_WEIGHTS = {4: [70, 15, 10, 5], 5: [40, 25, 20, 10, 5], 6: [10, 20, 25, 35, 7, 3]}
AMOUNT_WORDS = {"amount", "price", "total", "cost", "balance", "salary", "fee", "revenue", "subtotal", "tax",
                "discount", "payment", "budget", "value", "charge", "wage", "income", "spend", "freight", "msrp",
                "credit", "debit", "premium", "commission"}
QUANTITY_WORDS = {"quantity", "qty", "count", "units", "items", "seats", "stock", "copies", "visits", "attempts"}
#: a fixed-length text key where a short code fits: name word → pattern
CODE_PATTERNS = {"sku": "[A-Z]{3}-[0-9]{5}", "code": "[A-Z]{2}[0-9]{4}", "isbn": "97[89][0-9]{10}",
                 "vin": "[A-HJ-NPR-Z0-9]{17}", "iso": "[A-Z]{2}", "zip": "[0-9]{5}", "postcode": "[0-9]{5}"}
#: small pools for name-like members of a composite key (a choice has an indexable domain)
POOLS = {
    "first_name": ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
                   "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
                   "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra",
                   "Paul", "Ashley", "Steven", "Emily", "Andrew", "Donna", "Joshua", "Michelle", "Kevin", "Carol",
                   "Brian", "Amanda"],
    "last_name": ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
                  "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
                  "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez",
                  "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
                  "Hill", "Flores"],
}
JSON_VALUES = ['{"source": "web", "tags": ["new"]}', '{"source": "app", "tags": []}', '{"source": "import"}', "{}"]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def infer_generator(table: str, column: str, dtype: str, *, max_length: int | None = None,
                    nullable: bool = False, unique: bool = False, primary_key: bool = False,
                    composite_key: bool = False, identity: tuple[int, int] | None = None,
                    allowed: Sequence[Any] | None = None, min: Any = None, max: Any = None,  # noqa: A002
                    default: Any = None, json_text: bool = False,
                    siblings: Mapping[str, str] | None = None) -> Inference:
    """The generator of column ``column`` (DSL type ``dtype``) of table ``table``, and why.

    ``primary_key``: the table's single-column key; ``composite_key``: a member of a composite
    primary key or unique group (its generator must have an indexable domain); ``identity``:
    (start, step) of an identity / serial / autoincrement column; ``default``: the SQL default
    as a Python value, ``"now"`` for the current time; ``json_text``: a string column that holds
    JSON; ``siblings``: the table's other columns (name → DSL type), for time ordering."""
    t = parse_type(dtype)
    kind = t.kind
    words = words_of(column)
    last = words[-1] if words else ""
    siblings = siblings or {}
    if allowed:
        values = list(allowed)
        params: dict[str, Any] = {"values": values}
        if default is not None and default in values and len(values) > 1:
            params["weights"] = [len(values) if v == default else 1 for v in values]
            return Inference({"type": "choice", "params": params}, f"its allowed values, the default {default!r} "
                             "most often")
        return Inference({"type": "choice", "params": params}, "its allowed values")
    if kind in ("int", "decimal") and identity is not None:
        start, step = identity
        return Inference({"type": "sequence", "params": {"start": start, "step": step}},
                         f"an identity column (start {start}, step {step})")
    if kind in ("int", "decimal", "float") and (primary_key or (unique and not composite_key)):
        return Inference({"type": "sequence", "params": {"start": 1}}, "a numeric key")
    if composite_key:
        got = _indexable(column, words, kind, max_length, min, max)
        if got is not None:
            return got
    if kind == "uuid":
        return Inference({"type": "uuid4", "params": {}}, "a uuid column")
    if kind == "string":
        return _text(table, column, words, last, max_length, unique or primary_key, json_text, default)
    if kind == "bool":
        return _bool(words, default)
    if kind in ("date", "timestamp"):
        return _time(column, words, kind, siblings, min, max, default)
    if kind in ("int", "decimal", "float"):
        got = _number(table, words, last, t, min, max)
        if got is not None:
            return got
    gen, why = defaults.choose({"name": column, "min": min, "max": max}, t, key=primary_key or unique,
                               anchor_us=0)
    return Inference(gen, why)


def _indexable(column: str, words: tuple[str, ...], kind: str, max_length: int | None, lo: Any,
               hi: Any) -> Inference | None:
    why = "part of a composite key: a finite domain the planner makes unique"
    if kind == "int":
        lo_i = int(lo) if isinstance(lo, (int, float)) else 1
        small = bool(words) and words[-1] in ("no", "num", "number", "line", "seq", "position", "rank", "version")
        hi_i = int(hi) if isinstance(hi, (int, float)) else lo_i + (999 if small else 999_999)
        return Inference({"type": "uniform_int", "params": {"min": lo_i, "max": hi_i}}, why)
    if kind == "string":
        provider = defaults.provider_for(column)
        if provider in POOLS:
            return Inference({"type": "choice", "params": {"values": POOLS[provider]}},
                             f"part of a composite key: a pool of {len(POOLS[provider])} {provider}s")
        n = min(max_length or 10, 10)
        return Inference({"type": "regex", "params": {"pattern": f"[A-Z0-9]{{{n}}}"}}, why)
    if kind == "date":
        return Inference({"type": "uniform_date", "params": {"start": "2020-01-01", "end": "2024-12-31"}}, why)
    return None


def _text(table: str, column: str, words: tuple[str, ...], last: str, max_length: int | None, key: bool,
          json_text: bool, default: Any) -> Inference:
    if json_text:
        return Inference({"type": "choice", "params": {"values": JSON_VALUES}}, "JSON text: a few small objects")
    twords = words_of(table)
    provider = defaults.provider_for(column)
    if provider == "name" and words in (("name",), ("title",)):
        if twords and twords[-1] in ORG_TABLES:
            provider = "company"
        elif not (twords and twords[-1] in PERSON_TABLES):
            provider = None  # a product's or a category's name: words below
    if last in ("status", "statu") or last == "state" and provider is None:
        topic = next((k for k in STATUS_VALUES if k and (k in twords or k in words)), "")
        values = list(STATUS_VALUES[topic])
        if isinstance(default, str) and default not in values:
            values = [default, *values[:-1]]
        if isinstance(default, str):
            values.remove(default)
            values.insert(0, default)
        return Inference({"type": "choice", "params": {"values": values,
                                                       "weights": STATUS_WEIGHTS[len(values)]}},
                         "a status: typical values, the first most common")
    if last in ("gender", "sex"):
        values = ["F", "M", "X"] if max_length == 1 else ["female", "male", "non-binary"]
        return Inference({"type": "choice", "params": {"values": values, "weights": [49, 49, 2]}}, "a gender")
    if key:
        if provider in ("email", "user_name", "name", "city", "company", "street_address"):
            return Inference({"type": "faker", "params": {"provider": provider}},
                             f"its name ({provider}); unique Faker values")
        for word, pattern in CODE_PATTERNS.items():
            if word in words and (max_length is None or _fixed_len(pattern) <= max_length):
                return Inference({"type": "regex", "params": {"pattern": pattern}}, f"a unique code ({word})")
        if max_length is None or max_length >= 36:
            return Inference({"type": "uuid4", "params": {}}, "a text key: uuid text")
        n = max(1, min(max_length, 12))
        return Inference({"type": "regex", "params": {"pattern": f"[A-Z0-9]{{{n}}}"}},
                         f"a text key of at most {max_length} characters")
    if provider == "country_code" or (last == "country" and max_length in (2, 3)):
        return Inference({"type": "faker", "params": {"provider": "country_code"}}, "a country code")
    if provider == "currency_code" or (last == "currency" and max_length == 3):
        return Inference({"type": "choice", "params": {"values": ["USD", "EUR", "GBP", "JPY", "CAD"],
                                                       "weights": [55, 25, 10, 5, 5]}}, "a currency code")
    if provider is not None:
        return Inference({"type": "faker", "params": {"provider": provider}}, f"its name ({provider})")
    for word, pattern in CODE_PATTERNS.items():
        if word in words and (max_length is None or _fixed_len(pattern) <= max_length):
            return Inference({"type": "regex", "params": {"pattern": pattern}}, f"a code ({word})")
    if last in ("password", "hash", "token", "secret", "digest", "checksum"):
        n = 64 if max_length is None else max(1, min(max_length, 64))
        return Inference({"type": "regex", "params": {"pattern": f"[0-9a-f]{{{n}}}"}}, "a hash: hex digits")
    if last in ("type", "category", "kind", "channel", "source", "segment", "tier", "plan", "level", "priority"):
        found: list[str] | None = {"priority": ["low", "medium", "high", "urgent"], "tier": ["free", "plus", "pro"],
                  "plan": ["basic", "standard", "premium"], "level": ["junior", "mid", "senior"],
                  "channel": ["web", "mobile", "store", "phone"], "source": ["organic", "ads", "referral",
                                                                            "email"]}.get(last)
        if found is None:
            stem = (words[-2] if len(words) > 1 else (twords[-1] if twords else last))
            found = [f"{stem}_{c}" for c in ("a", "b", "c", "d")]
        return Inference({"type": "choice", "params": {"values": found}}, f"a category ({last})")
    if words in (("name",), ("title",)) or last in ("title", "label", "headline", "subject"):
        return Inference({"type": "words", "params": {"min": 1, "max": 3}}, "a short title")
    if last in ("text", "body", "content", "message", "summary", "bio", "detail", "details"):
        return Inference({"type": "faker", "params": {"provider": "sentence"}}, "free text")
    return Inference({"type": "words", "params": {"min": 1, "max": 3}}, "text")


def _fixed_len(pattern: str) -> int:
    n = 0
    for m in re.finditer(r"(\[[^\]]*\]|.)(\{(\d+)\})?", pattern):
        n += int(m[3]) if m[3] else 1
    return n


def _bool(words: tuple[str, ...], default: Any) -> Inference:
    p = 0.5
    text = " ".join(words)
    if isinstance(default, bool):
        p = 0.9 if default else 0.1
    elif any(w in text for w in ("deleted", "archived", "banned", "blocked", "fraud", "test", "suspended")):
        p = 0.05
    elif any(w in text for w in ("active", "enabled", "verified", "visible", "available", "valid")):
        p = 0.85
    why = "a flag" + (f" (default {default})" if isinstance(default, bool) else "")
    return Inference({"type": "bernoulli", "params": {"p": p}}, why)


def _time(column: str, words: tuple[str, ...], kind: str, siblings: Mapping[str, str], lo: Any, hi: Any,
          default: Any) -> Inference:
    gen = "uniform_date" if kind == "date" else "uniform_timestamp"
    if lo is None and hi is None:
        for n in (2, 1):
            partners = TIME_ORDER.get(words[-n:]) if len(words) >= n else None
            for p in partners or ():
                match = next((s for s in siblings if s.lower() == p and s != column), None)
                if match is not None and parse_type(siblings[match]).kind == kind:
                    span = "days(exponential(7))" if kind == "date" else "hours(exponential(72))"
                    return Inference({"type": "expr", "params": {"expr": f"{match} + {span}"}},
                                     f"after {match}")
        if any(w in words for w in ("birth", "dob", "born", "birthday")):
            return Inference({"type": gen, "params": {"start": "1945-01-01", "end": "2006-12-31"}}, "a birth date")
        if any(w in words for w in ("expire", "expiry", "expires", "expiration", "due", "valid")):
            return Inference({"type": gen, "params": {"start": "2025-01-01", "end": "2027-12-31"}}, "a future date")
        why = "a recent time" + (" (defaults to now)" if default == "now" else "")
        return Inference({"type": gen, "params": {"start": "2022-01-01", "end": "2024-12-31"}}, why)
    start = lo if lo is not None else _shift(hi, -1095)
    end = hi if hi is not None else _shift(lo, 1095)
    return Inference({"type": gen, "params": {"start": start, "end": end}}, "a time in its range")


def _shift(value: Any, days: int) -> Any:
    import datetime as dt

    if isinstance(value, str) and _ISO_DATE.match(value):
        day = dt.date.fromisoformat(value[:10]) + dt.timedelta(days=days)
        return day.isoformat()
    return f"{days:+d}d"


def _number(table: str, words: tuple[str, ...], last: str, t: Any, lo: Any, hi: Any) -> Inference | None:
    kind = t.kind
    num = (int, float)
    lo_n = lo if isinstance(lo, num) and not isinstance(lo, bool) else None
    hi_n = hi if isinstance(hi, num) and not isinstance(hi, bool) else None
    held = t.exact_range()
    top = float(held[1]) if held is not None else math.inf
    bottom = float(held[0]) if held is not None else -math.inf

    def uniform(a: float, b: float, why: str) -> Inference:
        a, b = max(a, bottom), min(b, top)
        if lo_n is not None:
            a = max(a, lo_n)
        if hi_n is not None:
            b = min(b, hi_n)
        if b < a:
            a, b = (lo_n if lo_n is not None else b), (hi_n if hi_n is not None else a)
        if kind == "int":
            return Inference({"type": "uniform_int", "params": {"min": math.ceil(a), "max": math.floor(b)}}, why)
        return Inference({"type": "uniform_float", "params": {"min": a, "max": b}}, why)

    text = set(words)
    if lo_n is not None and hi_n is not None and not (text & QUANTITY_WORDS):
        return uniform(lo_n, hi_n, "a number in its CHECK range")
    if last == "id" or (words and words[-1] == "id") or last.endswith("id") and len(words) > 1:
        return uniform(1, 100_000, "an id without a declared reference")
    if text & AMOUNT_WORDS and kind != "int" or text & {"price", "amount", "salary"}:
        if "salary" in text or "income" in text or "wage" in text:
            return Inference({"type": "lognormal", "params": {"mean": 11.0, "sigma": 0.4}},
                             "a salary: right-skewed, median ≈ 60,000")
        if "price" in text or "msrp" in text or "cost" in text or "fee" in text:
            return Inference({"type": "lognormal", "params": {"mean": 3.0, "sigma": 1.0}},
                             "a price: right-skewed, median ≈ 20")
        return Inference({"type": "lognormal", "params": {"mean": 4.0, "sigma": 1.2}},
                         "an amount: right-skewed, median ≈ 55")
    if text & QUANTITY_WORDS:
        return Inference({"type": "poisson", "params": {"lam": 2, "shift": 1}}, "a count: small, at least 1")
    if last == "age":
        return uniform(18, 90, "an age")
    if last in ("rating", "stars", "score") and kind == "int":
        return uniform(1, 5, "a rating 1–5")
    if last in ("percent", "pct", "percentage"):
        return uniform(0, 100, "a percentage")
    if last in ("rate", "ratio", "probability", "share"):
        return uniform(0, 1, "a rate in [0, 1]")
    if last in ("lat", "latitude"):
        return uniform(-90, 90, "a latitude")
    if last in ("lon", "lng", "long", "longitude"):
        return uniform(-180, 180, "a longitude")
    if last == "year":
        return uniform(1990, 2025, "a year")
    if last in ("month",):
        return uniform(1, 12, "a month")
    if last in ("weight", "height", "length", "width", "depth", "size", "duration", "distance"):
        return uniform(1, 500, f"a {last}")
    if kind == "int" and (last in ("version", "position", "rank", "sort", "order", "priority", "level")):
        return uniform(1, 10, f"a small {last}")
    return None
