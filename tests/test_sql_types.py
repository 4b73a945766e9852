"""SQL type names as aliases of the DSL's types (issue 12, item 1).

Schemas translated from DDL or other tools say ``varchar(40)``, ``numeric(12,2)``, ``bigint``,
``timestamptz``; each reads as the DSL type it means, a length becomes the column's
``max_length``, and what has no meaning here (``numeric`` without digits, nanoseconds) is refused
at the type's path."""

from __future__ import annotations

import csv
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import api
from shared.errors import SchemaError
from shared.model.types import parse_type

#: spellings seen in real DDL (PostgreSQL, MySQL, SQL Server, Oracle, Snowflake) and what they mean
SPELLINGS = [
    ("integer", "int32", None), ("INT", "int32", None), ("int4", "int32", None), ("serial", "int32", None),
    ("smallint", "int16", None), ("tinyint", "int8", None), ("bigint", "int64", None),
    ("bigserial", "int64", None), ("int8", "int8", None),  # the DSL's int8: 8 bits (not PostgreSQL's)
    ("real", "float32", None), ("float4", "float32", None), ("float(24)", "float32", None),
    ("float(53)", "float64", None), ("double", "float64", None), ("double precision", "float64", None),
    ("float8", "float64", None), ("boolean", "bool", None), ("text", "string", None),
    ("varchar", "string", None), ("varchar(40)", "string", 40), ("character varying(12)", "string", 12),
    ("char(2)", "string", 2), ("char", "string", 1), ("nvarchar(100)", "string", 100),
    ("varchar2(30)", "string", 30), ("numeric(12,2)", "decimal(12,2)", None),
    ("NUMBER(10)", "decimal(10,0)", None), ("number(38, 10)", "decimal(38,10)", None),
    ("decimal(5)", "decimal(5,0)", None), ("dec(9,3)", "decimal(9,3)", None),
    ("timestamptz", "timestamp", None), ("timestamp with time zone", "timestamp", None),
    ("timestamp(3) without time zone", "timestamp", None), ("timestamp(6)", "timestamp", None),
    ("datetime", "timestamp", None), ("datetime2(7)", None, None), ("timestamp_ntz", "timestamp", None),
    ("date", "date", None), ("uuid", "uuid", None),
]


@pytest.mark.parametrize("spelled, name, length", SPELLINGS, ids=[s for s, _, _ in SPELLINGS])
def test_sql_spellings_read_as_the_type_they_mean(spelled, name, length):
    if name is None:
        with pytest.raises(ValueError, match="microsecond"):
            parse_type(spelled)
        return
    t = parse_type(spelled)
    assert (t.name, t.length) == (name, length)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([s for s, n, _ in SPELLINGS if n is not None]), st.data())
def test_case_and_spacing_do_not_change_a_type(spelled, data):
    upper = "".join(c.upper() if data.draw(st.booleans()) else c for c in spelled)
    spaced = upper.replace(" ", " " * data.draw(st.integers(1, 3))).replace("(", data.draw(st.sampled_from(["(", " ("])))
    pad = " " * data.draw(st.integers(0, 2))
    assert parse_type(pad + spaced + pad) == parse_type(spelled)
    assert parse_type(pad + spaced + pad).length == parse_type(spelled).length


@pytest.mark.parametrize("spelled, message", [
    ("numeric", "numeric: give the precision and scale, e.g. numeric(12,2)"),
    ("number", "give the precision and scale"),
    ("timestamp(9)", "datagen keeps times to the microsecond"),
    ("varchar(0)", "a string length must be at least 1"),
    ("numeric(40,2)", "decimal precision must be 1..38, got 40"),
    ("numeric(4,6)", "decimal scale 6 exceeds precision 4"),
    ("varchar(3,2)", "unknown type"),
    ("integr", "unknown type 'integr'"),
])
def test_what_has_no_meaning_here_is_refused(spelled, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_type(spelled)


SCHEMA = textwrap.dedent("""\
    version: 1
    name: ddl
    seed: 5
    tables:
      - name: accounts
        rows: 300
        primary_key: id
        columns:
          - {name: id, type: bigint, generator: sequence}
          - {name: code, type: "varchar(6)", generator: {type: regex, params: {pattern: '[A-Z]{10}'}}}
          - {name: country, type: char(2), generator: {type: choice, params: {values: [NO, SE, DK]}}}
          - {name: short, type: "varchar(10)", max_length: 4, generator: {type: regex, params: {pattern: '[a-z]{9}'}}}
          - {name: balance, type: "numeric(12,2)", generator: {type: uniform_float, params: {min: 0, max: 5000}}}
          - {name: rate, type: double precision, generator: {type: normal, params: {mean: 1, std: 0.1}}}
          - {name: active, type: boolean, generator: bernoulli}
          - {name: opened, type: timestamptz, generator: {type: uniform_timestamp,
                                                           params: {start: "2024-01-01T00:00:00Z", end: "2024-06-01T00:00:00Z"}}}
          - {name: rank, type: smallint, generator: {type: uniform_int, params: {min: 1, max: 100}}}
    """)


def test_a_length_becomes_max_length_unless_the_column_sets_a_smaller_one(tmp_path):
    path = tmp_path / "ddl.yaml"
    path.write_text(SCHEMA)
    schema = api.load_schema(str(path))
    cols = {c.name: c for c in schema.table("accounts").columns}
    assert (cols["code"].dtype.name, cols["code"].max_length) == ("string", 6)
    assert cols["country"].max_length == 2
    assert cols["short"].max_length == 4
    assert cols["balance"].dtype.name == "decimal(12,2)" and cols["id"].dtype.name == "int64"
    assert cols["rank"].dtype.name == "int16" and cols["opened"].dtype.name == "timestamp"


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "parquet", "sqlite", "event_stream"])
def test_a_schema_in_sql_types_generates_and_validates_in_every_format(tmp_path, runner, fmt):
    from datagen.cli import app

    path = tmp_path / "ddl.yaml"
    path.write_text(SCHEMA)
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--format", fmt, "--schema", str(path), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["validate", "--format", fmt, "--schema", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        with open(out / "accounts.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 300
        assert all(len(r["code"]) == 6 and len(r["short"]) == 4 and len(r["country"]) == 2 for r in rows)


def test_a_decimal_cut_by_a_flow_mapping_is_one_problem_with_the_fix(tmp_path, runner):
    from datagen.cli import app

    path = tmp_path / "cut.yaml"
    path.write_text(SCHEMA.replace('type: "numeric(12,2)"', "type: numeric(12,2)"))
    with pytest.raises(SchemaError) as exc:
        api.load_schema(str(path))
    assert len(exc.value.problems) == 1
    result = runner.invoke(app, ["describe", "--format", "csv", "--schema", str(path)])
    assert result.exit_code == 2
    assert "tables[0].columns[4].type: the type 'numeric(12' was cut at its comma" in result.output
    assert "hint: quote the type: type: 'numeric(12,2)'" in result.output
    assert "Traceback" not in result.output
