"""Fuzzing decimals and overflow: no value is ever garbage (issue 11, items 1–2).

* decimals: any precision and scale the type allows, any float64 (NaN, ±inf, subnormals, huge)
  → a decimal128(p, s) array inside ±(10^p − 1)/10^s, equal to the value rounded half-to-even
  to s places where it is in range, that survives Arrow's text round trip (what CSV/JSON write);
* coercion: any float64 into every int width, date and timestamp lands inside the type's range
  (years 1–9999 for times), NaN at the in-range value nearest 0, never int64's minimum by accident;
* int64 arithmetic in ``expr`` saturates exactly like Python integers clipped after every step;
* a sequence or time series near the ends of its type is refused at plan time, or every value it
  generates is inside the type, distinct where it is a key.

No numpy RuntimeWarning may escape. Bounded: ``DATAGEN_FUZZ_EXAMPLES`` examples per test
(default 60 / 40); ``make fuzz`` raises it.
"""

from __future__ import annotations

import decimal
import os
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datagen
from shared.constraints.coerce import coerce, to_arrow
from shared.errors import InfeasibleSchema, SchemaError
from shared.model import expr as E
from shared.model.types import DATE_MAX_DAYS, DATE_MIN_DAYS, TIMESTAMP_MAX_US, TIMESTAMP_MIN_US
from tests.gen_helpers import make_column
from tests.helpers import int_expr_reference

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def fuzz(default: int, weight: float = 1.0) -> settings:
    env = os.environ.get("DATAGEN_FUZZ_EXAMPLES")
    n = max(1, int(int(env) * weight)) if env and env.isdigit() else default
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1.0, 1.0),
    st.sampled_from([0.0, -0.0, 5e-324, 1e-38, 0.5, 2.5, 1e15, 1e18, 9.999999999999999e17, 1e38, -1e38, 1e308,
                     2.0**63, -(2.0**63), 9223372036854774784.0]),
)


@st.composite
def decimal_types(draw) -> tuple[int, int]:
    p = draw(st.integers(1, 38))
    return p, draw(st.integers(0, p))


@fuzz(60)
@given(pt=decimal_types(), values=st.lists(FLOATS, min_size=1, max_size=40))
def test_fuzz_decimals_are_exact_and_in_range(pt, values):
    p, s = pt
    col = make_column(type=f"decimal({p},{s})")
    raw = np.array(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine = coerce(col, raw)
        arr = to_arrow(col, engine, None)
    assert arr.type == pa.decimal128(p, s)
    with decimal.localcontext() as ctx:
        ctx.prec = 100
        bound = decimal.Decimal(f"{10**p - 1}E-{s}")
        got = arr.to_pylist()
        assert all(abs(d) <= bound for d in got), (p, s, got)
        if p > 18:  # the exact path: the engine value rounded half-to-even to s places
            quantum = decimal.Decimal(1).scaleb(-s)
            for v, d in zip(engine, got, strict=True):
                want = decimal.Decimal(repr(float(np.round(v, s)))).quantize(quantum, rounding=decimal.ROUND_HALF_EVEN)
                want = want if abs(want) <= bound else bound.copy_sign(want)
                if abs(float(v)) * 10.0**s < 2**53:  # up to 15 significant digits at the scale: exact
                    assert d == want, (p, s, v, d, want)
                else:  # beyond: within a few units in float64's last place
                    assert abs(d - want) <= abs(want) * decimal.Decimal(2.0**-50), (p, s, v, d, want)
        else:  # the int64 path: within half a unit of the last place (plus float64's own error)
            for v, d in zip(engine, got, strict=True):
                assert abs(float(d) - float(v)) <= 0.5 * 10.0**-s + abs(float(v)) * 4e-16, (p, s, v, d)
    # what CSV and JSON do: text and back
    assert pc.cast(pc.cast(arr, pa.string()), arr.type).equals(arr)


COERCE_TYPES = ["int8", "int16", "int32", "int64", "date", "timestamp", "float32", "float64"]


@fuzz(60)
@given(type_=st.sampled_from(COERCE_TYPES), values=st.lists(FLOATS, min_size=1, max_size=40))
def test_fuzz_coerce_lands_inside_the_type(type_, values):
    col = make_column(type=type_)
    raw = np.array(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = coerce(col, raw)
        arr = to_arrow(col, v, None)
    kind = col.dtype.kind
    if kind == "float":
        assert np.isfinite(v).all()
        return
    lo, hi = {"date": (DATE_MIN_DAYS, DATE_MAX_DAYS), "timestamp": (TIMESTAMP_MIN_US, TIMESTAMP_MAX_US)}.get(
        kind, col.dtype.int_bounds() if kind == "int" else (None, None))
    assert v.dtype == np.int64 and (v >= lo).all() and (v <= hi).all(), (type_, raw, v)
    assert (v[np.isnan(raw)] == 0).all()  # 0 lies in every one of these ranges
    assert (v[raw == np.inf] == hi).all() and (v[raw == -np.inf] == lo).all()
    if kind in ("date", "timestamp"):  # renders with a four-digit year and reads back
        assert pc.cast(pc.cast(arr, pa.string()), arr.type).equals(arr)


# --- int64 arithmetic in expr: saturating, step by step --------------------------------------

EXTREMES = [INT64_MIN, INT64_MIN + 1, -(2**62), -3, -1, 0, 1, 2, 3, 2**31, 2**62, INT64_MAX - 1, INT64_MAX]




def _render(tree) -> str:
    tag = tree[0]
    if tag == "lit":
        return f"({tree[1]})" if tree[1] >= 0 else f"(0 - {-(tree[1] + 1)} - 1)"  # int64_min has no literal
    if tag == "col":
        return tree[1]
    if tag == "neg":
        return f"(-{_render(tree[1])})"
    if tag == "abs":
        return f"abs({_render(tree[1])})"
    return f"({_render(tree[1])} {tag} {_render(tree[2])})"


_leaves = st.one_of(st.tuples(st.just("lit"), st.sampled_from([0, 1, 2, 3, 2**31, 2**62, INT64_MAX])),
                    st.tuples(st.just("col"), st.sampled_from("ab")))
_trees = st.recursive(_leaves, lambda kids: st.one_of(
    st.tuples(st.sampled_from(["+", "-", "*"]), kids, kids),
    st.tuples(st.just("neg"), kids),
    st.tuples(st.just("abs"), kids),
), max_leaves=8)


class _Env:
    def __init__(self, a, b):
        self.cols = {"a": a, "b": b}
        self.n = len(a)

    def ref(self, name):
        return self.cols[name]

    def kind(self, name):
        return "int"

    def uniform(self, purpose):
        raise AssertionError("no random draws here")

    normal = uniform


@fuzz(60)
@given(tree=_trees, a=st.lists(st.sampled_from(EXTREMES), min_size=1, max_size=6), data=st.data())
def test_fuzz_int64_expr_saturates(tree, a, data):
    b = data.draw(st.lists(st.sampled_from(EXTREMES), min_size=len(a), max_size=len(a)))
    text = _render(tree)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kind, got = E.evaluate_typed(text, _Env(np.array(a, np.int64), np.array(b, np.int64)))
    assert kind == "int"
    assert got.tolist() == [int_expr_reference(tree, x, y) for x, y in zip(a, b, strict=True)], text


# --- plan time: sequences and time series near the ends of their types -------------------------


def _load(tmp_path: Path, column: dict, rows: int, pk: bool):
    table = {"name": "t", "rows": rows, "columns": [column]}
    if pk:
        table["primary_key"] = column["name"]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "name": "f", "seed": 1, "tables": [table]}, sort_keys=False))
    return datagen.load_schema(str(path))


