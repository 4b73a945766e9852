"""Gaussian copulas (``correlations:``): addressable, the target correlations, the marginals kept.

Statistical assertions use a fixed seed and 200,000 rows, with tolerances several times the
sampling error (Spearman's standard error is about 1/√n ≈ 0.002 here; the KS statistic of a
correct marginal is about 0.003 at the 99.9 % level), so they cannot flake."""

from __future__ import annotations

import hashlib
import math
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from generators.parquet_generator.format import ParquetFormat
from shared.api import generate, load_schema, resolve_plan
from shared.distributions.base import GENERATORS
from shared.distributions.numeric import beta_quantile, gamma_quantile
from shared.schema_dsl import copula
from shared.schema_dsl.engine import Engine, _Block

N = 200_000
#: the latent correlation of block 0 (a, b, c, d, e, f) — positive definite, see test_target_is_valid
R = [
    [1.0, 0.7, 0.6, -0.4, 0.5, 0.3],
    [0.7, 1.0, 0.5, -0.3, 0.4, 0.2],
    [0.6, 0.5, 1.0, -0.2, 0.3, 0.1],
    [-0.4, -0.3, -0.2, 1.0, -0.2, 0.0],
    [0.5, 0.4, 0.3, -0.2, 1.0, 0.4],
    [0.3, 0.2, 0.1, 0.0, 0.4, 1.0],
]
BLOCK0 = ["a", "b", "c", "d", "e", "f"]


def _schema_text(rows: int = N, correlations: bool = True) -> str:
    text = textwrap.dedent(f"""\
        version: 1
        name: cop
        seed: 11
        tables:
          - name: t
            rows: {rows}
            primary_key: id
            columns:
              - {{name: id, type: int64, generator: sequence}}
              - {{name: a, type: float64, generator: {{type: normal, params: {{mean: 10, std: 2}}}}}}
              - {{name: b, type: float64, generator: {{type: gamma, params: {{shape: 2.5, scale: 3}}}}}}
              - name: c
                type: string
                generator: {{type: choice, params: {{values: [low, mid, high], weights: [5, 3, 2]}}}}
              - {{name: d, type: int64, nullable: true, null_rate: 0.1, generator: {{type: poisson, params: {{lam: 4}}}}}}
              - {{name: e, type: float64, min: 0, max: 100, generator: {{type: beta, params: {{a: 2, b: 5}}}}}}
              - name: f
                type: float64
                generator: {{type: histogram, params: {{bins: [0, 1, 5, 20], weights: [50, 30, 20]}}}}
              - {{name: h, type: float64, generator: {{type: exponential, params: {{scale: 3}}}}}}
              - {{name: i, type: float64, generator: {{type: lognormal, params: {{mean: 1, sigma: 0.5}}}}}}
              - {{name: j, type: int32, generator: {{type: uniform_int, params: {{min: 1, max: 6}}}}}}
              - {{name: k, type: bool, generator: {{type: bernoulli, params: {{p: 0.3}}}}}}
              - name: g
                type: timestamp
                generator: {{type: uniform_timestamp, params: {{start: "2024-01-01", end: "2024-12-31"}}}}
              - {{name: x, type: float64, nullable: true, null_rate: 0.2, generator: {{type: normal}}}}
        """)
    if correlations:
        text += textwrap.indent(textwrap.dedent(f"""\
            correlations:
              - kind: gaussian_copula
                columns: [{", ".join(BLOCK0)}]
                matrix: {R}
              - columns: [h, i, j, k, g]
                matrix:
                  - [1, -0.6, 0.5, 0.4, 0.3]
                  - [-0.6, 1, -0.3, -0.2, -0.2]
                  - [0.5, -0.3, 1, 0.2, 0.1]
                  - [0.4, -0.2, 0.2, 1, 0.0]
                  - [0.3, -0.2, 0.1, 0.0, 1]
            """), "    ")
    return text


