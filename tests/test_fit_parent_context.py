"""``datagen fit`` learns parent context: a child's copula conditioned on its parent's columns
(``fk.col`` givens), which the generated data then reproduces across the join."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

pytest.importorskip("scipy")

from scipy import stats  # noqa: E402

from datagen.fit import fit  # noqa: E402
from shared.api import load_schema, resolve_plan  # noqa: E402
from shared.schema_dsl.engine import Engine  # noqa: E402


def _source(seed: int = 5) -> dict[str, pa.Table]:
    """Customers (income, age) and their orders, whose amount follows the customer's income
    and whose item count falls with the customer's age; the note is independent of both."""
    rng = np.random.default_rng(seed)
    n = 3000
    income = rng.lognormal(10, 0.5, n)
    age = rng.integers(18, 90, n)
    customers = pa.table({"customer_id": np.arange(1, n + 1), "income": np.round(income, 2), "age": age,
                          "years": np.clip(np.round((age - 18) / 3 + rng.normal(0, 3, n)), 0, None)})
    per = rng.poisson(6, n) + 1
    owner = np.repeat(np.arange(n), per)
    zi = stats.norm.ppf(stats.rankdata(income) / (n + 1))[owner]
    za = stats.norm.ppf(stats.rankdata(age) / (n + 1))[owner]
    m = len(owner)
    amount = np.exp(4 + 0.5 * (0.7 * zi + np.sqrt(1 - 0.49) * rng.normal(size=m)))
    items = np.clip(np.round(8 - 3 * (0.6 * za + 0.8 * rng.normal(size=m))), 1, None).astype(np.int64)
    orders = pa.table({"order_id": np.arange(1, m + 1), "customer_id": owner + 1, "amount": np.round(amount, 2),
                       "items": items, "weight": np.round(rng.gamma(2.0, 1.5, m), 3)})
    return {"customers": customers, "orders": orders}


def _joined(result, tmp_path):
    path = tmp_path / "fitted.yaml"
    path.write_text(result.to_yaml())
    plan = resolve_plan(load_schema(str(path)))
    engine = Engine(plan)
    tables = {}
    for name in ("customers", "orders"):
        n = engine.row_count(name)
        tables[name] = pa.Table.from_batches([engine.batch(name, a, min(a + 8192, n)) for a in range(0, n, 8192)]
                                             ).to_pandas()
    return tables["orders"].merge(tables["customers"], on="customer_id")


def _spearman(df, a, b) -> float:
    return float(stats.spearmanr(df[a], df[b]).statistic)


def test_fit_writes_givens_and_generation_keeps_the_cross_table_trends(tmp_path):
    src = _source()
    result = fit(src)
    block = next(t for t in result.schema["tables"] if t["name"] == "orders")["correlations"][0]
    assert "customer_id.income" in block["columns"] and "customer_id.age" in block["columns"]
    context = result.report["tables"]["orders"]["correlations"]["parent_context"]
    assert set(context["givens"]) == {c for c in block["columns"] if "." in c}
    assert "Parent context: conditioned on" in result.to_yaml()
    real = src["orders"].to_pandas().merge(src["customers"].to_pandas(), on="customer_id")
    syn = _joined(result, tmp_path)
    for a, b in (("income", "amount"), ("age", "items")):
        assert abs(_spearman(syn, a, b) - _spearman(real, a, b)) < 0.08, (a, b)
    assert abs(_spearman(real, "income", "amount")) > 0.5 and abs(_spearman(real, "age", "items")) > 0.4


def test_without_a_parent_copula_or_with_dp_there_is_no_parent_context(tmp_path):
    src = _source()
    plain = fit(src, correlations=False)
    assert all("correlations" not in t for t in plain.schema["tables"])
    private = fit(src, epsilon=5.0)
    for t in private.schema["tables"]:
        for block in t.get("correlations", []):
            assert not any("." in c for c in block["columns"])
    assert "parent_context" not in (private.report["tables"]["orders"].get("correlations") or {})


