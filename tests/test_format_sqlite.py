"""SQLite: the conformance suite plus SQLite specifics (DDL, stored forms, PRAGMAs, modes)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from generators.sqlite_seed.ddl import create_table_sql, quote_identifier, table_spec
from generators.sqlite_seed.format import insert_batch
from shared.api import Engine, load_schema, resolve_plan
from shared.errors import OutputError, UsageError
from shared.schema_dsl.engine import arrow_schema
from tests.conformance import FormatConformance


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _db(out: Path) -> Path:
    return out / "conf.sqlite"


class TestSqliteConformance(FormatConformance):
    FORMAT = "sqlite"
    MODULE = "generators.sqlite_seed"

    # --- hooks: every table lives in one database file --------------------------------------

    def rewrite_table(self, fmt, out, schema, table, data):
        """Delete and reinsert the table's rows in place (foreign keys off, declared types kept).
        A tampered key that the declared PRIMARY KEY/UNIQUE refuses is stored the way a careless
        tool would: the table rebuilt with the same columns and types but no constraints."""
        path = Path(fmt.artifacts(out, schema.table(table))[0])
        t = schema.table(table)
        q = quote_identifier
        sql = (f"INSERT INTO {q(table)} ({', '.join(map(q, data.column_names))}) "
               f"VALUES ({', '.join('?' for _ in data.column_names)})")
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("BEGIN")
            conn.execute(f"DELETE FROM {q(table)}")
            try:
                for b in data.to_batches():
                    insert_batch(conn, sql, b, table, path)
            except OutputError:
                conn.execute("ROLLBACK")
                conn.execute("BEGIN")
                conn.execute(f"DROP TABLE {q(table)}")
                loose = table_spec(t, {x.name: x for x in schema.tables}, constraints=False)
                conn.execute(create_table_sql(loose))
                for b in data.to_batches():
                    insert_batch(conn, sql, b, table, path)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def truncate_file(self, fmt, out, schema, table):
        """Cut the file at the page boundary nearest its middle (a torn copy)."""
        p = Path(fmt.artifacts(out, schema.table(table))[0])
        data = p.read_bytes()
        page = int.from_bytes(data[16:18], "big")
        p.write_bytes(data[: (len(data) // 2) // page * page])

    def break_line(self, fmt, out, schema, table):
        """Overwrite the b-tree page header of the table's root page with garbage."""
        p = Path(fmt.artifacts(out, schema.table(table))[0])
        with sqlite3.connect(p) as conn:
            root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        conn.close()
        data = bytearray(p.read_bytes())
        page = int.from_bytes(data[16:18], "big")
        at = (root - 1) * page
        data[at:at + 16] = b"\x00\xff{{{{\"\n\x01,,,,\"\"\x7f"
        p.write_bytes(bytes(data))

    # --- the declared schema ---------------------------------------------------------------

    def test_ddl_declares_types_keys_and_references(self, generated):
        conn = sqlite3.connect(_db(generated))
        info = {r[1]: (r[2], r[3], r[5]) for r in conn.execute("PRAGMA table_info(people)")}
        assert info["person_id"] == ("INTEGER", 1, 1)  # the rowid alias: an ascending sequence
        assert info["age"][:2] == ("INTEGER", 1) and info["active"][0] == "INTEGER"
        assert info["score"][:2] == ("REAL", 0) and info["balance"][:2] == ("REAL", 1)
        assert {info[c][0] for c in ("name", "born", "seen_at", "uid", "tier", "code")} == {"TEXT"}
        assert info["mentor_id"][1] == 0
        fks = conn.execute("PRAGMA foreign_key_list(orders)").fetchall()
        assert [(r[2], r[3], r[4]) for r in fks] == [("people", "person_id", "person_id")]
        self_ref = conn.execute("PRAGMA foreign_key_list(people)").fetchall()
        assert [(r[2], r[3], r[4]) for r in self_ref] == [("people", "mentor_id", "person_id")]
        follows = {r[1]: r[5] for r in conn.execute("PRAGMA table_info(follows)")}
        assert follows == {"src": 1, "dst": 2}
        assert {r[3] for r in conn.execute("PRAGMA foreign_key_list(follows)")} == {"src", "dst"}
        uniques = set()
        for r in conn.execute("PRAGMA index_list(people)").fetchall():
            if r[2]:
                uniques.add(tuple(x[2] for x in conn.execute(f"PRAGMA index_info({quote_identifier(r[1])})")))
        assert {("email",), ("code",)} <= uniques
        indexes = {r[0]: r[1] for r in conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' "
                                                    "AND sql IS NOT NULL")}
        # foreign-key columns are indexed, except where a key index already starts with them
        assert indexes == {"orders.person_id": "orders", "people.mentor_id": "people", "follows.dst": "follows"}
        conn.close()

    def test_stored_forms(self, generated, schema_file):
        conn = sqlite3.connect(_db(generated))
        types = conn.execute("SELECT typeof(balance), typeof(active), typeof(born), typeof(seen_at), typeof(uid) "
                             "FROM people GROUP BY 1, 2, 3, 4, 5").fetchall()
        assert types == [("real", "integer", "text", "text", "text")]
        born, seen, active = conn.execute("SELECT born, seen_at, active FROM people WHERE rowid = 1").fetchone()
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", born) and active in (0, 1)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", seen)
        assert conn.execute("SELECT count(*) FROM people WHERE datetime(seen_at) IS NULL").fetchone()[0] == 0
        # a decimal is stored as the double nearest its exact digits: SQL sees 12.34, not 12.3399999
        schema = load_schema(str(schema_file))
        want = next(Engine(resolve_plan(schema)).iter_batches("people")).column("balance").to_pylist()[:50]
        got = [r[0] for r in conn.execute("SELECT balance FROM people ORDER BY rowid LIMIT 50")]
        assert got == [float(str(d)) for d in want]
        conn.close()

    def test_pragmas_restored_and_checks_clean(self, generated):
        raw = _db(generated).read_bytes()
        assert raw[18] == raw[19] == 1  # rollback-journal file format, not WAL
        conn = sqlite3.connect(_db(generated))
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        conn.execute("PRAGMA foreign_keys=ON")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.close()
        m = json.loads((generated / "manifest.json").read_text())
        assert [f["path"] for f in m["files"]] == ["conf.sqlite"]
        assert m["sqlite"]["database"] == "conf.sqlite" and m["sqlite"]["constraints"] == "declared"
        assert m["sqlite"]["sqlite_version"] == sqlite3.sqlite_version

    def test_validate_runs_sqlite_checks(self, app, schema_file, generated, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        assert self.validate(app, schema_file, out).exit_code == 0
        rep = self.report(out)
        by_kind = {}
        for c in rep["checks"]:
            by_kind.setdefault(c["kind"], []).append(c)
        assert [c["status"] for c in by_kind["sqlite_integrity"]] == ["pass"]
        assert {c["table"] for c in by_kind["sqlite_schema"]} == {"people", "orders", "follows"}
        assert {c["table"] for c in by_kind["sqlite_foreign_key_check"]} == {"people", "orders", "follows"}

    def test_orphan_fails_foreign_key_check(self, app, fmt, schema_file, generated, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        schema = load_schema(str(schema_file))
        t = self.read(fmt, out, schema, "orders")
        ids = t.column("person_id").to_pylist()
        ids[3] = 10**9
        t = t.set_column(t.schema.get_field_index("person_id"), t.schema.field("person_id"), pa.array(ids, pa.int64()))
        self.rewrite_table(fmt, out, schema, "orders", t)
        conn = sqlite3.connect(_db(out))
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == [("orders", 4, "people", 0)]
        conn.close()
        assert self.validate(app, schema_file, out).exit_code == 1
        rep = self.report(out)
        fk = [c for c in rep["checks"] if c["kind"] == "sqlite_foreign_key_check" and c["table"] == "orders"][0]
        assert fk["status"] == "fail" and fk["unexpected_count"] == 1
        assert fk["sample"] == [{"rowid": 4, "column": "person_id", "value": 10**9, "parent": "people.person_id"}]
        assert {"sqlite_foreign_key_check", "foreign_key"} <= self.failed_kinds(out)

    def test_dropped_constraint_fails_schema_check(self, app, fmt, schema_file, generated, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        schema = load_schema(str(schema_file))
        conn = sqlite3.connect(_db(out), isolation_level=None)
        loose = table_spec(schema.table("orders"), {t.name: t for t in schema.tables}, constraints=False)
        conn.executescript("ALTER TABLE orders RENAME TO old; " + create_table_sql(loose) +
                           "; INSERT INTO orders SELECT * FROM old; DROP TABLE old;")
        conn.close()
        assert self.validate(app, schema_file, out).exit_code == 1
        bad = [c for c in self.report(out)["checks"] if c["kind"] == "sqlite_schema" and c["status"] == "fail"]
        assert [c["table"] for c in bad] == ["orders"]
        assert any("PRIMARY KEY" in s for s in bad[0]["sample"]) and any("NOT NULL" in s for s in bad[0]["sample"])

    def test_damaged_file_fails_integrity_and_reading(self, app, fmt, schema_file, generated, tmp_path):
        for i, damage in enumerate((self.truncate_file, self.break_line)):
            out = self.fresh_copy(generated, tmp_path / str(i))
            damage(fmt, out, load_schema(str(schema_file)), "orders")
            assert self.validate(app, schema_file, out).exit_code == 1
            failed = {(c["kind"], c["table"]) for c in self.report(out)["checks"] if c["status"] == "fail"}
            assert {("sqlite_integrity", None), ("parseable", "orders")} <= failed, failed

    # --- options and modes -----------------------------------------------------------------

    @pytest.mark.parametrize("opt, needle", [
        ("mode=upsert", "create, truncate, append"),
        ("strict=maybe", "true or false"),
        ("colour=blue", "known: database, mode, nested, strict"),
        ("mode=append", "needs --option database=PATH"),
        ("database=/no/such/file.db", "no such file"),
    ])
    def test_bad_options(self, app, schema_file, tmp_path, opt, needle):
        res = self.generate(app, schema_file, tmp_path / "o", "--option", opt)
        assert res.exit_code == 2 and needle in res.stderr, res.stderr
        assert not (tmp_path / "o").exists()

    def test_not_a_database(self, app, schema_file, tmp_path):
        bogus = tmp_path / "notes.db"
        bogus.write_text("hello")
        res = self.generate(app, schema_file, tmp_path / "o", "--option", f"database={bogus}")
        assert res.exit_code == 2 and "not an SQLite database" in res.stderr

    def test_truncate_into_existing_database(self, app, schema_file, generated, tmp_path):
        user = tmp_path / "app.db"
        shutil.copy(_db(generated), user)
        conn = sqlite3.connect(user)
        conn.execute("CREATE TABLE keep_me (x)")
        conn.execute("INSERT INTO keep_me VALUES (42)")
        conn.execute("DELETE FROM orders WHERE order_id > 10")
        conn.commit()
        conn.close()
        out = tmp_path / "o"
        res = self.generate(app, schema_file, out, "--option", f"database={user}", "--option", "mode=truncate")
        assert res.exit_code == 0, res.stderr
        m = json.loads((out / "manifest.json").read_text())
        assert m["sqlite"]["database"] == str(user.resolve()) and m["sqlite"]["mode"] == "truncate"
        assert [f["path"] for f in m["files"]] == []  # the user's database is not an artifact of --out
        conn = sqlite3.connect(user)
        assert conn.execute("SELECT x FROM keep_me").fetchall() == [(42,)]
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in m["rows"]}
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        conn.close()
        assert counts == m["rows"]
        # validate opens nothing outside --out on the manifest's word ...
        res = self.validate(app, schema_file, out)
        assert res.exit_code == 1
        assert "outside --out on a manifest's word (pass --option database=PATH" in res.output
        # ... but reads the database it is pointed at
        res = self.validate(app, schema_file, out, "--option", f"database={user}")
        assert res.exit_code == 0, res.output

    def test_append_doubles_rows_of_a_keyless_table(self, app, tmp_path):
        schema_file = tmp_path / "log.yaml"
        schema_file.write_text(textwrap.dedent("""
            version: 1
            name: log
            seed: 3
            tables:
              - name: events
                rows: 25
                columns:
                  - {name: at, type: timestamp,
                     generator: {type: uniform_timestamp, params: {start: "2024-01-01", end: "2024-02-01"}}}
                  - {name: level, type: string, generator: {type: choice, params: {values: [info, warn]}}}
        """))
        user = tmp_path / "app.db"
        user.write_bytes(b"")  # an empty file is an empty database
        args = ("--option", f"database={user}")
        assert self.generate(app, schema_file, tmp_path / "o1", *args).exit_code == 0
        res = self.generate(app, schema_file, tmp_path / "o2", *args, "--option", "mode=append")
        assert res.exit_code == 0, res.stderr
        conn = sqlite3.connect(user)
        rows = conn.execute("SELECT at, level FROM events ORDER BY rowid").fetchall()
        conn.close()
        assert len(rows) == 50 and rows[:25] == rows[25:]
        # create again (create_if_missing): the table exists and matches, so the rows are added
        res = self.generate(app, schema_file, tmp_path / "o3", *args)
        assert res.exit_code == 0, res.stderr
        conn = sqlite3.connect(user)
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 75
        conn.close()

    def test_append_with_existing_keys_rolls_back(self, app, schema_file, generated, tmp_path):
        user = tmp_path / "app.db"
        shutil.copy(_db(generated), user)
        before = _sha(user)
        res = self.generate(app, schema_file, tmp_path / "o", "--option", f"database={user}",
                            "--option", "mode=append")
        assert res.exit_code == 3 and "UNIQUE constraint failed" in res.stderr, res.stderr
        assert _sha(user) == before and not (tmp_path / "o").exists()

    def test_incompatible_table_exit_2_and_database_unchanged(self, app, schema_file, generated, tmp_path):
        user = tmp_path / "app.db"
        shutil.copy(_db(generated), user)
        conn = sqlite3.connect(user)
        # people stays compatible; orders gets a TEXT amount: the mismatch is found after people
        # was truncated and reloaded inside the one transaction, which is rolled back
        conn.executescript('ALTER TABLE orders RENAME TO o_old; CREATE TABLE orders ("order_id" INTEGER NOT NULL '
                           'PRIMARY KEY, "person_id" INTEGER NOT NULL, "amount" TEXT NOT NULL, "note" TEXT, '
                           '"created_at" TEXT NOT NULL); INSERT INTO orders SELECT * FROM o_old; DROP TABLE o_old;')
        conn.close()
        before = _sha(user)
        res = self.generate(app, schema_file, tmp_path / "o", "--option", f"database={user}",
                            "--option", "mode=truncate")
        assert res.exit_code == 2, res.stderr
        assert "orders" in res.stderr and "'amount'" in res.stderr and "tables[1].columns[2]" in res.stderr
        assert _sha(user) == before
        # a missing table (the last one, after two tables were truncated and reloaded)
        shutil.copy(_db(generated), user)
        conn = sqlite3.connect(user)
        conn.execute("DROP TABLE follows")
        conn.commit()
        conn.close()
        before = _sha(user)
        res = self.generate(app, schema_file, tmp_path / "o", "--option", f"database={user}",
                            "--option", "mode=truncate")
        assert res.exit_code == 2 and "'follows' does not exist" in res.stderr, res.stderr
        assert _sha(user) == before

    def test_prepare_checks_every_table_first(self, fmt, schema_file, generated, tmp_path):
        """The whole-schema check, for when generate calls a format's prepare() before writing."""
        user = tmp_path / "app.db"
        shutil.copy(_db(generated), user)
        conn = sqlite3.connect(user)
        conn.executescript("DROP TABLE follows; ALTER TABLE orders DROP COLUMN note;")
        conn.close()
        schema = load_schema(str(schema_file))
        with pytest.raises(UsageError) as err:
            fmt.prepare(tmp_path, schema, {"database": str(user), "mode": "append"})
        text = err.value.render()
        assert "'note' is missing" in text and "'follows' does not exist" in text
        fmt.prepare(tmp_path, schema, {"database": str(_db(generated)), "mode": "truncate"})  # compatible
        fmt.prepare(tmp_path, schema, {"database": str(_db(generated)), "mode": "create"})  # matches: kept
        with pytest.raises(UsageError) as err:  # create_if_missing: follows would be created, orders must match
            fmt.prepare(tmp_path, schema, {"database": str(user), "mode": "create_if_missing"})
        text = err.value.render()
        assert "'note' is missing" in text and "follows" not in text

    @pytest.mark.skipif(sqlite3.sqlite_version_info < (3, 37, 0), reason="STRICT tables need SQLite 3.37")
    def test_strict_tables(self, app, schema_file, tmp_path):
        out = tmp_path / "o"
        assert self.generate(app, schema_file, out, "--option", "strict=true").exit_code == 0
        conn = sqlite3.connect(_db(out))
        sqls = [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table'")]
        conn.close()
        assert len(sqls) == 3 and all(s.endswith(" STRICT") for s in sqls)
        assert self.validate(app, schema_file, out).exit_code == 0

    def test_dirty_profile_relaxes_constraints(self, app, schema_file, tmp_path):
        out = tmp_path / "o"
        res = self.generate(app, schema_file, out, "--profile", "dirty")
        assert res.exit_code == 0, res.stderr
        conn = sqlite3.connect(_db(out))
        assert conn.execute("SELECT count(*) FROM pragma_table_info('people') WHERE pk > 0 OR \"notnull\"") \
            .fetchone()[0] == 0
        assert conn.execute("PRAGMA foreign_key_list(orders)").fetchall() == []
        conn.close()
        assert json.loads((out / "manifest.json").read_text())["sqlite"]["constraints"] == "relaxed"
        self.validate(app, schema_file, out)
        checks = self.report(out)["checks"]
        assert all(c["status"] == "pass" for c in checks if c["kind"] in ("sqlite_schema", "sqlite_integrity"))
        assert {c["status"] for c in checks if c["kind"] == "sqlite_foreign_key_check"} == {"skipped"}


EDGE_SCHEMA = textwrap.dedent("""
    version: 1
    name: edge
    seed: 5
    tables:
      - name: things
        rows: 200
        primary_key: code
        columns:
          - {name: code, type: string, generator: {type: regex, params: {pattern: "[A-Z]{6}"}}, unique: true}
          - {name: ratio, type: float32, generator: {type: uniform_float, params: {min: -1, max: 1}}}
          - {name: wide, type: "decimal(15,3)", generator: {type: uniform_float, params: {min: -999999999999, max: 999999999999}}}
          - {name: huge, type: "decimal(30,6)", nullable: true, null_rate: 0.2,
             generator: {type: uniform_float, params: {min: -1000000000000, max: 1000000000000}}}
          - {name: rank, type: int64, unique: true, generator: {type: uniform_int, params: {min: -1000000, max: 1000000}}}
          - {name: at, type: timestamp, generator: {type: uniform_timestamp, params: {start: "1901-01-01", end: "2099-12-31"}}}
          - {name: day, type: date, nullable: true, null_rate: 0.5,
             generator: {type: uniform_date, params: {start: "1900-01-01", end: "2100-12-31"}}}
""")


def test_edge_types_round_trip(tmp_path):
    from typer.testing import CliRunner

    from generators.sqlite_seed.__main__ import app
    from shared.formats import FORMATS

    schema_file = tmp_path / "edge.yaml"
    schema_file.write_text(EDGE_SCHEMA)
    out = tmp_path / "o"
    res = CliRunner().invoke(app, ["generate", "--schema", str(schema_file), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    schema = load_schema(str(schema_file))
    t = schema.table("things")
    want = Engine(resolve_plan(schema)).to_arrow("things")
    got = FORMATS["sqlite"].read_table(out, t, arrow_schema(t))
    assert [f.type for f in got.schema] == [f.type for f in want.schema]
    assert got.equals(want.cast(got.schema))
    conn = sqlite3.connect(out / "edge.sqlite")
    info = {r[1]: r[2] for r in conn.execute("PRAGMA table_info(things)")}
    assert info == {"code": "TEXT", "ratio": "REAL", "wide": "REAL", "huge": "TEXT", "rank": "INTEGER",
                    "at": "TEXT", "day": "TEXT"}
    # float32 stored as its shortest decimal; rows in generation order although the key is text
    ratio = conn.execute("SELECT ratio FROM things ORDER BY rowid LIMIT 20").fetchall()
    assert [r[0] for r in ratio] == [float(str(v)) for v in pa.array(want.column("ratio").to_pylist()[:20],
                                                                       pa.float32()).cast(pa.string()).to_pylist()]
    conn.close()
    assert CliRunner().invoke(app, ["validate", "--schema", str(schema_file), "--out", str(out)]).exit_code == 0


def test_non_sequence_integer_key_keeps_row_order(tmp_path):
    """A unique-but-shuffled integer key is declared INT, not INTEGER: no rowid alias, so the
    rowid still holds the generated row order."""
    schema = load_schema_text(tmp_path, """
        version: 1
        name: k
        tables:
          - name: t
            rows: 5
            primary_key: id
            columns:
              - {name: id, type: int32, unique: true, generator: {type: uniform_int, params: {min: 1, max: 100}}}
    """)
    spec = table_spec(schema.table("t"), {})
    assert spec.column("id").declared == "INT" and not spec.rowid_alias
    assert '"id" INT NOT NULL' in create_table_sql(spec)


def load_schema_text(tmp_path: Path, text: str):
    p = tmp_path / "s.yaml"
    p.write_text(textwrap.dedent(text))
    return load_schema(str(p))


@pytest.mark.parametrize("name", ['a"b c', '"', '""', 'x"; DROP TABLE t; --', "select", "naïve ü 名前", " lead",
                                  "tab\there", "semi;colon", "back`tick[]"])
def test_quote_identifier_survives_hostile_names(name):
    q = quote_identifier(name)
    assert q.startswith('"') and q.endswith('"') and q[1:-1].replace('""', "") .count('"') == 0
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE {q} ({q} INTEGER NOT NULL, other TEXT)")
    conn.execute(f"INSERT INTO {q} ({q}, other) VALUES (7, 'x')")
    assert conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == [(name,)]
    assert [r[1] for r in conn.execute("SELECT * FROM pragma_table_info(?)", (name,))] == [name, "other"]
    assert conn.execute(f"SELECT {q} FROM {q}").fetchall() == [(7,)]
    conn.close()


def test_quote_identifier_refuses_nul():
    with pytest.raises(ValueError):
        quote_identifier("a\x00b")
