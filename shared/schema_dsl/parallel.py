"""Worker processes for the engine: blocks computed in parallel, yielded strictly in order.

Workers are forked from the parent after the plan is built, so start-up (imports, the plan, Faker
pools already built) is paid once per worker, not per task; tasks are only (table, start, stop).
Each worker returns its batch as an Arrow IPC stream buffer. Because every cell is a pure function
of its row index, the output is byte-identical to one worker. At most ``2 × workers`` blocks are in
flight, so memory stays bounded at any row count. A worker that dies or raises fails the whole
run with a ``GenerationError``; the pool is torn down, nothing is left running: surviving workers
are terminated (then killed) explicitly, since a worker forked while the pool broke may be missed by
the executor and would keep the parent waiting for it at exit.

Signals belong to the parent: workers ignore SIGINT (a Ctrl-C reaches the whole process group; the
parent turns it into exit 130 and tears the pool down) and die quietly on SIGTERM (the teardown),
instead of running the parent's handlers they inherited through ``fork``.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pyarrow as pa

from shared.errors import GenerationError

_ENGINE = None


def _init(engine) -> None:
    global _ENGINE
    _ENGINE = engine


_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _worker_init() -> None:
    # forked with both signals blocked (see WorkerPool): set the worker's own handlers, then unblock
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _noop() -> None:
    return None


def _to_ipc(batch: pa.RecordBatch | None) -> bytes | None:
    if batch is None:
        return None
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as w:
        w.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _work(table: str, start: int, stop: int) -> tuple[bytes, bytes | None]:
    batch, records = _ENGINE.batch_with_records(table, start, stop)
    return _to_ipc(batch), _to_ipc(records)


def _read(buf: bytes | None) -> pa.RecordBatch | None:
    if buf is None:
        return None
    with pa.ipc.open_stream(pa.py_buffer(buf)) as r:
        return r.read_next_batch()


class WorkerPool:
    """A fork-based pool bound to one engine; reusable across tables of one run."""

    def __init__(self, engine, workers: int):
        self.workers = workers
        engine.warm_up()  # build value pools once, here, before the workers inherit them
        _init(engine)  # inherited by the forked workers
        # Fork every worker now, with SIGINT/SIGTERM blocked: a signal landing between fork() and
        # _worker_init would otherwise run the parent's inherited handler inside the worker.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"),
                                             initializer=_worker_init)
            self._pool.submit(_noop).result()  # the fork context launches all workers at the first submit
        except BrokenProcessPool as exc:
            raise GenerationError(f"a worker process died while starting: {exc}") from None
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def map_batches(self, table: str, spans: list[tuple[int, int]], with_records: bool = False) -> Iterator:
        pending: deque = deque()
        it = iter(spans)
        try:
            for s, e in it:
                pending.append(self._pool.submit(_work, table, s, e))
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                fut = pending.popleft()
                buf, rec = fut.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(self._pool.submit(_work, table, *nxt))
                yield (_read(buf), _read(rec)) if with_records else _read(buf)
        except BrokenProcessPool as exc:
            self.close(cancel=True)
            raise GenerationError(f"a worker process died while generating {table!r}: {exc}") from None
        except GenerationError:
            self.close(cancel=True)
            raise
        except Exception as exc:
            self.close(cancel=True)
            raise GenerationError(f"a worker failed while generating {table!r}: {type(exc).__name__}: {exc}") from exc

    def close(self, cancel: bool = False) -> None:
        """Shut the pool down; blocks not started yet are cancelled. ``cancel``: do not wait for
        running blocks either, and terminate (then kill) every worker still alive."""
        procs = list((getattr(self._pool, "_processes", None) or {}).values())  # gone after shutdown
        self._pool.shutdown(wait=not cancel, cancel_futures=True)
        if cancel:
            for proc in procs:
                if proc.is_alive():
                    proc.terminate()
            for proc in procs:
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.kill()
                    proc.join(timeout=5)


def map_batches(engine, table: str, spans, workers: int, with_records: bool = False) -> Iterator:
    pool = WorkerPool(engine, workers)
    try:
        yield from pool.map_batches(table, spans, with_records=with_records)
    finally:
        pool.close()
