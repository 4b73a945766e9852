"""Golden hashes of tiny outputs: any drift in values (engine, generators, pinned libraries) fails.

The hash covers the values themselves (``repr`` of every row), not a file format, so only a real
change of generated data moves it. numpy, pyarrow and faker are pinned in requirements.txt; if a
change is intended, update the hashes here in the same commit and say why.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from shared.api import Engine, load_schema, resolve_plan

EXAMPLES = Path(__file__).resolve().parents[1] / "schemas" / "examples"

GOLDEN = {
    "default": "793d32a94723033dee40ebef9bb139bcb97daf78c367a121c7410c68aa82f567",
    "shop": "54a59f42527ad52e8cc7d5e8abec0d5778fa6de12aed5e6e4ec3f5beb8a97360",
    "iot": "98514e47c5100567a047276d455188afb8e0e12c4622c45e7e51207c00b4f4f3",
    "hr": "b4f8b13ec5fc2d1ee72dddd7b86bb93e3a926b2794d0399f7b2d748955c0b3fc",
    "bank": "42a9f18d14ff96345e55bf735cee1876999d295d0e77382359c37d711b60c820",
    "saas": "fee11d073e08f18bf2e57c2e339bf1d7277a3bdda8d48762e7bb42bc3ee8729f",
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


GOLDEN_DIRTY = "a3af861fd6a98e956d36a1cc8022483fb4a182e030fd0921316f23ad0fd51488"
