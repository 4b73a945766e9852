"""The engine's invariants: determinism, addressability, stable evolution, relationships."""

from __future__ import annotations

import textwrap

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.api import Engine, load_schema, resolve_plan

SCHEMA = textwrap.dedent("""
    version: 1
    name: rel
    seed: 5
    tables:
      - name: parents
        rows: 1000
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: score, type: float64, min: 0, max: 100, generator: {type: normal, params: {mean: 50, std: 20}}}
          - {name: tier, type: string, allowed: [a, b, c],
             generator: {type: choice, params: {values: [a, b, c], weights: [5, 3, 2]}}}
          - {name: code, type: int32, unique: true, generator: {type: uniform_int, params: {min: 1, max: 5000}}}
          - {name: price, type: "decimal(10,2)", min: 1, generator: {type: lognormal, params: {mean: 3, sigma: 0.5}}}
      - name: kids
        rows: {per: parents, distribution: {type: poisson, params: {lam: 3}}, min: 0, max: 8}
        primary_key: kid_id
        columns:
          - {name: kid_id, type: int64, generator: sequence}
          - {name: parent_id, type: int64, generator: {type: fk, params: {table: parents, column: id}}}
          - {name: other_parent, type: int64, nullable: true, null_rate: 0.2,
             generator: {type: fk, params: {table: parents, skew: {type: zipf, params: {a: 1.3}}}}}
          - {name: boss, type: int64, nullable: true, generator: {type: fk, params: {table: kids}}}
          - {name: pscore, type: float64,
             generator: {type: expr, params: {expr: "parent_id.score * 2 + uniform(0, 1)"}}}
      - name: bridge
        rows: 600
        primary_key: [p, q]
        columns:
          - {name: p, type: int64, generator: {type: fk, params: {table: parents}}}
          - {name: q, type: int64, generator: {type: fk, params: {table: parents}}}
          - {name: note, type: int16, generator: {type: uniform_int, params: {min: 0, max: 9}}}
""")


@pytest.fixture(scope="module")
def schema_path(tmp_path_factory):
    p = tmp_path_factory.mktemp("eng") / "rel.yaml"
    p.write_text(SCHEMA)
    return p


def _plan(path, **kw):
    return resolve_plan(load_schema(str(path)), **kw)


def _table(engine: Engine, name: str, block_rows=None, workers=1) -> pa.Table:
    return pa.Table.from_batches(list(engine.iter_batches(name, block_rows=block_rows, workers=workers)),
                                 schema=engine.arrow_schemas[name])


@pytest.fixture(scope="module")
def tables(schema_path):
    eng = Engine(_plan(schema_path))
    return {n: _table(eng, n).to_pandas() for n in ("parents", "kids", "bridge")}


def test_same_values_for_any_block_size_and_worker_count(schema_path):
    eng = Engine(_plan(schema_path))
    ref = {n: _table(eng, n) for n in eng.plan.order}
    for block_rows, workers in ((1, 1), (77, 1), (333, 2), (10_000, 2)):
        for n in eng.plan.order:
            assert _table(eng, n, block_rows=block_rows, workers=workers).equals(ref[n]), (n, block_rows, workers)


def test_runs_are_identical_and_seed_matters(schema_path):
    a = _table(Engine(_plan(schema_path)), "kids")
    b = _table(Engine(_plan(schema_path)), "kids")
    c = _table(Engine(_plan(schema_path, seed=6)), "kids")
    assert a.equals(b)
    assert not a.equals(c)


_CACHE: dict = {}


def _engine_and_full():
    if not _CACHE:
        import tempfile

        d = tempfile.mkdtemp(prefix="datagen-eng-")
        path = f"{d}/rel.yaml"
        with open(path, "w") as f:
            f.write(SCHEMA)
        eng = Engine(_plan(path))
        _CACHE["eng"] = eng
        _CACHE["full"] = {n: _table(eng, n) for n in eng.plan.order}
    return _CACHE["eng"], _CACHE["full"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["parents", "kids", "bridge"]), st.lists(st.integers(0, 10**6), min_size=1, max_size=40))
