"""What a run's own process does: ``datagen.generate`` — the command line's function, the same run
store — with its progress, its record and its end sent back to the service over a pipe.

The service (``datagen.service.runs``) starts one such process per run from a fork server
(``multiprocessing``'s ``forkserver`` context, this module preloaded there), so the engine never
holds the service's GIL and a crash of the run never reaches the service. The messages, in
order, each a tuple::

    ("record", run_id)                  the run is on record as running (the service answers POST /runs)
    ("progress", [(table, rows), ...])  rows handed to the target since the last message, in order
    ("end", status, message, crashed)   success / failed / interrupted, the log line's text, and
                                        whether it failed on something other than a DatagenError
    ("refused", error)                  ended before it was on record (the error answers POST /runs)

No ``end`` (the process died: killed, out of memory, a crash of the interpreter) is the service's
to handle: the run is marked ``failed``. Cancel is the ``cancel`` event, checked at every batch
(the progress callback), which raises ``RunCancelled`` — a ``KeyboardInterrupt``, handled as
Ctrl-C is. SIGTERM and SIGINT during the write are an interrupt too (the output's own signal
handling), and the process gets SIGTERM when the fork server (and so the service) is gone. It
runs at a lower priority (``nice`` 10): on a busy machine the service answers first.
"""

from __future__ import annotations

import pickle
import signal
import sys
import time
from typing import Any

#: the progress messages are sent at most this often (the last one always)
PROGRESS_EVERY_S = 0.1
#: prctl(PR_SET_PDEATHSIG)
_PR_SET_PDEATHSIG = 1
#: a run is background work: on a busy machine the service's requests and streams go first
NICENESS = 10


class RunCancelled(KeyboardInterrupt):
    """Raised inside a run whose cancellation was asked for: handled as Ctrl-C is."""


def _end_with_parent() -> None:
    """Linux: SIGTERM (an interrupt: the run cleans up) when the fork server dies with the service."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it crosses a pipe intact, else a ``DatagenError`` with its message."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any failure to pickle: send the message instead
        from shared.errors import DatagenError

        return DatagenError(f"{type(exc).__name__}: {exc}")


class _Progress:
    """The engine's progress callback: checks for a cancel, sends the rows in coalesced messages."""

    def __init__(self, conn: Any, cancel: Any):
        self.conn, self.cancel = conn, cancel
        self.pending: list[list[Any]] = []
        self.sent_at = 0.0

    def __call__(self, table: str, n: int) -> None:
        if self.cancel.is_set():
            raise RunCancelled()
        if self.pending and self.pending[-1][0] == table:
            self.pending[-1][1] += n
        else:
            self.pending.append([table, n])
        now = time.monotonic()
        if now - self.sent_at >= PROGRESS_EVERY_S:
            self.flush()
            self.sent_at = now

    def flush(self) -> None:
        if self.pending:
            self.conn.send(("progress", [(t, n) for t, n in self.pending]))
            self.pending = []


def main(conn: Any, cancel: Any, recipe: dict[str, Any], source: bytes, format: str, out: str,
         options: dict[str, str], workers: int, runs_db: str | None) -> None:
    """Run one ``datagen.generate`` and report it over ``conn`` (the module documentation)."""
    import os

    _end_with_parent()
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    import datagen
    from datagen.api import plan_from_recipe
    from shared.errors import DatagenError

    progress = _Progress(conn, cancel)
    recorded = False

    def on_record(run_id: str) -> None:
        nonlocal recorded
        recorded = True
        conn.send(("record", run_id))

    try:
        try:
            plan = plan_from_recipe(recipe, source)
            result = datagen.generate(plan, format=format, out=out, options=options, workers=workers,
                                      runs_db=runs_db, progress=progress, on_record=on_record)
        finally:
            progress.flush()
        total_s = result.manifest.get("timings", {}).get("total_s", 0)
        conn.send(("end", "success", f"success: {sum(result.rows.values()):,} rows in {total_s:.2f} s", False))
    except BaseException as exc:  # noqa: BLE001 - every end is reported; the service decides
        if not recorded:
            conn.send(("refused", _portable(exc)))
            return
        status = "failed" if isinstance(exc, Exception) else "interrupted"
        if isinstance(exc, RunCancelled):
            message = "interrupted: cancelled"
        elif isinstance(exc, DatagenError):
            message = f"{status}: {exc.render()}"
        else:
            message = f"{status}: {type(exc).__name__}: {exc}"
        conn.send(("end", status, message, isinstance(exc, Exception) and not isinstance(exc, DatagenError)))
    finally:
        conn.close()
