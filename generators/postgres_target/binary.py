"""Arrow batches as PostgreSQL's binary COPY format, encoded column by column with no per-row
Python.

A binary COPY stream is a header, then per row a 16-bit field count and per field a 32-bit
length (-1 for NULL) and the value in the type's binary "send" form (big-endian integers and
floats, microseconds or days since 2000-01-01, base-10000 numeric digits, raw UUID bytes, a
version byte before jsonb text), then a trailer. Each column becomes a binary array whose
element *i* is row *i*'s length word and value; ``binary_join_element_wise`` then lays the
columns of each row side by side, and the joined array's data buffer is the batch's rows back to
back — the bytes ``COPY … FROM STDIN (FORMAT binary)`` reads.

The encoding follows the existing column's type (``format_type`` spelling), not only the DSL's:
an int32 column appended into a bigint column is sent as 8 bytes. :func:`encoder_for` answers
``None`` for a pairing it does not encode (then the table loads as CSV text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generators.common.nested_text import text_schema, to_text

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
NULL = b"\xff\xff\xff\xff"
#: days and microseconds from 1970-01-01 (Arrow's epoch) to 2000-01-01 (PostgreSQL's)
PG_EPOCH_DAYS = 10957
PG_EPOCH_MICROS = PG_EPOCH_DAYS * 86_400_000_000

_NUMERIC = re.compile(r"numeric(?:\((\d+),(\d+)\))?")
_INTS = {"smallint": ">i2", "integer": ">i4", "bigint": ">i8"}
_INT_LIMITS = {">i2": 1 << 15, ">i4": 1 << 31, ">i8": 1 << 63}

Encoder = Callable[[pa.Array], pa.Array]


def _fixed(values: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """Big-endian values (a 1-D numpy array of one fixed-width type, or a 2-D array of bytes, one
    value per row) with their length words."""
    n = len(values)
    raw = values if values.ndim == 2 else values.view(np.uint8).reshape(n, values.dtype.itemsize)
    width = raw.shape[1]
    out = np.empty((n, 4 + width), dtype=np.uint8)
    out[:, :4] = np.frombuffer(width.to_bytes(4, "big"), dtype=np.uint8)
    out[:, 4:] = raw
    return _with_nulls(_as_binary(out), valid)


def _as_binary(rows: np.ndarray) -> pa.Array:
    """A 2-D uint8 array, one row per element, as an Arrow binary array (no copy of the rows)."""
    n, width = rows.shape
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, pa.py_buffer(np.ascontiguousarray(rows))])
    return fixed.cast(pa.binary())


def _with_nulls(encoded: pa.Array, valid: np.ndarray | None) -> pa.Array:
    if valid is None:
        return encoded
    return pc.if_else(pa.array(valid), encoded, pa.scalar(NULL, pa.binary()))


def _validity(arr: pa.Array) -> np.ndarray | None:
    return None if arr.null_count == 0 else np.asarray(arr.is_valid())


def _numbers(arr: pa.Array, dtype: str) -> np.ndarray:
    """``arr``'s values as a numpy array of ``dtype`` (nulls as zero: their bytes are replaced)."""
    if arr.null_count:
        arr = arr.fill_null(0)
    return np.asarray(arr.to_numpy(zero_copy_only=False)).astype(dtype)


def _integer(be: str) -> Encoder:
    def encode(arr: pa.Array) -> pa.Array:
        return _fixed(_numbers(arr, be), _validity(arr))

    return encode


def _float(be: str) -> Encoder:
    def encode(arr: pa.Array) -> pa.Array:
        return _fixed(_numbers(arr, be), _validity(arr))

    return encode


def _bool(arr: pa.Array) -> pa.Array:
    return _fixed(_numbers(arr.fill_null(False) if arr.null_count else arr, "u1"), _validity(arr))


def _date(arr: pa.Array) -> pa.Array:
    days = _numbers(arr.cast(pa.int32()), "i8") - PG_EPOCH_DAYS
    return _fixed(days.astype(">i4"), _validity(arr))


