"""Background runs: one process per run calling ``datagen.generate`` — the command line's own
function — with the same run store, so a run's record is exactly a command-line run's
(``datagen.service.child`` is what that process does).

Runs execute outside the service's process: the engine never holds the GIL the event loop and
the request threads need, and a run that crashes — even killed outright — takes only its own
process down. Each run's process is forked from a fork server (``multiprocessing``'s
``forkserver`` context, the engine preloaded there: a run starts in milliseconds, not the
seconds of a fresh interpreter) and talks to the service over a pipe, read by one thread per run.

* **start**: ``submit`` refuses a run past ``max_runs`` (429), starts its process and waits until
  the process has the run on record as ``running``, then answers its id; a run refused before
  that (another run writes the same target, a bad option) answers the error.
* **progress**: the engine's progress callback (``progress(table, rows)``, what the command
  line's progress bar gets) in the run's process sends the rows per table (coalesced, ten
  messages a second at most); here they count per table, tables done and the current table
  follow.
* **cancel**: an event the run's progress callback checks; set, the next batch raises
  ``RunCancelled`` (a ``KeyboardInterrupt``), which the run's own machinery treats as Ctrl-C:
  the temporary folder is removed (``--out`` untouched), a database target rolls back as its
  mode promises (docs/targets.md), and the run is marked ``interrupted``.
* **a crash**: a process that ends without saying how (killed, out of memory, the interpreter
  crashing) leaves a run the service marks ``failed`` with what became of the process; a run
  that raises is ``failed`` with its message, as on the command line. The service goes on.
* **shutdown**: every live run is cancelled and waited for (``shutdown_grace_s``); a process
  still going after that gets SIGTERM (an interrupt for the run), then SIGKILL, and its run is
  marked ``interrupted``.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import datagen.service.child as child
from datagen.service.child import RunCancelled
from datagen.service.errors import Conflict, TooManyRuns
from datagen.service.metrics import Metrics
from datagen.service.resolve import Where
from shared.errors import DatagenError
from shared.io.redact import redact_text
from shared.schema_dsl.planner import Plan

__all__ = ["LiveRun", "RunCancelled", "RunManager", "run_context"]

log = logging.getLogger("datagen.service")
#: at most this many log lines kept per run
MAX_LOG = 500
#: how long ``submit`` waits for a run to be on record
START_TIMEOUT_S = 120.0
#: after SIGTERM, how long a run's process gets before SIGKILL
KILL_AFTER_S = 5.0
#: what the fork server imports once, so that each run's process starts with the engine loaded
PRELOAD = ["datagen.service.preload"]

_context: Any = None
_context_lock = threading.Lock()


def run_context() -> Any:
    """The ``multiprocessing`` context runs start from: ``forkserver`` (preloaded with the engine)
    where there is one, else ``spawn``; never a plain fork of the threaded service."""
    global _context
    with _context_lock:
        if _context is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                _context = multiprocessing.get_context("forkserver")
                _context.set_forkserver_preload(PRELOAD)
            else:
                _context = multiprocessing.get_context("spawn")
        return _context


def start_run_server() -> None:
    """Start the fork server now (it imports the engine once), so that the first run does not wait for it."""
    ctx = run_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ended_how(exitcode: int | None) -> str:
    if exitcode is None:
        return "is still running"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"was killed by {name}"
    return f"exited with code {exitcode}"


@dataclass
class LiveRun:
    plan: Plan
    where: Where
    id: str | None = None
    cancel: Any = None                 # a multiprocessing Event: the run's process checks it at every batch
    recorded: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    process: Any = None                # its multiprocessing Process
    thread: threading.Thread | None = None  # reads the process's messages
    rows_done: dict[str, int] = field(default_factory=dict)
    current: str | None = None
    error: BaseException | None = None
    status: str = "pending"
    lines: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def log(self, message: str) -> None:
        with self._lock:
            self.lines.append((_now(), redact_text(message)))
            del self.lines[:-MAX_LOG]

    def table_rows(self) -> dict[str, int]:
        """Rows handed to the target so far, per table of the plan (its order)."""
        with self._lock:
            done = dict(self.rows_done)
        return {n: min(done.get(n, 0), self.plan.tables[n].rows) for n in self.plan.kept}

    def progress(self) -> dict[str, Any]:
        totals = {n: self.plan.tables[n].rows for n in self.plan.kept}
        with self._lock:
            done = dict(self.rows_done)
        return {"rows_done": sum(min(done.get(n, 0), t) for n, t in totals.items()),
                "rows_total": sum(totals.values()),
                "tables_done": sum(1 for n, t in totals.items() if done.get(n, 0) >= t),
                "tables_total": len(totals), "current_table": self.current}


class RunManager:
    def __init__(self, *, max_runs: int, runs_db: str | None, workers: int, metrics: Metrics,
                 shutdown_grace_s: float = 30.0):
        self.max_runs, self.runs_db, self.workers = max_runs, runs_db, workers
        self.metrics, self.grace = metrics, shutdown_grace_s
        self._lock = threading.Lock()
        self._active: list[LiveRun] = []
        self._by_id: dict[str, LiveRun] = {}  # this process's runs (logs), the latest MAX_KEPT
        self._closing = False

    MAX_KEPT = 1000

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._active)

    def get(self, run_id: str) -> LiveRun | None:
        with self._lock:
            return self._by_id.get(run_id)

    def submit(self, plan: Plan, where: Where) -> LiveRun:
        from datagen.runs import plan_recipe

        live = LiveRun(plan, where)
        with self._lock:
            if self._closing:
                raise Conflict("the service is shutting down", status=503)
            if len(self._active) >= self.max_runs:
                raise TooManyRuns(f"{len(self._active)} runs in progress, at most {self.max_runs} at once "
                                  f"(--max-runs); try again when one has ended", headers={"Retry-After": "5"})
            self._active.append(live)
        try:
            ctx = run_context()
            live.log(f"planned {plan.schema.name}: {sum(plan.tables[n].rows for n in plan.kept):,} rows in "
                     f"{len(plan.kept)} table(s), seed {plan.seed}, into {where.format}")
            recipe = {**plan_recipe(plan), "options": {"mode": where.options.get("mode")}}
            reader, writer = ctx.Pipe(duplex=False)
            live.cancel = ctx.Event()
            live.process = ctx.Process(target=child.main, name="datagen-run", daemon=False,
                                       args=(writer, live.cancel, recipe, plan.schema.source.raw, where.format,
                                             str(where.out), dict(where.options), self.workers, self.runs_db))
            live.process.start()
            writer.close()  # the run's process holds the only write end: its end is our EOF
        except BaseException:
            with self._lock:
                self._active.remove(live)
            raise
        live.thread = threading.Thread(target=self._follow, args=(live, reader), name="datagen-run-follow",
                                       daemon=True)
        live.thread.start()
        while not live.recorded.wait(0.05):
            if live.done.is_set():
                break
        if live.id is None:  # refused before it was on record as running
            if isinstance(live.error, Exception):
                raise live.error
            if self._closing:
                raise Conflict("the service is shutting down", status=503)
            raise Conflict(f"the run ended before it was recorded (its process {_ended_how(live.process.exitcode)})")
        return live

    def _on_record(self, live: LiveRun, run_id: str) -> None:
        from datagen.runs import SUPERVISED

        SUPERVISED.add(run_id)  # if its process dies, this service ends the run (not a reader finding it dead)
        live.id, live.status = run_id, "running"
        with self._lock:
            self._by_id[run_id] = live
            if len(self._by_id) > self.MAX_KEPT:
                for old in [k for k, v in self._by_id.items() if v.done.is_set()][: len(self._by_id) - self.MAX_KEPT]:
                    del self._by_id[old]
        live.log(f"run {run_id} running")
        live.recorded.set()

    def _progress(self, live: LiveRun, table: str, n: int) -> None:
        with live._lock:
            before = live.rows_done.get(table, 0)
            live.rows_done[table] = before + n
        if live.current != table:
            live.current = table
            live.log(f"table {table}: started")
        total = live.plan.tables[table].rows
        if before < total <= before + n:
            live.log(f"table {table}: {total:,} rows done")
        self.metrics.add_rows(n)

    def _follow(self, live: LiveRun, conn: Any) -> None:
        """Read the run's messages until its process closes the pipe; then end the run here."""
        ended = False
        try:
            while True:
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    break
                kind = message[0]
                if kind == "progress":
                    for table, n in message[1]:
                        self._progress(live, table, n)
                elif kind == "record":
                    self._on_record(live, message[1])
                elif kind == "refused":
                    live.error, live.status, ended = message[1], "failed", True
                elif kind == "end":
                    _, status, text, crashed = message
                    # its last log line first, then its status: a client that sees the run ended
                    # finds the line that says how (a clean-clone run once read the log in between)
                    live.log(text + (" (the service stopped)" if self._closing and status == "interrupted"
                                     else ""))
                    live.status = status
                    ended = True
                    if crashed:
                        log.error("run %s crashed: %s", live.id, redact_text(text))
        except BaseException as exc:  # noqa: BLE001 - never let a run's end escape into the service
            log.error("run %s: reading its process failed: %s: %s", live.id, type(exc).__name__, exc)
        finally:
            conn.close()
            live.process.join(KILL_AFTER_S)  # it has closed the pipe: it is ending
            if live.process.is_alive():  # stuck on its way out
                live.process.kill()
                live.process.join()
            if not ended:
                self._died(live)
            if live.id is not None:
                from datagen.runs import SUPERVISED

                SUPERVISED.discard(live.id)
            live.current = None
            if live.id is not None:
                self.metrics.run_ended(live.status)
            with self._lock:
                if live in self._active:
                    self._active.remove(live)
            live.done.set()

    def _died(self, live: LiveRun) -> None:
        """The run's process ended without saying how: the run failed (interrupted when the
        service stopped it), recorded so unless something else ended it first."""
        from datagen.runs import RunStore, _iso

        how = _ended_how(live.process.exitcode)
        stopping = self._closing and live.cancel.is_set()
        live.status = "interrupted" if stopping else "failed"
        message = "interrupted (the service stopped)" if stopping else f"the run's process {how}"
        live.log(f"{live.status}: {message}" + (f" (its process {how})" if stopping else ""))
        if live.id is None:
            return
        if not stopping:
            log.error("run %s: its process %s", live.id, how)
        try:
            RunStore.at(self.runs_db).finish(live.id, live.status, finished_at=_iso(time.time()), seconds=0.0,
                                             error=message, unfinished_only=True)
        except DatagenError as exc:
            log.error("run %s: cannot mark it %s: %s", live.id, live.status, exc)

    def cancel(self, live: LiveRun) -> None:
        if live.done.is_set():
            raise Conflict(f"run {live.id} has ended ({live.status}); nothing to cancel")
        if not live.cancel.is_set():
            live.log("cancel requested")
        live.cancel.set()

    def shutdown(self) -> None:
        """Cancel every live run, wait for them; SIGTERM, then SIGKILL, any still going (its run
        is marked interrupted)."""
        with self._lock:
            self._closing = True
            live = list(self._active)
        for r in live:
            r.cancel.set()
            r.log("cancelled: the service is stopping")
        deadline = time.monotonic() + self.grace
        for r in live:
            r.done.wait(max(0.0, deadline - time.monotonic()))
        for r in live:
            if not r.done.is_set():
                r.process.terminate()
        deadline = time.monotonic() + KILL_AFTER_S
        for r in live:
            if not r.done.wait(max(0.0, deadline - time.monotonic())):
                r.process.kill()
                r.done.wait(KILL_AFTER_S)
