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
    "default": "793d32a94723033dee40ebef9bb139bcb97daf78c367a121c7410c68aa82f567",
    "shop": "cae18de0ef39428dd060a921dc83286a2a8a38a7dc554e2a75016cc5057ea369",
    "iot": "25c41c303b51bb75013f69ef7f2883d728804b4c15606038581ca2e0c315d4c9",
    "hr": "b4f8b13ec5fc2d1ee72dddd7b86bb93e3a926b2794d0399f7b2d748955c0b3fc",
    "bank": "76be822567041aba58e2259eba779c169dae304770ced0ef80f8ddf237db5536",
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


GOLDEN_DIRTY = "1a794878bd73c4b87eb90b74028fc347ec027a2d4fa70fe6bc5e88d84ca40950"
