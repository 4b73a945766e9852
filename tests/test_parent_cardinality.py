"""Cardinality that depends on the parent (issue 12, item 4).

* a per-parent count drawn by a ``switch`` on a column of the parent (churned accounts have fewer
  orders);
* a fixed ``total`` spread over the parents within ``min``/``max``;
* ``cover: true`` on a foreign key: every parent used at least once.

Refusals that need no CLI override have a file each in ``tests/bad_schemas/``.
"""

from __future__ import annotations

import json
import re
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datagen.cli import app
from shared.api import Engine, load_schema, resolve_plan
from shared.formats import FORMATS
from tests.helpers import file_formats, generate_three_ways, make_runner

CHURN = textwrap.dedent("""\
    version: 1
    name: churn
    seed: 7
    tables:
      - name: accounts
        rows: 600
        primary_key: account_id
        columns:
          - {name: account_id, type: int64, generator: sequence}
          - {name: churned, type: bool, hidden: true, generator: {type: bernoulli, params: {p: 0.3}}}
          - {name: tier, type: string, generator: {type: choice, params: {values: [gold, basic]}}}
      - name: orders
        rows:
          per: accounts
          max: 40
          distribution:
            type: switch
            params:
              on: churned                      # a column of the parent (accounts)
              cases:
                "true":  {type: poisson, params: {lam: 1}}
                "false": {type: poisson, params: {lam: 9}}
        primary_key: order_id
        columns:
          - {name: order_id, type: int64, generator: sequence}
          - {name: account_id, type: int64, generator: {type: fk, params: {table: accounts}}}
          - {name: was_churned, type: string, generator: {type: template, params: {template: "{account_id.churned}"}}}
""")


def _write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _counts(eng, parent, key, child, fk):
    keys = eng.to_arrow(parent).column(key).to_numpy()
    vals = eng.to_arrow(child).column(fk).to_numpy()
    u, c = np.unique(vals, return_counts=True)
    out = np.zeros(keys.size, np.int64)
    out[np.searchsorted(keys, u)] = c
    return keys, out


# --- (a) a count that depends on a parent column ------------------------------------------------


def test_switch_count_follows_the_parent_column(tmp_path):
    plan = resolve_plan(load_schema(str(_write(tmp_path, CHURN))))
    eng = Engine(plan)
    _, counts = _counts(eng, "accounts", "account_id", "orders", "account_id")
    churned = Engine(plan).to_arrow("accounts")  # hidden: read through the engine's reference
    assert "churned" not in churned.column_names
    flags = np.asarray(eng.reference("accounts", "churned", np.arange(plan.rows("accounts"))), bool)
    assert counts[flags].mean() < 1.5 and counts[~flags].mean() > 7.5
    assert counts.max() <= 40 and counts.sum() == plan.rows("orders")
    orders = eng.to_arrow("orders")
    # every child sees its owning parent's flag
    owner_flag = flags[orders.column("account_id").to_numpy() - 1]
    assert orders.column("was_churned").to_pylist() == ["true" if f else "false" for f in owner_flag]


def test_switch_count_is_block_independent_and_moves_no_parent_value(tmp_path):
    """A parent-dependent count is a pure function of seed and schema: any block size gives the
    same rows, and reading the parent's column moves none of the parent's values."""
    schema = load_schema(str(_write(tmp_path, CHURN)))
    a = Engine(resolve_plan(schema)).to_arrow("orders")
    assert a.equals(Engine(resolve_plan(schema, block_rows=13)).to_arrow("orders"))
    plain = re.sub(r"      distribution:\n(?:        .*\n)+", "      distribution: {type: poisson, params: {lam: 3}}\n",
                   CHURN)
    assert "switch" not in plain
    other = load_schema(str(_write(tmp_path, plain, "plain.yaml")))
    assert Engine(resolve_plan(other)).to_arrow("accounts").equals(Engine(resolve_plan(schema)).to_arrow("accounts"))


