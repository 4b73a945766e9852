"""``datagen fit`` learns each table's Gaussian copula: recovered, valid, generated back."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import yaml

pytest.importorskip("scipy")

from scipy import stats  # noqa: E402

from datagen.fit import fit  # noqa: E402
from datagen.fit.correlation import attenuation, fit_copula, normal_scores  # noqa: E402
from shared.api import load_schema, resolve_plan  # noqa: E402
from shared.schema_dsl import copula  # noqa: E402
from shared.schema_dsl.engine import Engine  # noqa: E402

#: latent correlation of (amount, wait, tier, flag, score)
LATENT = np.array([
    [1.0, 0.8, 0.5, 0.4, -0.3],
    [0.8, 1.0, 0.3, 0.3, -0.2],
    [0.5, 0.3, 1.0, 0.2, 0.0],
    [0.4, 0.3, 0.2, 1.0, 0.1],
    [-0.3, -0.2, 0.0, 0.1, 1.0],
])
NAMES = ["amount", "wait", "tier", "flag", "score"]


def _source(n: int = 30_000, seed: int = 3) -> pa.Table:
    """Columns of several kinds over correlated latent normals, plus columns the copula must skip."""
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal(np.zeros(5), LATENT, size=n)
    u = stats.norm.cdf(z)
    amount = stats.lognorm(0.6, 0, 40).ppf(u[:, 0])
    wait = stats.gamma(2.0, 0, 5).ppf(u[:, 1])
    tier = np.array(["basic", "plus", "pro", "max"])[np.digitize(z[:, 2], [-0.6, 0.3, 1.2])]
    flag = z[:, 3] > 0.4
    score = np.floor(stats.norm(50, 10).ppf(u[:, 4]))
    wait_with_nulls = pa.array(wait, mask=rng.random(n) < 0.1)
    return pa.table({
        "id": np.arange(1, n + 1),
        "amount": amount, "wait": wait_with_nulls, "tier": tier, "flag": flag, "score": score.astype(np.int64),
        "email": [f"user{i}@example.com" for i in range(n)],  # PII: excluded
        "note": [f"free text number {i} of {rng.integers(1000)}" for i in range(n)],  # free text: excluded
    })


@pytest.fixture(scope="module")
def fitted():
    return fit({"orders": _source()})


def _block(result) -> dict:
    (table,) = result.schema["tables"]
    (block,) = table["correlations"]
    return block


def test_the_copula_recovers_the_latent_correlation(fitted):
    block = _block(fitted)
    assert block["kind"] == "gaussian_copula"
    assert sorted(block["columns"]) == sorted(NAMES)  # not the key, the PII nor the free text
    idx = [NAMES.index(c) for c in block["columns"]]
    want = LATENT[np.ix_(idx, idx)]
    got = np.array(block["matrix"])
    assert np.abs(got - want).max() < 0.05, (got, want)
    assert copula.matrix_problems(block["matrix"], len(idx)) == []


def test_categories_are_ordered_so_their_rank_correlates(fitted):
    (table,) = fitted.schema["tables"]
    tier = next(c for c in table["columns"] if c["name"] == "tier")
    assert tier["generator"]["params"]["values"] == ["basic", "plus", "pro", "max"]


def test_the_yaml_says_what_was_learned_and_loads(fitted, tmp_path):
    text = fitted.to_yaml()
    assert "# learned: a Gaussian copula over 5 columns" in text
    assert "correlations:" in text and "matrix:" in text
    path = tmp_path / "fitted.yaml"
    path.write_text(text)
    assert yaml.safe_load(text)["tables"][0]["correlations"][0]["columns"] == _block(fitted)["columns"]
    report = fitted.report["tables"]["orders"]["correlations"]
    assert report["rows"] == 30_000 and report["strongest"][0]["columns"] == ["amount", "wait"]


def test_the_fitted_schema_generates_the_correlations_back(fitted, tmp_path):
    path = tmp_path / "fitted.yaml"
    path.write_text(fitted.to_yaml())
    plan = resolve_plan(load_schema(str(path)), rows={"orders": 30_000})
    batch = Engine(plan).batch("orders", 0, 30_000)
    src = _source()
    for a, b in (("amount", "wait"), ("amount", "score"), ("amount", "tier"), ("amount", "flag")):
        want = _spearman(src, a, b)
        got = _spearman(batch, a, b)
        assert abs(got - want) < 0.04, (a, b, got, want)


def _spearman(table, a: str, b: str) -> float:
    order = {"basic": 0, "plus": 1, "pro": 2, "max": 3}

    def col(name):
        values = table.column(name).to_pylist()
        return np.array([np.nan if v is None else order.get(v, v) if isinstance(v, str) else float(v)
                         for v in values], dtype=float)

    x, y = col(a), col(b)
    ok = ~np.isnan(x) & ~np.isnan(y)
    return float(stats.spearmanr(x[ok], y[ok]).statistic)


def test_correlations_can_be_left_out():
    result = fit({"orders": _source(2000)}, correlations=False)
    assert "correlations" not in result.schema["tables"][0]


def test_estimator_pieces():
    rng = np.random.default_rng(5)
    assert attenuation(rng.normal(size=1000)) == 1.0
    coin = (rng.random(100_000) < 0.5).astype(float)
    assert abs(attenuation(coin) - np.sqrt(2 / np.pi)) < 0.01  # the point-biserial factor of a median split
    x = np.array([3.0, np.nan, 1.0, 2.0])
    s = normal_scores(x)
    assert np.isnan(s[1]) and s[2] < s[3] < s[0]
    assert fit_copula({"a": np.ones(10), "b": rng.normal(size=10)}, {"a", "b"}) is None  # a constant: no pair
    # an impossible estimate (pairwise from different rows) comes out valid
    r = fit_copula({"a": np.r_[np.arange(50.0), [np.nan] * 50], "b": np.arange(100.0),
                    "c": np.r_[[np.nan] * 50, -np.arange(50.0)]}, {"a", "b", "c"})
    assert r is not None and copula.matrix_problems(r.matrix, 3) == []
