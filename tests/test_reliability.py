"""Faults leave no damage: signals, full disks, file-size limits, a second run, a dead worker.

True subprocess runs of a frontend (the user's path) where the fault must come from outside:

* SIGINT / SIGTERM sent to a running ``generate`` (one worker, two workers, and a Ctrl-C to the
  whole process group): exit 130 / 143, one clear line, the previous ``--out`` byte-identical, no
  temporary folder, no lock, no worker left behind;
* a file-size limit (``RLIMIT_FSIZE``, with SIGXFSZ ignored so the write fails with EFBIG) for
  Parquet, CSV and SQLite: exit 3, a clear message, the previous ``--out`` intact;
* a second ``generate`` into the same ``--out`` while one runs: refused (exit 3) naming the lock
  and the pid of the run holding it; a stale lock (dead pid, garbage) is taken over;
* a worker process killed with SIGKILL: the run fails cleanly (exit 3), nothing left behind.
  (``tests/test_parallel.py::test_failing_worker_fails_the_run_cleanly`` covers a worker that
  raises or exits in-process.)

In-process: ENOSPC / EDQUOT raised by a writer or while writing the manifest (exit 3, message,
previous ``--out`` intact), and a signal arriving between the two renames of the final swap
(deferred: ``--out`` is never missing).
"""

from __future__ import annotations

import errno
import os
import pathlib
import resource
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from generators.csv_generator.format import CsvFormat
from generators.parquet_generator.format import ParquetFormat
from generators.sqlite_seed.format import SqliteFormat
from shared import api
from shared.io import output as output_mod
from tests.helpers import ROOT, make_runner, output_text

PYTHON = ROOT / ".venv" / "bin" / "python"
FRONTENDS = {"parquet": "generators.parquet_generator", "csv": "generators.csv_generator",
             "sqlite": "generators.sqlite_seed"}
FORMATS = {"parquet": ParquetFormat, "csv": CsvFormat, "sqlite": SqliteFormat}
#: rows of the long run: far more than can be written before the fault is injected
LONG_ROWS = 6_000_000

SCHEMA = textwrap.dedent("""\
    version: 1
    name: rel
    seed: 11
    tables:
      - name: t
        rows: 1000
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: x, type: float64, generator: {type: normal, params: {mean: 0, std: 1}}}
          - {name: s, type: string, generator: {type: regex, params: {pattern: '[a-z]{20}'}}}
""")


@pytest.fixture()
def site(tmp_path: Path):
    """A schema (outside the output's parent) and a previous --out written by datagen."""
    schema = tmp_path / "schema" / "rel.yaml"
    schema.parent.mkdir()
    schema.write_text(SCHEMA, encoding="utf-8")
    parent = tmp_path / "work"
    parent.mkdir()
    return schema, parent / "out"


def _previous(schema: Path, out: Path, fmt: str = "parquet") -> dict[str, bytes]:
    plan = api.resolve_plan(api.load_schema(str(schema)))
    api.generate(plan, FORMATS[fmt](), out)
    return _snapshot(out)


def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _assert_untouched(out: Path, before: dict[str, bytes]) -> None:
    assert _snapshot(out) == before, "the previous --out changed"
    leftovers = [p.name for p in out.parent.iterdir() if p.name != out.name]
    assert leftovers == [], f"left beside --out: {leftovers}"


def _cmd(fmt: str, schema: Path, out: Path, *args: str) -> list[str]:
    return [str(PYTHON), "-m", FRONTENDS[fmt], "generate", "--schema", str(schema), "--out", str(out), "-q", *args]


