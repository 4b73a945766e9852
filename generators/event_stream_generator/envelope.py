"""The event envelope: one JSON object per line, and the keyed draws behind it.

A line of ``events.ndjson`` (orjson, compact, keys in this order)::

    {"event_id": "1b4e…", "event_type": "paid", "ts": "2024-06-03T08:15:02.123456Z",
     "key": 17, "table": "orders", "seq": 41, "late": false, "data": {…the row's columns…}}

* ``event_id`` — a version-4-shaped uuid from two 64-bit keyed streams read at the row index,
  ``stream_key(seed, table, "__event__", "id")`` and ``… "id/lo"``: stable across runs, chunk
  sizes and workers, different for another seed.
* ``event_type`` — the constant of ``events.type``, or the row's value of that column.
* ``ts`` — the row's ``events.time`` value, ISO 8601 UTC with microseconds and ``Z`` (null if null).
* ``key`` — the row's ``events.key`` value (null when the table names no key).
* ``table``, ``seq`` — the table and the row's index in it (the engine's row order).
* ``late`` — whether the event is delivered late (below).
* ``data`` — every column of the row, in schema order, in the value forms of the JSON output:
  dates ``"YYYY-MM-DD"``, timestamps ISO 8601 UTC with microseconds and ``Z``, decimals as
  strings with exactly ``scale`` digits, uuids as strings, floats as numbers in a shortest form
  that reads back to the same value (float32 in its float32 shortest form), nulls as ``null``.

Late events: row ``r`` of a table with ``late_rate`` p is late when its time is not null and
``uniform(stream_key(seed, table, "__event__", "late"), r) < p``. Its delay is
``1 + floor(u · late_max_delay)`` µs with ``u`` from ``stream_key(seed, table, "__event__",
"late_delay")``, so in [1 µs, late_max_delay]. The stream is ordered by the *delivery key*
``(emit, table index, seq)`` with ``emit = ts + delay`` for a late event and ``emit = ts``
otherwise (a null time sorts first). So on-time events are in time order, and a late event
arrives right after every event whose delivery time is at most its ``ts + delay``.

Value conversion is vectorised per column (``strftime``, casts); building the dict and
``orjson.dumps`` of each line is the one per-row step, as for any NDJSON writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from shared.distributions.keys import uuid_strings
from shared.io import rng

#: the delivery time of an event whose time is null: before every other event
NULL_TIME = np.iinfo(np.int64).min
ENVELOPE_KEYS = ("event_id", "event_type", "ts", "key", "table", "seq", "late", "data")
_NUMPY_OK = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean)


def iso_timestamps(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """ISO 8601 UTC text with microseconds and ``Z`` (the cast of a naive timestamp is far faster
    than ``strftime`` with a time zone; the values are UTC either way)."""
    text = arr.cast(pa.timestamp("us", tz=arr.type.tz)).cast(pa.timestamp("us")).cast(pa.string())
    return pc.binary_join_element_wise(pc.replace_substring(text, " ", "T", max_replacements=1), "Z", "")


def json_values(arr: pa.Array | pa.ChunkedArray) -> list:
    """A column as Python values in their JSON form (vectorised conversion, then one list)."""
    t = arr.type
    if pa.types.is_timestamp(t):
        return iso_timestamps(arr).to_pylist()
    if pa.types.is_date(t) or pa.types.is_decimal(t):
        return arr.cast(pa.string()).to_pylist()
    if pa.types.is_float32(t) or pa.types.is_float16(t):
        # the shortest text that reads back to the same float32 (0.1, not 0.10000000149011612)
        arr = arr.cast(pa.string()).cast(pa.float64())
    if arr.null_count == 0 and any(f(t) for f in _NUMPY_OK):
        return arr.to_numpy(zero_copy_only=False).tolist()
    return arr.to_pylist()


def rows_to_lines(batch: pa.RecordBatch | pa.Table) -> list[bytes]:
    """Plain NDJSON lines of a batch (the reference tables): one object per row, newline included."""
    names = batch.schema.names
    cols = [json_values(batch.column(i)) for i in range(batch.num_columns)]
    dumps, opt = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    return [dumps(dict(zip(names, row, strict=True)), option=opt) for row in zip(*cols, strict=True)]


@dataclass
class Chunk:
    """Encoded events of one table: time, delivery key, row index, late flag and the lines."""

    ts: np.ndarray  # int64 µs, NULL_TIME for null
    emit: np.ndarray  # int64 µs: the delivery time
    seq: np.ndarray  # int64 row index
    late: np.ndarray  # bool
    lines: pa.LargeBinaryArray  # each line ends with "\n"

    def __len__(self) -> int:
        return int(self.seq.shape[0])

    def take(self, idx: np.ndarray) -> Chunk:
        return Chunk(self.ts[idx], self.emit[idx], self.seq[idx], self.late[idx], self.lines.take(pa.array(idx)))

    def sorted(self) -> Chunk:
        """Ordered by (emit, seq)."""
        return self.take(np.lexsort((self.seq, self.emit)))

    @staticmethod
    def concat(chunks: list[Chunk]) -> Chunk:
        chunks = [c for c in chunks if len(c)]
        if len(chunks) == 1:
            return chunks[0]
        if not chunks:
            return Chunk.empty()
        return Chunk(np.concatenate([c.ts for c in chunks]), np.concatenate([c.emit for c in chunks]),
                     np.concatenate([c.seq for c in chunks]), np.concatenate([c.late for c in chunks]),
                     pa.concat_arrays([c.lines for c in chunks]))

    @staticmethod
    def empty() -> Chunk:
        z = np.zeros(0, np.int64)
        return Chunk(z, z, z, np.zeros(0, bool), pa.array([], pa.large_binary()))


def late_flags(seed: int, table: str, late_rate: float, seq: np.ndarray, has_time: np.ndarray) -> np.ndarray:
    """Which rows are delivered late (the keyed draw; also used by ``validate``)."""
    if late_rate <= 0:
        return np.zeros(seq.shape[0], dtype=bool)
    return (rng.uniform(rng.stream_key(seed, table, "__event__", "late"), seq) < late_rate) & has_time


def late_delays(seed: int, table: str, seq: np.ndarray, max_delay_us: int) -> np.ndarray:
    """Delay in µs of each row if it is late: 1 + floor(u · max_delay), in [1, max_delay]."""
    u = rng.uniform(rng.stream_key(seed, table, "__event__", "late_delay"), seq)
    return 1 + np.minimum(np.floor(u * max_delay_us).astype(np.int64), max(max_delay_us - 1, 0))


def event_ids(seed: int, table: str, seq: np.ndarray) -> pa.Array:
    key = rng.stream_key(seed, table, "__event__", "id")
    return uuid_strings(rng.bits(key, seq), rng.bits(rng.subkey(key, "lo"), seq))


def encode(table, batch: pa.RecordBatch, first_row: int, seed: int, max_delay_us: int) -> Chunk:
    """Envelope lines and delivery keys of rows ``first_row …`` of an event table."""
    ev = table.events
    n = batch.num_rows
    seq = np.arange(first_row, first_row + n, dtype=np.int64)
    tcol = batch.column(ev.time)
    if not pa.types.is_timestamp(tcol.type):
        raise TypeError(f"events.time column {ev.time!r} of table {table.name!r} is {tcol.type}, not a timestamp")
    has_time = ~np.asarray(tcol.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    ts = tcol.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).fill_null(NULL_TIME).to_numpy(zero_copy_only=False)
    ts = np.asarray(ts, dtype=np.int64)
    late = late_flags(seed, table.name, ev.late_rate, seq, has_time)
    emit = ts.copy()
    if late.any():
        emit[late] += late_delays(seed, table.name, seq[late], max_delay_us)
    names = batch.schema.names
    cols = [json_values(batch.column(i)) for i in range(batch.num_columns)]
    ts_text = cols[names.index(ev.time)]
    etype = cols[names.index(ev.type)] if ev.type_is_column else repeat(ev.type, n)
    key = cols[names.index(ev.key)] if ev.key is not None else repeat(None, n)
    ids = event_ids(seed, table.name, seq).to_pylist()
    tname = table.name
    dumps, opt = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    lines = [
        dumps({"event_id": i, "event_type": et, "ts": t, "key": k, "table": tname, "seq": s, "late": la,
               "data": dict(zip(names, row, strict=True))}, option=opt)
        for i, et, t, k, s, la, row in zip(ids, etype, ts_text, key, seq.tolist(), late.tolist(), zip(*cols, strict=True),
                                           strict=False)
    ]
    return Chunk(ts, emit, seq, late, pa.array(lines, pa.large_binary()))
