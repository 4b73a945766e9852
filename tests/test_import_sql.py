"""``import sql``: every dialect's fixture imports to a schema that generates and validates;
the mapping of types and constraints; findings with lines; the CLI's errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import datagen
from datagen.cli import app
from datagen.importers.naming import infer_generator
from datagen.importers.sql import DIALECTS, dsl_identifier, import_sql, import_sql_text, unique_identifiers
from datagen.importers.writer import write_yaml
from shared.schema_dsl.source import read_document
from tests.helpers import ROOT, file_formats

DDL = ROOT / "tests" / "data" / "ddl"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_dialect_imports_generates_and_validates(dialect, tmp_path):
    imp = import_sql(str(DDL / f"{dialect}.sql"), dialect=dialect, rows=["60"])
    text = write_yaml(imp)
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    doc, _, _ = read_document(str(path))
    assert doc == imp.schema  # the commented YAML reads back as the schema
    assert imp.skipped, "each fixture has statements to skip"
    assert len(imp.schema["tables"]) >= 3
    for fmt in file_formats():  # every file format (PostgreSQL: tests/test_import_db.py)
        datagen.generate(str(path), format=fmt, out=tmp_path / fmt, workers=1, record_run=False)
        report = datagen.validate(str(path), out=tmp_path / fmt, format=fmt)
        assert report["status"] == "pass", [c for c in report["checks"] if c["status"] != "pass"][:3]


def _tables(imp):
    return {t["name"]: t for t in imp.schema["tables"]}


def _cols(table):
    return {c["name"]: c for c in table["columns"]}


def test_postgres_mapping():
    imp = import_sql(str(DDL / "postgres.sql"), dialect="postgres")
    t = _tables(imp)
    books = _cols(t["books"])
    assert books["price"]["type"] == "decimal(8,2)" and books["price"]["min"] == 0.01  # CHECK (price > 0)
    assert (books["pages"]["min"], books["pages"]["max"]) == (1, 5000)  # BETWEEN
    assert books["format"]["allowed"] == ["hardcover", "paperback", "ebook", "audio"]
    assert books["book_id"]["generator"]["type"] == "sequence"  # GENERATED ALWAYS AS IDENTITY
    assert books["isbn"]["unique"] is True and books["isbn"]["max_length"] == 13
    assert books["author_id"]["generator"] == {"type": "fk", "params": {"table": "authors", "column": "author_id"}}
    assert books["metadata"]["type"] == "string"
    assert t["order_items"]["primary_key"] == ["order_id", "line_no"]
    assert t["authors"]["unique"] == [["last_name", "first_name"]]  # CREATE UNIQUE INDEX
    assert t["authors"]["description"] == "People who write the books"  # COMMENT ON TABLE
    orders = _cols(t["orders"])
    assert orders["status"]["allowed"] == ["pending", "paid", "shipped", "delivered", "cancelled"]  # enum type
    assert orders["customer_id"]["generator"]["params"]["table"] == "Customer_Accounts"  # ALTER TABLE … ADD
    acct = _cols(t["Customer_Accounts"])
    assert set(acct) >= {"E_mail", "select", "referred_by"}
    assert acct["referred_by"]["nullable"] is True and acct["referred_by"]["generator"]["params"]["table"] == \
        "Customer_Accounts"
    assert "SQL name: 'Customer Accounts'" in imp.comments["Customer_Accounts"]
    assert "SQL name: 'E-mail'" in imp.comments["Customer_Accounts.E_mail"]
    assert _cols(t["authors"])["updated_at"]["generator"]["type"] == "expr"  # after created_at
    assert _cols(t["authors"])["email"]["generator"]["params"]["provider"] == "email"


def test_warnings_and_skipped_statements_carry_their_lines():
    imp = import_sql(str(DDL / "postgres.sql"), dialect="postgres")
    lines = (DDL / "postgres.sql").read_text().splitlines()
    assert any(f.line and "jsonb" in lines[f.line - 1].lower() for f in imp.warnings)
    skipped = {lines[f.line - 1].split()[0] for f in imp.skipped if f.line}
    assert {"SET", "CREATE", "INSERT", "GRANT"} <= skipped
    text = write_yaml(imp)
    assert "# skipped (" in text and "line 91: INSERT INTO public.authors" in text


def test_unmappable_things_are_warnings_not_crashes():
    sql = """CREATE TABLE a (id int PRIMARY KEY, x int CHECK (x % 2 = 0), p int, q int, r int,
    FOREIGN KEY (p, q) REFERENCES b (m, o), FOREIGN KEY (x) REFERENCES missing (id),
    FOREIGN KEY (r, q) REFERENCES b (n, m));
    CREATE TABLE b (m int, n int, o int, PRIMARY KEY (m, n));
    CREATE TABLE broken (id int DEFAULT (;"""
    imp = import_sql_text(sql, dialect="postgres")
    text = " | ".join(str(w) for w in imp.warnings)
    assert "CHECK" in text and "missing" in text
    assert "FOREIGN KEY (p, q) → b (m, o): the parent's columns are not its primary key or a unique group" in text
    # a composite reference to the parent's key is declared with the fk's with_columns
    cols = {c["name"]: c["generator"] for c in imp.schema["tables"][0]["columns"]}
    assert cols["r"] == {"type": "fk", "params": {"table": "b", "column": "n", "with_columns": {"q": "m"}}}
    assert cols["q"] == {"type": "expr", "params": {"expr": "r.m"}}
    assert "cannot parse this CREATE TABLE" in text and "line 5" in text


def test_reference_cycles_are_broken_with_a_warning():
    sql = """CREATE TABLE a (id int PRIMARY KEY, b_id int REFERENCES b (id));
             CREATE TABLE b (id int PRIMARY KEY, a_id int NOT NULL REFERENCES a (id));"""
    imp = import_sql_text(sql, dialect="postgres")
    assert any("cycle" in w.message for w in imp.warnings)
    datagen.load_schema(imp.schema)


def test_rows_option(tmp_path):
    imp = import_sql(str(DDL / "sqlite.sql"), dialect="sqlite", rows=["30", "notes=70"])
    rows = {t["name"]: t["rows"] for t in imp.schema["tables"]}
    assert rows["notes"] == 70 and rows["users"] == 30
    with pytest.raises(datagen.UsageError, match="did you mean 'notes'"):
        import_sql(str(DDL / "sqlite.sql"), dialect="sqlite", rows=["note=5"])


@given(st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=12))
def test_identifier_mapping_is_valid_and_unique(names):
    out = unique_identifiers(names)
    assert len(out) == len(names)
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in out)
    assert len({n.lower() for n in out}) == len(out)


def test_dsl_identifier_examples():
    assert dsl_identifier("Customer Accounts") == "Customer_Accounts"
    assert dsl_identifier("1st") == "_1st"
    assert dsl_identifier("Prénom") == "Prenom"
    assert dsl_identifier("***") == "column"


def test_naming_heuristics():
    assert infer_generator("users", "email", "string").generator["params"]["provider"] == "email"
    assert infer_generator("orders", "unit_price", "decimal(10,2)").generator["type"] == "lognormal"
    assert infer_generator("orders", "status", "string").generator["type"] == "choice"
    assert infer_generator("t", "id", "int64", primary_key=True).generator["type"] == "sequence"
    got = infer_generator("t", "updated_at", "timestamp", siblings={"created_at": "timestamp"})
    assert got.generator["type"] == "expr" and "created_at" in got.generator["params"]["expr"]
    assert infer_generator("customers", "name", "string").generator["params"]["provider"] == "name"


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_import_writes_a_schema(tmp_path):
    out = tmp_path / "s.yaml"
    r = _run("import", "sql", DDL / "mysql.sql", "--dialect", "mysql", "--out", out, "--rows", "40")
    assert r.exit_code == 0, r.output
    assert datagen.load_schema(str(out)).name == "mysql"
    r = _run("import", "sql", DDL / "mysql.sql", "--dialect", "mysql", "--out", out)
    assert r.exit_code == 2 and "--force" in r.output


def test_cli_errors():
    r = _run("import", "sql", DDL / "postgres.sql", "--dialect", "postgress")
    assert r.exit_code == 2 and "did you mean 'postgres'" in r.output and "Traceback" not in r.output
    r = _run("import", "sql", DDL / "nope.sql")
    assert r.exit_code == 2 and "nope.sql: cannot read the SQL file" in r.output
    r = _run("import", "sql", DDL / "postgres.sql", "--rows", "x=y")
    assert r.exit_code == 2 and "--rows x=y" in r.output
