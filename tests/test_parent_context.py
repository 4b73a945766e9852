"""Parent context: a child's ``correlations:`` block conditioned on its parents' columns
(``fk.col`` entries, *givens*), and a ``switch`` joining a copula as a conditional marginal.

Statistical assertions use a fixed seed and tens of thousands of rows, with tolerances several
times the sampling error, so they cannot flake."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from shared.api import load_schema, resolve_plan
from shared.schema_dsl.engine import Engine

ROOT = Path(__file__).resolve().parent.parent

SCHEMA = """\
version: 1
name: pc
seed: 7
tables:
  - name: customers
    rows: 8000
    primary_key: id
    columns:
      - {name: id, type: int, generator: sequence}
      - {name: income, type: float, generator: {type: lognormal, params: {mean: 10, sigma: 0.5}}}
      - {name: age, type: int, min: 18, max: 90, generator: {type: uniform_int, params: {min: 18, max: 90}}}
      - name: tier
        type: string
        generator: {type: choice, params: {values: [basic, plus, gold], weights: [6, 3, 1]}}
    correlations:
      - columns: [income, age, tier]
        matrix: [[1, 0.5, 0.6], [0.5, 1, 0.2], [0.6, 0.2, 1]]
  - name: orders
    rows: {per: customers, distribution: {type: poisson, params: {lam: 5}}}
    primary_key: id
    columns:
      - {name: id, type: int, generator: sequence}
      - {name: customer_id, type: int, generator: {type: fk, params: {table: customers, column: id}}}
      - {name: amount, type: float, generator: {type: normal, params: {mean: 100, std: 20}}}
      - {name: items, type: int, min: 1, max: 20, generator: {type: uniform_int, params: {min: 1, max: 20}}}
      - name: channel
        type: string
        generator:
          type: switch
          params:
            on: customer_id.tier
            cases:
              gold: {type: choice, params: {values: [web, phone, store], weights: [1, 1, 8]}}
            default: {type: choice, params: {values: [web, phone, store], weights: [7, 2, 1]}}
    correlations:
      - columns: [customer_id.income, customer_id.age, amount, items, channel]
        matrix:
          - [1, 0.5, 0.7, 0.0, 0.0]
          - [0.5, 1, 0.0, -0.5, 0.0]
          - [0.7, 0.0, 1, 0.3, 0.5]
          - [0.0, -0.5, 0.3, 1, 0.0]
          - [0.0, 0.0, 0.5, 0.0, 1]
