"""Parallel COPY streams into PostgreSQL (``--workers`` > 1): one connection and one transaction
per table, against the server the tests start. That the streams really run at once is shown
without a clock: a table held by a lock elsewhere does not stop an independent table after it
from being loaded and committed."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.helpers import make_runner, output_text

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

from datagen.cli import app as APP  # noqa: E402
from tests.test_format_postgres import query, run  # noqa: E402

#: regions and products are independent; accounts and orders reference regions
SCHEMA = """
version: 1
name: shop
seed: 5
tables:
  - name: regions
    rows: 40
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - {name: label, type: string, unique: true, generator: {type: template, params: {template: "r{id}"}}}
  - name: products
    rows: 300
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - {name: price, type: "decimal(10,2)", min: 1, max: 99, generator: {type: uniform_float, params: {min: 1, max: 99}}}
  - name: accounts
    rows: 500
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - {name: region_id, type: int64, generator: {type: fk, params: {table: regions}}}
  - name: orders
    rows: 2000
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - {name: account_id, type: int64, generator: {type: fk, params: {table: accounts}}}
      - {name: product_id, type: int64, generator: {type: fk, params: {table: products}}}
"""
ROWS = {"regions": 40, "products": 300, "accounts": 500, "orders": 2000}
#: long enough for any busy machine; the tests wait on events, never on a duration
PATIENCE_S = 120


def counts(dsn: str) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for t in ROWS:
        exists = query(dsn, "SELECT to_regclass(%s)", (f"public.{t}",))[0][0]
        out[t] = query(dsn, f"SELECT count(*) FROM {t}")[0][0] if exists else None
    return out


def whole_or_nothing(dsn: str) -> dict[str, int | None]:
    """Every table holds all the rows of the run, or none."""
    got = counts(dsn)
    for t, n in got.items():
        assert n in (None, 0, ROWS[t]), (t, n, got)
    return got


def no_sessions_left(dsn: str) -> None:
    assert query(dsn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'datagen'") == [(0,)]


@pytest.fixture
def shop(write_schema) -> Path:
    return write_schema(SCHEMA, "shop.yaml")


def generate(shop, dsn, out, *extra):
    return run("generate", "--format", "postgres", "--schema", shop, "--target", dsn, "--out", out, "-q", *extra)


def test_two_workers_load_one_stream_per_table_the_same_rows(shop, pg_dsn, pg_server, tmp_path):
    other = pg_server.create_database("t_streams_one")
    assert generate(shop, other, tmp_path / "one", "--workers", "1")[0] == 0
    code, text = generate(shop, pg_dsn, tmp_path / "two", "--workers", "2", "--block-rows", "128")
    assert code == 0, text
    manifest = json.loads((tmp_path / "two" / "manifest.json").read_text())
    assert manifest["postgres"]["streams"] == 4 and sorted(manifest["postgres"]["load_s"]) == sorted(ROWS)
    assert json.loads((tmp_path / "one" / "manifest.json").read_text())["postgres"]["streams"] == 1
    for t in ROWS:
        assert query(pg_dsn, f"SELECT * FROM {t} ORDER BY ctid") == query(other, f"SELECT * FROM {t} ORDER BY ctid")
    code, text = run("validate", "--format", "postgres", "--schema", shop, "--target", pg_dsn, "--out", tmp_path / "two")
    assert code == 0, text
    no_sessions_left(pg_dsn)


@pytest.mark.parametrize("defer", [False, True], ids=["declared", "deferred"])
def test_each_mode_with_two_workers(shop, pg_dsn, tmp_path, defer):
    extra = ["--workers", "2", "--block-rows", "100"] + (["--defer-constraints"] if defer else [])
    assert generate(shop, pg_dsn, tmp_path / "c", "--mode", "create", *extra)[0] == 0
    code, text = generate(shop, pg_dsn, tmp_path / "a", "--mode", "append", *extra)
    assert code == 3 and "duplicate key" in text, text  # the same keys again
    assert counts(pg_dsn) == ROWS
    assert generate(shop, pg_dsn, tmp_path / "t", "--mode", "truncate", *extra)[0] == 0
    assert counts(pg_dsn) == ROWS
    code, text = run("validate", "--format", "postgres", "--schema", shop, "--target", pg_dsn, "--out", tmp_path / "t")
    assert code == 0, text
    fks = query(pg_dsn, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace")
    assert fks == [(3,)]
    no_sessions_left(pg_dsn)


def test_a_locked_table_does_not_hold_up_an_independent_one(shop, pg_dsn, tmp_path):
    """products is held by another session's lock; accounts comes after it in the run but does
    not reference it: accounts is reloaded and committed while products still waits (orders,
    which references both, waits too) — the streams run at once."""
    assert generate(shop, pg_dsn, tmp_path / "first", "--workers", "1")[0] == 0
    first = query(pg_dsn, "SELECT max(xmin::text::bigint) FROM accounts")[0][0]
    holder = psycopg.connect(pg_dsn)
    holder.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
    result: dict = {}

    def load():
        result["run"] = generate(shop, pg_dsn, tmp_path / "second", "--workers", "2", "--mode", "truncate",
                                 "--block-rows", "1000")

    worker = threading.Thread(target=load)
    worker.start()
    try:
        reloaded = threading.Event()
        with psycopg.connect(pg_dsn, autocommit=True) as probe:
            probe.execute("SET lock_timeout = '200ms'")  # accounts is locked until its load commits
            for _ in range(PATIENCE_S * 5):
                try:
                    n = probe.execute("SELECT count(*) FROM accounts WHERE xmin::text::bigint > %s",
                                      (first,)).fetchone()[0]
                except psycopg.errors.LockNotAvailable:
                    n = 0
                if n == ROWS["accounts"]:
                    reloaded.set()
                    break
                reloaded.wait(0.2)
        assert reloaded.is_set(), "accounts was not reloaded while products waited for its lock"
        assert worker.is_alive()  # the run itself still waits for products
        waiting = query(pg_dsn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'datagen' "
                                "AND wait_event_type = 'Lock'")[0][0]
        assert waiting >= 1
    finally:
        holder.rollback()
        holder.close()
        worker.join(PATIENCE_S)
    assert result["run"][0] == 0, result["run"][1]
    assert counts(pg_dsn) == ROWS


def test_a_failure_from_the_server_in_one_stream(shop, pg_dsn, tmp_path):
    """orders breaks a CHECK constraint the database has and the schema does not know: exit 3
    with the server's message; orders rolled back (left as the truncation of the tables it
    references left it: empty), the tables before it committed whole."""
    assert generate(shop, pg_dsn, tmp_path / "first", "--workers", "1")[0] == 0
    query(pg_dsn, "ALTER TABLE orders ADD CONSTRAINT small_ids CHECK (id < 1500) NOT VALID")
    code, text = generate(shop, pg_dsn, tmp_path / "second", "--workers", "2", "--mode", "truncate",
                          "--block-rows", "100")
    assert code == 3, text
    assert "loading public.orders failed" in text and "small_ids" in text and "table orders was rolled back" in text
    assert "tables committed before it:" in text
    assert counts(pg_dsn) == {**ROWS, "orders": 0}
    assert not (tmp_path / "second").exists()
    no_sessions_left(pg_dsn)


def test_interrupted_with_two_workers_leaves_whole_tables_and_no_session(shop, pg_dsn, tmp_path):
    import datagen

    def interrupt(name, n):
        if name == "orders":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        datagen.generate(shop, format="postgres", out=tmp_path / "o", workers=2, block_rows=100,
                         options={"target": pg_dsn}, progress=interrupt)
    got = whole_or_nothing(pg_dsn)
    assert got["orders"] is None
    no_sessions_left(pg_dsn)


def test_killed_connections_with_two_workers(shop, pg_dsn, tmp_path):
    """Every session of the run ended by the server mid-load: exit 3, a clear message, and no
    table half loaded."""
    import datagen
    from shared.errors import OutputError

    def kill(name, n):
        if name == "orders":
            query(pg_dsn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'datagen'")

    with pytest.raises(OutputError, match="PostgreSQL target") as info:
        datagen.generate(shop, format="postgres", out=tmp_path / "o", workers=2, block_rows=100,
                         options={"target": pg_dsn}, progress=kill)
    assert info.value.exit_code == 3
    whole_or_nothing(pg_dsn)
    no_sessions_left(pg_dsn)


def test_atomic_with_two_workers_is_one_stream(shop, pg_dsn, tmp_path):
    code, text = generate(shop, pg_dsn, tmp_path / "o", "--workers", "2", "--atomic")
    assert code == 0, text
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["postgres"]["streams"] == 1
    assert counts(pg_dsn) == ROWS


def test_streams_option_one_connection_and_its_error(shop, pg_dsn, tmp_path):
    code, text = generate(shop, pg_dsn, tmp_path / "o", "--workers", "2", "--option", "streams=1")
    assert code == 0, text
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["postgres"]["streams"] == 1
    code, text = generate(shop, pg_dsn, tmp_path / "p", "--workers", "2", "--option", "streams=3")
    assert code == 2 and "--option streams='3': auto (a COPY stream per table" in text, text
    assert not (tmp_path / "p").exists()


def test_the_run_record_has_each_tables_load_seconds(shop, pg_dsn, tmp_path):
    from datagen.runs import RunStore

    db = tmp_path / "runs.db"
    res = make_runner().invoke(APP, ["generate", "--format", "postgres", "--schema", str(shop), "--target", pg_dsn,
                                     "--out", str(tmp_path / "o"), "-q", "--workers", "2", "--runs-db", str(db)],
                               env={"COLUMNS": "250"})
    assert res.exit_code == 0, output_text(res)
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    (record,) = RunStore(db).list()
    assert {n: t["seconds"] for n, t in record["tables"].items()} == manifest["postgres"]["load_s"]


def test_a_parent_that_commits_as_the_wait_times_out_is_not_taken_for_abandoned():
    """A child stream waits for its parent's commit in slices of POLL_S; the parent sets
    ``committed`` then ``done``. When it does both between one slice timing out and the check
    that follows, the child must go on (a busy CI machine once rolled such a child back)."""
    from types import SimpleNamespace

    from generators.postgres_target import load

    committed, done = threading.Event(), threading.Event()

    class LateCommit:
        """``committed`` whose first wait times out just before the parent commits and finishes."""

        calls = 0

        def wait(self, timeout=None):
            LateCommit.calls += 1
            if LateCommit.calls == 1:
                committed.set()
                done.set()
                return False
            return committed.wait(timeout)

        def is_set(self):
            return committed.is_set()

    parent = SimpleNamespace(committed=LateCommit(), done=done)
    child = SimpleNamespace(run=SimpleNamespace(cancelled=threading.Event(), failure=None))
    load.TableStream._wait(child, [parent])  # returns: the parent committed
    assert LateCommit.calls == 2

    gave_up = SimpleNamespace(committed=threading.Event(), done=threading.Event())
    gave_up.done.set()
    with pytest.raises(load._Abandoned):
        load.TableStream._wait(child, [gave_up])
