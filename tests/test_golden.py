"""Golden hashes of tiny outputs: any drift in values (engine, generators, pinned libraries) fails.

The hash covers the values themselves (``repr`` of every row), not a file format, so only a real
change of generated data moves it. numpy, pyarrow and faker are pinned in requirements.txt; if a
change is intended, update the hashes here in the same commit and say why.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pytest

from shared.api import Engine, load_schema, resolve_plan

EXAMPLES = Path(__file__).resolve().parents[1] / "schemas" / "examples"

GOLDEN = {
    "default": "5e0e1b4c219b8d46695b4f84a16a02036d39ea66bc82aa5da981f442f63aa777",
    "shop": "fbac4fda7c392a6d23ca2360fb56ae9437e2de90c82427d03e82e4eaab14f06b",
    "iot": "2fdcc8f7bc1136821b5cf13ab9d44cbbf7e5ab6cfa9b5da692862a4c6b1d485d",
    "hr": "d047965996fca6fa948c97c573f5b77db11ccb94788556b38584be4fdf3344ae",
    "bank": "39e7017fc5193d8b4774e611c5f0befd1683ccf5c21cce9e94466fc023bdbc7f",
    "saas": "3faffd1e81ea4522b64d17550e2c3a35231730d91bc173a1fee23f6d47c0f244",
}


def digest(name: str, profile: str | None = None) -> str:
    plan = resolve_plan(load_schema(str(EXAMPLES / f"{name}.yaml")), scale=0.01, profile=profile)
    eng = Engine(plan)
    h = hashlib.sha256()
    for t in plan.order:
        table = pa.Table.from_batches(list(eng.iter_batches(t)), schema=eng.arrow_schemas[t])
        h.update(t.encode())
        h.update(repr(table.to_pylist()).encode())
    return h.hexdigest()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden(name):
    assert digest(name) == GOLDEN[name]


def test_golden_dirty():
    assert digest("shop", "dirty") == GOLDEN_DIRTY


GOLDEN_DIRTY = "68b5d6d3ee34d1822bb19c0af351bcd2531d232df935d40a747521685dfa5e48"
