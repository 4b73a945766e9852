"""Constraints by construction: bring generated values into the column's type and bounds.

Applied by the engine to every generated column, after the generator and before nulls:

* int: rounded half-to-even, clipped to ``[min, max]`` ∩ the type's range;
* float: clipped to ``[min, max]``;
* decimal(p,s): rounded half-to-even to ``s`` places, clipped to ``[min, max]`` and to what
  ``p`` digits hold;
* date, timestamp: clipped to ``[min, max]`` ∩ years 0001–9999 (what every format writes and
  reads back: ``types.TIMESTAMP_MIN_US`` …);
* non-finite numbers (NaN from ``x / 0``, ±inf from an overflow) never become garbage: ±inf is
  the upper/lower bound, NaN the in-range value nearest 0 (0 clipped into the bounds) — so no
  value is ever int64's minimum by accident;
* string: cut to ``max_length`` characters (code points);
* ``allowed`` on a non-choice generator: a value outside the list is replaced by a list value
  picked from the ``allowed`` stream (documented in docs/constraints.md) — generators such as
  ``choice`` and ``const`` never produce one.

Clipping is the documented truncation for distributions without a cheap inverse CDF (normal,
lognormal, gamma …): values beyond a bound pile up on the bound.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.model.types import DATE_MAX_DAYS, DATE_MIN_DAYS, TIMESTAMP_MAX_US, TIMESTAMP_MIN_US

FLOAT32_MAX = float(np.finfo(np.float32).max)
FLOAT64_MAX = float(np.finfo(np.float64).max)
#: decimal(p,s) with p up to this is written from int64 unscaled values; wider ones exactly
#: through decimal text (see ``_wide_decimal``)
INT64_DECIMAL_DIGITS = 18


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
    elif dt.kind in ("date", "timestamp"):
        tlo, thi = (DATE_MIN_DAYS, DATE_MAX_DAYS) if dt.kind == "date" else (TIMESTAMP_MIN_US, TIMESTAMP_MAX_US)
        lo = tlo if lo is None else max(lo, tlo)
        hi = thi if hi is None else min(hi, thi)
    return lo, hi


def _inside(bound, toward: float) -> float:
    """An integer bound as a float64 that does not lie beyond it (2**63 - 1 → 2**63 - 1024)."""
    f = float(bound)
    if (f > bound and toward < f) or (f < bound and toward > f):
        f = math.nextafter(f, toward)
    return f


def _zero_point(lo, hi) -> float:
    """What NaN becomes: 0 clipped into [lo, hi]."""
    z = 0.0
    if lo is not None and z < lo:
        z = float(lo)
    if hi is not None and z > hi:
        z = float(hi)
    return z


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
    if kind in ("int", "date", "timestamp"):  # lo and hi are always set: the type's range at least
        if v.dtype.kind == "f":
            flo, fhi = _inside(lo, 0.0), _inside(hi, 0.0)
            v = v.astype(np.float64, copy=False)
            nan = np.isnan(v)
            above, below = v > fhi, v < flo  # ±inf included: exactly the bound, not its float
            v = np.rint(np.clip(np.where(nan, _zero_point(lo, hi), v), flo, fhi)).astype(np.int64)
            if above.any() or below.any():
                v = np.where(above, np.int64(hi), np.where(below, np.int64(lo), v))
        else:
            v = v.astype(np.int64, copy=False)
        return np.clip(v, lo, hi)
    # float / decimal
    v = v.astype(np.float64, copy=False)
    if not np.isfinite(v).all():
        v = np.nan_to_num(v, nan=_zero_point(lo, hi),
                          posinf=hi if hi is not None else FLOAT64_MAX,
                          neginf=lo if lo is not None else -FLOAT64_MAX)
    if kind == "decimal":
        with np.errstate(over="ignore", invalid="ignore"):  # |v| · 10^s beyond float: clipped below
            v = np.round(v, column.dtype.scale)
        v = np.nan_to_num(v, nan=0.0, posinf=hi, neginf=lo)
    if lo is not None or hi is not None:
        v = np.clip(v, lo, hi)
    return v


def allowed_mask(column, values) -> np.ndarray:
    """Which of the coerced ``values`` are in the column's ``allowed`` list (all, without one)."""
    allowed = column.allowed
    if not allowed:
        return np.ones(len(values), dtype=bool)
    if column.dtype.kind in ("string", "uuid"):
        options = pa.array([str(a) for a in allowed], type=pa.string())
        return np.asarray(pc.is_in(values, value_set=options).to_numpy(zero_copy_only=False), dtype=bool)
    kind = column.dtype.kind
    return np.isin(values, np.asarray(list(allowed), dtype=np.float64 if kind in ("float", "decimal") else None))


