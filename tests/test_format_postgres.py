"""PostgreSQL as a target, against a real server the tests start (``tests/pg_server.py``).

The conformance suite runs with the database in place of files: each test that tampers works on
its own copy of the loaded database (``CREATE DATABASE … TEMPLATE``), and tampering is done in
SQL. Then modes, the compatibility check, constraint violations from the server, a connection
killed mid-load, a wrong password, an unreachable host, ``--atomic``, ``--defer-constraints``,
the lock against a second run, named targets and redaction, each asserted by message and exit
code.
"""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import pyarrow as pa
import pytest

from shared.api import load_schema
from shared.formats import FORMATS
from tests.conformance import FormatConformance
from tests.helpers import EXAMPLES_DIR, make_runner, output_text

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

from datagen.cli import app as APP  # noqa: E402
from generators.postgres_target.format import CsvRenderer  # noqa: E402

SMALL = """
version: 1
name: small
seed: 3
tables:
  - name: customers
    rows: 200
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - {name: email, type: string, unique: true, generator: {type: template, params: {template: "c{id}@x.io"}}}
      - {name: tier, type: string, allowed: [a, b], generator: {type: choice, params: {values: [a, b]}}}
  - name: orders
    rows: 900
    primary_key: order_id
    columns:
      - {name: order_id, type: int64, generator: sequence}
      - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers}}}
      - {name: amount, type: "decimal(10,2)", min: 1, max: 500, generator: {type: uniform_float, params: {min: 1, max: 500}}}
"""


def run(*args, env=None):
    res = make_runner().invoke(APP, [str(a) for a in args], env={"COLUMNS": "250", **(env or {})})
    return res.exit_code, output_text(res)


def query(dsn: str, sql: str, params=()):
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else None


def table_digest(dsn: str, table: str, order: str) -> str:
    rows = query(dsn, f"SELECT * FROM {table} ORDER BY {order}")
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def clone_database(server, source_dsn: str, name: str) -> str:
    source = source_dsn.rsplit("/", 1)[1]
    with server.connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return server.dsn(name)


@pytest.fixture
def small(write_schema) -> Path:
    return write_schema(SMALL, "small.yaml")


# --- the conformance suite with the database in place of files ------------------------------


