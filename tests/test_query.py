"""``datagen query`` (issue 15): SQL over a generated folder, each table a DuckDB view over its
files. Joins and aggregates over every file format are checked against the same question
answered with pyarrow over the Parquet output (read by pyarrow itself, not DuckDB)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import typer.main

from datagen import query as q
from datagen.cli import app
from shared.errors import UsageError
from tests.helpers import ROOT, make_runner, output_text

pytest.importorskip("duckdb")

SHOP = ROOT / "schemas" / "examples" / "shop.yaml"
#: (folder name, --format, --option …): every file format, and CSV's dialect variations
FORMATS = [
    ("csv", "csv", ()),
    ("csv_gzip_semicolon", "csv", ("delimiter=semicolon", "compression=gzip", "quoting=needed", "null=NULL")),
    ("csv_no_header", "csv", ("header=false",)),
    ("json", "json", ()),
    ("ndjson", "ndjson", ()),
    ("parquet", "parquet", ()),
    ("event_stream", "event_stream", ()),
    ("sqlite", "sqlite", ()),
]


def _invoke(*args):
    return make_runner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("query")
    done = {}
    for name, fmt, options in FORMATS:
        opts = [a for o in options for a in ("--option", o)]
        r = _invoke("generate", "--format", fmt, "--schema", SHOP, "--out", base / name, "--scale", "0.02",
                    "--workers", "1", "-q", *opts)
        assert r.exit_code == 0, output_text(r)
        done[name] = base / name
    return done


@pytest.fixture(scope="module")
def arrow(outputs) -> dict[str, pa.Table]:
    """The reference: each table read from the Parquet output by pyarrow."""
    return {t: pq.read_table(outputs["parquet"] / t) for t in ("customers", "products", "orders", "order_items")}


JOIN_SQL = """
    SELECT c.tier, count(*) AS lines, sum(i.quantity) AS units, sum(i.line_total) AS revenue
    FROM order_items i JOIN orders o ON o.order_id = i.order_id
         JOIN customers c ON c.customer_id = o.customer_id
    GROUP BY c.tier ORDER BY c.tier"""


def _join_reference(arrow) -> dict[str, tuple[int, int, Decimal]]:
    items = arrow["order_items"].select(["order_id", "quantity", "line_total"])
    orders = arrow["orders"].select(["order_id", "customer_id"])
    customers = arrow["customers"].select(["customer_id", "tier"])
    joined = items.join(orders, "order_id").join(customers, "customer_id")
    agg = joined.group_by("tier").aggregate([("order_id", "count"), ("quantity", "sum"), ("line_total", "sum")])
    return {r["tier"]: (r["order_id_count"], r["quantity_sum"], r["line_total_sum"]) for r in agg.to_pylist()}


@pytest.mark.parametrize("name", [f[0] for f in FORMATS])
def test_a_join_and_aggregate_matches_pyarrow(outputs, arrow, name):
    result = q.query(outputs[name], JOIN_SQL)
    got = {r["tier"]: (r["lines"], r["units"], r["revenue"]) for r in result.to_pylist()}
    assert got == _join_reference(arrow)
    assert sum(v[0] for v in got.values()) == arrow["order_items"].num_rows > 0


@pytest.mark.parametrize("name", [f[0] for f in FORMATS])
def test_per_status_times_and_nulls_match_pyarrow(outputs, arrow, name):
    sql = """SELECT status, count(*) AS n, count(coupon_code) AS with_coupon, min(created_at) AS first,
                    max(created_at) AS last FROM orders GROUP BY status ORDER BY status"""
    got = q.query(outputs[name], sql).to_pylist()
    orders = arrow["orders"]
    want = []
    for status in sorted(set(orders["status"].to_pylist())):
        sub = orders.filter(pc.equal(orders["status"], status))
        want.append({"status": status, "n": sub.num_rows, "with_coupon": sub.num_rows - sub["coupon_code"].null_count,
                     "first": pc.min(sub["created_at"]).as_py(), "last": pc.max(sub["created_at"]).as_py()})
    assert got == want


@pytest.mark.parametrize("name", [f[0] for f in FORMATS])
def test_columns_have_the_schemas_types_not_guessed_ones(outputs, arrow, name):
    """CSV, JSON and SQLite read back with the manifest's DSL types: decimals stay decimal(p,s),
    bools bool, timestamps UTC instants — the very Arrow types of the Parquet output."""
    for table in ("products", "orders", "order_items"):
        got = q.query(outputs[name], f"SELECT * FROM {table}")
        assert got.schema.types == arrow[table].schema.types, (name, table)
        assert got.sort_by(got.column_names[0]).to_pylist() == arrow[table].to_pylist()


def test_the_tables_and_their_files(outputs):
    found = q.tables(outputs["parquet"])
    assert list(found) == ["customers", "products", "orders", "order_items"]
    assert all(p.suffix == ".parquet" and p.exists() for t in found.values() for p in t.files)
    assert ("unit_price", "decimal(10,2)") in found["order_items"].columns
    assert q.tables(outputs["csv_gzip_semicolon"])["orders"].files[0].name == "orders.csv.gz"
    assert q.tables(outputs["event_stream"])["events"].files[0].name == "events.ndjson"


def test_event_tables_are_views_over_the_merged_stream(tmp_path):
    """An event table of ``--format event_stream`` is only in ``events.ndjson``: its view is the
    ``data`` of that table's events, typed; the result matches the same run written as Parquet."""
    iot = ROOT / "schemas" / "examples" / "iot.yaml"
    for fmt in ("event_stream", "parquet"):
        r = _invoke("generate", "--format", fmt, "--schema", iot, "--out", tmp_path / fmt, "--scale", "0.002",
                    "--workers", "1", "-q")
        assert r.exit_code == 0, output_text(r)
    sql = """SELECT d.site, count(*) AS n, sum(r.temperature_c) AS t, min(r.ts) AS first
             FROM readings r JOIN devices d ON d.device_id = r.device_id GROUP BY d.site ORDER BY d.site"""
    readings = pq.read_table(tmp_path / "parquet" / "readings")
    devices = pq.read_table(tmp_path / "parquet" / "devices").select(["device_id", "site"])
    agg = readings.join(devices, "device_id").group_by("site").aggregate(
        [("reading_id", "count"), ("temperature_c", "sum"), ("ts", "min")]).sort_by("site")
    got = q.query(tmp_path / "event_stream", sql).to_pylist()
    assert [(g["site"], g["n"], g["first"]) for g in got] == [
        (a["site"], a["reading_id_count"], a["ts_min"]) for a in agg.to_pylist()]
    assert [g["t"] for g in got] == pytest.approx(agg["temperature_c_sum"].to_pylist())
    assert q.query(tmp_path / "event_stream", "SELECT * FROM readings").schema.types == readings.schema.types
    n = q.query(tmp_path / "event_stream", "SELECT count(*) AS n FROM events").to_pylist()[0]["n"]
    assert n == readings.num_rows + pq.read_table(tmp_path / "parquet" / "alerts").num_rows


