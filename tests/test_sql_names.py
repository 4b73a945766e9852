"""``sql_name``: identifiers the DSL does not allow (spaces, punctuation, accents) keep their
original name in DDL and database targets. Imported from DDL, loaded into PostgreSQL and SQLite
under the original names, validated, introspected back to the same schema, exported as DDL that
runs on both."""

from __future__ import annotations

import sqlite3

import pytest
import yaml

from tests.helpers import make_runner, output_text

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")
pytest.importorskip("sqlglot", reason="the sql extra (make setup installs it)")

from datagen.cli import app as APP  # noqa: E402
from datagen.ddl import export_ddl  # noqa: E402
from datagen.importers import get  # noqa: E402
from datagen.importers.sql import import_sql_text  # noqa: E402
from tests.test_format_postgres import query  # noqa: E402

DDL = """
-- a model with names nobody would choose for a DSL
CREATE TABLE "Order Headers" (
  "Order No" integer PRIMARY KEY,
  "select" varchar(10) NOT NULL CHECK ("select" IN ('a', 'b')),
  "Placed At" timestamptz NOT NULL,
  "Ünit Price" numeric(10,2) CHECK ("Ünit Price" BETWEEN 1 AND 500)
);
CREATE TABLE "order-items" (
  "Line #" bigint PRIMARY KEY,
  "Order No" integer NOT NULL REFERENCES "Order Headers" ("Order No"),
  "Qty." smallint NOT NULL CHECK ("Qty." > 0 AND "Qty." <= 20),
  "Parent Line" bigint REFERENCES "order-items" ("Line #"),
  UNIQUE ("Order No", "Line #")
);
"""
TABLES = {"Order Headers": ["Order No", "select", "Placed At", "Ünit Price"],
          "order-items": ["Line #", "Order No", "Qty.", "Parent Line"]}


def run(*args):
    res = make_runner().invoke(APP, [str(a) for a in args], env={"COLUMNS": "250"})
    return res.exit_code, output_text(res)


@pytest.fixture
def imported(tmp_path):
    src = tmp_path / "model.sql"
    src.write_text(DDL, encoding="utf-8")
    out = tmp_path / "model.yaml"
    code, text = run("import", "sql", src, "--dialect", "postgres", "--rows", "Order Headers=40", "--rows",
                     "order-items=150", "--out", out)
    assert code == 0, text
    return out


def test_import_keeps_the_original_names_as_sql_name(imported):
    doc = yaml.safe_load(imported.read_text(encoding="utf-8"))
    tables = {t["name"]: t for t in doc["tables"]}
    assert {n: t.get("sql_name") for n, t in tables.items()} == {"Order_Headers": "Order Headers",
                                                                   "order_items": "order-items"}
    cols = {c["name"]: c.get("sql_name") for c in tables["order_items"]["columns"]}
    assert cols == {"Line": "Line #", "Order_No": "Order No", "Qty": "Qty.", "Parent_Line": "Parent Line"}
    heads = {c["name"]: c.get("sql_name") for c in tables["Order_Headers"]["columns"]}
    assert heads["select"] is None and heads["Unit_Price"] == "Ünit Price"  # a valid name stays as it is


@pytest.mark.parametrize("workers", ["1", "2"])
def test_postgres_loads_and_validates_under_the_original_names(imported, pg_dsn, tmp_path, workers):
    for mode in ("create", "truncate"):
        code, text = run("generate", "--format", "postgres", "--schema", imported, "--target", pg_dsn, "--out",
                         tmp_path / "o", "--force", "--workers", workers, "--mode", mode, "-q")
        assert code == 0, text
    got = query(pg_dsn, "SELECT table_name, column_name FROM information_schema.columns "
                        "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position")
    assert {t: [c for tt, c in got if tt == t] for t in TABLES} == TABLES
    assert query(pg_dsn, 'SELECT count(*) FROM "order-items"') == [(150,)]
    code, text = run("validate", "--format", "postgres", "--schema", imported, "--target", pg_dsn, "--out",
                     tmp_path / "o")
    assert code == 0 and "PASS" in text, text
    # damage under the original name is found and reported under the schema's name
    query(pg_dsn, 'UPDATE "order-items" SET "Qty." = 99 WHERE "Line #" %% 10 = 0')
    code, text = run("validate", "--format", "postgres", "--schema", imported, "--target", pg_dsn, "--out",
                     tmp_path / "o")
    assert code == 1, text
    import json

    report = json.loads((tmp_path / "o" / "validation_report.json").read_text())
    failed = {(c["kind"], c["table"], c["column"]) for c in report["checks"] if c["status"] == "fail"}
    assert ("pg_range", "order_items", "Qty") in failed, failed


