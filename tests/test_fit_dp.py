"""``datagen fit --epsilon`` (issue 16, differential privacy): every released statistic goes
through an OpenDP measurement, the budget is recorded and never exceeded, no raw extreme reaches
the schema, the noisy schema generates and validates.

DP noise comes from OpenDP's CSPRNG and cannot be seeded, so no test asserts an exact value: the
accounting and scales are exact, the statistics are checked with wide margins on fixed data
large enough that the noise is small against them.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

pytest.importorskip("scipy")
pytest.importorskip("opendp")

from datagen.cli import app  # noqa: E402
from datagen.fit import PrivacyConfig, fit  # noqa: E402
from shared.errors import UsageError  # noqa: E402

N = 20_000
OUTLIER = 987_654_321.0


def _accounts(n: int = N, seed: int = 11) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    balance = rng.normal(1000.0, 200.0, n).round(2)
    balance[7] = OUTLIER  # one extreme row: must never be written
    nulls = rng.random(n) < 0.2
    age = rng.integers(18, 91, n)
    age[3] = 150  # a raw maximum that must not appear either
    score = (0.8 * (balance - 1000) / 200 + 0.6 * rng.normal(size=n)) * 10 + 50  # correlated with balance
    accounts = pa.table({
        "account_id": np.arange(1, n + 1),
        "balance": balance,
        "score": pa.array(np.where(nulls, np.nan, score.round(3))),
        "age": age,
        "segment": rng.choice(["retail", "business", "private"], n, p=[0.6, 0.3, 0.1]),
        "active": rng.random(n) < 0.7,
        "opened": pa.array(np.datetime64("2015-01-01") + rng.integers(0, 3000, n).astype("timedelta64[D]")),
    })
    per = rng.poisson(2.0, n)
    owners = np.repeat(np.arange(1, n + 1), per)
    payments = pa.table({"payment_id": np.arange(1, len(owners) + 1), "account_id": owners,
                         "amount": rng.lognormal(3.0, 0.4, len(owners)).round(2)})
    return {"accounts": accounts, "payments": payments}


@pytest.fixture(scope="module")
def data() -> dict[str, pa.Table]:
    return _accounts()


@pytest.fixture(scope="module")
def dp_fit(data):
    return fit(data, privacy=PrivacyConfig(epsilon=4.0, delta=1e-6))


def _cols(schema: dict, table: str) -> dict[str, dict]:
    t = next(t for t in schema["tables"] if t["name"] == table)
    return {c["name"]: c for c in t["columns"]}


def _table(schema: dict, table: str) -> dict:
    return next(t for t in schema["tables"] if t["name"] == table)


def test_the_budget_is_recorded_and_never_exceeded(dp_fit):
    p = dp_fit.report["privacy"]
    assert p["epsilon"] == 4.0 and p["delta"] == 1e-6
    ms = p["measurements"]
    assert len(ms) >= 15
    for m in ms:
        assert m["epsilon"] > 0 and m["scale"] > 0 and "OpenDP" in m["mechanism"], m
    assert sum(m["epsilon"] for m in ms) == pytest.approx(p["spent_epsilon"], rel=1e-4)
    assert p["spent_epsilon"] <= 4.0 + 1e-9
    assert p["spent_epsilon"] > 3.5  # the plan spends what it reserved (every unit released here)
    assert 0 < p["spent_delta"] <= 1e-6
    names = " ".join(m["statistic"] for m in ms)
    for stat in ("accounts.rows", "accounts.balance histogram", "accounts.balance upper quartile",
                 "accounts.segment categories", "accounts.active histogram", "accounts.opened lower quartile",
                 "payments.account_id children per parent", "accounts copula"):
        assert stat in names, stat
    assert "plan" in p and set(p["plan"]["tables"]) == {"accounts", "payments"}
    assert "comment" not in p and "not reproducible" in p["noise"]


def test_no_raw_extreme_reaches_the_schema(dp_fit, data):
    text = dp_fit.to_yaml() + dp_fit.report_json()
    assert "987654" not in text and "9.87654e" not in text
    cols = _cols(dp_fit.schema, "accounts")
    assert cols["balance"]["max"] < 5_000  # the 99.5 % quantile (≈ 1,515), not the outlier
    assert cols["balance"]["min"] > 0
    assert cols["age"]["max"] < 150
    raw_min = float(np.min(data["payments"]["amount"].to_numpy()))
    raw_max = float(np.max(data["payments"]["amount"].to_numpy()))
    amount = _cols(dp_fit.schema, "payments")["amount"]
    assert amount["min"] != raw_min and amount["max"] != raw_max


def test_statistics_are_noisy_but_close_at_large_n(dp_fit, data):
    s = dp_fit.schema
    acc = _table(s, "accounts")
    assert acc["rows"] == pytest.approx(N, rel=0.02)
    cols = _cols(s, "accounts")
    assert cols["score"]["null_rate"] == pytest.approx(0.2, abs=0.03)
    # no nulls in the data; noise past the floor (max(k, 3 × scale): about 2.5 % of the time) may
    # still release a tiny rate — DP, not a bug
    assert cols["balance"].get("null_rate", 0) < 0.005
    assert cols["active"]["generator"]["params"]["p"] == pytest.approx(0.7, abs=0.03)
    seg = cols["segment"]["generator"]["params"]
    shares = dict(zip(seg["values"], np.array(seg["weights"]) / sum(seg["weights"]), strict=True))
    assert shares["retail"] == pytest.approx(0.6, abs=0.03) and shares["private"] == pytest.approx(0.1, abs=0.03)
    bal = cols["balance"]
    assert 400 < bal["min"] < 700 and 1300 < bal["max"] < 1700
    per = _table(s, "payments")["rows"]
    assert per["per"] == "accounts" and per["min"] == 0
    owner = dp_fit.report["tables"]["payments"]["per"]["column"]  # a parent in every row: never nullable
    assert "nullable" not in _cols(s, "payments")[owner]
    rep = dp_fit.report["tables"]["accounts"]["correlations"]
    strongest = {tuple(sorted(p["columns"])): p["latent"] for p in rep["strongest"]}
    assert strongest[("balance", "score")] == pytest.approx(0.8, abs=0.15)
    assert dp_fit.report["tables"]["accounts"]["rows"] == acc["rows"]


def test_the_fitted_schema_generates_and_validates(tmp_path, dp_fit):
    import datagen

    doc = dict(dp_fit.schema)
    doc["tables"] = [dict(t, rows=2000) if t["name"] == "accounts" else t for t in doc["tables"]]
    path = tmp_path / "dp.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = tmp_path / "gen"
    datagen.generate(str(path), format="parquet", out=str(out), workers=1)
    rep = datagen.validate(str(path), format="parquet", out=str(out))
    assert rep["status"] == "pass", rep
    assert pq.read_table(sorted((out / "accounts").rglob("*.parquet"))).num_rows == 2000


def test_smaller_epsilon_means_more_noise(data):
    small = fit(data, epsilon=0.5, correlations=False).report["privacy"]
    large = fit(data, epsilon=8.0, correlations=False).report["privacy"]
    scale = lambda p, stat: next(m["scale"] for m in p["measurements"] if m["statistic"] == stat)  # noqa: E731
    for stat in ("accounts.rows", "accounts.balance histogram (64 bins + nulls)", "payments.rows"):
        assert scale(small, stat) == pytest.approx(16 * scale(large, stat), rel=1e-6), stat


def test_without_delta_text_categories_are_not_written(data):
    got = fit({"accounts": data["accounts"]}, epsilon=4.0, correlations=False)
    seg = _cols(got.schema, "accounts")["segment"]
    assert seg["generator"]["type"] != "choice"
    assert got.report["privacy"]["spent_delta"] == 0
    assert any("needs --delta" in n for n in got.report["notes"])


def test_given_bounds_are_used_and_spend_nothing(data):
    got = fit({"accounts": data["accounts"]}, epsilon=2.0, bounds={"accounts.balance": (0, 2000)},
              correlations=False)
    bal = _cols(got.schema, "accounts")["balance"]
    assert (bal["min"], bal["max"]) == (0, 2000)
    stats = [m["statistic"] for m in got.report["privacy"]["measurements"]]
    assert not any(s.startswith("accounts.balance") and "bound" in s for s in stats)
    assert any(s.startswith("accounts.age upper quartile") for s in stats)


def test_without_epsilon_nothing_changes(data):
    a = fit(data)
    assert "privacy" not in a.report
    assert a.to_yaml() == fit(data).to_yaml()
    assert "max: 987654000" in a.to_yaml()  # the raw maximum (6 digits): what epsilon exists to prevent


@pytest.mark.parametrize("kwargs, message", [
    ({"epsilon": 0}, "--epsilon 0: must be a number > 0"),
    ({"epsilon": -1.0}, "must be a number > 0"),
    ({"epsilon": math.inf}, "must be a number > 0"),
    ({"delta": 1e-6}, "--delta needs --epsilon"),
    ({"epsilon": 1.0, "delta": 1.5}, "--delta 1.5"),
    ({"bounds": {"accounts.balance": (0, 1)}}, "--bounds needs --epsilon"),
    ({"epsilon": 1.0, "bounds": {"accounts.balance": (5, 1)}}, "lower bound must be below"),
    ({"epsilon": 1.0, "bounds": {"accounts.balanse": (0, 1)}}, "did you mean 'accounts.balance'"),
])
def test_bad_options(data, kwargs, message):
    with pytest.raises(UsageError, match=message.replace(".", r"\.").replace("(", r"\(")):
        fit({"accounts": data["accounts"].slice(0, 200)}, **kwargs)


def test_privacy_config_and_keywords_are_exclusive(data):
    with pytest.raises(UsageError, match="given both"):
        fit(data, privacy=PrivacyConfig(epsilon=1.0), epsilon=2.0)


def test_cli(tmp_path, data):
    src = tmp_path / "src"
    src.mkdir()
    for name, t in data.items():
        pq.write_table(t, src / f"{name}.parquet")
    runner = CliRunner()
    bad = runner.invoke(app, ["fit", "--source", str(src), "--out", str(tmp_path / "a.yaml"), "--epsilon", "0"])
    assert bad.exit_code == 2 and "must be a number > 0" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "a.yaml").exists()
    bad = runner.invoke(app, ["fit", "--source", str(src), "--out", str(tmp_path / "a.yaml"), "--epsilon", "1",
                              "--bounds", "accounts.balance=1"])
    assert bad.exit_code == 2 and "TABLE.COLUMN=LO..HI" in bad.output
    res = runner.invoke(app, ["fit", "--source", str(src), "--out", str(tmp_path / "s.yaml"), "--report",
                              str(tmp_path / "r.json"), "--epsilon", "3", "--delta", "1e-6",
                              "--bounds", "accounts.opened=2014-01-01..2024-12-31"])
    assert res.exit_code == 0, res.output
    assert "differential privacy: spent ε=" in res.output
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["privacy"]["spent_epsilon"] <= 3
    opened = _cols(yaml.safe_load((tmp_path / "s.yaml").read_text()), "accounts")["opened"]["generator"]["params"]
    assert (opened["start"], opened["end"]) == ("2014-01-01", "2024-12-31")
