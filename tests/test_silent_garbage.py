"""Issue 11, items 1–3: schemas that used to exit 0 with wrong values.

* decimals wider than 18 digits (the int64 unscaled path) became int64's minimum / 10^s;
* overflow — a time series past year 9999, timestamp arithmetic beyond it, int64 arithmetic,
  float overflow, NaN from ``x / 0`` — wrapped, became int64's minimum, or was written as text
  that ``validate`` could not read;
* uniqueness the planner missed: a template cut by ``max_length``, a sequence snapped onto a
  short ``allowed`` list, a decimal sequence past the type's digits.

All in-process. The load/plan-time refusals also have a file each in ``tests/bad_schemas/``.
"""

from __future__ import annotations

import decimal
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import datagen
from shared.errors import InfeasibleSchema, SchemaError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _schema(tmp_path: Path, columns: list[dict], rows: int = 50, **table) -> datagen.Schema:
    doc = {"version": 1, "name": "g", "seed": 11,
           "tables": [{"name": "t", "rows": rows, "columns": columns, **table}]}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return datagen.load_schema(str(path))


def _table(schema) -> pa.Table:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning may leak
        return datagen.to_arrow(schema)["t"]


# --- item 1: decimals exact at every precision -------------------------------------------------

WIDE = [
    {"name": "a", "type": "decimal(38,20)", "generator": {"type": "uniform_float", "params": {"min": 0, "max": 1}}},
    {"name": "b", "type": "decimal(30,12)",
     "generator": {"type": "uniform_float", "params": {"min": -1e8, "max": 1e8}}},
    {"name": "c", "type": "decimal(38,38)", "nullable": True, "null_rate": 0.2,
     "generator": {"type": "uniform_float", "params": {"min": -1, "max": 1}}},
    {"name": "d", "type": "decimal(38,0)", "generator": {"type": "normal", "params": {"std": 1e40}}},
    {"name": "e", "type": "decimal(18,0)", "generator": {"type": "normal", "params": {"std": 1e20}}},
    {"name": "f", "type": "decimal(19,2)", "generator": {"type": "sequence", "params": {"start": 0.25, "step": 0.5}}},
]


WIDE_NAMES = [c["name"] for c in WIDE]


def _expected(v: float, scale: int) -> decimal.Decimal:
    """The engine's float rounded half-to-even to the scale, exactly (Python's own decimal)."""
    with decimal.localcontext() as ctx:
        ctx.prec = 100
        return decimal.Decimal(repr(float(np.round(v, scale)))).quantize(decimal.Decimal(1).scaleb(-scale),
                                                                           rounding=decimal.ROUND_HALF_EVEN)


def test_wide_decimals_are_exact_and_in_range(tmp_path):
    schema = _schema(tmp_path, WIDE, rows=200)
    t = _table(schema)
    with decimal.localcontext() as ctx:
        ctx.prec = 100  # abs() of a Decimal rounds to the context's precision (28 digits by default)
        _check_wide(t)


def _check_wide(t: pa.Table) -> None:
    a = t["a"].to_pylist()
    assert all(decimal.Decimal(0) <= v <= decimal.Decimal(1) for v in a), a[:5]
    assert len(set(a)) > 190  # was: every value -0.09223372036854775808
    b = t["b"].to_pylist()
    assert all(abs(v) <= decimal.Decimal(10**8) for v in b) and len(set(b)) > 190
    c = [v for v in t["c"].to_pylist() if v is not None]
    assert c and all(abs(v) <= 1 for v in c) and len(set(c)) > 100
    for name, p in (("d", 38), ("e", 18)):  # clipped to the type: never p + 1 digits
        assert all(abs(v) <= 10**p - 1 for v in t[name].to_pylist()), name
    f = t["f"].to_pylist()
    assert f == [decimal.Decimal(str(0.25 + 0.5 * i)).quantize(decimal.Decimal("0.01")) for i in range(200)]


