"""The built-in anomaly kinds, each vectorised over the rows of a block it was given.

Every kind keeps values inside the column's type and declared ``min``/``max`` (a spike past the
declared maximum is cut to it: declare a wider range to let spikes show), so an anomalous row
breaks no constraint of the schema — what makes it anomalous is its shape.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.anomalies import Anomaly, register
from shared.model import timeutil

_US_HOUR = 3_600_000_000
_US_DAY = 24 * _US_HOUR


def _written(table, name: str):
    return table.column(name) if table.has_column(name) and not table.column(name).hidden else None


def _is_key(table, column) -> bool:
    return column.unique or column.name in table.primary_key or any(column.name in g for g in table.unique)


def _orders_in_time(column) -> bool:
    from shared.distributions.base import GENERATORS

    return GENERATORS[column.generator.type].orders_in_time(column.generator.params)


def _column_problem(table, name, path, kinds, what) -> list:
    if not isinstance(name, str):
        return []
    c = _written(table, name)
    if c is None:
        from shared.registry import did_you_mean

        hint = did_you_mean(name, [x.name for x in table.columns if not x.hidden])
        return [(path, f"anomalies: {what} names no written column {name!r} of table {table.name!r}", hint)]
    if c.dtype.kind not in kinds:
        return [(path, f"anomalies: {what} {name!r} is {c.dtype.name}, not {' or '.join(kinds)}", None)]
    if _is_key(table, c) or c.references is not None and what != "burst key":
        return [(path, f"anomalies: {what} {name!r} is a key: its values are not rewritten", None)]
    return []


def _clip(column, values: np.ndarray) -> np.ndarray:
    lo = column.min if column.min is not None else -np.inf
    hi = column.max if column.max is not None else np.inf
    rng = column.dtype.exact_range()
    if rng is not None:
        lo, hi = max(lo, float(rng[0])), min(hi, float(rng[1]))
    return np.clip(values, lo, hi)


def _numbers(arr: pa.Array) -> np.ndarray:
    t = arr.type
    if pa.types.is_decimal(t):
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def _scatter(arr: pa.Array, idx: np.ndarray, new: pa.Array) -> pa.Array:
    from shared.corruption import _scatter as scatter

    return scatter(arr, idx, new)


@register("spike")
class Spike(Anomaly):
    """An amount many times its usual size: the value times a factor drawn in ``factor``
    ([low, high], default [5, 20]), cut to the column's declared maximum."""

    params_schema = {
        "type": "object", "required": ["column"], "additionalProperties": False,
        "properties": {
            "column": {"type": "string"},
            "factor": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number", "exclusiveMinimum": 0}},
        },
    }

    def columns(self, params, table):
        return (params["column"],)

    def check(self, params, table, path):
        out = _column_problem(table, params["column"], path + ("column",), ("int", "float", "decimal"), "spike column")
        lo, hi = params.get("factor", (5, 20))
        if lo > hi:
            out.append((path + ("factor",), f"anomalies: spike factor [{lo}, {hi}]: the low end is above the high",
                        None))
        return out

    def apply(self, engine, table, rows, idx, u, params, arrays):
        name = params["column"]
        column = table.column(name)
        lo, hi = params.get("factor", (5, 20))
        arr = arrays[name]
        vals = _numbers(arr.take(pa.array(idx)))
        new = _clip(column, vals * (lo + (hi - lo) * u))
        if column.dtype.kind == "int":
            new = np.rint(new).astype(np.int64)
        from shared.constraints.coerce import to_arrow

        typed = to_arrow(column, new, None) if column.dtype.kind == "decimal" else pa.array(new).cast(arr.type)
        arrays[name] = _scatter(arr, idx, typed)


