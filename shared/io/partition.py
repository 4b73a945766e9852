"""Hive-style partitioned layout: ``<table>/region=EU/day=2025-01-01/part-00000.<ext>``.

A table with ``partition_by`` is written by formats that write folders of files (Parquet, CSV)
as one folder per distinct combination of the partition columns' values, nested in the order
they are listed; the files inside hold the other columns, each partition's rows in row order.
This module knows the layout, not the formats: how a value names a folder (``segment``) and
reads back (``parse_segment``), and how a block splits into its partitions (``split``).

Folder names follow Hive and Spark: ``column=value`` with the characters a path cannot hold
(``/``, ``=``, ``%``, control characters …) written as ``%XX``; a null is
``__HIVE_DEFAULT_PARTITION__``; dates are ISO, booleans ``true``/``false``. A value longer than a
folder name can be, or a table with more than ``max_partitions`` folders, is an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.errors import UsageError

NULL_SEGMENT = "__HIVE_DEFAULT_PARTITION__"
#: Hive's default limit on the partitions one write makes (hive.exec.max.dynamic.partitions)
DEFAULT_MAX_PARTITIONS = 1000
#: the characters Hive escapes in a partition value (FileUtils.escapePathName), besides controls
_ESCAPED = set('"#%\'*/:=?\\\x7f{[]^')
_NAME_MAX = 255  # bytes in one folder name on common file systems


def _escape(text: str) -> str:
    return "".join(f"%{ord(ch):02X}" if ch in _ESCAPED or ord(ch) < 0x20 else ch for ch in text)


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "%" and _is_hex(text[i + 1:i + 3]):
            out.append(chr(int(text[i + 1:i + 3], 16)))
            i += 3
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _is_hex(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)


def value_text(value, kind: str) -> str | None:
    """The text of a partition value as a folder spells it (None for a null)."""
    if value is None:
        return None
    if kind == "bool":
        return "true" if value else "false"
    if kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return str(value)


def segment(column: str, value, kind: str) -> str:
    """``column=value`` for one folder level (raises ``UsageError`` when too long for a name)."""
    text = value_text(value, kind)
    seg = f"{_escape(column)}={NULL_SEGMENT if text is None else _escape(text)}"
    if len(seg.encode("utf-8")) > _NAME_MAX:
        raise UsageError(f"partition column {column!r}: the value {str(value)[:40]!r}… makes a folder name longer "
                         f"than {_NAME_MAX} bytes (hint: partition by a column of short values: a code, a month)")
    return seg


def parse_segment(seg: str, column: str, kind: str):
    """The typed value a folder level names (the inverse of ``segment``); ValueError when the
    folder is not ``column=value`` or the value is not of the column's type."""
    name, eq, text = seg.partition("=")
    if not eq or _unescape(name) != column:
        raise ValueError(f"folder {seg!r} is not {column}=<value>")
    if text == NULL_SEGMENT:
        return None
    text = _unescape(text)
    if kind == "int":
        return int(text)
    if kind == "bool":
        if text not in ("true", "false"):
            raise ValueError(f"folder {seg!r}: {text!r} is not true or false")
        return text == "true"
    if kind == "date":
        return dt.date.fromisoformat(text)
    return text


@dataclass(frozen=True)
class Partition:
    """One partition of a block: its folder (``region=EU/day=2025-01-01``), the positions of its
    rows in the block (increasing) and those rows without the partition columns."""

    folder: str
    rows: np.ndarray
    batch: pa.RecordBatch