def _timestamp(arr: pa.Array) -> pa.Array:
    if arr.type.unit != "us":
        arr = arr.cast(pa.timestamp("us", arr.type.tz))
    micros = _numbers(arr.cast(pa.int64()), "i8") - PG_EPOCH_MICROS
    return _fixed(micros.astype(">i8"), _validity(arr))


def _text(arr: pa.Array) -> pa.Array:
    data = arr.cast(pa.binary()) if not pa.types.is_binary(arr.type) else arr
    lengths = _numbers(pc.binary_length(data), ">i4")
    prefix = _as_binary(lengths.view(np.uint8).reshape(-1, 4))
    joined = pc.binary_join_element_wise(prefix, data, b"")
    return joined if arr.null_count == 0 else pc.coalesce(joined, pa.scalar(NULL, pa.binary()))


def _jsonb(arr: pa.Array) -> pa.Array:
    """jsonb's binary form: version 1, then the JSON text."""
    version = pa.scalar(b"\x01", pa.binary())
    return _text(pc.binary_join_element_wise(version, arr.cast(pa.binary()), b""))


_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10, dtype=np.uint8)
_HEX[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16, dtype=np.uint8)
_HEX[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16, dtype=np.uint8)
#: where the 32 hex digits sit in the canonical 8-4-4-4-12 form
_UUID_DIGITS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def _uuid(arr: pa.Array) -> pa.Array:
    """Canonical 36-character UUID text as 16 raw bytes (what the engine generates); a value in
    another form is refused as the server refuses text that is not a UUID."""
    valid = _validity(arr)
    filled = arr.fill_null("00000000-0000-0000-0000-000000000000") if valid is not None else arr
    lengths = _numbers(pc.binary_length(filled), "i8")
    if len(filled) and (lengths != 36).any():
        raise ValueError(f"invalid input syntax for type uuid: {_first_bad(filled, lengths != 36)!r}")
    data = filled.cast(pa.binary())
    offset = data.offset
    raw = np.frombuffer(data.buffers()[2], dtype=np.uint8)
    start = np.frombuffer(data.buffers()[1], dtype=np.int32)[offset]
    chars = raw[start:start + 36 * len(filled)].reshape(-1, 36)
    nibbles = _HEX[chars[:, _UUID_DIGITS]]
    bad = (nibbles == 255).any(axis=1)
    if bad.any():
        raise ValueError(f"invalid input syntax for type uuid: {_first_bad(filled, bad)!r}")
    packed = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    return _fixed(packed, valid)


def _first_bad(arr: pa.Array, bad: np.ndarray) -> str:
    return arr[int(np.argmax(bad))].as_py()