@register("off_hours")
class OffHours(Anomaly):
    """A time moved into the small hours: the same day, at a time of day drawn in ``hours``
    ([from, to) in UTC hours, default [1, 5]), kept inside the column's bounds."""

    params_schema = {
        "type": "object", "required": ["column"], "additionalProperties": False,
        "properties": {
            "column": {"type": "string"},
            "hours": {"type": "array", "minItems": 2, "maxItems": 2,
                      "items": {"type": "number", "minimum": 0, "maximum": 24}},
        },
    }

    def columns(self, params, table):
        return (params["column"],)

    def check(self, params, table, path):
        out = _column_problem(table, params["column"], path + ("column",), ("timestamp",), "off_hours column")
        c = _written(table, params["column"]) if isinstance(params["column"], str) else None
        if c is not None and not out and _orders_in_time(c):
            out.append((path + ("column",), f"anomalies: off_hours would break the order {c.generator.type} "
                        f"promises for {c.name!r}", "move another timestamp column of the row"))
        lo, hi = params.get("hours", (1, 5))
        if lo >= hi:
            out.append((path + ("hours",), f"anomalies: off_hours hours [{lo}, {hi}): the start is not before the end",
                        None))
        return out

    def apply(self, engine, table, rows, idx, u, params, arrays):
        name = params["column"]
        column = table.column(name)
        lo, hi = params.get("hours", (1, 5))
        arr = arrays[name]
        us = np.asarray(pc.cast(arr.take(pa.array(idx)), pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
        day = us - us % _US_DAY
        new = day + (np.floor((lo + (hi - lo) * u) * _US_HOUR)).astype(np.int64)
        new = np.clip(new, column.min if column.min is not None else timeutil.TIMESTAMP_MIN_US,
                      column.max if column.max is not None else timeutil.TIMESTAMP_MAX_US).astype(np.int64)
        arrays[name] = _scatter(arr, idx, pa.array(new, type=arr.type))


@register("duplicate")
class Duplicate(Anomaly):
    """A transaction booked twice: the row repeats row r − k (k drawn in 1..``within``, default
    16) in every column but its keys (primary key, unique columns and groups), which stay its own."""

    params_schema = {
        "type": "object", "additionalProperties": False,
        "properties": {"within": {"type": "integer", "minimum": 1, "maximum": 1024}},
    }

    first_row_excluded = True  # row 0 has no earlier row to repeat

    def columns(self, params, table):
        return tuple(c.name for c in table.columns
                     if not c.hidden and c.part_of is None and not _is_key(table, c) and c.name != table.anomalies.label)

    def apply(self, engine, table, rows, idx, u, params, arrays):
        within = params.get("within", 16)
        src = np.maximum(rows[idx] - 1 - np.floor(u * within).astype(np.int64), 0)
        copies = engine.rows_batch(table.name, src)
        for name in self.columns(params, table):
            if name in arrays:
                arrays[name] = _scatter(arrays[name], idx, copies.column(copies.schema.get_field_index(name)))


@register("burst")
class Burst(Anomaly):
    """A burst from one key: ``size`` consecutive rows (default 8) all take the key of the
    burst's first row, and times ``within`` of its time (a duration, default 10m), in order."""

    clustered = True
    params_schema = {
        "type": "object", "required": ["key", "time"], "additionalProperties": False,
        "properties": {
            "key": {"type": "string"},
            "time": {"type": "string"},
            "size": {"type": "integer", "minimum": 2, "maximum": 10000},
            "within": {"type": "string", "minLength": 1},
        },
    }

    def cluster(self, params) -> int:
        return int(params.get("size", 8))

    def columns(self, params, table):
        return (params["key"], params["time"])

    def check(self, params, table, path):
        out = []
        key = _written(table, params["key"]) if isinstance(params["key"], str) else None
        if key is None:
            out += _column_problem(table, params["key"], path + ("key",), ("int", "string", "uuid"), "burst key")
        elif _is_key(table, key):
            out.append((path + ("key",), f"anomalies: burst key {key.name!r} is unique: a burst repeats it",
                        "burst by a foreign key or a category (an account, a card, a device)"))
        out += _column_problem(table, params["time"], path + ("time",), ("timestamp",), "burst time")
        t = _written(table, params["time"]) if isinstance(params["time"], str) else None
        if t is not None and not out and _orders_in_time(t):
            out.append((path + ("time",), f"anomalies: a burst would break the order {t.generator.type} promises "
                        f"for {t.name!r}", "burst on another timestamp column of the row"))
        try:
            if timeutil.parse_duration(params.get("within", "10m")) <= 0:
                raise ValueError("not positive")
        except ValueError as exc:
            out.append((path + ("within",), f"anomalies: burst within {params.get('within')!r}: {exc}",
                        "a duration such as 90s, 10m or 2h"))
        return out

    def apply(self, engine, table, rows, idx, u, params, arrays):
        size = self.cluster(params)
        window = timeutil.parse_duration(params.get("within", "10m"))
        first = rows[idx] - rows[idx] % size
        head = engine.rows_batch(table.name, first)
        key, tname = params["key"], params["time"]
        arrays[key] = _scatter(arrays[key], idx, head.column(head.schema.get_field_index(key)))
        tcol = table.column(tname)
        t0 = np.asarray(pc.cast(head.column(head.schema.get_field_index(tname)), pa.int64())
                        .to_numpy(zero_copy_only=False), dtype=np.int64)
        new = t0 + ((rows[idx] - first) * window) // size
        new = np.clip(new, tcol.min if tcol.min is not None else timeutil.TIMESTAMP_MIN_US,
                      tcol.max if tcol.max is not None else timeutil.TIMESTAMP_MAX_US).astype(np.int64)
        arrays[tname] = _scatter(arrays[tname], idx, pa.array(new, type=arrays[tname].type))
