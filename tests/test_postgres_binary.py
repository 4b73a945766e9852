"""Binary COPY (generators/postgres_target/binary.py) against the real server: every type the
target creates, and the pairings an existing table allows, load to exactly what CSV text loads;
decimals of every precision and scale round-trip (property test); the ``copy`` option."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

from generators.postgres_target.binary import HEADER, TRAILER, BinaryRenderer, encoder_for  # noqa: E402
from generators.postgres_target.format import CsvRenderer  # noqa: E402
from tests.test_format_postgres import SMALL, query, run  # noqa: E402

COLUMNS = {  # name: (arrow values, arrow type, PostgreSQL column type)
    "i8": ([1, -128, None, 127], pa.int8(), "smallint"),
    "i16": ([1, -32768, None, 32767], pa.int16(), "smallint"),
    "i32": ([1, -2**31, None, 2**31 - 1], pa.int32(), "integer"),
    "i32_in_bigint": ([1, -2**31, None, 2**31 - 1], pa.int32(), "bigint"),
    "i64": ([1, -2**63, None, 2**63 - 1], pa.int64(), "bigint"),
    "i64_in_numeric": ([1, -2**63, None, 2**63 - 1], pa.int64(), "numeric(30,0)"),
    "f32": ([1.5, -0.0, None, 3.4e38], pa.float32(), "real"),
    "f64": ([1.5, float("inf"), None, -1e-300], pa.float64(), "double precision"),
    "dec": ([Decimal("123.45"), Decimal("-0.01"), None, Decimal("99999999999999.99")], pa.decimal128(16, 2),
            "numeric(16,2)"),
    "dec0": ([Decimal("12345"), Decimal("-1"), None, Decimal("0")], pa.decimal128(5, 0), "numeric(5,0)"),
    "dec18": ([Decimal("1.2345678"), Decimal("-0.0000001"), None, Decimal("12345678901.0000001")],
              pa.decimal128(18, 7), "numeric(18,7)"),
    "dec_wider": ([Decimal("123.45"), Decimal("-0.01"), None, Decimal("1")], pa.decimal128(9, 2), "numeric(12,4)"),
    "flag": ([True, False, None, True], pa.bool_(), "boolean"),
    "day": ([dt.date(2000, 1, 1), dt.date(1969, 12, 31), None, dt.date(2999, 12, 31)], pa.date32(), "date"),
    "ts": ([dt.datetime(2000, 1, 1), dt.datetime(1960, 5, 6, 7, 8, 9, 123456), None, dt.datetime(2024, 2, 29, 23, 59)],
           pa.timestamp("us", tz="UTC"), "timestamp with time zone"),
    "txt": (["héllo", "", None, 'x,"y\n\\N'], pa.string(), "text"),
    "vc": (["a", "bb", None, "ccc"], pa.string(), "character varying(10)"),
    "id": (["0e8bd3bd-2f0c-4d6f-9d2b-1c5e6a7b8c9d", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", None,
            "00000000-0000-0000-0000-000000000000"], pa.string(), "uuid"),
    "doc": (['{"a": [1, 2.5, "x"]}', '"s"', None, '{"k": null}'], pa.string(), "jsonb"),
    "doc_json": (['{"a": 1}', "[]", None, "3"], pa.string(), "json"),
}


def _batch(columns: dict) -> pa.RecordBatch:
    return pa.record_batch({k: pa.array(v, t) for k, (v, t, _) in columns.items()})


def _load_both(dsn: str, batch: pa.RecordBatch, types: list[str], slices=((0, None),)) -> tuple[str, str]:
    """The batch (and its slices) into table b by binary COPY and table t by CSV text."""
    cols = ", ".join(f"{n} {t}" for n, t in zip(batch.schema.names, types, strict=True))
    renderer = BinaryRenderer.plan(batch.schema, types)
    assert renderer is not None
    renderer = pickle.loads(pickle.dumps(renderer))  # as the workers get it
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE b ({cols})")
        conn.execute(f"CREATE TABLE t ({cols})")
        parts = [batch.slice(s, e) if e is not None else batch.slice(s) for s, e in slices]
        with conn.cursor().copy("COPY b FROM STDIN (FORMAT binary)") as cp:
            cp.write(HEADER)
            for part in parts:
                cp.write(renderer(part))
            cp.write(TRAILER)
        with conn.cursor().copy("COPY t FROM STDIN (FORMAT csv)") as cp:
            for part in parts:
                cp.write(CsvRenderer()(part))
    return "b", "t"


def _same(dsn: str) -> None:
    assert query(dsn, "SELECT count(*) FROM b")[0][0] == query(dsn, "SELECT count(*) FROM t")[0][0]
    assert query(dsn, "SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM t) x")[0][0] == 0
    assert query(dsn, "SELECT count(*) FROM (SELECT * FROM t EXCEPT ALL SELECT * FROM b) x")[0][0] == 0


def test_every_type_loads_as_csv_text_does(pg_dsn):
    # json has no equality operator: compare it as text
    cols = {k: v for k, v in COLUMNS.items() if k != "doc_json"}
    batch = _batch(cols)
    _load_both(pg_dsn, batch, [t for _, _, t in cols.values()], slices=((0, None), (1, 2), (3, None)))
    _same(pg_dsn)
    row = query(pg_dsn, "SELECT i64, dec18, ts, txt, id::text, doc FROM b LIMIT 1 OFFSET 3")[0]
    assert row[:4] == (2**63 - 1, Decimal("12345678901.0000001"),
                       dt.datetime(2024, 2, 29, 23, 59, tzinfo=dt.UTC), 'x,"y\n\\N')
    assert row[4:] == ("00000000-0000-0000-0000-000000000000", {"k": None})


def test_json_column_keeps_the_text(pg_dsn):
    cols = {"doc_json": COLUMNS["doc_json"]}
    _load_both(pg_dsn, _batch(cols), ["json"])
    assert [r[0] for r in query(pg_dsn, "SELECT doc_json::text FROM b")] == ['{"a": 1}', "[]", None, "3"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), precision=st.integers(1, 18))
def test_decimals_of_every_precision_and_scale_round_trip(pg_dsn, data, precision):
    scale = data.draw(st.integers(0, precision))
    limit = 10 ** precision - 1
    unscaled = data.draw(st.lists(st.one_of(st.none(), st.integers(-limit, limit), st.sampled_from([limit, -limit, 0])),
                                  min_size=1, max_size=40))
    values = [None if u is None else Decimal(u).scaleb(-scale) for u in unscaled]
    batch = pa.record_batch({"d": pa.array(values, pa.decimal128(precision, scale))})
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS b, t")
    _load_both(pg_dsn, batch, [f"numeric({precision},{scale})"])
    got = [r[0] for r in query(pg_dsn, "SELECT d FROM b")]
    assert got == values


def test_pairings_without_an_encoding():
    assert encoder_for(pa.decimal128(30, 2), "numeric(30,2)") is None  # more than 18 digits
    assert encoder_for(pa.int64(), "integer") is None  # would not fit
    assert encoder_for(pa.float64(), "real") is None
    assert encoder_for(pa.float32(), "double precision") is None  # widened, it would differ from the text path
    assert encoder_for(pa.string(), "integer") is None  # a corrupted column reaches the writer as text
    assert BinaryRenderer.plan(pa.schema([("a", pa.int64()), ("b", pa.string())]), ["bigint", "integer"]) is None


WIDE = """
version: 1
name: wide
seed: 5
tables:
  - name: ledger
    rows: 300
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - {name: ref, type: uuid, generator: uuid4}
      - {name: amount, type: "decimal(30,4)", generator: {type: uniform_float, params: {min: -1000, max: 1000}}}
