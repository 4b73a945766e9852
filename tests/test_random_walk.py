"""``random_walk`` (issue 12, item 9): values that drift step by step, one walk per parent in a
per-parent table, each row computed on its own."""

from __future__ import annotations

import textwrap

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datagen
from shared import api
from shared.distributions.walk import levy_walk
from shared.schema_dsl.engine import Engine

SCHEMA = textwrap.dedent("""\
    version: 1
    name: walk
    seed: 8
    tables:
      - name: sensors
        rows: 40
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
      - name: readings
        rows: {per: sensors, distribution: {type: uniform_int, params: {min: 50, max: 150}}}
        columns:
          - {name: sensor_id, type: int64, generator: {type: fk, params: {table: sensors, column: id}}}
          - {name: temp, type: float64, generator: {type: random_walk, params: {start: 20, step: 0.5}}}
          - {name: level, type: "decimal(8,2)", min: 0, generator: {type: random_walk, params: {start: 100, drift: 0.1}}}
      - name: prices
        rows: 5000
        columns:
          - {name: price, type: float64, generator: {type: random_walk, params: {start: 50, step: 2}}}
    """)


def _path(tmp_path, text=SCHEMA):
    p = tmp_path / "walk.yaml"
    p.write_text(text)
    return p


def test_the_increments_are_independent_standard_normal_steps():
    t = np.arange(0, 200_001, dtype=np.int64)
    w = levy_walk(99, np.zeros_like(t), t)
    inc = np.diff(w)
    assert w[0] == 0.0
    assert abs(inc.mean()) < 0.02 and abs(inc.var() - 1) < 0.03
    assert abs(np.corrcoef(inc[1:], inc[:-1])[0, 1]) < 0.02


def test_each_parent_has_its_own_walk_from_start(tmp_path):
    t = datagen.to_arrow(str(_path(tmp_path)))["readings"].to_pydict()
    firsts: dict[int, float] = {}
    steps = []
    for i, (s, v) in enumerate(zip(t["sensor_id"], t["temp"], strict=True)):
        if s not in firsts:
            firsts[s] = v
        elif t["sensor_id"][i - 1] == s:
            steps.append(v - t["temp"][i - 1])
    assert len(firsts) == 40
    # the first reading of every sensor is one step from start (W(0) = 0 exactly: start itself)
    assert all(v == 20.0 for v in firsts.values())
    assert 0.4 < float(np.std(steps)) < 0.6
    assert all(float(x) >= 0 for x in t["level"])  # clipped to the column's min


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([29, 64, 97, 500]), st.integers(0, 2**31))
def test_the_same_values_at_any_block_size(tmp_path, block_rows, seed):
    """(Blocks of 1 row: ``test_one_row_blocks_agree``, on a short walk.)"""
    path = _path(tmp_path, SCHEMA.replace("seed: 8", f"seed: {seed}"))
    whole = api.resolve_plan(api.load_schema(str(path)))
    small = api.resolve_plan(api.load_schema(str(path)), block_rows=block_rows)
    for table in ("readings", "prices"):
        assert Engine(small).to_arrow(table).equals(Engine(whole).to_arrow(table))


def test_one_row_blocks_agree():
    t = np.arange(0, 300, dtype=np.int64)
    walk = np.repeat(np.arange(3, dtype=np.int64), 100)
    whole = levy_walk(7, walk, t % 100)
    single = np.concatenate([levy_walk(7, walk[i:i + 1], t[i:i + 1] % 100) for i in range(300)])
    assert np.array_equal(single, whole)


def test_more_rows_only_append(tmp_path):
    path = _path(tmp_path)
    a = datagen.to_arrow(str(path), rows={"prices": 1000})["prices"].column("price").to_pylist()
    b = datagen.to_arrow(str(path))["prices"].column("price").to_pylist()
    assert b[:1000] == a


def test_workers_give_the_same_bytes(tmp_path):
    path = _path(tmp_path)
    datagen.generate(str(path), format="parquet", out=tmp_path / "a", workers=1)
    datagen.generate(str(path), format="parquet", out=tmp_path / "b", workers=2, block_rows=333)
    for t in ("readings", "prices"):
        assert pq.read_table(tmp_path / "a" / t).equals(pq.read_table(tmp_path / "b" / t))


@pytest.mark.parametrize("fmt", ["csv", "parquet", "sqlite", "ndjson"])
def test_generates_and_validates(tmp_path, runner, fmt):
    from datagen.cli import app

    path, out = _path(tmp_path), tmp_path / "out"
    r = runner.invoke(app, ["generate", "--format", fmt, "--schema", str(path), "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["validate", "--format", fmt, "--schema", str(path), "--out", str(out)])
    assert r.exit_code == 0, r.output


def test_a_step_that_is_not_positive_is_refused(tmp_path, runner):
    from datagen.cli import app

    r = runner.invoke(app, ["describe", "--format", "csv", "--schema",
                            str(_path(tmp_path, SCHEMA.replace("step: 0.5", "step: 0")))])
    assert r.exit_code == 2
    assert "tables[1].columns[1].generator.params.step" in r.output
