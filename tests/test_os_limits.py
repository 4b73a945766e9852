"""The operating system's limits end a run cleanly: detected up front where they can be, a clear
exit-3 message where they cannot, and nothing left behind either way.

True subprocess runs under the limit (``RLIMIT_NOFILE``, ``RLIMIT_AS`` set in the child before it
starts) or with the fault made from outside (a full file system in a private tmpfs mounted in a
user namespace; the temporary folder removed while the run writes into it). Before these fixes:
``ulimit -n 12`` ended in "unexpected OSError: [Errno 24]", a pool that failed half-started left
the run waiting for its first worker forever, ``ulimit -v`` with two workers hung or said
"unexpected OSError: [Errno 12]", a removed temporary folder said "unexpected FileNotFoundError",
and a failed run could leave its temporary folder behind.
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import resource
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from generators.csv_generator.format import CsvFormat
from shared import api
from shared.errors import GenerationError
from shared.io import oslimits
from tests.helpers import ROOT
from tests.test_reliability import SCHEMA, _assert_untouched, _cmd, _finish, _popen, _previous, _wait_for


@pytest.fixture()
def site(tmp_path: Path) -> tuple[Path, Path]:
    """The schema of tests/test_reliability.py, and an --out beside nothing else."""
    schema = tmp_path / "schema" / "rel.yaml"
    schema.parent.mkdir()
    schema.write_text(SCHEMA, encoding="utf-8")
    (tmp_path / "work").mkdir()
    return schema, tmp_path / "work" / "out"


#: a bound on each run, so a hang fails the test instead of the suite (not a speed assertion)
HANG = 300


def _run_limited(cmd: list[str], limits: dict[int, tuple[int, int]]) -> tuple[int, str]:
    def preexec() -> None:
        for which, value in limits.items():
            resource.setrlimit(which, value)

    proc = _popen(cmd, preexec_fn=preexec)
    return _finish(proc, timeout=HANG)


def _workers_used(out: Path) -> int:
    return json.loads((out / "manifest.json").read_text())["workers"]


def _clean(err: str) -> None:
    assert "Traceback" not in err and "unexpected" not in err and "Exception in thread" not in err, err


# --- open files (ulimit -n) ---------------------------------------------------------------------------


@pytest.mark.parametrize("limit, workers", [(12, None), (12, "2"), (16, "2"), (24, "4")])
def test_a_low_open_file_limit_runs_with_the_workers_it_can_hold(site, limit, workers):
    """``ulimit -n 12`` (soft and hard): the run fits its workers to the limit and succeeds."""
    schema, out = site
    extra = ["--workers", workers] if workers else []
    code, err = _run_limited(_cmd("csv", schema, out, "--block-rows", "100", *extra),
                             {resource.RLIMIT_NOFILE: (limit, limit)})
    assert code == 0, err
    _clean(err)
    used = _workers_used(out)
    assert 1 <= used <= int(workers or multiprocessing.cpu_count())
    assert oslimits.fds_needed(used, now=3) <= limit  # 3: stdin, stdout, stderr at the least
    if limit >= oslimits.fds_needed(2, now=8):
        assert used >= 2  # room for workers: they run
    assert [p.name for p in out.parent.iterdir() if p.name != out.name] == []


def test_a_low_soft_open_file_limit_is_raised_to_what_the_run_needs(site):
    schema, out = site
    code, err = _run_limited(_cmd("csv", schema, out, "--block-rows", "100", "--workers", "4"),
                             {resource.RLIMIT_NOFILE: (10, 4096)})
    assert code == 0, err
    assert _workers_used(out) == 4  # 10 descriptors hold one process; the soft limit was raised


def test_an_open_file_limit_no_run_fits_in_is_refused_up_front(site):
    schema, out = site
    before = _previous(schema, out, "csv")
    code, err = _run_limited(_cmd("csv", schema, out), {resource.RLIMIT_NOFILE: (6, 6)})
    assert code == 2, err
    assert "error: the open-file limit (ulimit -n) is 6, and a run needs at least" in err
    assert "hint: raise it, e.g. ulimit -n 1024" in err
    _assert_untouched(out, before)


def test_running_out_of_descriptors_mid_run_is_one_clear_line(site, runner, monkeypatch):
    from generators.csv_generator.__main__ import app

    def no_more(*_a, **_k):
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(CsvFormat, "finish", no_more)
    schema, out = site
    result = runner.invoke(app, ["generate", "--schema", str(schema), "--out", str(out), "-q"])
    assert result.exit_code == 3, result.output
    soft = oslimits.nofile_limits()[0]
    assert f"error: too many open files: the open-file limit (ulimit -n) is {soft} " in result.output
    assert "or pass --workers 1" in result.output
    assert [p.name for p in out.parent.iterdir()] == []


# --- memory (ulimit -v) -------------------------------------------------------------------------------


def test_an_address_space_limit_too_small_for_a_run_is_a_clear_exit_3(site):
    """``ulimit -v 400000`` and the default schema, as the issue found it. (Far lower limits fail
    while the interpreter loads pyarrow's libraries, before datagen runs.)"""
    schema, out = site
    before = _previous(schema, out, "csv")
    limit = 400_000 * 1024
    cmd = [c for c in _cmd("csv", schema, out, "--workers", "2") if c not in ("--schema", str(schema))]
    code, err = _run_limited(cmd, {resource.RLIMIT_AS: (limit, limit)})
    assert code == 3, err
    assert "error: out of memory; the address-space limit (ulimit -v) is 400,000 KiB" in err
    _clean(err)
    _assert_untouched(out, before)


def test_an_address_space_limit_with_room_for_one_process_runs_one(site):
    """Two workers' shared-memory slots do not fit in ``ulimit -v 800000`` beside the run: one
    process runs (before: the pool could not start its threads and the run waited forever)."""
    schema, out = site
    limit = 800_000 * 1024
    code, err = _run_limited(_cmd("csv", schema, out, "--workers", "2", "--block-rows", "100"),
                             {resource.RLIMIT_AS: (limit, limit)})
    assert code == 0, err
    assert _workers_used(out) == 1


def test_a_pool_whose_thread_cannot_start_fails_instead_of_waiting_forever(site, monkeypatch):
    """The executor's thread dies when it cannot start the queue's feeder thread (out of memory):
    the run fails with one message, no worker left, no temporary folder."""
    import multiprocessing.queues

    def cannot(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(multiprocessing.queues.Queue, "_start_thread", cannot)
    schema, out = site
    plan = api.resolve_plan(api.load_schema(str(schema)), block_rows=100)

    def hung(signum, frame):
        raise AssertionError("the pool start hung")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG)
    try:
        with pytest.raises(GenerationError, match=r"the worker pool could not start its threads: "
                                                  r"RuntimeError: can't start new thread"):
            api.generate(plan, CsvFormat(), out, workers=2)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert multiprocessing.active_children() == []
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_out_of_memory_errors_are_named_with_the_limit():
    assert oslimits.describe_os_error(MemoryError()).startswith("out of memory")
    assert oslimits.describe_os_error(OSError(errno.ENOMEM, "Cannot allocate memory")).startswith("out of memory")
    assert oslimits.describe_os_error(RuntimeError("can't start new thread")).startswith("out of memory")
    assert oslimits.describe_os_error(OSError(errno.ENFILE, "x")).startswith("too many open files in the system")
    assert oslimits.describe_os_error(OSError(errno.EAGAIN, "fork failed")).startswith(
        "cannot start a worker process: the process limit (ulimit -u)")
    assert oslimits.describe_os_error(OSError(errno.ENOENT, "x")) is None
    assert oslimits.describe_os_error(RuntimeError("other")) is None


# --- a full disk --------------------------------------------------------------------------------------


def _tmpfs_run(tmp_path: Path, size: str, fill_kib: int, fmt: str, *args: str) -> tuple[int, str, list[str]]:
    """``generate`` into a private tmpfs of ``size`` with ``fill_kib`` already used: (exit, stderr,
    what is left on the file system besides the filler and ``out``)."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a private tmpfs")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"user namespaces are not available: {probe.stderr.decode().strip()}")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    out = mnt / "out"
    script = (f'mount -t tmpfs -o size={size} tmpfs "{mnt}" || exit 99\n'
              f'[ {fill_kib} -gt 0 ] && head -c {fill_kib}k /dev/zero > "{mnt}/filler" 2>/dev/null\n'
              f'{subprocess.list2cmdline(_cmd(fmt, tmp_path / "schema" / "rel.yaml", out, *args))} 2>"{tmp_path}/err"\n'
              f'code=$?\nls -A "{mnt}" > "{tmp_path}/left"\nexit $code\n')
    proc = subprocess.run(["unshare", "-rm", "bash", "-c", script], cwd=ROOT, timeout=HANG, capture_output=True)
    assert proc.returncode != 99, proc.stderr
    left = [n for n in (tmp_path / "left").read_text().split() if n not in ("filler", "out")]
    return proc.returncode, (tmp_path / "err").read_text(), left


def test_a_full_file_system_is_refused_before_the_run(site, tmp_path):
    code, err, left = _tmpfs_run(tmp_path, "2m", 4096, "csv")
    assert code == 2, err
    assert "the file system is full (0 bytes free on" in err and "nothing was written" in err
    assert left == []  # no lock, no temporary folder


@pytest.mark.parametrize("fmt, message", [
    ("csv", "No space left on device while writing; nothing was changed in"),
    ("parquet", "No space left on device while writing; nothing was changed in"),
    ("sqlite", "SQLite cannot write: database or disk is full"),
])
def test_a_disk_that_fills_during_the_run_is_a_clear_exit_3(site, tmp_path, fmt, message):
    code, err, left = _tmpfs_run(tmp_path, "2m", 0, fmt, "--rows", "t=200000", "--workers", "2")
    assert code == 3, err
    assert message in err
    _clean(err)
    assert left == []


# --- the temporary folder removed during the run ------------------------------------------------------


@pytest.mark.parametrize("replace", [False, True], ids=["removed", "replaced"])
def test_the_temporary_folder_removed_during_the_run_is_a_clear_exit_3(site, replace):
    schema, out = site
    before = _previous(schema, out, "csv")
    proc = _popen(_cmd("csv", schema, out, "--rows", "t=3000000", "--workers", "1"))
    tmp = _wait_for(lambda: [t for t in out.parent.glob(".out.tmp-*") if any(t.iterdir())],
                    "a file in the temporary folder", proc)[0]
    shutil.rmtree(tmp)
    if replace:
        tmp.mkdir()
        (tmp / "someone").write_text("x")
    code, err = _finish(proc, timeout=HANG)
    assert code == 3, err
    assert "the temporary folder" in err and "was removed or replaced during the run (by another process?)" in err
    assert f"nothing was changed in {out}" in err
    _clean(err)
    _assert_untouched(out, before)
