"""The dirty profile: reproducible, recorded, honest under validate."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from generators.parquet_generator.__main__ import app
from shared.api import Engine, load_schema, resolve_plan
from tests.helpers import make_runner

SCHEMA = textwrap.dedent("""
    version: 1
    name: dirtyshop
    seed: 3
    profile: dirty
    corruption: {typos: 0.05, nulls: 0.03}
    tables:
      - name: customers
        rows: 2000
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: name, type: string, generator: {type: faker, params: {provider: name, pool_size: 300}}}
          - {name: tier, type: string, allowed: [free, pro], generator: {type: choice, params: {values: [free, pro]}}}
          - {name: age, type: int32, min: 18, max: 90, generator: {type: uniform_int, params: {min: 18, max: 90}}}
          - {name: born, type: date, generator: {type: uniform_date, params: {start: "1950-01-01", end: "2000-12-31"}}}
          - {name: quiet, type: string, corruption: {typos: 0, whitespace: 0, casing: 0, encoding: 0, nulls: 0},
             generator: {type: choice, params: {values: [a, b]}}}
      - name: orders
        rows: 5000
        corruption: {orphans: 0.02, duplicates: 0.01}
        primary_key: order_id
        columns:
          - {name: order_id, type: int64, generator: sequence}
          - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers}}}
          - {name: amount, type: "decimal(10,2)", min: 1, max: 1000,
             generator: {type: uniform_float, params: {min: 1, max: 1000}}}
""")



@pytest.fixture(scope="module")
def schema_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("dirty") / "d.yaml"
    p.write_text(SCHEMA)
    return p


@pytest.fixture(scope="module")
def out(schema_file, tmp_path_factory):
    o = tmp_path_factory.mktemp("dirty-out") / "o"
    res = make_runner().invoke(app, ["generate", "--format", "parquet", "--schema", str(schema_file), "--out", str(o),
                                 "--workers", "1", "-q"])
    assert res.exit_code == 0, res.output
    return o


def _tables(plan, dirty):
    eng = Engine(plan)
    return {n: pa.Table.from_batches([eng.batch(n, 0, plan.rows(n), dirty=dirty)]) for n in plan.order}


def test_every_changed_cell_is_recorded(schema_file, out):
    plan = resolve_plan(load_schema(str(schema_file)))
    clean, dirty = _tables(plan, False), _tables(plan, True)
    rec = pacsv.read_csv(out / "corruptions.csv").to_pandas()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["corruption"]["sidecar"] == "corruptions.csv"
    assert any(f["path"] == "corruptions.csv" for f in manifest["files"])
    total = sum(n for cols in manifest["corruption"]["counts"].values() for kinds in cols.values() for n in kinds.values())
    assert total == len(rec)
    for name in plan.order:
        dup_rows = set(rec[(rec.table == name) & (rec.kind == "duplicates")].row)
        for col in clean[name].column_names:
            a, b = clean[name].column(col), dirty[name].column(col)
            same = pc.fill_null(pc.equal(a, b), False)
            both_null = pc.and_(pc.is_null(a), pc.is_null(b))
            changed = set(np.flatnonzero(~pc.or_(same, both_null).to_numpy(zero_copy_only=False)).tolist())
            recorded = set(rec[(rec.table == name) & (rec.column == col)].row) | dup_rows
            assert changed <= recorded, (name, col, sorted(changed - recorded)[:5])


def test_rates_and_overrides(out):
    rec = pacsv.read_csv(out / "corruptions.csv").to_pandas()
    cust = rec[rec.table == "customers"]
    assert not (cust.column == "quiet").any()  # column-level zero rates disable every kind
    typos = cust[(cust.column == "name") & (cust.kind == "typos")]
    assert abs(len(typos) / 2000 - 0.05) < 0.015  # schema-level override of the default 0.01
    orders = rec[rec.table == "orders"]
    assert abs((orders.kind == "orphans").sum() / 5000 - 0.02) < 0.008
    assert set(rec.kind) <= {"nulls", "typos", "whitespace", "casing", "out_of_range", "malformed_dates",
                             "duplicates", "orphans", "encoding"}
    assert not ((rec.column == "id") & (rec.kind == "typos")).any()


def test_dirty_bytes_are_deterministic(schema_file, out, tmp_path):
    o2 = tmp_path / "o2"
    res = make_runner().invoke(app, ["generate", "--format", "parquet", "--schema", str(schema_file), "--out", str(o2),
                                 "--workers", "2", "--block-rows", "333", "-q"])
    assert res.exit_code == 0
    a = {f["path"]: f["sha256"] for f in json.loads((out / "manifest.json").read_text())["files"]}
    b = {f["path"]: f["sha256"] for f in json.loads((o2 / "manifest.json").read_text())["files"]}
    assert a == b


def test_validate_reports_injected_as_warnings_and_strict_fails(schema_file, out, tmp_path):
    res = make_runner().invoke(app, ["validate", "--format", "parquet", "--schema", str(schema_file), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rep = json.loads((out / "validation_report.json").read_text())
    warned = {c["kind"] for c in rep["checks"] if c["status"] == "warning"}
    assert {"not_null", "foreign_key", "primary_key"} <= warned
    assert all(c["status"] == "pass" for c in rep["checks"] if c["kind"] == "deterministic_replay")
    res = make_runner().invoke(app, ["validate", "--format", "parquet", "--schema", str(schema_file), "--out", str(out),
                                 "--strict"])
    assert res.exit_code == 1


def test_realistic_profile_is_clean(schema_file, tmp_path):
    plan = resolve_plan(load_schema(str(schema_file)), profile="realistic")
    t = Engine(plan).batch("customers", 0, 2000)
    assert t.column("id").null_count == 0
    assert pc.all(pc.is_in(t.column("tier"), value_set=pa.array(["free", "pro"]))).as_py()
