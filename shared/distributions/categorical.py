"""Categorical values: ``choice`` over a written list, and the value coercion ``const`` shares."""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid as _uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from shared.distributions.base import ALL_KINDS, NONNEG, Generator, obj, register
from shared.model.timeutil import (
    DEFAULT_ANCHOR,
    US_PER_DAY,
    parse_date,
    parse_timestamp,
)

Problems = list[tuple[str, str, str | None]]

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
SCALAR = {"type": ["string", "number", "boolean"]}
TEXT_KINDS = frozenset({"string", "uuid"})


def schema_anchor_us(schema) -> int:
    """The schema's anchor for relative times (the default anchor without a schema)."""
    if schema is not None:
        us = getattr(schema, "anchor_us", None)
        if us:
            return int(us)
        text = getattr(schema, "anchor", None)
        if text:
            return parse_timestamp(text)
    return parse_timestamp(DEFAULT_ANCHOR)


def date_value(value: Any, anchor_us: int | None = None) -> int:
    """Days since the epoch for ``YYYY-MM-DD`` (or a timestamp / relative time, floored to its day)."""
    try:
        return parse_date(value)
    except ValueError:
        pass
    try:
        return parse_timestamp(value, anchor_us) // US_PER_DAY
    except ValueError:
        raise ValueError(f"not a date (expected YYYY-MM-DD, or relative like -30d): {value!r}") from None


def coerce_value(dtype, value: Any, anchor_us: int | None = None) -> Any:
    """A value as written in the schema → engine units for a column of ``dtype``.

    Raises ValueError with a readable message when the value does not fit the column's type.
    """
    kind = dtype.kind
    if kind == "string":
        if not isinstance(value, str):
            raise ValueError(f"expected a string for a string column, got {value!r}")
        return value
    if kind == "uuid":
        if not isinstance(value, str) or not _UUID_RE.match(value):
            raise ValueError(f"expected a canonical uuid (8-4-4-4-12 hex digits), got {value!r}")
        return str(_uuid.UUID(value))
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false for a bool column, got {value!r}")
        return value
    if kind in ("int", "float", "decimal"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number for a {dtype.name} column, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"expected an integer for a {dtype.name} column, got {value!r}")
            lo, hi = dtype.int_bounds()
            if not lo <= int(value) <= hi:
                raise ValueError(f"{value!r} is outside the range of {dtype.name} [{lo}, {hi}]")
            return int(value)
        if kind == "decimal" and abs(value) > dtype.decimal_bound():
            raise ValueError(f"{value!r} does not fit {dtype.name}")
        return float(value)
    if kind == "date":
        if isinstance(value, bool) or not isinstance(value, (str, dt.date)):
            raise ValueError(f"expected a date like 2024-06-01, got {value!r}")
        return date_value(value, anchor_us)
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (str, dt.date)):
            raise ValueError(f"expected a timestamp like 2024-06-01T08:30:00, got {value!r}")
        return parse_timestamp(value, anchor_us)
    raise ValueError(f"unsupported column kind {kind!r}")


def value_problems(column, value: Any, anchor_us: int, path: str) -> Problems:
    """Type, ``allowed``, ``min``/``max``, ``max_length`` and ``pattern`` problems of one value."""
    try:
        v = coerce_value(column.dtype, value, anchor_us)
    except ValueError as exc:
        return [(str(exc), path, None)]
    out: Problems = []
    allowed = getattr(column, "allowed", None)
    if allowed is not None and v not in tuple(allowed):
        out.append((f"{value!r} is not in the column's allowed values", path,
                    "add it to allowed or remove it here"))
    cmin, cmax = getattr(column, "min", None), getattr(column, "max", None)
    if column.dtype.kind in ("int", "float", "decimal", "date", "timestamp"):
        if cmin is not None and v < cmin:
            shown = getattr(column, "raw_min", None) or cmin
            out.append((f"{value!r} is below the column's min ({shown})", path, None))
        if cmax is not None and v > cmax:
            shown = getattr(column, "raw_max", None) or cmax
            out.append((f"{value!r} is above the column's max ({shown})", path, None))
    if isinstance(v, str):
        max_len = getattr(column, "max_length", None)
        if max_len is not None and len(v) > max_len:
            out.append((f"{value!r} is longer than max_length {max_len}", path, None))
        pattern = getattr(column, "pattern", None)
        if pattern and _fullmatch_linear(pattern, v) is False:
            out.append((f"{value!r} does not match the column's pattern", path, None))
    return out


def _fullmatch_linear(pattern: str, text: str) -> bool | None:
    """``pattern`` fully matches ``text``, decided by Arrow's RE2 engine (linear time, as
    ``validate`` checks it): Python's backtracking ``re`` would let a schema such as
    ``pattern: '(a+)+'`` with a value ``'aaa…ab'`` hang the loader. ``None`` when RE2 cannot
    compile the pattern (``validate`` reports that on its own)."""
    import pyarrow.compute as pc

    from shared.distributions.regex import to_re2

    try:
        return bool(pc.match_substring_regex(pa.array([text], pa.string()), f"^(?:{to_re2(pattern)})$")[0].as_py())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def as_engine_array(dtype, values: tuple) -> Any:
    """Coerced values as one engine array: pyarrow strings for text kinds, numpy otherwise."""
    kind = dtype.kind
    if kind in TEXT_KINDS:
        return pa.array(list(values), type=pa.string())
    if kind == "bool":
        return np.array(values, dtype=bool)
    if kind in ("int", "date", "timestamp"):
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=np.float64)


