"""Reading ``events.ndjson`` back: its lines as one binary array over the file's bytes, the
envelope fields of each line, and JSON parsing to a table's Arrow types. Used by the format's
``read_table`` and by the stream checks (``checks.py``), so neither imports the other."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.json as pj

EVENTS_FILE = "events.ndjson"


def read_type(t: pa.DataType) -> pa.DataType:
    """How a column is parsed from JSON before the cast to its Arrow type (inside structs and
    lists too)."""
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(read_type(f.type)) for f in t])
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(read_type(t.value_type)))
    return pa.string() if pa.types.is_decimal(t) or pa.types.is_date(t) else t


def parse_json(data: bytes, schema: pa.Schema, unexpected: str = "infer") -> pa.Table:
    if not data or data.isspace():
        return schema.empty_table()
    return pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(block_size=1 << 24),
                        parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior=unexpected))


def conform(parsed: pa.Table, arrow_schema: pa.Schema) -> pa.Table:
    """Cast the parsed columns to their Arrow types; fields the schema does not name are kept at
    the end, so that the ``columns`` check reports them."""
    cols, fields = [], []
    for f in arrow_schema:
        col = parsed.column(f.name)
        cols.append(col if col.type == f.type else col.cast(f.type))
        fields.append(f)
    for f in parsed.schema:
        if arrow_schema.get_field_index(f.name) < 0:
            cols.append(parsed.column(f.name))
            fields.append(f)
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))


def split_lines(data: bytes) -> pa.LargeBinaryArray:
    """The non-blank lines of a file as one binary array over its bytes (each keeps its newline)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10) + 1
    if buf.size and (ends.size == 0 or ends[-1] != buf.size):
        ends = np.append(ends, buf.size)
    offsets = np.concatenate([[0], ends]).astype(np.int64)
    lines = pa.LargeBinaryArray.from_buffers(pa.large_binary(), int(ends.size),
                                             [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    if not ends.size:
        return lines
    length = np.diff(offsets)
    nl = buf[ends - 1] == 10
    crlf = nl & (length >= 2) & (buf[np.maximum(ends - 2, 0)] == 13)
    keep = (length - nl - crlf) > 0
    return lines if keep.all() else lines.filter(pa.array(keep))


def stream_lines(out_dir: Path) -> tuple[pa.LargeBinaryArray, pa.Table]:
    """The lines of events.ndjson and each line's envelope fields (table, event_id, ts, seq, late)."""
    data = (out_dir / EVENTS_FILE).read_bytes()
    lines = split_lines(data)
    env = pa.schema([("event_id", pa.string()), ("ts", pa.timestamp("us", tz="UTC")), ("table", pa.string()),
                     ("seq", pa.int64()), ("late", pa.bool_())])
    fields = parse_json(data, env, unexpected="ignore")
    if fields.num_rows != len(lines):
        raise ValueError(f"{EVENTS_FILE}: {len(lines)} lines but {fields.num_rows} JSON objects")
    return lines, fields