def _popen(cmd: list[str], **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _wait_for(pred, what: str, proc: subprocess.Popen, timeout: float = 60.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        value = pred()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}: {proc.stderr.read()}")
        time.sleep(0.01)
    proc.kill()
    pytest.fail(f"timed out waiting for {what}")


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")  # a zombie no one reaped yet is gone too


def _finish(proc: subprocess.Popen, timeout: float = 60.0) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the run did not end after the fault")
    return proc.returncode, err


# --- signals ----------------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find worker processes")
@pytest.mark.parametrize("sig, workers, group", [(signal.SIGINT, 1, False), (signal.SIGTERM, 2, False),
                                                 (signal.SIGINT, 2, True), (signal.SIGHUP, 2, True),
                                                 (signal.SIGQUIT, 1, False), (signal.SIGUSR1, 2, False)],
                         ids=["SIGINT-1-worker", "SIGTERM-2-workers", "SIGINT-process-group-2-workers",
                              "SIGHUP-process-group-2-workers", "SIGQUIT-1-worker", "SIGUSR1-2-workers"])
def test_signal_during_generate_leaves_the_previous_out(site, sig, workers, group):
    schema, out = site
    before = _previous(schema, out)
    proc = _popen(_cmd("parquet", schema, out, "--workers", str(workers), "--rows", f"t={LONG_ROWS}"),
                  start_new_session=True)
    _wait_for(lambda: list(out.parent.glob(".out.tmp-*")), "the temporary folder", proc)
    if workers > 1:
        _wait_for(lambda: len(_children(proc.pid)) >= workers, "the workers", proc)
    time.sleep(0.3)  # well inside the run: rows are being written
    kids = _children(proc.pid)
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    code, err = _finish(proc)
    assert code == 128 + sig, err
    assert "error: interrupted; nothing was changed in the output folder" in err
    assert "Traceback" not in err, err
    _assert_untouched(out, before)
    deadline = time.monotonic() + 60  # a poll cap for processes exiting on their own, not a budget
    while not all(_gone(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(k) for k in kids), f"workers left running: {kids}"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find worker processes")
def test_sigkill_of_the_run_kills_its_workers_and_the_next_run_clears_the_debris(site):
    """No handler sees SIGKILL: the workers die with their parent (the kernel's parent-death
    signal), and the next run, holding the lock its dead owner left, removes the temporary folder."""
    schema, out = site
    before = _previous(schema, out)
    proc = _popen(_cmd("parquet", schema, out, "--workers", "2", "--rows", f"t={LONG_ROWS}"))
    _wait_for(lambda: list(out.parent.glob(".out.tmp-*")), "the temporary folder", proc)
    kids = _wait_for(lambda: len(_children(proc.pid)) >= 2 and _children(proc.pid), "the workers", proc)
    time.sleep(0.3)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while not all(_gone(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(k) for k in kids), f"workers outlived their parent: {kids}"
    assert list(out.parent.glob(".out.tmp-*")) and (out.parent / ".out.datagen.lock").exists()  # the debris
    assert _snapshot(out) == before
    result, text = _invoke("parquet", ["generate", "--schema", str(schema), "--out", str(out), "--seed", "3"])
    assert result.exit_code == 0, text
    assert [p.name for p in out.parent.iterdir() if p.name != out.name] == []


def test_a_killed_swap_is_undone_by_the_next_run(site):
    """Killed between the two renames of the swap: --out is missing and the old folder is aside.
    The next run puts the previous output back before anything else."""
    schema, out = site
    before = _previous(schema, out)
    aside = out.parent / ".out.old-99999-deadbeef"
    os.rename(out, aside)
    (out.parent / ".out.datagen.lock").write_text("99999")
    from shared.io.output import AtomicOutput

    with AtomicOutput(out):  # takes the stale lock: restores, clears, then is interrupted by the test
        assert _snapshot(out) == before
        assert not aside.exists()
    assert [p.name for p in out.parent.iterdir() if p.name != out.name] == []


# --- file-size limit (EFBIG) and full disks (ENOSPC) -----------------------------------------------------


def _small_files_only():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


@pytest.mark.parametrize("fmt, message", [
    ("parquet", "File too large while writing; nothing was changed in"),
    ("csv", "File too large while writing; nothing was changed in"),
    ("sqlite", "SQLite cannot write: disk I/O error (disk full, or a file-size limit reached?)"),
], ids=["parquet", "csv", "sqlite"])
def test_file_size_limit_fails_cleanly(site, fmt, message, tmp_path, monkeypatch):
    # a run store of its own: the session's, grown past the limit by every other test's runs,
    # would be what fails to grow
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.sqlite"))
    schema, out = site
    before = _previous(schema, out, fmt)
    proc = _popen(_cmd(fmt, schema, out, "--workers", "1", "--rows", "t=300000"), preexec_fn=_small_files_only)
    code, err = _finish(proc)
    assert code == 3, err
    assert message in err, err
    assert "Traceback" not in err and "unexpected" not in err, err
    _assert_untouched(out, before)


def _cli(fmt: str):
    import importlib

    return importlib.import_module(f"{FRONTENDS[fmt]}.__main__").app


def _invoke(fmt: str, args: list[str]):
    result = make_runner().invoke(_cli(fmt), args)
    return result, output_text(result)


@pytest.mark.parametrize("fmt, target, err, workers", [
    ("parquet", "shared.io.output.HashingFile.write", errno.ENOSPC, "1"),
    ("parquet", "shared.io.output.HashingFile.write", errno.ENOSPC, "2"),  # a worker writing a part
    ("csv", "generators.csv_generator.format.CsvTableWriter.write_batch", errno.EDQUOT, "1"),
    ("csv", "shared.io.output.HashingFile._put", errno.ENOSPC, "1"),
    ("csv", "shared.io.output.HashingFile._put", errno.ENOSPC, "2"),
    ("csv", "manifest", errno.ENOSPC, "1"),
], ids=["parquet-ENOSPC-in-file", "parquet-ENOSPC-in-a-worker", "csv-EDQUOT-in-writer", "csv-ENOSPC-in-writer-thread",
        "csv-ENOSPC-in-writer-thread-2-workers", "csv-ENOSPC-in-manifest"])
def test_disk_full_fails_cleanly(site, monkeypatch, fmt, target, err, workers):
    schema, out = site
    before = _previous(schema, out, fmt)
    if target == "manifest":
        real = pathlib.Path.write_text

        def full(self, *a, **kw):
            if self.name == "manifest.json":
                raise OSError(err, os.strerror(err))
            return real(self, *a, **kw)

        monkeypatch.setattr(pathlib.Path, "write_text", full)
    else:
        calls = {"n": 0}
        module, _, attr = target.rpartition(".")
        owner = _resolve(module)
        real = getattr(owner, attr)

        def full(self, batch):
            calls["n"] += 1
            if calls["n"] > 1:
                raise OSError(err, os.strerror(err))
            return real(self, batch)

        monkeypatch.setattr(owner, attr, full)
    result, text = _invoke(fmt, ["generate", "--schema", str(schema), "--out", str(out), "--block-rows", "100",
                                 "--workers", workers])
    assert result.exit_code == 3, text
    assert f"{os.strerror(err)} while writing; nothing was changed in {out}" in text, text
    assert "Traceback" not in text
    _assert_untouched(out, before)


def _resolve(dotted: str):
    import importlib

    module, _, cls = dotted.rpartition(".")
    return getattr(importlib.import_module(module), cls)


# --- the lock ---------------------------------------------------------------------------------------------


def test_a_second_generate_is_refused_while_one_runs(site):
    schema, out = site
    before = _previous(schema, out)
    lock = out.parent / ".out.datagen.lock"
    proc = _popen(_cmd("parquet", schema, out, "--workers", "1", "--rows", f"t={LONG_ROWS}"))
    try:
        _wait_for(lambda: lock.exists() and lock.read_text().strip(), "the lock", proc)
        result, text = _invoke("parquet", ["generate", "--schema", str(schema), "--out", str(out)])
        assert result.exit_code == 3, text
        assert f"--out {out}: another datagen run (pid {proc.pid}) is writing here" in text, text
        assert str(lock) in text
        assert lock.read_text().strip() == str(proc.pid), "the refused run must not touch the lock"
    finally:
        proc.send_signal(signal.SIGTERM)
        code, err = _finish(proc)
    # on a loaded machine the first run may finish before the signal: then --out is its complete
    # output; otherwise it was interrupted and --out is the previous one, untouched
    assert code in (0, 143), err
    if code == 143:
        _assert_untouched(out, before)
    else:
        assert (out / "manifest.json").is_file() and not lock.exists()


@pytest.mark.parametrize("content", ["dead", "garbage", ""])
def test_a_stale_lock_is_taken_over(site, content):
    schema, out = site
    before = _previous(schema, out)
    lock = out.parent / ".out.datagen.lock"
    if content == "dead":
        p = subprocess.Popen(["true"])
        p.wait()
        content = str(p.pid)
    lock.write_text(content)
    old = time.time() - 60
    os.utime(lock, (old, old))
    result, text = _invoke("parquet", ["generate", "--schema", str(schema), "--out", str(out), "--seed", "99"])
    assert result.exit_code == 0, text
    assert not lock.exists()
    assert _snapshot(out) != before  # replaced by the new run


def test_a_lock_held_by_a_starting_run_is_not_taken_over(site):
    """Its owner holds the lock (flock) but has not written its pid yet: refuse, do not steal."""
    schema, out = site
    before = _previous(schema, out)
    lock = out.parent / ".out.datagen.lock"
    holder = subprocess.Popen([str(PYTHON), "-c", "import fcntl, os, sys, time\n"
                               f"fd = os.open({str(lock)!r}, os.O_CREAT | os.O_RDWR)\n"
                               "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(600)\n"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result, text = _invoke("parquet", ["generate", "--schema", str(schema), "--out", str(out)])
        assert result.exit_code == 3, text
        assert "another datagen run is starting here" in text and str(lock) in text
        assert lock.exists()
    finally:
        holder.kill()
        holder.wait()
    assert _snapshot(out) == before, "the previous --out changed"
    # its holder gone, the same file is free: the next run takes it
    result, text = _invoke("parquet", ["generate", "--schema", str(schema), "--out", str(out), "--seed", "5"])
    assert result.exit_code == 0, text
    assert not lock.exists()


# --- a worker killed ------------------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find worker processes")
def test_a_killed_worker_fails_the_run_cleanly(site):
    schema, out = site
    before = _previous(schema, out)
    proc = _popen(_cmd("parquet", schema, out, "--workers", "2", "--block-rows", "20000", "--rows", f"t={LONG_ROWS}"))
    kids = _wait_for(lambda: len(_children(proc.pid)) >= 2 and _children(proc.pid), "the workers", proc)
    time.sleep(0.2)
    os.kill(kids[0], signal.SIGKILL)
    code, err = _finish(proc)
    assert code == 3, err
    assert "error: a worker process died while generating 't'" in err, err
    assert "Traceback" not in err, err
    _assert_untouched(out, before)
    deadline = time.monotonic() + 60  # a poll cap for processes exiting on their own, not a budget
    while not all(_gone(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(k) for k in kids), f"workers left running: {kids}"


# --- a signal during the final swap ----------------------------------------------------------------------------


def test_a_signal_between_the_two_renames_is_deferred(site, monkeypatch):
    """SIGTERM right after --out was renamed aside: the swap still completes, --out is never missing."""
    schema, out = site
    _previous(schema, out)
    real = os.rename
    seen = []

    def rename(src, dst):
        real(src, dst)
        seen.append((Path(src).name, Path(dst).name))
        if len(seen) == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # delivered before the next rename runs

    monkeypatch.setattr(output_mod.os, "rename", rename)
    plan = api.resolve_plan(api.load_schema(str(schema)), seed=12345)
    manifest = api.generate(plan, ParquetFormat(), out)
    assert manifest["seed"] == 12345
    assert len(seen) == 2 and seen[0][0] == "out" and seen[1][1] == "out"
    assert (out / "manifest.json").is_file()
    assert [p.name for p in out.parent.iterdir()] == ["out"]


def test_every_test_named_in_docs_reliability_exists():
    """docs/reliability.md maps each guarantee to tests: every one it names must exist."""
    import ast
    import re

    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    refs = set(re.findall(r"(tests/[a-z_]+\.py)(?:::([A-Za-z_0-9]+))?", text))
    assert len(refs) >= 30
    for path, name in refs:
        file = ROOT / path
        assert file.is_file(), path
        if name:
            tree = ast.parse(file.read_text(encoding="utf-8"))
            names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert name in names, f"{path}::{name} is named in docs/reliability.md but does not exist"