class TestPostgres(FormatConformance):
    FORMAT = "postgres"
    MODULE = "generators.postgres_target"
    #: out folder → the database its run wrote (a copy of a folder gets a copy of the database)
    dsns: dict[str, str] = {}
    server = None

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _server(cls, pg_server):
        cls.server = pg_server
        cls.dsns = {}
        yield

    def _dsn(self, out) -> str:
        key = str(Path(out).resolve())
        if key not in self.dsns:
            name = "c_" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
            self.dsns[key] = self.server.create_database(name)
        return self.dsns[key]

    def generate(self, app, schema_file, out, *extra):
        return self.cli(app, "generate", "--format", self.FORMAT, "--schema", schema_file, "--out", out, "--quiet",
                        "--target", self._dsn(out), *extra)

    def validate(self, app, schema_file, out, *extra):
        return self.cli(app, "validate", "--format", self.FORMAT, "--schema", schema_file, "--out", out,
                        "--target", self._dsn(out), *extra)

    @pytest.fixture(scope="class")
    @classmethod
    def generated(cls, app, schema_file, tmp_path_factory, _server) -> Path:
        out = tmp_path_factory.mktemp("gen") / "out"
        res = cls().generate(app, schema_file, out, "--workers", "1")
        assert res.exit_code == 0, res.output
        return out

    def fresh_copy(self, generated: Path, tmp_path: Path) -> Path:
        dst = super().fresh_copy(generated, tmp_path)
        name = "k_" + hashlib.blake2b(str(dst.resolve()).encode(), digest_size=8).hexdigest()
        self.dsns[str(dst.resolve())] = clone_database(self.server, self._dsn(generated), name)
        return dst

    def reading(self, fmt, out):
        return fmt.for_reading({"target": self._dsn(out)})

    def read(self, fmt, out: Path, schema, table: str) -> pa.Table:
        from shared.schema_dsl.engine import arrow_schema

        t = schema.table(table)
        return self.reading(fmt, out).read_table(out, t, arrow_schema(t))

    def rewrite_table(self, fmt, out: Path, schema, table: str, data: pa.Table) -> None:
        """The table's rows replaced by ``data`` in SQL, its keys and references dropped first (the
        damage must get in); a column of another type is altered to it."""
        dsn = self._dsn(out)
        with psycopg.connect(dsn, autocommit=True) as conn:
            for (name, rel) in conn.execute(
                    "SELECT conname, conrelid::regclass::text FROM pg_constraint WHERE contype IN ('p','u','f') "
                    "AND (conrelid = %s::regclass OR confrelid = %s::regclass)", (table, table)).fetchall():
                conn.execute(f'ALTER TABLE {rel} DROP CONSTRAINT IF EXISTS "{name}" CASCADE')
            for f in data.schema:
                if pa.types.is_string(f.type) and schema.table(table).column(f.name).dtype.kind != "string":
                    conn.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{f.name}" TYPE text')
            conn.execute(f'DELETE FROM "{table}"')
            cols = ", ".join(f'"{n}"' for n in data.column_names)
            with conn.cursor().copy(f'COPY "{table}" ({cols}) FROM STDIN WITH (FORMAT csv)') as cp:
                for batch in data.to_batches():
                    cp.write(memoryview(CsvRenderer()(batch)))

    # a database has no file to cut or garble: the same damage in SQL

    def test_tamper_truncate_file(self, app, fmt, schema_file, generated, tmp_path):
        def how(out, schema):
            query(self._dsn(out), "DELETE FROM follows WHERE ctid IN (SELECT ctid FROM follows LIMIT 150)")

        code, failed = self._tampered(app, fmt, schema_file, generated, tmp_path, how)
        assert code == 1 and "row_count" in failed, failed

    def test_tamper_break_line(self, app, fmt, schema_file, generated, tmp_path):
        def how(out, schema):
            query(self._dsn(out), "UPDATE orders SET note = 'garbled' WHERE order_id %% 7 = 3")

        code, failed = self._tampered(app, fmt, schema_file, generated, tmp_path, how)
        assert code == 1 and "deterministic_replay" in failed, failed

    def test_deterministic_across_runs_blocks_and_workers(self, app, schema_file, generated, tmp_path):
        base = {t: table_digest(self._dsn(generated), t, "1, 2") for t in ("people", "orders", "follows")}
        for i, extra in enumerate((("--workers", "1"), ("--workers", "2", "--block-rows", "37"))):
            out = tmp_path / f"o{i}"
            res = self.generate(app, schema_file, out, *extra)
            assert res.exit_code == 0, res.output
            assert {t: table_digest(self._dsn(out), t, "1, 2") for t in base} == base

    def test_manifest(self, generated):
        m = json.loads((generated / "manifest.json").read_text())
        assert m["format"] == "postgres" and m["seed"] == 11 and m["files"] == []
        pg = m["postgres"]
        assert pg["rows_written"] == m["rows"] and pg["mode"] == "create" and pg["constraints"] == "declared"
        assert self.server.password not in (generated / "manifest.json").read_text()
        assert "***" in pg["target"]


# --- every example schema, every mode ------------------------------------------------------


