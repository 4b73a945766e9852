"""``export-ddl``: the DDL runs in SQLite for every example, and reads back (``import sql``) with
the same tables, columns, types (up to what the dialect holds), keys and constraints."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

import datagen
from datagen.cli import app
from datagen.ddl import export_ddl
from datagen.importers.sql import DIALECTS, import_sql_text
from shared.model.types import parse_type
from shared.resources import example_schemas

EXAMPLES = [example_schemas()[k] for k in sorted(example_schemas())]
#: dialects whose integers are all one 64-bit type
ONE_INT = {"snowflake", "bigquery"}
#: dialects without a uuid type: a uuid is CHAR(36)
NO_UUID = {"redshift", "snowflake", "mysql", "bigquery"}
#: dialects that do not accept CHECK / UNIQUE constraints (export-ddl leaves them out)
NO_CHECK = {"snowflake", "redshift", "bigquery"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_sqlite_runs_the_ddl(example):
    con = sqlite3.connect(":memory:")
    con.executescript(export_ddl(example, "sqlite"))
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == {t.name for t in datagen.load_schema(example).tables}


def _kept(orig, got, dialect) -> bool:
    if orig.is_nested:
        return got.kind == "string"  # JSON text
    if orig.kind == "uuid" and dialect in NO_UUID:
        return got.kind == "string"
    if orig.kind == "int":
        return got.kind == "int" and (got.bits or 64) >= (orig.bits or 64) and (
            dialect in ONE_INT or (got.bits or 64) <= max(16, orig.bits or 64))
    if orig.kind == "float":
        return got.kind == "float" and (got.bits or 64) >= (orig.bits or 64)
    return got.name == orig.name


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_round_trip(example, dialect):
    model = datagen.load_schema(example)
    imp = import_sql_text(export_ddl(example, dialect), dialect=dialect)
    tables = {t["name"]: t for t in imp.schema["tables"]}
    assert set(tables) == {t.name for t in model.tables}
    for t in model.tables:
        got = tables[t.name]
        cols = {c["name"]: c for c in got["columns"]}
        assert set(cols) == {c.name for c in t.columns if c.is_written}
        pk = got.get("primary_key")
        assert (tuple(pk) if isinstance(pk, list) else (pk,) if pk else ()) == tuple(t.primary_key)
        for c in t.columns:
            if not c.is_written:
                continue
            g = cols[c.name]
            assert _kept(c.dtype, parse_type(g["type"]), dialect), (t.name, c.name, c.dtype.name, g["type"])
            single_pk = tuple(t.primary_key) == (c.name,)
            assert g.get("nullable", False) == (c.nullable and not single_pk), (t.name, c.name)
            if c.dtype.kind == "string" and c.max_length:
                assert g.get("max_length") == c.max_length
            if c.references is not None and g["generator"]["type"] != "fk":
                pytest.fail(f"{t.name}.{c.name}: reference lost")
            if dialect in NO_CHECK or c.dtype.is_nested:
                continue
            if c.unique and not single_pk:
                assert g.get("unique") is True, (t.name, c.name)
            if c.allowed and c.dtype.kind == "string":
                assert g.get("allowed") == list(c.allowed), (t.name, c.name)
            if c.raw_min is not None and c.dtype.kind in ("int", "decimal", "float"):
                assert float(g["min"]) == pytest.approx(float(c.min)), (t.name, c.name)
            if c.raw_max is not None and c.dtype.kind in ("int", "decimal", "float"):
                assert float(g["max"]) == pytest.approx(float(c.max)), (t.name, c.name)


def test_postgres_target_tables_have_no_checks():
    from generators.common.sql_ddl import create_table_sql, pg_table

    model = datagen.load_schema(EXAMPLES[0])
    tables = {t.name: t for t in model.tables}
    for t in model.tables:
        assert "CHECK" not in create_table_sql(pg_table(t, tables, "public"))


def test_cli_export_ddl(tmp_path):
    out = tmp_path / "shop.sql"
    r = CliRunner().invoke(app, ["export-ddl", "--schema", str(EXAMPLES[0]), "--dialect", "sqlite", "--out", str(out)])
    assert r.exit_code == 0, r.output
    sqlite3.connect(":memory:").executescript(out.read_text())
    r = CliRunner().invoke(app, ["export-ddl", "--schema", str(EXAMPLES[0]), "--dialect", "postgress"])
    assert r.exit_code == 2 and "did you mean 'postgres'" in r.output
    r = CliRunner().invoke(app, ["export-ddl", "--schema", "missing.yaml"])
    assert r.exit_code == 2 and "missing.yaml" in r.output


def test_an_out_file_that_cannot_be_written_is_exit_3_and_leaves_nothing(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "shop.sql"  # its parent is a file
    r = CliRunner().invoke(app, ["export-ddl", "--schema", str(EXAMPLES[0]), "--out", str(out)])
    assert r.exit_code == 3, r.output
    assert f"--out {out}: cannot write it" in r.output and "Traceback" not in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    # replaced whole: a second export over an existing file leaves no temporary beside it
    good = tmp_path / "shop.sql"
    for _ in range(2):
        assert CliRunner().invoke(app, ["export-ddl", "--schema", str(EXAMPLES[0]), "--out", str(good)]).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "shop.sql"]
