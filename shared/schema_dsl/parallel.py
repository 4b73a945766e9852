"""Worker processes for the engine: blocks computed in parallel, yielded strictly in order.

Workers are forked from the parent after the plan is built, so start-up (imports, the plan, Faker
pools already built) is paid once per worker, not per task; tasks are small: (table, start, stop)
plus a shared-memory slot, or a whole Parquet part (``map_calls``). A worker leaves its batch as
an Arrow IPC stream — or the text a format rendered — in the slot. Because every cell is a pure
function of its row index, the output is byte-identical to one worker. At most ``2 × workers``
tasks are in flight, so memory stays bounded at any row count. A worker that dies or raises fails the whole
run with a ``GenerationError``; the pool is torn down, nothing is left running: surviving workers
are terminated (then killed) explicitly, since a worker forked while the pool broke may be missed by
the executor and would keep the parent waiting for it at exit.

Signals belong to the parent: workers ignore SIGINT, SIGHUP, SIGQUIT and SIGUSR1/2 (a Ctrl-C or a
dropped terminal reaches the whole process group; the parent turns it into exit 128 + signal and
tears the pool down) and die quietly on SIGTERM (the teardown), instead of running the parent's
handlers they inherited through ``fork``. A worker never outlives its parent: on Linux the kernel
kills it when the parent dies (``PR_SET_PDEATHSIG``), even by SIGKILL.
"""

from __future__ import annotations

import gc
import mmap
import multiprocessing as mp
import os
import signal
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool

import pyarrow as pa

from shared.errors import DatagenError, GenerationError

_ENGINE = None


def _init(engine) -> None:
    global _ENGINE
    _ENGINE = engine


#: the signals the parent turns into a clean stop (shared.io.output.HANDLED_SIGNALS): the workers
#: ignore all but SIGTERM (the parent's teardown), which kills them quietly
_IGNORED = {getattr(signal, n) for n in ("SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2") if hasattr(signal, n)}
_SIGNALS = _IGNORED | {signal.SIGTERM}
#: prctl(PR_SET_PDEATHSIG): the kernel sends the worker this signal when its parent dies
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive the run: on Linux the kernel kills it when the parent dies (even
    by SIGKILL, which no handler sees); elsewhere a thread watches for being re-parented."""
    import ctypes
    import os
    import sys
    import threading

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    if not sys.platform.startswith("linux"):
        def watch() -> None:
            import time

            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True, name="datagen-parent-watch").start()


def _worker_init(parent: int) -> None:
    # forked with the handled signals blocked (see WorkerPool): set the worker's own handlers, then unblock
    for sig in _IGNORED:
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _noop() -> None:
    return None


def to_ipc(batch: pa.RecordBatch | None) -> bytes | None:
    if batch is None:
        return None
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as w:
        w.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _call(fn, args: tuple):
    return fn(_ENGINE, *args)


def from_ipc(buf: bytes | None) -> pa.RecordBatch | None:
    if buf is None:
        return None
    with pa.ipc.open_stream(pa.py_buffer(buf)) as r:
        return r.read_next_batch()


#: bytes of one shared-memory slot (rendered text larger than this goes through the pipe)
SLOT_BYTES = 64 << 20
_SLOTS: mmap.mmap | None = None


def _to_slot(slot: int, data) -> tuple[int, bytes | None]:
    """Leave ``data`` in shared-memory slot ``slot`` (only its length travels back), or return it
    to be sent through the pipe when it does not fit."""
    n = memoryview(data).nbytes
    if n <= SLOT_BYTES:
        assert _SLOTS is not None, "slots are mapped before the workers start"
        _SLOTS[slot * SLOT_BYTES:slot * SLOT_BYTES + n] = data
        return n, None
    return n, bytes(data)


def _render(engine, table: str, start: int, stop: int, slot: int, renderer):
    """A block rendered to bytes by the format's renderer, through slot ``slot``."""
    batch, records = engine.batch_with_records(table, start, stop)
    return (*_to_slot(slot, renderer(batch)), to_ipc(records))


def _batch(engine, table: str, start: int, stop: int, slot: int):
    """A block as an Arrow IPC stream, through slot ``slot``."""
    batch, records = engine.batch_with_records(table, start, stop)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as w:
        w.write_batch(batch)
    return (*_to_slot(slot, sink.getvalue()), to_ipc(records))


