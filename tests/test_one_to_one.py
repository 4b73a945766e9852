"""One-to-one relationships (issue 12, item 3): a ``unique: true`` fk uses each parent row at most
once — a keyed permutation of the parent rows, addressable — and ``rows: {of, coverage}`` gives a
child for a share of the parents that follows ``--rows``/``--scale``.

Refusals that need no CLI override have a file each in ``tests/bad_schemas/`` (``one_to_one_*``).
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datagen.cli import app
from shared.api import Engine, load_schema, resolve_plan
from shared.errors import InfeasibleSchema, SchemaError
from shared.formats import FORMATS
from tests.helpers import file_formats, generate_three_ways, make_runner

SCHEMA = textwrap.dedent("""\
    version: 1
    name: accounts
    seed: 5
    tables:
      - name: users
        rows: 250
        primary_key: id
        columns:
          - {name: id, type: int64, generator: {type: sequence, params: {start: 1000}}}
          - {name: name, type: string, generator: {type: regex, params: {pattern: '[a-z]{8}'}}}
      - name: profiles                     # 80 % of users have a profile
        rows: {of: users, coverage: 0.8}
        primary_key: profile_id
        columns:
          - {name: profile_id, type: int64, generator: sequence}
          - name: user_id
            type: int64
            unique: true                   # one-to-one: each user at most once
            generator: {type: fk, params: {table: users, column: id}}
          - {name: handle, type: string, generator: {type: template, params: {template: "@{user_id.name}"}}}
          - name: backup_user_id           # nullable one-to-one: nulls are not duplicates
            type: int64
            nullable: true
            null_rate: 0.3
            unique: true
            generator: {type: fk, params: {table: users}}
""")


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("o2o") / "accounts.yaml"
    p.write_text(SCHEMA)
    return p


def _plan(schema_file, **kw):
    return resolve_plan(load_schema(str(schema_file)), **kw)


def _values(plan, table, column) -> pa.Array:
    return Engine(plan).to_arrow(table).column(column).combine_chunks()


def _assert_one_to_one(plan, table="profiles", column="user_id", parent="users", key="id"):
    child = _values(plan, table, column)
    keys = set(_values(plan, parent, key).to_pylist())
    vals = [v for v in child.to_pylist() if v is not None]
    assert len(vals) == len(set(vals)), "a parent used twice"
    assert set(vals) <= keys, "a value with no parent"
    return vals


# --- the planner --------------------------------------------------------------------------------


def test_coverage_sets_the_rows_and_follows_overrides(schema_file):
    plan = _plan(schema_file)
    assert plan.rows("profiles") == 200
    assert _plan(schema_file, rows={"users": 1001}).rows("profiles") == 801
    assert _plan(schema_file, scale=3.3).rows("profiles") == round(0.8 * 825)
    assert _plan(schema_file, rows={"profiles": 250}).rows("profiles") == 250  # --rows wins, up to the parent
    f = [f for f in plan.feasibility if f.check == "one_to_one"]
    assert {x.column for x in f} == {"user_id", "backup_user_id"} and all(x.ok for x in f)
    assert all(x.capacity == 250 and x.needed == 200 for x in f)


@pytest.mark.parametrize("kw", [{"rows": {"profiles": 251}}, {"rows": {"users": 100, "profiles": 150}}])
def test_more_children_than_parents_is_refused_with_overrides(schema_file, kw):
    with pytest.raises(InfeasibleSchema) as ei:
        _plan(schema_file, **kw)
    problems = ei.value.problems
    assert {p.path for p in problems} == {"tables[1].columns[1].generator", "tables[1].columns[3].generator"}
    p = next(p for p in problems if p.path == "tables[1].columns[1].generator")
    assert "each parent row at most once" in p.message and p.line == 19
    assert "at most" in (p.hint or "") and "users" in (p.hint or "")


FIXED = textwrap.dedent("""\
    version: 1
    name: fixed
    tables:
      - name: users
        rows: 100
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
      - name: profiles
        rows: 80
        columns:
          - {name: user_id, type: int64, unique: true, generator: {type: fk, params: {table: users}}}
