"""``datagen.synthohive`` (issue 16 item 4, issue 18): SynthoHive's interface over fit, the engine,
report and Hive registration — roots by count, children by the learned cardinality, the
metadata's declarations applied to the fitted schema, errors by message, save/load, the report,
``save_to_hive``'s checks and its calls (a recording stand-in for the session: the Hive path
itself is tests/test_spark.py's)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("scipy")

from datagen.synthohive import Constraint, Metadata, PrivacyConfig, Synthesizer, TableConfig  # noqa: E402
from shared.errors import InfeasibleSchema, UsageError  # noqa: E402


def _data(n: int = 300, seed: int = 3) -> dict[str, pd.DataFrame]:
    """Users and their orders; ``buyer`` is not named like the key (fit alone finds no relation)."""
    rng = np.random.default_rng(seed)
    users = pd.DataFrame({"user_id": np.arange(1, n + 1), "region": rng.choice(["EU", "US", "APAC"], n),
                          "age": rng.integers(18, 80, n), "email": [f"user{i}@example.com" for i in range(n)]})
    per = rng.poisson(3, n)
    m = int(per.sum())
    orders = pd.DataFrame({"order_id": np.arange(1, m + 1), "buyer": np.repeat(users.user_id.to_numpy(), per),
                           "amount": np.round(rng.lognormal(3, 0.5, m), 2),
                           "status": rng.choice(["paid", "refunded", "open"], m, p=[0.8, 0.05, 0.15])})
    return {"users": users, "orders": orders}


def _metadata() -> Metadata:
    meta = Metadata()
    meta.add_table("users", pk="user_id", constraints={"age": Constraint(min=21, max=70)})
    meta.add_table("orders", pk="order_id", fk={"buyer": "users.user_id"},
                   constraints={"amount": Constraint(min=10, max=100), "status": Constraint(allowed=["paid", "open"])})
    return meta


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module")
def fitted(data):
    return Synthesizer(_metadata(), PrivacyConfig(pii_columns=["users.email"]), seed=7).fit(data=data)


def _table(schema, name):
    return next(t for t in schema["tables"] if t["name"] == name)


def _column(schema, table, name):
    return next(c for c in _table(schema, table)["columns"] if c["name"] == name)


def test_roots_by_count_children_by_learned_cardinality(fitted):
    frames = fitted.sample(num_rows={"users": 120})
    users, orders = frames["users"], frames["orders"]
    assert len(users) == 120
    assert 120 * 2 < len(orders) < 120 * 4  # ≈ 2.9 orders per user, as in the source
    assert set(orders["buyer"]) <= set(users["user_id"])  # every order references a generated user
    assert users["user_id"].is_unique and orders["order_id"].is_unique
    assert len(fitted.sample(num_rows={"users": 240})["orders"]) > len(orders)  # the children follow their parents
    assert len(fitted.sample()["users"]) == 300  # a root without a count keeps the source's


def test_the_metadata_is_applied_to_the_schema(fitted):
    schema = fitted.schema
    orders = _table(schema, "orders")
    assert orders["rows"]["per"] == "users"  # the declared fk owns the rows (fit alone found none)
    assert orders["primary_key"] == "order_id"
    assert _column(schema, "orders", "buyer")["generator"] == {"type": "fk",
                                                               "params": {"table": "users", "column": "user_id"}}
    assert all("buyer" not in b["columns"] for b in orders.get("correlations", []))
    amount = _column(schema, "orders", "amount")
    assert (amount["min"], amount["max"]) == (10, 100)
    assert _column(schema, "orders", "status")["allowed"] == ["paid", "open"]
    assert _column(schema, "orders", "status")["generator"]["params"]["values"] == ["paid", "open"]
    age = _column(schema, "users", "age")
    assert (age["min"], age["max"]) == (21, 70)
    assert _column(schema, "users", "email")["generator"]["type"] == "faker"  # pii_columns → fake
    text = fitted.to_yaml()
    assert "Declared in the metadata: references users.user_id" in text
    frames = fitted.sample(num_rows={"users": 200}, seed=1)
    assert frames["orders"]["amount"].between(10, 100).all()
    assert frames["users"]["age"].between(21, 70).all()
    assert set(frames["orders"]["status"]) <= {"paid", "open"}
    assert not set(frames["users"]["email"]) & set(_data()["users"]["email"])  # no source value


def test_declared_primary_key_and_unique_override_fit():
    rng = np.random.default_rng(5)
    n = 200
    items = pd.DataFrame({"id": np.arange(n), "code": rng.permutation(np.arange(5000, 5000 + n)),
                          "size": rng.integers(1, 5, n)})
    meta = Metadata()
    meta.add_table("items", pk="code", constraints={"size": {"dtype": "float", "max": 3}})
    synth = Synthesizer(meta, seed=2).fit({"items": items})
    table = _table(synth.schema, "items")
    assert table["primary_key"] == "code"
    size = _column(synth.schema, "items", "size")
    assert size["type"] == "float64" and size["max"] == 3.0
    got = synth.sample({"items": 500})["items"]
    assert got["code"].is_unique and len(got) == 500 and got["size"].max() <= 3


def test_tables_without_a_declared_fk_are_roots():
    """fit finds ``orders.user_id → users`` by its name; the metadata declares no fk: a root."""
    data = _data(200)
    data["orders"] = data["orders"].rename(columns={"buyer": "user_id"})
    meta = Metadata()
    meta.add_table("users", pk="user_id")
    meta.add_table("orders", pk="order_id")
    synth = Synthesizer(meta).fit(data)
    assert isinstance(_table(synth.schema, "orders")["rows"], int)
    frames = synth.sample({"users": 50, "orders": 70})
    assert len(frames["orders"]) == 70 and set(frames["orders"]["user_id"]) <= set(frames["users"]["user_id"])


def test_a_count_for_a_child_is_an_error_with_a_hint(fitted):
    with pytest.raises(UsageError, match=r"num_rows\['orders'\]: orders is a child of users .* give users's count"):
        fitted.sample({"orders": 10})
    with pytest.raises(UsageError, match=r"num_rows\['user'\]: no such table \(did you mean 'users'\?\)"):
        fitted.sample({"user": 10})
    with pytest.raises(UsageError, match=r"num_rows\['users'\] = 0: an integer ≥ 1"):
        fitted.sample({"users": 0})


def test_metadata_errors_are_collected_with_hints(data):
    meta = Metadata()
    meta.add_table("users", pk="user_idd", constraints={"agee": Constraint(max=3)})
    meta.add_table("orders", pk="order_id", fk={"buyer": "user.user_id", "amount": "users"})
    meta.add_table("payments", pk="id")
    with pytest.raises(UsageError) as info:
        Synthesizer(meta).fit(data)
    msg = str(info.value)
    assert "5 problem(s)" in msg
    assert "users.user_idd (pk): no such column in the data (did you mean 'user_id'?)" in msg
    assert "users.agee (constraints): no such column in the data (did you mean 'age'?)" in msg
    assert "orders.buyer (fk): no table 'user' in the metadata (did you mean 'users'?)" in msg
    assert "orders.amount (fk): 'users' is not 'parent_table.parent_column'" in msg
    assert "payments: in the metadata, not in the data" in msg
    with pytest.raises(UsageError, match="orders.buyer .* no table 'user'"):
        meta.validate_schema()  # structure only, without the data


def test_configuration_errors():
    with pytest.raises(UsageError, match="already in the metadata"):
        m = Metadata()
        m.add_table("users", pk="id")
        m.add_table("users", pk="id")
    with pytest.raises(UsageError, match=r"add_table\('t', fks=…\): no such field \(did you mean 'fk'\?\)"):
        Metadata().add_table("t", pk="id", fks={})
    with pytest.raises(UsageError, match="min is above max"):
        Constraint(min=3, max=1)
    with pytest.raises(UsageError, match="'int' or 'float'"):
        Constraint(dtype="str")
    with pytest.raises(UsageError, match=r"pii_strategy='fake'.*did you mean 'faker'"):
        PrivacyConfig(pii_strategy="fake")
    with pytest.raises(UsageError, match="epsilon=0"):
        PrivacyConfig(epsilon=0)
    with pytest.raises(UsageError, match="linkage_method"):
        TableConfig(name="t", linkage_method="gan")
    with pytest.raises(UsageError, match=r"fit\(epochs=…\): SynthoHive's neural training has no counterpart"):
        Synthesizer(_metadata()).fit(_data(), epochs=300)
    with pytest.raises(UsageError, match="not fitted"):
        Synthesizer(_metadata()).sample({"users": 3})
    with pytest.raises(UsageError, match=r"pii_columns 'users.mail': no column 'mail' in users \(did you mean 'email'"):
        Synthesizer(_metadata(), PrivacyConfig(pii_columns=["users.mail"])).fit(_data())


def test_a_constraint_the_schema_cannot_hold_is_refused_at_fit():
    meta = _metadata()
    meta.tables["orders"].constraints["status"] = Constraint(unique=True)  # 3 categories cannot be unique
    with pytest.raises(InfeasibleSchema, match="cannot be generated") as info:
        Synthesizer(meta).fit(_data())
    assert "unique orders.status" in str(info.value.problems[0])


def test_save_load_round_trip_gives_the_same_samples(fitted, tmp_path):
    folder = fitted.save(tmp_path / "synth")
    assert sorted(p.name for p in folder.iterdir()) == ["schema.yaml", "synthesizer.json"]
    settings = json.loads((folder / "synthesizer.json").read_text())
    assert settings["seed"] == 7 and settings["privacy"]["pii_columns"] == ["users.email"]
    saved_text = (folder / "schema.yaml").read_text() + json.dumps(settings)
    assert "user1@example.com" not in saved_text  # never real data (the PII column) in what is saved
    loaded = Synthesizer.load(folder)
    assert loaded.schema == fitted.schema
    assert loaded.to_yaml() == fitted.to_yaml()
    assert loaded.metadata == fitted.metadata and loaded.privacy == fitted.privacy
    a, b = fitted.sample({"users": 80}, seed=11), loaded.sample({"users": 80}, seed=11)
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t])
    with pytest.raises(UsageError, match="exists .*force=True"):
        fitted.save(folder)
    with pytest.raises(UsageError, match="no synthesizer.json"):
        Synthesizer.load(tmp_path)


def test_validation_report_written(fitted, data, tmp_path):
    frames = fitted.sample({"users": 300})
    rep = fitted.generate_validation_report(data, frames, tmp_path / "report.json")
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["scores"] == rep.scores and 0 < rep.scores["overall"] <= 1
    assert "Cardinality" in rep.scores["properties"]
    paths = fitted.sample({"users": 100}, output_path=tmp_path / "out")
    assert paths == {t: str(tmp_path / "out" / t) for t in ("orders", "users")}
    fitted.generate_validation_report(data, paths, tmp_path / "report.html")
    assert (tmp_path / "report.html").read_text().lstrip().lower().startswith("<!doctype html")
    with pytest.raises(UsageError, match="exists"):
        fitted.generate_validation_report(data, paths, tmp_path / "report.html")


class _Catalog:
    def __init__(self, existing):
        self.existing = existing

    def tableExists(self, name):  # noqa: N802 - Spark's name
        return name in self.existing


class _Spark:
    """Records the SQL ``register_tables`` sends (the Hive session itself: tests/test_spark.py)."""

    def __init__(self, existing=()):
        self.statements: list[str] = []
        self.catalog = _Catalog(set(existing))

    def sql(self, text):
        self.statements.append(text)


def test_save_to_hive_registers_the_written_tables(fitted, tmp_path):
    paths = fitted.sample({"users": 20}, output_path=tmp_path / "out")
    spark = _Spark()
    names = fitted.save_to_hive(paths, "synthetic", spark=spark)
    assert sorted(names) == ["synthetic.orders", "synthetic.users"]
    assert spark.statements[0] == "CREATE DATABASE IF NOT EXISTS synthetic"
    assert f"CREATE TABLE synthetic.users USING parquet LOCATION '{(tmp_path / 'out' / 'users').resolve()}'" \
        in spark.statements
    assert sorted(fitted.save_to_hive(str(tmp_path / "out"), "synthetic", spark=_Spark())) == sorted(names)
    with pytest.raises(UsageError, match="synthetic.users exist"):
        fitted.save_to_hive(paths, "synthetic", overwrite=False, spark=_Spark(["synthetic.users"]))
    with pytest.raises(UsageError, match="not a safe identifier"):
        fitted.save_to_hive(paths, "db; DROP TABLE x", spark=spark)
    with pytest.raises(UsageError, match="needs a SparkSession"):
        fitted.save_to_hive(paths, "synthetic")
    with pytest.raises(UsageError, match="not a path .*output_path=DIR"):
        fitted.save_to_hive(fitted.sample({"users": 3}), "synthetic", spark=spark)
    with pytest.raises(UsageError, match="'parquet' or 'delta'"):
        fitted.save_to_hive(paths, "synthetic", table_format="orc", spark=spark)