@pytest.mark.parametrize("example", sorted(EXAMPLES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_loads_in_each_mode_and_validates(example, pg_dsn, tmp_path):
    out = tmp_path / "out"
    base = ("--format", "postgres", "--schema", example, "--out", out, "--target", pg_dsn)
    for mode in ("create", "truncate", "append"):
        if mode == "append":  # into the existing, emptied tables
            tables = [t.name for t in load_schema(str(example)).tables]
            query(pg_dsn, "TRUNCATE " + ", ".join(f'"{t}"' for t in tables))
        code, text = run("generate", *base, "--mode", mode, "-q", "--workers", "1", "--force")
        assert code == 0, text
        code, text = run("validate", *base, "--json")
        report = json.loads((out / "validation_report.json").read_text())
        failed = [c for c in report["checks"] if c["status"] == "fail"]
        assert code == 0 and report["status"] == "pass", (mode, failed[:5])
        assert {c["kind"] for c in report["checks"]} >= {"pg_unique", "deterministic_replay"}


# --- modes and the compatibility check ------------------------------------------------------


def test_modes_create_truncate_append_and_sdgen_names(small, pg_dsn, tmp_path):
    base = ("--format", "postgres", "--schema", small, "--target", pg_dsn, "-q", "--force")
    assert run("generate", *base, "--out", tmp_path / "a", "--mode", "create_if_missing")[0] == 0
    assert query(pg_dsn, "SELECT count(*) FROM orders") == [(900,)]
    code, text = run("generate", *base, "--out", tmp_path / "b", "--mode", "truncate_then_insert")
    assert code == 0, text
    assert query(pg_dsn, "SELECT count(*) FROM orders") == [(900,)]
    # append the same keys again: the server's primary key refuses them; the table rolls back
    code, text = run("generate", *base, "--out", tmp_path / "c", "--mode", "append_only")
    assert code == 3 and "duplicate key value violates unique constraint" in text and "rolled back" in text, text
    assert query(pg_dsn, "SELECT count(*) FROM customers") == [(200,)]
    # another seed has the same keys too (sequences): append works into empty tables only here
    query(pg_dsn, "TRUNCATE customers, orders")
    assert run("generate", *base, "--out", tmp_path / "d", "--mode", "append")[0] == 0
    assert query(pg_dsn, "SELECT count(*) FROM orders") == [(900,)]


def test_truncate_and_append_need_existing_tables(small, pg_dsn, tmp_path):
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", pg_dsn, "--mode", "append",
                     "--out", tmp_path / "o")
    assert code == 2 and "table public.customers does not exist" in text and "--mode create" in text, text
    assert query(pg_dsn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


def test_create_on_an_incompatible_table_names_each_mismatch_and_writes_nothing(small, pg_dsn, tmp_path):
    query(pg_dsn, "CREATE TABLE orders (order_id integer PRIMARY KEY, customer_id text, amount numeric(4,1), "
                  "extra int NOT NULL)")
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", pg_dsn, "--out",
                     tmp_path / "o")
    assert code == 2, text
    for needle in ("does not fit the schema; nothing was changed", "'order_id' is integer; int64 needs bigint",
                   "'customer_id' is text", "'amount' is numeric(4,1)", "'extra' (integer NOT NULL, no default)"):
        assert needle in text, (needle, text)
    assert query(pg_dsn, "SELECT to_regclass('public.customers')") == [(None,)]  # not even the parent


def test_create_into_a_compatible_existing_table_appends(small, pg_dsn, tmp_path):
    query(pg_dsn, "CREATE TABLE customers (id numeric PRIMARY KEY, email text UNIQUE, tier character varying, "
                  "note text)")  # wider types and an extra nullable column are fine
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", pg_dsn, "--out",
                     tmp_path / "o", "-q")
    assert code == 0, text
    assert query(pg_dsn, "SELECT count(*), count(note) FROM customers") == [(200, 0)]
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["postgres"]["tables_created"] == ["orders"]


def test_db_schema_must_exist_and_is_used(small, pg_dsn, tmp_path):
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", pg_dsn, "--db-schema",
                     "stage", "--out", tmp_path / "o")
    assert code == 2 and "schema 'stage' does not exist" in text, text
    query(pg_dsn, "CREATE SCHEMA stage")
    assert run("generate", "--format", "postgres", "--schema", small, "--target", pg_dsn, "--db-schema", "stage",
               "--out", tmp_path / "o", "-q")[0] == 0
    assert query(pg_dsn, "SELECT count(*) FROM stage.orders") == [(900,)]
    code, text = run("validate", "--format", "postgres", "--schema", small, "--target", pg_dsn, "--db-schema", "stage",
                     "--out", tmp_path / "o")
    assert code == 0, text


