"""JSON and NDJSON: the conformance suite for both, plus the value forms and options."""

from __future__ import annotations

import decimal
import gzip
import importlib
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pytest
import zstandard

from generators.common.json_encode import decimal_text
from generators.json_generator.format import ENCODE_ROWS, JsonLayoutError
from shared.formats import FORMATS
from tests.conformance import CONFORMANCE_SCHEMA, FormatConformance
from tests.helpers import make_runner

MODULE = "generators.json_generator"

TRICKY = ['say "hi"', "back\\slash", "new\nline\r\n", "tab\there", "\x00\x01\x08\x0c\x1b\x1f\x7f",
          "ünïcødé € 😀 中文", "\u2028\u2029", "", "\"}\n{\"x\":1}", "\\\"\\n", "\\u0000", None]


def _table(name: str = "t"):
    return SimpleNamespace(name=name)


def _sample_batch() -> pa.RecordBatch:
    n = len(TRICKY)
    return pa.record_batch({
        "s": pa.array(TRICKY, pa.string()),
        "i": pa.array([*range(n - 2), 2**63 - 1, None], pa.int64()),
        "small": pa.array([-(2**7)] * n, pa.int8()),
        "f": pa.array([0.1, 1e21, 1e-7, -0.0, 1 / 3, 5e-324, 1.7976931348623157e308, 2.0, -1.5, 1e300, 7.0, None]),
        "f32": pa.array([0.1, 3.4e38, 1e-7, 1.0] * 3, pa.float32()),
        "d": pa.array([decimal.Decimal(x) for x in ("12.50", "0.00", "-0.05", "9999999999.99")] * 3, pa.decimal128(12, 2)),
        "tiny": pa.array([decimal.Decimal(x) for x in ("1E-10", "-1.5E-9", "0E-10", "-123.4567890123")] * 3,
                         pa.decimal128(38, 10)),
        "b": pa.array([True, False, None] * 4),
        "day": pa.array([0, -1, 19875, -719162, 2932896, None] * 2, pa.date32()),
        "ts": pa.array([0, -1, 1717230600000000, 253402300799999999, 5, None] * 2, pa.timestamp("us", tz="UTC")),
    })


def _write(fmt_name: str, out: Path, batches, schema: pa.Schema, **options) -> Path:
    fmt = FORMATS[fmt_name]
    w = fmt.open_writer(out, _table(), schema, fmt.check_options(options))
    for b in batches:
        w.write_batch(b)
    (written,) = w.close()
    return out / written.path


def _read(fmt_name: str, out: Path, schema: pa.Schema) -> pa.Table:
    return FORMATS[fmt_name].read_table(out, _table(), schema)


class TestJsonConformance(FormatConformance):
    FORMAT = "json"
    MODULE = MODULE

    def test_file_is_one_json_array(self, generated):
        rows = json.loads((generated / "people.json").read_text(encoding="utf-8"))
        assert isinstance(rows, list) and len(rows) == 300
        assert list(rows[0])[:4] == ["person_id", "name", "email", "age"]
        assert (generated / "people.json").read_bytes().startswith(b"[\n{")


class TestNdjsonConformance(FormatConformance):
    FORMAT = "ndjson"
    MODULE = MODULE

    def test_every_line_parses_alone(self, generated):
        lines = (generated / "orders.ndjson").read_bytes().split(b"\n")
        assert lines[-1] == b""
        objs = [json.loads(line) for line in lines[:-1]]
        assert objs and all(list(o) == ["order_id", "person_id", "amount", "note", "created_at"] for o in objs)
        assert all(isinstance(o["amount"], str) and o["created_at"].endswith("Z") for o in objs)


# --- value forms ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt_name", ["json", "ndjson"])
def test_tricky_values_round_trip_and_parse_with_stdlib(fmt_name, tmp_path):
    batch = _sample_batch()
    path = _write(fmt_name, tmp_path, [batch], batch.schema)
    text = path.read_text(encoding="utf-8")
    objs = json.loads(text) if fmt_name == "json" else [json.loads(x) for x in text.split("\n")[:-1]]
    assert [o["s"] for o in objs] == TRICKY
    assert all(list(o) == batch.schema.names for o in objs)  # every key, in column order
    assert _read(fmt_name, tmp_path, batch.schema).equals(pa.Table.from_batches([batch]))