def _plan(tmp_path, rows: int = N, correlations: bool = True, block_rows: int = 65536):
    p = tmp_path / f"cop_{rows}_{int(correlations)}.yaml"
    p.write_text(_schema_text(rows, correlations))
    return resolve_plan(load_schema(str(p)), block_rows=block_rows)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    plan = _plan(tmp_path_factory.mktemp("cop"))
    batch = Engine(plan).batch("t", 0, N)
    return {name: batch.column(name) for name in batch.schema.names}


def _num(arr) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def test_target_is_valid():
    assert copula.matrix_problems(R, 6) == []
    assert np.linalg.eigvalsh(np.array(R)).min() > 0.1


# --- addressable ----------------------------------------------------------------------------------


def test_any_row_split_gives_the_same_values(tmp_path):
    plan = _plan(tmp_path, rows=3000)
    whole = Engine(plan).batch("t", 0, 3000)
    engine = Engine(plan)
    cuts = [0, 1, 17, 1000, 1001, 2999, 3000]
    parts = [engine.batch("t", a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    for name in whole.schema.names:
        got = [v for part in parts for v in part.column(name).to_pylist()]
        assert got == whole.column(name).to_pylist(), name


def _digest(out) -> str:
    h = hashlib.sha256()
    for f in sorted(out.rglob("*.parquet")):
        h.update(f.read_bytes())
    return h.hexdigest()


def test_block_size_and_workers_give_the_same_bytes(tmp_path):
    small = _plan(tmp_path, rows=5000, block_rows=700)
    large = _plan(tmp_path, rows=5000, block_rows=65536)
    a = _digest(_gen(small, tmp_path / "a", 1))
    assert a == _digest(_gen(small, tmp_path / "b", 2)) == _digest(_gen(large, tmp_path / "c", 1))


def _gen(plan, out, workers):
    generate(plan, ParquetFormat(), out, workers=workers)
    return out


def test_columns_outside_the_blocks_and_null_masks_are_unchanged(tmp_path):
    """The copula replaces only the value draws of its columns: the other columns, and every
    null mask (its own ``null`` stream), are byte-identical to the schema without it."""
    with_ = Engine(_plan(tmp_path, rows=4000)).batch("t", 0, 4000)
    without = Engine(_plan(tmp_path, rows=4000, correlations=False)).batch("t", 0, 4000)
    for name in ("id", "x"):
        assert with_.column(name).equals(without.column(name))
    assert with_.column("d").is_null().equals(without.column("d").is_null())
    assert not with_.column("a").equals(without.column("a"))


# --- the target correlation -----------------------------------------------------------------------


def _spearman_of_normals(rho: float) -> float:
    return 6.0 / math.pi * math.asin(rho / 2.0)


@pytest.mark.parametrize(("x", "y"), [("a", "b"), ("a", "e"), ("b", "e"), ("e", "f"), ("a", "f")])
def test_continuous_pairs_have_the_target_rank_correlation(data, x, y):
    rho = R[BLOCK0.index(x)][BLOCK0.index(y)]
    got = stats.spearmanr(_num(data[x]), _num(data[y])).statistic
    assert abs(got - _spearman_of_normals(rho)) < 0.015, (x, y, got)


def test_pearson_of_the_normal_scores_is_the_latent_matrix(data):
    """Φ⁻¹ of the ranks of two continuous columns recovers the latent correlation itself."""
    scores = {c: stats.norm.ppf(stats.rankdata(_num(data[c])) / (N + 1)) for c in ("a", "b", "e")}
    for x, y in (("a", "b"), ("a", "e"), ("b", "e")):
        got = np.corrcoef(scores[x], scores[y])[0, 1]
        assert abs(got - R[BLOCK0.index(x)][BLOCK0.index(y)]) < 0.01, (x, y, got)


def test_categorical_column_takes_part_by_its_rank(data):
    """``choice`` maps u to a bucket of the cumulative weights in written order, so a value's
    position (low < mid < high) correlates with the other columns as the matrix says."""
    rank = {"low": 0, "mid": 1, "high": 2}
    c = np.array([rank[v] for v in data["c"].to_pylist()])
    a = _num(data["a"])
    got = stats.spearmanr(a, c).statistic
    assert 0.4 < got < _spearman_of_normals(0.6) + 0.01, got
    # the mean of a rises with the category's rank
    means = [a[c == k].mean() for k in range(3)]
    assert means[0] < means[1] < means[2]
    # a negative correlation too: d (poisson) against c
    d = _num(data["d"])
    ok = ~np.isnan(d)
    assert stats.spearmanr(d[ok], c[ok]).statistic < -0.1


def test_second_block_has_its_own_correlations(data):
    h, i, j = _num(data["h"]), _num(data["i"]), _num(data["j"])
    assert abs(stats.spearmanr(h, i).statistic - _spearman_of_normals(-0.6)) < 0.015
    assert stats.spearmanr(h, j).statistic > 0.4
    k = np.asarray(data["k"].to_pylist(), dtype=float)
    assert stats.pearsonr(k, h).statistic > 0.2
    # nothing leaks between blocks
    assert abs(stats.spearmanr(_num(data["a"]), h).statistic) < 0.01


# --- the marginals are kept -----------------------------------------------------------------------


def _ks(x, cdf) -> float:
    return float(stats.kstest(x, cdf).statistic)


def test_continuous_marginals_are_kept(data):
    assert _ks(_num(data["a"]), stats.norm(10, 2).cdf) < 0.005
    assert _ks(_num(data["b"]), stats.gamma(2.5, 0, 3).cdf) < 0.005
    assert _ks(_num(data["e"]), stats.beta(2, 5, 0, 100).cdf) < 0.005
    assert _ks(_num(data["h"]), stats.expon(0, 3).cdf) < 0.005
    assert _ks(_num(data["i"]), stats.lognorm(0.5, 0, math.e).cdf) < 0.005
    f_cdf = lambda v: np.interp(v, [0, 1, 5, 20], [0, 0.5, 0.8, 1.0])  # noqa: E731
    assert _ks(_num(data["f"]), f_cdf) < 0.005
    g = _num(data["g"])  # µs since the epoch, uniform over 2024
    lo, hi = 1704067200e6, 1735603200e6
    assert _ks(g, stats.uniform(lo, hi - lo).cdf) < 0.005


def test_discrete_marginals_are_kept(data):
    c = np.array(data["c"].to_pylist())
    for value, share in (("low", 0.5), ("mid", 0.3), ("high", 0.2)):
        assert abs((c == value).mean() - share) < 0.005
    d = _num(data["d"])
    assert abs(np.isnan(d).mean() - 0.1) < 0.005  # nulls: their own stream, at their rate
    d = d[~np.isnan(d)]
    for k in range(10):
        assert abs((d == k).mean() - stats.poisson(4).pmf(k)) < 0.005, k
    j = _num(data["j"])
    assert set(np.unique(j)) == {1, 2, 3, 4, 5, 6}
    assert np.abs(np.bincount(j.astype(int))[1:] / N - 1 / 6).max() < 0.005
    assert abs(np.mean(data["k"].to_pylist()) - 0.3) < 0.005


# --- inverse CDFs ----------------------------------------------------------------------------------


def test_quantile_of_the_value_stream_is_generate(tmp_path):
    """Generators whose value is one uniform through the inverse CDF: ``quantile`` at the
    column's ``value`` uniforms is exactly ``generate`` (schemas without a copula keep their bytes)."""
    plan = _plan(tmp_path, rows=2000, correlations=False)
    engine = Engine(plan)
    block = _Block(engine, plan.tables["t"], np.arange(2000, dtype=np.int64))
    t = plan.schema.table("t")
    checked = 0
    for c in t.columns:
        gen = GENERATORS[c.generator.type]
        # gamma and beta draw several uniforms; bernoulli's quantile is true for high u (increasing)
        if not gen.has_quantile or c.generator.type in ("gamma", "beta", "bernoulli"):
            continue
        ctx = block.ctx(c)
        np.testing.assert_array_equal(np.asarray(gen.quantile(ctx.uniform(), ctx)), np.asarray(gen.generate(ctx)))
        checked += 1
    assert checked >= 9


def test_quantiles_are_monotone_in_u(tmp_path):
    plan = _plan(tmp_path, rows=1000, correlations=False)
    engine = Engine(plan)
    block = _Block(engine, plan.tables["t"], np.arange(1000, dtype=np.int64))
    u = np.linspace(0.0, 1.0 - 2**-53, 1000)
    rank = {"low": 0, "mid": 1, "high": 2}
    for c in plan.schema.table("t").columns:
        gen = GENERATORS[c.generator.type]
        if gen.has_quantile:
            v = gen.quantile(u, block.ctx(c))
            v = np.array([rank[s] for s in v.to_pylist()]) if c.name == "c" else np.asarray(v, dtype=float)
            assert (np.diff(v) >= 0).all(), c.name


@pytest.mark.parametrize("shape", [0.05, 0.3, 1.0, 2.5, 7.5, 50.0, 5000.0])
def test_gamma_quantile_inverts_the_cdf(shape):
    u = np.linspace(1e-6, 1 - 1e-6, 20001)
    x = gamma_quantile(u, shape)
    assert (np.diff(x) >= 0).all()
    assert np.abs(stats.gamma(shape).cdf(x) - u).max() < 2e-4


@pytest.mark.parametrize(("a", "b"), [(0.5, 0.5), (2.0, 5.0), (0.1, 3.0), (200.0, 300.0), (1.0, 1.0)])
def test_beta_quantile_inverts_the_cdf(a, b):
    u = np.linspace(1e-6, 1 - 1e-6, 20001)
    x = beta_quantile(u, a, b)
    assert (np.diff(x) >= 0).all() and x.min() >= 0 and x.max() <= 1
    assert np.abs(stats.beta(a, b).cdf(x) - u).max() < 2e-4


# --- the matrix checks (property tests) ----------------------------------------------------------


def _correlation_from(factor: np.ndarray) -> np.ndarray:
    s = factor @ factor.T
    d = np.sqrt(np.diag(s))
    r = s / np.outer(d, d)
    np.fill_diagonal(r, 1.0)
    return r


factors = st.integers(2, 7).flatmap(lambda k: st.integers(1, k).flatmap(
    lambda m: st.lists(st.floats(-3, 3, allow_nan=False), min_size=k * m, max_size=k * m).map(
        lambda v: np.array(v).reshape(k, m))))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(factors)
def test_every_correlation_matrix_is_accepted_and_factored(factor):
    if (np.abs(factor).sum(axis=1) < 1e-3).any():
        return  # a zero row has no direction
    r = _correlation_from(factor)
    assert copula.matrix_problems(r.tolist(), len(r)) == []
    L = np.array(copula.cholesky(r.tolist()))
    assert np.allclose(L @ L.T, r, atol=1e-6)  # even when singular (rank m < k)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 6).flatmap(lambda k: st.lists(st.floats(-1, 1, allow_nan=False),
                                                      min_size=k * (k - 1) // 2, max_size=k * (k - 1) // 2)
                                   .map(lambda v: (k, v))))