# --- transactions: per table, --atomic, failures ----------------------------------------------


def _fail_in(table: str):
    """A progress callback that raises once ``table`` has rows on the way (mid-load)."""
    def progress(name, n):
        if name == table:
            raise RuntimeError("disk on fire")
    return progress


def test_per_table_transactions_keep_whole_tables(small, pg_dsn, tmp_path):
    import datagen

    with pytest.raises(RuntimeError, match="disk on fire"):
        datagen.generate(small, format="postgres", out=tmp_path / "o", workers=1,
                         options={"target": pg_dsn}, progress=_fail_in("orders"))
    assert query(pg_dsn, "SELECT count(*) FROM customers") == [(200,)]  # committed whole
    assert query(pg_dsn, "SELECT to_regclass('public.orders')") == [(None,)]  # nothing of it


def test_atomic_leaves_nothing(small, pg_dsn, tmp_path):
    import datagen

    with pytest.raises(RuntimeError, match="disk on fire"):
        datagen.generate(small, format="postgres", out=tmp_path / "o", workers=1,
                         options={"target": pg_dsn, "atomic": "true"}, progress=_fail_in("orders"))
    assert query(pg_dsn, "SELECT to_regclass('public.customers'), to_regclass('public.orders')") == [(None, None)]
    assert not (tmp_path / "o").exists()


def test_interrupted_run_rolls_back_the_table(small, pg_dsn, tmp_path):
    import datagen

    def interrupt(name, n):
        if name == "orders":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        datagen.generate(small, format="postgres", out=tmp_path / "o", workers=1, block_rows=100,
                         options={"target": pg_dsn}, progress=interrupt)
    assert query(pg_dsn, "SELECT to_regclass('public.orders')") == [(None,)]
    assert query(pg_dsn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'datagen'") == [(0,)]


def test_killed_connection_mid_load(small, pg_dsn, tmp_path):
    """The server ends the session while orders are being copied (pg_terminate_backend from
    another connection): exit 3, a clear message, and no half-loaded table."""
    import datagen
    from shared.errors import OutputError

    def kill(name, n):
        if name == "orders":
            query(pg_dsn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'datagen'")

    with pytest.raises(OutputError, match="loading public.orders failed") as info:
        datagen.generate(small, format="postgres", out=tmp_path / "o", workers=1, block_rows=100,
                         options={"target": pg_dsn}, progress=kill)
    assert info.value.exit_code == 3
    assert query(pg_dsn, "SELECT count(*) FROM customers") == [(200,)]
    assert query(pg_dsn, "SELECT to_regclass('public.orders')") == [(None,)]


def test_defer_constraints_builds_keys_after_the_rows(small, pg_dsn, tmp_path):
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", pg_dsn, "--out",
                     tmp_path / "o", "--defer-constraints", "-q")
    assert code == 0, text
    kinds = query(pg_dsn, "SELECT conrelid::regclass::text, contype FROM pg_constraint "
                          "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2")
    assert kinds == [("customers", "p"), ("customers", "u"), ("orders", "f"), ("orders", "p")]
    assert query(pg_dsn, "SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_customer_id_idx'") == [(1,)]
    assert run("validate", "--format", "postgres", "--schema", small, "--target", pg_dsn, "--out",
               tmp_path / "o")[0] == 0


def test_workers_give_the_same_rows(small, pg_dsn, pg_server, tmp_path):
    other = pg_server.create_database("t_workers_two")
    for dsn, workers in ((pg_dsn, "1"), (other, "2")):
        assert run("generate", "--format", "postgres", "--schema", small, "--target", dsn, "--out",
                   tmp_path / workers, "--workers", workers, "--block-rows", "64", "-q")[0] == 0
    assert table_digest(pg_dsn, "orders", "order_id") == table_digest(other, "orders", "order_id")


def test_a_second_run_into_the_same_target_is_refused(small, pg_dsn, tmp_path):
    from generators.postgres_target.format import lock_key

    with psycopg.connect(pg_dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key("public", ["customers", "orders"]),))
        code, text = run("generate", "--format", "postgres", "--schema", small, "--target", pg_dsn, "--out",
                         tmp_path / "o")
    assert code == 3 and "another datagen run is loading into public" in text, text
    assert query(pg_dsn, "SELECT to_regclass('public.customers')") == [(None,)]


