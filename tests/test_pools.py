"""Faker pools sized from the rows of the table that draws from them.

A 10-row table must not build 20,000-value pools (tens of seconds of Faker calls on a cold
cache); the size is a function of the planned rows (never of a block), a parent lookup uses the
parent's pool, and unique faker columns stay feasible whatever the pool holds.
"""

from __future__ import annotations

import textwrap

import pyarrow as pa
import pytest

from shared.api import Engine, load_schema, resolve_plan
from shared.distributions import pools
from shared.distributions.pools import MIN_POOL_SIZE, POOL_SIZES, pool_size_for
from shared.io.cache import HEADER_BYTES


@pytest.fixture
def cold_cache(tmp_path, monkeypatch):
    """An empty DATAGEN_CACHE_DIR and no pool in memory: every pool is built here."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("DATAGEN_CACHE_DIR", str(cache))
    monkeypatch.setattr(pools, "_POOLS", {})
    return cache


def _engine(tmp_path, text: str, **kw) -> Engine:
    p = tmp_path / "s.yaml"
    p.write_text(textwrap.dedent(text))
    return Engine(resolve_plan(load_schema(str(p)), **kw))


def _table(engine: Engine, name: str, **kw) -> pa.Table:
    return pa.Table.from_batches(list(engine.iter_batches(name, **kw)), schema=engine.arrow_schemas[name])


def _built(cache) -> list[int]:
    """Lengths of the pools written to the disk cache."""
    sizes = []
    for f in sorted((cache / "faker-pools").glob("*.entry")):
        payload = pa.py_buffer(f.read_bytes()[HEADER_BYTES:])
        sizes.append(pa.ipc.open_file(payload).read_all().num_rows)
    return sorted(sizes)


@pytest.mark.parametrize("draws, profile, size", [
    (0, "realistic", MIN_POOL_SIZE), (10, "realistic", 256), (256, "realistic", 256), (257, "realistic", 512),
    (3_000, "realistic", 4_096), (16_384, "realistic", 16_384), (16_385, "realistic", 20_000),
    (10**9, "realistic", 20_000), (10**9, "dirty", 20_000), (10, "fast", 256), (700, "fast", 1_000),
    (10**6, "fast", 1_000),
])
def test_pool_size_follows_rows_between_floor_and_profile_cap(draws, profile, size):
    assert pool_size_for(draws, profile) == size
    assert size <= POOL_SIZES[profile]


SMALL = """
    version: 1
    name: small
    seed: 3
    tables:
      - name: notes
        rows: 10
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: body, type: string, generator: {type: faker, params: {provider: paragraph}}}
          - {name: addr, type: string, generator: {type: faker, params: {provider: address}}}
          - {name: tags, type: string, generator: {type: words, params: {min: 1, max: 3}}}
"""


def test_small_table_builds_small_pools_on_a_cold_cache(tmp_path, cold_cache):
    eng = _engine(tmp_path, SMALL)
    t = _table(eng, "notes")
    assert t.num_rows == 10
    # paragraph, address (10 rows) and word (10 rows x 3 words): the floor, not 20,000 values each
    assert _built(cold_cache) == [MIN_POOL_SIZE] * 3
    assert {k[2] for k in pools._POOLS} == {MIN_POOL_SIZE}
    built = {k[0]: v for k, v in pools._POOLS.items()}
    assert set(t.column("body").to_pylist()) <= set(built["paragraph"].to_pylist())
    assert set(t.column("addr").to_pylist()) <= set(built["address"].to_pylist())


def test_pool_size_is_the_same_for_any_block_size_and_worker_count(tmp_path, cold_cache):
    eng = _engine(tmp_path, SMALL.replace("rows: 10", "rows: 700"))
    ref = _table(eng, "notes")
    assert _built(cold_cache) == [1_024, 1_024, 4_096]  # paragraph, address: 700 → 1,024; words: 2,100 → 4,096
    for block_rows, workers in ((1, 1), (37, 1), (100, 2)):
        assert _table(eng, "notes", block_rows=block_rows, workers=workers).equals(ref), (block_rows, workers)


def test_rows_override_resizes_the_pool(tmp_path, cold_cache):
    """--rows is part of the input: a larger table draws from a larger pool (documented)."""
    small = _table(_engine(tmp_path, SMALL, rows={"notes": 10}), "notes")
    big = _table(_engine(tmp_path, SMALL, rows={"notes": 300}), "notes")
    assert len(set(big.column("addr").to_pylist())) > MIN_POOL_SIZE // 2
    assert {k[2] for k in pools._POOLS if k[0] == "address"} == {MIN_POOL_SIZE, 512}
    again = _table(_engine(tmp_path, SMALL, rows={"notes": 10}), "notes")
    assert again.equals(small)


LOOKUP = """
    version: 1
    name: lookup
    seed: 8
    tables:
      - name: shops
        rows: 10
        primary_key: shop_id
        columns:
          - {name: shop_id, type: int64, generator: sequence}
          - {name: city, type: string, generator: {type: faker, params: {provider: city}}}
      - name: visits
        rows: 3000
        primary_key: visit_id
        columns:
          - {name: visit_id, type: int64, generator: sequence}
          - {name: shop_id, type: int64, generator: {type: fk, params: {table: shops}}}
          - {name: where, type: string, generator: {type: template, params: {template: "{shop_id.city}"}}}
"""


def test_parent_lookup_uses_the_parents_pool(tmp_path, cold_cache):
    eng = _engine(tmp_path, LOOKUP)
    shops = _table(eng, "shops")
    visits = _table(eng, "visits")
    city = dict(zip(shops.column("shop_id").to_pylist(), shops.column("city").to_pylist(), strict=True))
    assert visits.column("where").to_pylist() == [city[s] for s in visits.column("shop_id").to_pylist()]
    # only the parent's pool (10 rows → the floor) was built, never one sized for 3,000 visits
    assert {k[2] for k in pools._POOLS if k[0] == "city"} == {MIN_POOL_SIZE}


def test_unique_faker_column_larger_than_its_pool_is_feasible(tmp_path, cold_cache):
    """A unique user_name column holds more rows than its pool: each name once, then with 2, 3 …
    (a bijection of the row), so 3,000 rows from a 1,000-value pool (profile fast) plan and stay
    distinct, and the pool the planner built for the capacity is the one the engine uses."""
    eng = _engine(tmp_path, """
        version: 1
        name: uniq
        seed: 4
        tables:
          - name: users
            rows: 3000
            columns:
              - {name: handle, type: string, unique: true, generator: {type: faker, params: {provider: user_name}}}
    """, profile="fast")
    (feas,) = [f for f in eng.plan.feasibility if f.column == "handle"]
    assert feas.ok and feas.needed == 3000 and feas.capacity > 3000
    handles = _table(eng, "users").column("handle").to_pylist()
    assert len(set(handles)) == 3000
    assert _built(cold_cache) == [POOL_SIZES["fast"]]
