"""Cardinality that depends on the parent (issue 12, item 4).

* a per-parent count drawn by a ``switch`` on a column of the parent (churned accounts have fewer
  orders);
* a fixed ``total`` spread over the parents within ``min``/``max``;
* ``cover: true`` on a foreign key: every parent used at least once.

Refusals that need no CLI override have a file each in ``tests/bad_schemas/``.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

from shared.api import Engine, load_schema, resolve_plan

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