@fuzz(40)
@given(pt=decimal_types(), start=st.one_of(st.integers(-(10**20), 10**20), st.floats(-1e20, 1e20),
                                           st.sampled_from([1e300, -1.7976931348623157e308, 2**63, 1e-300])),
       step=st.one_of(st.integers(-1000, 1000).filter(bool), st.sampled_from([0.1, 0.01, 0.25, -0.5, 1e-9, 1e10])),
       rows=st.integers(1, 300), pk=st.booleans())
def test_fuzz_decimal_sequence_is_refused_or_inside(tmp_path_factory, pt, start, step, rows, pk):
    p, s = pt
    try:
        schema = _load(tmp_path_factory.mktemp("d"), {"name": "k", "type": f"decimal({p},{s})",
                                                      "generator": {"type": "sequence",
                                                                    "params": {"start": start, "step": step}}}, rows, pk)
        datagen.resolve_plan(schema)
    except (InfeasibleSchema, SchemaError) as e:
        assert all(pr.path.startswith("tables[0].columns[0]") for pr in e.problems)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = datagen.to_arrow(schema)["t"]["k"].to_pylist()
    with decimal.localcontext() as ctx:
        ctx.prec = 100
        bound = decimal.Decimal(f"{10**p - 1}E-{s}")
        assert all(abs(d) <= bound for d in got)
    if pk:
        assert len(set(got)) == rows


@fuzz(40)
@given(year=st.integers(1, 9999), step=st.sampled_from(["1us", "1s", "1h", "1d", "1w", "10000d"]),
       jitter=st.sampled_from(["0s", "0.4us"]), rows=st.integers(1, 400), back=st.booleans())
def test_fuzz_time_series_is_refused_or_readable(tmp_path_factory, year, step, jitter, rows, back):
    start = f"{year:04d}-{'01-01' if back else '12-31'}T{'00:00:00' if back else '23:00:00'}"
    schema = _load(tmp_path_factory.mktemp("ts"), {"name": "ts", "type": "timestamp", "generator": {
        "type": "time_series", "params": {"start": start, "step": step, "jitter": jitter}}}, rows, pk=True)
    try:
        datagen.resolve_plan(schema)
    except InfeasibleSchema as e:
        assert [pr.path for pr in e.problems] == ["tables[0].columns[0].generator"]
        assert year == 9999 or rows * 10000 * 86400 > 10**8  # only near the end of the range
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        arr = datagen.to_arrow(schema)["t"]["ts"]
    us = arr.cast(pa.int64()).to_numpy()
    assert (us >= TIMESTAMP_MIN_US).all() and (us <= TIMESTAMP_MAX_US).all()
    assert (np.diff(us) > 0).all()  # still strictly increasing: nothing was clipped onto a bound
    assert pc.cast(pc.cast(arr, pa.string()), arr.type).equals(arr)
