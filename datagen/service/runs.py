"""Background runs: one thread per run calling ``datagen.generate`` — the command line's own
function — with the same run store, so a run's record is exactly a command-line run's.

* **start**: ``submit`` refuses a run past ``max_runs`` (429), starts its thread and waits until
  the ``Recorder`` has the run on record as ``running`` (``on_record``), then answers its id; a
  run refused before that (another run writes the same target, a bad option) answers the error.
* **progress**: the engine's progress callback (``progress(table, rows)``, what the command
  line's progress bar gets) counts rows per table; tables done and the current table follow.
* **cancel**: a flag the progress callback checks; set, the next batch raises ``RunCancelled``
  (a ``KeyboardInterrupt``), which the run's own machinery treats as Ctrl-C: the temporary folder
  is removed (``--out`` untouched), a database target rolls back as its mode promises
  (docs/targets.md), and the ``Recorder`` marks the run ``interrupted``.
* **shutdown**: every live run is cancelled and waited for (``shutdown_grace_s``); one still
  going after that is marked ``interrupted`` in the store directly.
* a run's crash is its own: the thread catches everything, the run is ``failed``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from datagen.service.errors import Conflict, TooManyRuns
from datagen.service.metrics import Metrics
from datagen.service.resolve import Where
from shared.errors import DatagenError
from shared.io.redact import redact_text
from shared.schema_dsl.planner import Plan

log = logging.getLogger("datagen.service")
#: at most this many log lines kept per run
MAX_LOG = 500
#: how long ``submit`` waits for a run to be on record
START_TIMEOUT_S = 120.0


class RunCancelled(KeyboardInterrupt):
    """Raised inside a run whose cancellation was asked for: handled as Ctrl-C is."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class LiveRun:
    plan: Plan
    where: Where
    id: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    recorded: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
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
        live = LiveRun(plan, where)
        with self._lock:
            if self._closing:
                raise Conflict("the service is shutting down", status=503)
            if len(self._active) >= self.max_runs:
                raise TooManyRuns(f"{len(self._active)} runs in progress, at most {self.max_runs} at once "
                                  f"(--max-runs); try again when one has ended", headers={"Retry-After": "5"})
            self._active.append(live)
        live.log(f"planned {plan.schema.name}: {sum(plan.tables[n].rows for n in plan.kept):,} rows in "
                 f"{len(plan.kept)} table(s), seed {plan.seed}, into {where.format}")
        live.thread = threading.Thread(target=self._work, args=(live,), name="datagen-run", daemon=True)
        live.thread.start()
        while not live.recorded.wait(0.05):
            if live.done.is_set() or not live.thread.is_alive():
                break
        if live.id is None:  # refused before it was on record as running
            live.thread.join(START_TIMEOUT_S)
            if live.error is not None:
                raise live.error
            raise Conflict("the run ended before it was recorded")
        return live

    def _on_record(self, live: LiveRun, run_id: str) -> None:
        live.id, live.status = run_id, "running"
        with self._lock:
            self._by_id[run_id] = live
            if len(self._by_id) > self.MAX_KEPT:
                for old in [k for k, v in self._by_id.items() if v.done.is_set()][: len(self._by_id) - self.MAX_KEPT]:
                    del self._by_id[old]
        live.log(f"run {run_id} running")
        live.recorded.set()

    def _progress(self, live: LiveRun, table: str, n: int) -> None:
        if live.cancel.is_set():
            raise RunCancelled()
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

    def _work(self, live: LiveRun) -> None:
        import datagen

        try:
            result = datagen.generate(live.plan, format=live.where.format, out=live.where.out,
                                      options=live.where.options, workers=self.workers, runs_db=self.runs_db,
                                      progress=lambda t, n: self._progress(live, t, n),
                                      on_record=lambda rid: self._on_record(live, rid))
            live.status = "success"
            live.log(f"success: {sum(result.rows.values()):,} rows in "
                     f"{result.manifest.get('timings', {}).get('total_s', 0):.2f} s")
        except BaseException as exc:  # noqa: BLE001 - a run's crash is its own, never the service's
            live.error = exc
            live.status = "failed" if isinstance(exc, Exception) else "interrupted"
            if isinstance(exc, RunCancelled):
                live.log("interrupted: cancelled" + (" (the service stopped)" if self._closing else ""))
            elif isinstance(exc, DatagenError):
                live.log(f"{live.status}: {exc.render()}")
            else:
                live.log(f"{live.status}: {type(exc).__name__}: {exc}")
                if isinstance(exc, Exception):
                    log.error("run %s crashed: %s: %s", live.id, type(exc).__name__, redact_text(str(exc)))
        finally:
            live.current = None
            if live.id is not None:
                self.metrics.run_ended(live.status)
            with self._lock:
                if live in self._active:
                    self._active.remove(live)
            live.done.set()

    def cancel(self, live: LiveRun) -> None:
        if live.done.is_set():
            raise Conflict(f"run {live.id} has ended ({live.status}); nothing to cancel")
        if not live.cancel.is_set():
            live.log("cancel requested")
        live.cancel.set()

    def shutdown(self) -> None:
        """Cancel every live run, wait for them, mark any still going interrupted."""
        with self._lock:
            self._closing = True
            live = list(self._active)
        for r in live:
            r.cancel.set()
            r.log("cancelled: the service is stopping")
        deadline = time.monotonic() + self.grace
        for r in live:
            if r.thread is not None:
                r.thread.join(max(0.0, deadline - time.monotonic()))
        for r in live:
            if not r.done.is_set() and r.id is not None:
                from datagen.runs import RunStore, _iso

                try:
                    RunStore.at(self.runs_db).finish(r.id, "interrupted", finished_at=_iso(time.time()),
                                                     seconds=0.0, error="interrupted (the service stopped)")
                except DatagenError as exc:
                    log.error("run %s: cannot mark it interrupted: %s", r.id, exc)