def test_wide_decimal_values_are_the_engine_values_rounded(tmp_path):
    from shared.constraints.coerce import coerce, to_arrow
    from shared.model.types import parse_type
    from tests.gen_helpers import make_column

    rng = np.random.default_rng(3)
    raw = np.concatenate([rng.uniform(-1, 1, 300), rng.uniform(-1e8, 1e8, 300), [0.0, -0.0, 0.5, 2.5e-20, 1 / 3]])
    for p, s in ((38, 20), (30, 12), (38, 38), (20, 0), (19, 1), (38, 2)):
        col = make_column(type=f"decimal({p},{s})")
        engine = coerce(col, raw)
        got = to_arrow(col, engine, None)
        assert got.type == parse_type(f"decimal({p},{s})").arrow
        bound = decimal.Decimal(f"{10**p - 1}E-{s}")
        with decimal.localcontext() as ctx:
            ctx.prec = 100
            for v, d in zip(engine, got.to_pylist(), strict=True):
                want = _expected(v, s)
                if abs(want) > bound:  # the shortest text of a float clipped to the bound may pass it
                    want = bound.copy_sign(want)
                if abs(float(v)) * 10.0**s < 2**53:  # up to 15 significant digits at the scale: exact
                    assert d == want, (p, s, v, d, want)
                else:  # beyond: within a few units in float64's last place
                    assert abs(d - want) <= abs(want) * decimal.Decimal(2.0**-50), (p, s, v, d, want)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json", "sqlite"])
def test_wide_decimals_round_trip_every_format(tmp_path, fmt):
    schema = _schema(tmp_path, WIDE, rows=120)
    out = tmp_path / f"out_{fmt}"
    datagen.generate(schema, format=fmt, out=out, workers=1)
    report = datagen.validate(schema, out=out, format=fmt)
    assert report["status"] == "pass", [c for c in report["checks"] if c["status"] != "pass"]
    if fmt == "parquet":
        assert pq.read_table(out / "t").select(WIDE_NAMES).equals(_table(schema).select(WIDE_NAMES))


def test_decimal_allowed_value_outside_the_type_is_a_load_error(tmp_path):
    with pytest.raises(SchemaError) as info:
        _schema(tmp_path, [{"name": "x", "type": "decimal(5,2)", "allowed": [1.5, 99999999],
                            "generator": {"type": "uniform_float", "params": {"min": 0, "max": 2}}}])
    [p] = info.value.problems
    assert p.path == "tables[0].columns[0].allowed[1]" and "outside the range of decimal(5,2)" in p.message
    with pytest.raises(SchemaError) as info:
        _schema(tmp_path, [{"name": "x", "type": "decimal(5,2)", "allowed": [1.555],
                            "generator": {"type": "uniform_float", "params": {"min": 0, "max": 2}}}])
    [p] = info.value.problems
    assert p.path == "tables[0].columns[0].allowed[0]" and "more than 2 decimal places" in p.message


# --- item 2: overflow ----------------------------------------------------------------------------


def test_time_series_past_year_9999_is_refused_at_plan_time(tmp_path):
    schema = _schema(tmp_path, [{"name": "ts", "type": "timestamp", "generator": {
        "type": "time_series", "params": {"start": "9999-12-31", "step": "1d"}}}], rows=5)
    with pytest.raises(InfeasibleSchema) as info:
        datagen.resolve_plan(schema)
    [p] = info.value.problems
    assert p.path == "tables[0].columns[0].generator" and "9999-12-31T23:59:59.999999Z" in p.message
    # one row fits
    assert datagen.resolve_plan(schema, rows={"t": 1}).rows("t") == 1


@pytest.mark.parametrize("text, where", [
    ("9223372036854775807 + 1", "'+' overflows"),
    ("abs(-9223372036854775807 - 1)", "abs() overflows"),
    ("1e308 * 1e308", "'*' overflows"),
    ("id / 0", "'/' by the constant 0"),
    ("id % (3 - 3)", "'%' by the constant 0"),
])
def test_constant_overflow_and_division_by_zero_are_refused(tmp_path, text, where):
    with pytest.raises(SchemaError) as info:
        _schema(tmp_path, [{"name": "id", "type": "int64", "generator": "sequence"},
                           {"name": "x", "type": "int64", "generator": {"type": "expr", "params": {"expr": text}}}])
    assert [p.path for p in info.value.problems] == ["tables[0].columns[1].generator.params.expr"]
    assert where in info.value.problems[0].message