def test_dirty_profile_loads_with_relaxed_constraints(pg_dsn, tmp_path):
    example = EXAMPLES_DIR / "shop.yaml"
    base = ("--format", "postgres", "--schema", example, "--target", pg_dsn, "--out", tmp_path / "o")
    code, text = run("generate", *base, "--profile", "dirty", "-q", "--workers", "1")
    assert code == 0, text
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["postgres"]["constraints"] == "relaxed"
    code, text = run("validate", *base)
    assert code == 0, text


# --- connecting: errors and secrets ------------------------------------------------------------


def test_wrong_password_is_exit_3_and_never_printed(small, pg_server, tmp_path):
    dsn = pg_server.dsn(password="Wr0ng-S3cret-pw")
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", dsn, "--out", tmp_path / "o")
    assert code == 3 and "cannot connect" in text and "password authentication failed" in text, text
    assert "Wr0ng-S3cret-pw" not in text and "***" in text
    assert not (tmp_path / "o").exists()


def test_unreachable_host_is_exit_3(small, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    dsn = f"postgresql://u:TopS3cret@127.0.0.1:{port}/db"
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", dsn, "--out", tmp_path / "o")
    assert code == 3 and "cannot connect" in text and f"127.0.0.1:{port}" in text, text
    assert "TopS3cret" not in text
    assert not (tmp_path / "o").exists()


def test_validate_against_an_unreachable_host_is_exit_3(small, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp_path.joinpath("o").mkdir()
    code, text = run("validate", "--format", "postgres", "--schema", small, "--target",
                     f"postgresql://u:TopS3cret@127.0.0.1:{port}/db", "--out", tmp_path / "o")
    assert code == 3 and "cannot connect" in text and "Traceback" not in text, text
    assert "TopS3cret" not in text


def test_truncate_refuses_a_table_referenced_from_outside_the_run(small, pg_dsn, tmp_path):
    base = ("--format", "postgres", "--schema", small, "--target", pg_dsn, "-q", "--force")
    assert run("generate", *base, "--out", tmp_path / "a")[0] == 0
    query(pg_dsn, "CREATE TABLE audit (customer_id bigint REFERENCES customers (id))")
    query(pg_dsn, "INSERT INTO audit VALUES (1)")
    code, text = run("generate", *base, "--out", tmp_path / "b", "--mode", "truncate")
    assert code == 3 and "cannot truncate a table referenced in a foreign key constraint" in text, text
    assert query(pg_dsn, "SELECT count(*) FROM customers") == [(200,)]  # nothing cascaded, nothing lost


def test_a_malformed_dsn_is_a_usage_error(small, tmp_path):
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", "host=x port=notaport "
                     "password=S3cr3tValue nonsense", "--out", tmp_path / "o")
    assert code == 2 and "not a valid connection string" in text, text
    assert "S3cr3tValue" not in text


def test_target_flags_belong_to_database_formats(small, tmp_path):
    code, text = run("generate", "--format", "csv", "--schema", small, "--target", "x", "--out", tmp_path / "o")
    assert code == 2 and "--target applies to a database target" in text, text
    code, text = run("generate", "--format", "postgres", "--schema", small, "--out", tmp_path / "o")
    assert code == 2 and "--format postgres needs --target" in text, text
    code, text = run("validate", "--format", "postgres", "--schema", small, "--out", tmp_path)
    assert code == 2 and "needs --target" in text, text
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", "postgresql://h/db",
                     "--mode", "replace", "--out", tmp_path / "o")
    assert code == 2 and "--option mode=replace: one of create, truncate, append" in text, text