def take(arr, idx: np.ndarray):
    if isinstance(arr, pa.Array):
        return arr.take(pa.array(np.asarray(idx, dtype=np.int64)))
    return arr[idx]


@lru_cache(maxsize=256)
def _prepared(dtype, values: tuple, weights: tuple | None, anchor_us: int):
    conv = tuple(coerce_value(dtype, v, anchor_us) for v in values)
    w = np.ones(len(conv)) if weights is None else np.asarray(weights, dtype=np.float64)
    cw = np.cumsum(w)
    last = int(np.flatnonzero(w > 0)[-1]) if (w > 0).any() else len(conv) - 1
    # the unique domain: distinct values of positive weight, in written order
    seen: dict = {}
    for v, wt in zip(conv, w, strict=True):
        if wt > 0 and v not in seen:
            seen[v] = None
    domain = tuple(seen)
    return as_engine_array(dtype, conv), cw, last, as_engine_array(dtype, domain), len(domain)


@register("choice")
class Choice(Generator):
    """One of a written list of values, optionally weighted.

    Params: ``values`` — a non-empty list in the column's type (strings for string columns,
    numbers for numeric ones, true/false for bool, ISO text for date and timestamp columns —
    relative times like ``-7d`` resolve against the schema's anchor); ``weights`` — optional,
    one non-negative number per value, sum > 0 (default: equal). One uniform per cell,
    ``searchsorted`` on the cumulative weights (so in a ``correlations:`` block a value's position in
the list is its rank). Every value must lie in the column's ``allowed``
    list and ``min``/``max`` (checked at load time), so the constraints hold by construction.
    ``unique: true`` is made by construction: a keyed permutation of the row index into the
    distinct values of positive weight (capacity = their count; weights are then ignored).
    """

    categorical = True

    kinds = ALL_KINDS
    unique_strategy = "index"
    listed_values = True
    has_quantile = True
    params_schema = obj(
        ("values",),
        values={"type": "array", "minItems": 1, "items": SCALAR},
        weights={"type": "array", "minItems": 1, "items": NONNEG},
    )

    def check(self, column, table, schema) -> Problems:
        return self.check_params(column.generator.params, column, schema_anchor_us(schema))

    def check_params(self, params: Mapping[str, Any], column, anchor_us: int | None = None) -> Problems:
        anchor = parse_timestamp(DEFAULT_ANCHOR) if anchor_us is None else anchor_us
        values, weights = params.get("values"), params.get("weights")
        out: Problems = []
        if not isinstance(values, (list, tuple)) or not values:
            return [("values must be a non-empty list", "params.values", None)]
        for i, v in enumerate(values):
            out.extend(value_problems(column, v, anchor, f"params.values[{i}]"))
        if weights is not None:
            if not isinstance(weights, (list, tuple)):
                return out
            if len(weights) != len(values):
                out.append((f"{len(values)} values but {len(weights)} weights", "params.weights",
                            "give one weight per value"))
            bad = [w for w in weights if isinstance(w, bool) or not isinstance(w, (int, float))
                   or not math.isfinite(w) or w < 0]
            if bad:
                out.append(("weights must be finite non-negative numbers", "params.weights", None))
            elif sum(weights) <= 0:
                out.append(("weights must not all be zero", "params.weights", None))
        return out

    def capacity(self, column, params, plan) -> int | None:
        try:
            return self._prep(column.dtype, params, _plan_anchor(plan))[4]
        except (ValueError, IndexError):
            return None

    @staticmethod
    def _prep(dtype, params, anchor_us):
        weights = params.get("weights")
        return _prepared(dtype, tuple(params["values"]), None if weights is None else tuple(weights), int(anchor_us))

    def generate(self, ctx):
        return self.quantile(ctx.uniform(), ctx)

    def quantile(self, u, ctx):
        """The value whose cumulative weight bucket holds ``u`` (values in written order): in a
        copula, a category's rank in the list is what correlates with the other columns."""
        arr, cw, last, _, _ = self._prep(ctx.column.dtype, ctx.params, ctx.anchor_us)
        idx = np.searchsorted(cw, u * cw[-1], side="right")
        return take(arr, np.minimum(idx, last))

    def from_index(self, idx, ctx):
        _, _, _, domain, _ = self._prep(ctx.column.dtype, ctx.params, ctx.anchor_us)
        return take(domain, np.asarray(idx, dtype=np.int64))


def _plan_anchor(plan) -> int:
    for obj_ in (plan, getattr(plan, "schema", None)):
        us = getattr(obj_, "anchor_us", None)
        if us:
            return int(us)
    return parse_timestamp(DEFAULT_ANCHOR)
