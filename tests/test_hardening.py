"""Issue 11, escapes, hangs and data loss: validate opens nothing outside --out and no special file
inside it, paths that are not regular files or are empty are refused, a database inside --out is
refused, and --report to a stream writes to it. FIFOs run as true subprocesses with a timeout: a
regression is a hang, which the timeout turns into a failure."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "schemas" / "examples" / "shop.yaml"
TIMEOUT = 120  # a hang fails the test instead of the suite


def _datagen(*args, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-P", "-m", "datagen", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=TIMEOUT, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def sqlite_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sq") / "o"
    r = _datagen("generate", "--format", "sqlite", "--schema", SHOP, "--out", out, "--scale", "0.01", "-q")
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def csv_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("csv") / "o"
    r = _datagen("generate", "--format", "csv", "--schema", SHOP, "--out", out, "--scale", "0.01", "-q")
    assert r.returncode == 0, r.stderr
    return out


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "o"
    shutil.copytree(src, dst)
    return dst


def _manifest_db(out: Path, value: str) -> None:
    m = json.loads((out / "manifest.json").read_text())
    m["sqlite"]["database"] = value
    (out / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize("where", ["absolute", "climbing", "fifo-outside"])
def test_validate_opens_no_database_outside_out_on_the_manifests_word(sqlite_out, tmp_path, where):
    out = _copy(sqlite_out, tmp_path)
    elsewhere = tmp_path / "elsewhere.db"
    if where == "fifo-outside":
        os.mkfifo(elsewhere)  # opening it would block forever
    else:
        shutil.copy(next(out.glob("*.sqlite")), elsewhere)
    _manifest_db(out, {"absolute": str(elsewhere), "climbing": "../elsewhere.db",
                       "fifo-outside": str(elsewhere)}[where])
    r = _datagen("validate", "--format", "sqlite", "--schema", SHOP, "--out", out, "--json")
    assert r.returncode == 1, r.stderr
    checks = json.loads(r.stdout)["checks"]
    assert any(c["kind"] == "sqlite_integrity" and c["status"] == "fail" and "outside --out" in c["message"]
               for c in checks)
    assert all(c["status"] != "pass" for c in checks if c["kind"] in ("parseable", "deterministic_replay"))


def test_validate_reads_a_database_outside_out_only_when_asked(sqlite_out, tmp_path):
    out = _copy(sqlite_out, tmp_path)
    elsewhere = tmp_path / "elsewhere.db"
    shutil.move(next(out.glob("*.sqlite")), elsewhere)
    m = json.loads((out / "manifest.json").read_text())
    m["files"] = [f for f in m["files"] if not f["path"].endswith(".sqlite")]
    m["sqlite"]["database"] = str(elsewhere)
    (out / "manifest.json").write_text(json.dumps(m))
    r = _datagen("validate", "--format", "sqlite", "--schema", SHOP, "--out", out, "--option",
                 f"database={elsewhere}", "-q")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_a_special_file_inside_out_fails_artifact_exists_without_being_opened(csv_out, tmp_path, kind):
    import socket

    out = _copy(csv_out, tmp_path)
    target = out / "customers.csv"
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target)
    else:
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(target))
    r = _datagen("validate", "--format", "csv", "--schema", SHOP, "--out", out, "--json")
    assert r.returncode == 1, r.stderr
    fails = [c for c in json.loads(r.stdout)["checks"] if c["status"] == "fail"]
    assert any(c["kind"] == "artifact_exists" and "not a regular file" in c["message"] for c in fails), fails


def test_a_manifest_that_is_not_a_regular_file_is_a_failed_manifest_check(csv_out, tmp_path):
    out = _copy(csv_out, tmp_path)
    (out / "manifest.json").unlink()
    os.mkfifo(out / "manifest.json")
    r = _datagen("validate", "--format", "csv", "--schema", SHOP, "--out", out, "--json")
    assert r.returncode == 1, r.stderr
    rep = json.loads(r.stdout)
    manifest = [c for c in rep["checks"] if c["kind"] == "manifest"]
    assert manifest and manifest[0]["status"] == "fail" and "not a regular file" in manifest[0]["message"]


def test_an_out_holding_no_data_fails(tmp_path):
    (tmp_path / "o").mkdir()
    r = _datagen("validate", "--format", "csv", "--schema", SHOP, "--out", tmp_path / "o", "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["summary"]["passed"] == 0


def test_describe_refuses_a_fifo_and_empty_paths(tmp_path):
    fifo = tmp_path / "schema.yaml"
    os.mkfifo(fifo)  # no writer: opening it would block forever
    r = _datagen("describe", "--format", "csv", "--schema", fifo)
    assert r.returncode == 2 and "not a regular file (a pipe, device or socket); not opened" in r.stderr
    r = _datagen("describe", "--format", "csv", "--schema", "")
    assert r.returncode == 2 and "--schema '': an empty path" in r.stderr
    r = _datagen("generate", "--format", "csv", "--out", "", cwd=tmp_path)
    assert r.returncode == 2 and "--out '': an empty path" in r.stderr
    assert list(tmp_path.iterdir()) == [fifo]


def test_a_database_inside_out_is_refused_and_kept(sqlite_out, tmp_path):
    out = _copy(sqlite_out, tmp_path)
    db = next(out.glob("*.sqlite"))
    before = sqlite3.connect(db).execute("SELECT count(*) FROM customers").fetchone()[0]
    r = _datagen("generate", "--format", "sqlite", "--schema", SHOP, "--out", out, "--scale", "0.01",
                 "--option", f"database={db}", "--option", "mode=truncate")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "the database is inside --out" in r.stderr
    assert db.is_file() and sqlite3.connect(db).execute("SELECT count(*) FROM customers").fetchone()[0] == before


def test_report_to_a_standard_stream_writes_to_it(csv_out, tmp_path):
    """``--report /dev/stdout`` (or ``/dev/fd/1``, ``-``) writes to the stream. The subprocess uses
    ``/dev/fd/1``: a regression would try to rename over /proc's entry and fail, where the same
    regression on ``/dev/stdout`` would replace the machine's link with a file."""
    from shared.io.reporting import is_stream_path

    out = _copy(csv_out, tmp_path)
    for name in ("/dev/fd/1", "-"):
        r = _datagen("validate", "--format", "csv", "--schema", SHOP, "--out", out, "--report", name, "-q")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["status"] == "pass"
    assert os.path.islink("/dev/stdout")
    assert all(is_stream_path(p) for p in ("/dev/stdout", "/dev/stderr", "/dev/fd/2", "/proc/self/fd/1", "-"))
    assert not any(is_stream_path(p) for p in ("/dev/sda", "/dev/fd/x", "report.json", "/dev/stdout2"))


