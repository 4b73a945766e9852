"""Constraints by construction: bring generated values into the column's type and bounds.

Applied by the engine to every generated column, after the generator and before nulls:

* int: rounded half-to-even, clipped to ``[min, max]`` ∩ the type's range;
* float: clipped to ``[min, max]`` (NaN/inf replaced by the nearest bound or 0);
* decimal(p,s): rounded half-to-even to ``s`` places, clipped to ``[min, max]`` and to what
  ``p`` digits hold;
* date, timestamp: clipped to ``[min, max]``;
* string: cut to ``max_length`` characters (code points);
* ``allowed`` on a non-choice generator: a value outside the list is replaced by a list value
  picked from the ``allowed`` stream (documented in docs/constraints.md) — generators such as
  ``choice`` and ``const`` never produce one.

Clipping is the documented truncation for distributions without a cheap inverse CDF (normal,
lognormal, gamma …): values beyond a bound pile up on the bound.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FLOAT32_MAX = float(np.finfo(np.float32).max)


def _bounds(column):
    lo, hi = column.min, column.max
    dt = column.dtype
    if dt.kind == "int":
        tlo, thi = dt.int_bounds()
        lo = tlo if lo is None else max(lo, tlo)
        hi = thi if hi is None else min(hi, thi)
    elif dt.kind == "decimal":
        b = dt.decimal_bound()
        lo = -b if lo is None else max(lo, -b)
        hi = b if hi is None else min(hi, b)
    elif dt.kind == "float" and dt.bits == 32:
        lo = -FLOAT32_MAX if lo is None else lo
        hi = FLOAT32_MAX if hi is None else hi
    return lo, hi


def coerce(column, values):
    """Values in the column's engine units, inside its bounds."""
    kind = column.dtype.kind
    if kind in ("string", "uuid"):
        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, type=pa.string())
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if arr.type != pa.string():
            arr = pc.cast(arr, pa.string())
        if column.max_length is not None:
            arr = pc.utf8_slice_codeunits(arr, 0, column.max_length)
        return arr
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.to_numpy(zero_copy_only=False)
    v = np.asarray(values)
    if kind == "bool":
        return v.astype(bool, copy=False)
    lo, hi = _bounds(column)
    if kind in ("int", "date", "timestamp"):
        if v.dtype.kind == "f":
            fill = lo if lo is not None else 0
            v = np.nan_to_num(v, nan=fill, posinf=hi if hi is not None else 2**62, neginf=lo if lo is not None else -(2**62))
            if lo is not None or hi is not None:
                v = np.clip(v, lo if lo is not None else None, hi if hi is not None else None)
            v = np.rint(v).astype(np.int64)
        else:
            v = v.astype(np.int64, copy=False)
            if lo is not None or hi is not None:
                v = np.clip(v, lo, hi)
        return v
    # float / decimal
    v = v.astype(np.float64, copy=False)
    if not np.isfinite(v).all():
        v = np.nan_to_num(v, nan=lo if lo is not None else 0.0,
                          posinf=hi if hi is not None else np.finfo(np.float64).max,
                          neginf=lo if lo is not None else -np.finfo(np.float64).max)
    if kind == "decimal":
        v = np.round(v, column.dtype.scale)
    if lo is not None or hi is not None:
        v = np.clip(v, lo, hi)
    return v


def snap_allowed(column, values, u: np.ndarray):
    """Replace values outside ``allowed`` by an allowed value chosen by the uniforms ``u``."""
    allowed = column.allowed
    if not allowed:
        return values
    kind = column.dtype.kind
    if kind in ("string", "uuid"):
        options = pa.array([str(a) for a in allowed], type=pa.string())
        ok = pc.is_in(values, value_set=options).to_numpy(zero_copy_only=False)
        if ok.all():
            return values
        pick = options.take(pa.array(np.minimum((u * len(allowed)).astype(np.int64), len(allowed) - 1)))
        return pc.if_else(pa.array(ok), values, pick)
    opts = np.asarray(list(allowed), dtype=np.float64 if kind in ("float", "decimal") else None)
    ok = np.isin(values, opts)
    if ok.all():
        return values
    pick = opts[np.minimum((u * len(opts)).astype(np.int64), len(opts) - 1)]
    return np.where(ok, values, pick.astype(np.asarray(values).dtype))


def to_arrow(column, values, null_mask: np.ndarray | None) -> pa.Array:
    """Engine units → the column's Arrow type, with nulls where ``null_mask`` is set."""
    dt = column.dtype
    target = dt.arrow
    mask = None if null_mask is None or not null_mask.any() else null_mask
    if dt.kind in ("string", "uuid"):
        arr = values
        if mask is not None:
            arr = pc.if_else(pa.array(mask), pa.scalar(None, type=pa.string()), arr)
        return arr
    if dt.kind == "decimal":
        unscaled = np.rint(np.asarray(values, dtype=np.float64) * float(10**dt.scale)).astype(np.int64)
        limbs = np.empty((unscaled.shape[0], 2), dtype=np.int64)
        limbs[:, 0] = unscaled
        limbs[:, 1] = unscaled >> 63  # sign extension into the high 64 bits
        validity = None if mask is None else pa.array(~mask).buffers()[1]
        return pa.Array.from_buffers(target, len(unscaled), [validity, pa.py_buffer(limbs.tobytes())],
                                     null_count=-1 if mask is not None else 0)
    if dt.kind == "int":
        np_type = {8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}[dt.bits]
        return pa.array(np.asarray(values).astype(np_type, copy=False), type=target, mask=mask)
    if dt.kind == "float":
        float_type = np.float32 if dt.bits == 32 else np.float64
        return pa.array(np.asarray(values).astype(float_type, copy=False), type=target, mask=mask)
    if dt.kind == "date":
        return pa.array(np.asarray(values).astype(np.int32), type=target, mask=mask)
    if dt.kind == "timestamp":
        return pa.array(np.asarray(values, dtype=np.int64), type=target, mask=mask)
    if dt.kind == "bool":
        return pa.array(np.asarray(values, dtype=bool), type=target, mask=mask)
    raise TypeError(f"no Arrow conversion for {dt.name}")
