"""Worker processes for the engine: blocks computed in parallel, yielded strictly in order.

Workers are forked from the parent after the plan is built, so start-up (imports, the plan, Faker
pools already built) is paid once per worker, not per task; tasks are only (table, start, stop).
Each worker returns its batch as an Arrow IPC stream buffer. Because every cell is a pure function
of its row index, the output is byte-identical to one worker. At most ``2 × workers`` blocks are in
flight, so memory stays bounded at any row count. A worker that dies or raises fails the whole
run with a ``GenerationError``; the pool is torn down, nothing is left running.
"""

from __future__ import annotations

import multiprocessing as mp
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
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"))

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
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


def map_batches(engine, table: str, spans, workers: int, with_records: bool = False) -> Iterator:
    pool = WorkerPool(engine, workers)
    try:
        yield from pool.map_batches(table, spans, with_records=with_records)
    finally:
        pool.close()