def test_switch_count_on_a_grandparent_column_through_the_parents_fk(tmp_path):
    text = textwrap.dedent("""\
        version: 1
        name: grand
        tables:
          - name: regions
            rows: 5
            primary_key: rid
            columns:
              - {name: rid, type: int64, generator: sequence}
              - {name: big, type: bool, generator: {type: bernoulli, params: {p: 0.5}}}
          - name: stores
            rows: 200
            primary_key: sid
            columns:
              - {name: sid, type: int64, generator: sequence}
              - {name: rid, type: int64, generator: {type: fk, params: {table: regions}}}
          - name: staff
            rows:
              per: stores
              distribution:
                type: switch
                params:
                  on: rid.big
                  cases: {"true": {type: uniform_int, params: {min: 10, max: 10}}}
                  default: {type: uniform_int, params: {min: 1, max: 1}}
            columns:
              - {name: sid, type: int64, generator: {type: fk, params: {table: stores}}}
        """)
    plan = resolve_plan(load_schema(str(_write(tmp_path, text))))
    eng = Engine(plan)
    big = np.asarray(eng.reference("stores", "rid.big", np.arange(200)), bool)
    _, counts = _counts(eng, "stores", "sid", "staff", "sid")
    assert (counts == np.where(big, 10, 1)).all()


@pytest.mark.parametrize(("change", "path", "message"), [
    ("on: churned", "rows.distribution.params.on", "no column 'churn' in table 'accounts'"),
    ('"true":  {type: poisson, params: {lam: 1}}', "rows.distribution.params.cases.true.type",
     "'regex' is not a numeric distribution"),
])
def test_switch_count_refusals(tmp_path, change, path, message):
    from shared.errors import SchemaError

    bad = {"on: churned": "on: churn",
           '"true":  {type: poisson, params: {lam: 1}}': '"true":  {type: regex, params: {pattern: a}}'}[change]
    with pytest.raises(SchemaError) as exc:
        load_schema(str(_write(tmp_path, CHURN.replace(change, bad))))
    probs = exc.value.problems
    assert any(p.path == "tables[1]." + path and message in p.message for p in probs), probs


# --- (b) a fixed total spread over the parents --------------------------------------------------

STAFF = textwrap.dedent("""\
    version: 1
    name: staff
    tables:
      - name: departments
        rows: 40
        primary_key: dept_id
        columns:
          - {name: dept_id, type: int64, generator: sequence}
      - name: employees                  # 1,400 employees over 40 departments, each 10-60
        rows: {per: departments, total: 1400, min: 10, max: 60}
        primary_key: emp_id
        columns:
          - {name: emp_id, type: int64, generator: sequence}
          - {name: dept_id, type: int64, generator: {type: fk, params: {table: departments}}}
""")


def _spread(plan, table="employees", parent="departments"):
    return plan.tables[table].per.counts(np.arange(plan.rows(parent), dtype=np.int64))


def test_total_is_exact_within_bounds_and_follows_rows_and_scale(tmp_path):
    schema = load_schema(str(_write(tmp_path, STAFF)))
    plan = resolve_plan(schema)
    c = _spread(plan)
    assert plan.rows("employees") == c.sum() == 1400 and c.min() >= 10 and c.max() <= 60 and c.std() > 0
    _, seen = _counts(Engine(plan), "departments", "dept_id", "employees", "dept_id")
    assert (seen == c).all()
    over = resolve_plan(schema, rows={"employees": 2000})
    assert over.rows("employees") == 2000 and _spread(over).max() <= 60
    half = resolve_plan(schema, scale=0.5)
    assert (half.rows("departments"), half.rows("employees")) == (20, 700)
    tight = resolve_plan(schema, scale=0.5, rows={"departments": 10})  # scaled total kept inside 100..600
    assert tight.rows("employees") == 600 and (_spread(tight) == 60).all()


@pytest.mark.parametrize("kw", [{"rows": {"employees": 3000}}, {"rows": {"employees": 399}},
                                {"rows": {"departments": 20}}])
def test_total_outside_the_bounds_is_infeasible(tmp_path, kw):
    from shared.errors import InfeasibleSchema

    with pytest.raises(InfeasibleSchema) as exc:
        resolve_plan(load_schema(str(_write(tmp_path, STAFF))), **kw)
    (p,) = exc.value.problems
    assert p.path == "tables[1].rows.total" and "infeasible" in p.message and p.hint