RUNTIME = [
    {"name": "id", "type": "int64", "generator": "sequence"},
    {"name": "zero", "type": "int64", "generator": {"type": "const", "params": {"value": 0}}},
    {"name": "low", "type": "int64", "generator": {"type": "const", "params": {"value": INT64_MIN}}},
    {"name": "ts", "type": "timestamp", "generator": {"type": "time_series",
                                                      "params": {"start": "2020-01-01", "step": "1d"}}},
    {"name": "sum", "type": "int64", "generator": {"type": "expr", "params": {"expr": "id + 9223372036854775807"}}},
    {"name": "abs_low", "type": "int64", "generator": {"type": "expr", "params": {"expr": "abs(low)"}}},
    {"name": "neg_low", "type": "int64", "generator": {"type": "expr", "params": {"expr": "-low * id"}}},
    {"name": "div_int", "type": "int64", "generator": {"type": "expr", "params": {"expr": "id / zero"}}},
    {"name": "div_dec", "type": "decimal(10,2)", "generator": {"type": "expr", "params": {"expr": "id / zero"}}},
    {"name": "div_null", "type": "decimal(10,2)", "nullable": True,
     "generator": {"type": "expr", "params": {"expr": "id / zero"}}},
    {"name": "div_min", "type": "int32", "min": 5, "generator": {"type": "expr", "params": {"expr": "zero / zero"}}},
    {"name": "far", "type": "timestamp", "generator": {"type": "expr", "params": {"expr": "ts + days(3000000)"}}},
    {"name": "past", "type": "timestamp",
     "generator": {"type": "expr", "params": {"expr": "ts - days(id * 1000000000000)"}}},
    {"name": "far_day", "type": "date", "generator": {"type": "expr", "params": {"expr": "ts + days(3000000)"}}},
    {"name": "exp_int", "type": "int64", "generator": {"type": "exponential", "params": {"scale": 1e308}}},
    {"name": "exp_float", "type": "float64", "generator": {"type": "exponential", "params": {"scale": 1e308}}},
    {"name": "exp_dec", "type": "decimal(38,4)", "generator": {"type": "exponential", "params": {"scale": 1e308}}},
]


def test_runtime_overflow_saturates_and_clips_to_the_column(tmp_path):
    t = _table(_schema(tmp_path, RUNTIME, rows=20))
    col = {name: t[name].to_pylist() for name in t.column_names}
    assert set(col["sum"]) == {INT64_MAX}  # saturates, never wraps to int64's minimum
    assert set(col["abs_low"]) == {INT64_MAX}
    assert set(col["neg_low"]) == {INT64_MAX}
    assert set(col["div_int"]) == {0}  # NaN: the in-range value nearest 0
    assert set(col["div_dec"]) == {decimal.Decimal("0.00")}
    assert set(col["div_null"]) == {None}  # NaN is null where nulls are allowed
    assert set(col["div_min"]) == {5}
    assert {v.year for v in col["far"]} == {9999} and {v.year for v in col["far_day"]} == {9999}
    assert {v.year for v in col["past"][1:]} == {1}
    assert INT64_MIN not in col["exp_int"] and max(col["exp_int"]) == INT64_MAX
    assert all(np.isfinite(col["exp_float"]))
    assert max(col["exp_dec"]) <= decimal.Decimal(10**34)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_clipped_timestamps_are_readable_by_validate(tmp_path, fmt):
    schema = _schema(tmp_path, RUNTIME, rows=20)
    out = tmp_path / fmt
    datagen.generate(schema, format=fmt, out=out, workers=1)
    text = "".join(p.read_text() for p in out.iterdir() if p.suffix in (".csv", ".json", ".jsonl", ".ndjson"))
    assert "out of range" not in text and "10000-" not in text
    report = datagen.validate(schema, out=out, format=fmt)
    assert report["status"] == "pass", [c for c in report["checks"] if c["status"] != "pass"]


# --- item 3: uniqueness the planner missed --------------------------------------------------------


def _plan_problem(schema) -> tuple[str, str]:
    with pytest.raises(InfeasibleSchema) as info:
        datagen.resolve_plan(schema)
    [p] = info.value.problems
    return p.path, p.message


def test_unique_template_cut_by_max_length_is_infeasible(tmp_path):
    cols = [{"name": "id", "type": "int64", "generator": "sequence"},
            {"name": "login", "type": "string", "unique": True, "max_length": 3,
             "generator": {"type": "template", "params": {"template": "user-{id}"}}}]
    path, msg = _plan_problem(_schema(tmp_path, cols, rows=200, primary_key="id"))
    assert path == "tables[0].columns[1].max_length" and "max_length 3 cuts" in msg
    cols[1]["max_length"] = 8  # "user-200": 8 characters
    t = _table(_schema(tmp_path, cols, rows=200, primary_key="id"))
    assert len(set(t["login"].to_pylist())) == 200