def test_of_two_keys_to_one_parent_the_one_spread_over_more_parents_owns_the_rows():
    """Flights reference airports twice: the origin (3 busy airports) and the destination (many):
    the destination owns the rows (``rows.via``), the origin keeps its few parents as a skew."""
    rng = np.random.default_rng(2)
    codes = np.array([f"A{i:03d}" for i in range(200)])
    airports = pa.table({"faa": codes, "alt": rng.integers(0, 900, 200)})
    m = 6000
    flights = pa.table({"flight_id": np.arange(1, m + 1), "origin": codes[rng.choice([1, 2, 3], m)],
                        "dest": codes[rng.integers(0, 200, m)], "delay": rng.normal(10, 5, m).round(1)})
    result = fit({"airports": airports, "flights": flights})
    node = next(t for t in result.schema["tables"] if t["name"] == "flights")
    assert node["rows"]["per"] == "airports" and node["rows"]["via"] == "dest"
    origin = next(c for c in node["columns"] if c["name"] == "origin")
    assert origin["generator"]["params"]["skew"]["params"]["bins"][:4] == [0, 1, 2, 3]


def test_a_category_another_explains_becomes_a_switch_on_it(tmp_path):
    """A plane's tail number determines its carrier: fit writes the tail number as a switch on the
    carrier (each carrier's own planes, within-case frequencies; a plane seen in fewer than k rows
    of its carrier withheld), and the generated pairs keep that: no plane under two carriers."""
    rng = np.random.default_rng(9)
    carriers = np.array(["AA", "DL", "UA", "WN"])
    planes = np.array([f"N{i:03d}" for i in range(120)])
    owner = carriers[np.arange(120) % 4]
    n = 20_000
    pick = rng.integers(0, 120, n)
    pick[:3] = 119  # N119 (UA) in few rows more than the others: still ≥ k
    delay = rng.gamma(2.0, 8.0, n).round(1)
    table = pa.table({"tailnum": planes[pick], "carrier": owner[pick], "delay": delay})
    result = fit({"flights": table})
    node = result.schema["tables"][0]
    tail = next(c for c in node["columns"] if c["name"] == "tailnum")
    assert tail["generator"]["type"] == "switch" and tail["generator"]["params"]["on"] == "carrier"
    cases = tail["generator"]["params"]["cases"]
    assert set(cases) == set(carriers)
    assert all(set(case["params"]["values"]) <= set(planes[np.arange(120) % 4 == i])
               for i, case in ((list(carriers).index(k), v) for k, v in cases.items()))
    assert result.report["tables"]["flights"]["columns"]["tailnum"]["conditioned_on"]["column"] == "carrier"
    assert "conditioned on carrier" in result.to_yaml()
    path = tmp_path / "f.yaml"
    path.write_text(result.to_yaml())
    engine = Engine(resolve_plan(load_schema(str(path))))
    syn = pa.Table.from_batches([engine.batch("flights", a, min(a + 4096, n)) for a in range(0, n, 4096)]).to_pandas()
    assert syn.groupby("tailnum").carrier.nunique().max() == 1
    assert syn.tailnum.nunique() > 100


def test_a_sampled_child_keeps_the_sources_row_count():
    """Learned from a sample of the children, the children per parent are scaled back: the
    generated table has about the source's rows, not the sample's."""
    rng = np.random.default_rng(4)
    parents = pa.table({"pid": np.arange(1, 401)})
    child = pa.table({"cid": np.arange(1, 20_001), "pid": rng.integers(1, 401, 20_000),
                      "x": rng.normal(0, 1, 20_000).round(3)})
    result = fit({"parents": parents, "children": child}, sample_rows=5_000)
    node = next(t for t in result.schema["tables"] if t["name"] == "children")
    assert node["rows"]["per"] == "parents"
    mean = result.report["relations"][0]["rows_per_parent"]["mean"]
    assert mean == pytest.approx(50, rel=0.05)