def snap_allowed(column, values, u: np.ndarray):
    """Replace values outside ``allowed`` by an allowed value chosen by the uniforms ``u``."""
    allowed = column.allowed
    if not allowed:
        return values
    kind = column.dtype.kind
    ok = allowed_mask(column, values)
    if kind in ("string", "uuid"):
        if ok.all():
            return values
        options = pa.array([str(a) for a in allowed], type=pa.string())
        pick = options.take(pa.array(np.minimum((u * len(allowed)).astype(np.int64), len(allowed) - 1)))
        return pc.if_else(pa.array(ok), values, pick)
    opts = np.asarray(list(allowed), dtype=np.float64 if kind in ("float", "decimal") else None)
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
        validity = None if mask is None else pa.array(~mask).buffers()[1]
        if dt.precision > INT64_DECIMAL_DIGITS:
            data = _wide_decimal(dt, np.asarray(values, dtype=np.float64)).buffers()[1]
        else:
            limit = 10**dt.precision - 1
            with np.errstate(over="ignore", invalid="ignore"):
                scaled = np.rint(np.asarray(values, dtype=np.float64) * float(10**dt.scale))
            scaled = np.clip(np.nan_to_num(scaled, nan=0.0), -_inside(limit, 0.0), _inside(limit, 0.0))
            unscaled = np.clip(scaled.astype(np.int64), -limit, limit)
            limbs = np.empty((unscaled.shape[0], 2), dtype=np.int64)
            limbs[:, 0] = unscaled
            limbs[:, 1] = unscaled >> 63  # sign extension into the high 64 bits
            data = pa.py_buffer(limbs.tobytes())
        return pa.Array.from_buffers(target, len(values), [validity, data],
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
    if dt.kind == "struct":
        if mask is None:
            return values
        return pa.StructArray.from_arrays([values.field(i) for i in range(values.type.num_fields)],
                                          fields=list(values.type), mask=pa.array(mask))
    if dt.kind == "list":
        if mask is None:
            return values
        return pa.ListArray.from_arrays(values.offsets, values.values, type=values.type, mask=pa.array(mask))
    raise TypeError(f"no Arrow conversion for {dt.name}")


#: 10^-39 … 10^38 as float64 (read from text: correctly rounded; exact from 10^0 to 10^22)
_POW10 = np.array([float(f"1e{k}") for k in range(-39, 39)])
_POW10_OFFSET = 39  # _POW10[_POW10_OFFSET + k] is 10^k
_INT64_MAX = 2**63 - 1


@lru_cache(maxsize=64)
def _digit_limits(p: int) -> np.ndarray:
    """Per t, the largest |d| with d·10^t inside p digits: min((10^p − 1) // 10^t, int64 max)."""
    return np.array([min((10**p - 1) // 10**t, _INT64_MAX) for t in range(39)], dtype=np.int64)


def _wide_decimal(dt, v: np.ndarray) -> pa.Array:
    """decimal(p,s) with p > 18, whose unscaled values do not fit an int64.

    The value is clipped to the type and rounded half-to-even to ``s`` places in float64 (as for
    every decimal), then written as d · 10^q with d an int64 of at most 17 significant digits —
    as many as a float64 carries — and q ≥ −s. Where the value
    has at most 17 significant digits at the scale (|v| · 10^s < 10^17), q = −s and d is
    rint(v · 10^s): the decimal is the value rounded to ``s`` places, as the int64 path writes
    it. Beyond, the digits after the 17th are zeros: within a few units in float64's last place
    (relative 2^−50), never garbage and never past the type. Each value becomes the text ``dEq``, which
    Arrow reads into decimal128(p, s) exactly (scaling up only: its decimal rescale-down and round
    kernels mis-handle values past 2^63 in pyarrow 26). Vectorised: no per-row Python.
    """
    assert dt.precision is not None and dt.scale is not None
    p, scale = dt.precision, dt.scale
    b = dt.decimal_bound_inside()
    v = np.clip(np.nan_to_num(v, nan=0.0, posinf=b, neginf=-b), -b, b)
    with np.errstate(over="ignore", invalid="ignore"):
        v = np.round(v, scale)
    v = np.clip(np.nan_to_num(v, nan=0.0), -b, b)
    # k of the largest 10^k ≤ |v| (−39 for 0), so |v| has k + 1 digits before the point
    k = np.searchsorted(_POW10, np.abs(v), side="right") - 1 - _POW10_OFFSET
    q = np.maximum(k + 1 - 17, -scale)
    up = np.minimum(-q, 22)  # v · 10^−q in at most two exact-power steps (10^22 is exact)
    scaled = np.where(q > 0, v / _POW10[_POW10_OFFSET + np.maximum(q, 0)],
                      v * _POW10[_POW10_OFFSET + np.maximum(up, 0)] * _POW10[_POW10_OFFSET + np.maximum(-q - up, 0)])
    d = np.rint(scaled).astype(np.int64)  # |d| < 10^17 · (1 + 2^-52): inside int64
    limit = _digit_limits(p)[np.minimum(q + scale, 38)]
    d = np.clip(d, -limit, limit)
    text = pc.binary_join_element_wise(pc.cast(pa.array(d), pa.string()), "E",
                                       pc.cast(pa.array(q), pa.string()), "")
    return pc.cast(text, dt.arrow)