def test_value_forms(tmp_path):
    batch = _sample_batch()
    objs = json.loads(_write("json", tmp_path, [batch], batch.schema).read_text(encoding="utf-8"))
    o = objs[0]
    assert o["i"] == 0 and o["f"] == 0.1 and o["b"] is True
    assert o["d"] == "12.50" and objs[1]["d"] == "0.00" and objs[2]["d"] == "-0.05"
    assert [x["tiny"] for x in objs[:4]] == ["0.0000000001", "-0.0000000015", "0.0000000000", "-123.4567890123"]
    assert [x["day"] for x in objs[:5]] == ["1970-01-01", "1969-12-31", "2024-06-01", "0001-01-01", "9999-12-31"]
    assert objs[2]["ts"] == "2024-06-01T08:30:00.000000Z"
    assert objs[1]["ts"] == "1969-12-31T23:59:59.999999Z"
    assert objs[10]["i"] == 2**63 - 1 and objs[11]["i"] is None and objs[11]["s"] is None
    assert objs[5]["day"] is None and objs[5]["ts"] is None and objs[2]["b"] is None


def test_decimals_as_numbers(tmp_path):
    batch = _sample_batch()
    path = _write("ndjson", tmp_path, [batch], batch.schema, decimals="number")
    first = path.read_bytes().split(b"\n")[0]
    assert b'"d":12.50,' in first and b'"tiny":0.0000000001,' in first
    objs = [json.loads(x, parse_float=decimal.Decimal) for x in path.read_text(encoding="utf-8").split("\n")[:-1]]
    assert objs[0]["d"] == decimal.Decimal("12.50") and objs[3]["d"] == decimal.Decimal("9999999999.99")
    assert _read("ndjson", tmp_path, batch.schema).equals(pa.Table.from_batches([batch]))


def test_nan_and_inf_become_null(tmp_path):
    batch = pa.record_batch({"x": pa.array([1.5, float("nan"), float("inf"), float("-inf"), None])})
    objs = json.loads(_write("json", tmp_path, [batch], batch.schema).read_text())
    assert [o["x"] for o in objs] == [1.5, None, None, None, None]


def test_decimal_plain_form_never_exponent():
    vals = ["1E-38", "-9E-38", "0.00000012345678901234567890123456789012"]
    arr = pa.array([decimal.Decimal(v) for v in vals], pa.decimal128(38, 38))
    got = decimal_text(arr).to_pylist()
    assert all("E" not in g and len(g.split(".")[1]) == 38 for g in got)
    assert [decimal.Decimal(g) for g in got] == [decimal.Decimal(v) for v in vals]


