"""The run store (docs/runs.md): every generate on record, ``runs list|show|rerun``, the config
hash, redaction, two runs into one target, and a store that cannot be written."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datagen
from datagen import runs
from datagen.cli import app
from datagen.runs import RunStore, run_config, store_path
from shared.errors import OutputError
from shared.io.redact import redact
from tests.helpers import EXAMPLES_DIR, make_runner, output_text

SHOP = EXAMPLES_DIR / "shop.yaml"
TINY = textwrap.dedent("""\
    version: 1
    name: tiny
    tables:
      - name: t
        rows: 300
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: x, type: float64, generator: {type: normal, params: {mean: 0, std: 1}}}
          - {name: s, type: string, generator: {type: regex, params: {pattern: '[a-z]{8}'}}}
""")


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch) -> RunStore:
    """A store of this test's own (``DATAGEN_RUNS_DB``)."""
    path = tmp_path / "state" / "runs.sqlite"
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(path))
    return RunStore(path)


@pytest.fixture
def tiny(tmp_path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY, encoding="utf-8")
    return p


def _cli(*args, **kw):
    result = make_runner().invoke(app, [str(a) for a in args], env={"COLUMNS": "250"}, **kw)
    return result, output_text(result)


def _only(store: RunStore) -> dict:
    found = store.list(limit=None)
    assert len(found) == 1, found
    return found[0]


# --- the lifecycle ----------------------------------------------------------------------------


def test_a_successful_run_is_recorded_with_everything(tiny, tmp_path, store):
    res = datagen.generate(tiny, format="csv", out=tmp_path / "o", workers=1)
    run = _only(store)
    assert run["status"] == "success" and run["id"] == res.record["id"]
    assert run["seed"] == 0 == res.record["seed"]  # none given: the schema's (absent: the DSL's 0), stored
    assert run["config_hash"] == res.record["config_hash"] and len(run["config_hash"]) == 64
    assert (run["schema_name"], run["schema_version"]) == ("tiny", 1)
    assert run["schema_sha256"] == res.manifest["schema"]["sha256"]
    assert run["schema_source"] == tiny.read_bytes()
    assert run["target"] == {"kind": "files", "format": "csv", "path": str(tmp_path / "o")}
    assert run["target_key"] == os.path.abspath(tmp_path / "o")
    assert run["rows"] == {"t": 300} and run["tables"]["t"]["rows"] == 300
    assert isinstance(run["tables"]["t"]["seconds"], float)
    assert run["started_at"] <= run["finished_at"] and run["seconds"] >= 0
    assert run["warnings"] == [] and run["error"] is None
    assert run["record"] == res.record
    assert run["pid"] == os.getpid()


def test_the_seed_given_is_the_seed_stored(tiny, tmp_path, store):
    datagen.generate(tiny, format="csv", out=tmp_path / "o", workers=1, seed=2**62 + 5)
    assert _only(store)["seed"] == 2**62 + 5


def test_a_run_that_fails_mid_write_is_failed_with_its_message(tiny, tmp_path, store, monkeypatch):
    from generators.csv_generator.format import CsvFormat

    def broken(*_a, **_k):
        raise OutputError("the disk said no")

    monkeypatch.setattr(CsvFormat, "finish", broken)
    with pytest.raises(OutputError, match="the disk said no"):
        datagen.generate(tiny, format="csv", out=tmp_path / "o", workers=1)
    run = _only(store)
    assert run["status"] == "failed" and run["error"] == "the disk said no"
    assert "Traceback" not in run["error"] and run["finished_at"] is not None
    assert not (tmp_path / "o").exists()


def test_an_unexpected_error_is_failed_with_its_type(tiny, tmp_path, store, monkeypatch):
    from generators.csv_generator.format import CsvFormat

    def broken(*_a, **_k):
        raise ValueError("odd")

    monkeypatch.setattr(CsvFormat, "finish", broken)
    with pytest.raises(ValueError):
        datagen.generate(tiny, format="csv", out=tmp_path / "o", workers=1)
    assert _only(store)["error"] == "ValueError: odd"


