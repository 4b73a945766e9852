"""Date and time generators: ranges, relative times, time series order, seasonal arrivals."""

from __future__ import annotations

import numpy as np
import pytest

from shared.distributions.base import GENERATORS, load_builtins
from shared.model.schema import Table
from shared.model.timeutil import US_PER, US_PER_DAY, parse_date, parse_timestamp
from shared.schema_dsl.context import ColumnContext
from tests.gen_helpers import make_column, run

H = US_PER["h"]
ANCHOR = parse_timestamp("2025-01-01T00:00:00Z")


def gen(name, params, *, type="timestamp", rows=1000, seed=7, n_total=None, anchor_us=ANCHOR, unique=False,
        **col):
    ctx = ctx_for(name, params, type=type, rows=rows, seed=seed, n_total=n_total, anchor_us=anchor_us,
                  unique=unique, **col)
    return GENERATORS[name].generate(ctx)


def ctx_for(name, params, *, type="timestamp", rows=1000, seed=7, n_total=None, anchor_us=ANCHOR,
            unique=False, **col):
    load_builtins()
    column = make_column(type=type, generator=name, params=params, unique=unique, **col)
    table = Table(name="t", rows=n_total or 1, columns=(column,), path="tables[0]")
    idx = np.arange(rows, dtype=np.int64) if isinstance(rows, int) else np.asarray(rows, np.int64)
    return ColumnContext(seed=seed, table=table, column=column, params=column.generator.params, rows=idx,
                         n_total=n_total or int(idx.max(initial=0)) + 1, anchor_us=anchor_us, unique=unique)


def problems(name, params, type="timestamp", **col):
    load_builtins()
    column = make_column(type=type, generator=name, params=params, **col)
    return GENERATORS[name].check(column, None, None)


def paths(ps):
    return [p[1] for p in ps]


# --- uniform_date / uniform_timestamp ------------------------------------------------------------


def test_uniform_date_inclusive_uniform():
    lo, hi = parse_date("2024-01-01"), parse_date("2024-01-10")
    x = gen("uniform_date", {"start": "2024-01-01", "end": "2024-01-10"}, type="date", rows=200_000)
    assert x.dtype == np.int64 and x.min() == lo and x.max() == hi
    assert np.allclose(np.bincount(x - lo) / 200_000, 0.1, atol=0.005)


def test_uniform_date_column_bounds_timestamp_kind_and_relative():
    x = gen("uniform_date", {"start": "2020-01-01", "end": "2030-01-01"}, type="date", rows=50_000,
            min=parse_date("2024-01-01"), max=parse_date("2024-12-31"))
    assert x.min() >= parse_date("2024-01-01") and x.max() <= parse_date("2024-12-31")
    ts = gen("uniform_date", {"start": "2024-01-01", "end": "2024-01-31"}, type="timestamp", rows=1000)
    assert (ts % US_PER_DAY == 0).all()
    rel = gen("uniform_date", {"start": "-30d", "end": "-1d"}, type="date", rows=10_000)
    assert rel.min() == ANCHOR // US_PER_DAY - 30 and rel.max() == ANCHOR // US_PER_DAY - 1


def test_uniform_date_unique_by_index():
    load_builtins()
    g = GENERATORS["uniform_date"]
    params = {"start": "2024-01-01", "end": "2024-12-31"}
    column = make_column(type="date", generator="uniform_date", params=params, unique=True)
    cap = g.capacity(column, params, None)
    assert cap == 366
    ctx = ctx_for("uniform_date", params, type="date", rows=366, unique=True)
    days = g.from_index(ctx.permute(cap), ctx)
    assert np.unique(days).size == 366 and days.min() == parse_date("2024-01-01")


