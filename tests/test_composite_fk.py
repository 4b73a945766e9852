"""Composite foreign keys: the fk's ``with_columns`` binds a key's other columns to the same parent row.
Generated tuples are parent tuples at any block size and worker count; ``validate`` checks the
tuples (files, PostgreSQL, SQLite); the SQL side declares, compares, imports and exports them."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from datagen.cli import app as APP
from tests.helpers import make_runner, output_text

SCHEMA = """
version: 1
name: cfk
seed: 9
tables:
  - name: orders
    rows: 60
    primary_key: [region, order_no]
    columns:
      - {name: region, type: string, generator: {type: choice, params: {values: [EU, US, APAC]}}}
      - {name: order_no, type: int64, generator: {type: uniform_int, params: {min: 1, max: 1000}}}
      - {name: total, type: float64, generator: {type: uniform_float, params: {min: 1, max: 100}}}
  - name: shipments
    rows: 700
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - name: order_no
        type: int64
        generator: {type: fk, params: {table: orders, column: order_no, with_columns: {order_region: region}}}
      - {name: order_region, type: string, sql_name: "Order Region"}
      - {name: weight, type: float64, generator: {type: uniform_float, params: {min: 1, max: 9}}}
"""

DDL = """
CREATE TABLE orders (
  region varchar(4) NOT NULL CHECK (region IN ('EU', 'US', 'APAC')),
  order_no integer NOT NULL,
  total numeric(10,2),
  PRIMARY KEY (region, order_no)
);
CREATE TABLE shipments (
  id bigint PRIMARY KEY,
  order_region varchar(4) NOT NULL,
  order_no integer NOT NULL,
  CONSTRAINT fk_order FOREIGN KEY (order_region, order_no) REFERENCES orders (region, order_no)
);
CREATE TABLE returns (
  id bigint PRIMARY KEY,
  r varchar(4),
  o integer
);
ALTER TABLE returns ADD CONSTRAINT fk_r FOREIGN KEY (o, r) REFERENCES orders (order_no, region);
"""


def run(*args):
    res = make_runner().invoke(APP, [str(a) for a in args], env={"COLUMNS": "250"})
    return res.exit_code, output_text(res)


@pytest.fixture
def schema(write_schema) -> Path:
    return write_schema(SCHEMA, "cfk.yaml")


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.parquet"))}


def test_child_tuples_are_parent_tuples_at_any_block_size_and_worker_count(schema, tmp_path):
    digests = []
    for i, extra in enumerate((["--workers", "1"], ["--workers", "2", "--block-rows", "37"])):
        out = tmp_path / f"o{i}"
        code, text = run("generate", "--format", "parquet", "--schema", schema, "--out", out, "-q", *extra)
        assert code == 0, text
        digests.append(_digest(out))
    assert digests[0] == digests[1]
    orders = pq.read_table(tmp_path / "o0" / "orders")
    ships = pq.read_table(tmp_path / "o0" / "shipments")
    parents = set(zip(orders["order_no"].to_pylist(), orders["region"].to_pylist(), strict=True))
    tuples = set(zip(ships["order_no"].to_pylist(), ships["order_region"].to_pylist(), strict=True))
    assert tuples <= parents and len(tuples) > 20  # many parents, every one real
    code, text = run("validate", "--format", "parquet", "--schema", schema, "--out", tmp_path / "o0")
    assert code == 0, text


def test_validate_finds_tuples_with_no_parent(schema, tmp_path):
    out = tmp_path / "o"
    assert run("generate", "--format", "csv", "--schema", schema, "--out", out, "-q")[0] == 0
    path = out / "shipments.csv"
    lines = path.read_text().splitlines()
    # each value still exists on its own in the parent; only the pairing is broken
    lines[1:6] = [line.replace('"EU"', '"US"') if '"EU"' in line else line.replace('"US"', '"EU"').replace(
        '"APAC"', '"EU"') for line in lines[1:6]]
    path.write_text("\n".join(lines) + "\n")
    code, text = run("validate", "--format", "csv", "--schema", schema, "--out", out)
    assert code == 1, text
    report = json.loads((out / "validation_report.json").read_text())
    (fk,) = [c for c in report["checks"] if c["kind"] == "foreign_key"]
    assert fk["status"] == "fail" and fk["unexpected_count"] >= 1
    assert "key tuples (order_no, order_region) with no parent row in orders (order_no, region)" in fk["message"]
    assert set(fk["sample"][0]) == {"order_no", "order_region"}


BAD = """
version: 1
name: bad
tables:
  - name: p
    rows: 10
    primary_key: [a, b]
    columns:
      - {{name: a, type: int64, generator: {{type: uniform_int, params: {{min: 0, max: 100}}}}}}
      - {{name: b, type: string, generator: {{type: choice, params: {{values: [x, y]}}}}}}
      - {{name: c, type: int64, generator: sequence}}
  - name: k
    rows: 20
    columns:
      - name: pa
        type: int64
        {unique}generator: {{type: fk, params: {{table: {table}, column: a, with_columns: {with_}}}}}
      - {{name: pb, type: {pb_type}{pb_gen}}}
