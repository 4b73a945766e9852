"""``switch``: a column's generator chosen by another column's value (issue 12, item 5)."""

from __future__ import annotations

import textwrap

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datagen
from shared import api
from shared.errors import SchemaError

SCHEMA = textwrap.dedent("""\
    version: 1
    name: sw
    seed: 9
    tables:
      - name: accounts
        rows: 3000
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: tier, type: string, generator: {type: choice, params: {values: [gold, silver, bronze], weights: [1, 3, 6]}}}
          - name: amount
            type: decimal(10,2)
            min: 0
            generator:
              type: switch
              params:
                on: tier
                cases:
                  gold: {type: lognormal, params: {mean: 6, sigma: 0.3}}
                  silver: {type: lognormal, params: {mean: 4, sigma: 0.3}}
                default: {type: uniform_float, params: {min: 1, max: 20}}
          - name: label
            type: string
            generator:
              type: switch
              params:
                on: tier
                cases:
                  gold: {type: template, params: {template: "VIP-{id}"}}
                  silver: {type: faker, params: {provider: first_name}}
                  bronze: {type: const, params: {value: none}}
          - {name: churned, type: bool, generator: {type: bernoulli, params: {p: 0.2}}}
          - name: orders
            type: int32
            generator:
              type: switch
              params:
                on: churned
                cases:
                  "true": {type: poisson, params: {lam: 1}}
                  "false": {type: poisson, params: {lam: 8}}
    """)


def _path(tmp_path, text=SCHEMA, name="sw.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_each_row_takes_its_case(tmp_path):
    t = datagen.to_arrow(str(_path(tmp_path)))["accounts"].to_pylist()
    by = {k: [r for r in t if r["tier"] == k] for k in ("gold", "silver", "bronze")}
    mean = {k: sum(float(r["amount"]) for r in v) / len(v) for k, v in by.items()}
    assert 300 < mean["gold"] < 600 and 40 < mean["silver"] < 80 and 1 <= mean["bronze"] <= 20  # e^6, e^4
    assert all(1 <= float(r["amount"]) <= 20 for r in by["bronze"])
    assert all(r["label"] == f"VIP-{r['id']}" for r in by["gold"])
    assert all(r["label"] == "none" for r in by["bronze"]) and len({r["label"] for r in by["silver"]}) > 50
    churned = [r["orders"] for r in t if r["churned"]]
    stayed = [r["orders"] for r in t if not r["churned"]]
    assert sum(churned) / len(churned) < 2 < 6 < sum(stayed) / len(stayed)


def test_adding_a_case_moves_no_other_case(tmp_path):
    more = SCHEMA.replace("            default: {type: uniform_float, params: {min: 1, max: 20}}",
                          "              bronze: {type: const, params: {value: 1}}\n"
                          "            default: {type: uniform_float, params: {min: 1, max: 20}}")
    assert more != SCHEMA
    a = datagen.to_arrow(str(_path(tmp_path)))["accounts"].to_pylist()
    b = datagen.to_arrow(str(_path(tmp_path, more, "more.yaml")))["accounts"].to_pylist()
    assert all(x["amount"] == y["amount"] for x, y in zip(a, b, strict=True) if x["tier"] != "bronze")
    assert all(float(y["amount"]) == 1 for y in b if y["tier"] == "bronze")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 700), st.integers(0, 2**31))
def test_the_same_values_at_any_block_size(tmp_path, block_rows, seed):
    path = _path(tmp_path, SCHEMA.replace("seed: 9", f"seed: {seed}").replace("rows: 3000", "rows: 700"), "b.yaml")
    whole = datagen.to_arrow(str(path))["accounts"]
    plan = api.resolve_plan(api.load_schema(str(path)), block_rows=block_rows)
    from shared.schema_dsl.engine import Engine

    assert Engine(plan).to_arrow("accounts").equals(whole)


def test_workers_give_the_same_bytes(tmp_path):
    path = _path(tmp_path)
    datagen.generate(str(path), format="parquet", out=tmp_path / "a", workers=1)
    datagen.generate(str(path), format="parquet", out=tmp_path / "b", workers=2, block_rows=257)
    assert pq.read_table(tmp_path / "a" / "accounts").equals(pq.read_table(tmp_path / "b" / "accounts"))


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "parquet", "sqlite", "event_stream"])
def test_generates_and_validates_in_every_format(tmp_path, runner, fmt):
    from datagen.cli import app

    path, out = _path(tmp_path), tmp_path / "out"
    result = runner.invoke(app, ["generate", "--format", fmt, "--schema", str(path), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["validate", "--format", fmt, "--schema", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output


AMOUNT = "              gold: {type: lognormal, params: {mean: 6, sigma: 0.3}}"


@pytest.mark.parametrize("old, new, path, message", [
    ("            on: tier\n            cases:\n              gold: {type: lognormal",
     "            on: teir\n            cases:\n              gold: {type: lognormal",
     "tables[0].columns[2].generator.params.on", "on: no column 'teir' in table 'accounts'"),
    ("            on: churned", "            on: orders", "tables[0].columns[5].generator.params.on",
     "'orders' cannot choose its generator by its own value"),
    ('              "true": {type: poisson', '              "maybe": {type: poisson',
     "tables[0].columns[5].generator.params.cases.maybe", "case 'maybe' is not a value of 'churned' (bool)"),
    (AMOUNT, "              gold: {type: fk, params: {table: accounts, column: id}}",
     "tables[0].columns[2].generator.params.cases.gold.type", "'fk' cannot be a case's generator"),
    (AMOUNT, "              gold: {type: uuid4}", "tables[0].columns[2].generator.params.cases.gold.type",
     "generator 'uuid4' cannot produce type decimal(10,2)"),
    (AMOUNT, "              gold: {type: lognormal, params: {mean: 6, sigma: -1}}",
     "tables[0].columns[2].generator.params.cases.gold.params.sigma", ""),
    (AMOUNT, "              gold: {type: poisson}", "tables[0].columns[2].generator.params.cases.gold",
     "generator 'poisson' needs param 'lam'"),
    ("              bronze: {type: const, params: {value: none}}\n", "",
     "tables[0].columns[3].generator.params", "the values 'bronze' of 'tier' get no generator"),
])
def test_each_mistake_is_located_with_its_message(tmp_path, old, new, path, message):
    assert old in SCHEMA
    with pytest.raises(SchemaError) as exc:
        api.load_schema(str(_path(tmp_path, SCHEMA.replace(old, new))))
    assert any(p.path.startswith(path) and message in p.message for p in exc.value.problems), exc.value.render()


def test_the_cli_says_it_in_one_line_with_exit_2(tmp_path, runner):
    from datagen.cli import app

    path = _path(tmp_path, SCHEMA.replace("              bronze: {type: const, params: {value: none}}\n", ""))
    result = runner.invoke(app, ["describe", "--format", "csv", "--schema", str(path)])
    assert result.exit_code == 2
    assert "the values 'bronze' of 'tier' get no generator (hint: add default: {type: …} for the other rows)" \
        in result.output
    assert "Traceback" not in result.output
