"""Fuzzing the ``regex`` generator.

(a) Patterns drawn from the documented subset (literals, escapes, classes, ``\\d \\w \\s .``,
    groups, alternation, ``? * + {m} {m,n} {m,}``) compile, and every generated value fully
    matches the pattern both in Python's ``re`` and in RE2 (the engine ``validate`` checks
    ``pattern`` with), never longer than the compiled ``max_length``.
(b) Hostile soups — huge counts, deep nesting, unbalanced brackets, look-arounds, back-references
    — are refused with a ``RegexError`` or compile, always within a second; what compiles
    generates values RE2 accepts.

Bounded: ``DATAGEN_FUZZ_EXAMPLES`` examples per test (default 60); ``make fuzz`` raises it.
"""

from __future__ import annotations

import os
import re

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shared.distributions.regex import (
    MAX_EXPANDED_LENGTH,
    MAX_EXPANDED_NODES,
    MAX_PATTERN_LENGTH,
    RegexError,
    _expanded_nodes,
    compile_pattern,
    to_re2,
)
from tests.gen_helpers import run


def fuzz(default: int, weight: float = 1.0) -> settings:
    env = os.environ.get("DATAGEN_FUZZ_EXAMPLES")
    n = max(1, int(int(env) * weight)) if env and env.isdigit() else default
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


LITERALS = st.sampled_from(list("abcXYZ019_@:=/ -,") + ["\\.", "\\+", "\\*", "\\(", "\\)", "\\[", "\\]", "\\{",
                                                          "\\}", "\\\\", "\\|", "\\?", "\\$", "\\^", "é", "€",
                                                          "\\x41", "\\u00e9", "\\t"])
CLASSES = st.sampled_from(["[a-z]", "[A-Z0-9]", "[0-9a-fA-F]", "[_a-z-]", "[\\d\\s]", "[.+*]", "[é-ë]", "\\d", "\\w",
                           "\\s", "."])
QUANT = st.sampled_from(["", "", "", "?", "*", "+", "{2}", "{0,3}", "{1,}", "{3,5}", "{0}", "??", "*?", "{,2}"])


def _patterns():
    atom = st.one_of(LITERALS, CLASSES)
    return st.recursive(
        st.lists(st.tuples(atom, QUANT).map("".join), min_size=1, max_size=5).map("".join),
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map("".join),
            st.tuples(st.sampled_from(["(", "(?:", "(?P<g>"]), st.lists(inner, min_size=1, max_size=3)
                      .map("|".join), QUANT).map(lambda t: f"{t[0]}{t[1]}){t[2]}"),
        ),
        max_leaves=8,
    )


QUANTIFIED_GROUP = re.compile(r"\)[?*+{]")


def _re2_fullmatch(pattern: str, values: list[str]) -> list[bool] | None:
    try:
        # exactly as validate's `pattern` check spells it for RE2
        return pc.match_substring_regex(pa.array(values, pa.string()), f"^(?:{to_re2(pattern)})$").to_pylist()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


@fuzz(60)
@given(pattern=_patterns(), anchored=st.booleans(), seed=st.integers(0, 2**32))
def test_fuzz_regex_values_fullmatch_in_python_and_re2(pattern: str, anchored: bool, seed: int):
    if anchored:
        pattern = f"^{pattern}$"
    try:
        prog = compile_pattern(pattern)
    except RegexError:
        assume(False)  # a named group twice and the like: refused, fine
    try:
        rx = re.compile(pattern)
    except re.error:
        assume(False)  # the generator's check refuses these too
    values = run("regex", {"pattern": pattern}, type="string", rows=60, seed=seed).to_pylist()
    assert all(len(v) <= prog.max_length for v in values)
    if not QUANTIFIED_GROUP.search(pattern):
        # Python's backtracking re only where it cannot blow up: a quantified group such as
        # ((_{0,3})*|…){3,5} takes it minutes even on values that match (RE2 below does not)
        assert all(rx.fullmatch(v) for v in values), (pattern, [v for v in values if not rx.fullmatch(v)][:3])
    re2 = _re2_fullmatch(pattern, values)
    assert re2 is not None, f"RE2 cannot read {pattern!r} (spelled {to_re2(pattern)!r})"
    assert all(re2), (pattern, [v for v, ok in zip(values, re2, strict=True) if not ok][:3])


HOSTILE = st.lists(st.sampled_from([
    "a", "(", ")", "[", "]", "{", "}", "*", "+", "?", "|", "^", "$", "\\", "-", ",", "\\d", "\\1", "(?=", "(?!", "(?<=",
    "(?i)", "[^", "{99999}", "{1000}", "{5000,}", "{0,9999}", "{,}", "{2,1}", "((((", "))))", "[a-z]", "[z-a]",
    "\\x", "\\xZZ", "\\u12", "\\U0010ffff", "\\ud800", ".", "\\b", "\\A", "\\Z", "(?P<", ">", "(?P<n>", "é", "\x00",
]), max_size=30).map("".join)


@fuzz(60)
@given(pattern=st.one_of(HOSTILE, st.text(max_size=40)))
def test_fuzz_hostile_patterns_are_refused_or_bounded(pattern: str):
    """Refused with a located message, or compiled to bounded work: the longest value and the
    expanded node count (what generating a value costs) are within the budgets."""
    try:
        prog = compile_pattern(pattern)
    except RegexError as exc:
        assert exc.message and 0 <= exc.offset <= max(len(pattern), MAX_PATTERN_LENGTH)
        return
    assert prog.max_length <= MAX_EXPANDED_LENGTH
    assert _expanded_nodes(prog.root) <= MAX_EXPANDED_NODES
    try:
        re.compile(pattern)
    except re.error:
        return  # Regex.check refuses it before any value is generated
    values = run("regex", {"pattern": pattern}, type="string", rows=20).to_pylist()
    assert all(len(v) <= prog.max_length for v in values)
    re2 = _re2_fullmatch(pattern, values)
    if re2 is not None:
        assert all(re2), (pattern, values[:3])