""")


def test_scale_keeps_a_fixed_one_to_one_feasible_and_rows_override_can_break_it(tmp_path):
    p = tmp_path / "fixed.yaml"
    p.write_text(FIXED)
    schema = load_schema(str(p))
    for scale in (0.01, 0.37, 1, 7.5):
        plan = resolve_plan(schema, scale=scale)
        assert plan.rows("profiles") <= plan.rows("users")
        _assert_one_to_one(plan)
    with pytest.raises(InfeasibleSchema) as ei:
        resolve_plan(schema, rows={"users": 50})
    (prob,) = ei.value.problems
    assert prob.path == "tables[1].columns[0].generator" and "80 rows for the 50 rows of 'users'" in prob.message
    assert "rows: {of: users, coverage: 0.8}" in (prob.hint or "")


PER_PARENT = textwrap.dedent("""\
    version: 1
    name: perparent
    tables:
      - name: teams
        rows: 40
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
      - name: users
        rows: {per: teams, distribution: {type: poisson, params: {lam: 2}}, min: 0, max: 4}
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: team_id, type: int64, generator: {type: fk, params: {table: teams}}}
      - name: badges
        rows: 60
        columns:
          - {name: user_id, type: int64, unique: true, generator: {type: fk, params: {table: users}}}
""")


def test_per_parent_parent_rows_are_counted_before_the_check(tmp_path):
    p = tmp_path / "pp.yaml"
    p.write_text(PER_PARENT)
    schema = load_schema(str(p))
    plan = resolve_plan(schema)
    n = plan.rows("users")
    assert 60 <= n
    _assert_one_to_one(plan, "badges", "user_id", "users", "id")
    with pytest.raises(InfeasibleSchema) as ei:
        resolve_plan(schema, rows={"teams": 10})  # ~20 users for 60 badges
    assert ei.value.problems[0].path == "tables[2].columns[0].generator"


def test_owner_fk_of_per_parent_table_is_unique_with_max_one(tmp_path):
    text = PER_PARENT.replace("min: 0, max: 4", "min: 0, max: 1").replace(
        "{name: team_id, type: int64, generator", "{name: team_id, type: int64, unique: true, generator")
    p = tmp_path / "pp1.yaml"
    p.write_text(text.split("  - name: badges")[0])
    plan = resolve_plan(load_schema(str(p)))
    assert any(f.check == "one_to_one" and f.ok for f in plan.feasibility)
    _assert_one_to_one(plan, "users", "team_id", "teams", "id")


def test_unique_fk_in_a_composite_group_stays_unique_alone(tmp_path):
    text = FIXED.replace("    rows: 80\n", "    rows: 80\n    unique: [[user_id, tag]]\n") + \
        "      - {name: tag, type: int32, generator: {type: uniform_int, params: {min: 1, max: 3}}}\n"
    p = tmp_path / "group.yaml"
    p.write_text(text)
    plan = resolve_plan(load_schema(str(p)))
    assert plan.tables["profiles"].groups == ()  # implied by the unique fk
    assert "user_id" in plan.tables["profiles"].unique_index
    _assert_one_to_one(plan)


def test_skew_on_a_unique_fk_is_refused(tmp_path):
    p = tmp_path / "skew.yaml"
    p.write_text(FIXED.replace("params: {table: users}}", "params: {table: users, skew: {type: zipf, params: {a: 1.3}}}}"))
    with pytest.raises(SchemaError) as ei:
        load_schema(str(p))
    (prob,) = ei.value.problems
    assert prob.path == "tables[1].columns[0].generator.params.skew" and "drop skew" in (prob.hint or "")


# --- the engine ---------------------------------------------------------------------------------


def test_values_are_unique_in_the_parent_and_nulls_are_not_duplicates(schema_file):
    plan = _plan(schema_file)
    vals = _assert_one_to_one(plan)
    assert len(vals) == 200
    backup = _values(plan, "profiles", "backup_user_id")
    assert 0 < backup.null_count < 200
    _assert_one_to_one(plan, column="backup_user_id")
    # the template reads the parent row the permutation picked
    eng = Engine(plan)
    prof = eng.to_arrow("profiles").to_pylist()
    names = dict(zip(*(eng.to_arrow("users").column(c).to_pylist() for c in ("id", "name")), strict=True))
    assert all(r["handle"] == "@" + names[r["user_id"]] for r in prof)


def test_full_coverage_is_a_permutation_of_the_parents(schema_file):
    plan = _plan(schema_file, rows={"profiles": 250})
    assert sorted(_values(plan, "profiles", "user_id").to_pylist()) == list(range(1000, 1250))


def test_a_row_is_a_pure_function_of_its_index(schema_file):
    plan = _plan(schema_file)
    eng = Engine(plan)
    whole = eng.to_arrow("profiles").column("user_id").to_pylist()
    rows = np.array([199, 3, 77, 3, 0], dtype=np.int64)
    got = eng.rows_batch("profiles", rows).column("user_id").to_pylist()
    assert got == [whole[i] for i in rows]


# --- every format: generate, validate, same bytes at any block size and worker count ------------


@pytest.mark.parametrize("fmt", file_formats())
def test_every_format_generates_validates_and_is_block_independent(fmt, schema_file, tmp_path):
    runner = make_runner()
    out = generate_three_ways(app, fmt, schema_file, tmp_path)
    res = runner.invoke(app, ["validate", "--format", fmt, "--schema", str(schema_file), "--out", str(out), "--json"])
    report = json.loads((out / "validation_report.json").read_text())
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert res.exit_code == 0 and report["status"] == "pass", failed[:5]
    unique = {(c["table"], c["column"]) for c in report["checks"] if c["kind"] == "unique" and c["status"] == "pass"}
    assert {("profiles", "user_id"), ("profiles", "backup_user_id")} <= unique
    fks = {c["column"] for c in report["checks"] if c["kind"] == "foreign_key" and c["status"] == "pass"}
    assert {"user_id", "backup_user_id"} <= fks


def test_validate_catches_a_parent_used_twice(schema_file, tmp_path):
    from tests.conformance import reseal, rewrite_table

    runner = make_runner()
    out = tmp_path / "out"
    res = runner.invoke(app, ["generate", "--format", "parquet", "--schema", str(schema_file), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    schema = load_schema(str(schema_file))
    fmt = FORMATS["parquet"]
    data = fmt.read_table(out, schema.table("profiles"), Engine(resolve_plan(schema)).arrow_schemas["profiles"])
    ids = data.column("user_id").to_pylist()
    ids[5] = ids[6]
    data = data.set_column(1, "user_id", pa.array(ids, pa.int64()))
    rewrite_table(fmt, out, schema, "profiles", data)
    reseal(out)
    res = runner.invoke(app, ["validate", "--format", "parquet", "--schema", str(schema_file), "--out", str(out)])
    assert res.exit_code == 1
    report = json.loads((out / "validation_report.json").read_text())
    bad = [c for c in report["checks"] if c["status"] == "fail" and c["kind"] == "unique"]
    assert [(c["table"], c["column"]) for c in bad] == [("profiles", "user_id")]


# --- property: random sizes, seeds and block sizes ----------------------------------------------


PROP = """\
version: 1
name: prop
tables:
  - name: p
    rows: {parents}
    primary_key: k
    columns:
      - {{name: k, type: int64, generator: {{type: uniform_int, params: {{min: -5000000, max: 5000000}}}}}}
  - name: c
    rows: {children}
    columns:
      - {{name: k, type: int64, unique: true, generator: {{type: fk, params: {{table: p}}}}}}
