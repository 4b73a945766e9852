"""Reading a partitioned table back in row order, for ``validate``.

Hive-style folders (``shared.io.partition``) keep each partition's rows in order but lose how
the partitions interleave. The plan knows it: the partition columns are a pure function of the
row like every value, so regenerating only those columns (and the columns they read) for a
block tells, per row, which folder holds it — the i-th row of that block in folder F is the next
unread row of F. Every check, and ``deterministic_replay``, then sees the table in row order; the
partition columns come from the folder names, so what is checked is what was written.

Rows a folder holds past what the plan puts in it, and folders the plan never makes, follow the
planned rows (``row_count`` then fails); a folder that runs out early is a reading failure.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from shared.io import partition


class _Stream:
    """One folder's rows, taken a count at a time."""

    def __init__(self, reader: pa.RecordBatchReader):
        self._it = iter(reader)
        self._pending: list[pa.RecordBatch] = []
        self._rows = 0

    def take(self, n: int, folder: str) -> pa.Table:
        while self._rows < n:
            try:
                b = next(self._it)
            except StopIteration:
                raise ValueError(f"folder {folder} holds fewer rows than the plan puts in it") from None
            if b.num_rows:
                self._pending.append(b)
                self._rows += b.num_rows
        t = pa.Table.from_batches(self._pending)
        head, tail = t.slice(0, n), t.slice(n)
        self._pending = tail.to_batches()
        self._rows -= n
        return head

    def rest(self):
        yield from self._pending
        self._pending = []
        yield from self._it


def key_batch(engine, table, start: int, stop: int, dirty: bool) -> pa.RecordBatch:
    """The partition columns of rows [start, stop) as written (dirty: after corruption, which may
    also add rows)."""
    if dirty:
        return engine.batch(table.name, start, stop).select(list(table.partition_by))
    return engine.columns_batch(table.name, start, stop, table.partition_by)


def row_order_reader(vctx, table, arrow_schema: pa.Schema, columns: list[str] | None = None) -> pa.RecordBatchReader:
    """The table's rows in row order (see the module docstring)."""
    parts = vctx.fmt.read_partitions(vctx.out_dir, table, arrow_schema, columns)
    streams = {folder: _Stream(reader) for folder, reader in parts}
    file_fields = parts[0][1].schema if parts else partition.file_schema(arrow_schema, table.partition_by)
    schema = partition.out_schema(table, arrow_schema, file_fields, columns)
    body_names = [f.name for f in schema if f.name not in table.partition_by]
    kinds = {c: table.column(c).dtype.kind for c in table.partition_by}
    engine = vctx.engine
    rows = vctx.plan.rows(table.name)
    step = vctx.plan.block_rows
    dirty = vctx.dirty

    def batches():
        for s in range(0, rows, step):
            keys = key_batch(engine, table, s, min(rows, s + step), dirty)
            codes, folders = partition.folder_codes(keys, table.partition_by, kinds)
            counts = np.bincount(codes, minlength=len(folders))
            pieces = []
            for k, folder in enumerate(folders):
                if counts[k]:
                    stream = streams.get(folder)
                    if stream is None:
                        raise ValueError(f"folder {table.name}/{folder} is missing")
                    pieces.append(stream.take(int(counts[k]), folder).select(body_names))
            body = pa.concat_tables(pieces) if pieces else file_fields.empty_table().select(body_names)
            # the pieces hold the rows grouped by folder: put each row back where the plan has it
            order = np.argsort(codes, kind="stable")
            where = np.empty(len(order), dtype=np.int64)
            where[order] = np.arange(len(order))
            body = body.take(pa.array(where))
            values = {c: keys.column(c) for c in table.partition_by if schema.get_field_index(c) >= 0}
            # the folders' own values (parsed back), so the check reads what is on disk
            for c in values:
                parsed = [partition.parse_segment(f.split("/")[table.partition_by.index(c)], c, kinds[c])
                          for f in folders]
                values[c] = pa.array(parsed, arrow_schema.field(c).type).take(pa.array(codes))
            yield partition.with_partition_columns(body, values, schema)
        # what the plan does not account for: rows left in folders, and folders it never makes
        for folder, _reader in parts:
            vals = partition.folder_values(folder, table)
            for b in streams[folder].rest():
                if b.num_rows:
                    arrays = {c: pa.repeat(pa.scalar(v, arrow_schema.field(c).type), b.num_rows)
                              for c, v in zip(table.partition_by, vals, strict=True) if schema.get_field_index(c) >= 0}
                    yield partition.with_partition_columns(b.select(body_names), arrays, schema)

    return pa.RecordBatchReader.from_batches(schema, batches())