def test_any_rows_computed_alone_equal_the_full_table(name, picks):
    eng, full = _engine_and_full()
    n = full[name].num_rows
    rows = np.array([x % n for x in picks], dtype=np.int64)
    got = eng.rows_batch(name, rows)
    assert pa.Table.from_batches([got]).equals(full[name].take(pa.array(rows)))


def test_rows_batch_addressable(schema_path):
    eng = Engine(_plan(schema_path))
    rng = np.random.default_rng(1)
    for name in ("parents", "kids", "bridge"):
        full = _table(eng, name)
        rows = rng.choice(full.num_rows, size=min(50, full.num_rows), replace=False)
        part = pa.Table.from_batches([eng.rows_batch(name, rows)])
        assert part.equals(full.take(pa.array(rows))), name


def test_prefix_stability_and_stable_evolution(schema_path, tmp_path, tables):
    # more parents: the first 1000 rows of every fixed-count table are unchanged
    more = _plan(schema_path, rows={"parents": 1500})
    p2 = _table(Engine(more), "parents").to_pandas()
    assert p2.iloc[:1000].reset_index(drop=True).equals(tables["parents"])
    # adding, removing and reordering other columns leaves a column's values unchanged
    changed = SCHEMA.replace(
        "          - {name: code, type: int32",
        "          - {name: extra, type: float64, generator: {type: uniform_float, params: {min: 0, max: 1}}}\n"
        "          - {name: code, type: int32",
    ).replace("          - {name: note, type: int16, generator: {type: uniform_int, params: {min: 0, max: 9}}}\n", "")
    p = tmp_path / "rel.yaml"
    p.write_text(changed)
    eng = Engine(_plan(p))
    parents = _table(eng, "parents").to_pandas()
    for col in ("id", "score", "tier", "code", "price"):
        assert parents[col].equals(tables["parents"][col]), col
    kids = _table(eng, "kids").to_pandas()
    assert kids.equals(tables["kids"])


def test_constraints_hold(tables):
    p = tables["parents"]
    assert p.id.tolist() == list(range(1, 1001))
    assert p.score.between(0, 100).all()
    assert set(p.tier) <= {"a", "b", "c"}
    freq = p.tier.value_counts(normalize=True)
    assert abs(freq["a"] - 0.5) < 0.06 and abs(freq["c"] - 0.2) < 0.05
    assert p.code.is_unique and p.code.between(1, 5000).all()
    assert (p.price.astype(float) >= 1).all()
    assert all(d.as_tuple().exponent == -2 for d in p.price)


def test_per_parent_cardinality(tables):
    p, k = tables["parents"], tables["kids"]
    counts = k.groupby("parent_id").size().reindex(p.id, fill_value=0)
    assert counts.max() <= 8 and counts.min() >= 0
    assert abs(counts.mean() - 3) < 0.25
    assert (np.diff(k.parent_id.to_numpy()) >= 0).all()  # children grouped by parent
    assert k.kid_id.tolist() == list(range(1, len(k) + 1))


def test_foreign_keys(tables):
    p, k, b = tables["parents"], tables["kids"], tables["bridge"]
    ids = set(p.id)
    assert set(k.parent_id) <= ids
    op = k.other_parent.dropna()
    assert set(op.astype(int)) <= ids
    assert abs(k.other_parent.isna().mean() - 0.2) < 0.04
    # zipf skew: the most popular parent gets far more than a uniform share
    assert op.value_counts().iloc[0] > 20 * len(op) / len(p)
    # self-reference: an earlier row, the first row has none
    boss = k.boss
    assert pd_isna(boss.iloc[0])
    assert (boss.dropna().to_numpy() < k.kid_id[boss.notna()].to_numpy()).all()
    # composite primary key: no duplicate pairs
    assert not b.duplicated(["p", "q"]).any()
    assert set(b.p) <= ids and set(b.q) <= ids


def test_parent_attribute_lookup(tables):
    p, k = tables["parents"], tables["kids"]
    score = p.set_index("id").score
    diff = k.pscore.to_numpy() - 2 * score.loc[k.parent_id].to_numpy()
    assert ((diff >= 0) & (diff < 1)).all()


