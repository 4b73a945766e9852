"""Dates and times: uniform dates/timestamps, regular time series and seasonal arrivals.

Engine units: dates are int64 days since 1970-01-01, timestamps int64 microseconds since the
epoch (UTC). Params are written as ISO text (``"2024-06-01"``, ``"2024-06-01T08:30:00Z"``) or, for
timestamps, relative to the schema's fixed anchor (``"-30d"``, ``"+1h"``) — never the wall clock.
Durations are ``5s``, ``1m``, ``2h``, ``1d``, ``250ms``, ``1h30m`` (see ``schema_dsl.timeutil``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from shared.distributions.base import TIME_TEXT, Generator, obj, register
from shared.distributions.categorical import date_value, schema_anchor_us
from shared.distributions.numeric import int_quantile, own_bounds
from shared.errors import GenerationError
from shared.model.timeutil import US_PER, US_PER_DAY, parse_duration, parse_timestamp

Problems = list[tuple[str, str, str | None]]

US_PER_HOUR = US_PER["h"]
DURATION = {"type": ["string", "number"]}
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def _kind(column) -> str:
    return column.dtype.kind


def _col_days(kind: str, cmin, cmax) -> tuple[int | None, int | None]:
    """Column bounds as whole days (the days fully inside a timestamp column's bounds)."""
    if kind == "timestamp":
        lo = None if cmin is None else -((-int(cmin)) // US_PER_DAY)
        hi = None if cmax is None else int(cmax) // US_PER_DAY
        return lo, hi
    return (None if cmin is None else math.ceil(cmin)), (None if cmax is None else math.floor(cmax))


def _col_us(kind: str, cmin, cmax) -> tuple[int | None, int | None]:
    """Column bounds as microseconds (a date column's max day runs to its last microsecond)."""
    if kind == "date":
        lo = None if cmin is None else math.ceil(cmin) * US_PER_DAY
        hi = None if cmax is None else (math.floor(cmax) + 1) * US_PER_DAY - 1
        return lo, hi
    return (None if cmin is None else int(math.ceil(cmin))), (None if cmax is None else int(math.floor(cmax)))


def _intersect(lo, hi, clo, chi):
    lo = clo if lo is None else (lo if clo is None else max(lo, clo))
    hi = chi if hi is None else (hi if chi is None else min(hi, chi))
    return lo, hi


def _parse(params: Mapping, name: str, parse, out: Problems | None):
    v = params.get(name)
    if v is None:
        return None
    try:
        return parse(v)
    except ValueError as exc:
        if out is None:
            raise GenerationError(f"params.{name}: {exc}") from None
        out.append((str(exc), f"params.{name}", None))
        return None


def _range_check(lo, hi, out: Problems, unit: str, what: str) -> None:
    if lo is None or hi is None:
        out.append((f"{what} needs start and end (in params or as the column's min/max)", "params",
                    "add params start and end"))
    elif lo > hi:
        out.append((f"the range is empty: start is after end (after intersecting with the column's "
                    f"min/max, in {unit})", "params.end", None))


# --- uniform dates and timestamps ----------------------------------------------------------------


@register("uniform_date")
class UniformDate(Generator):
    """Dates uniform between start and end, both inclusive.

    Params: ``start``, ``end`` — ``YYYY-MM-DD`` (a timestamp or a relative time like ``-30d`` is
    floored to its day); a missing one falls back to the column's ``min``/``max``. Values stay
    inside the intersection with the column's ``min``/``max`` by construction. On a timestamp
    column the value is the day's midnight (UTC). ``unique: true`` by construction: a keyed
    permutation of the row index into the days of the range (capacity = number of days).
    """

    kinds = frozenset({"date", "timestamp"})
    unique_strategy = "index"
    has_quantile = True
    params_schema = obj(start=TIME_TEXT, end=TIME_TEXT)

    def _range(self, params, column, cmin, cmax, anchor_us, out=None):
        start = _parse(params, "start", lambda v: date_value(v, anchor_us), out)
        end = _parse(params, "end", lambda v: date_value(v, anchor_us), out)
        return _intersect(start, end, *_col_days(_kind(column), cmin, cmax))

    def check(self, column, table, schema) -> Problems:
        out: Problems = []
        params = column.generator.params
        lo, hi = self._range(params, column, column.min, column.max, schema_anchor_us(schema), out)
        if not out:
            _range_check(lo, hi, out, "days", self.name)
        return out

    def capacity(self, column, params, plan) -> int | None:
        try:
            lo, hi = self._range(params, column, column.min, column.max, _plan_anchor(plan))
        except GenerationError:
            return None
        return None if lo is None or hi is None else max(0, hi - lo + 1)

    def _ctx_range(self, ctx) -> tuple[int, int]:
        lo, hi = self._range(ctx.params, ctx.column, *own_bounds(ctx, self.name), ctx.anchor_us)
        if lo is None or hi is None or lo > hi:
            raise GenerationError(f"uniform_date: empty or unbounded range [{lo}, {hi}]")
        return lo, hi

    def _out(self, ctx, days):
        return days * np.int64(US_PER_DAY) if _kind(ctx.column) == "timestamp" else days

    def generate(self, ctx):
        lo, hi = self._ctx_range(ctx)
        return self._out(ctx, ctx.integers(lo, hi))

    def quantile(self, u, ctx):
        return self._out(ctx, int_quantile(u, *self._ctx_range(ctx)))

    def from_index(self, idx, ctx):
        lo, _ = self._ctx_range(ctx)
        return self._out(ctx, np.asarray(idx, dtype=np.int64) + np.int64(lo))


@register("uniform_timestamp")
class UniformTimestamp(Generator):
    """Timestamps uniform between start and end, both inclusive, at microsecond resolution.

    Params: ``start``, ``end`` — ISO timestamps (a date means its midnight UTC) or relative times
    like ``-30d`` against the schema's anchor; a missing one falls back to the column's
    ``min``/``max``. Values stay inside the intersection with the column's bounds by construction.
    On a date column the timestamp is floored to its day. ``unique: true`` by construction: a
    keyed permutation of the row index into the range (capacity = end − start + 1 µs, or days on
    a date column).

    Seasonality: ``daily`` — 24 non-negative hour-of-day weights, 00:00 UTC first; ``weekly`` —
    7 day-of-week weights, Monday first (either or both; default flat). The density is then
    proportional to daily[hour] · weekly[weekday] (as ``arrivals``), each value drawn on its own
    by the inverse of that cumulative (t = Λ⁻¹(u · Λ(end))); not unique then.
    """

    kinds = frozenset({"timestamp", "date"})
    unique_strategy = "index"
    has_quantile = True
    params_schema = obj(start=TIME_TEXT, end=TIME_TEXT,
                        daily={"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1e12},
                               "minItems": 24, "maxItems": 24},
                        weekly={"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1e12},
                                "minItems": 7, "maxItems": 7})

    def supports_unique(self, params) -> bool:
        return "daily" not in params and "weekly" not in params

    def _range(self, params, column, cmin, cmax, anchor_us, out=None):
        start = _parse(params, "start", lambda v: parse_timestamp(v, anchor_us), out)
        end = _parse(params, "end", lambda v: parse_timestamp(v, anchor_us), out)
        return _intersect(start, end, *_col_us(_kind(column), cmin, cmax))

    def check(self, column, table, schema) -> Problems:
        out: Problems = []
        params = column.generator.params
        lo, hi = self._range(params, column, column.min, column.max, schema_anchor_us(schema), out)
        if not out:
            _range_check(lo, hi, out, "µs", self.name)
        if "daily" in params or "weekly" in params:
            _weights_check(params, out)
            if not out and _arrival_table(lo, hi + 1, *_weights(params))[4] < 0:
                out.append(("every hour between start and end has zero weight", "params.daily",
                            "give some hour of the window a positive daily and weekly weight"))
        return out

    def capacity(self, column, params, plan) -> int | None:
        try:
            lo, hi = self._range(params, column, column.min, column.max, _plan_anchor(plan))
        except GenerationError:
            return None
        if lo is None or hi is None:
            return None
        if _kind(column) == "date":
            return max(0, hi // US_PER_DAY - lo // US_PER_DAY + 1)
        return max(0, hi - lo + 1)

    def _ctx_range(self, ctx) -> tuple[int, int]:
        lo, hi = self._range(ctx.params, ctx.column, *own_bounds(ctx, self.name), ctx.anchor_us)
        if lo is None or hi is None or lo > hi:
            raise GenerationError(f"uniform_timestamp: empty or unbounded range [{lo}, {hi}]")
        return lo, hi

    def generate(self, ctx):
        lo, hi = self._ctx_range(ctx)
        if "daily" in ctx.params or "weekly" in ctx.params:
            us = _seasonal(lo, hi + 1, *_weights(ctx.params), ctx.uniform())
            us = np.minimum(us, hi)
        else:
            us = ctx.integers(lo, hi)
        return us // np.int64(US_PER_DAY) if _kind(ctx.column) == "date" else us

    def quantile(self, u, ctx):
        lo, hi = self._ctx_range(ctx)
        if "daily" in ctx.params or "weekly" in ctx.params:
            us = np.minimum(_seasonal(lo, hi + 1, *_weights(ctx.params), u), hi)
        else:
            us = int_quantile(u, lo, hi)
        return us // np.int64(US_PER_DAY) if _kind(ctx.column) == "date" else us

    def from_index(self, idx, ctx):
        lo, _ = self._ctx_range(ctx)
        idx = np.asarray(idx, dtype=np.int64)
        if _kind(ctx.column) == "date":
            return idx + np.int64(lo // US_PER_DAY)
        return idx + np.int64(lo)


def _plan_anchor(plan) -> int:
    for holder in (plan, getattr(plan, "schema", None)):
        us = getattr(holder, "anchor_us", None)
        if us:
            return int(us)
    return schema_anchor_us(None)


# --- time series ---------------------------------------------------------------------------------


@register("time_series")
class TimeSeries(Generator):
    """A regular series: start + step · row, plus an optional jitter.

    Params: ``start`` — an ISO timestamp (a date on a date column) or a time relative to the
    schema's anchor (``-7d``); ``step`` — a positive duration (``5s``, ``1m``, ``1d``; whole days
    on a date column); ``jitter`` — a duration, default ``0s`` (whole days on a date column): each
    value moves by round(jitter · (2u − 1)); ``ordered`` — default true: jitter must be below
    step/2, so consecutive values stay at least step − 2·jitter apart and the series is strictly
    increasing (``unique`` is native, and an event table using it is already ordered by time).
    With ``ordered: false`` the jitter may be as large as wanted (readings that arrive around
    their schedule), and the column promises neither order nor uniqueness. Prefix stable. The
    column's ``min``/``max`` are checked against ``start`` at load time; a series whose last value
    (plus jitter) passes ``max`` or 9999-12-31T23:59:59.999999Z, the last instant every format
    writes, is refused by the planner for its row count (``span``).
    """

    kinds = frozenset({"timestamp", "date"})
    unique_strategy = "native"
    ordered_in_time = True
    params_schema = obj(("start", "step"), start=TIME_TEXT, step=DURATION, jitter=DURATION,
                        ordered={"type": "boolean"})

    def _parse_all(self, params, anchor_us, out=None):
        start = _parse(params, "start", lambda v: parse_timestamp(v, anchor_us), out)
        step = _parse(params, "step", parse_duration, out)
        jitter = _parse({"jitter": params.get("jitter", "0s")}, "jitter", parse_duration, out)
        return start, step, jitter

    def orders_in_time(self, params) -> bool:
        return bool(params.get("ordered", True))

    def supports_unique(self, params) -> bool:
        return self.orders_in_time(params)

    def check(self, column, table, schema) -> Problems:
        out: Problems = []
        params = column.generator.params
        start, step, jitter = self._parse_all(params, schema_anchor_us(schema), out)
        if step is not None and step <= 0:
            out.append((f"step must be a positive duration, got {params.get('step')!r}",
                        "params.step", "e.g. 5s, 1m, 1d"))
        elif step is not None and jitter is not None and jitter < 0:
            out.append((f"jitter must not be negative, got {params.get('jitter')!r}", "params.jitter", None))
        elif step is not None and jitter is not None and 2 * jitter >= step and self.orders_in_time(params):
            out.append((f"jitter ({params.get('jitter')}) must be less than half the step "
                        f"({params.get('step')}) so the series stays strictly increasing",
                        "params.jitter", "lower jitter below step/2, or say ordered: false"))
        if _kind(column) == "date":
            for name, v in (("step", step), ("jitter", jitter)):
                if v is not None and v % US_PER_DAY:
                    out.append((f"{name} must be whole days on a date column, got {params.get(name)!r}",
                                f"params.{name}", "e.g. 1d, 7d"))
        if start is not None:
            lo, hi = _col_us(_kind(column), column.min, column.max)
            if lo is not None and start < lo:
                out.append(("start is before the column's min", "params.start", None))
            if hi is not None and start > hi:
                out.append(("start is after the column's max", "params.start", None))
        return out

    def span(self, column, n, schema):
        start, step, jitter = self._parse_all(column.generator.params, schema_anchor_us(schema))
        if start is None or step is None or jitter is None:
            return None
        first, last = start - jitter, start + step * (n - 1) + jitter
        if _kind(column) == "date":
            return first // US_PER_DAY, last // US_PER_DAY
        return first, last

    def generate(self, ctx):
        start, step, jitter = self._parse_all(ctx.params, ctx.anchor_us)
        rows = np.asarray(ctx.rows, dtype=np.int64)
        if _kind(ctx.column) == "date":  # in whole days: the start's day, steps of days
            start, step, jitter = start // US_PER_DAY, step // US_PER_DAY, jitter // US_PER_DAY
        with np.errstate(over="ignore"):
            values = np.int64(start) + np.int64(step) * rows
        if jitter:
            values += np.rint(jitter * (2.0 * ctx.uniform() - 1.0)).astype(np.int64)
        return values


# --- seasonal arrivals ---------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _arrival_table(start: int, end: int, daily: tuple, weekly: tuple):
    """Per-segment start, length (µs), weight and cumulative weight of the intensity Λ.

    Segments are the hours of the window (cut at ``start`` and ``end``); a segment's intensity is
    daily[hour of day] × weekly[day of week] (UTC), its weight the intensity times its length.
    """
    first = start - start % US_PER_HOUR + US_PER_HOUR
    inner = np.arange(first, end, US_PER_HOUR, dtype=np.int64)
    b = np.concatenate([np.array([start], np.int64), inner, np.array([end], np.int64)])
    seg = b[:-1]
    length = np.diff(b)
    hour = (seg // US_PER_HOUR) % 24
    weekday = (seg // US_PER_DAY + _EPOCH_WEEKDAY) % 7
    w = np.asarray(daily, np.float64)[hour] * np.asarray(weekly, np.float64)[weekday] * length
    cum = np.cumsum(w)
    positive = np.flatnonzero(w > 0)
    last = int(positive[-1]) if positive.size else -1
    return seg, length, w, cum, last


def _weights(params: Mapping[str, Any]) -> tuple[tuple, tuple]:
    return (tuple(float(x) for x in params.get("daily", (1.0,) * 24)),
            tuple(float(x) for x in params.get("weekly", (1.0,) * 7)))


def _weights_check(params: Mapping[str, Any], out: Problems) -> None:
    for name, ws, k in (("daily", _weights(params)[0], 24), ("weekly", _weights(params)[1], 7)):
        if len(ws) != k:
            out.append((f"{name} needs {k} weights, got {len(ws)}", f"params.{name}", None))
        elif any(not math.isfinite(x) or x < 0 for x in ws):
            out.append((f"{name} weights must be finite and non-negative", f"params.{name}", None))
        elif sum(ws) <= 0:
            out.append((f"{name} weights must not all be zero", f"params.{name}", None))


def _seasonal(start: int, end: int, daily: tuple, weekly: tuple, fraction: np.ndarray) -> np.ndarray:
    """Λ⁻¹(fraction · Λ(end)) over [start, end): the instants at those fractions of the seasonal
    cumulative intensity (searchsorted on the hourly table, then linear inside the hour)."""
    seg, length, w, cum, last = _arrival_table(start, end, daily, weekly)
    if last < 0:
        raise GenerationError("every hour of the window has zero weight")
    target = np.asarray(fraction, dtype=np.float64) * cum[-1]
    # first segment whose cumulative weight exceeds the target: always a positive one
    j = np.minimum(np.searchsorted(cum, target, side="right"), last)
    before = np.where(j > 0, cum[np.maximum(j - 1, 0)], 0.0)
    frac = np.clip((target - before) / w[j], 0.0, 1.0)
    return seg[j] + np.floor(frac * length[j]).astype(np.int64)


@register("arrivals")
class Arrivals(Generator):
    """Event times of a seasonal Poisson process between start and end (daily and weekly rhythm).

    Params: ``start``, ``end`` — timestamps (ISO or relative to the anchor), start < end;
    ``daily`` — 24 non-negative hour-of-day weights, 00:00 first (default flat); ``weekly`` —
    7 non-negative day-of-week weights, Monday first (default flat). Hours are UTC.

    The intensity is piecewise constant per hour, λ(t) = daily[hour] · weekly[weekday]; with
    Λ its cumulative and T = end, row r of n gets t(r) = Λ⁻¹((r + u)/n · Λ(T)) for a per-row uniform
    u (searchsorted on the hourly cumulative table, then linear inside the hour). So exactly n
    events fall in [start, end], sorted by row (non-decreasing; the table is already ordered by
    time), none in zero-weight hours, and any row is computed on its own. Because the spacing
    depends on n, raising the table's row count changes every value (documented exception to
    prefix stability: ``depends_on_row_count``). Not unique (ties at µs resolution are possible).
    """

    kinds = frozenset({"timestamp"})
    depends_on_row_count = True
    ordered_in_time = True
    params_schema = obj(
        ("start", "end"),
        start=TIME_TEXT,
        end=TIME_TEXT,
        daily={"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1e12},
               "minItems": 24, "maxItems": 24},
        weekly={"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1e12},
                "minItems": 7, "maxItems": 7},
    )

    def _table(self, params: Mapping[str, Any], anchor_us: int, out=None):
        start = _parse(params, "start", lambda v: parse_timestamp(v, anchor_us), out)
        end = _parse(params, "end", lambda v: parse_timestamp(v, anchor_us), out)
        return (start, end, *_weights(params))

    def check(self, column, table, schema) -> Problems:
        out: Problems = []
        params = column.generator.params
        start, end, daily, weekly = self._table(params, schema_anchor_us(schema), out)
        _weights_check(params, out)
        if start is None or end is None:
            return out
        if end <= start:
            out.append(("end must be after start", "params.end", None))
            return out
        if column.min is not None and start < column.min:
            out.append(("start is before the column's min", "params.start", None))
        if column.max is not None and end > column.max:
            out.append(("end is after the column's max", "params.end", None))
        if not out and _arrival_table(start, end, daily, weekly)[4] < 0:
            out.append(("every hour between start and end has zero weight", "params.daily",
                        "give some hour of the window a positive daily and weekly weight"))
        return out

    def generate(self, ctx):
        start, end, daily, weekly = self._table(ctx.params, ctx.anchor_us)
        if start is None or end is None or end <= start:
            raise GenerationError("arrivals: needs start < end")
        if _arrival_table(start, end, daily, weekly)[4] < 0:
            raise GenerationError("arrivals: every hour of the window has zero weight")
        n_total = max(int(ctx.n_total), 1)
        rows = np.asarray(ctx.rows, dtype=np.float64)
        return _seasonal(start, end, daily, weekly, (rows + ctx.uniform()) / n_total)
