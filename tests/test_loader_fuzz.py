"""Property tests of the loader: whatever the input, the only way out is a DatagenError.

(a) random bytes and random YAML-ish / JSON-ish text fed to ``load_schema(path, data=…)`` raise
    only ``SchemaError`` (or load, if by chance the text is a schema);
(b) valid schemas mutated at random (keys deleted or added, values of another type, values
    swapped, numbers made negative or huge, strings garbled, names changed or duplicated) and
    dumped with ``yaml.safe_dump`` either load and plan or raise a ``DatagenError`` subclass;
(c) every ``SchemaError`` carries at least one Problem, and every Problem names the file.

Bounded: ~200 examples per test, no deadline, well under 30 s in all.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import shared.schema_dsl.engine  # noqa: F401 - per-parent counts that read a parent's columns need the engine
from shared.errors import DatagenError, PlanError, SchemaError
from shared.schema_dsl.loader import load_schema
from shared.schema_dsl.planner import resolve_plan
from shared.schema_dsl.source import read_document
from tests.helpers import EXAMPLES_DIR

EXAMPLES = EXAMPLES_DIR
# the documents as datagen reads them (YAML 1.2: ``on:`` is a key, not True)
DEFAULT = read_document(str(EXAMPLES / "default.yaml"))[0]
OTHERS = {p.stem: read_document(str(p))[0] for p in sorted(EXAMPLES.glob("*.yaml"))
          if p.stem != "default"}

_ENV = os.environ.get("DATAGEN_FUZZ_EXAMPLES")
_N = int(_ENV) if _ENV and _ENV.isdigit() else 200  # `make fuzz` raises it
FUZZ = settings(max_examples=_N, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.data_too_large])


def check_error(exc: DatagenError, path: str) -> None:
    """(c): a SchemaError carries located problems; every error renders to text."""
    assert isinstance(exc, DatagenError)
    text = exc.render()
    assert isinstance(text, str) and text
    if isinstance(exc, SchemaError):
        assert exc.problems, f"SchemaError without problems: {exc}"
        for p in exc.problems:
            assert p.file == path, p
            assert p.message
            assert p.line is None or p.line >= 1
            assert p.column is None or p.column >= 1
    if isinstance(exc, PlanError):
        for p in exc.problems:
            assert p.file == path, p


def load_and_plan(path: str, data: bytes) -> None:
    try:
        schema = load_schema(path, data=data)
        resolve_plan(schema)
    except DatagenError as exc:
        check_error(exc, path)


# --- (a) random input --------------------------------------------------------------------------

YAMLISH = st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"#%@?~ \n\t\\.=<0123456789abcnotruefxyz_\x00\x85é€")),
                  max_size=300)


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".yaml", ".json", ".yml"]))
def test_random_bytes_raise_only_schema_errors(data: bytes, suffix: str):
    path = "fuzz" + suffix
    try:
        load_schema(path, data=data)
    except SchemaError as exc:
        check_error(exc, path)


@FUZZ
@given(text=st.one_of(st.text(max_size=400), YAMLISH), suffix=st.sampled_from([".yaml", ".json"]))
def test_random_text_raises_only_schema_errors(text: str, suffix: str):
    path = "fuzz" + suffix
    try:
        load_schema(path, data=text.encode("utf-8", "surrogatepass"))
    except SchemaError as exc:
        check_error(exc, path)


@FUZZ
@given(prefix=st.integers(min_value=0, max_value=5000), junk=YAMLISH)
def test_truncated_and_spliced_examples(prefix: int, junk: str):
    """A real schema cut anywhere and followed by junk: still only SchemaError (or success)."""
    raw = (EXAMPLES / "default.yaml").read_bytes()
    data = raw[:prefix] + junk.encode("utf-8", "surrogatepass")
    path = "spliced.yaml"
    try:
        load_schema(path, data=data)
    except SchemaError as exc:
        check_error(exc, path)


# --- (b) mutated valid schemas -----------------------------------------------------------------

GENERATOR_NAMES = ["sequence", "uniform_int", "uniform_float", "normal", "choice", "fk", "expr", "regex", "const",
                   "faker", "template", "uniform_date", "uniform_timestamp", "zipf", "poisson", "histogram",
                   "words", "time_series", "uuid4", "nope"]
TYPE_NAMES = ["int8", "int32", "int64", "float64", "decimal(10,2)", "decimal(3,5)", "bool", "string", "date",
              "timestamp", "uuid", "strnig"]
NUMBERS = st.one_of(
    st.sampled_from([0, -1, 1, 2, -10**6, 10**9, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, -(10**30),
                     0.5, -0.5, 1e-300, 1e308, -1e308]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), NUMBERS, st.text(max_size=12),
    st.sampled_from(GENERATOR_NAMES + TYPE_NAMES + ["customers", "orders", "customer_id", "yes", "no", "",
                                                     "2024-01-01", "-7d", "5s", "{first_name}", "a.b.c"]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.sampled_from(["type", "params", "name", "min", "max", "values", "table", "x"]), SCALARS,
                    max_size=3),
)
GARBLE = st.text(alphabet=st.sampled_from(list("{}()[]|*+?.,\\'\"_-:/ abcxyz019é")), max_size=24)
IDENTS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _set(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _mutate(draw, doc: Any) -> Any:
    paths = _paths(doc)
    op = draw(st.sampled_from(["delete", "retype", "swap", "insert_key", "number", "garble", "rename",
                               "duplicate", "copy"]))
    if op == "number":
        nums = [p for p in paths if isinstance(_get(doc, p), (int, float)) and not isinstance(_get(doc, p), bool)]
        if nums:
            return _set(doc, draw(st.sampled_from(nums)), draw(NUMBERS))
        op = "retype"
    if op == "garble":
        strs = [p for p in paths if isinstance(_get(doc, p), str)]
        if strs:
            p = draw(st.sampled_from(strs))
            old = _get(doc, p)
            how = draw(st.sampled_from(["replace", "insert", "truncate"]))
            if how == "replace":
                new = draw(GARBLE)
            elif how == "insert":
                i = draw(st.integers(0, len(old)))
                new = old[:i] + draw(GARBLE) + old[i:]
            else:
                new = old[: draw(st.integers(0, len(old)))]
            return _set(doc, p, new)
        op = "retype"
    if op == "rename":
        names = [p for p in paths if p and p[-1] == "name" and isinstance(_get(doc, p), str)]
        if names:
            p = draw(st.sampled_from(names))
            existing = [_get(doc, q) for q in names]
            return _set(doc, p, draw(st.one_of(IDENTS, st.sampled_from(existing))))
        op = "retype"
    if op == "insert_key":
        maps = [p for p in paths if isinstance(_get(doc, p), dict)]
        p = draw(st.sampled_from(maps))
        key = draw(st.one_of(IDENTS, st.sampled_from(["rows", "unique", "nullable", "null_rate", "min", "max",
                                                      "allowed", "pattern", "events", "primary_key", "skew",
                                                      "per", "distribution", "anchor", "corruption"])))
        _get(doc, p)[key] = draw(VALUES)
        return doc
    if op == "duplicate":
        lists = [p for p in paths if isinstance(_get(doc, p), list) and _get(doc, p)]
        if lists:
            lst = _get(doc, draw(st.sampled_from(lists)))
            lst.insert(draw(st.integers(0, len(lst))), copy.deepcopy(lst[draw(st.integers(0, len(lst) - 1))]))
            return doc
        op = "retype"
    non_root = [p for p in paths if p]
    if not non_root:
        return draw(VALUES)
    p = draw(st.sampled_from(non_root))
    if op == "delete":
        del _get(doc, p[:-1])[p[-1]]
        return doc
    if op in ("swap", "copy"):
        q = draw(st.sampled_from(non_root))
        if p[: len(q)] == q or q[: len(p)] == p:  # one inside the other
            return _set(doc, p, draw(VALUES))
        a, b = copy.deepcopy(_get(doc, p)), copy.deepcopy(_get(doc, q))
        _set(doc, p, b)
        if op == "swap":
            _set(doc, q, a)
        return doc
    return _set(doc, p, draw(VALUES))  # retype


@st.composite
def mutated(draw, base: Any):
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        doc = _mutate(draw, doc)
    return doc


def _dump(doc: Any, as_json: bool) -> bytes:
    if as_json:
        return json.dumps(doc, indent=1, allow_nan=True).encode("utf-8")
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode("utf-8")


def test_examples_survive_the_round_trip():
    """The unmutated bases load through safe_dump (the mutation tests start from valid schemas)."""
    for name, base in {"default": DEFAULT, **OTHERS}.items():
        resolve_plan(load_schema(f"{name}.yaml", data=_dump(base, False)))
        resolve_plan(load_schema(f"{name}.json", data=_dump(base, True)))


@FUZZ
@given(doc=mutated(DEFAULT), as_json=st.booleans())
def test_mutated_default_schema_loads_or_raises_datagen_error(doc: Any, as_json: bool):
    path = "mutated.json" if as_json else "mutated.yaml"
    load_and_plan(path, _dump(doc, as_json))


@settings(FUZZ, max_examples=max(1, _N // 2))
@given(data=st.data())
def test_mutated_example_schemas_load_or_raise_datagen_error(data):
    name = data.draw(st.sampled_from(sorted(OTHERS)))
    doc = data.draw(mutated(OTHERS[name]))
    assume(doc is not None)
    load_and_plan(f"{name}.yaml", _dump(doc, False))
