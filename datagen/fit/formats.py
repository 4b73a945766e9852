"""String formats: what kind of text a column holds, and the generator that writes text like it.

Rules, first match wins (on a fixed sample of the non-null values, vectorised with
``pyarrow.compute``):

1. **Known formats** by content (``CONTENT_FORMATS``: share of sampled values matching ≥ 90 %):
   e-mail, URL, UUID, IPv4 → the Faker provider / ``uuid4``;
2. **A name that says what it holds** (``shared.schema_dsl.defaults.provider_for``: ``city``,
   ``country``, ``company``, ``job`` …) → that Faker provider; ``name`` only in a table of people;
3. **Codes**: values without spaces, at most 32 characters, whose *shapes* — runs of upper-case
   letters, lower-case letters, digits, other characters kept as they are — are few (at most
   ``MAX_SHAPES`` shapes cover ≥ 95 % of the values, each shape seen in ≥ k rows) → a ``regex``:
   each run ``[A-Z]{m,n}`` with m..n the run's lengths in the data; a run that is the same text in
   every value of its shape (``N`` in ``N123AB``) stays a literal — only when ≥ k values share it;
4. **Free text** → ``words`` with the data's word count (5th..95th percentile).

:func:`shape_pattern` serves the ``mask`` privacy strategy too, with no letter or digit literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.schema_dsl.defaults import _words, provider_for

__all__ = ["Format", "infer_format", "shape_pattern", "CONTENT_FORMATS", "PERSON_TABLES"]

#: at most this many shapes make an alternation
MAX_SHAPES = 4
#: a sampled share at least this large decides a content format
CONTENT_SHARE = 0.9
SAMPLE = 2000

#: name → (regex on the whole value, generator)
CONTENT_FORMATS: dict[str, tuple[str, dict]] = {
    "email": (r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", {"type": "faker", "params": {"provider": "email"}}),
    "url": (r"^https?://[^\s]+$", {"type": "faker", "params": {"provider": "url"}}),
    "uuid": (r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
             {"type": "uuid4", "params": {}}),
    "ipv4": (r"^(\d{1,3}\.){3}\d{1,3}$", {"type": "faker", "params": {"provider": "ipv4"}}),
}
#: tables whose rows are people (their ``name`` is a person's name)
PERSON_TABLES = {"customer", "user", "employee", "person", "people", "contact", "member", "author", "student",
                 "patient", "staff", "driver", "owner", "client", "subscriber", "account", "passenger", "guest"}
#: placeholders of the shape text: one per character class
_UPPER, _LOWER, _DIGIT, _SPACE = "\x01", "\x02", "\x03", "\x04"
_CLASS = {_UPPER: ("[A-Z]", r"\p{Lu}+"), _LOWER: ("[a-z]", r"\p{Ll}+"), _DIGIT: ("[0-9]", r"[0-9]+"),
          _SPACE: (" ", r" +")}


@dataclass(frozen=True)
class Format:
    generator: dict
    reason: str
    coverage: float | None = None  # share of the values the generator's pattern covers


def sample(values: pa.Array, n: int = SAMPLE) -> pa.Array:
    """A fixed, evenly spaced sample (deterministic, no RNG needed)."""
    if len(values) <= n:
        return values
    idx = np.linspace(0, len(values) - 1, n).round().astype(np.int64)
    return values.take(pa.array(idx))


def _shapes(values: pa.Array) -> pa.Array:
    s = pc.replace_substring_regex(values, r"\p{Lu}+", _UPPER)
    s = pc.replace_substring_regex(s, r"\p{Ll}+", _LOWER)
    s = pc.replace_substring_regex(s, r"[0-9]+", _DIGIT)
    return pc.replace_substring_regex(s, r" +", _SPACE)


def _fmt_len(lo: int, hi: int) -> str:
    return f"{{{lo}}}" if lo == hi else f"{{{lo},{hi}}}"


def shape_pattern(values: pa.Array, k: int, *, literals: bool, min_coverage: float = 0.95) -> Format | None:
    """A regex for the values' shapes (see the module docstring), or None when too varied.
    ``literals``: runs that are the same text in ≥ k values of a shape stay literal."""
    if len(values) == 0:
        return None
    shapes = _shapes(values)
    counts = pc.value_counts(shapes)
    shape_of = counts.field("values").to_pylist()
    n_of = counts.field("counts").to_numpy()
    order = sorted(range(len(shape_of)), key=lambda i: (-int(n_of[i]), shape_of[i]))
    chosen: list[str] = []
    covered = 0
    for i in order[:MAX_SHAPES]:
        if n_of[i] < k:
            break
        chosen.append(shape_of[i])
        covered += int(n_of[i])
        if covered >= min_coverage * len(values):
            break
    coverage = covered / len(values)
    if not chosen or coverage < min_coverage:
        return None
    parts = []
    for shape in chosen:
        capture = "^" + "".join(f"(?P<g{j}>" + (_CLASS[ch][1] if ch in _CLASS else re.escape(ch)) + ")"
                                for j, ch in enumerate(shape)) + "$"
        these = values.filter(pc.equal(shapes, shape))
        groups = pc.extract_regex(these, capture)
        out = []
        for j, ch in enumerate(shape):
            run = groups.field(f"g{j}")
            lengths = pc.utf8_length(run)
            lo, hi = int(pc.min(lengths).as_py()), int(pc.max(lengths).as_py())
            if ch not in _CLASS:
                out.append(re.escape(ch) if ch not in "-@_:/,#" else ch)
            elif literals and ch != _SPACE and pc.count_distinct(run).as_py() == 1 and len(run) >= k:
                out.append(re.escape(run[0].as_py()))
            else:
                out.append(_CLASS[ch][0] + ("" if lo == hi == 1 else _fmt_len(lo, hi)))
        parts.append("".join(out))
    pattern = parts[0] if len(parts) == 1 else "(" + "|".join(parts) + ")"
    reason = f"{len(chosen)} shape{'s' if len(chosen) > 1 else ''} cover {coverage:.0%} of the sampled values"
    return Format({"type": "regex", "params": {"pattern": pattern}}, reason, coverage)


_POSITION_CLASSES = (("A-Z", r"^[A-Z]$", 26), ("a-z", r"^[a-z]$", 26), ("0-9", r"^[0-9]$", 10))


def fixed_width_pattern(values: pa.Array, k: int) -> Format | None:
    """For a text key: a fixed-length pattern at the most common length, each position the union
    of the classes seen there (``[0-9A-Z]{3}``), literal where one character is shared by ≥ k
    values; None when a position holds other characters or the length exceeds 32."""
    lengths = pc.utf8_length(values)
    counts = pc.value_counts(lengths)
    lens, ns = counts.field("values").to_pylist(), counts.field("counts").to_pylist()
    width = min(zip(lens, ns, strict=True), key=lambda t: (-t[1], t[0]))[0]
    if not 1 <= width <= 32:
        return None
    these = values.filter(pc.equal(lengths, width))
    parts: list[str] = []
    for j in range(width):
        ch = pc.utf8_slice_codeunits(these, j, j + 1)
        kinds = [name for name, regex, _n in _POSITION_CLASSES if pc.any(pc.match_substring_regex(ch, regex)).as_py()]
        covered = pc.sum(pc.cast(pc.match_substring_regex(ch, r"^[A-Za-z0-9]$"), pa.int64())).as_py()
        if covered != len(ch) or not kinds:
            return None
        if pc.count_distinct(ch).as_py() == 1 and len(ch) >= k:
            parts.append(ch[0].as_py())
        else:
            parts.append("[" + "".join(sorted(kinds, key=lambda n: n[0].isalpha())) + "]")
    out: list[str] = []
    for part in parts:  # runs of one class as {n}
        if out and out[-1].split("{")[0] == part and part.startswith("["):
            head, _, n = out[-1].partition("{")
            out[-1] = f"{head}{{{int(n.rstrip('}') or 1) + 1}}}"
        else:
            out.append(part)
    pattern = "".join(out)
    return Format({"type": "regex", "params": {"pattern": pattern}},
                  f"a text key of {width} characters (the most common length), each position's classes")


def is_fixed_length(pattern: str) -> bool:
    """A pattern without alternation or a ``{m,n}`` range (the regex generator's unique domain)."""
    return "|" not in pattern and not re.search(r"\{\d+,\d*\}|[*+?]", pattern.replace("\\?", ""))


def word_counts(values: pa.Array) -> tuple[int, int]:
    words = pc.list_value_length(pc.utf8_split_whitespace(values)).to_numpy(zero_copy_only=False)
    lo, hi = np.percentile(words, [5, 95]) if len(words) else (1, 3)
    return max(1, int(np.floor(lo))), max(1, int(np.ceil(hi)))


def infer_format(table: str, column: str, values: pa.Array, k: int, *, key: bool = False) -> Format:
    """The generator of a non-categorical text column (see the module docstring)."""
    s = sample(values)
    for name, (regex, gen) in CONTENT_FORMATS.items():
        share = pc.mean(pc.cast(pc.match_substring_regex(s, regex), pa.int8())).as_py() if len(s) else 0
        if share is not None and share >= CONTENT_SHARE:
            return Format(dict(gen), f"{share:.0%} of the sampled values look like {name}", share)
    provider = provider_for(column)
    if provider == "name" and _words(column) == ("name",):
        tw = _words(table)
        provider = "name" if tw and tw[-1] in PERSON_TABLES else None
    if provider is not None and provider not in ("sentence",):
        return Format({"type": "faker", "params": {"provider": provider}}, f"its name ({provider})")
    no_space = pc.all(pc.invert(pc.match_substring_regex(s, r"\s"))).as_py() if len(s) else False
    if no_space and (pc.max(pc.utf8_length(s)).as_py() or 0) <= 32:
        got = shape_pattern(s, k, literals=True)
        if got is not None and (not key or is_fixed_length(got.generator["params"]["pattern"])):
            return Format(got.generator, "a code: " + got.reason, got.coverage)
    if key:
        got = fixed_width_pattern(s, k)
        if got is not None:
            return got
        return Format({"type": "uuid4", "params": {}}, "a text key without one fixed shape")
    lo, hi = word_counts(s)
    return Format({"type": "words", "params": {"min": lo, "max": max(lo, hi)}},
                  f"free text of {lo}..{hi} words (5th..95th percentile)")
