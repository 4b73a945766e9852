"""Putting events in delivery order: per table (``TableOrderer``), then across tables (``merge``).

Every event has a delivery key ``(emit, table index, seq)`` (see ``envelope``); the stream is
sorted by it. The table index is the table's position among the schema's tables as declared.

Per table. A table whose time column is non-decreasing in row order (``time_series``,
``arrivals``) is ordered on the fly: on-time rows are already in order; late rows wait in a
small reorder buffer and are released, merged in, once the table's time has passed their
delivery time (every later row has ``ts`` at least the last time seen, and a late row's delay is
at least 1 µs). The buffer holds only the late events of the last ``late_max_delay``.
A table whose time column is not in row order is sorted in memory, at most ``max_sort_rows``
events (default 2,000,000); a larger one is refused with an error naming the table (exit 2).

Across tables: a k-way merge over sorted sources in bounded memory, vectorised per window —
each source holds one chunk; the bound is the smallest *last* key of the held chunks; every row
up to the bound is taken from every source, the window is ordered with one ``np.lexsort`` and
written; sources whose chunk is used up load their next one. Memory: about one chunk per
source (spill chunks hold at most ``SPILL_BATCH_ROWS`` events). No per-row Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from generators.event_stream_generator.envelope import Chunk, encode
from shared.distributions.base import GENERATORS
from shared.errors import GenerationError, PlanError

#: events per chunk of a spill file, and so per source in a merge window
SPILL_BATCH_ROWS = 16384
DEFAULT_MAX_SORT_ROWS = 2_000_000
def time_is_ordered(table, profile: str | None = None) -> bool:
    """Whether a table's time column is non-decreasing by construction (so ``--rate`` may stream it
    block by block): its generator is ``ordered_in_time`` (time_series, arrivals), the column is not
    nullable, and the profile is not dirty."""
    col = table.column(table.events.time)
    return GENERATORS[col.generator.type].orders_in_time(col.generator.params) and not col.nullable \
        and profile != "dirty"


def not_ordered_error(table, cap: int) -> PlanError:
    ev = table.events
    gen = table.column(ev.time).generator.type
    return PlanError(
        f"table {table.name}: its events.time column {ev.time!r} (generator {gen}) is not in time order "
        f"by row, so event_stream sorts the table in memory — at most max_sort_rows={cap:,} events, and "
        f"this table has more (hint: generate {ev.time!r} with time_series or arrivals, which are "
        f"ordered, or raise --option max_sort_rows=N)")


class TableOrderer:
    """Turns a table's encoded chunks (in row order) into chunks sorted by (emit, seq).

    ``push`` returns the chunks ready to be written. While ``in_order`` holds, their
    concatenation is sorted; once a chunk goes back in time ``in_order`` turns False and the
    chunks come out as they are (the caller sorts the whole table then).
    """

    def __init__(self):
        self.in_order = True
        self._last_ts: int | None = None
        self._pending = Chunk.empty()

    def push(self, chunk: Chunk) -> list[Chunk]:
        if not self.in_order:
            return [chunk]
        n = len(chunk)
        if n == 0:
            return []
        ts = chunk.ts
        if (n > 1 and not bool(np.all(ts[1:] >= ts[:-1]))) or (self._last_ts is not None and ts[0] < self._last_ts):
            self.in_order = False
            out, self._pending = [self._pending, chunk], Chunk.empty()
            return [c for c in out if len(c)]
        self._last_ts = int(ts[-1])
        if not chunk.late.any() and not len(self._pending):
            return [chunk]
        on_time = chunk.take(np.flatnonzero(~chunk.late))
        pending = Chunk.concat([self._pending, chunk.take(np.flatnonzero(chunk.late))])
        due = pending.emit <= self._last_ts
        self._pending = pending.take(np.flatnonzero(~due))
        ready = Chunk.concat([on_time, pending.take(np.flatnonzero(due))])
        return [ready.sorted()] if len(ready) else []

    def finish(self) -> list[Chunk]:
        if not self.in_order or not len(self._pending):
            return []
        out, self._pending = self._pending.sorted(), Chunk.empty()
        return [out]


def _slices(chunk: Chunk, size: int) -> Iterator[Chunk]:
    for s in range(0, len(chunk), size):
        yield chunk.take(np.arange(s, min(len(chunk), s + size)))


def ordered_chunks(table, batches: Iterable[pa.RecordBatch], seed: int, max_delay_us: int,
                   max_sort_rows: int = DEFAULT_MAX_SORT_ROWS, ordered_time: bool = True) -> Iterator[Chunk]:
    """Encode a table's batches and yield its events sorted by (emit, seq), without files.

    ``ordered_time`` (see ``time_is_ordered``) says the table may be streamed block by block;
    otherwise it is collected and sorted in memory (at most ``max_sort_rows`` events).
    """
    row = 0
    if ordered_time:
        orderer = TableOrderer()
        for batch in batches:
            chunk = encode(table, batch, row, seed, max_delay_us)
            row += batch.num_rows
            ready = orderer.push(chunk)
            if not orderer.in_order:
                raise GenerationError(f"table {table.name}: events.time column {table.events.time!r} went back "
                                      f"in time at row {row - batch.num_rows} or later; expected it ordered by row")
            yield from ready
        yield from orderer.finish()
        return
    held: list[Chunk] = []
    for batch in batches:
        held.append(encode(table, batch, row, seed, max_delay_us))
        row += batch.num_rows
        if row > max_sort_rows:
            raise not_ordered_error(table, max_sort_rows)
    yield from _slices(Chunk.concat(held).sorted(), SPILL_BATCH_ROWS)


class _Source:
    """One sorted input of the merge: a table index and an iterator of (emit, seq, lines)."""

    def __init__(self, tidx: int, chunks: Iterable[tuple[np.ndarray, np.ndarray, pa.Array]]):
        self.tidx = tidx
        self._it = iter(chunks)
        self.emit: Any = None  # np.ndarray of the held chunk, None when none is held
        self.seq: Any = None
        self.lines: Any = None
        self.pos = 0

    def fill(self) -> bool:
        """Hold a chunk with rows left; False when the source is used up."""
        while self.emit is None or self.pos >= self.emit.shape[0]:
            nxt = next(self._it, None)
            if nxt is None:
                self.emit = self.seq = self.lines = None
                return False
            self.emit, self.seq, self.lines = nxt
            self.pos = 0
        return True

    def last_key(self) -> tuple[int, int, int]:
        return int(self.emit[-1]), self.tidx, int(self.seq[-1])

    def count_upto(self, bound: tuple[int, int, int]) -> int:
        """Rows of the held chunk (from pos) whose key is at most ``bound`` (a prefix: it is sorted)."""
        be, bt, bs = bound
        emit = self.emit[self.pos:]
        if self.tidx < bt:
            return int(np.searchsorted(emit, be, side="right"))
        lo = int(np.searchsorted(emit, be, side="left"))
        if self.tidx > bt:
            return lo
        hi = int(np.searchsorted(emit, be, side="right"))
        return lo + int(np.searchsorted(self.seq[self.pos + lo:self.pos + hi], bs, side="right"))

    def take(self, k: int):
        s, self.pos = self.pos, self.pos + k
        return self.emit[s:s + k], self.seq[s:s + k], self.lines.slice(s, k)

    def rest(self) -> Iterator[pa.Array]:
        if self.fill():
            yield self.lines.slice(self.pos)
        for _emit, _seq, lines in self._it:
            yield lines


def merge(sources: Sequence[tuple[int, Iterable[tuple[np.ndarray, np.ndarray, pa.Array]]]]) -> Iterator[pa.Array]:
    """Merge sorted sources ``(table index, chunks)`` into windows of lines in delivery order."""
    active = [s for s in (_Source(t, c) for t, c in sources) if s.fill()]
    while len(active) > 1:
        bound = min(s.last_key() for s in active)
        emits, tids, seqs, parts = [], [], [], []
        for s in active:
            k = s.count_upto(bound)
            if k:
                e, q, lines = s.take(k)
                emits.append(e)
                seqs.append(q)
                tids.append(np.full(k, s.tidx, dtype=np.int64))
                parts.append(lines)
        emit, tid, seq = np.concatenate(emits), np.concatenate(tids), np.concatenate(seqs)
        order = np.lexsort((seq, tid, emit))
        yield pa.concat_arrays(parts).take(pa.array(order))
        active = [s for s in active if s.fill()]
    if active:
        yield from active[0].rest()


def chunk_triples(chunks: Iterable[Chunk]) -> Iterator[tuple[np.ndarray, np.ndarray, pa.Array]]:
    for c in chunks:
        if len(c):
            yield c.emit, c.seq, c.lines


def write_lines(f: BinaryIO, lines: pa.Array, start: int = 0, stop: int | None = None) -> int:
    """Write lines [start, stop) of a (large_)binary array of newline-terminated lines; one write."""
    n = len(lines)
    stop = n if stop is None else min(stop, n)
    if stop <= start:
        return 0
    lines = lines.slice(start, stop - start)
    width = np.int64 if pa.types.is_large_binary(lines.type) else np.int32
    bufs = lines.buffers()
    offs = np.frombuffer(bufs[1], dtype=width, count=len(lines) + 1, offset=lines.offset * np.dtype(width).itemsize)
    f.write(memoryview(bufs[2])[int(offs[0]):int(offs[-1])])
    return len(lines)


def merged_stream(schema, batches_of: Callable[[str], Iterable[pa.RecordBatch]], seed: int, max_delay_us: int,
                  max_sort_rows: int = DEFAULT_MAX_SORT_ROWS, profile: str | None = None) -> Iterator[pa.Array]:
    """The whole event stream of ``schema`` from in-memory or engine batches, without files
    (``--rate``; also rewrites of one table's events). Yields windows of lines in order."""
    sources = []
    for tidx, table in enumerate(schema.tables):
        if table.events is not None:
            chunks = ordered_chunks(table, batches_of(table.name), seed, max_delay_us, max_sort_rows,
                                    time_is_ordered(table, profile))
            sources.append((tidx, chunk_triples(chunks)))
    return merge(sources)
