"""The event envelope: one JSON object per line, and the keyed draws behind it.

A line of ``events.ndjson`` (compact, no spaces, keys in this order; wrapped here)::

    {"event_id":"1b4e…","event_type":"paid","ts":"2024-06-03T08:15:02.123456Z",
     "key":17,"table":"orders","seq":41,"late":false,"data":{…the row's columns…}}

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

Rendering (no per-row Python): the lines of a batch are the JSON encoder of the JSON format
(``generators/common/json_encode.py``) run over one batch holding the envelope's per-row
fields (``event_id``, the event type and key columns, ``ts``, ``seq``, ``late``) followed by the
row's columns. ``rows_json`` renders each column to a string array of JSON texts with Arrow
compute and interleaves them with constant literals in one ``binary_join_element_wise``; the
constant parts of the envelope (the keys, the table name, a constant event type, a null key and
the framing ``,"data":{`` … ``}}\n``) are folded into those literals. So ``data`` has exactly the
JSON format's value forms, float spelling included.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa

from generators.common.json_encode import key_literals, rows_json
from shared.distributions.keys import uuid_strings
from shared.io import rng

#: the delivery time of an event whose time is null: before every other event
NULL_TIME = np.iinfo(np.int64).min
ENVELOPE_KEYS = ("event_id", "event_type", "ts", "key", "table", "seq", "late", "data")
#: rows rendered by one join: bounds the text held at a time and keeps it within the int32
#: offsets of a string array whatever --block-rows is (the bytes do not depend on it)
ENCODE_ROWS = 65_536


def _slices(batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
    size = ENCODE_ROWS
    for start in range(0, batch.num_rows, size):  # a few slices of a block, not rows
        yield batch.slice(start, size)


def _large_lines(parts: list[pa.Array]) -> pa.LargeBinaryArray:
    """Rendered string arrays as one large_binary array (the data buffer is shared, not copied,
    when there is one part)."""
    if not parts:
        return pa.array([], pa.large_binary())
    lines = [p.cast(pa.large_binary()) for p in parts]
    return lines[0] if len(lines) == 1 else pa.concat_arrays(lines)


def rows_text(batch: pa.RecordBatch) -> Iterator[pa.Array]:
    """Plain NDJSON text of a batch (the reference tables): string arrays of one JSON object per
    row, keys in column order, each ending with a newline; write their data buffers as they are."""
    lits = key_literals(batch.schema.names, "", "\n")
    for part in _slices(batch):
        yield rows_json(part, lits)


def _json_literal(value) -> str:
    return orjson.dumps(value).decode()


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


def envelope_parts(table, batch: pa.RecordBatch, ids: pa.Array, seq: np.ndarray,
                   late: np.ndarray) -> tuple[list[pa.Array], list[str]]:
    """The per-row columns of the lines of ``batch`` and the constant literals around them, as
    ``rows_json`` takes them: line ``i`` is ``lits[0] + text(cols[0][i]) + lits[1] + … + lits[-1]``."""
    ev = table.events
    fields = [
        ("event_id", ids),
        ("event_type", batch.column(ev.type) if ev.type_is_column else _json_literal(ev.type)),
        ("ts", batch.column(ev.time)),
        ("key", batch.column(ev.key) if ev.key is not None else "null"),
        ("table", _json_literal(table.name)),
        ("seq", pa.array(seq, pa.int64())),
        ("late", pa.array(late, pa.bool_())),
    ]
    fields += [(name, batch.column(i)) for i, name in enumerate(batch.schema.names)]
    cols: list[pa.Array] = []
    lits: list[str] = []
    pending = "{"
    for pos, (name, value) in enumerate(fields):
        if pos == len(ENVELOPE_KEYS) - 1:
            pending += ',"data":{'
        elif pos:
            pending += ","
        pending += _json_literal(name) + ":"
        if isinstance(value, str):  # a constant: part of the literal
            pending += value
        else:
            lits.append(pending)
            cols.append(value)
            pending = ""
    if len(fields) == len(ENVELOPE_KEYS) - 1:  # no columns at all (the engine never does this)
        pending += ',"data":{'
    lits.append(pending + "}}\n")
    return cols, lits


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
    cols, lits = envelope_parts(table, batch, event_ids(seed, table.name, seq), seq, late)
    rows = pa.RecordBatch.from_arrays(cols, names=[f"c{i}" for i in range(len(cols))])
    lines = _large_lines([rows_json(part, lits) for part in _slices(rows)])
    return Chunk(ts, emit, seq, late, lines)