def test_uniform_timestamp_range_relative_and_date_kind():
    params = {"start": "2024-01-01T00:00:00", "end": "2024-12-31T23:59:59"}
    lo, hi = parse_timestamp(params["start"]), parse_timestamp(params["end"])
    x = gen("uniform_timestamp", params, rows=200_000)
    assert x.min() >= lo and x.max() <= hi
    assert abs((x.mean() - lo) / (hi - lo) - 0.5) < 0.003
    rel = gen("uniform_timestamp", {"start": "-30d", "end": "+0s"}, rows=10_000)
    assert rel.min() >= ANCHOR - 30 * US_PER_DAY and rel.max() <= ANCHOR
    d = gen("uniform_timestamp", params, type="date", rows=10_000)
    assert d.min() >= parse_date("2024-01-01") and d.max() <= parse_date("2024-12-31")
    col = gen("uniform_timestamp", params, rows=10_000, min=lo + H, max=lo + 2 * H)
    assert col.min() >= lo + H and col.max() <= lo + 2 * H


def test_uniform_timestamp_capacity_and_unique():
    load_builtins()
    g = GENERATORS["uniform_timestamp"]
    params = {"start": "2024-01-01T00:00:00", "end": "2024-01-01T00:00:01"}
    column = make_column(type="timestamp", generator="uniform_timestamp", params=params)
    assert g.capacity(column, params, None) == 1_000_001
    ctx = ctx_for("uniform_timestamp", params, rows=50_000, unique=True)
    v = g.from_index(ctx.permute(1_000_001), ctx)
    assert np.unique(v).size == 50_000 and v.min() >= parse_timestamp(params["start"])


# --- time_series ---------------------------------------------------------------------------------


def test_time_series_strictly_increasing_with_jitter():
    params = {"start": "2024-06-01T00:00:00", "step": "5s", "jitter": "2499ms"}
    start = parse_timestamp(params["start"])
    x = gen("time_series", params, rows=200_000)
    assert np.all(np.diff(x) > 0)
    grid = start + 5 * US_PER["s"] * np.arange(200_000)
    dev = x - grid
    assert np.abs(dev).max() <= 2_499_000 and abs(dev.mean()) < 20_000 and dev.std() > 1_000_000
    plain = gen("time_series", {"start": "2024-06-01T00:00:00", "step": "1m"}, rows=100)
    assert np.array_equal(plain, start + US_PER["m"] * np.arange(100))


def test_time_series_relative_start_and_prefix_stable():
    x = gen("time_series", {"start": "-7d", "step": "1h", "jitter": "1m"}, rows=168)
    assert abs(x[0] - (ANCHOR - 7 * US_PER_DAY)) <= US_PER["m"]
    longer = gen("time_series", {"start": "-7d", "step": "1h", "jitter": "1m"}, rows=500, n_total=500)
    assert np.array_equal(longer[:168], x)


def test_time_series_check():
    assert "params.jitter" in paths(problems("time_series", {"start": "2024-01-01", "step": "5s", "jitter": "3s"}))
    assert "params.jitter" in paths(problems("time_series", {"start": "2024-01-01", "step": "4s",
                                                             "jitter": "2s"}))
    assert "params.step" in paths(problems("time_series", {"start": "2024-01-01", "step": "0s"}))
    assert "params.step" in paths(problems("time_series", {"start": "2024-01-01", "step": "soon"}))
    assert "params.start" in paths(problems("time_series", {"start": "yesterday", "step": "1s"}))
    assert problems("time_series", {"start": "2024-01-01", "step": "5s", "jitter": "2s"}) == []


# --- arrivals ------------------------------------------------------------------------------------

DAILY = [0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 8, 8, 8, 8, 8, 8, 8, 4, 2, 1, 1, 1, 0, 0]
WEEKLY = [10, 10, 10, 10, 10, 3, 1]


