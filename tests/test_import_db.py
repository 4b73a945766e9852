"""``datagen import db`` and the loop through PostgreSQL, against the server the tests start:

* every example schema's exported DDL executes on PostgreSQL, and ``import db`` of that database
  gives the schema ``import sql`` gives from the same DDL (rows apart: a database has counts);
* each dialect's DDL fixture imports, its schema's DDL executes on PostgreSQL, and the generated
  data loads into those tables (mode create: the compatibility check passes) and validates —
  no constraint error;
* the PostgreSQL fixture executed as written imports from the database as from its file;
* SQLite files import alike; include/exclude, row counts as rows, and the error paths.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")
pytest.importorskip("sqlglot", reason="the sql extra (make setup installs it)")

from datagen.ddl import export_ddl  # noqa: E402
from datagen.importers import get  # noqa: E402
from datagen.importers.sql import DIALECTS, import_sql_text  # noqa: E402
from shared.resources import example_schemas  # noqa: E402
from tests.test_format_postgres import query, run  # noqa: E402

DDL = Path(__file__).parent / "data" / "ddl"
EXAMPLES = [example_schemas()[k] for k in sorted(example_schemas())]


def _shape(schema: dict) -> dict:
    """What must agree between two imports: every table's columns (minus generator seeds and
    rows), keys and references."""
    out = {}
    for t in schema["tables"]:
        out[t["name"]] = {k: v for k, v in t.items() if k not in ("rows", "description")}
    return out


def _execute(dsn: str, ddl: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(ddl)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_import_db_gives_what_import_sql_gives(example, pg_dsn):
    ddl = export_ddl(example, "postgres")
    _execute(pg_dsn, ddl)
    from_db = get("db")(pg_dsn)
    from_sql = import_sql_text(ddl, dialect="postgres")
    assert _shape(from_db.schema) == _shape(from_sql.schema)
    assert [w.message for w in from_db.warnings] == [w.message for w in from_sql.warnings]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_dialect_imports_and_loads_into_postgres_through_its_exported_ddl(dialect, pg_dsn, tmp_path):
    schema = tmp_path / f"{dialect}.yaml"
    code, out = run("import", "sql", DDL / f"{dialect}.sql", "--dialect", dialect, "--rows", "60", "--out", schema)
    assert code == 0, out
    code, ddl = run("export-ddl", "--schema", schema, "--dialect", "postgres")
    assert code == 0, ddl
    _execute(pg_dsn, ddl)
    base = ("--format", "postgres", "--schema", schema, "--target", pg_dsn, "--out", tmp_path / "o")
    code, out = run("generate", *base, "-q")  # mode create: the existing tables must fit
    assert code == 0, out
    code, out = run("validate", *base)
    assert code == 0, out


def test_the_postgres_fixture_executed_imports_as_its_file(pg_server, pg_dsn):
    text = (DDL / "postgres.sql").read_text()
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE reporting; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    _execute(pg_dsn, text)
    from_file = get("sql")(str(DDL / "postgres.sql"), dialect="postgres")
    from_db = get("db")(pg_dsn)
    counts = dict(query(pg_dsn, "SELECT 'authors', count(*) FROM authors"))
    assert {t["name"]: t["rows"] for t in from_db.schema["tables"]}["authors"] == counts["authors"] == 1
    file_shape, db_shape = _shape(from_file.schema), _shape(from_db.schema)
    assert set(db_shape) == set(file_shape)
    for name, table in file_shape.items():
        got = db_shape[name]
        assert got.get("primary_key") == table.get("primary_key"), name
        assert [c["name"] for c in got["columns"]] == [c["name"] for c in table["columns"]], name
        for a, b in zip(got["columns"], table["columns"], strict=True):
            for key in ("type", "nullable", "unique", "allowed", "min", "max", "max_length"):
                assert a.get(key) == b.get(key), (name, a["name"], key, a.get(key), b.get(key))
            if b["generator"]["type"] == "fk":
                assert a["generator"] == b["generator"], (name, a["name"])


def test_sqlite_file_imports_as_its_ddl(tmp_path):
    example = EXAMPLES[0]
    ddl = export_ddl(example, "sqlite")
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        con.executescript(ddl)
    from_db = get("db")(str(db))
    from_sql = import_sql_text(ddl, dialect="sqlite")
    assert _shape(from_db.schema) == _shape(from_sql.schema)


def test_row_counts_become_rows_and_include_exclude(pg_dsn, tmp_path):
    _execute(pg_dsn, export_ddl(EXAMPLES[0], "postgres"))
    tables = [r[0] for r in query(pg_dsn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
    root = next(t for t in tables if not query(
        pg_dsn, "SELECT 1 FROM pg_constraint WHERE contype = 'f' AND conrelid = %s::regclass", (t,)))
    code, out = run("generate", "--format", "postgres", "--schema", EXAMPLES[0], "--target", pg_dsn,
                    "--out", tmp_path / "g", "--mode", "append", "--rows", f"{root}=37", "--include", root, "-q")
    assert code == 0, out
    out_file = tmp_path / "s.yaml"
    code, out = run("import", "db", pg_dsn, "--include", root, "--out", out_file)
    assert code == 0, out
    text = out_file.read_text()
    assert re.search(r"^  - name: " + root + r"\n    rows: 37$", text, re.M), text
    assert len(re.findall(r"^  - name: ", text, re.M)) == 1
    assert "***" in text and pg_dsn.split(":")[2].split("@")[0] not in text  # the password stays out
    code, out = run("import", "db", pg_dsn, "--exclude", root, "--rows", "5")
    assert code == 0, out
    assert f"name: {root}\n" not in out and "rows: 5" in out


def test_import_db_errors(pg_dsn, tmp_path):
    _execute(pg_dsn, export_ddl(EXAMPLES[0], "postgres"))
    tables = [r[0] for r in query(pg_dsn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    assert "customers" in tables
    code, out = run("import", "db", pg_dsn, "--include", "custmers")
    assert code == 2 and "no table 'custmers' (did you mean 'customers'?)" in out, out
    code, out = run("import", "db", pg_dsn, "--exclude", ",".join(tables))
    assert code == 2 and "no table left to import" in out, out
    not_db = tmp_path / "x.db"
    not_db.write_text("hello")
    code, out = run("import", "db", not_db)
    assert code == 2 and "not an SQLite database" in out, out
    code, out = run("import", "db", "no-such-target")
    assert code == 2 and "neither an SQLite database file nor a PostgreSQL DSN or target" in out, out
    assert "Traceback" not in out
    bad = pg_dsn.rsplit(":", 1)[0] + ":1/nothing"
    code, out = run("import", "db", bad)
    assert code == 3 and "cannot connect" in out, out