def test_total_shaped_by_a_distribution_and_by_a_parent_column(tmp_path):
    text = STAFF.replace("{per: departments, total: 1400, min: 10, max: 60}",
                         "{per: departments, total: 1400, min: 10, max: 60, distribution: {type: switch, params: "
                         "{on: big, cases: {'true': {type: uniform_float, params: {min: 5, max: 5}}}, "
                         "default: {type: uniform_float, params: {min: 1, max: 1}}}}}")
    text = text.replace("      - {name: dept_id, type: int64, generator: sequence}\n",
                        "      - {name: dept_id, type: int64, generator: sequence}\n"
                        "      - {name: big, type: bool, generator: {type: bernoulli, params: {p: 0.25}}}\n", 1)
    plan = resolve_plan(load_schema(str(_write(tmp_path, text))))
    eng = Engine(plan)
    big = np.asarray(eng.reference("departments", "big", np.arange(40)), bool)
    c = _spread(plan)
    assert c.sum() == 1400 and c.min() >= 10 and c.max() <= 60
    assert c[big].mean() > 1.5 * c[~big].mean()


PROP_TOTAL = """\
version: 1
name: prop
tables:
  - name: p
    rows: {parents}
    primary_key: k
    columns:
      - {{name: k, type: int64, generator: sequence}}
  - name: c
    rows: {{per: p, total: {total}, min: {lo}{hi}}}
    columns:
      - {{name: k, type: int64, generator: {{type: fk, params: {{table: p, column: k}}}}}}
"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parents=st.integers(1, 400), lo=st.integers(0, 20), width=st.one_of(st.none(), st.integers(0, 30)),
       share=st.floats(0, 1), seed=st.integers(0, 2**63 - 1), block=st.integers(1, 300))
def test_property_total_exact_bounded_block_independent(tmp_path, parents, lo, width, share, seed, block):
    hi = None if width is None else lo + width
    top = (hi if hi is not None else lo + 50) * parents
    total = max(1, lo * parents + int(share * (top - lo * parents)))
    if total < lo * parents or total > top:  # only max 0 with min 0: no total fits
        return
    p = _write(tmp_path, PROP_TOTAL.format(parents=parents, total=total, lo=lo,
                                           hi="" if hi is None else f", max: {hi}"), "prop.yaml")
    schema = load_schema(str(p))
    plan = resolve_plan(schema, seed=seed)
    c = _spread(plan, "c", "p")
    assert c.sum() == total == plan.rows("c") and c.min() >= lo and (hi is None or c.max() <= hi)
    eng = Engine(plan)
    whole = eng.to_arrow("c").column("k").to_numpy()
    assert (np.bincount(whole - 1, minlength=parents) == c).all()
    again = Engine(resolve_plan(schema, seed=seed, block_rows=block))
    blocked = np.concatenate([again.batch("c", s, e).column("k").to_numpy() for s, e in again.blocks("c", block)])
    assert (blocked == whole).all()


# --- (c) cover: every parent used at least once -------------------------------------------------

SHOP = textwrap.dedent("""\
    version: 1
    name: shop
    tables:
      - name: products
        rows: 300
        primary_key: product_id
        columns:
          - {name: product_id, type: int64, generator: {type: sequence, params: {start: 100}}}
      - name: sales                      # every product sold at least once
        rows: 1000
        primary_key: sale_id
        columns:
          - {name: sale_id, type: int64, generator: sequence}
          - name: product_id
            type: int64
            generator: {type: fk, params: {table: products, cover: true, skew: {type: zipf, params: {a: 1.3}}}}