def test_import_db_gives_the_same_schema_back(pg_dsn):
    """A database created from the DDL imports as the DDL does, original names included."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(DDL)
    back = get("db")(pg_dsn).schema
    again = import_sql_text(DDL, dialect="postgres").schema

    def shape(doc):
        return {t["name"]: {k: v for k, v in t.items() if k not in ("rows", "description")} for t in doc["tables"]}

    assert shape(back) == shape(again)
    assert {t["name"]: t.get("sql_name") for t in back["tables"]} == {"Order_Headers": "Order Headers",
                                                                       "order_items": "order-items"}


def test_sqlite_in_an_existing_file_and_a_new_one(imported, tmp_path):
    db = tmp_path / "existing.sqlite"
    sqlite3.connect(db).close()
    for mode in ("create", "truncate", "append"):
        code, text = run("generate", "--format", "sqlite", "--schema", imported, "--out", tmp_path / "o", "--force",
                         "--option", f"database={db}", "--mode", mode, "-q")
        if mode == "append":  # the same keys again: the database refuses them
            assert code != 0 and "UNIQUE constraint failed" in text, text
            continue
        assert code == 0, text
        code, text = run("validate", "--format", "sqlite", "--schema", imported, "--out", tmp_path / "o",
                         "--option", f"database={db}")
        assert code == 0, text
    with sqlite3.connect(db) as conn:
        for table, cols in TABLES.items():
            assert [r[1] for r in conn.execute("SELECT * FROM pragma_table_info(?)", (table,))] == cols
    code, text = run("generate", "--format", "sqlite", "--schema", imported, "--out", tmp_path / "fresh", "-q")
    assert code == 0, text
    assert run("validate", "--format", "sqlite", "--schema", imported, "--out", tmp_path / "fresh")[0] == 0


@pytest.mark.parametrize("dialect", ["postgres", "sqlite"])
def test_export_ddl_uses_the_original_names_and_runs(imported, pg_dsn, tmp_path, dialect):
    ddl = export_ddl(imported, dialect)
    assert '"Order Headers"' in ddl and '"Line #"' in ddl and '"Ünit Price"' in ddl
    if dialect == "postgres":
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(ddl)
        assert query(pg_dsn, "SELECT to_regclass('public.\"order-items\"') IS NOT NULL") == [(True,)]
    else:
        with sqlite3.connect(tmp_path / "x.sqlite") as conn:
            conn.executescript(ddl)
            assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'order-items'").fetchone() == (1,)
    # and the DDL imports back to the same schema
    assert {t["name"]: t.get("sql_name") for t in import_sql_text(ddl, dialect=dialect).schema["tables"]} == \
        {"Order_Headers": "Order Headers", "order_items": "order-items"}


BASE = """
version: 1
name: s
tables:
  - name: a
    {table_extra}
    rows: 5
    columns:
      - {{name: x, type: int64, generator: sequence{x_extra}}}
      - {{name: y, type: int64, generator: sequence{y_extra}}}
      - name: z
        type: struct
        fields:
          - {{name: f, type: int64, generator: sequence{f_extra}}}
"""


@pytest.mark.parametrize(("extra", "message"), [
    ({"y_extra": ", sql_name: X"}, "tables[0].columns[1].sql_name: sql_name 'X' is the SQL name of column 'x' too"),
    ({"f_extra": ", sql_name: F"}, "sql_name applies to a table's own columns, not to a field or a list's items"),
    ({"x_extra": ', sql_name: ""'}, "tables[0].columns[0].sql_name"),
])
def test_sql_name_errors(write_schema, extra, message):
    text = BASE.format(**{"table_extra": "", "x_extra": "", "y_extra": "", "f_extra": "", **extra})
    code, out = run("describe", "--format", "csv", "--schema", write_schema(text))
    assert code == 2 and message in out, out
    assert "Traceback" not in out


def test_sql_named_renames_keys_references_and_indexes(imported):
    import datagen

    doc = yaml.safe_load(imported.read_text(encoding="utf-8"))
    doc["tables"][1]["indexes"] = [{"columns": ["Qty"]}]
    sql = datagen.load_schema(doc).sql_named
    items = sql.table("order-items")
    assert items.primary_key == ("Line #",) and items.unique == (("Order No", "Line #"),)
    assert [ix.columns for ix in items.indexes] == [("Qty.",)]
    refs = {(r.table, r.column, r.parent, r.parent_column) for r in items.foreign_keys}
    assert refs == {("order-items", "Order No", "Order Headers", "Order No"),
                    ("order-items", "Parent Line", "order-items", "Line #")}