def pd_isna(v) -> bool:
    import pandas as pd

    return bool(pd.isna(v))


def test_infeasible_unique_is_refused(tmp_path):
    from shared.errors import InfeasibleSchema

    p = tmp_path / "bad.yaml"
    p.write_text(SCHEMA.replace("min: 1, max: 5000", "min: 1, max: 500"))
    with pytest.raises(InfeasibleSchema) as ei:
        _plan(p)
    prob = ei.value.problems[0]
    assert "500 distinct values for 1,000 rows" in prob.message
    assert prob.path == "tables[0].columns[3].unique"
    assert prob.line is not None


def test_faker_pool_disk_cache_round_trips(tmp_path, monkeypatch):
    from shared.distributions import pools

    monkeypatch.setenv("DATAGEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(pools, "_POOLS", {})
    built = pools.faker_pool("city", "en_US", 300, 99)
    files = list((tmp_path / "faker-pools").glob("*.entry"))
    assert len(files) == 1
    monkeypatch.setattr(pools, "_POOLS", {})
    cached = pools.faker_pool("city", "en_US", 300, 99)
    assert cached.equals(built)
    files[0].write_bytes(b"garbage")  # a damaged entry is rebuilt, not trusted
    monkeypatch.setattr(pools, "_POOLS", {})
    assert pools.faker_pool("city", "en_US", 300, 99).equals(built)
    monkeypatch.setenv("DATAGEN_CACHE_DIR", "")
    monkeypatch.setattr(pools, "_POOLS", {})
    assert pools.faker_pool("city", "en_US", 300, 99).equals(built)


def test_provider_check_is_remembered(tmp_path, monkeypatch):
    """A (provider, locale) that passed once is not checked again (no Faker instance at load);
    a bad one is never remembered, and an empty DATAGEN_CACHE_DIR disables the memory."""
    from shared.distributions import text

    monkeypatch.setenv("DATAGEN_CACHE_DIR", str(tmp_path))
    assert text.check_provider("city", "en_US") == []
    assert len(list((tmp_path / "faker-checks").glob("*.entry"))) == 1
    monkeypatch.setattr(text, "_check_provider", lambda *a: pytest.fail("checked again"))
    assert text.check_provider("city", "en_US") == []
    monkeypatch.undo()
    monkeypatch.setenv("DATAGEN_CACHE_DIR", str(tmp_path))
    assert text.check_provider("no_such_provider", "en_US")  # a problem, and not remembered
    assert text.check_provider("no_such_provider", "en_US")
    assert len(list((tmp_path / "faker-checks").glob("*.entry"))) == 1
    monkeypatch.setenv("DATAGEN_CACHE_DIR", "")
    calls = []
    monkeypatch.setattr(text, "_check_provider", lambda *a: calls.append(a) or [])
    text.check_provider("city", "en_US")
    assert calls


def test_single_column_unique_group_is_enforced(tmp_path):
    """``unique: [[code]]`` means the same as ``unique: true`` on ``code``: kept by construction
    (it used to be accepted and ignored: 39 distinct values in 50 rows)."""
    p = tmp_path / "g.yaml"
    p.write_text(textwrap.dedent("""
        version: 1
        name: g
        tables:
          - name: t
            rows: 50
            unique: [[code]]
            columns:
              - {name: code, type: int32, generator: {type: uniform_int, params: {min: 1, max: 60}}}
    """))
    schema = load_schema(str(p))
    assert schema.table("t").column("code").unique
    plan = resolve_plan(schema)
    codes = pa.Table.from_batches(list(Engine(plan).iter_batches("t"))).column("code").to_pylist()
    assert len(set(codes)) == 50
    p.write_text(p.read_text().replace("max: 60", "max: 40"))
    from shared.errors import InfeasibleSchema

    with pytest.raises(InfeasibleSchema) as exc:
        resolve_plan(load_schema(str(p)))
    assert "40 distinct values for 50 rows" in exc.value.render()
