"""Layout and indexes (issue 12, item 12): ``partition_by`` writes Parquet and CSV tables as
Hive-style folders that other readers understand and ``validate`` reads back in row order;
``indexes`` are created by SQLite and checked by ``validate``."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import textwrap

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datagen.cli import app
from shared.api import load_schema
from shared.errors import SchemaError, UsageError
from shared.io import partition
from tests.helpers import generate_three_ways, make_runner

SCHEMA = textwrap.dedent("""\
    version: 1
    name: parts
    seed: 11
    tables:
      - name: customers
        rows: 40
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: name, type: string, generator: {type: faker, params: {provider: name}}}
      - name: orders
        rows: 900
        primary_key: id
        partition_by: [region, day]
        indexes:
          - [customer_id, placed_at]
          - {name: orders_by_amount, columns: amount}
          - {columns: [id, region], unique: true}
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers}}}
          - {name: region, type: string, nullable: true, null_rate: 0.05,
             generator: {type: choice, params: {values: [EU, US, "A/B", "x y", "50%"]}}}
          - {name: day, type: date, min: 2025-03-01, max: 2025-03-04}
          - {name: placed_at, type: timestamp, generator: {type: time_series,
             params: {start: "2025-03-01T00:00:00Z", step: 5m}}}
          - {name: amount, type: "decimal(10,2)", min: 1, max: 500}
    """)


def _schema_file(tmp_path, text: str = SCHEMA, name: str = "parts.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _run(*args, env=None):
    return make_runner().invoke(app, list(map(str, args)), env={"COLUMNS": "250", **(env or {})})


def _validate(out, schema, fmt, *extra):
    report = out.parent / f"{out.name}-report.json"
    res = _run("validate", "--schema", schema, "--out", out, "--format", fmt, "--report", report, *extra)
    return res, json.loads(report.read_text())


def _failed(report) -> list[dict]:
    return [r for r in report["checks"] if r["status"] == "fail"]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_partitioned_layout_is_hive_style_and_validates(tmp_path, fmt):
    schema = _schema_file(tmp_path)
    out = generate_three_ways(app, fmt, schema, tmp_path)  # same bytes for any block size and workers
    table_dir = out / "orders"
    folders = sorted(p.relative_to(table_dir).as_posix() for p in table_dir.glob("*/*") if p.is_dir())
    regions = {f.split("/")[0] for f in folders}
    assert regions == {"region=EU", "region=US", "region=A%2FB", "region=x y", "region=50%25",
                       "region=__HIVE_DEFAULT_PARTITION__"}
    assert {f.split("/")[1] for f in folders} == {f"day=2025-03-0{d}" for d in range(1, 5)}
    ext = "parquet" if fmt == "parquet" else "csv"
    files = sorted(table_dir.glob(f"*/*/part-*.{ext}"))
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {f["path"] for f in manifest["files"] if f["table"] == "orders"}
    assert listed == {str(f.relative_to(out)) for f in files}
    assert (out / "customers").is_dir() is (fmt == "parquet")  # unpartitioned tables as before
    res, report = _validate(out, schema, fmt)
    assert res.exit_code == 0, res.output
    kinds = {r["kind"] for r in report["checks"] if r["table"] == "orders" and r["status"] == "pass"}
    assert {"row_count", "deterministic_replay", "primary_key", "foreign_key", "range"} <= kinds


def test_partitioned_parquet_reads_back_with_arrow_hive_partitioning(tmp_path):
    schema = _schema_file(tmp_path)
    out = tmp_path / "o"
    assert _run("generate", "--schema", schema, "--format", "parquet", "--out", out, "-q").exit_code == 0
    part = ds.HivePartitioning(pa.schema([("region", pa.string()), ("day", pa.date32())]), segment_encoding="uri")
    got = ds.dataset(out / "orders", format="parquet", partitioning=part).to_table()
    import datagen

    want = datagen.to_arrow(str(schema))["orders"]
    assert got.num_rows == want.num_rows == 900
    # the files hold every column but the partition ones; the folders give those back
    assert set(pa.parquet.read_schema(next((out / "orders").glob("*/*/part-*.parquet"))).names) == \
        {"id", "customer_id", "placed_at", "amount"}
    got = got.sort_by("id")
    for c in ("id", "customer_id", "day", "placed_at", "amount"):
        assert got.column(c).to_pylist() == want.column(c).to_pylist(), c
    # Hive's default partition is a null for Arrow as well
    assert got.column("region").to_pylist() == want.column("region").to_pylist()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_reading_without_a_plan_goes_folder_by_folder(tmp_path, fmt):
    from shared.formats import get_format
    from shared.schema_dsl.engine import arrow_schema

    schema = _schema_file(tmp_path)
    out = tmp_path / "o"
    assert _run("generate", "--schema", schema, "--format", fmt, "--out", out, "-q").exit_code == 0
    table = load_schema(str(schema)).table("orders")
    got = get_format(fmt).read_batches(out, table, arrow_schema(table)).read_all()
    assert got.column_names == ["id", "customer_id", "region", "day", "placed_at", "amount"]
    assert got.schema.field("day").type == pa.date32() and got.num_rows == 900
    regions = got.column("region").to_pylist()
    # folder by folder, in the order of the folder names (escaped), each folder in row order
    firsts = [r for i, r in enumerate(regions) if i == 0 or regions[i - 1] != r]
    assert firsts == ["50%", "A/B", "EU", "US", None, "x y"]
    ids, days = got.column("id").to_pylist(), got.column("day").to_pylist()
    runs = [i for i in range(1, len(ids)) if (regions[i], days[i]) == (regions[i - 1], days[i - 1])]
    assert all(ids[i] > ids[i - 1] for i in runs)
    assert sorted(ids) == list(range(1, 901)) or sorted(ids) == list(range(900))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_validate_catches_rows_moved_between_folders(tmp_path, fmt):
    schema = _schema_file(tmp_path)
    out = tmp_path / "o"
    assert _run("generate", "--schema", schema, "--format", fmt, "--out", out, "-q").exit_code == 0
    # rename a folder: every row in it now claims another day
    src = out / "orders" / "region=EU" / "day=2025-03-01"
    shutil.move(src, src.with_name("day=2025-03-09"))
    res, report = _validate(out, schema, fmt)
    assert res.exit_code == 1
    failed = {(r["kind"], r["table"]) for r in _failed(report)}
    assert ("parseable", "orders") in failed or ("deterministic_replay", "orders") in failed, failed
    messages = " ".join(r["message"] for r in _failed(report))
    assert "day=2025-03-01" in messages or "differ" in messages or "checksum" in messages


def test_validate_reports_a_folder_with_too_few_rows_as_a_parse_failure(tmp_path):
    schema = _schema_file(tmp_path)
    out = tmp_path / "o"
    assert _run("generate", "--schema", schema, "--format", "csv", "--out", out, "-q").exit_code == 0
    f = out / "orders" / "region=US" / "day=2025-03-02" / "part-00000.csv"
    lines = f.read_text().splitlines(keepends=True)
    f.write_text("".join(lines[:-1]))  # one row fewer
    res, report = _validate(out, schema, "csv")
    assert res.exit_code == 1
    parse = [r for r in _failed(report) if r["kind"] == "parseable"]
    assert parse and "region=US/day=2025-03-02 holds fewer rows than the plan puts in it" in parse[0]["message"]


def test_validate_counts_rows_of_a_folder_the_plan_never_makes(tmp_path):
    schema = _schema_file(tmp_path)
    out = tmp_path / "o"
    assert _run("generate", "--schema", schema, "--format", "parquet", "--out", out, "-q").exit_code == 0
    src = out / "orders" / "region=EU"
    shutil.copytree(src, out / "orders" / "region=XX")
    res, report = _validate(out, schema, "parquet")
    assert res.exit_code == 1
    rc = next(r for r in report["checks"] if r["kind"] == "row_count" and r["table"] == "orders")
    assert rc["status"] == "fail" and rc["observed"] > 900


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_too_many_folders_is_refused_and_nothing_is_left(tmp_path, fmt):
    text = SCHEMA.replace("partition_by: [region, day]", "partition_by: [customer_id]")
    schema = _schema_file(tmp_path, text)
    out = tmp_path / "o"
    res = _run("generate", "--schema", schema, "--format", fmt, "--out", out, "--option", "max_partitions=10")
    assert res.exit_code == 2
    assert "table 'orders': partition_by [customer_id] makes more than 10 folders" in res.output
    assert "--option max_partitions=N" in res.output
    assert not out.exists()
    res = _run("generate", "--schema", schema, "--format", fmt, "--out", out, "--option", "max_partitions=0", "-q")
    assert res.exit_code == 0, res.output
    assert len([p for p in (out / "orders").iterdir() if p.is_dir()]) == 40


def test_max_partitions_counts_the_folders_of_all_parquet_parts(tmp_path):
    text = SCHEMA.replace("partition_by: [region, day]", "partition_by: [day]")
    schema = _schema_file(tmp_path, text)
    out = tmp_path / "o"
    # each part of 100 rows alone has few days; together the 4 days exceed 3
    res = _run("generate", "--schema", schema, "--format", "parquet", "--out", out, "--option", "max_partitions=3",
               "--option", "max_rows_per_file=100", "--workers", "2")
    assert res.exit_code == 2 and "makes more than 3 folders" in res.output
    assert not out.exists()


def test_partitioned_parquet_refuses_max_file_bytes(tmp_path):
    schema = _schema_file(tmp_path)
    res = _run("generate", "--schema", schema, "--format", "parquet", "--out", tmp_path / "o",
               "--option", "max_file_bytes=100000")
    assert res.exit_code == 2
    assert "--option max_file_bytes: table 'orders' is partitioned" in res.output
    assert "max_rows_per_file" in res.output


@pytest.mark.parametrize("fmt", ["json", "event_stream"])
def test_formats_without_folders_write_partitioned_tables_whole(tmp_path, fmt):
    text = SCHEMA.replace("    columns:\n      - {name: id, type: int64, generator: sequence}\n      - {name: customer_id",
                          "    events: {time: placed_at}\n    columns:\n      - {name: id, type: int64, "
                          "generator: sequence}\n      - {name: customer_id", 1)
    schema = _schema_file(tmp_path, text)
    out = tmp_path / "o"
    assert _run("generate", "--schema", schema, "--format", fmt, "--out", out, "-q").exit_code == 0
    assert not (out / "orders").is_dir()
    res, _ = _validate(out, schema, fmt)
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_dirty_partitioned_data_validates_with_its_corruption_explained(tmp_path, fmt):
    text = SCHEMA.replace("seed: 11", "seed: 11\nprofile: dirty\ncorruption: {typos: 0.2, duplicates: 0.05}")
    schema = _schema_file(tmp_path, text)
    out = generate_three_ways(app, fmt, schema, tmp_path)
    corrupted = (out / "corruptions.csv").read_text()
    assert '"orders","region"' in corrupted and '"orders","*"' in corrupted  # a typo'd region makes a folder of its own
    res, report = _validate(out, schema, fmt)
    assert res.exit_code == 0, res.output
    replay = next(r for r in report["checks"] if r["kind"] == "deterministic_replay" and r["table"] == "orders")
    assert replay["status"] == "pass"


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.none(), _TEXT))
def test_segment_round_trips_text(value):
    seg = partition.segment("c", value, "string")
    assert "/" not in seg and seg.count("=") == 1
    assert partition.parse_segment(seg, "c", "string") == value


@settings(max_examples=100, deadline=None)
@given(value=st.one_of(st.integers(-(2**63), 2**63 - 1), st.booleans(), st.dates()))
def test_segment_round_trips_numbers_dates_and_booleans(value):
    kind = "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else "date"
    assert partition.parse_segment(partition.segment("c", value, kind), "c", kind) == value


def test_segment_refuses_a_value_too_long_for_a_folder_name():
    with pytest.raises(UsageError, match="longer than 255 bytes"):
        partition.segment("c", "é" * 200, "string")
    assert partition.parse_segment("c=2025-01-02", "c", "date") == dt.date(2025, 1, 2)
    with pytest.raises(ValueError, match="is not c=<value>"):
        partition.parse_segment("d=1", "c", "int")


_ORDERS = textwrap.dedent("""\
    version: 1
    name: bad
    tables:
      - name: orders
        rows: 10
        primary_key: id
        {extra}
        columns:
          - {{name: id, type: int64}}
          - {{name: region, type: string, generator: {{type: choice, params: {{values: [a, b]}}}}}}
          - {{name: amount, type: float64, min: 0, max: 1}}
          - {{name: secret, type: int32, hidden: true, min: 0, max: 3}}
    """)


@pytest.mark.parametrize(("extra", "path", "message", "hint"), [
    ("partition_by: regio", "tables[0].partition_by", "partition_by names no column 'regio'",
     "did you mean 'region'?"),
    ("partition_by: amount", "tables[0].partition_by", "cannot partition by 'amount' of type float64",
     "date_trunc"),
    ("partition_by: id", "tables[0].partition_by", "cannot partition by 'id': it is unique", "few values"),
    ("partition_by: secret", "tables[0].partition_by", "partition column 'secret' is hidden", "written column"),
    ("partition_by: [region, region]", "tables[0].partition_by[1]", "partition_by names 'region' twice", None),
    ("partition_by: [id, region, amount]", "tables[0].partition_by", "partitioned by every column it writes",
     "keep at least one column"),
    ("indexes: [[regon]]", "tables[0].indexes[0]", "index 'ix_orders_regon' names no column 'regon'",
     "did you mean 'region'?"),
    ("indexes: [{columns: secret}]", "tables[0].indexes[0].columns", "names hidden column 'secret'", None),
    ("indexes: [{columns: [region, region]}]", "tables[0].indexes[0].columns", "names a column twice", None),
    ("indexes: [{columns: region, unique: true}]", "tables[0].indexes[0].unique",
     "unique index 'ix_orders_region' on region: the schema does not make these values unique",
     "unique: [[region]]"),
    ("indexes: [{name: orders, columns: region}]", "tables[0].indexes[0]", "index name 'orders' is already used by "
     "the table 'orders'", "give the index another name"),
    ("indexes: [{name: ix, columns: region}, {name: IX, columns: amount}]", "tables[0].indexes[1]",
     "index name 'IX' is already used by the index 'ix' of table 'orders'", None),
    ("indexes: [{cols: [region]}]", "tables[0].indexes[0]", None, None),
])
def test_bad_partition_by_and_indexes_exit_2_with_path_and_hint(tmp_path, extra, path, message, hint):
    schema = _schema_file(tmp_path, _ORDERS.format(extra=extra), "bad.yaml")
    with pytest.raises(SchemaError) as exc:
        load_schema(str(schema))
    probs = [p for p in exc.value.problems if p.path == path]
    assert probs, [(p.path, p.message) for p in exc.value.problems]
    if message is not None:
        assert message in probs[0].message
    if hint is not None:
        assert hint in (probs[0].hint or "")
    res = _run("describe", "--schema", schema, "--format", "csv")
    assert res.exit_code == 2 and "Traceback" not in res.output and path in res.output


def _sqlite_db(out):
    return sqlite3.connect(next(p for p in out.iterdir() if p.suffix in (".sqlite", ".db")))


def _indexes(conn, table="orders"):
    return {r[0]: r[1] for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND "
                                             "tbl_name=? AND sql IS NOT NULL", (table,))}


def test_sqlite_creates_declared_indexes_and_validate_checks_them(tmp_path):
    schema = _schema_file(tmp_path)
    out = tmp_path / "o"
    assert _run("generate", "--schema", schema, "--format", "sqlite", "--out", out, "-q").exit_code == 0
    conn = _sqlite_db(out)
    ix = _indexes(conn)
    assert ix["ix_orders_customer_id_placed_at"] == \
        'CREATE INDEX "ix_orders_customer_id_placed_at" ON "orders" ("customer_id", "placed_at")'
    assert ix["orders_by_amount"] == 'CREATE INDEX "orders_by_amount" ON "orders" ("amount")'
    assert ix["ix_orders_id_region"].startswith('CREATE UNIQUE INDEX "ix_orders_id_region"')
    # the declared index starts with the foreign key: no second index for it
    assert "orders.customer_id" not in ix
    plan = conn.execute("EXPLAIN QUERY PLAN SELECT * FROM orders WHERE customer_id = 3").fetchall()
    assert "ix_orders_customer_id_placed_at" in str(plan)
    conn.execute("DROP INDEX orders_by_amount")
    conn.commit()
    conn.close()
    res, report = _validate(out, schema, "sqlite")
    assert res.exit_code == 1
    bad = [r for r in _failed(report) if r["kind"] == "sqlite_indexes"]
    assert len(bad) == 1 and bad[0]["message"] == "INDEX orders_by_amount (amount) is missing"


def test_sqlite_indexes_pass_validate_and_relax_uniqueness_for_dirty_data(tmp_path):
    schema = _schema_file(tmp_path)
    out = tmp_path / "o"
    assert _run("generate", "--schema", schema, "--format", "sqlite", "--out", out, "-q").exit_code == 0
    res, report = _validate(out, schema, "sqlite")
    assert res.exit_code == 0, res.output
    assert any(r["kind"] == "sqlite_indexes" and r["status"] == "pass" for r in report["checks"])
    dirty = _schema_file(tmp_path, SCHEMA.replace("seed: 11", "seed: 11\nprofile: dirty\ncorruption: "
                                                  "{duplicates: 0.2}"), "dirty.yaml")
    out2 = tmp_path / "d"
    assert _run("generate", "--schema", dirty, "--format", "sqlite", "--out", out2, "-q").exit_code == 0
    assert _indexes(_sqlite_db(out2))["ix_orders_id_region"].startswith('CREATE INDEX "ix_orders_id_region"')
    res, report = _validate(out2, dirty, "sqlite")
    assert res.exit_code == 0, res.output


def test_sqlite_append_into_a_database_adds_missing_indexes(tmp_path):
    schema = _schema_file(tmp_path)
    db = tmp_path / "shop.sqlite"
    out = tmp_path / "o"
    assert _run("generate", "--schema", schema, "--format", "sqlite", "--out", out, "-q").exit_code == 0
    shutil.copy(next(p for p in out.iterdir() if p.suffix in (".sqlite", ".db")), db)
    conn = sqlite3.connect(db)
    conn.execute("DROP INDEX orders_by_amount")
    conn.execute("DELETE FROM orders")
    conn.execute("DELETE FROM customers")
    conn.commit()
    conn.close()
    res = _run("generate", "--schema", schema, "--format", "sqlite", "--out", tmp_path / "o2", "-q",
               "--option", f"database={db}", "--option", "mode=append")
    assert res.exit_code == 0, res.output
    assert "orders_by_amount" in _indexes(sqlite3.connect(db))


def test_describe_shows_partitions_and_indexes(tmp_path):
    schema = _schema_file(tmp_path)
    res = _run("describe", "--schema", schema, "--format", "parquet")
    assert res.exit_code == 0
    assert "partitioned by region, day" in res.output
    assert "indexes ix_orders_customer_id_placed_at (customer_id, placed_at); orders_by_amount (amount); " \
           "unique ix_orders_id_region (id, region)" in res.output
    res = _run("describe", "--schema", schema, "--format", "parquet", "--json")
    info = json.loads(res.output)
    orders = next(t for t in info["tables"] if t["name"] == "orders")
    assert orders["partition_by"] == ["region", "day"]
    assert orders["indexes"][2] == {"name": "ix_orders_id_region", "columns": ["id", "region"], "unique": True}


def test_partitioned_csv_keeps_its_dialect_and_compression(tmp_path):
    schema = _schema_file(tmp_path)
    out = tmp_path / "o"
    res = _run("generate", "--schema", schema, "--format", "csv", "--out", out, "-q", "--option", "compression=gzip",
               "--option", "header=false", "--option", "delimiter=tab")
    assert res.exit_code == 0, res.output
    import gzip

    files = sorted((out / "orders").glob("*/*/part-00000.csv.gz"))
    assert len(files) == 24
    first = gzip.decompress(files[0].read_bytes()).decode().splitlines()[0]
    assert first.count("\t") == 3 and not first.startswith('"id"')  # the 4 file columns, no header
    res, _ = _validate(out, schema, "csv")
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_partitioned_tables_with_added_rows_and_text_dirt_validate(tmp_path, fmt):
    """Copies inserted after their rows land in their row's folder; text-only kinds leave the
    partition columns alone (their values are folder names, not cells of text)."""
    schema = _schema_file(tmp_path)
    out = tmp_path / "o"
    res = _run("generate", "--schema", schema, "--format", fmt, "--out", out, "-q", "--corrupt", "extra_duplicates=0.05",
               "--corrupt", "date_formats=0.2", "--corrupt", "type_noise=0.05", "--corrupt", "typos=0.05")
    assert res.exit_code == 0, res.output
    days = {p.name for p in (out / "orders").glob("*/*") if p.is_dir()}
    assert days == {f"day=2025-03-0{d}" for d in range(1, 5)}  # no day=03%2F01%2F2025 folder
    res, report = _validate(out, schema, fmt)
    assert res.exit_code == 0, res.output
    rc = next(r for r in report["checks"] if r["kind"] == "row_count" and r["table"] == "orders")
    assert rc["observed"] > 900


@pytest.mark.parametrize(("fmt", "options"), [("parquet", ()), ("csv", ()), ("csv", ("--option", "nested=flatten"))])
def test_partitioned_tables_with_nested_columns_validate(tmp_path, fmt, options):
    from tests.helpers import EXAMPLES_DIR

    text = (EXAMPLES_DIR / "catalog.yaml").read_text().replace(
        "    primary_key: product_id\n    columns:\n      - {name: product_id, type: int64, generator: sequence}\n",
        "    primary_key: product_id\n    partition_by: launch_year\n    columns:\n"
        "      - {name: product_id, type: int64, generator: sequence}\n"
        "      - {name: launch_year, type: int32, generator: {type: uniform_int, params: {min: 2021, max: 2024}}}\n", 1)
    assert "partition_by: launch_year" in text
    schema = _schema_file(tmp_path, text, "catalog.yaml")
    out = tmp_path / "o"
    res = _run("generate", "--schema", schema, "--format", fmt, "--out", out, "-q", *options)
    assert res.exit_code == 0, res.output
    assert {p.name for p in (out / "products").iterdir()} == {f"launch_year={y}" for y in range(2021, 2025)}
    res, _ = _validate(out, schema, fmt)
    assert res.exit_code == 0, res.output
