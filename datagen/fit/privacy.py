"""PII detection, the per-column strategies, and k-anonymity for written categories.

Detection needs no download (no NLP model): each kind of PII has a **name rule** (the column
name's last words, ``NAME_RULES``) and, for text, a **content rule** measured on a fixed sample of
the non-null values (``SAMPLE`` at most) with ``pyarrow.compute``:

=========  ===================================================================================
kind       content rule
=========  ===================================================================================
email      ``local@domain.tld``
phone      digits in groups with separators or a leading ``+``/``(``, 7–15 digits in all
ssn        ``123-45-6789`` (US SSN-like ids)
card       13–19 digits (spaces or dashes allowed) passing the Luhn check (numpy, vectorised)
ip         IPv4 dotted quad, or IPv6 groups with colons
name       the first word a common first name or the last word a common last name (Faker's
           en_US lists, shipped with Faker), 1–4 words of letters
address    a house number, then words (``123 Main Street``)
dob        name only (``birth``, ``dob``, ``birthday``, ``born``) on dates, timestamps or text
=========  ===================================================================================

A column is PII when its name rule matches, or when ≥ ``CONTENT_SHARE`` of its sampled values
match a content rule (the kind with the largest share; ties in the table's order). Each finding
carries its evidence: the rule and the share of sampled values matching — never a value.

Strategies (``STRATEGIES``), per column, ``fake`` by default for a detected column:

* ``fake`` — a generator of the same kind (Faker in the schema's locale, so names, addresses and
  phones agree; a date of birth: uniform dates between whole years around the data's range);
* ``mask`` — the values' shapes as a ``regex`` (letters → ``[a-z]``/``[A-Z]``, digits →
  ``[0-9]``, punctuation kept): the format, no letter or digit of the data;
* ``hash`` — keyed tokens: HMAC-SHA256 (the key from the caller, ``--hmac-key-env VAR``) of
  each value, 16 hex digits; a value seen in ≥ k rows keeps its frequency as a token of a
  ``choice``, the rest is a ``regex`` of 16 hex digits;
* ``drop`` — the column is left out of the schema;
* ``keep`` — treated as any other column (explicit opt-in): categories still obey k-anonymity.

k-anonymity: :func:`k_anonymous` drops every category seen in fewer than k rows from a
``choice`` (the report counts the suppressed values and rows).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen.fit.formats import sample
from datagen.fit.infer import ColumnFacts
from shared.schema_dsl.defaults import _words

__all__ = ["Finding", "detect", "STRATEGIES", "KINDS", "k_anonymous", "hmac_token", "NAME_RULES", "PrivacyConfig"]

STRATEGIES = ("fake", "mask", "hash", "drop", "keep")
KINDS = ("email", "phone", "ssn", "card", "ip", "name", "address", "dob")
#: the more specific content rule wins a tie (an SSN also looks like a phone number)
PRIORITY = ("email", "ssn", "card", "ip", "phone", "address", "name")
CONTENT_SHARE = 0.8
SAMPLE = 1000

#: kind → name rules: tuples of words the column's name ends with
NAME_RULES: dict[str, tuple[tuple[str, ...], ...]] = {
    "email": (("email",), ("e", "mail"), ("mail",), ("email", "address")),
    "phone": (("phone",), ("phone", "number"), ("mobile",), ("telephone",), ("tel",), ("fax",), ("cell",),
              ("msisdn",)),
    "ssn": (("ssn",), ("social", "security", "number"), ("national", "id"), ("tax", "id"), ("tin",), ("sin",),
            ("passport",), ("passport", "number")),
    "card": (("card", "number"), ("credit", "card"), ("cc", "number"), ("pan",), ("card",), ("cc",)),
    "ip": (("ip",), ("ip", "address"), ("ipv4",), ("ipv6",), ("client", "ip")),
    "name": (("first", "name"), ("last", "name"), ("full", "name"), ("given", "name"), ("family", "name"),
             ("middle", "name"), ("surname",), ("firstname",), ("lastname",), ("customer", "name"),
             ("contact", "name"), ("person", "name"), ("user", "name"), ("maiden", "name")),
    "address": (("address",), ("street",), ("street", "address"), ("address", "line"), ("addr",),
                ("home", "address"), ("billing", "address"), ("shipping", "address")),
    "dob": (("birth",), ("dob",), ("birthday",), ("birthdate",), ("date", "of", "birth"), ("born",),
            ("birth", "date")),
}
_CONTENT: dict[str, str] = {
    "email": r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$",
    "ssn": r"^\d{3}-\d{2}-\d{4}$",
    "phone": r"^(\+?\d{1,3}[ .-]?)?(\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{2,4}([ .-]?\d{2,5}){1,3}( ?(x|ext\.?) ?\d{1,6})?$",
    "ip": r"^((\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7})$",
    "address": r"^\d{1,6}[A-Za-z]?\s+[A-Za-z][A-Za-z.'-]*(\s+[A-Za-z0-9.'#-]+)+",
}


@dataclass(frozen=True)
class PrivacyConfig:
    """What ``fit`` protects, in one object (``datagen.fit(…, privacy=PrivacyConfig(…))``):

    * ``strategies`` — ``{"table.column": strategy}`` or ``["table.column=strategy", …]``
      (``--privacy``);
    * ``epsilon`` — differential privacy: every released statistic goes through an OpenDP
      measurement and the total ε spent is at most this (``--epsilon``; None: no noise);
    * ``delta`` — the δ of (ε, δ)-DP, spent only on releasing text categories whose values are
      not known in advance (``--delta``; 0: pure ε-DP, such columns get no literal values);
    * ``bounds`` — public bounds ``{"table.column": (lo, hi)}`` (numbers, or ISO dates) used instead
      of spending budget on private quantiles (``--bounds TABLE.COLUMN=LO..HI``).
    """

    strategies: Any = None
    epsilon: float | None = None
    delta: float | None = None
    bounds: Any = None


@dataclass
class Finding:
    """A PII column: its kind, the strategy applied, and the evidence (rules and shares)."""

    table: str
    column: str
    kind: str
    strategy: str = "fake"
    evidence: list[dict[str, Any]] = field(default_factory=list)
    detected: bool = True  # False: the strategy was asked for a column not detected

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "column": self.column, "kind": self.kind, "strategy": self.strategy,
                "detected": self.detected, "evidence": self.evidence}

    def describe(self) -> str:
        ev = "; ".join(f"{e['rule']}" + (f" {e['share']:.0%} of {e['sampled']} sampled" if "share" in e else "")
                       for e in self.evidence) or "asked for"
        return f"PII ({self.kind}: {ev}) → {self.strategy}"


def _name_kind(column: str) -> str | None:
    words = _words(column)
    best: tuple[int, str] | None = None
    for kind, rules in NAME_RULES.items():
        for rule in rules:
            n = len(rule)
            if words[-n:] == rule and (best is None or n > best[0]):
                best = (n, kind)
    return best[1] if best else None


def _share(mask: pa.Array) -> float:
    return float(pc.mean(pc.cast(mask, pa.float64())).as_py() or 0.0) if len(mask) else 0.0


def luhn_valid(digits: pa.Array) -> np.ndarray:
    """Which strings are 13–19 digits passing the Luhn check — one numpy pass over a matrix."""
    n = len(digits)
    ok = pc.fill_null(pc.match_substring_regex(digits, r"^[0-9]{13,19}$"), False).to_numpy(zero_copy_only=False)
    if not ok.any():
        return np.zeros(n, bool)
    padded = pc.utf8_lpad(pc.if_else(pa.array(ok), digits, pa.scalar("0")), 19, "0")
    padded = pa.concat_arrays([padded])  # a fresh array: offsets from 0, 19 ASCII bytes each
    offsets = np.frombuffer(padded.buffers()[1], dtype=np.int32)[: n + 1]
    raw = np.frombuffer(padded.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    mat = raw.reshape(n, 19).astype(np.int64) - 48
    doubled = mat[:, -2::-2] * 2  # every second digit from the right, the check digit excluded
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    total = doubled.sum(axis=1) + mat[:, -1::-2].sum(axis=1)
    return ok & (total % 10 == 0)


def _first_last_names() -> tuple[pa.Array, pa.Array]:
    from faker.providers.person.en_US import Provider

    return pa.array(sorted(Provider.first_names)), pa.array(sorted(Provider.last_names))


def content_shares(values: pa.Array) -> dict[str, tuple[float, int]]:
    """kind → (share of the sampled values matching its content rule, sample size)."""
    s = sample(values, SAMPLE)
    n = len(s)
    if n == 0:
        return {}
    out = {kind: (_share(pc.match_substring_regex(s, regex)), n) for kind, regex in _CONTENT.items()}
    out["card"] = (float(luhn_valid(pc.replace_substring_regex(s, r"[ -]", "")).mean()), n)
    first, last = _first_last_names()
    wordy = pc.match_substring_regex(s, r"^[A-Za-z'.-]+( [A-Za-z'.-]+){0,3}$")
    parts = pc.utf8_split_whitespace(s)
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    flat = pc.list_flatten(parts)
    ends = np.cumsum(lengths) - 1
    starts = ends - lengths + 1
    empty = lengths == 0
    if len(flat) == 0:
        return out | {"name": (0.0, n)}
    firsts = flat.take(pa.array(np.where(empty, 0, starts)))
    lasts = flat.take(pa.array(np.where(empty, 0, ends)))
    named = pc.and_(pc.and_(wordy, pa.array(~empty)), pc.or_(pc.is_in(firsts, value_set=first), pc.is_in(lasts, value_set=last)))
    out["name"] = (_share(pc.fill_null(named, False)), n)
    return out


def detect(table: str, facts: ColumnFacts) -> Finding | None:
    """The PII finding of one column, or None (see the module docstring)."""
    if facts.kind == "bool":
        return None
    evidence: list[dict[str, Any]] = []
    by_name = _name_kind(facts.name)
    if by_name == "dob" and facts.kind not in ("date", "timestamp", "string"):
        by_name = None
    if by_name is not None:
        evidence.append({"rule": f"name:{by_name}", "words": list(_words(facts.name))})
    by_content: str | None = None
    if facts.dtype == "string" and len(facts.values):
        shares = content_shares(facts.values)
        ranked = sorted(((sh, -PRIORITY.index(kind), kind, n) for kind, (sh, n) in shares.items()), reverse=True)
        if ranked and ranked[0][0] >= CONTENT_SHARE:
            by_content = ranked[0][2]
        for sh, _r, kind, n in ranked:
            if sh >= CONTENT_SHARE or kind in (by_name, by_content):
                evidence.append({"rule": f"content:{kind}", "share": round(sh, 4), "sampled": n})
    chosen = by_content if by_content is not None and by_name in (None, "name", "address") and \
        by_content not in ("name",) else (by_name or by_content)
    if by_name == "name" and by_content == "address":
        chosen = "address"
    if chosen is None:
        return None
    return Finding(table, facts.name, chosen, evidence=evidence)


def hmac_token(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def k_anonymous(values: list[Any], counts: list[int], k: int) -> tuple[list[Any], list[int], int, int]:
    """The categories seen in ≥ k rows, their counts, and how many values / rows were suppressed."""
    kept = [(v, c) for v, c in zip(values, counts, strict=True) if c >= k]
    dropped_values = len(values) - len(kept)
    dropped_rows = sum(counts) - sum(c for _v, c in kept)
    return [v for v, _c in kept], [c for _v, c in kept], dropped_values, dropped_rows