class WorkerPool:
    """A fork-based pool bound to one engine; reusable across tables of one run.

    Results come back through shared memory: record batches as Arrow IPC (``map_batches``) or
    the text a format renders in the workers (``map_rendered``). The pipe moves about 0.4 GB/s
    here, far below what the workers produce, so each result is left in one of ``2 × workers``
    anonymous shared-memory slots (mapped before the fork) and only its length is sent (what
    does not fit a slot goes through the pipe)."""

    def __init__(self, engine, workers: int):
        global _SLOTS
        self.workers = workers
        self.slots = 2 * workers
        self._pool: ProcessPoolExecutor | None = None
        try:
            self._mm = mmap.mmap(-1, self.slots * SLOT_BYTES)  # pages are only touched when used
        except OSError as exc:  # out of address space (ulimit -v): raised as the OS error it is
            raise OSError(exc.errno, f"cannot map {self.slots * SLOT_BYTES >> 20} MiB of shared memory for "
                                     f"{workers} workers: {exc.strerror}") from None
        _SLOTS = self._mm
        engine.warm_up()  # build value pools once, here, before the workers inherit them
        _init(engine)  # inherited by the forked workers
        failure = self._start()
        if failure is not None:
            # raised here, outside the handler: the half-built executor (its pipes and locks) is
            # gone with the handled exception, so the caller's clean-up has descriptors to work with
            gc.collect()
            raise failure

    def _start(self) -> BaseException | None:
        # Fork every worker now, with SIGINT/SIGTERM blocked: a signal landing between fork() and
        # _worker_init would otherwise run the parent's inherited handler inside the worker.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        unblocked = False
        died: list[BaseException] = []
        previous_hook = threading.excepthook

        def quiet(args) -> None:  # the executor's thread dying is reported as this run's error, once
            if args.thread is getattr(self._pool, "_executor_manager_thread", None):
                died.append(args.exc_value)
            else:
                previous_hook(args)

        threading.excepthook = quiet
        try:
            pool = self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("fork"),
                                                    initializer=_worker_init, initargs=(os.getpid(),))
            ready = pool.submit(_noop)  # the fork context launches all workers at the first submit
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # forked: a signal may stop the wait
            unblocked = True
            manager = getattr(pool, "_executor_manager_thread", None)
            while True:
                try:
                    ready.result(timeout=0.2)
                    return None
                except FuturesTimeout:
                    # the executor's own thread died (it could not start the queue's feeder
                    # thread: out of memory): the future would never complete
                    if manager is not None and not manager.is_alive() and not ready.done():
                        why = f": {type(died[0]).__name__}: {died[0]}" if died else ""
                        failure: BaseException = GenerationError(
                            f"the worker pool could not start its threads{why} (out of memory or the thread limit; "
                            f"hint: pass --workers 1)")
                        break
        except BrokenProcessPool as exc:
            failure = GenerationError(f"a worker process died while starting: {exc}")
        except BaseException as exc:  # os.pipe or fork out of descriptors or memory, a signal
            failure = exc
            failure.__traceback__ = None
        finally:
            threading.excepthook = previous_hook
            if not unblocked:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        # the workers forked before the failure must not keep the parent waiting for them at exit
        if self._pool is not None:
            self.close(cancel=True)
        return failure

    def map_calls(self, fn, calls, label: str) -> Iterator:
        """``fn(engine, *args)`` for each ``args`` of ``calls`` in the workers; the results in the
        order of ``calls``, at most ``2 × workers`` in flight. ``fn`` must be a module-level
        function (it is sent by name); ``label`` names the work in error messages. The next call
        is submitted only after the consumer is done with a result (``map_rendered`` relies on
        it: call ``i`` reuses the slot of call ``i − 2 × workers``)."""
        pool = self._pool
        assert pool is not None, "the pool started in __init__"
        pending: deque = deque()
        it = iter(calls)
        try:
            for args in it:
                pending.append(pool.submit(_call, fn, args))
                if len(pending) >= self.slots:
                    break
            while pending:
                yield pending.popleft().result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(_call, fn, nxt))
        except BrokenProcessPool as exc:
            self.close(cancel=True)
            raise GenerationError(f"a worker process died while generating {label}: {exc}") from None
        except (DatagenError, OSError):
            # the format's own errors, and the OS's (a full disk while a worker writes a part),
            # read exactly as they would in one process
            self.close(cancel=True)
            raise
        except Exception as exc:
            self.close(cancel=True)
            raise GenerationError(f"a worker failed while generating {label}: {type(exc).__name__}: {exc}") from exc

    def map_rendered(self, table: str, spans: list[tuple[int, int]], renderer) -> Iterator:
        """``(text, corruption records or None)`` per block, in order: ``renderer(batch)`` run in
        the workers. ``text`` is a memoryview on shared memory, valid until the next item is
        asked for — write it (or copy it) before that."""
        calls = ((table, s, e, i % self.slots, renderer) for i, (s, e) in enumerate(spans))
        for i, (n, data, rec) in enumerate(self.map_calls(_render, calls, repr(table))):
            if data is None:
                off = (i % self.slots) * SLOT_BYTES
                view = memoryview(self._mm)[off:off + n]
                try:
                    yield view, from_ipc(rec)
                finally:
                    view.release()
            else:
                yield data, from_ipc(rec)

    def map_batches(self, table: str, spans: list[tuple[int, int]], with_records: bool = False) -> Iterator:
        """The blocks' record batches in order. A batch outlives its slot (callers may keep it),
        so it is copied out of shared memory — one memcpy, against the pipe's 0.4 GB/s."""
        calls = ((table, s, e, i % self.slots) for i, (s, e) in enumerate(spans))
        for i, (n, data, rec) in enumerate(self.map_calls(_batch, calls, repr(table))):
            if data is None:
                off = (i % self.slots) * SLOT_BYTES
                data = self._mm[off:off + n]  # a copy (bytes)
            batch = from_ipc(data)
            yield (batch, from_ipc(rec)) if with_records else batch

    def close(self, cancel: bool = False) -> None:
        """Shut the pool down; blocks not started yet are cancelled. ``cancel``: do not wait for
        running blocks either, and terminate (then kill) every worker still alive."""
        procs = list((getattr(self._pool, "_processes", None) or {}).values())  # gone after shutdown
        if self._pool is not None:
            self._pool.shutdown(wait=not cancel, cancel_futures=True)
        global _SLOTS
        if _SLOTS is self._mm:
            _SLOTS = None  # the mapping goes with this pool
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
