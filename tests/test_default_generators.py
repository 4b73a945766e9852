"""Columns written without a generator (issue 12, item 2): each gets the one its type, name and
constraints call for, ``describe`` shows it and why, a written generator replaces it, and the
data generates and validates in every format."""

from __future__ import annotations

import json
import textwrap

import jsonschema
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datagen
from shared import api
from shared.errors import DatagenError
from shared.resources import data_file
from shared.schema_dsl.defaults import provider_for

SCHEMA = textwrap.dedent("""\
    version: 1
    name: dw
    seed: 3
    tables:
      - name: customers
        rows: 300
        primary_key: customer_id
        columns:
          - {name: customer_id, type: integer}
          - {name: first_name, type: "varchar(40)"}
          - {name: lastName, type: "varchar(40)"}
          - {name: billing_email, type: "varchar(120)"}
          - {name: city, type: text}
          - {name: company_name, type: text}
          - {name: segment, type: text, allowed: [retail, smb, enterprise]}
          - {name: sku, type: text, pattern: "[A-Z]{3}-[0-9]{4}"}
          - {name: notes, type: text}
          - {name: misc, type: text}
          - {name: age, type: smallint, min: 18, max: 90}
          - {name: score, type: "numeric(5,2)", min: 0}
          - {name: weight, type: real}
          - {name: active, type: boolean}
          - {name: signup, type: date}
          - {name: last_seen, type: timestamptz, min: "2024-01-01T00:00:00Z"}
          - {name: token, type: uuid}
          - {name: ref, type: text, unique: true}
          - {name: written, type: text, generator: {type: const, params: {value: x}}}
    """)

EXPECTED = {  # column: (generator, params, why)
    "customer_id": ("sequence", {}, "a numeric key"),
    "first_name": ("faker", {"provider": "first_name"}, "its name (first_name)"),
    "lastName": ("faker", {"provider": "last_name"}, "its name (last_name)"),
    "billing_email": ("faker", {"provider": "email"}, "its name (email)"),
    "city": ("faker", {"provider": "city"}, "its name (city)"),
    "company_name": ("faker", {"provider": "company"}, "its name (company)"),
    "segment": ("choice", {"values": ["retail", "smb", "enterprise"]}, "its allowed values"),
    "sku": ("regex", {"pattern": "[A-Z]{3}-[0-9]{4}"}, "its pattern"),
    "notes": ("faker", {"provider": "sentence"}, "its name (sentence)"),
    "misc": ("words", {}, "a text column"),
    "age": ("uniform_int", {"min": 18, "max": 90}, "a number in its range"),
    "score": ("uniform_float", {"min": 0, "max": 999.99}, "a number in its range"),
    "weight": ("uniform_float", {"min": 0, "max": 1000}, "a number in its range"),
    "active": ("bernoulli", {}, "a bool column"),
    "signup": ("uniform_date", {"start": "-1095d", "end": "+0d"}, "a time in its window"),
    "last_seen": ("uniform_timestamp", {"end": "2026-12-31T00:00:00Z"}, "a time in its window"),
    "token": ("uuid4", {}, "a uuid column"),
    "ref": ("uuid4", {}, "a text key"),
    "written": ("const", {"value": "x"}, None),
}


@pytest.fixture()
def schema_path(tmp_path):
    path = tmp_path / "dw.yaml"
    path.write_text(SCHEMA)
    return path


def test_each_column_gets_the_generator_its_type_name_and_constraints_call_for(schema_path):
    info = api.describe(api.resolve_plan(api.load_schema(str(schema_path))))
    got = {c["name"]: (c["generator_type"], c["params"], c["generator_default"]) for c in info["tables"][0]["columns"]}
    assert got == EXPECTED


def test_describe_marks_the_chosen_generators(schema_path, runner):
    from datagen.cli import app

    result = runner.invoke(app, ["describe", "--format", "csv", "--schema", str(schema_path)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "sequence (default: a numeric key)" in result.output
    assert "faker(provider=email) (default: its name (email))" in result.output
    assert "const(value=x) (default" not in result.output


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "parquet", "sqlite", "event_stream"])
def test_a_schema_of_types_alone_generates_and_validates_in_every_format(schema_path, tmp_path, runner, fmt):
    from datagen.cli import app

    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--format", fmt, "--schema", str(schema_path), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["validate", "--format", fmt, "--schema", str(schema_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    if fmt == "parquet":
        t = pq.read_table(out / "customers").to_pydict()
        assert t["customer_id"] == list(range(1, 301))
        assert all("@" in e for e in t["billing_email"]) and set(t["segment"]) <= {"retail", "smb", "enterprise"}
        assert all(18 <= a <= 90 for a in t["age"]) and len(set(t["ref"])) == 300


def test_a_one_sided_time_bound_is_checked_by_validate(schema_path, tmp_path):
    """The range check of a date or timestamp column with only ``min`` (or only ``max``) used to
    fail to run ("TypeError: int() argument … 'NoneType'")."""
    out = tmp_path / "out"
    datagen.generate(str(schema_path), format="csv", out=out)
    report = datagen.validate(str(schema_path), format="csv", out=out)
    ranges = [c for c in report["checks"] if c["kind"] == "range" and c["column"] == "last_seen"]
    assert ranges and ranges[0]["status"] == "pass", ranges


def test_the_json_schema_accepts_a_column_without_a_generator():
    doc = yaml.safe_load(SCHEMA)
    jsonschema.validate(doc, json.loads(data_file("datagen.schema.json").read_text()))


@pytest.mark.parametrize("name, provider", [
    ("email", "email"), ("billing_email", "email"), ("EmailAddress", "email"), ("first_name", "first_name"),
    ("firstName", "first_name"), ("company_name", "company"), ("customer_name", "name"), ("name", "name"),
    ("user_name", "user_name"), ("phone_number", "phone_number"), ("zip_code", "postcode"),
    ("shipping_address", "street_address"), ("comments", "sentence"), ("ip_address", "ipv4"),
    ("status", None), ("emails_sent", None), ("name_suffix", None),
])
def test_names_ask_for_providers(name, provider):
    assert provider_for(name) == provider


NUMERIC = st.sampled_from(["int16", "int32", "bigint", "float64", "real", "numeric(7,2)", "decimal(12,4)"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(NUMERIC, st.one_of(st.none(), st.integers(-20_000, 20_000)), st.one_of(st.none(), st.integers(0, 5_000)))
def test_a_default_number_stays_inside_its_bounds(tmp_path, type_name, lo, span):
    """Any numeric type with either, both or no bounds: the default generator's values stay inside."""
    hi = None if span is None else (lo if lo is not None else 0) + span
    col = {"name": "v", "type": type_name}
    if lo is not None:
        col["min"] = lo
    if hi is not None:
        col["max"] = hi
    doc = {"version": 1, "name": "n", "seed": 1, "tables": [{"name": "t", "rows": 200, "columns": [col]}]}
    path = tmp_path / f"n-{abs(hash(json.dumps(doc)))}.yaml"
    path.write_text(json.dumps(doc))
    try:
        plan = api.resolve_plan(api.load_schema(str(path)))
    except DatagenError as exc:  # a type too narrow for the bounds is the bounds' problem, said as such
        assert exc.exit_code == 2
        return
    values = datagen.to_arrow(str(path))["t"].column("v").to_pylist()
    assert plan.tables["t"].rows == 200 and len(values) == 200
    assert all((lo is None or v >= lo) and (hi is None or v <= hi) for v in values)