"""


@pytest.mark.parametrize(("fmt", "message"), [
    ({"with_": "{pz: b}"}, "with_columns names no column 'pz' in table 'k'"),
    ({"with_": "{pb: bz}"}, "with_columns: no column 'bz' in table 'p'"),
    ({"with_": "{pb: c}"}, "(a, c) is neither the primary key nor a unique group of p"),
    ({"pb_type": "int64"}, "column pb (int64) does not match p.b (string)"),
    ({"pb_gen": ", generator: {type: choice, params: {values: [x]}}"},
     "column pb is bound by the composite key to p.b, but has a generator of its own (choice)"),
    ({"unique": "unique: true\n        "}, "a one-to-one (unique) fk cannot have with"),
])
def test_with_errors(write_schema, fmt, message):
    text = BAD.format(**{"table": "p", "with_": "{pb: b}", "pb_type": "string", "pb_gen": "", "unique": "", **fmt})
    code, out = run("describe", "--format", "csv", "--schema", write_schema(text))
    assert code == 2 and message in out, out
    assert "generator.params.with_columns" in out and "Traceback" not in out


def test_imported_composite_references(tmp_path):
    pytest.importorskip("sqlglot", reason="the sql extra")
    src = tmp_path / "c.sql"
    src.write_text(DDL)
    code, text = run("import", "sql", src, "--dialect", "postgres", "--rows", "150", "--out", tmp_path / "c.yaml")
    assert code == 0, text
    import yaml

    doc = yaml.safe_load((tmp_path / "c.yaml").read_text())
    cols = {(t["name"], c["name"]): c["generator"] for t in doc["tables"] for c in t["columns"]}
    assert cols["shipments", "order_region"] == {"type": "fk", "params": {"table": "orders", "column": "region",
                                                                          "with_columns": {"order_no": "order_no"}}}
    assert cols["shipments", "order_no"] == {"type": "expr", "params": {"expr": "order_region.order_no"}}
    assert cols["returns", "o"]["params"]["with_columns"] == {"r": "region"}
    for fmt in ("parquet", "sqlite"):
        code, text = run("generate", "--format", fmt, "--schema", tmp_path / "c.yaml", "--out", tmp_path / fmt, "-q")
        assert code == 0, text
        assert run("validate", "--format", fmt, "--schema", tmp_path / "c.yaml", "--out", tmp_path / fmt)[0] == 0


def test_sqlite_declares_and_compares_the_composite_key(schema, tmp_path):
    db = tmp_path / "t.sqlite"
    sqlite3.connect(db).close()
    code, text = run("generate", "--format", "sqlite", "--schema", schema, "--out", tmp_path / "o", "-q",
                     "--option", f"database={db}")
    assert code == 0, text
    with sqlite3.connect(db) as conn:
        fks = conn.execute("SELECT id, \"from\", \"to\" FROM pragma_foreign_key_list('shipments') ORDER BY seq").fetchall()
    assert [(f, t) for _, f, t in fks] == [("order_no", "order_no"), ("Order Region", "region")]
    assert run("validate", "--format", "sqlite", "--schema", schema, "--out", tmp_path / "o", "--option",
               f"database={db}")[0] == 0
    # truncate: the existing table is compared, composite key included
    code, text = run("generate", "--format", "sqlite", "--schema", schema, "--out", tmp_path / "o", "-q", "--force",
                     "--option", f"database={db}", "--mode", "truncate")
    assert code == 0, text
    other = tmp_path / "u.sqlite"
    with sqlite3.connect(other) as conn:
        conn.executescript('CREATE TABLE orders (region TEXT NOT NULL, order_no INTEGER NOT NULL, total REAL NOT NULL, '
                           'PRIMARY KEY (region, order_no)); CREATE TABLE shipments (id INTEGER NOT NULL PRIMARY KEY, '
                           'order_no INTEGER NOT NULL, "Order Region" TEXT NOT NULL, weight REAL NOT NULL)')
    code, text = run("generate", "--format", "sqlite", "--schema", schema, "--out", tmp_path / "u", "-q",
                     "--option", f"database={other}", "--mode", "create")
    assert code == 2, text
    assert "FOREIGN KEY (order_no, Order Region) REFERENCES orders (order_no, region) is not declared" in text


def test_postgres_loads_validates_and_finds_orphan_tuples(schema, pg_dsn, tmp_path):
    psycopg = pytest.importorskip("psycopg", reason="the postgres extra")
    for workers in ("1", "2"):
        code, text = run("generate", "--format", "postgres", "--schema", schema, "--target", pg_dsn, "--out",
                         tmp_path / "o", "--force", "-q", "--workers", workers, "--mode",
                         "create" if workers == "1" else "truncate")
        assert code == 0, text
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        got = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'").fetchall()
        assert got == [('FOREIGN KEY (order_no, "Order Region") REFERENCES orders(order_no, region)',)]
    assert run("validate", "--format", "postgres", "--schema", schema, "--target", pg_dsn, "--out",
               tmp_path / "o")[0] == 0
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE shipments DROP CONSTRAINT shipments_order_no_Order Region_fkey".replace(
            "shipments_order_no_Order Region_fkey", '"shipments_order_no_Order Region_fkey"'))
        conn.execute("""UPDATE shipments SET "Order Region" = CASE "Order Region" WHEN 'EU' THEN 'US' ELSE 'EU' END
                        WHERE id <= 4""")
    code, text = run("validate", "--format", "postgres", "--schema", schema, "--target", pg_dsn, "--out",
                     tmp_path / "o")
    assert code == 1, text
    report = json.loads((tmp_path / "o" / "validation_report.json").read_text())
    pg = [c for c in report["checks"] if c["kind"] in ("pg_foreign_key", "pg_schema") and c["status"] == "fail"]
    assert {(c["kind"], c["column"]) for c in pg} == {("pg_foreign_key", "order_no, order_region"),
                                                      ("pg_schema", None)}, pg
    (fk,) = [c for c in pg if c["kind"] == "pg_foreign_key"]
    assert fk["unexpected_count"] >= 1 and "reference no orders (order_no, region)" in fk["message"]


@pytest.mark.parametrize("dialect", ["postgres", "sqlite"])
def test_exported_ddl_runs_and_imports_back(schema, pg_dsn, tmp_path, dialect):
    pytest.importorskip("sqlglot", reason="the sql extra")
    from datagen.ddl import export_ddl
    from datagen.importers import get
    from datagen.importers.sql import import_sql_text

    ddl = export_ddl(schema, dialect)
    assert 'FOREIGNKEY("order_no","OrderRegion")REFERENCES"orders"("order_no","region")' in "".join(ddl.split())
    if dialect == "postgres":
        psycopg = pytest.importorskip("psycopg", reason="the postgres extra")
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(ddl)
        back = get("db")(pg_dsn).schema
    else:
        with sqlite3.connect(tmp_path / "x.sqlite") as conn:
            conn.executescript(ddl)
        back = get("db")(str(tmp_path / "x.sqlite")).schema
    again = import_sql_text(ddl, dialect=dialect).schema
    shape = {t["name"]: [c["generator"] for c in t["columns"] if c["generator"]["type"] in ("fk", "expr")]
             for t in back["tables"]}
    assert shape == {t["name"]: [c["generator"] for c in t["columns"] if c["generator"]["type"] in ("fk", "expr")]
                     for t in again["tables"]}
    assert shape["shipments"] == [{"type": "fk", "params": {"table": "orders", "column": "order_no",
                                                            "with_columns": {"Order_Region": "region"}}},
                                  {"type": "expr", "params": {"expr": "order_no.region"}}]