@pytest.mark.parametrize("output", [None, "memory"])
def test_a_keyboard_interrupt_is_interrupted(tiny, tmp_path, store, output):
    def stop(_table, _n):
        raise KeyboardInterrupt

    kw = {"output": output} if output else {"format": "csv", "out": tmp_path / "o"}
    with pytest.raises(KeyboardInterrupt):
        datagen.generate(tiny, workers=1, progress=stop, **kw)
    run = _only(store)
    assert run["status"] == "interrupted" and run["error"] == "interrupted"
    # this process is not running it any more: the next run into the target is not refused
    if output is None:
        datagen.generate(tiny, format="csv", out=tmp_path / "o", workers=1)


def test_every_sink_and_the_client_are_recorded(tiny, store):
    datagen.generate(tiny, output="memory", workers=1)
    res = datagen.generate(tiny, output={"sink": "temp_dir", "format": "ndjson"}, workers=1)
    datagen.DataGen(output="memory", workers=1).generate(tiny, seed=4)
    found = store.list()
    assert [r["status"] for r in found] == ["success"] * 3
    assert [r["target"]["kind"] for r in found] == ["memory", "files", "memory"]
    assert found[1]["target"] == {"kind": "files", "format": "ndjson", "path": str(res.output_dir), "sink": "temp_dir"}
    assert found[0]["target_key"] is None and found[0]["seed"] == 4


def test_record_run_false_keeps_the_record_on_the_result_only(tiny, store):
    res = datagen.generate(tiny, output="memory", workers=1, record_run=False)
    assert res.record["status"] == "success" and res.record["id"] is None
    assert store.list() == []


# --- the config hash --------------------------------------------------------------------------


def test_the_config_hash_ignores_workers_and_block_size_but_not_seed_or_profile(tiny, tmp_path):
    def h(**kw):
        return datagen.generate(tiny, format="csv", out=tmp_path / "o", force=True, **kw).record["config_hash"]

    base = h(workers=1)
    assert h(workers=2, block_rows=77) == base
    assert h(workers=1, seed=1) != base
    assert h(workers=1, profile="dirty") != base
    assert datagen.generate(tiny, output="memory", workers=1).record["config_hash"] != base  # another target kind


def test_the_config_hash_covers_the_mode_but_no_path_or_secret(tiny):
    plan = datagen.resolve_plan(tiny)
    base = run_config(plan, "sqlite", {"strict": False}, "sqlite")
    with_mode = run_config(plan, "sqlite", {"strict": False, "mode": "append"}, "sqlite")
    assert with_mode["mode"] == "append" and runs.config_hash(with_mode) != runs.config_hash(base)
    where = run_config(plan, "sqlite", {"strict": False, "database": "/a/b.db"}, "sqlite", exclude=("database",))
    assert runs.config_hash(where) == runs.config_hash(base)
    secret = run_config(plan, "pg", {"password": "hunter2"}, "postgres")
    assert "hunter2" not in json.dumps(secret)


# --- the commands -----------------------------------------------------------------------------


def test_runs_list_show_and_rerun_make_the_same_bytes(tmp_path, store):
    db = tmp_path / "elsewhere.sqlite"
    result, text = _cli("generate", "--format", "csv", "--schema", SHOP, "--out", tmp_path / "a", "--scale", "0.02",
                        "--workers", "1", "--option", "delimiter=;", "--runs-db", db, "-q")
    assert result.exit_code == 0, text
    assert store.list() == []  # --runs-db wins over DATAGEN_RUNS_DB
    first = _only(RunStore(db))

    result, text = _cli("runs", "list", "--runs-db", db)
    assert result.exit_code == 0, text
    assert first["id"] in text and "success" in text and "shop" in text and first["config_hash"][:12] in text

    result, text = _cli("runs", "list", "--runs-db", db, "--json")
    listed = json.loads(result.stdout)
    assert [r["id"] for r in listed] == [first["id"]] and listed[0]["rows"] == sum(first["rows"].values())

    result, text = _cli("runs", "show", first["id"][:20], "--runs-db", db)
    assert result.exit_code == 0, text
    for piece in (first["id"], first["config_hash"], "orders:", str(tmp_path / "a")):
        assert piece in text, piece
    result, _ = _cli("runs", "show", first["id"], "--runs-db", db, "--json")
    shown = json.loads(result.stdout)
    assert shown["schema_text"] == SHOP.read_text(encoding="utf-8") and shown["record"]["seed"] == first["seed"]

    result, text = _cli("runs", "rerun", first["id"], "--out", tmp_path / "b", "--workers", "2", "--runs-db", db,
                        "--json")
    assert result.exit_code == 0, text
    again = json.loads(result.stdout)
    assert again["config_hash"] == first["config_hash"] and again["id"] != first["id"]
    a = json.loads((tmp_path / "a" / "manifest.json").read_text())
    b = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert {f["path"]: f["sha256"] for f in a["files"]} == {f["path"]: f["sha256"] for f in b["files"]}
    assert b["options"]["delimiter"] == ";"
    assert len(RunStore(db).list()) == 2

    # into its own target, the schema file gone: the stored bytes are what is rerun
    (tmp_path / "copy.yaml").write_bytes(SHOP.read_bytes())
    result, text = _cli("runs", "rerun", first["id"], "--runs-db", db, "-q")
    assert result.exit_code == 0 and result.stdout == "", text
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["files"] == a["files"]