def test_describe_takes_the_target_flags(small):
    code, text = run("describe", "--format", "postgres", "--schema", small, "--target", "postgresql://h/db",
                     "--mode", "truncate", "--json")
    assert code == 0, text
    assert json.loads(text)["format"] == "postgres"


def test_named_target_with_password_from_the_environment(small, pg_server, tmp_path, monkeypatch):
    folder = tmp_path / "targets"
    folder.mkdir()
    dsn = pg_server.create_database("t_named")
    templated = dsn.replace(pg_server.password, "${DG_TEST_PW}")
    (folder / "dev.yaml").write_text(f"id: dev\nname: Dev box\nkind: postgres\ndsn: {templated}\n"
                                     f"schema: public\noptions: {{mode: create}}\n")
    env = {"DATAGEN_TARGETS_DIR": str(folder)}
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", "dev", "--out",
                     tmp_path / "o", env=env)
    assert code == 2 and "DG_TEST_PW" in text and "not set" in text, text
    env["DG_TEST_PW"] = pg_server.password
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", "dev", "--out",
                     tmp_path / "o", env=env)
    assert code == 0, text
    assert pg_server.password not in text
    manifest = (tmp_path / "o" / "manifest.json").read_text()
    assert pg_server.password not in manifest and "dev (postgresql://postgres:***@" in manifest
    code, text = run("validate", "--format", "postgres", "--schema", small, "--target", "dev", "--out",
                     tmp_path / "o", env=env)
    assert code == 0, text
    assert pg_server.password not in (tmp_path / "o" / "validation_report.json").read_text()
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", "deb", "--out",
                     tmp_path / "o", env=env)
    assert code == 2 and "no such target" in text and "did you mean 'dev'" in text, text


def test_postgres_is_registered_with_its_alias():
    assert "postgres" in FORMATS
    from shared.formats import get_format

    assert get_format("postgresql").name == "postgres"


# --- the run store: every database run on record, rerun into a database --------------------------


def test_runs_record_and_rerun_a_postgres_load(small, pg_server, pg_dsn, tmp_path):
    runs_db = tmp_path / "runs.sqlite"
    env = {"DATAGEN_RUNS_DB": str(runs_db)}
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", pg_dsn, "--mode", "truncate",
                     "--out", tmp_path / "o", "-q", env=env)
    assert code == 2, text  # truncate into tables that do not exist: refused before anything
    code, text = run("generate", "--format", "postgres", "--schema", small, "--target", pg_dsn, "--out",
                     tmp_path / "o", "-q", "--seed", "5", env=env)
    assert code == 0, text
    code, text = run("runs", "list", "--json", env=env)
    runs = json.loads(text)
    assert runs[0]["status"] == "success" and runs[0]["seed"] == 5 and runs[0]["rows"] == 1100
    assert len(runs[0]["config_hash"]) == 64
    assert pg_server.password not in text and runs_db.read_bytes().find(pg_server.password.encode()) < 0
    code, text = run("runs", "show", runs[0]["id"], "--json", env=env)
    shown = json.loads(text)
    assert shown["tables"].keys() == {"customers", "orders"} and pg_server.password not in text, text
    target = shown["target"]
    assert target["kind"] == "postgres" and target["db_schema"] == "public" and "***" in target["target"]
    run_id = runs[0]["id"]
    code, text = run("runs", "rerun", run_id, "--out", tmp_path / "again", env=env)
    assert code == 2 and "held a secret" in text and "--target" in text, text
    other = pg_server.create_database("t_rerun_into")
    code, text = run("runs", "rerun", run_id, "--out", tmp_path / "again", "--target", other, "--json", env=env)
    assert code == 0, text
    again = json.loads(text)
    assert again["config_hash"] == runs[0]["config_hash"] and pg_server.password not in text
    for table, key in (("customers", "id"), ("orders", "order_id")):
        assert table_digest(other, table, key) == table_digest(pg_dsn, table, key)