def _numeric(precision: int, scale: int) -> Encoder | None:
    """Integers and decimals of at most 18 digits (their own precision and scale: the server
    rounds to the column's) as PostgreSQL numerics, every value with the same number of base-10000
    digits (leading and trailing zero digits are allowed; the server strips them)."""
    if precision > 19 or (precision > 18 and scale):
        return None
    int_groups = -(-(precision - scale) // 4)
    frac_groups = -(-scale // 4)
    ndigits = int_groups + frac_groups
    head = np.array([ndigits, int_groups - 1], dtype=">i2")
    width = 2 * (4 + ndigits)

    def encode(arr: pa.Array) -> pa.Array:
        n = len(arr)
        if pa.types.is_decimal(arr.type):  # the low 8 bytes of each 16-byte value: the unscaled int
            raw = np.frombuffer(arr.buffers()[1], dtype=np.int64)
            unscaled = raw[2 * arr.offset:2 * (arr.offset + n):2]
        else:
            unscaled = _numbers(arr, "i8")
        negative = unscaled < 0
        value = np.abs(unscaled).astype(np.uint64)  # |INT64_MIN| wraps to 2**63 in uint64: right
        whole, frac = np.divmod(value, np.uint64(10 ** scale))
        words = np.empty((n, 4 + ndigits), dtype=">i2")
        words[:, 0:2] = head
        words[:, 2] = np.where(negative, 0x4000, 0)
        words[:, 3] = scale
        if frac_groups:
            pad = 4 * frac_groups - scale
            low = np.uint64(10 ** (4 - pad))
            frac, last = np.divmod(frac, low)
            words[:, 3 + ndigits] = last * np.uint64(10 ** pad)
            for g in range(ndigits - 2, int_groups - 1, -1):
                frac, words[:, 4 + g] = np.divmod(frac, np.uint64(10_000))
        for g in range(int_groups - 1, -1, -1):
            whole, words[:, 4 + g] = np.divmod(whole, np.uint64(10_000))
        return _fixed(words.view(np.uint8).reshape(n, width), _validity(arr))

    return encode


def encoder_for(arrow_type: pa.DataType, pg_type: str) -> Encoder | None:
    """How to send values of ``arrow_type`` into a column of type ``pg_type``; ``None`` when this
    module does not encode that pairing."""
    if pa.types.is_integer(arrow_type):
        if pg_type in _INTS and _INT_LIMITS[_INTS[pg_type]] >= 1 << (arrow_type.bit_width - 1):
            return _integer(_INTS[pg_type])
        return _numeric(19, 0) if _NUMERIC.fullmatch(pg_type) else None
    if pa.types.is_floating(arrow_type):
        # a float32 into a double precision column goes as text: widened in binary it would differ
        # from what the CSV path loads (the float32's shortest decimal text, read as a double)
        if pg_type == "real" and arrow_type.bit_width <= 32:
            return _float(">f4")
        return _float(">f8") if pg_type == "double precision" and arrow_type.bit_width == 64 else None
    if pa.types.is_decimal(arrow_type):
        return _numeric(arrow_type.precision, arrow_type.scale) if _NUMERIC.fullmatch(pg_type) else None
    if pa.types.is_boolean(arrow_type):
        return _bool if pg_type == "boolean" else None
    if pa.types.is_date32(arrow_type):
        return _date if pg_type == "date" else None
    if pa.types.is_timestamp(arrow_type):
        return _timestamp if pg_type in ("timestamp with time zone", "timestamp without time zone") else None
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        if pg_type == "text" or pg_type.startswith("character varying"):
            return _text
        if pg_type == "uuid":
            return _uuid
        if pg_type == "jsonb":
            return _jsonb
        if pg_type == "json":
            return _text
    return None


class BinaryRenderer:
    """A batch as binary COPY rows (no header or trailer): pure and picklable, so the workers can
    run it. ``None`` from :meth:`plan` means some column has no binary encoding here."""

    def __init__(self, encoders: tuple[tuple[str, str], ...]):
        #: (arrow type string, pg type) per column: re-resolved in each process
        self.columns = encoders
        self._encoders: list[Any] | None = None

    @classmethod
    def plan(cls, arrow_schema: pa.Schema, pg_types: list[str]) -> BinaryRenderer | None:
        text = text_schema(arrow_schema)
        if any(encoder_for(f.type, t) is None for f, t in zip(text, pg_types, strict=True)):
            return None
        return cls(tuple((str(f.type), t) for f, t in zip(text, pg_types, strict=True)))

    def __getstate__(self) -> dict:
        return {"columns": self.columns}

    def __setstate__(self, state: dict) -> None:
        self.columns = state["columns"]
        self._encoders = None

    def __call__(self, batch: pa.RecordBatch) -> pa.Buffer:
        batch = to_text(batch)
        if self._encoders is None:
            self._encoders = [encoder_for(f.type, t) for f, (_, t) in zip(batch.schema, self.columns, strict=True)]
        if batch.num_rows == 0:
            return pa.py_buffer(b"")
        count = pa.scalar(len(self.columns).to_bytes(2, "big"), pa.binary())
        parts = [enc(col) for enc, col in zip(self._encoders, batch.columns, strict=True)]
        rows = pc.binary_join_element_wise(count, *parts, b"")
        offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset:rows.offset + len(rows) + 1]
        return rows.buffers()[2][int(offsets[0]):int(offsets[-1])]