def test_float32_round_trip(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(20_000).astype(np.float32) * np.float32(10.0) ** rng.integers(-30, 30, 20_000)
    batch = pa.record_batch({"x": pa.array(x.astype(np.float32))})
    _write("ndjson", tmp_path, [batch], batch.schema)
    assert _read("ndjson", tmp_path, batch.schema).column("x").equals(pa.chunked_array([batch.column(0)]))


def test_empty_table(tmp_path):
    batch = _sample_batch()
    for name in ("json", "ndjson"):
        d = tmp_path / name
        d.mkdir()
        path = _write(name, d, [], batch.schema)
        assert path.read_bytes() == (b"[\n]\n" if name == "json" else b"")
        assert _read(name, d, batch.schema).num_rows == 0
    assert json.loads((tmp_path / "json" / "t.json").read_text()) == []


# --- determinism, streaming, compression ------------------------------------------------------


def _big_batches(n: int = 5000, chunk: int | None = None):
    rng = np.random.default_rng(3)
    t = pa.table({
        "id": pa.array(np.arange(n)),
        "v": pa.array(rng.random(n)),
        "s": pa.array(np.array(TRICKY[:-1])[rng.integers(0, len(TRICKY) - 1, n)]),
        "ts": pa.array(rng.integers(0, 2**50, n), pa.timestamp("us", tz="UTC")),
    })
    return t, (t.to_batches(max_chunksize=chunk) if chunk else t.combine_chunks().to_batches())


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
@pytest.mark.parametrize("fmt_name", ["json", "ndjson"])
def test_same_bytes_whatever_the_batches(fmt_name, compression, tmp_path):
    table, one = _big_batches()
    _, many = _big_batches(chunk=37)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _write(fmt_name, tmp_path / "a", one, table.schema, compression=compression)
    b = _write(fmt_name, tmp_path / "b", many, table.schema, compression=compression)
    suffix = {"none": "", "gzip": ".gz", "zstd": ".zst"}[compression]
    assert a.name == f"t.{fmt_name}{suffix}"
    assert a.read_bytes() == b.read_bytes()
    assert _read(fmt_name, tmp_path / "b", table.schema).equals(table)
    plain = {"none": lambda d: d, "gzip": gzip.decompress,
             "zstd": lambda d: zstandard.ZstdDecompressor().decompressobj().decompress(d)}[compression](a.read_bytes())
    if fmt_name == "json":
        assert len(json.loads(plain)) == table.num_rows
    else:
        assert plain.count(b"\n") == table.num_rows


def test_gzip_header_is_deterministic(tmp_path):
    table, batches = _big_batches(100)
    path = _write("ndjson", tmp_path, batches, table.schema, compression="gzip")
    head = path.read_bytes()[:10]
    assert head[3] == 0 and head[4:8] == b"\0\0\0\0"  # no file name, mtime 0


def test_memory_is_bounded_by_one_batch(tmp_path):
    """The writer keeps no batch: the file grows with every batch, Arrow memory stays flat."""
    fmt = FORMATS["ndjson"]
    table, _ = _big_batches(2000)
    template = table.combine_chunks().to_batches()[0]
    order = pa.array(np.arange(template.num_rows))
    n = 40
    w = fmt.open_writer(tmp_path, _table(), table.schema, fmt.check_options({}))
    base = pa.total_allocated_bytes()
    sizes, held = [], 0
    for _ in range(n):
        batch = template.take(order)  # a fresh copy in Arrow memory each time
        w.write_batch(batch)
        del batch
        sizes.append((tmp_path / "t.ndjson").stat().st_size)
        held = max(held, pa.total_allocated_bytes() - base)
    w.close()
    per_batch = (tmp_path / "t.ndjson").stat().st_size // n
    # written through as it goes: at most the background writer's queue (HashingFile.QUEUE
    # pieces, plus the one being written) and the file object's small buffer behind ...
    from shared.io.output import HashingFile

    lag = HashingFile.QUEUE + 1
    assert all(size >= (i + 1 - lag) * per_batch - (64 << 10) for i, size in enumerate(sizes))
    # ... and nothing kept: 40 batches written, never even two held
    assert held < 2 * template.nbytes, (held, template.nbytes)


def test_large_batch_is_encoded_in_slices(tmp_path):
    table, _ = _big_batches(ENCODE_ROWS + 10)
    batch = table.combine_chunks().to_batches()[0]
    _write("json", tmp_path, [batch], table.schema)
    assert _read("json", tmp_path, table.schema).equals(table)


# --- malformed content ------------------------------------------------------------------------


@pytest.mark.parametrize("damage", [
    lambda b: b[1:],  # no "["
    lambda b: b[:-2],  # no "]"
    lambda b: b.replace(b"},\n", b"}\n", 1),  # a missing comma
    lambda b: b.replace(b"}\n]", b"},\n]"),  # a trailing comma
    lambda b: b.replace(b"},\n", b"},\n{\"id\":\n", 1),  # a broken line
    lambda b: b.replace(b'"id":', b'"idx":', 1),  # an unknown key
    lambda b: b.replace(b'"id":1,', b'"id":"1",', 1),  # a wrong type
])
def test_malformed_json_raises(damage, tmp_path):
    table, batches = _big_batches(50)
    path = _write("json", tmp_path, batches, table.schema)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises((JsonLayoutError, pa.ArrowInvalid)):
        _read("json", tmp_path, table.schema)


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_truncated_compressed_file_raises(compression, tmp_path):
    table, batches = _big_batches(3000)
    path = _write("ndjson", tmp_path, batches, table.schema, compression=compression)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises((EOFError, JsonLayoutError, pa.ArrowInvalid)):
        _read("ndjson", tmp_path, table.schema)


def test_bad_date_raises(tmp_path):
    schema = pa.schema([("day", pa.date32())])
    (tmp_path / "t.ndjson").write_bytes(b'{"day":"2024-02-30"}\n')
    with pytest.raises(pa.ArrowInvalid):
        _read("ndjson", tmp_path, schema)


# --- command line -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app():
    return importlib.import_module(MODULE + ".__main__").app


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("conf") / "conf.yaml"
    p.write_text(CONFORMANCE_SCHEMA)
    return p


def _cli(app, *args):
    return make_runner().invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("opt", ["compression=lz9", "decimals=float", "indent=2", "nokey"])
def test_bad_option_exits_2(app, schema_file, tmp_path, opt):
    res = _cli(app, "generate", "--format", "ndjson", "--schema", schema_file, "--out", tmp_path / "o", "--option", opt)
    assert res.exit_code == 2, res.output
    assert not (tmp_path / "o").exists()
    assert "--option" in res.stderr and "Traceback" not in res.stderr
    if opt.startswith("compression"):
        assert "none, gzip, zstd" in res.stderr
    if opt.startswith("decimals"):
        assert "string, number" in res.stderr


@pytest.mark.parametrize("fmt_name", ["json", "ndjson"])
def test_compressed_generate_and_validate(app, schema_file, tmp_path, fmt_name):
    out = tmp_path / "o"
    res = _cli(app, "generate", "--format", fmt_name, "--schema", schema_file, "--out", out, "--quiet",
               "--option", "compression=zstd", "--option", "decimals=number")
    assert res.exit_code == 0, res.output
    assert (out / f"people.{fmt_name}.zst").is_file() and not (out / f"people.{fmt_name}").exists()
    res = _cli(app, "validate", "--format", fmt_name, "--schema", schema_file, "--out", out)
    assert res.exit_code == 0, res.output
