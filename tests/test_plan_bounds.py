"""Issue 11, item 17: the planner's work is bounded before it starts counting children.

A per-parent child (``rows: {per: parent, …}``) of a 2e9-row parent, or a 60-level per-parent
chain, made ``describe`` run for minutes drawing every parent's child count. Now a plan is
refused at once when ``min`` children per parent already pass the size cap, when the first
parents' counts put it far over, or when the parents to count pass ``MAX_COUNTED_PARENTS``
(``MAX_PER_PARENT_ROWS`` with ``--allow-huge``). The tests watch the counting itself (which
parents get counted), not the clock.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import datagen
from datagen.cli import build_app
from shared.errors import UsageError
from shared.relationships import cardinality
from shared.schema_dsl import planner
from tests.helpers import make_runner, output_text


def _doc(parents: int, minimum: int, levels: int = 1, lam: float = 3.0, extra_cols: int = 0) -> dict:
    tables = [{"name": "c", "rows": parents, "primary_key": "id",
               "columns": [{"name": "id", "type": "int64", "generator": "sequence"}]}]
    prev = "c"
    for i in range(levels):
        tables.append({
            "name": f"o{i}", "primary_key": "id",
            "rows": {"per": prev, "distribution": {"type": "poisson", "params": {"lam": lam}}, "min": minimum,
                     "max": 2000},
            "columns": [{"name": "id", "type": "int64", "generator": "sequence"},
                        {"name": "cid", "type": "int64",
                         "generator": {"type": "fk", "params": {"table": prev, "column": "id"}}},
                        *({"name": f"x{j}", "type": "int32", "generator": "sequence"} for j in range(extra_cols))]})
        prev = f"o{i}"
    return {"version": 1, "name": "s", "seed": 1, "tables": tables}


@pytest.fixture
def counted(monkeypatch) -> list[int]:
    """The parents each count index is built over; building one over more parents than the
    planner may count fails the test at once (the old planner counted 2e9 for minutes)."""
    seen: list[int] = []
    real = cardinality.build_count_index

    def watched(child, n_parent, count_fn):
        seen.append(n_parent)
        assert sum(seen) <= planner.MAX_PER_PARENT_ROWS and n_parent <= 10**9, f"counting {n_parent:,} parents"
        return real(child, n_parent, count_fn)

    monkeypatch.setattr(planner, "build_count_index", watched)
    return seen


def test_min_children_past_the_cap_are_refused_before_counting(counted):
    with pytest.raises(UsageError) as exc:
        datagen.resolve_plan(_doc(2 * 10**9, 2))
    assert "the plan is at least 10,000,000,000 cells" in str(exc.value)
    assert "o0: 4,000,000,000 rows × 2 columns" in str(exc.value) and "--allow-huge" in str(exc.value)
    assert counted == []


def test_counts_far_past_the_cap_are_refused_from_the_first_parents(counted):
    # min 0, but 1,000 children per parent on average: 2e7 parents → about 2e10 rows
    with pytest.raises(UsageError) as exc:
        datagen.resolve_plan(_doc(2 * 10**7, 0, lam=1000.0))
    assert "the plan is about " in str(exc.value) and "over the cap" in str(exc.value)
    assert counted == []


def test_more_parents_than_the_planner_counts_are_refused_before_counting(counted):
    with pytest.raises(UsageError) as exc:
        datagen.resolve_plan(_doc(2 * 10**9, 0, lam=0.5))
    text = str(exc.value)
    assert "table 'o0' counts its rows per 'c'" in text
    assert f"2,000,000,000 parents in all is over the {planner.MAX_COUNTED_PARENTS:,} planned without --allow-huge" in text
    assert "pass --allow-huge" in text and "lower the rows of 'c'" in text
    assert counted == []


def test_a_deep_per_parent_chain_stops_within_the_budget(counted):
    with pytest.raises(UsageError) as exc:
        datagen.resolve_plan(_doc(10**6, 1, levels=60))
    assert "parents in all is over the 100,000,000 planned" in str(exc.value)
    assert 1 < len(counted) < 60 and sum(counted) <= planner.MAX_COUNTED_PARENTS


def test_a_shrinking_chain_of_60_levels_plans(counted):
    plan = datagen.resolve_plan(_doc(10**5, 0, levels=60, lam=1.0))
    assert len(counted) == 60
    assert all(plan.rows(f"o{i}") == plan.tables[f"o{i}"].per.total for i in range(60))


def test_allow_huge_lifts_the_budget_to_the_hard_limit(monkeypatch, counted):
    monkeypatch.setattr(planner, "MAX_COUNTED_PARENTS", 1000)
    with pytest.raises(UsageError, match="over the 1,000 planned without --allow-huge"):
        datagen.resolve_plan(_doc(5000, 0))
    plan = datagen.resolve_plan(_doc(5000, 0), allow_huge=True)
    assert plan.rows("c") == 5000 and counted == [5000]
    monkeypatch.setattr(planner, "MAX_PER_PARENT_ROWS", 3000)
    with pytest.raises(UsageError) as exc:
        datagen.resolve_plan(_doc(5000, 0), allow_huge=True)
    assert "5,000 parents in all is over the 3,000 planned (about" in str(exc.value)
    assert "--allow-huge" not in str(exc.value)


def test_under_the_budget_the_counts_are_exact(counted):
    plan = datagen.resolve_plan(_doc(200_000, 1))
    per = plan.tables["o0"].per
    counts = per.counts(np.arange(200_000, dtype=np.int64))
    assert plan.rows("o0") == int(counts.sum()) and counts.min() >= 1
    assert counted == [200_000]


def test_the_cli_refuses_at_once_with_exit_2(tmp_path: Path, counted):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(_doc(2 * 10**9, 2)))
    r = make_runner().invoke(build_app("csv"), ["describe", "--schema", str(schema)])
    text = output_text(r)
    assert r.exit_code == 2, text
    assert "the plan is at least 10,000,000,000 cells" in text and "Traceback" not in text
    assert counted == []