def test_limit(outputs):
    assert q.query(outputs["csv"], "SELECT * FROM orders", limit=3).num_rows == 3
    assert q.query(outputs["csv"], "SELECT * FROM orders", limit=0).num_rows == 0


def test_an_older_manifest_without_columns_is_read_with_detection(outputs, tmp_path, arrow):
    out = tmp_path / "old"
    shutil.copytree(outputs["csv"], out)
    m = json.loads((out / "manifest.json").read_text())
    del m["columns"]
    (out / "manifest.json").write_text(json.dumps(m))
    got = q.query(out, "SELECT count(*) AS n, sum(quantity) AS units FROM order_items").to_pylist()
    assert got == [{"n": arrow["order_items"].num_rows, "units": pc.sum(arrow["order_items"]["quantity"]).as_py()}]


def test_dirty_text_output_reads_as_text(tmp_path):
    out = tmp_path / "dirty"
    r = _invoke("generate", "--format", "csv", "--schema", SHOP, "--out", out, "--scale", "0.02", "--workers", "1",
                "--profile", "dirty", "-q")
    assert r.exit_code == 0, output_text(r)
    rows = json.loads((out / "manifest.json").read_text())["rows"]["orders"]
    got = q.query(out, "SELECT count(*) AS n, typeof(any_value(order_id)) AS t FROM orders").to_pylist()
    assert got[0]["t"] == "VARCHAR" and got[0]["n"] >= rows