def test_symmetric_matrices_are_refused_exactly_when_not_psd(kv):
    k, values = kv
    r = np.eye(k)
    r[np.triu_indices(k, 1)] = values
    r = np.triu(r) + np.triu(r, 1).T
    problems = copula.matrix_problems(r.tolist(), k)
    indefinite = np.linalg.eigvalsh(r).min() < -copula.PSD_TOLERANCE
    assert bool(problems) == indefinite
    if problems:
        assert "positive semi-definite" in problems[0][1]
        near = copula.nearest_correlation(r)
        assert copula.matrix_problems(near.tolist(), k) == []


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 5), st.data())
def test_asymmetric_or_misshapen_matrices_are_refused(k, data):
    r = np.eye(k)
    i, j = data.draw(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)).filter(lambda ij: ij[0] != ij[1]))
    r[i, j] = data.draw(st.floats(-1, 1).filter(lambda v: abs(v) > 1e-3))
    problems = copula.matrix_problems(r.tolist(), k)
    assert problems and "not symmetric" in problems[0][1]
    assert copula.matrix_problems(r.tolist()[:-1], k)[0][1].startswith(f"the matrix has {k - 1} rows")
    assert "the diagonal" in copula.matrix_problems((np.eye(k) * 0.5).tolist(), k)[0][1]