def folder_codes(batch: pa.RecordBatch, columns: tuple[str, ...], kinds: dict[str, str]) -> tuple[np.ndarray, list[str]]:
    """Per row, the index of its folder in the returned list of distinct folders (sorted)."""
    n = batch.num_rows
    codes = np.zeros(n, dtype=np.int64)
    folders = [""]
    for name in columns:
        enc = pc.dictionary_encode(batch.column(name))
        values = enc.dictionary.to_pylist()
        idx = pc.fill_null(enc.indices, len(values)).to_numpy(zero_copy_only=False).astype(np.int64)
        segs = [segment(name, v, kinds[name]) for v in values] + [segment(name, None, kinds[name])]
        # keep only the combinations that occur, so the codes stay small however many levels
        combined = codes * len(segs) + idx
        uniq, codes = np.unique(combined, return_inverse=True)
        folders = [(folders[c // len(segs)] + "/" if folders[c // len(segs)] else "") + segs[c % len(segs)]
                   for c in uniq.tolist()]
    order = sorted(range(len(folders)), key=folders.__getitem__)
    rank = np.empty(len(folders), dtype=np.int64)
    rank[order] = np.arange(len(folders))
    return rank[codes.reshape(-1)] if n else codes, [folders[i] for i in order]


def split(batch: pa.RecordBatch, columns: tuple[str, ...], kinds: dict[str, str]) -> list[Partition]:
    """The block's partitions in folder order, each with its rows in row order."""
    codes, folders = folder_codes(batch, columns, kinds)
    keep = [i for i, name in enumerate(batch.schema.names) if name not in columns]
    body = batch.select(keep)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(folders) + 1))
    out = []
    for k, folder in enumerate(folders):
        rows = order[bounds[k]:bounds[k + 1]]
        if len(rows):
            out.append(Partition(folder, rows, body.take(pa.array(rows))))
    return out


def file_schema(schema: pa.Schema, columns: tuple[str, ...]) -> pa.Schema:
    """The schema of a partition's files: the table's without the partition columns."""
    return pa.schema([f for f in schema if f.name not in columns], schema.metadata)


class PartitionLimit:
    """Counts the distinct folders a table's write makes; past ``limit`` a ``UsageError``."""

    def __init__(self, table: str, columns: tuple[str, ...], limit: int):
        self.table, self.columns, self.limit = table, columns, limit
        self.seen: set[str] = set()

    def add(self, folders) -> None:
        self.seen.update(folders)
        if self.limit and len(self.seen) > self.limit:
            raise UsageError(
                f"table {self.table!r}: partition_by [{', '.join(self.columns)}] makes more than "
                f"{self.limit:,} folders (hint: partition by columns of fewer values, or raise the limit with "
                "--option max_partitions=N; 0: no limit)")


def folder_values(folder: str, table) -> list:
    """The typed values a folder path (``region=EU/day=2025-01-01``) names, per partition column."""
    segs = folder.split("/")
    if len(segs) != len(table.partition_by):
        raise ValueError(f"folder {folder!r} is not {len(table.partition_by)} levels deep "
                         f"({'/'.join(c + '=…' for c in table.partition_by)})")
    return [parse_segment(seg, c, table.column(c).dtype.kind) for seg, c in zip(segs, table.partition_by, strict=True)]


def out_schema(table, arrow_schema: pa.Schema, file_fields: pa.Schema, columns: list[str] | None) -> pa.Schema:
    """The read-back schema: the table's column order, the partition columns typed as the
    schema says, the others as the files hold them."""
    fields = []
    for f in arrow_schema:
        if columns is not None and f.name not in columns:
            continue
        if f.name in table.partition_by:
            fields.append(f)
        elif file_fields.get_field_index(f.name) >= 0:
            fields.append(file_fields.field(f.name))
    return pa.schema(fields, arrow_schema.metadata)


def with_partition_columns(body: pa.RecordBatch | pa.Table, values: dict[str, pa.Array],
                           schema: pa.Schema) -> pa.RecordBatch:
    """A batch of ``schema`` from the files' columns and the partition columns' arrays."""
    arrays = []
    for f in schema:
        arrays.append(values[f.name] if f.name in values else body.column(f.name))
    arrays = [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in arrays]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def layout_reader(parts: list[tuple[str, pa.RecordBatchReader]], table, arrow_schema: pa.Schema,
                  columns: list[str] | None = None) -> pa.RecordBatchReader:
    """A partitioned table in the layout's order — folder by folder, each in row order — with the
    partition columns from the folder names (what a reader that knows no plan sees)."""
    file_fields = parts[0][1].schema if parts else file_schema(arrow_schema, table.partition_by)
    schema = out_schema(table, arrow_schema, file_fields, columns)

    def batches():
        for folder, reader in parts:
            values = folder_values(folder, table)
            for b in reader:
                arrays = {c: pa.repeat(pa.scalar(v, arrow_schema.field(c).type), b.num_rows)
                          for c, v in zip(table.partition_by, values, strict=True) if schema.get_field_index(c) >= 0}
                yield with_partition_columns(b, arrays, schema)

    return pa.RecordBatchReader.from_batches(schema, batches())