def test_report_to_a_pipe_or_device_is_refused(csv_out, tmp_path):
    out = _copy(csv_out, tmp_path)
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)  # no reader: writing would block forever
    r = _datagen("validate", "--format", "csv", "--schema", SHOP, "--out", out, "--report", fifo)
    assert r.returncode == 3
    assert "cannot write the report: not a regular file" in r.stderr


def _contend(out: str, start, holders: str, overlaps: str) -> None:
    """One contender (a forked process): take the lock, check nobody else holds it, let go."""
    import time

    from shared.errors import OutputError
    from shared.io.output import AtomicOutput

    start.wait()
    try:
        with AtomicOutput(out):
            try:
                fd = os.open(holders, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                with open(overlaps, "a") as f:
                    f.write(f"{os.getpid()}\n")
                return
            time.sleep(0.01)
            os.close(fd)
            os.unlink(holders)
    except OutputError:
        pass  # refused: another run holds the lock
    os._exit(0)


def test_taking_over_a_stale_lock_is_atomic(tmp_path):
    """Six runs against one stale lock, 20 times: never two holders at once (was 5 in 40)."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    out = tmp_path / "o"
    holders, overlaps = tmp_path / "holder", tmp_path / "overlaps"
    for _ in range(20):
        dead = subprocess.Popen(["true"])
        dead.wait()
        (tmp_path / ".o.datagen.lock").write_text(str(dead.pid))
        start = ctx.Barrier(6)
        procs = [ctx.Process(target=_contend, args=(str(out), start, str(holders), str(overlaps))) for _ in range(6)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(TIMEOUT)
            assert p.exitcode == 0
    assert not overlaps.exists(), overlaps.read_text()


def test_out_on_a_mount_point_or_with_a_too_long_name_is_refused_up_front(tmp_path):
    """Both used to write the whole dataset, then fail at the swap (EBUSY) or on the lock's name."""
    from shared.errors import UsageError
    from shared.io.output import AtomicOutput

    mount = next((p for p in ("/dev/shm", "/proc", "/sys") if os.path.ismount(p)), None)
    if mount is not None:
        with pytest.raises(UsageError, match="is a mount point"):
            AtomicOutput(mount).check_target()
    with pytest.raises(UsageError, match="the name is too long"):
        AtomicOutput(tmp_path / ("x" * 240)).check_target()
    r = _datagen("generate", "--format", "csv", "--schema", SHOP, "--out", tmp_path / ("y" * 240), "--scale", "0.01")
    assert r.returncode == 2 and "the name is too long" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_option_past_what_the_writer_takes_is_refused_before_starting(tmp_path):
    r = _datagen("generate", "--format", "parquet", "--schema", SHOP, "--out", tmp_path / "o", "--workers", "2",
                 "--option", "row_group_rows=99999999999999999999999")
    assert r.returncode == 2 and "--option row_group_rows=99999999999999999999999: must be at most" in r.stderr
    assert not (tmp_path / "o").exists()


def test_a_closed_stdout_runs_normally(tmp_path):
    """``generate >&-`` through the bootstrap: it used to end in a traceback and exit 1."""
    boot = ROOT / "all-in-one" / "datagen_bootstrap.py"
    cmd = f'"{sys.executable}" "{boot}" generate --format csv --schema "{SHOP}" --out "{tmp_path / "o"}" --scale 0.01 >&-'
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, check=False, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert (tmp_path / "o" / "manifest.json").is_file()


def test_absurd_worker_counts_are_refused_and_the_rest_capped(tmp_path):
    """--workers 100000 ended in 'unexpected OSError ENOMEM'; --workers 150 forked 150 processes
    for 210 rows. Now: exit 2 past MAX_WORKERS, and no more workers than blocks (or 4 per core)."""
    from shared.schema_dsl.engine import MAX_WORKERS, effective_workers

    r = _datagen("generate", "--format", "csv", "--schema", SHOP, "--out", tmp_path / "o", "--workers", "100000")
    assert r.returncode == 2 and f"--workers 100000: at most {MAX_WORKERS}" in r.stderr
    assert not (tmp_path / "o").exists()
    r = _datagen("generate", "--format", "csv", "--schema", SHOP, "--out", tmp_path / "o", "--workers", "150",
                 "--scale", "0.01", "-q")
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["workers"] == min(len(m["rows"]), 4 * (os.cpu_count() or 1))  # one block per table
    assert effective_workers(150, 3) == 3 and effective_workers(2, 10) == 2
    assert effective_workers(10_000, 10**9) == 4 * (os.cpu_count() or 1)