def test_unique_sequence_with_too_few_allowed_values_is_infeasible(tmp_path):
    cols = [{"name": "k", "type": "int64", "unique": True, "allowed": [1, 2], "generator": "sequence"}]
    path, msg = _plan_problem(_schema(tmp_path, cols, rows=10))
    assert path == "tables[0].columns[0].allowed" and "2 distinct values for 10 rows" in msg
    cols[0]["allowed"] = list(range(5, 20))  # enough values, but 1..4 are not allowed
    path, msg = _plan_problem(_schema(tmp_path, cols, rows=10))
    assert path == "tables[0].columns[0].allowed" and "value 1 is not allowed" in msg
    cols[0]["allowed"] = list(range(1, 11))
    assert _table(_schema(tmp_path, cols, rows=10))["k"].to_pylist() == list(range(1, 11))


def test_decimal_sequence_past_its_digits_is_infeasible(tmp_path):
    cols = [{"name": "k", "type": "decimal(3,1)", "generator": {"type": "sequence",
                                                               "params": {"start": 0.1, "step": 0.1}}}]
    path, msg = _plan_problem(_schema(tmp_path, cols, rows=1000, primary_key="k"))
    assert path == "tables[0].columns[0].generator" and "-99.9..99.9" in msg
    t = _table(_schema(tmp_path, cols, rows=999, primary_key="k"))  # 0.1 … 99.9 fits exactly
    assert len(set(t["k"].to_pylist())) == 999 and max(t["k"].to_pylist()) == decimal.Decimal("99.9")


def test_decimal_sequence_step_below_the_scale_is_infeasible(tmp_path):
    cols = [{"name": "k", "type": "decimal(10,1)", "generator": {"type": "sequence",
                                                                "params": {"start": 0, "step": 0.01}}}]
    path, msg = _plan_problem(_schema(tmp_path, cols, rows=50, primary_key="k"))
    assert path == "tables[0].columns[0].generator" and "below the resolution" in msg


def test_float_sequence_beyond_float_resolution_is_infeasible(tmp_path):
    cols = [{"name": "k", "type": "float64", "unique": True,
             "generator": {"type": "sequence", "params": {"start": 2**60, "step": 1}}}]
    path, msg = _plan_problem(_schema(tmp_path, cols, rows=10))
    assert "floating point resolution" in msg


def test_unique_finite_domain_outside_allowed_is_infeasible(tmp_path):
    """A unique uniform_int with enough allowed values for its rows, but a domain that is not
    inside the list: the values outside were snapped onto allowed ones (40 rows, 30 distinct)."""
    allowed = list(range(1, 51))
    cols = [{"name": "k", "type": "int64", "unique": True, "allowed": allowed,
             "generator": {"type": "uniform_int", "params": {"min": 1, "max": 100}}}]
    path, msg = _plan_problem(_schema(tmp_path, cols, rows=40))
    assert path == "tables[0].columns[0].allowed" and "draws from 100 values, more than the 50 allowed" in msg
    cols[0]["generator"]["params"] = {"min": 11, "max": 60}
    path, msg = _plan_problem(_schema(tmp_path, cols, rows=40))
    assert "can produce values outside allowed (10 of its 50)" in msg
    cols[0]["generator"]["params"] = {"min": 1, "max": 50}
    assert len(set(_table(_schema(tmp_path, cols, rows=40))["k"].to_pylist())) == 40


def test_max_length_that_would_cut_unique_keys_is_infeasible(tmp_path):
    """A string sequence or a uuid4 cut by max_length repeated values; the planner refuses the
    cut. A unique faker column keeps only the values that fit whole: its capacity shrinks, and
    the planner refuses it (at the generator) when too few are left."""
    for gen, max_length, size in (("sequence", 3, "up to 4"), ("uuid4", 8, "up to 36")):
        cols = [{"name": "s", "type": "string", "unique": True, "max_length": max_length, "generator": gen}]
        path, msg = _plan_problem(_schema(tmp_path, cols, rows=2000))
        assert path == "tables[0].columns[0].max_length" and f"({size} characters)" in msg, msg
    cols = [{"name": "s", "type": "string", "unique": True, "max_length": 5,
             "generator": {"type": "faker", "params": {"provider": "name"}}}]
    path, msg = _plan_problem(_schema(tmp_path, cols, rows=2000))
    assert path == "tables[0].columns[0].generator" and "domain holds" in msg and "for 2,000 rows" in msg, msg
    cols = [{"name": "s", "type": "string", "unique": True, "max_length": 10,
             "generator": {"type": "faker", "params": {"provider": "name"}}}]
    values = _table(_schema(tmp_path, cols, rows=2000))["s"].to_pylist()
    assert len(set(values)) == 2000 and max(map(len, values)) <= 10
