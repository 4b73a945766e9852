"""Golden hashes of tiny outputs: any drift in values (engine, generators, pinned libraries) fails.

The hash covers the values themselves (``repr`` of every row), not a file format, so only a real
change of generated data moves it. numpy, pyarrow and faker are pinned in requirements.txt; if a
change is intended, update the hashes here in the same commit and say why.
"""

from __future__ import annotations

import hashlib

import pytest

from shared.api import Engine, load_schema, resolve_plan
from tests.helpers import EXAMPLES_DIR

EXAMPLES = EXAMPLES_DIR

GOLDEN = {
    "default": "5e0e1b4c219b8d46695b4f84a16a02036d39ea66bc82aa5da981f442f63aa777",
    "shop": "fbac4fda7c392a6d23ca2360fb56ae9437e2de90c82427d03e82e4eaab14f06b",
    "iot": "c3ae36458158c061be11bd26f833b1245afcab965bb9d1a2ba9d77003e4b2dd2",
    "hr": "d047965996fca6fa948c97c573f5b77db11ccb94788556b38584be4fdf3344ae",
    "bank": "83f780a8c8e8b35b2c5870c4e39c84fb8180e81b7a209cbd031cb30eb852f573",
    "saas": "7006887ecef0f540682137976f580905f5ca7fa3d573954b1d2b9bde8316f7e1",
}


def digest(name: str, profile: str | None = None) -> str:
    plan = resolve_plan(load_schema(str(EXAMPLES / f"{name}.yaml")), scale=0.01, profile=profile)
    eng = Engine(plan)
    h = hashlib.sha256()
    for t in plan.order:
        table = eng.to_arrow(t)
        h.update(t.encode())
        h.update(repr(table.to_pylist()).encode())
    return h.hexdigest()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden(name):
    assert digest(name) == GOLDEN[name]


def test_golden_dirty():
    assert digest("shop", "dirty") == GOLDEN_DIRTY


GOLDEN_DIRTY = "68b5d6d3ee34d1822bb19c0af351bcd2531d232df935d40a747521685dfa5e48"