"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parents=st.integers(1, 3000), share=st.floats(0, 1), seed=st.integers(0, 2**63 - 1),
       block=st.integers(1, 500))
def test_property_unique_in_range_block_independent(tmp_path, parents, share, seed, block):
    children = max(1, min(parents, int(share * parents)))
    p = tmp_path / "prop.yaml"
    p.write_text(PROP.format(parents=parents, children=children))
    schema = load_schema(str(p))
    plan = resolve_plan(schema, seed=seed)
    eng = Engine(plan)
    parent_keys = eng.to_arrow("p").column("k").to_numpy()
    whole = eng.to_arrow("c").column("k").to_numpy()
    assert whole.shape == (children,)
    assert np.unique(whole).size == children
    assert np.isin(whole, parent_keys).all()
    blocked = np.concatenate([eng.batch("c", s, e).column("k").to_numpy() for s, e in eng.blocks("c", block)])
    assert (blocked == whole).all()
    # the same rows through another plan's block size
    again = Engine(resolve_plan(schema, seed=seed, block_rows=block)).to_arrow("c").column("k").to_numpy()
    assert (again == whole).all()
    if children < parents:
        with pytest.raises(InfeasibleSchema):
            resolve_plan(schema, seed=seed, rows={"c": parents + 1})


def test_the_documented_example_generates_one_to_one(tmp_path):
    """docs/dsl.md's users → profiles example (80 % coverage), as written there."""
    from tests.helpers import ROOT

    text = (ROOT / "docs" / "dsl.md").read_text()
    block = text.split("### One-to-one keys", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    p = tmp_path / "doc.yaml"
    p.write_text("version: 1\nname: doc\n" + block)
    schema = load_schema(str(p))
    plan = resolve_plan(schema, scale=0.1)
    assert (plan.rows("users"), plan.rows("profiles")) == (1000, 800)
    _assert_one_to_one(plan, key="user_id")
    eng = Engine(plan)
    prof = eng.to_arrow("profiles").to_pylist()
    emails = dict(zip(*(eng.to_arrow("users").column(c).to_pylist() for c in ("user_id", "email")), strict=True))
    assert all(r["contact"] == emails[r["user_id"]] for r in prof)
    assert resolve_plan(schema).rows("profiles") == 8000
