"""The expression functions of issue 12, item 8: the row index, strings, date parts, casts,
``coalesce``/``is_null`` and ``case`` — and ``{_row}`` in templates.

Each is checked against Python's own string, ``int``/``float`` and ``datetime`` operations on
random inputs, at load time (kinds, literal arguments, null sources, with the schema path), and
end to end: the same bytes whatever the block size or the number of workers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import textwrap

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from generators.csv_generator.format import CsvFormat
from shared.api import generate, load_schema, resolve_plan
from shared.errors import InfeasibleSchema, SchemaError
from shared.model import expr as E
from tests.test_expr import ArrayEnv
from tests.test_fuzz_expr import fuzz

EPOCH = dt.date(1970, 1, 1)
EPOCH_TS = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
US = 86_400_000_000


def run(text: str, rows=None, **cols):
    """(kind, values as a Python list with None for nulls) of ``text`` over ``cols``.

    ``cols`` values are (array, kind) pairs or pyarrow string arrays."""
    kinds, arrays = {}, {}
    for name, v in cols.items():
        if isinstance(v, tuple):
            arrays[name], kinds[name] = v
        else:
            arrays[name], kinds[name] = v, "string"
    env = ArrayEnv(arrays, kinds, rows=rows)
    kind, values, null = E.evaluate_masked(text, env)
    out = values.to_pylist() if isinstance(values, pa.Array) else values.tolist()
    if null is not None:
        out = [None if m else v for v, m in zip(out, null.tolist(), strict=True)]
    return kind, out


def strings(values):
    return pa.array(values, pa.string())


# --- row() --------------------------------------------------------------------------------------


def test_row_is_the_absolute_row_index_of_the_block():
    n = np.arange(10, dtype=np.int64)
    env = ArrayEnv({"n": n}, {"n": "int"})
    assert E.evaluate("row()", env.block(np.arange(4, 7))).tolist() == [4, 5, 6]
    assert E.infer_kind("row() * 2", {}) == "int"
    assert E.constant_problems("row() / 0")  # still a division by a constant 0
    assert not E.constant_problems("row() + 9223372036854775807")  # data, not a constant: saturates


# --- strings vs Python --------------------------------------------------------------------------

TEXT = st.text(alphabet=st.sampled_from(list("ab -_\t\né€𝄞 \x0b\x0cZ0")), max_size=12)


@fuzz(80)
@given(values=st.lists(TEXT, min_size=1, max_size=8), start=st.integers(1, 14), length=st.integers(0, 14))
def test_substring_is_one_based_like_sql(values, start, length):
    s = strings(values)
    assert run(f"substring(s, {start}, {length})", s=s) == ("string", [v[start - 1:start - 1 + length] for v in values])
    assert run(f"substring(s, {start})", s=s)[1] == [v[start - 1:] for v in values]


@fuzz(80)
@given(values=st.lists(TEXT, min_size=1, max_size=8), width=st.integers(0, 16),
       fill=st.sampled_from(["*", "0", "é", " ", "𝄞"]))
def test_pads_are_pythons_rjust_and_ljust(values, width, fill):
    s = strings(values)
    assert run(f"lpad(s, {width}, '{fill}')", s=s)[1] == [v.rjust(width, fill) for v in values]
    assert run(f"rpad(s, {width}, '{fill}')", s=s)[1] == [v.ljust(width, fill) for v in values]
    assert run(f"lpad(s, {width})", s=s)[1] == [v.rjust(width) for v in values]


@fuzz(80)
@given(values=st.lists(TEXT, min_size=1, max_size=8), old=st.sampled_from(["a", "ab", "é", " ", "aa", "𝄞"]),
       new=st.sampled_from(["", "x", "€€", "a"]))
def test_length_trim_replace_match_python(values, old, new):
    s = strings(values)
    ws = " \t\n\r\x0b\x0c"
    assert run("length(s)", s=s) == ("int", [len(v) for v in values])
    assert run("trim(s)", s=s)[1] == [v.strip(ws) for v in values]
    assert run("ltrim(s)", s=s)[1] == [v.lstrip(ws) for v in values]
    assert run("rtrim(s)", s=s)[1] == [v.rstrip(ws) for v in values]
    assert run(f"replace(s, '{old}', '{new}')", s=s)[1] == [v.replace(old, new) for v in values]


def test_to_string_renders_like_concat():
    d = np.array([0, 19782], dtype=np.int64)
    assert run("to_string(d)", d=(d, "date"))[1] == ["1970-01-01", "2024-02-29"]
    assert run("to_string(row()) == concat(row())", d=(d, "date"))[1] == [True, True]
    assert run("to_string(to_int(d) > 0)", d=(d, "date"))[1] == ["false", "true"]


# --- date parts vs datetime -----------------------------------------------------------------------

DAYS = st.integers(dt.date(1, 1, 1).toordinal() - EPOCH.toordinal(), dt.date(9999, 12, 31).toordinal() - EPOCH.toordinal())


@fuzz(100)
@given(days=st.lists(DAYS, min_size=1, max_size=10), tod=st.integers(0, US - 1))
def test_date_parts_match_datetime(days, tod):
    d = np.array(days, dtype=np.int64)
    ts = d * US + tod
    dates = [EPOCH + dt.timedelta(days=x) for x in days]
    stamps = [EPOCH_TS + dt.timedelta(microseconds=int(x)) for x in ts]
    cols = {"d": (d, "date"), "ts": (ts, "timestamp")}
    for arg, objs in (("d", dates), ("ts", stamps)):
        assert run(f"year({arg})", **cols)[1] == [o.year for o in objs]
        assert run(f"month({arg})", **cols)[1] == [o.month for o in objs]
        assert run(f"day({arg})", **cols)[1] == [o.day for o in objs]
        assert run(f"quarter({arg})", **cols)[1] == [(o.month - 1) // 3 + 1 for o in objs]
        assert run(f"weekday({arg})", **cols)[1] == [o.weekday() for o in objs]  # 0 = Monday
    assert run("hour(ts)", **cols)[1] == [o.hour for o in stamps]
    assert run("minute(ts)", **cols)[1] == [o.minute for o in stamps]
    assert run("second(ts)", **cols)[1] == [o.second for o in stamps]
    assert run("to_date(ts)", **cols)[1] == days
    assert run("to_timestamp(d)", **cols)[1] == [x * US for x in days]
    assert run("to_int(d)", **cols)[1] == days


def _trunc_date(unit: str, o: dt.date) -> dt.date:
    if unit == "year":
        return o.replace(month=1, day=1)
    if unit == "quarter":
        return o.replace(month=(o.month - 1) // 3 * 3 + 1, day=1)
    if unit == "month":
        return o.replace(day=1)
    if unit == "week":
        return o - dt.timedelta(days=o.weekday())
    return o


@fuzz(100)
@given(days=st.lists(DAYS.filter(lambda x: x >= -719_162 + 7), min_size=1, max_size=10), tod=st.integers(0, US - 1),
       unit=st.sampled_from(E.TRUNC_UNITS))
def test_date_trunc_matches_datetime(days, tod, unit):
    d = np.array(days, dtype=np.int64)
    ts = d * US + tod
    stamps = [EPOCH_TS + dt.timedelta(microseconds=int(x)) for x in ts]
    cols = {"d": (d, "date"), "ts": (ts, "timestamp")}
    if unit in ("hour", "minute"):
        with pytest.raises(E.ExprError, match="needs a timestamp"):
            E.infer_kind(f"date_trunc('{unit}', d)", {"d": "date"})
        want = [o.replace(minute=0 if unit == "hour" else o.minute, second=0, microsecond=0) for o in stamps]
    else:
        dates = [_trunc_date(unit, EPOCH + dt.timedelta(days=x)) for x in days]
        assert run(f"date_trunc('{unit}', d)", **cols) == ("date", [(o - EPOCH).days for o in dates])
        want = [dt.datetime.combine(o, dt.time(), dt.UTC) for o in dates]
    got = run(f"date_trunc('{unit}', ts)", **cols)
    assert got == ("timestamp", [(o - EPOCH_TS) // dt.timedelta(microseconds=1) for o in want])


def test_calendar_round_trips_over_many_days():
    days = np.arange(-800_000, 3_000_000, 7, dtype=np.int64)
    y, m, d = E.civil_from_days(days)
    assert np.array_equal(E.days_from_civil(y, m, d), days)


# --- casts and parsing ----------------------------------------------------------------------------

INT_TEXT = st.one_of(st.integers(-(1 << 63), (1 << 63) - 1).map(str),
                     st.integers(-(1 << 70), 1 << 70).map(lambda i: f"{i:+d}"),
                     st.integers(0, 999).map(lambda i: f"000{i}"),
                     st.text(alphabet="0123456789+- .e_x", max_size=22))


def _py_int(text: str):
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    v = int(text)
    return v if -(1 << 63) <= v < (1 << 63) else None


@fuzz(100)
@given(values=st.lists(INT_TEXT, min_size=1, max_size=8))
def test_to_int_parses_exactly_what_python_reads_as_int64(values):
    assert run("to_int(s)", s=strings(values)) == ("int", [_py_int(v) for v in values])


FLOAT_TEXT = st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr),
                       st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f"{f:.6e}"),
                       st.text(alphabet="0123456789+-.eE", max_size=12), st.sampled_from(["nan", "inf", "1e999", ""]))


def _py_float(text: str):
    if not re.fullmatch(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", text):
        return None
    v = float(text)
    return v if np.isfinite(v) else None


@fuzz(100)
@given(values=st.lists(FLOAT_TEXT, min_size=1, max_size=8))
def test_to_float_parses_like_python_and_refuses_non_finite(values):
    kind, got = run("to_float(s)", s=strings(values))
    assert kind == "float" and got == [_py_float(v) for v in values]


DATE_TEXT = st.one_of(DAYS.map(lambda x: (EPOCH + dt.timedelta(days=x)).isoformat()),
                      st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"), st.text(alphabet="0123456789-T: ", max_size=12))


def _py_date(text: str):
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        return (dt.date.fromisoformat(text) - EPOCH).days
    except ValueError:
        return None


@fuzz(100)
@given(values=st.lists(DATE_TEXT, min_size=1, max_size=8))
def test_parse_date_reads_real_calendar_days_only(values):
    s = strings(values)
    want = [_py_date(v) for v in values]
    assert run("parse_date(s)", s=s) == ("date", want)
    assert run("to_date(s)", s=s) == ("date", want)


@fuzz(100)
@given(days=st.lists(DAYS, min_size=1, max_size=6), data=st.data())
def test_parse_timestamp_reads_iso_8601(days, data):
    texts, want = [], []
    for x in days:
        us = data.draw(st.integers(0, US - 1))
        o = EPOCH_TS + dt.timedelta(days=x, microseconds=us)
        form = data.draw(st.sampled_from(["date", "minutes", "seconds", "fraction", "z", "offset", "space"]))
        if form == "date":
            texts.append(o.date().isoformat())
            want.append(x * US)
            continue
        o = o.replace(microsecond=o.microsecond if form in ("fraction", "z", "offset") else 0)
        if form == "minutes":
            o = o.replace(second=0)
        text = f"{o.year:04d}-{o.month:02d}-{o.day:02d}T{o.hour:02d}:{o.minute:02d}"
        text += "" if form == "minutes" else f":{o.second:02d}"
        if form in ("fraction", "z", "offset") and o.microsecond:
            text += "." + f"{o.microsecond:06d}".rstrip("0")
        if form == "space":
            text = text.replace("T", " ")
        if form == "z":
            text += "Z"
        if form == "offset":
            minutes = data.draw(st.integers(-14 * 60, 14 * 60))
            sign = "-" if minutes < 0 else "+"
            text += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        else:
            minutes = 0
        texts.append(text)
        want.append((o - EPOCH_TS) // dt.timedelta(microseconds=1) - minutes * 60_000_000)
    assert run("parse_timestamp(s)", s=strings(texts)) == ("timestamp", want)


@pytest.mark.parametrize("text", ["2024-02-30", "2024-13-01", "0000-01-01", "2024-01-01T24:00", "2024-01-01T10:60",
                                  "2024-01-01T10:00:60", "2024-01-01T10:00:00.1234567", "2024-01-01T10:00+24:00",
                                  "2024-01-01Z", " 2024-01-01", "2024-1-1", ""])
def test_parse_timestamp_refuses_what_is_not_a_time(text):
    assert run("parse_timestamp(s)", s=strings([text]))[1] == [None]


def test_numeric_casts():
    x = np.array([1.7, -1.7, np.nan, 1e300, -0.5])
    b = np.array([True, False, True, False, True])
    cols = {"x": (x, "float"), "b": (b, "bool")}
    assert run("to_int(x)", **cols)[1] == [1, -1, 0, (1 << 63) - 1, 0]  # toward zero, NaN 0, saturating
    assert run("to_int(b)", **cols)[1] == [1, 0, 1, 0, 1]
    assert run("to_float(b)", **cols)[1] == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert run("to_float(row())", **cols)[1] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert run("to_int(days(1))", **cols)[1] == [US] * 5


# --- nulls: coalesce, is_null, case ---------------------------------------------------------------


def test_coalesce_picks_the_first_non_null_argument():
    s = strings(["12", "x", "2024-01-02", ""])
    assert run("coalesce(to_int(s), -1)", s=s) == ("int", [12, -1, -1, -1])
    assert run("coalesce(to_int(s), to_float(s), 0.5)", s=s) == ("float", [12.0, 0.5, 0.5, 0.5])
    assert run("coalesce(parse_date(s), to_date(concat('2000-01-0', row() + 1)))", s=s) == (
        "date", [10957 + 0, 10957 + 1, 19724, 10957 + 3])
    assert run("coalesce(to_int(s), to_int(s))", s=s)[1] == [12, None, None, None]
    assert run("is_null(to_int(s))", s=s) == ("bool", [False, True, True, True])
    x = np.array([1.0, 0.0, -2.0])
    assert run("coalesce(1 / x, 99.0)", x=(x, "float"))[1] == [1.0, 99.0, -0.5]  # NaN counts as null
    assert run("is_null(x / x)", x=(x, "float"))[1] == [False, True, False]
    assert run("to_int(s) + 1", s=s)[1] == [13, None, None, None]  # nulls flow through operators


def test_case_picks_the_first_true_condition_and_null_conditions_are_false():
    n = np.array([5, 50, 500, 5000], dtype=np.int64)
    cols = {"n": (n, "int")}
    assert run("case(n < 10, 'low', n < 100, 'mid', n < 1000, 'high', 'huge')", **cols) == (
        "string", ["low", "mid", "high", "huge"])
    assert run("case(n < 10, 1, n < 100, 2.5, 0)", **cols) == ("float", [1.0, 2.5, 0.0, 0.0])
    s = strings(["1", "x", "3", "y"])
    assert run("case(to_int(s) > 0, 'num', 'other')", s=s)[1] == ["num", "other", "num", "other"]
    assert run("if(to_int(s) > 0, 1, 2)", s=s)[1] == [1, 2, 1, 2]
    assert run("case(true, to_int(s), 0)", s=s)[1] == [1, None, 3, None]


def test_null_source_finds_what_coalesce_does_not_cover():
    kinds = {"s": "string", "d": "date"}
    assert E.null_source("coalesce(to_int(s), 0)", kinds) is None
    assert E.null_source("is_null(parse_date(s))", kinds) is None
    assert E.null_source("to_int(d) + to_int('12')", kinds) is None  # a date always converts; a literal parses
    got = E.null_source("coalesce(to_int(s), 0) + to_float(s)", kinds)
    assert got is not None and got.func == "to_float" and got.pos == 25


# --- load-time errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, fragment, hint", [
    ("substrng(s, 1)", "unknown function 'substrng'", "did you mean substring()?"),
    ("substring(s, 0, 2)", "substring()'s start must be an integer literal of at least 1", "first three"),
    ("substring(s, n)", "substring()'s start must be an integer literal", None),
    ("substring(s, 1, -1)", "substring()'s length must be a non-negative integer literal", None),
    ("lpad(s, 5, 'ab')", "lpad()'s fill must be a string literal of one character", "lpad(code, 6, '0')"),
    ("rpad(s, 100000)", "rpad()'s width must be an integer literal from 0 to 10000", None),
    ("replace(s, s, 'x')", "replace()'s text to find must be a string literal", None),
    ("replace(s, '', 'x')", "replace()'s text to find is empty", None),
    ("date_trunc('mnth', d)", "date_trunc()'s unit must be one of", "did you mean 'month'?"),
    ("date_trunc(d, 'month')", "date_trunc()'s unit must be one of", None),
    ("case(true, 1, false, 2)", "an odd number of arguments, got 4", "case(x < 10"),
    ("case when n > 1 then 2 end", "case is a function here", "case(condition1"),
    ("row(1)", "row() takes 0 arguments, got 1", None),
    ("coalesce(s)", "coalesce() takes at least 2 arguments, got 1", None),
])
def test_parse_errors(text, fragment, hint):
    with pytest.raises(E.ExprError) as info:
        E.parse_expr(text)
    assert fragment in info.value.message
    assert (hint is None) or (hint in (info.value.hint or ""))


@pytest.mark.parametrize("text, fragment", [
    ("length(n)", "length() needs a string, got int"),
    ("year(n)", "year() needs a date or a timestamp, got int"),
    ("hour(d)", "hour() needs a timestamp, got date"),
    ("date_trunc('hour', d)", "date_trunc('hour', …) needs a timestamp, got date"),
    ("case(n, 1, 2)", "case() needs a bool condition as argument 1, got int"),
    ("case(n > 1, 'a', 2)", "case() values must have the same kind, got string, int"),
    ("coalesce(d, 1)", "coalesce() arguments must have the same kind, got date, int"),
    ("to_float(d)", "to_float() needs a number, a bool or a string, got date"),
    ("to_date(n)", "to_date() needs a date, a timestamp or a string, got int"),
    ("parse_date(d)", "parse_date() needs a string, got date"),
])
def test_kind_errors(text, fragment):
    with pytest.raises(E.ExprError) as info:
        E.infer_kind(text, {"s": "string", "n": "int", "d": "date"})
    assert fragment in info.value.message


def test_constant_strings_that_do_not_parse_are_refused():
    [problem] = E.constant_problems("coalesce(to_int(s), to_int('12a'))")
    assert "to_int() of '12a'" in problem.message and problem.position == 27
    assert not E.constant_problems("parse_timestamp('2024-01-31T12:00:00Z') + days(1)")


SCHEMA = textwrap.dedent("""\
    version: 1
    name: fx
    tables:
      - name: c
        rows: 40
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: code, type: string, generator: {type: template, params: {template: "C-{_row:05d}"}}}
      - name: t
        rows: 1000
        primary_key: id
        columns:
          - {name: id, type: int64, generator: {type: sequence, params: {start: 7}}}
          - {name: cid, type: int64, generator: {type: fk, params: {table: c, column: id}}}
          - name: at
            type: timestamp
            generator: {type: uniform_timestamp, params: {start: "2020-01-01T00:00:00Z", end: "2025-01-01T00:00:00Z"}}
          - {name: raw, type: string, generator: {type: choice, params: {values: ["12", "x", "2024-02-29", "-7", "3.5"]}}}
          - {name: ref, type: string, generator: {type: template, params: {template: "T{_row:06d}/{cid.code}/{_row}"}}}
          - name: idx
            type: int64
            generator: {type: expr, params: {expr: "row() * 10 + coalesce(to_int(substring(cid.code, 3)), 0)"}}
          - {name: num, type: int64, nullable: true, generator: {type: expr, params: {expr: "to_int(raw)"}}}
          - {name: num0, type: int64, generator: {type: expr, params: {expr: "coalesce(to_int(raw), to_int(to_float(raw)), -1)"}}}
          - {name: day, type: date, nullable: true, generator: {type: expr, params: {expr: "parse_date(raw)"}}}
          - {name: month, type: date, generator: {type: expr, params: {expr: "date_trunc('month', at)"}}}
          - name: label
            type: string
            generator:
              type: expr
              params:
                expr: >-
                  concat(upper(lpad(to_string(weekday(at)), 2, '0')), '-',
                  case(hour(at) < 12, 'am', hour(at) < 18, 'pm', 'night'), '-', year(at))
    """)


def _write(tmp_path, block_rows, workers, name):
    p = tmp_path / "fx.yaml"
    p.write_text(SCHEMA)
    plan = resolve_plan(load_schema(str(p)), block_rows=block_rows)
    out = tmp_path / name
    generate(plan, CsvFormat(), out, workers=workers)
    return {f.name: f.read_bytes() for f in sorted(out.glob("*.csv"))}


def test_new_functions_give_the_same_bytes_whatever_the_blocks_and_workers(tmp_path):
    base = _write(tmp_path, 65536, 1, "a")
    assert set(base) == {"c.csv", "t.csv"}
    assert _write(tmp_path, 7, 1, "b") == base
    assert _write(tmp_path, 64, 2, "c") == base
    rows = list(csv.DictReader(io.StringIO(base["t.csv"].decode())))
    codes = {r["id"]: r["code"] for r in csv.DictReader(io.StringIO(base["c.csv"].decode()))}
    assert len(rows) == 1000
    for i, r in enumerate(rows):
        assert r["ref"] == f"T{i:06d}/{codes[r['cid']]}/{i}"
        assert int(r["idx"]) == i * 10 + int(codes[r["cid"]][2:])
        assert r["num"] == (r["raw"] if r["raw"] in ("12", "-7") else "")
        assert r["num0"] == {"12": "12", "-7": "-7", "3.5": "3"}.get(r["raw"], "-1")
        assert r["day"] == ("2024-02-29" if r["raw"] == "2024-02-29" else "")
        assert r["month"][8:10] == "01" and r["month"][:7] == r["at"][:7]
    assert {r["label"][3:5] for r in rows} >= {"am", "pm"}
    assert [codes[str(i)] for i in (1, 2, 3)] == ["C-00000", "C-00001", "C-00002"]


def test_a_null_source_on_a_non_nullable_column_is_refused_with_its_path(tmp_path):
    text = SCHEMA.replace("{name: num, type: int64, nullable: true,", "{name: num, type: int64,")
    p = tmp_path / "fx.yaml"
    p.write_text(text)
    with pytest.raises(SchemaError) as info:
        load_schema(str(p))
    rendered = info.value.render()
    assert "tables[1].columns[6].generator.params.expr" in rendered
    assert "to_int() gives null where its string does not parse" in rendered and "coalesce(" in rendered


# --- templates: {_row} and integer format specs ----------------------------------------------------


@fuzz(100)
@given(values=st.lists(st.integers(-(1 << 63), (1 << 63) - 1), min_size=1, max_size=8),
       zero=st.booleans(), width=st.integers(0, 25))
def test_template_int_specs_match_python_format(values, zero, width):
    from shared.distributions.text import pad_int_text

    text = pa.array([str(v) for v in values], pa.string())
    spec = f"{'0' if zero else ''}{width}d"
    assert pad_int_text(text, zero, width).to_pylist() == [format(v, spec) for v in values]


ROW_SCHEMA = textwrap.dedent("""\
    version: 1
    name: rw
    tables:
      - name: t
        rows: 120
        columns:
          - {name: n, type: int32, generator: {type: uniform_int, params: {min: -50, max: 50}}}
          - {name: s, type: string, generator: {type: choice, params: {values: [a, b]}}}
          - {name: code, type: string, unique: true, max_length: 9, generator: {type: template, params: {template: "%s"}}}
    """)


def _load(tmp_path, template: str, extra: str = ""):
    p = tmp_path / "rw.yaml"
    p.write_text(ROW_SCHEMA.replace("%s", template) + extra)
    return load_schema(str(p))


@pytest.mark.parametrize("template, first", [("{_row}", "0"), ("X-{_row:06d}", "X-000000"), ("{s}#{_row:3}", "a#  0"),
                                             ("{_row:d}:{n:+}", None)])
def test_row_templates_are_unique_by_construction(tmp_path, template, first):
    if first is None:
        with pytest.raises(SchemaError) as info:
            _load(tmp_path, template)
        assert "format spec '+' is not supported" in info.value.render()
        return
    schema = _load(tmp_path, template)
    plan = resolve_plan(schema, block_rows=16)
    out = tmp_path / "o"
    generate(plan, CsvFormat(), out)
    codes = [r["code"] for r in csv.DictReader(io.StringIO((out / "t.csv").read_text()))]
    assert len(set(codes)) == 120 and codes[0].startswith(first[:2])
    assert codes[0] == first or codes[0].endswith(first[1:])


def test_row_template_is_cut_checked_against_max_length(tmp_path):
    resolve_plan(_load(tmp_path, "XY-{_row:06d}"))  # 9 characters fit
    with pytest.raises(InfeasibleSchema) as info:
        resolve_plan(_load(tmp_path, "XY-{_row:07d}"))  # 10 characters > max_length 9 on a unique column
    assert "cuts its template values (up to 10 characters)" in info.value.render()


def test_template_specs_need_integers_and_row_needs_no_column_of_that_name(tmp_path):
    with pytest.raises(SchemaError) as info:
        _load(tmp_path, "{s:04d}")
    assert "format specs apply to integers, and 's' is string" in info.value.render()
    text = ROW_SCHEMA.replace("%s", "{_row}").replace(
        "    columns:\n", "    columns:\n      - {name: _row, type: int64, generator: sequence}\n")
    p = tmp_path / "rw2.yaml"
    p.write_text(text)
    with pytest.raises(SchemaError) as info:
        load_schema(str(p))
    assert "{_row} at offset 0 is the row index" in info.value.render()
    p.write_text(ROW_SCHEMA.replace("%s", "{n:04d}|{_row}").replace("unique: true, max_length: 9", "max_length: 20"))
    schema = load_schema(str(p))
    generate(resolve_plan(schema), CsvFormat(), tmp_path / "o2")
    codes = [r["code"] for r in csv.DictReader(io.StringIO((tmp_path / "o2" / "t.csv").read_text()))]
    assert all(re.fullmatch(r"-?[0-9]{3,4}\|[0-9]+", c) and len(c.split("|")[0]) == 4 for c in codes)


def test_every_expr_function_is_in_the_docs_table():
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "dsl.md").read_text(encoding="utf-8")
    table = doc[doc.index("| function | arguments → result | example |"):doc.index("There is no `format(")]
    missing = [f for f in E.FUNCTIONS if not re.search(rf"`{f}\(|[`/, ]{f}\b", table)]
    assert not missing, missing


def test_surrogate_escapes_are_refused_when_parsing():
    with pytest.raises(E.ExprError, match="surrogate"):
        E.parse_expr("parse_date('\\ud800')")
    assert E.parse_expr("'\\u00e9'").root == E.Str("é", 0)
    with pytest.raises(E.ExprError, match="lone surrogate") as info:
        E.parse_expr("concat(a, '\ud800')")
    assert info.value.position == 11