"""


def test_copy_option_auto_binary_and_text(write_schema, pg_server, tmp_path):
    schema = write_schema(WIDE, "wide.yaml")
    # auto: decimal(30,4) has no binary encoding here, so the table goes as CSV text
    auto = pg_server.create_database("copy_auto")
    code, out = run("generate", "--format", "postgres", "--schema", schema, "--target", auto, "--out", tmp_path / "a")
    assert code == 0, out
    code, out = run("validate", "--format", "postgres", "--schema", schema, "--target", auto, "--out", tmp_path / "a")
    assert code == 0, out
    text = pg_server.create_database("copy_text")
    code, out = run("generate", "--format", "postgres", "--schema", schema, "--target", text, "--out", tmp_path / "t",
                    "--option", "copy=text")
    assert code == 0, out
    assert query(auto, "SELECT * FROM ledger ORDER BY id") == query(text, "SELECT * FROM ledger ORDER BY id")
    # binary: refused before a row is written
    refused = pg_server.create_database("copy_binary")
    code, out = run("generate", "--format", "postgres", "--schema", schema, "--target", refused,
                    "--out", tmp_path / "b", "--option", "copy=binary")
    assert code == 2
    assert "column 'amount' (numeric(30,4)) has no binary encoding here" in out, out
    assert "copy=binary cannot send every column in binary; nothing was changed" in out
    assert "copy=auto (binary where it can) or copy=text" in out
    assert query(refused, "SELECT count(*) FROM pg_tables WHERE tablename = 'ledger'")[0][0] == 0
    code, out = run("generate", "--format", "postgres", "--schema", schema, "--target", refused,
                    "--out", tmp_path / "x", "--option", "copy=fast")
    assert code == 2 and "--option copy='fast': one of auto, binary, text" in out


def test_binary_and_text_loads_are_the_same_rows(write_schema, pg_server, tmp_path):
    small = write_schema(SMALL, "small.yaml")
    binary = pg_server.create_database("same_binary")
    text = pg_server.create_database("same_text")
    for dsn, how in ((binary, "binary"), (text, "text")):
        code, out = run("generate", "--format", "postgres", "--schema", small, "--target", dsn,
                        "--out", tmp_path / how, "--option", f"copy={how}", "--workers", "2")
        assert code == 0, out
    for table, key in (("customers", "id"), ("orders", "order_id")):
        assert query(binary, f"SELECT * FROM {table} ORDER BY {key}") == query(text, f"SELECT * FROM {table} ORDER BY {key}")


def test_a_uuid_not_in_canonical_form_is_refused():
    renderer = BinaryRenderer.plan(pa.schema([("u", pa.string())]), ["uuid"])
    with pytest.raises(ValueError, match="invalid input syntax for type uuid: 'not-a-uuid'"):
        renderer(pa.record_batch({"u": pa.array(["0e8bd3bd-2f0c-4d6f-9d2b-1c5e6a7b8c9d", "not-a-uuid"])}))
    with pytest.raises(ValueError, match="invalid input syntax for type uuid: 'zzzzzzzz"):
        renderer(pa.record_batch({"u": pa.array(["zzzzzzzz-2f0c-4d6f-9d2b-1c5e6a7b8c9d"])}))


CHECKED = """
version: 1
name: checked
seed: 9
tables:
  - name: items
    rows: 400
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - {name: qty, type: int32, min: 1, max: 9, generator: {type: uniform_int, params: {min: 1, max: 9}}}
      - {name: price, type: "decimal(8,2)", min: 0.5, max: 99, generator: {type: uniform_float, params: {min: 0.5, max: 99}}}
      - name: day
        type: date
        min: "2024-01-01"
        max: "2024-12-31"
        generator: {type: uniform_date, params: {start: "2024-01-01", end: "2024-12-31"}}
      - name: at
        type: timestamp
        min: "2024-01-01T00:00:00Z"
        max: "2024-06-30T00:00:00Z"
        generator: {type: uniform_timestamp, params: {start: "2024-01-01", end: "2024-06-30"}}
      - {name: tier, type: string, allowed: [gold, silver], generator: {type: choice, params: {values: [gold, silver]}}}
      - {name: code, type: string, pattern: "[A-Z]{3}-\\\\d{4}", generator: {type: regex, params: {pattern: "[A-Z]{3}-\\\\d{4}"}}}