"""


def _plan(tmp_path: Path, text: str = SCHEMA):
    path = tmp_path / "pc.yaml"
    path.write_text(text)
    return resolve_plan(load_schema(str(path)))


def _table(engine: Engine, name: str, block: int) -> pa.Table:
    n = engine.row_count(name)
    return pa.Table.from_batches([engine.batch(name, a, min(a + block, n)) for a in range(0, n, block)])


def _joined(tmp_path: Path):
    engine = Engine(_plan(tmp_path))
    customers = _table(engine, "customers", 4096).to_pandas()
    orders = _table(engine, "orders", 4096).to_pandas()
    return orders.merge(customers, left_on="customer_id", right_on="id", suffixes=("", "_c"))


def test_child_columns_follow_the_parents_latent_correlations(tmp_path):
    j = _joined(tmp_path)
    assert len(j) > 30_000
    # Spearman of two continuous columns with latent ρ is 6/π·asin(ρ/2)
    spearman = lambda a, b: stats.spearmanr(j[a], j[b]).statistic  # noqa: E731
    target = lambda r: 6 / np.pi * np.arcsin(r / 2)  # noqa: E731
    assert abs(spearman("income", "amount") - target(0.7)) < 0.03
    assert abs(spearman("age", "items") - target(-0.5)) < 0.03
    assert abs(spearman("amount", "items") - target(0.3)) < 0.03
    # no direct link in the matrix, and the conditional structure keeps it near what L implies
    assert abs(spearman("income", "items")) < 0.12
    # the parent's own correlation is untouched by its children
    assert abs(spearman("income", "age") - target(0.5)) < 0.03


def test_a_switch_joins_the_copula_as_a_conditional_marginal(tmp_path):
    j = _joined(tmp_path)
    gold = j[j.tier == "gold"].channel.value_counts(normalize=True)
    rest = j[j.tier != "gold"].channel.value_counts(normalize=True)
    assert abs(gold["store"] - 0.8) < 0.03 and abs(rest["web"] - 0.7) < 0.02
    # inside each case the channel's rank follows amount (latent 0.5): later values, higher amounts
    order = {"web": 0, "phone": 1, "store": 2}
    sub = j[j.tier != "gold"]
    assert stats.spearmanr(sub.channel.map(order), sub.amount).statistic > 0.25


def test_the_values_do_not_depend_on_the_block_size(tmp_path):
    engine = Engine(_plan(tmp_path))
    a = _table(engine, "orders", 1000)
    b = _table(Engine(_plan(tmp_path)), "orders", 7777)
    assert a.equals(b)


def test_without_givens_a_block_keeps_its_bytes(tmp_path):
    """The givens' conditioning is the same Cholesky recurrence: a block without them is the
    plain block of before, so adding parent context to one table moves no other table."""
    plain = SCHEMA.replace("customer_id.income, customer_id.age, amount, items, channel",
                           "amount, items, channel")
    rows = plain.splitlines()
    i = rows.index("          - [1, 0.5, 0.7, 0.0, 0.0]")
    rows[i:i + 5] = ["          - [1, 0.3, 0.5]", "          - [0.3, 1, 0.0]", "          - [0.5, 0.0, 1]"]
    plain = "\n".join(rows) + "\n"
    with_p = Engine(_plan(tmp_path))
    (tmp_path / "b").mkdir()
    without = Engine(_plan(tmp_path / "b", plain))
    assert _table(with_p, "customers", 4096).equals(_table(without, "customers", 4096))
    assert not _table(with_p, "orders", 4096).column("amount").equals(_table(without, "orders", 4096).column("amount"))


@pytest.mark.parametrize(("edit", "message", "hint"), [
    (("[1, 0.5, 0.7, 0.0, 0.0]", "[1, 0.4, 0.7, 0.0, 0.0]", "[0.5, 1, 0.0, -0.5, 0.0]", "[0.4, 1, 0.0, -0.5, 0.0]"),
     "tables[1].correlations[0].matrix[0][1]: correlations[0]: the entry of 'customer_id.income' and "
     "'customer_id.age' is 0.4, but two parent columns' correlation is the parent's: customers's "
     "correlations[0] has 0.5", "write 0.5 (in both places)"),
    (("customer_id.age, amount", "customer_id.id, amount"),
     "tables[1].correlations[0].columns[1]: correlations[0] names 'customer_id.id': customers.id is in none "
     "of 'customers''s correlation blocks", "add 'id' to a correlations block of table 'customers'"),
    (("customer_id.age, amount", "custmer_id.age, amount"),
     "correlations[0] names 'custmer_id.age': no column 'custmer_id' in table 'orders'", "customer_id"),
    (("customer_id.age, amount", "amount.age, amount"),
     "correlations[0] names 'amount.age': 'amount' is not a foreign key", None),
])
def test_givens_are_checked_at_load(tmp_path, edit, message, hint):
    text = SCHEMA
    for old, new in zip(edit[::2], edit[1::2], strict=True):
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    proc = subprocess.run([sys.executable, "-P", "-m", "datagen", "describe", "--schema", str(path), "--format",
                           "parquet"], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "COLUMNS": "250", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stderr
    err = " ".join(proc.stderr.split())
    assert str(path) in err and message in err
    if hint:
        assert hint in err
    assert "Traceback" not in err


def test_a_self_reference_cannot_be_a_given(tmp_path):
    text = textwrap.dedent("""\
        version: 1
        name: s
        tables:
          - name: emp
            rows: 100
            primary_key: id
            columns:
              - {name: id, type: int, generator: sequence}
              - {name: boss, type: int, nullable: true, generator: {type: fk, params: {table: emp, column: id}}}
              - {name: pay, type: float, generator: {type: normal, params: {mean: 5, std: 1}}}
              - {name: age, type: float, generator: {type: normal, params: {mean: 40, std: 9}}}
            correlations:
              - columns: [boss.pay, pay, age]
                matrix: [[1, 0.5, 0], [0.5, 1, 0.2], [0, 0.2, 1]]
        """)
    path = tmp_path / "self.yaml"
    path.write_text(text)
    proc = subprocess.run([sys.executable, "-P", "-m", "datagen", "describe", "--schema", str(path), "--format",
                           "parquet"], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "COLUMNS": "250", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert "a self-reference cannot be a given" in " ".join(proc.stderr.split())


VIA = """\
version: 1
name: via
seed: 3
tables:
  - name: airports
    rows: 50
    primary_key: code
    columns:
      - {name: code, type: int, generator: sequence}
  - name: flights
    rows: {per: airports, via: dest, distribution: {type: uniform_int, params: {min: 0, max: 6}}}
    columns:
      - {name: origin, type: int, generator: {type: fk, params: {table: airports, column: code}}}
      - {name: dest, type: int, generator: {type: fk, params: {table: airports, column: code}}}
"""


def test_rows_via_names_the_owning_fk(tmp_path):
    engine = Engine(_plan(tmp_path, VIA))
    flights = _table(engine, "flights", 100).to_pandas()
    assert flights.dest.is_monotonic_increasing  # grouped by the owning parent, in parent order
    assert not flights.origin.is_monotonic_increasing
    (tmp_path / "first").mkdir()
    default = _table(Engine(_plan(tmp_path / "first", VIA.replace("via: dest, ", ""))), "flights", 100).to_pandas()
    assert default.origin.is_monotonic_increasing


def test_rows_via_must_be_an_fk_to_the_parent(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(VIA.replace("via: dest", "via: nowhere"))
    proc = subprocess.run([sys.executable, "-P", "-m", "datagen", "describe", "--schema", str(path), "--format",
                           "parquet"], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "COLUMNS": "250", "PATH": "/usr/bin:/bin"})
    err = " ".join(proc.stderr.split())
    assert proc.returncode == 2
    assert "tables[1].rows.via: rows.via 'nowhere' is not a foreign key of 'flights' to 'airports'" in err
    assert "name one of: origin, dest" in err
