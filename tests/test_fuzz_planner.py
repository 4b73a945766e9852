"""Fuzzing the planner: any row overrides, scale, seed, profile and block size on the example
schemas end in a plan or a ``DatagenError`` (``UsageError``, ``PlanError``) — never another
exception, never a long stall (huge requests are refused by the size cap before any per-parent
counting).

Bounded: ``DATAGEN_FUZZ_EXAMPLES`` examples per test (default 60); ``make fuzz`` raises it.
"""

from __future__ import annotations

import math
import os
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generators.parquet_generator.format import ParquetFormat
from shared import api
from shared.errors import DatagenError, PlanError, UsageError
from shared.schema_dsl import planner
from tests.helpers import ROOT

EXAMPLES = {p.stem: api.load_schema(str(p)) for p in sorted((ROOT / "schemas" / "examples").glob("*.yaml"))}


def fuzz(default: int, weight: float = 1.0) -> settings:
    env = os.environ.get("DATAGEN_FUZZ_EXAMPLES")
    n = max(1, int(int(env) * weight)) if env and env.isdigit() else default
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


#: row counts: ordinary, degenerate, and far beyond the cap (refused at once, whatever the table)
ROWS = st.one_of(st.sampled_from([1, 2, 3, 7, 100, 1000, 65_537, 10**5, 0, -1, -(2**63), 10**11, 10**15,
                                  2**63 - 1, 2**63, 2**64, 10**30]), st.integers(1, 5000))
SCALES = st.one_of(st.none(), st.sampled_from([1e-300, 1e-12, 1e-3, 0.01, 0.5, 1.0, 2.0, 1e12, 1e300, math.nan,
                                               math.inf, -math.inf, -1.0, 0.0, 5e-324]),
                   st.floats(0.0001, 3.0))
SEEDS = st.one_of(st.none(), st.sampled_from([0, 1, 2**63 - 1, 2**63, -1, 2**64]), st.integers(0, 2**63 - 1))
PROFILES = st.sampled_from([None, "fast", "realistic", "dirty", "filthy", ""])
BLOCKS = st.sampled_from([65_536, 1, 7, 1000, 10**9, 0, -3])


@st.composite
def requests(draw):
    name = draw(st.sampled_from(sorted(EXAMPLES)))
    schema = EXAMPLES[name]
    names = list(schema.table_names) + ["nope", "Customers", ""]
    rows = draw(st.dictionaries(st.sampled_from(names), ROWS, max_size=3))
    return schema, {"rows": rows, "scale": draw(SCALES), "seed": draw(SEEDS), "profile": draw(PROFILES),
                    "block_rows": draw(BLOCKS)}


@fuzz(60)
@given(req=requests())
def test_fuzz_planner_raises_only_datagen_errors(req):
    schema, kw = req
    counted: list[tuple[str, int]] = []
    real = planner.build_count_index

    def counting(child, n_parent, count_fn):
        counted.append((child, n_parent))
        return real(child, n_parent, count_fn)

    try:
        with mock.patch.object(planner, "build_count_index", counting):
            plan = api.resolve_plan(schema, **kw)
    except (UsageError, PlanError) as exc:
        assert exc.render()
        assert exc.exit_code == 2
        return
    except DatagenError as exc:  # pragma: no cover - would be a wrong exit code for bad input
        raise AssertionError(f"{type(exc).__name__} for bad input: {exc}") from exc
    finally:
        # bounded work, counted instead of timed: parents are counted one by one only once the
        # tables before them are within the size cap, so a huge parent is refused, never counted
        for child, n_parent in counted:
            parent = schema.table(child).rows.per
            assert n_parent * len(schema.table(parent).columns) <= planner.MAX_CELLS, (child, n_parent, kw)
    for name in plan.order:
        assert 1 <= plan.rows(name) < 2**63
    cells = sum(plan.rows(n) * len(plan.schema.table(n).columns) for n in plan.order)
    assert cells <= 5_000_000_000
    info = api.describe(plan, ParquetFormat())
    assert info["total_rows"] == sum(plan.rows(n) for n in plan.order)


@fuzz(30)
@given(req=requests())
def test_fuzz_planner_with_allow_huge_still_raises_only_datagen_errors(req):
    """Without the cap, only row counts that stay cheap to plan (per-parent counting is linear in
    the parents) are tried; everything else is as above."""
    schema, kw = req
    kw["rows"] = {k: v for k, v in kw["rows"].items() if not (isinstance(v, int) and v > 10**6)}
    if kw["scale"] is not None and math.isfinite(kw["scale"]) and kw["scale"] > 10:
        kw["scale"] = 10.0
    try:
        api.resolve_plan(schema, allow_huge=True, **kw)
    except (UsageError, PlanError) as exc:
        assert exc.render() and exc.exit_code == 2
