"""Keys and constants: ``const``, ``sequence`` and ``uuid4`` — pure functions of the row index."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from shared.distributions.base import ALL_KINDS, NUMBER, Generator, obj, register
from shared.distributions.categorical import (
    SCALAR,
    TEXT_KINDS,
    as_engine_array,
    coerce_value,
    schema_anchor_us,
    value_problems,
)

Problems = list[tuple[str, str, str | None]]


@register("const")
class Const(Generator):
    """The same value in every row.

    Params: ``value`` — written in the column's type (a string, a number, true/false, ISO text
    for date and timestamp columns; a relative time like ``-7d`` resolves against the schema's
    anchor). Checked at load time against the column's type, ``allowed``, ``min``/``max``,
    ``max_length`` and ``pattern``, so every constraint holds by construction. Capacity 1:
    ``unique: true`` is only feasible for a one-row table.
    """

    kinds = ALL_KINDS
    listed_values = True
    params_schema = obj(("value",), value=SCALAR)

    def check(self, column, table, schema) -> Problems:
        params = column.generator.params
        if "value" not in params:
            return []
        return value_problems(column, params["value"], schema_anchor_us(schema), "params.value")

    def capacity(self, column, params, plan) -> int | None:
        return 1

    def generate(self, ctx):
        v = coerce_value(ctx.column.dtype, ctx.params["value"], ctx.anchor_us)
        n = int(np.asarray(ctx.rows).shape[0])
        if ctx.column.dtype.kind in TEXT_KINDS:
            return pa.repeat(pa.scalar(v, type=pa.string()), n)
        arr = as_engine_array(ctx.column.dtype, (v,))
        return np.repeat(arr, n)


@register("sequence")
class Sequence(Generator):
    """Consecutive numbers: start + step · row (row 0 is the table's first row).

    Params: ``start`` (default 1), ``step`` (non-zero, default 1); integers for int and string
    columns (a string column gets the decimal text, e.g. ``"1"``, ``"2"``), any numbers for float
    and decimal columns. Distinct by construction (``unique_strategy`` "native"), so it is the
    natural primary key. Capacity, for int columns, is the count of terms that stay inside the
    column's min/max and the type's range; the planner refuses a table with more rows. For every
    column type the planner refuses a first or last value outside the column's min/max and its
    type (a decimal's p digits: a decimal(3,1) key stops at 99.9); on a unique float or decimal
    column also a step below the decimal's scale, or more than 2^50 steps from 0 (2^21 for
    float32), where float64 rounding would merge neighbours; and on a unique column with
    ``allowed`` a value outside the list. Prefix stable: raising ``rows`` only appends values.
    """

    kinds = frozenset({"int", "float", "decimal", "string"})
    unique_strategy = "native"
    params_schema = obj(start=NUMBER, step=NUMBER)

    def progression(self, params):
        return params.get("start", 1), params.get("step", 1)

    def check(self, column, table, schema) -> Problems:
        return self.check_params(column.generator.params, column)

    def check_params(self, params: Mapping[str, Any], column=None) -> Problems:
        out: Problems = []
        start, step = params.get("start", 1), params.get("step", 1)
        for name, v in (("start", start), ("step", step)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                out.append((f"{name} must be a finite number, got {v!r}", f"params.{name}", None))
        if out:
            return out
        if step == 0:
            out.append(("step must not be 0 (the values would repeat)", "params.step", None))
        kind = column.dtype.kind if column is not None else "int"
        if kind in ("int", "string"):
            for name, v in (("start", start), ("step", step)):
                if isinstance(v, float) and not v.is_integer():
                    out.append((f"{name} must be an integer for a {column.dtype.name} column, got {v!r}",
                                f"params.{name}", None))
        if kind == "int" and column is not None and not out:
            lo, hi = _int_bounds(column)
            if not lo <= start <= hi:
                out.append((f"start {start} is outside the column's range [{lo}, {hi}]", "params.start",
                            None))
        return out

    def capacity(self, column, params, plan) -> int | None:
        if column.dtype.kind != "int":
            return None
        start, step = int(params.get("start", 1)), int(params.get("step", 1))
        if step == 0:
            return 1
        lo, hi = _int_bounds(column)
        if not lo <= start <= hi:
            return 0
        return (hi - start) // step + 1 if step > 0 else (start - lo) // (-step) + 1

    def length_bounds(self, column, table, schema, rows):
        span = self.span(column, rows, schema)
        if column.dtype.kind != "string" or span is None:
            return 0, None
        return 1, max(len(str(int(v))) for v in span)

    def generate(self, ctx):
        return self._values(ctx, np.asarray(ctx.rows, dtype=np.int64))

    def from_index(self, idx, ctx):
        return self._values(ctx, np.asarray(idx, dtype=np.int64))

    @staticmethod
    def _values(ctx, rows: np.ndarray):
        start, step = ctx.params.get("start", 1), ctx.params.get("step", 1)
        kind = ctx.column.dtype.kind
        if kind in ("float", "decimal"):
            return float(start) + float(step) * rows.astype(np.float64)
        with np.errstate(over="ignore"):
            values = np.int64(int(start)) + np.int64(int(step)) * rows
        if kind == "string":
            return pa.array(values).cast(pa.string())
        return values


def _int_bounds(column) -> tuple[int, int]:
    lo, hi = column.dtype.int_bounds()
    if column.min is not None:
        lo = max(lo, math.ceil(column.min))
    if column.max is not None:
        hi = min(hi, math.floor(column.max))
    return lo, hi


# --- uuid4 ---------------------------------------------------------------------------------------

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
#: byte value → its two lowercase hex digits, as one uint16 (memory order: high digit first)
_HEX_PAIRS = np.ascontiguousarray(
    np.stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 15]], axis=1)
).view(np.uint16).ravel()
#: (start, end) of the hex-digit runs in the 36-character form 8-4-4-4-12
_RUNS = ((0, 8), (9, 13), (14, 18), (19, 23), (24, 36))


def uuid_strings(hi: np.ndarray, lo: np.ndarray) -> pa.Array:
    """Canonical lowercase version-4 uuids from two uint64 arrays, fully vectorised.

    (n, 16) bytes → version nibble 4 and RFC 4122 variant bits → hex digits through a 256-entry
    table → dashes inserted → one Arrow string array over a single data buffer.
    """
    n = int(hi.shape[0])
    raw = np.empty((n, 16), dtype=np.uint8)
    raw[:, :8] = hi.astype(">u8").view(np.uint8).reshape(n, 8)
    raw[:, 8:] = lo.astype(">u8").view(np.uint8).reshape(n, 8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # variant 10xx
    digits = _HEX_PAIRS[raw].view(np.uint8).reshape(n, 32)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    pos = 0
    for a, b in _RUNS:  # five column slices, not a row loop
        text[:, a:b] = digits[:, pos:pos + b - a]
        pos += b - a
    if 36 * n < 2**31:
        offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))
    return pa.array(text.view("S36").ravel(), type=pa.large_string()).cast(pa.string())


@register("uuid4")
class Uuid4(Generator):
    """Random-looking version-4 UUIDs, deterministic from the seed (canonical 36-char lowercase text).

    No params. The 122 random bits of a cell come from two 64-bit streams (purposes ``value`` and
    ``value/lo``) read at the row index, with the version (4) and variant (RFC 4122) bits set, so
    any row's uuid is computed on its own. ``unique: true`` is "native": distinct rows collide
    only by chance — probability about n²/2¹²³ (≈ 1e-25 for a million rows, ≈ 1e-13 for
    10⁹ rows) — which the planner accepts as unique by construction. Min/max do not apply.
    """

    kinds = frozenset({"uuid", "string"})
    unique_strategy = "native"
    params_schema = obj()

    def length_bounds(self, column, table, schema, rows):
        return 36, 36

    def generate(self, ctx):
        return uuid_strings(ctx.bits("value"), ctx.bits("value/lo"))