def test_arrivals_monotone_bounded_and_follow_daily_weights():
    params = {"start": "2024-06-03T00:00:00", "end": "2024-06-10T00:00:00", "daily": DAILY}  # Mon..Mon
    lo, hi = parse_timestamp(params["start"]), parse_timestamp(params["end"])
    n = 200_000
    t = gen("arrivals", params, rows=n, n_total=n)
    assert t.shape == (n,) and np.all(np.diff(t) >= 0)
    assert t.min() >= lo and t.max() <= hi
    hours = (t // H) % 24
    freq = np.bincount(hours, minlength=24) / n
    w = np.array(DAILY, float) / sum(DAILY)
    assert np.all(freq[w == 0] == 0)
    assert np.allclose(freq, w, atol=0.004)


def test_arrivals_weekly_profile_and_partial_hours():
    params = {"start": "2024-06-03T00:30:00", "end": "2024-06-17T00:00:00", "weekly": WEEKLY}  # two weeks
    n = 140_000
    t = gen("arrivals", params, rows=n, n_total=n)
    assert t.min() >= parse_timestamp(params["start"])
    weekday = (t // US_PER_DAY + 3) % 7
    freq = np.bincount(weekday, minlength=7) / n
    w = np.array(WEEKLY, float)
    w[0] *= (24 - 0.5) / 24  # the window starts half an hour into Monday
    assert np.allclose(freq, w / w.sum(), atol=0.004)


def test_arrivals_addressable_given_total():
    params = {"start": "-2d", "end": "+0s", "daily": DAILY, "weekly": WEEKLY}
    full = gen("arrivals", params, rows=10_000, n_total=10_000)
    parts = np.concatenate([gen("arrivals", params, rows=3000, n_total=10_000),
                            gen("arrivals", params, rows=np.arange(3000, 10_000), n_total=10_000)])
    np.testing.assert_array_equal(full, parts)
    perm = np.random.default_rng(5).permutation(10_000)
    shuffled = gen("arrivals", params, rows=perm, n_total=10_000)
    out = np.empty_like(shuffled)
    out[perm] = shuffled
    np.testing.assert_array_equal(full, out)
    assert GENERATORS["arrivals"].depends_on_row_count


def test_arrivals_check():
    base = {"start": "2024-06-01T00:00:00", "end": "2024-06-02T00:00:00"}
    assert problems("arrivals", base) == []
    assert "params.end" in paths(problems("arrivals", {**base, "end": "2024-05-01T00:00:00"}))
    assert "params.daily" in paths(problems("arrivals", {**base, "daily": [1] * 23}))
    assert "params.weekly" in paths(problems("arrivals", {**base, "weekly": [0] * 7}))
    # 2024-06-01 is a Saturday: a weekday-only profile leaves the window empty
    assert problems("arrivals", {**base, "weekly": [1, 1, 1, 1, 1, 0, 0]})


# --- addressability and seeds for the others -----------------------------------------------------

CASES = [
    ("uniform_date", {"start": "2000-01-01", "end": "2030-12-31"}, "date"),
    ("uniform_timestamp", {"start": "2000-01-01T00:00:00", "end": "2030-12-31T00:00:00"}, "timestamp"),
    ("time_series", {"start": "2024-01-01T00:00:00", "step": "1s", "jitter": "400ms"}, "timestamp"),
]


@pytest.mark.parametrize("name,params,type", CASES, ids=[c[0] for c in CASES])
def test_addressable_and_seeded(name, params, type):
    full = run(name, params, type=type, rows=10_000)
    parts = np.concatenate([run(name, params, type=type, rows=3000), run(name, params, type=type, rows=7000,
                                                                          start=3000)])
    np.testing.assert_array_equal(full, parts)
    perm = np.random.default_rng(3).permutation(10_000)
    shuffled = run(name, params, type=type, rows=perm)
    out = np.empty_like(shuffled)
    out[perm] = shuffled
    np.testing.assert_array_equal(full, out)
    assert not np.array_equal(full, run(name, params, type=type, rows=10_000, seed=99))


def test_range_checks():
    assert "params.end" in paths(problems("uniform_date", {"start": "2024-02-01", "end": "2024-01-01"}, type="date"))
    assert "params.start" in paths(problems("uniform_date", {"start": "2024-13-01", "end": "2024-12-01"},
                                            type="date"))
    assert problems("uniform_date", {}, type="date")  # no bounds anywhere
    assert problems("uniform_date", {}, type="date", min=0, max=10) == []
    assert "params.end" in paths(problems("uniform_timestamp", {"start": "2024-02-01", "end": "2024-01-01"}))
