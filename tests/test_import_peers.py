"""Importers of other tools' specs (issue 15, item 3): sdgen scenarios, DW Simulator experiments and
Data-Generation schemas. Each fixture in tests/data/peers/ is written in the tool's own format;
each converts to a schema the loader accepts, which generates and validates with status pass;
each named feature maps as docs/import.md (other tools' specs) says; what the DSL cannot say is a warning
naming it; a malformed file is one UsageError naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

import datagen
from datagen import importers
from datagen.importers import Imported, get
from shared.errors import UsageError
from tests.helpers import ROOT

PEERS = ROOT / "tests" / "data" / "peers"
FIXTURES = {"sdgen": PEERS / "sdgen_fleet.yaml", "dw-sim": PEERS / "dw_sim_retail.json",
            "data-generation": PEERS / "data_generation_retail.yaml"}


def _convert(name: str, path: Path | str) -> Imported:
    return get(name)(str(path))


def _table(imp: Imported, name: str) -> dict:
    return next(t for t in imp.schema["tables"] if t["name"] == name)


def _col(imp: Imported, table: str, column: str) -> dict:
    return next(c for c in _table(imp, table)["columns"] if c["name"] == column)


def _warned(imp: Imported, *words: str) -> bool:
    return any(all(w in str(f) for w in words) for f in imp.warnings)


@pytest.fixture(scope="module")
def converted() -> dict[str, Imported]:
    return {name: _convert(name, path) for name, path in FIXTURES.items()}


def test_the_three_are_registered():
    assert {"sdgen", "dw-sim", "data-generation"} <= set(importers.names())
    assert all(i["description"] for i in importers.list() if i["name"] in FIXTURES)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_converts_generates_and_validates(converted, name, tmp_path):
    imp = converted[name]
    path = tmp_path / "schema.yaml"
    path.write_text(yaml.safe_dump(imp.schema, sort_keys=False))
    datagen.load_schema(str(path))  # the loader accepts it
    out = tmp_path / "out"
    datagen.generate(str(path), format="parquet", out=out, workers=1)
    report = datagen.validate(str(path), out=out)
    assert report["status"] == "pass", [c for c in report["checks"] if c["status"] == "fail"]
    assert all(f.line for f in imp.warnings + imp.notes if f.where), "findings carry the source line"


# --- sdgen ---------------------------------------------------------------------------------------

def test_sdgen_uniform_int_max_is_exclusive(converted, tmp_path):
    imp = converted["sdgen"]
    assert _col(imp, "devices", "slot")["generator"] == {"type": "uniform_int", "params": {"min": 1, "max": 4}}
    assert "max 5 is exclusive" in imp.comments["devices.slot"]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(imp.schema))
    datagen.generate(str(path), format="parquet", out=tmp_path / "o", workers=1, include=["fleet_customers", "devices"])
    slots = pq.read_table(tmp_path / "o" / "devices")["slot"]
    assert pc.min(slots).as_py() == 1 and pc.max(slots).as_py() == 4


def test_sdgen_relative_time_series_start_and_jitter(converted):
    imp = converted["sdgen"]
    gen = _col(imp, "readings", "observed_at")["generator"]
    assert gen["params"] == {"start": "-7d", "step": "30s", "jitter": "45s", "ordered": False}
    assert _warned(imp, "readings.observed_at", "relative start -7d", "anchor")
    assert _col(imp, "devices", "installed_at")["generator"]["params"] == {"start": "2024-01-01T00:00:00Z",
                                                                           "step": "1h"}


def test_sdgen_generators_map(converted):
    imp = converted["sdgen"]
    cust = _table(imp, "fleet_customers")  # target_table names the table
    assert cust["primary_key"] == "customer_id"  # referenced by an fk
    assert _col(imp, "fleet_customers", "customer_id")["generator"] == {"type": "uuid4"}
    assert _col(imp, "fleet_customers", "customer_name")["generator"]["params"] == {"provider": "name"}
    assert _col(imp, "fleet_customers", "headquarter_city")["generator"]["params"] == {"provider": "city"}
    assert _col(imp, "fleet_customers", "region")["generator"] == {"type": "const", "params": {"value": "emea"}}
    assert _col(imp, "fleet_customers", "plan_tier")["generator"]["params"]["weights"] == [0.5, 0.35, 0.15]
    assert _col(imp, "devices", "active")["generator"] == {"type": "bernoulli", "params": {"p": 0.8}}
    assert _col(imp, "devices", "customer_id")["generator"]["params"] == {"table": "fleet_customers",
                                                                        "column": "customer_id"}
    assert _col(imp, "readings", "device_id")["nullable"] is True
    assert _col(imp, "readings", "temperature")["generator"] == {"type": "normal",
                                                                  "params": {"mean": 21.5, "std": 3.2}}
    assert _col(imp, "readings", "reading_id")["type"] == "int64"
    assert _col(imp, "devices", "slot")["type"] == "int32"
    assert _warned(imp, "devices.device_name", "faker_device_name")
    assert any("table_mode" in str(n) for n in imp.notes)
    assert imp.schema["seed"] == 4242 and imp.schema["name"] == "fleet"


def test_sdgen_unknown_generator_and_type_warn(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"id": "x", "entities": [{"name": "t", "rows": 5, "columns": [
        {"name": "a", "type": "money", "generator": {"type": "faker_iban"}},
        {"name": "b", "type": "int", "generator": {"type": "uniform_int", "params": {"min": 3, "max": 3}}}]}]}))
    imp = _convert("sdgen", path)
    assert _warned(imp, "t.a", "type 'money'") and _warned(imp, "t.a", "generator 'faker_iban'")
    assert _warned(imp, "t.b", "max 3 is not above min 3")
    datagen.load_schema(imp.schema)


# --- DW Simulator --------------------------------------------------------------------------------

def test_dw_sim_columns_map(converted):
    imp = converted["dw-sim"]
    assert imp.schema["name"] == "retail_experiment"
    assert _table(imp, "customers")["primary_key"] == "customer_id"
    assert _col(imp, "customers", "customer_id")["generator"] == {"type": "sequence", "params": {"start": 0}}
    email = _col(imp, "customers", "email")
    assert email == {"name": "email", "type": "string", "max_length": 120, "unique": True,
                     "generator": {"type": "faker", "params": {"provider": "email"}}}
    city = _col(imp, "customers", "city")
    assert city["nullable"] is True and city["null_rate"] == 0.05 and city["max_length"] == 8
    assert _col(imp, "customers", "nickname")["generator"]["params"] == {"provider": "word"}
    assert _col(imp, "customers", "nickname")["max_length"] == 30
    assert _col(imp, "customers", "signup_date")["generator"]["params"] == {"start": "2023-01-01",
                                                                            "end": "2024-12-31"}
    assert _col(imp, "order_lines", "shipped_on")["generator"]["params"] == {"start": "2020-01-01",
                                                                            "end": "2025-12-31"}
    assert _col(imp, "customers", "is_vip")["generator"] == {"type": "bernoulli", "params": {"p": 0.5}}
    sku = _col(imp, "products", "sku")
    assert sku["unique"] is True and sku["generator"]["params"] == {"provider": "ean8"}
    stock = _col(imp, "products", "stock")
    assert stock["generator"] == {"type": "uniform_int", "params": {"min": 0, "max": 250}}


def test_dw_sim_distributions_keep_their_bounds(converted):
    imp = converted["dw-sim"]
    price = _col(imp, "products", "price")
    assert price["generator"] == {"type": "normal", "params": {"mean": 60.0, "std": 25.0}}
    assert (price["min"], price["max"]) == (5.0, 500.0)
    weight = _col(imp, "products", "weight_kg")
    assert weight["generator"] == {"type": "exponential", "params": {"scale": 2.0}}
    assert (weight["min"], weight["max"]) == (0, 40.0)
    rating = _col(imp, "products", "rating")
    assert rating["generator"] == {"type": "beta", "params": {"a": 5.0, "b": 2.0}}
    assert (rating["min"], rating["max"]) == (1.0, 5.0)
    items = _col(imp, "orders", "items")
    assert (items["type"], items["min"], items["max"]) == ("int64", 1, 12)


def test_dw_sim_foreign_keys(converted):
    imp = converted["dw-sim"]
    fk = _col(imp, "orders", "customer_id")
    assert fk == {"name": "customer_id", "type": "int64",
                  "generator": {"type": "fk", "params": {"table": "customers", "column": "customer_id"}}}
    ref = _col(imp, "orders", "referrer_id")
    assert ref["nullable"] is True and ref["null_rate"] == 0.05 and ref["generator"]["type"] == "fk"
    assert _table(imp, "order_lines")["primary_key"] == ["order_id", "line_no"]


def test_dw_sim_unmappable_features_warn(tmp_path):
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"name": "e", "tables": [{"name": "t", "target_rows": 10, "columns": [
        {"name": "_row_id", "data_type": "INT", "is_unique": True},
        {"name": "score", "data_type": "FLOAT", "distribution": {"type": "pareto", "parameters": {"a": 1}}},
        {"name": "code", "data_type": "VARCHAR", "faker_rule": "profile.mail"},
        {"name": "f", "data_type": "FLOAT", "is_unique": True}]}]}))
    imp = _convert("dw-sim", path)
    assert _col(imp, "t", "_row_id")["generator"]["params"] == {"start": 1}
    assert _warned(imp, "t.score", "distribution 'pareto'")
    assert _warned(imp, "t.code", "faker_rule profile.mail") and _col(imp, "t", "code")["generator"]["params"] == {
        "provider": "profile"}
    assert _warned(imp, "t.f", "is_unique FLOAT")
    assert _col(imp, "t", "code")["max_length"] == 255  # DW Simulator's default varchar_length
    assert all(f.line for f in imp.warnings)


# --- Data-Generation -----------------------------------------------------------------------------

def test_data_generation_min_max_children_and_lookups(converted, tmp_path):
    imp = converted["data-generation"]
    orders = _table(imp, "orders")
    assert orders["rows"] == {"per": "customers", "total": 240, "min": 1, "max": 8}
    assert _col(imp, "orders", "customer_id")["generator"]["type"] == "fk"
    assert _col(imp, "orders", "signup_date")["generator"] == {"type": "expr",
                                                               "params": {"expr": "customer_id.signup_date"}}
    assert _col(imp, "orders", "base_price")["generator"]["params"]["expr"] == "product_id.base_price"
    assert _warned(imp, "orders.product_id", "min/max children 0..30")
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(imp.schema))
    datagen.generate(str(path), format="parquet", out=tmp_path / "o", workers=1, profile="realistic")
    o = pq.read_table(tmp_path / "o" / "orders")
    counts = o.group_by("customer_id").aggregate([("order_id", "count")])["order_id_count"]
    assert o.num_rows == 240 and pc.min(counts).as_py() >= 1 and pc.max(counts).as_py() <= 8
    assert len(counts) == 60  # min 1: every customer has orders
    c = pq.read_table(tmp_path / "o" / "customers").select(["customer_id", "signup_date"])
    joined = o.select(["customer_id", "signup_date", "order_date"]).join(c, "customer_id", right_suffix="_c")
    assert joined["signup_date"].equals(joined["signup_date_c"])
    days = pc.days_between(joined["signup_date"], joined["order_date"])
    assert pc.min(days).as_py() >= 0 and pc.max(days).as_py() <= 365


def test_data_generation_columns_and_computed(converted):
    imp = converted["data-generation"]
    assert _table(imp, "customers")["primary_key"] == "customer_id"
    assert _col(imp, "products", "product_id")["generator"] == {"type": "sequence", "params": {"start": 100}}
    age = _col(imp, "customers", "age")
    assert age["generator"] == {"type": "normal", "params": {"mean": 38, "std": 12}}
    assert (age["min"], age["max"]) == (18, 85)
    assert _col(imp, "products", "base_price")["type"] == "decimal(18,2)"
    assert _col(imp, "customers", "region")["allowed"] == ["north", "south", "east", "west"]
    assert _col(imp, "customers", "email")["unique"] is True
    assert _col(imp, "customers", "vip")["generator"] == {"type": "bernoulli", "params": {"p": 0.1}}
    code = _col(imp, "customers", "member_code")
    assert code["generator"]["params"]["expr"] == "concat('MEM', lpad(to_string(row() + 1), 6, '0'))"
    assert code["pattern"] == "MEM[0-9]{6}"
    assert _col(imp, "orders", "order_date")["type"] == "date"
    assert _col(imp, "orders", "revenue")["generator"]["params"]["expr"] == (
        "round(((units * unit_price) * (1 - coalesce(discount, 0))), 2)")
    assert _col(imp, "orders", "big_order")["type"] == "bool"
    assert _warned(imp, "orders.score", "units ** 2")


def test_data_generation_corruption(converted):
    imp = converted["data-generation"]
    assert imp.schema["profile"] == "dirty"
    assert imp.schema["corruption"]["only"] == ["extra_duplicates", "nulls", "out_of_range", "type_noise"]
    assert _table(imp, "orders")["corruption"] == {"extra_duplicates": 0.01, "out_of_range": 0.01}
    assert _col(imp, "orders", "discount")["corruption"] == {"nulls": 0.02}
    assert _col(imp, "orders", "units")["corruption"] == {"type_noise": 0.02}
    assert _warned(imp, "outlier_rate") and _warned(imp, "orders.units", "type_noise value 'N/A'")


# --- malformed input -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "text", "suffix", "message"), [
    ("sdgen", "entities: [\n  {name: a, rows: 3\n", ".yaml", "not valid YAML"),
    ("sdgen", "id: x\n", ".yaml", "not an sdgen scenario"),
    ("sdgen", "entities:\n  - name: a\n    rows: -1\n    columns: []\n", ".yaml", ":3: entity a: rows must be"),
    ("dw-sim", '{"name": "x", "tables": [', ".json", "not valid JSON"),
    ("dw-sim", '{"name": "x", "tables": [{"name": "t", "target_rows": 1, "columns": '
               '[{"name": "c", "data_type": "BLOB"}]}]}', ".json", "data_type 'BLOB' is not one of"),
    ("data-generation", "dataset: x\ntables: []\n", ".yaml", "not a Data-Generation schema"),
    ("data-generation", "dataset: x\ntables:\n  t:\n    columns: [{name: a, type: id}]\nrelationships:\n"
                        "  - {parent_table: p, parent_key: id, child_table: t, child_key: a}\n", ".yaml",
     "unknown table 'p'"),
])
def test_malformed_input_is_one_usage_error_naming_the_file(tmp_path, name, text, suffix, message):
    path = tmp_path / f"spec{suffix}"
    path.write_text(text)
    with pytest.raises(UsageError) as err:
        _convert(name, path)
    assert str(err.value).startswith(str(path)) and message in str(err.value)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_a_missing_file(tmp_path, name):
    with pytest.raises(UsageError, match="no such file"):
        _convert(name, tmp_path / "nope.yaml")
