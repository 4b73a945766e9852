"""The ``dirty`` profile: reproducible corruption of realistic data, every change recorded.

Dirty data is the realistic data, then corruption applied per block by kinds registered in
``CORRUPTIONS`` (``shared/corruption/kinds.py``). Each (table, column, kind) has its own stream —
``stream_key(seed, table, column, "corrupt:<kind>")`` — so a cell's corruption is a pure function
of its row like everything else: replaying any block gives the same dirty bytes, and enabling one
kind never moves another. Every corrupted cell is recorded as (table, column, row, kind,
original value) in the sidecar ``corruptions.csv`` listed in the manifest, with counts per table,
column and kind, so users can score their cleaning and ``validate`` can tell injected violations
from real ones.

Rates: each kind has a documented default (``DEFAULT_RATES``), overridden by a ``corruption:``
block at the schema, table or column level (``{kind: rate}``; 0 disables a kind). Which columns a
kind touches is the kind's ``applies(column, table)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from shared.registry import Registry, import_submodules

DEFAULT_RATES: dict[str, float] = {
    "nulls": 0.01,  # nulls in non-nullable columns
    "typos": 0.01,  # a swapped, dropped or doubled character in text
    "whitespace": 0.01,  # stray leading/trailing/double spaces in text
    "casing": 0.01,  # UPPER / lower / sWAPPED case text
    "out_of_range": 0.005,  # numbers, dates and timestamps beyond min/max
    "malformed_dates": 0.005,  # implausible dates: 1900-01-01, 9999-12-31, day/month swapped
    "duplicates": 0.002,  # a row replaced by an exact copy of an earlier row
    "orphans": 0.005,  # foreign keys pointing at no parent
    "encoding": 0.005,  # mojibake (UTF-8 read as Latin-1) or a U+FFFD in text
}

RECORD_SCHEMA = pa.schema([
    ("table", pa.string()), ("column", pa.string()), ("row", pa.int64()),
    ("kind", pa.string()), ("original", pa.string()),
])
SIDECAR = "corruptions.csv"


class Corruption:
    """Base of a corruption kind (see kinds.py)."""

    name = ""
    table_level = False  # acts on whole rows (duplicates) rather than one column

    def applies(self, column, table) -> bool:
        return False

    def corrupt(self, values: pa.Array, rows: np.ndarray, u: np.ndarray, column, engine, table) -> pa.Array:
        """New values for the selected rows (``values`` holds just those rows)."""
        raise NotImplementedError


CORRUPTIONS: Registry[Corruption] = Registry("corruption kind")


def register(name: str):
    def deco(cls):
        cls.name = name
        CORRUPTIONS.add(name, cls())
        return cls

    return deco


def _load() -> None:
    import_submodules("shared.corruption")


def rate(schema, table, column, kind: str) -> float:
    """The rate of ``kind`` for a column: column block, then table, then schema, then default."""
    for block in (getattr(column, "corruption", None), table.corruption, schema.corruption):
        if block and kind in block:
            return float(block[kind])
    return DEFAULT_RATES[kind]


def _key(engine, table: str, column: str, kind: str) -> int:
    from shared.io import rng

    return rng.stream_key(engine.plan.seed, table, column, "corrupt:" + kind)


def _as_text(arr: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())


def apply(engine, table_name: str, rows: np.ndarray, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    """The dirty version of a clean batch of ``rows``, and the records of what was changed."""
    from shared.io import rng

    _load()
    schema = engine.schema.written  # the columns of the batch: hidden ones are never written
    table = schema.table(table_name)
    rows = np.asarray(rows, dtype=np.int64)
    records: list[pa.RecordBatch] = []
    # whole-row duplicates first: row r becomes an exact copy of an earlier row (r - k)
    dup: Any = CORRUPTIONS["duplicates"]  # the one kind that rewrites whole rows (apply_rows)
    r_dup = rate(schema, table, None, "duplicates")
    if r_dup > 0 and len(rows):
        u = rng.uniform(_key(engine, table_name, "*", "duplicates"), rows)
        sel = (u < r_dup) & (rows > 0)
        if sel.any():
            batch, rec = dup.apply_rows(engine, table_name, rows, batch, sel)
            records.append(rec)
    arrays = list(batch.columns)
    for i, column in enumerate(table.columns):
        for kind in CORRUPTIONS:
            c = CORRUPTIONS[kind]
            if c.table_level or not c.applies(column, table):
                continue
            r = rate(schema, table, column, kind)
            if r <= 0:
                continue
            u = rng.uniform(_key(engine, table_name, column.name, kind), rows)
            sel = u < r
            if not sel.any():
                continue
            idx = np.flatnonzero(sel)
            before = arrays[i].take(pa.array(idx))
            u2 = rng.uniform(_key(engine, table_name, column.name, kind + "/how"), rows[idx])
            after = c.corrupt(before, rows[idx], u2, column, engine, table)
            arrays[i] = _scatter(arrays[i], idx, after)
            records.append(pa.RecordBatch.from_arrays([
                pa.array([table_name] * len(idx), pa.string()), pa.array([column.name] * len(idx), pa.string()),
                pa.array(rows[idx], pa.int64()), pa.array([kind] * len(idx), pa.string()), _as_text(before),
            ], schema=RECORD_SCHEMA))
    out = pa.RecordBatch.from_arrays(arrays, schema=batch.schema)
    rec = pa.Table.from_batches(records, schema=RECORD_SCHEMA).combine_chunks() if records else \
        RECORD_SCHEMA.empty_table()
    if rec.num_rows:
        # a fixed order — row, then column position, then kind — whatever the block boundaries
        import pyarrow.compute as pc

        col_order = pa.array(["*", *table.column_names], pa.string())
        cp = pc.index_in(rec.column("column"), value_set=col_order).to_numpy(zero_copy_only=False)
        kp = pc.index_in(rec.column("kind"), value_set=pa.array(sorted(CORRUPTIONS))).to_numpy(zero_copy_only=False)
        order = np.lexsort((kp, cp, rec.column("row").to_numpy()))
        rec = pc.take(rec, pa.array(order))
    rec_batch = rec.to_batches()[0] if rec.num_rows else pa.RecordBatch.from_pylist([], schema=RECORD_SCHEMA)
    return out, rec_batch


def _scatter(arr: pa.Array, idx: np.ndarray, new: pa.Array) -> pa.Array:
    """``arr`` with positions ``idx`` replaced by ``new`` (vectorised)."""
    import pyarrow.compute as pc

    if new.type != arr.type:
        new = new.cast(arr.type)
    n = len(arr)
    pos = np.full(n, -1, dtype=np.int64)
    pos[idx] = np.arange(len(idx))
    mask = pa.array(pos >= 0)
    spread = new.take(pa.array(np.where(pos >= 0, pos, 0)))
    return pc.if_else(mask, spread, arr)


def replay_table(engine, table: str, start: int, stop: int) -> pa.RecordBatch:
    """The dirty batch of rows [start, stop) (what ``validate`` compares against)."""
    rows = np.arange(start, stop, dtype=np.int64)
    clean = engine.batch(table, start, stop, dirty=False)
    return apply(engine, table, rows, clean)[0]


def summarize(records: pa.Table) -> dict[str, dict[str, dict[str, int]]]:
    """Counts per table, column ('*' for whole rows) and kind."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    if records.num_rows == 0:
        return counts
    g = records.group_by(["table", "column", "kind"]).aggregate([([], "count_all")]).to_pylist()
    for row in g:
        counts.setdefault(row["table"], {}).setdefault(row["column"], {})[row["kind"]] = int(row["count_all"])
    return counts


def rates_used(schema) -> dict[str, Any]:
    """The effective rates per table and column, for the manifest."""
    _load()
    out: dict[str, Any] = {}
    for t in schema.tables:
        cols: dict[str, dict[str, float]] = {}
        for c in t.columns:
            kinds = {k: rate(schema, t, c, k) for k in CORRUPTIONS
                     if not CORRUPTIONS[k].table_level and CORRUPTIONS[k].applies(c, t) and rate(schema, t, c, k) > 0}
            if kinds:
                cols[c.name] = kinds
        d = rate(schema, t, None, "duplicates")
        if d > 0:
            cols["*"] = {"duplicates": d}
        out[t.name] = cols
    return out
