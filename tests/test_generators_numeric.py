"""Numeric distributions: moments on ~200k draws, bounds, addressability, unique, check()."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared.distributions import numeric
from shared.distributions.base import GENERATORS, load_builtins
from shared.model.schema import Table
from shared.schema_dsl.context import ColumnContext
from tests.gen_helpers import make_column, run

N = 200_000


def ctx_for(generator, params=None, *, type="float64", rows=1000, seed=7, unique=False, n_total=None, **col):
    load_builtins()
    column = make_column(type=type, generator=generator, params=params, unique=unique, **col)
    table = Table(name="t", rows=n_total or 1, columns=(column,), path="tables[0]")
    idx = np.arange(rows, dtype=np.int64) if isinstance(rows, int) else np.asarray(rows, np.int64)
    return ColumnContext(seed=seed, table=table, column=column, params=column.generator.params, rows=idx,
                         n_total=n_total or int(idx.max(initial=0)) + 1, unique=unique)


def problems(generator, params, type="float64", **col):
    load_builtins()
    column = make_column(type=type, generator=generator, params=params, **col)
    return GENERATORS[generator].check(column, None, None)


def rel(a, b):
    return abs(a - b) / abs(b)


# --- moments and shapes ---------------------------------------------------------------------------


def test_uniform_int_inclusive_and_uniform():
    x = run("uniform_int", {"min": 3, "max": 12}, type="int32", rows=N)
    assert x.dtype == np.int64
    assert x.min() == 3 and x.max() == 12
    counts = np.bincount(x - 3, minlength=10)
    assert np.all(np.abs(counts / N - 0.1) < 0.005)


def test_uniform_int_falls_back_to_and_intersects_column_bounds():
    x = run("uniform_int", {}, type="int16", rows=20_000, min=-5, max=5)
    assert x.min() == -5 and x.max() == 5
    y = run("uniform_int", {"min": 0, "max": 100}, type="int32", rows=20_000, min=10, max=20)
    assert y.min() == 10 and y.max() == 20
    z = run("uniform_int", {}, type="int8", rows=20_000)
    assert z.min() == -128 and z.max() == 127


def test_uniform_float_moments_and_bounds():
    x = run("uniform_float", {"min": -2.0, "max": 6.0}, rows=N)
    assert x.min() >= -2.0 and x.max() < 6.0
    assert abs(x.mean() - 2.0) < 0.03
    assert rel(x.var(), 64 / 12) < 0.02
    y = run("uniform_float", {"min": 0.0, "max": 100.0}, rows=N, min=25.0, max=50.0)
    assert y.min() >= 25.0 and y.max() <= 50.0 and abs(y.mean() - 37.5) < 0.1


def test_normal_mean_std():
    x = run("normal", {"mean": 41.0, "std": 13.0}, rows=N)
    assert np.isfinite(x).all()
    assert rel(x.mean(), 41.0) < 0.01
    assert rel(x.std(), 13.0) < 0.01
    # quantiles of the standard normal
    z = (x - 41.0) / 13.0
    assert abs(np.mean(z < 1.959964) - 0.975) < 0.002


def test_normal_is_truncated_not_clipped():
    x = run("normal", {"mean": 0.0, "std": 1.0}, rows=N, min=0.0, max=10.0)
    assert x.min() >= 0.0 and x.max() <= 10.0
    assert np.mean(x == 0.0) < 1e-4  # no pile-up at the bound
    assert abs(x.mean() - math.sqrt(2 / math.pi)) < 0.01  # half-normal mean
    far = run("normal", {"mean": 0.0, "std": 1.0}, rows=20_000, min=5.0, max=6.0)  # deep right tail
    assert far.min() >= 5.0 and far.max() <= 6.0 and np.isfinite(far).all()
    assert far.mean() < 5.3  # mass concentrates near the lower bound


def test_lognormal_median_and_truncation():
    x = run("lognormal", {"mean": 3.2, "sigma": 0.6}, rows=N)
    assert (x > 0).all()
    assert rel(np.median(x), math.exp(3.2)) < 0.01
    assert rel(np.log(x).std(), 0.6) < 0.01
    y = run("lognormal", {"mean": 8.0, "sigma": 1.6}, rows=N, min=0.0, max=10_000.0)
    assert y.min() >= 0 and y.max() <= 10_000.0 and np.isfinite(y).all()
    big = run("lognormal", {"mean": 700.0, "sigma": 50.0}, rows=1000)
    assert np.isfinite(big).all()


def test_exponential_mean_and_truncation():
    x = run("exponential", {"scale": 12.0}, rows=N)
    assert x.min() >= 0 and rel(x.mean(), 12.0) < 0.01
    y = run("exponential", {"scale": 12.0}, rows=N, min=5.0, max=480.0)
    assert y.min() >= 5.0 and y.max() <= 480.0
    assert rel(y.mean(), 17.0) < 0.01  # memoryless: min + scale
    z = run("exponential", {"scale": 10.0}, rows=N, max=10.0)
    expected = 10.0 * (1 - 2 * math.exp(-1)) / (1 - math.exp(-1))
    assert z.max() <= 10.0 and rel(z.mean(), expected) < 0.01


@pytest.mark.parametrize("shape,scale", [(0.3, 2.0), (1.0, 1.0), (2.0, 0.75), (3.5, 2.0), (8.0, 1.0), (9.0, 9000.0)])
def test_gamma_mean_var(shape, scale):
    x = run("gamma", {"shape": shape, "scale": scale}, rows=N)
    assert np.isfinite(x).all() and (x >= 0).all()
    assert rel(x.mean(), shape * scale) < 0.015
    assert rel(x.var(), shape * scale * scale) < 0.04


def test_gamma_fallback_when_budget_exhausted(monkeypatch):
    monkeypatch.setattr(numeric, "GAMMA_BUDGET", 0)
    x = run("gamma", {"shape": 4.5, "scale": 1.0}, rows=50_000)  # not whole: Marsaglia–Tsang's path
    assert np.isfinite(x).all() and (x > 0).all()
    assert rel(x.mean(), 4.5) < 0.02


@pytest.mark.parametrize("k", [1, 2, 5, 8])
def test_gamma_whole_shape_is_erlang(k):
    """A whole shape ≤ 8 is the exact sum of k exponentials: its CDF is
    1 − e^(−x) Σ_{i<k} x^i / i!, checked at nine quantiles (Kolmogorov–Smirnov style bound)."""
    x = np.sort(run("gamma", {"shape": float(k), "scale": 1.0}, rows=N))
    for q in np.linspace(0.1, 0.9, 9):
        v = x[int(q * len(x))]
        cdf = 1.0 - math.exp(-v) * sum(v**i / math.factorial(i) for i in range(k))
        assert abs(cdf - q) < 0.006, (k, q, cdf)


def test_gamma_tiny_shape_is_finite():
    x = run("gamma", {"shape": 0.01}, rows=20_000)
    assert np.isfinite(x).all() and (x >= 0).all()


@pytest.mark.parametrize("a,b", [(2.0, 8.0), (2.5, 3.0), (0.5, 0.5)])
def test_beta_mean(a, b):
    x = run("beta", {"a": a, "b": b}, rows=N)
    assert x.min() >= 0 and x.max() <= 1
    assert abs(x.mean() - a / (a + b)) < 0.005
    var = a * b / ((a + b) ** 2 * (a + b + 1))
    assert rel(x.var(), var) < 0.04


def test_beta_scaled_into_column_bounds_and_tiny_shapes():
    x = run("beta", {"a": 2.5, "b": 3.0}, rows=N, min=0.0, max=100.0)
    assert x.min() >= 0 and x.max() <= 100
    assert abs(x.mean() - 100 * 2.5 / 5.5) < 0.5
    y = run("beta", {"a": 0.02, "b": 0.02}, rows=20_000)
    assert np.isfinite(y).all() and y.min() >= 0 and y.max() <= 1


@pytest.mark.parametrize("lam", [0.8, 2.0, 50.0, 2500.0])
def test_poisson_mean_var(lam):
    x = run("poisson", {"lam": lam}, type="int32", rows=N)
    assert x.dtype == np.int64 and x.min() >= 0
    assert rel(x.mean(), lam) < 0.015
    assert rel(x.var(), lam) < 0.03


def test_poisson_shift_zero_lam_and_normal_approximation():
    x = run("poisson", {"lam": 2, "shift": 1}, type="int32", rows=N)
    assert x.min() == 1 and rel(x.mean(), 3.0) < 0.01
    p0 = np.mean(x == 1)
    assert abs(p0 - math.exp(-2)) < 0.004
    assert (run("poisson", {"lam": 0}, type="int32", rows=100) == 0).all()
    big = run("poisson", {"lam": 4e6}, type="int64", rows=N)
    assert rel(big.mean(), 4e6) < 1e-3 and rel(big.var(), 4e6) < 0.03


def test_zipf_rank_one_frequency_and_column_max():
    a, n = 1.3, 1000
    x = run("zipf", {"a": a}, type="int32", rows=N)
    h = np.sum(np.arange(1, n + 1, dtype=float) ** -a)
    assert x.min() >= 1 and x.max() <= n
    assert abs(np.mean(x == 1) - 1 / h) < 0.004
    assert abs(np.mean(x == 2) - 2**-a / h) < 0.004
    y = run("zipf", {"a": 1.8}, type="int32", rows=N, min=1, max=50)
    assert y.max() <= 50
    h50 = np.sum(np.arange(1, 51, dtype=float) ** -1.8)
    assert abs(np.mean(y == 1) - 1 / h50) < 0.004


def test_zipf_large_n_tail_mass():
    a, n = 1.1, 2_000_000
    x = run("zipf", {"a": a, "n": n}, type="int64", rows=N)
    k = np.arange(1, n + 1, dtype=float) ** -a
    tail = k[numeric.ZIPF_HEAD:].sum() / k.sum()
    assert x.max() <= n
    assert abs(np.mean(x > numeric.ZIPF_HEAD) - tail) < 0.004
    assert abs(np.mean(x == 1) - 1 / k.sum()) < 0.004


def test_bernoulli_bool_and_int():
    x = run("bernoulli", {"p": 0.3}, type="bool", rows=N)
    assert x.dtype == np.bool_ and abs(x.mean() - 0.3) < 0.004
    y = run("bernoulli", {"p": 0.6}, type="int8", rows=N)
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1} and abs(y.mean() - 0.6) < 0.004
    assert not run("bernoulli", {"p": 0.0}, type="bool", rows=1000).any()
    assert run("bernoulli", {"p": 1.0}, type="bool", rows=1000).all()


def test_histogram_bin_frequencies():
    bins, weights = [0, 10, 50, 100, 500], [55, 30, 10, 5]
    x = run("histogram", {"bins": bins, "weights": weights}, rows=N)
    assert x.min() >= 0 and x.max() <= 500
    freq = np.histogram(x, bins=bins)[0] / N
    assert np.allclose(freq, np.array(weights) / 100, atol=0.004)
    inside = x[(x >= 10) & (x < 50)]  # uniform inside a bin
    assert abs(inside.mean() - 30) < 0.2


def test_histogram_zero_weight_bins_and_column_cut():
    x = run("histogram", {"bins": [0, 1, 2, 3], "weights": [1, 0, 1]}, rows=N)
    assert not ((x > 1) & (x < 2)).any()
    y = run("histogram", {"bins": [0, 10, 20], "weights": [1, 1]}, rows=N, min=5, max=20)
    assert y.min() >= 5 and y.max() <= 20
    # [5, 10) keeps half its weight: 1/3 of the mass
    assert abs(np.mean(y < 10) - 1 / 3) < 0.004


# --- ranks (fk skew) -----------------------------------------------------------------------------


@pytest.mark.parametrize("name,params", [
    ("zipf", {"a": 1.3}), ("exponential", {"scale": 50.0}), ("normal", {"mean": 500.0, "std": 200.0}),
    ("uniform_float", {}), ("lognormal", {"mean": 4.0, "sigma": 1.0}), ("gamma", {"shape": 2.0, "scale": 100.0}),
])
def test_ranks_in_range(name, params):
    load_builtins()
    u = np.random.default_rng(1).random(N)
    r = GENERATORS[name].ranks(u, 1000, params)
    assert r.dtype == np.int64 and r.min() >= 0 and r.max() <= 999


def test_zipf_and_exponential_ranks_distribution():
    load_builtins()
    u = (np.arange(N) + 0.5) / N
    n, a = 500, 1.2
    r = GENERATORS["zipf"].ranks(u, n, {"a": a})
    h = np.sum(np.arange(1, n + 1, dtype=float) ** -a)
    assert abs(np.mean(r == 0) - 1 / h) < 1e-3 and r.max() == n - 1
    e = GENERATORS["exponential"].ranks(u, 1000, {"scale": 100.0})
    assert abs(np.mean(e < 100) - (1 - math.exp(-1)) / (1 - math.exp(-10))) < 1e-3
    assert r[0] == 0 and np.all(np.diff(r) >= 0)  # monotone in u


def test_norm_ppf_accuracy():
    p = np.array([1e-300, 1e-10, 0.001, 0.025, 0.5, 0.975, 0.999999])
    z = numeric.norm_ppf(p)
    back = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    assert np.all(np.abs(back - p) / p < 2e-7)  # Acklam: ~1e-9 relative in z


# --- addressability and determinism --------------------------------------------------------------

CASES = [
    ("uniform_int", {"min": 0, "max": 10**6}, "int64"),
    ("uniform_float", {"min": 0.0, "max": 1.0}, "float64"),
    ("normal", {"mean": 1.0, "std": 2.0}, "float64"),
    ("lognormal", {"mean": 1.0, "sigma": 0.5}, "float64"),
    ("exponential", {"scale": 3.0}, "float64"),
    ("gamma", {"shape": 0.7, "scale": 2.0}, "float64"),
    ("beta", {"a": 2.0, "b": 3.0}, "float64"),
    ("poisson", {"lam": 4.0}, "int32"),
    ("zipf", {"a": 1.5}, "int32"),
    ("bernoulli", {"p": 0.4}, "bool"),
    ("histogram", {"bins": [0, 1, 5], "weights": [1, 2]}, "float64"),
]


@pytest.mark.parametrize("name,params,type", CASES, ids=[c[0] for c in CASES])
def test_addressable_and_seeded(name, params, type):
    full = run(name, params, type=type, rows=10_000)
    parts = np.concatenate([run(name, params, type=type, rows=3000),
                            run(name, params, type=type, rows=7000, start=3000)])
    np.testing.assert_array_equal(full, parts)
    perm = np.random.default_rng(3).permutation(10_000)
    shuffled = run(name, params, type=type, rows=perm)
    out = np.empty_like(shuffled)
    out[perm] = shuffled
    np.testing.assert_array_equal(full, out)
    other = run(name, params, type=type, rows=10_000, seed=8)
    assert not np.array_equal(full, other)
    assert GENERATORS[name].numeric_distribution


def test_nested_context_ignores_column_bounds():
    ctx = ctx_for("uniform_float", {"min": 0.0, "max": 1.0}, rows=5000, min=0.0, max=0.5)
    nested = ctx.derive(params={"max": 2.0})  # other params, no prefix: still nested
    assert GENERATORS["uniform_float"].generate(nested).max() > 1.0
    assert ctx.sample({"type": "uniform_float", "params": {"min": 0.0, "max": 1.0}}, "skew").max() > 0.5
    assert GENERATORS["uniform_float"].generate(ctx).max() <= 0.5


def test_uniform_int_unique_by_index():
    load_builtins()
    gen = GENERATORS["uniform_int"]
    params = {"min": 100, "max": 20_099}
    column = make_column(type="int32", generator="uniform_int", params=params, unique=True)
    cap = gen.capacity(column, params, None)
    assert cap == 20_000
    ctx = ctx_for("uniform_int", params, type="int32", rows=20_000, unique=True)
    values = gen.from_index(ctx.permute(cap), ctx)
    assert np.unique(values).size == 20_000 and values.min() == 100 and values.max() == 20_099
    assert gen.unique_strategy == "index"


# --- check() -------------------------------------------------------------------------------------


def _paths(ps):
    return [p[1] for p in ps]


def test_check_min_greater_than_max():
    assert "params.max" in _paths(problems("uniform_int", {"min": 5, "max": 1}, type="int32"))
    assert "params.max" in _paths(problems("uniform_float", {"min": 5.0, "max": 1.0}))
    assert problems("uniform_int", {"min": 1, "max": 5}, type="int32") == []
    assert problems("uniform_int", {}, type="float64")  # no bounds anywhere
    assert problems("uniform_float", {"min": 50.0}, max=10.0)  # disjoint from the column


def test_check_histogram():
    assert "params.weights" in _paths(problems("histogram", {"bins": [0, 1, 2], "weights": [1, 2, 3]}))
    assert "params.bins" in _paths(problems("histogram", {"bins": [0, 2, 1], "weights": [1, 2]}))
    assert "params.weights" in _paths(problems("histogram", {"bins": [0, 1], "weights": [0]}))
    assert problems("histogram", {"bins": [0, 1], "weights": [1]}, min=5.0)  # nothing left in range
    assert problems("histogram", {"bins": [0, 1, 2], "weights": [1, 2]}) == []


def test_check_distribution_params():
    assert "params.std" in _paths(problems("normal", {"mean": 0, "std": 0}))
    assert "params.scale" in _paths(problems("exponential", {"scale": -1}))
    assert "params.shape" in _paths(problems("gamma", {"shape": 0}))
    assert "params.p" in _paths(problems("bernoulli", {"p": 1.5}, type="bool"))
    assert "params.lam" in _paths(problems("poisson", {"lam": -1}, type="int32"))
    assert problems("zipf", {"a": 1.2}, type="int32", max=0)
    assert problems("normal", {"mean": 0, "std": 1}) == []
    for msg, path, hint in problems("uniform_int", {"min": 5, "max": 1}, type="int32"):
        assert isinstance(msg, str) and path.startswith("params") and (hint is None or isinstance(hint, str))