"""


def _kinds(report: dict) -> dict:
    return {(c["kind"], c.get("column")): c for c in report["checks"] if c["kind"].startswith("pg_")}


def test_ranges_allowed_values_and_patterns_are_checked_in_sql(write_schema, pg_dsn, tmp_path):
    import json

    schema = write_schema(CHECKED, "checked.yaml")
    base = ("--format", "postgres", "--schema", schema, "--target", pg_dsn, "--out", tmp_path / "o")
    code, out = run("generate", *base, "-q")
    assert code == 0, out
    code, out = run("validate", *base, "--report", tmp_path / "r.json")
    assert code == 0, out
    checks = _kinds(json.loads((tmp_path / "r.json").read_text()))
    for key in (("pg_range", "qty"), ("pg_range", "price"), ("pg_range", "day"), ("pg_range", "at"),
                ("pg_allowed", "tier"), ("pg_pattern", "code")):
        assert checks[key]["status"] == "pass", checks[key]
    # values the schema forbids, written behind datagen's back: the server counts each
    query(pg_dsn, "UPDATE items SET qty = 10, price = 0.25, day = '2025-01-01', at = '2024-07-01', tier = 'bronze', "
                  "code = 'abc-1234' WHERE id IN (3, 4)")
    code, out = run("validate", *base, "--report", tmp_path / "r2.json")
    assert code == 1, out
    checks = _kinds(json.loads((tmp_path / "r2.json").read_text()))
    for key, what in ((("pg_range", "qty"), "2 value(s) outside [1, 9] (SQL)"),
                      (("pg_range", "price"), "2 value(s) outside [0.5, 99] (SQL)"),
                      (("pg_range", "day"), "2 value(s) outside [2024-01-01, 2024-12-31] (SQL)"),
                      (("pg_range", "at"), "2 value(s) outside"),
                      (("pg_allowed", "tier"), "2 value(s) not in the allowed list (SQL)"),
                      (("pg_pattern", "code"), "2 value(s) not fully matching the pattern (SQL)")):
        assert checks[key]["status"] == "fail" and what in checks[key]["message"], checks[key]
        assert checks[key]["unexpected_count"] == 2