""")


def test_cover_uses_every_parent_and_keeps_the_other_rows(tmp_path):
    schema = load_schema(str(_write(tmp_path, SHOP)))
    v = Engine(resolve_plan(schema)).to_arrow("sales").column("product_id").to_numpy()
    assert np.array_equal(np.sort(v[:300]), np.arange(100, 400))  # the first 300 rows: a permutation
    plain = load_schema(str(_write(tmp_path, SHOP.replace("cover: true, ", ""), "plain.yaml")))
    w = Engine(resolve_plan(plain)).to_arrow("sales").column("product_id").to_numpy()
    assert np.array_equal(v[300:], w[300:])  # later rows draw as without cover (skew kept)
    assert not np.array_equal(v[:300], w[:300])
    for block in (1, 7, 64):
        eng = Engine(resolve_plan(schema, block_rows=block))
        assert np.array_equal(np.concatenate([eng.batch("sales", a, b).column("product_id").to_numpy()
                                              for a, b in eng.blocks("sales")]), v)


@pytest.mark.parametrize("kw", [{"rows": {"sales": 299}}, {"rows": {"products": 1001}}])
def test_cover_with_fewer_children_than_parents_is_infeasible(tmp_path, kw):
    from shared.errors import InfeasibleSchema

    schema = load_schema(str(_write(tmp_path, SHOP)))
    assert resolve_plan(schema, rows={"sales": 300}).rows("sales") == 300
    with pytest.raises(InfeasibleSchema) as exc:
        resolve_plan(schema, **kw)
    (p,) = exc.value.problems
    assert p.path == "tables[1].columns[1].generator.params.cover" and "at least once" in p.message


@pytest.mark.parametrize(("edit", "message"), [
    ("type: int64\n        unique: true\n        generator: {type: fk", "one-to-one"),
    ("type: int64\n        nullable: true\n        null_rate: 0.1\n        generator: {type: fk",
     "a null row would leave its parent uncovered"),
])
def test_cover_refusals(tmp_path, edit, message):
    from shared.errors import SchemaError

    text = SHOP.replace("type: int64\n        generator: {type: fk", edit).replace("skew: {type: zipf, params: {a: 1.3}}",
                                                                               "column: product_id")
    with pytest.raises(SchemaError) as exc:
        load_schema(str(_write(tmp_path, text)))
    assert any(p.path.endswith("generator.params.cover") and message in p.message for p in exc.value.problems)


def test_validate_catches_an_uncovered_parent(tmp_path):
    from tests.conformance import reseal, rewrite_table

    schema_file = _write(tmp_path, SHOP)
    runner = make_runner()
    out = tmp_path / "out"
    res = runner.invoke(app, ["generate", "--format", "parquet", "--schema", str(schema_file), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    schema = load_schema(str(schema_file))
    fmt = FORMATS["parquet"]
    data = fmt.read_table(out, schema.table("sales"), Engine(resolve_plan(schema)).arrow_schemas["sales"])
    ids = np.array(data.column("product_id").to_numpy())
    gone = int(ids[0])
    ids[ids == gone] = gone + 1 if gone < 399 else gone - 1
    import pyarrow as pa

    rewrite_table(fmt, out, schema, "sales", data.set_column(1, "product_id", pa.array(ids, pa.int64())))
    reseal(out)
    res = runner.invoke(app, ["validate", "--format", "parquet", "--schema", str(schema_file), "--out", str(out)])
    assert res.exit_code == 1
    report = json.loads((out / "validation_report.json").read_text())
    bad = [c for c in report["checks"] if c["status"] == "fail" and c["kind"] != "deterministic_replay"]
    assert [(c["kind"], c["column"], c["sample"]) for c in bad] == [("coverage", "product_id", [gone])]


# --- every format: generate, validate, same bytes at any block size and worker count ------------


@pytest.mark.parametrize("fmt", file_formats())
def test_every_format_generates_validates_and_is_block_independent(fmt, tmp_path):
    both = STAFF + "".join(x.split("tables:\n", 1)[1] for x in (CHURN, SHOP))
    schema_file = _write(tmp_path, both, "both.yaml")
    runner = make_runner()
    out = generate_three_ways(app, fmt, schema_file, tmp_path)
    res = runner.invoke(app, ["validate", "--format", fmt, "--schema", str(schema_file), "--out", str(out), "--json"])
    report = json.loads((out / "validation_report.json").read_text())
    assert res.exit_code == 0 and report["status"] == "pass", [c for c in report["checks"] if c["status"] == "fail"][:5]
    assert [c["status"] for c in report["checks"] if c["kind"] == "coverage"] == ["pass"]