def test_runs_rerun_of_a_memory_run_and_of_a_shifted_anchor(tiny, store):
    res = datagen.generate(tiny, output="memory", workers=1, seed=9)
    again = datagen.rerun(res.record["id"])
    assert again.sink == "memory" and again.record["config_hash"] == res.record["config_hash"]
    assert again.tables["t"].equals(res.tables["t"])
    now = datagen.generate(datagen.load_schema(str(tiny), anchor="now"), output="memory", workers=1)
    assert datagen.rerun(now.record["id"]).record["config_hash"] == now.record["config_hash"]


def test_runs_list_filters_by_status_and_refuses_an_unknown_one(tiny, tmp_path, store, monkeypatch):
    datagen.generate(tiny, output="memory", workers=1)
    with pytest.raises(KeyboardInterrupt):
        datagen.generate(tiny, output="memory", workers=1, progress=lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    result, text = _cli("runs", "list", "--status", "interrupted", "--json")
    assert result.exit_code == 0, text
    assert [r["status"] for r in json.loads(result.stdout)] == ["interrupted"]
    result, text = _cli("runs", "list", "--status", "sucess")
    assert result.exit_code == 2
    assert "--status 'sucess': not a run status (did you mean 'success'?)" in text and "Traceback" not in text
    result, text = _cli("runs", "list", "--limit", "0")
    assert result.exit_code == 2 and "--limit 0" in text
    result, text = _cli("runs", "list", "--limit", "1")
    assert result.exit_code == 0 and text.count("memory") == 1, text


def test_an_unknown_run_id_is_exit_2_with_the_closest(tiny, store):
    rid = datagen.generate(tiny, output="memory", workers=1).record["id"]
    wrong = rid[:-1] + ("0" if rid[-1] != "0" else "1")
    for verb in ("show", "rerun"):
        result, text = _cli("runs", verb, wrong)
        assert result.exit_code == 2, text
        assert f"no run {wrong!r}" in text and f"did you mean {rid}" in text
    result, text = _cli("runs", "show", "nothing-like-it", "--runs-db", store.path.parent / "new.sqlite")
    assert result.exit_code == 2 and "holds no runs yet" in text


# --- two runs into one target ------------------------------------------------------------------


def _plant(store: RunStore, out: Path | str, pid: int, marker: str, status: str = "running") -> str:
    """A pending/running row of another process writing to ``out`` (a folder, or a target key)."""
    store.check_writable()
    rid = runs.new_id()
    with store._connect() as con, store._tx(con):
        store._insert(con, {"id": rid, "status": status, "started_at": "2025-03-01T10:00:00Z", "target": {},
                            "target_key": out if isinstance(out, str) else os.path.abspath(out), "pid": pid, "host": runs._host(),
                            "proc_start": marker})
    return rid


def test_a_second_run_into_a_target_being_written_is_refused(tiny, tmp_path, store):
    out = tmp_path / "o"
    holder = subprocess.Popen(["sleep", "120"])
    try:
        stat = runs._proc_stat(holder.pid)
        rid = _plant(store, out, holder.pid, stat[1] if stat else "")
        result, text = _cli("generate", "--format", "csv", "--schema", tiny, "--out", out, "--workers", "1")
        assert result.exit_code == 3, text
        assert f"--out {out}: another datagen run (pid {holder.pid}) is writing here — run {rid}" in text
        assert "wait for it to end, or stop it" in text and ".o.datagen.lock" in text
        assert not out.exists()
        refused = store.list(status="failed")
        assert len(refused) == 1 and refused[0]["error"] in text
        assert store.get(rid)["status"] == "running"
        # another target is free; so is memory
        assert _cli("generate", "--format", "csv", "--schema", tiny, "--out", tmp_path / "p", "-q")[0].exit_code == 0
    finally:
        holder.kill()
        holder.wait()
    # its process gone, the row is marked interrupted and the run proceeds
    result, text = _cli("generate", "--format", "csv", "--schema", tiny, "--out", out, "--workers", "1", "-q")
    assert result.exit_code == 0, text
    assert store.get(rid)["status"] == "interrupted" and "ended before the run did" in store.get(rid)["error"]


def test_a_database_target_is_named_by_its_format(tiny, tmp_path, store):
    """SQLite's ``database=PATH``: the target is that file (``target_identity``), whatever --out."""
    db_a, db_b = tmp_path / "a.db", tmp_path / "b.db"
    db_a.write_bytes(b"")
    db_b.write_bytes(b"")
    first = datagen.generate(tiny, format="sqlite", out=tmp_path / "o1", options={"database": db_a}, workers=1)
    target = first.record["target"]
    assert target["kind"] == "sqlite" and target["database"] == str(db_a) and target["key"] == f"sqlite:{db_a}"
    other = datagen.generate(tiny, format="sqlite", out=tmp_path / "o2", options={"database": db_b}, workers=1)
    assert other.record["config_hash"] == first.record["config_hash"]  # where is not what
    assert first.record["config"]["target_kind"] == "sqlite" and first.record["config"]["mode"] == "create"
    holder = subprocess.Popen(["sleep", "120"])
    try:
        stat = runs._proc_stat(holder.pid)
        _plant(store, f"sqlite:{db_b}", holder.pid, stat[1] if stat else "")
        result, text = _cli("generate", "--format", "sqlite", "--schema", tiny, "--out", tmp_path / "o3",
                            "--option", f"database={db_b}", "--option", "mode=append")
        assert result.exit_code == 3, text
        assert f"--option database={db_b}: another datagen run (pid {holder.pid}) is writing here" in text
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("who", ["dead", "reused", "this-process"])
def test_a_row_whose_process_is_gone_does_not_block(tiny, tmp_path, store, who):
    out = tmp_path / "o"
    if who == "dead":
        p = subprocess.Popen(["true"])
        p.wait()
        pid, marker = p.pid, ""
    elif who == "reused":  # a live pid with another start time: not the process that began the run
        if runs._proc_stat(os.getppid()) is None:
            pytest.skip("no /proc")
        pid, marker = os.getppid(), "1"
    else:  # a row of this very process that it is not running (a crash left it)
        pid, marker = os.getpid(), runs._me()[2]
    rid = _plant(store, out, pid, marker, status="pending")
    datagen.generate(tiny, format="csv", out=out, workers=1)
    assert store.get(rid)["status"] == "interrupted"


def test_runs_list_marks_dead_runs_interrupted(tiny, tmp_path, store):
    p = subprocess.Popen(["true"])
    p.wait()
    rid = _plant(store, tmp_path / "o", p.pid, "")
    result, text = _cli("runs", "list", "--json")
    assert [r["status"] for r in json.loads(result.stdout) if r["id"] == rid] == ["interrupted"]


# --- the store itself ---------------------------------------------------------------------------


def test_the_store_path_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "env.sqlite"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert store_path(tmp_path / "x.sqlite") == tmp_path / "x.sqlite"
    assert store_path() == tmp_path / "env.sqlite"
    monkeypatch.delenv("DATAGEN_RUNS_DB")
    assert store_path() == tmp_path / "state" / "datagen" / "runs.sqlite"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")  # not absolute: ignored, as XDG says
    assert store_path() == tmp_path / "home" / ".local" / "state" / "datagen" / "runs.sqlite"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert store_path() == tmp_path / "home" / ".local" / "state" / "datagen" / "runs.sqlite"
    with pytest.raises(datagen.UsageError, match="--runs-db '': an empty path"):
        store_path("  ")


@pytest.mark.parametrize("how", ["parent-is-a-file", "not-sqlite", "a-folder"])
def test_a_store_that_cannot_be_written_stops_the_run_before_anything_is_written(tiny, tmp_path, how):
    if how == "parent-is-a-file":
        (tmp_path / "file").write_text("x")
        db = tmp_path / "file" / "runs.sqlite"
    elif how == "not-sqlite":
        db = tmp_path / "runs.sqlite"
        db.write_bytes(b"this is not a database at all, not even close" * 40)
    else:
        db = tmp_path / "runs.sqlite"
        db.mkdir()
    out = tmp_path / "o"
    result, text = _cli("generate", "--format", "csv", "--schema", tiny, "--out", out, "--runs-db", db)
    assert result.exit_code == 3, text
    assert f"the run store {db}" in text and "--runs-db" in text and "DATAGEN_RUNS_DB" in text
    assert "nothing was written" in text and "Traceback" not in text
    assert not out.exists() and not (tmp_path / ".o.datagen.lock").exists()
    with pytest.raises(OutputError):
        datagen.generate(tiny, output="memory", workers=1, runs_db=db)


def test_the_store_may_not_live_inside_the_output(tiny, tmp_path):
    result, text = _cli("generate", "--format", "csv", "--schema", tiny, "--out", tmp_path / "o", "--runs-db",
                        tmp_path / "o" / "runs.sqlite")
    assert result.exit_code == 2 and "inside --out" in text


def test_a_store_of_a_later_layout_is_refused(tiny, tmp_path):
    db = tmp_path / "later.sqlite"
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(OutputError, match="written by a later datagen"):
        datagen.generate(tiny, output="memory", workers=1, runs_db=db)


# --- redaction ------------------------------------------------------------------------------------

#: what a password may hold inside a URL's user information or a quoted libpq value
PASSWORDS = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&()*+,;=%:@"),
                    min_size=8, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=PASSWORDS)