# --- the command line ----------------------------------------------------------------------------

def test_cli_csv_output(outputs, arrow):
    r = _invoke("query", "--out", outputs["ndjson"], "--output", "csv", JOIN_SQL)
    assert r.exit_code == 0, output_text(r)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    want = _join_reference(arrow)
    assert {row["tier"]: (int(row["lines"]), int(row["units"]), Decimal(row["revenue"])) for row in rows} == want


def test_cli_json_output(outputs, arrow):
    r = _invoke("query", "--out", outputs["csv"], "--output", "json", "--limit", "2",
                "SELECT order_id, created_at, shipping_fee, coupon_code FROM orders ORDER BY order_id")
    assert r.exit_code == 0, output_text(r)
    got = json.loads(r.stdout)
    first = arrow["orders"].sort_by("order_id").slice(0, 2).to_pylist()
    assert [g["order_id"] for g in got] == [f["order_id"] for f in first]
    assert got[0]["shipping_fee"] == str(first[0]["shipping_fee"])  # decimals exact, as strings
    assert got[0]["created_at"] == first[0]["created_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert all(set(g) == {"order_id", "created_at", "shipping_fee", "coupon_code"} for g in got)


def test_cli_table_output(outputs):
    r = _invoke("query", "--out", outputs["parquet"], "SELECT tier, count(*) AS n FROM customers GROUP BY 1")
    assert r.exit_code == 0, output_text(r)
    assert "tier" in r.stdout and "free" in r.stdout and "rows" in r.stdout.splitlines()[-1]


@pytest.mark.parametrize(("args", "message"), [
    (("--out", "{missing}", "SELECT 1"), "no such folder"),
    (("--out", "{plain}", "SELECT 1"), "not a datagen output folder (no manifest.json"),
    (("--out", "{csv}", "SELECT * FROM ordrs"), "unknown table ordrs (did you mean 'orders'?); tables: customers, "
                                                 "products, orders, order_items"),
    (("--out", "{csv}", "SELECT nope FROM orders"), "SQL error: Binder Error"),
    (("--out", "{csv}", "SELEC 1"), "SQL error: Parser Error"),
    (("--out", "{csv}", "  "), "an empty query"),
    (("--out", "{csv}", "--output", "xml", "SELECT 1"), "--output xml: one of table, csv, json"),
    (("--out", "{csv}", "--limit", "-1", "SELECT 1"), "--limit -1: must be at least 0"),
])
def test_errors_are_one_message_and_exit_2(outputs, tmp_path, args, message):
    (tmp_path / "plain").mkdir()
    places = {"missing": tmp_path / "missing", "plain": tmp_path / "plain", "csv": outputs["csv"]}
    r = _invoke("query", *(a.format(**places) for a in args))
    text = output_text(r)
    assert r.exit_code == 2, text
    assert message in text and "Traceback" not in text
    assert len([line for line in text.splitlines() if line.startswith("error:")]) == 1


def test_a_malformed_manifest_is_a_usage_error(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(UsageError, match="not readable JSON"):
        q.query(tmp_path, "SELECT 1")
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "csv", "files": [
        {"path": "../x.csv", "table": "x", "bytes": 1, "sha256": "0"}]}))
    with pytest.raises(UsageError, match="outside the folder"):
        q.query(tmp_path, "SELECT 1")


def test_every_query_option_is_documented():
    text = (ROOT / "docs" / "cli.md").read_text()
    cmd = typer.main.get_command(app).commands["query"]
    for param in cmd.params:
        for opt in param.opts:
            if opt.startswith("--"):
                assert f"`{opt}`" in text, opt
    assert (ROOT / "docs" / "query.md").exists()