def test_a_random_password_never_reaches_the_store(tmp_path, password):
    store = RunStore(tmp_path / f"r{abs(hash(password)) % 10**9}.sqlite")
    store.check_writable()
    libpq = password.replace("\\", "\\\\").replace("'", "\\'")
    fields = {
        "started_at": "2025-01-01T00:00:00Z",
        "target": {"kind": "postgres", "dsn": f"postgresql://loader:{password}@db.example:5432/shop",
                   "options": {"db_password": password, "PWD": password, "host": "db"}},
        "replay": {"options": {"dsn": f"host=db user=loader password='{libpq}' dbname=shop", "token": password}},
    }
    rid = store.begin(fields, key="postgres://db.example:5432/shop", label="target")
    store.finish(rid, "failed", finished_at="2025-01-01T00:00:01Z", seconds=1.0,
                 error=f"cannot connect to postgresql://loader:{password}@db.example/shop (password={password})")
    con = sqlite3.connect(store.path)
    stored = [v for row in con.execute("SELECT * FROM runs") for v in row if isinstance(v, str)]
    con.close()
    assert stored and not any(password in v for v in stored)
    assert any("postgresql://loader:***@db.example:5432/shop" in v for v in stored)


def test_redact_keeps_what_is_not_a_secret():
    value = {"path": "out/shop", "rows": 3, "tokens_per_row": None, "password": None,
             "url": "https://example.com/a?b=1", "dsn": "postgresql://user@host/db"}
    assert redact(value) == {**value, "tokens_per_row": None}
    assert redact({"token": "x", "api_key": "y", "nested": [{"secret": 1}]}) == \
        {"token": "***", "api_key": "***", "nested": [{"secret": "***"}]}
    assert redact("host=a password = \"p w\" port=5") == "host=a password = *** port=5"
