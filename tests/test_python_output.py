"""Generate from Python (issue 13, item 2): ``datagen.generate(..., output=...)`` into memory (no
file written, a memory budget checked before any row), a temporary folder or a path, as pandas,
Arrow or polars — the same values the command line writes."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import datagen
from datagen.cli import app
from datagen.output import OutputSpec, estimate_bytes, parse_size
from tests.helpers import EXAMPLES_DIR, make_runner

SHOP = str(EXAMPLES_DIR / "shop.yaml")
ECOMMERCE = str(EXAMPLES_DIR / "ecommerce.yaml")


def test_memory_sink_writes_no_file_and_gives_the_cli_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = datagen.generate(SHOP, output={"sink": "memory"}, seed=5, workers=1)
    assert list(tmp_path.iterdir()) == []  # not a byte on disk
    assert res.sink == "memory" and res.output_dir is None and res.files == []
    assert res.record["status"] == "success" and res.record["seed"] == 5 and res.record["target"]["kind"] == "memory"
    plan = datagen.resolve_plan(SHOP, seed=5)
    assert res.rows == {n: plan.rows(n) for n in plan.order}
    assert res.manifest["seed"] == 5 and res.manifest["sink"] == "memory"
    cli = make_runner().invoke(app, ["generate", "--schema", SHOP, "--format", "parquet", "--out",
                                     str(tmp_path / "o"), "--seed", "5", "-q"])
    assert cli.exit_code == 0
    for name, frame in res.tables.items():
        assert frame.equals(pq.read_table(tmp_path / "o" / name).to_pandas()), name


def test_table_formats_and_workers_give_the_same_values():
    arrow = datagen.generate(SHOP, output={"table_format": "arrow"}, workers=1).tables
    two = datagen.generate(SHOP, output=OutputSpec(table_format="arrow"), workers=2, block_rows=999).tables
    frames = datagen.generate(SHOP, output="memory", workers=1).tables
    for name, t in arrow.items():
        assert isinstance(t, pa.Table) and t.equals(two[name]) and t.equals(datagen.to_arrow(SHOP)[name])
        assert frames[name].equals(t.to_pandas()), name


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_temp_dir_sink_writes_files_and_reads_them_back(fmt):
    res = datagen.generate(ECOMMERCE, output={"sink": "temp_dir", "format": fmt, "table_format": "arrow"}, workers=1)
    assert res.output_dir is not None and res.output_dir.is_dir() and res.sink == "temp_dir"
    assert json.loads((res.output_dir / "manifest.json").read_text())["format"] == fmt
    want = datagen.to_arrow(ECOMMERCE)
    # orders are partitioned by month in Parquet and CSV: read back in row order all the same
    for name, t in res.tables.items():
        assert t.equals(want[name]), (fmt, name)


def test_path_sink_passes_compression_and_options(tmp_path):
    out = tmp_path / "run"
    res = datagen.generate(SHOP, output={"sink": "path", "path": out, "compression": "zstd",
                                         "options": {"row_group_rows": 1000}}, workers=1)
    assert res.output_dir == out and res.format == "parquet"
    meta = pq.read_metadata(next((out / "orders").glob("*.parquet")))
    assert meta.row_group(0).column(0).compression == "ZSTD" and meta.row_group(0).num_rows == 1000
    assert res.manifest["options"]["compression"] == "zstd"


@pytest.mark.parametrize(("output", "message"), [
    ({"sink": "path"}, "output: sink 'path' needs a path"),
    ({"sink": "disk"}, "output: sink 'disk' is not one of memory, temp_dir, path"),
    ({"snk": "memory"}, "output: unknown key 'snk' (did you mean 'sink'?)"),
    ({"table_format": "excel"}, "table_format 'excel' is not one of pandas, arrow, polars"),
    ({"sink": "memory", "path": "x"}, "output: a path is for sink 'path', not 'memory'"),
    ({"sink": "memory", "compression": "zstd"}, "sink 'memory' writes none"),
    ({"memory_budget": -1}, "memory_budget must be a positive number of bytes"),
    (3, "output: an OutputSpec, a dict or a sink name, not int"),
    ({"sink": "path", "path": "x", "format": "xlsx"}, "--format xlsx: unknown format"),
])
def test_bad_output_specs_are_refused_before_anything_runs(output, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(datagen.UsageError) as exc:
        datagen.generate(SHOP, output=output)
    assert message in str(exc.value) and exc.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_output_and_out_together_are_refused(tmp_path):
    with pytest.raises(datagen.UsageError, match="give its path and options there"):
        datagen.generate(SHOP, output="memory", out=tmp_path / "x")


def test_the_memory_budget_refuses_before_any_row_is_computed(monkeypatch):
    from shared.schema_dsl import engine

    def boom(*a, **k):
        raise AssertionError("generation started")

    monkeypatch.setattr(engine.Engine, "iter_batches", boom)
    with pytest.raises(datagen.UsageError) as exc:
        datagen.generate(SHOP, output={"sink": "memory", "memory_budget": 1 << 20}, rows={"customers": 10**7})
    msg = str(exc.value)
    assert "would take about" in msg and "over the memory budget of 1.0 MiB" in msg
    assert "output={'sink': 'path'" in msg
    monkeypatch.setenv("DATAGEN_MEMORY_BUDGET", "2M")
    with pytest.raises(datagen.UsageError, match="memory budget of 2.0 MiB"):
        datagen.generate(SHOP, output="memory")


def test_the_estimate_tracks_the_real_size():
    plan = datagen.resolve_plan(SHOP)
    arrow = datagen.generate(SHOP, output={"table_format": "arrow"}, workers=1).tables
    real = sum(t.nbytes for t in arrow.values())
    est = estimate_bytes(plan, "arrow")
    assert real / 3 < est < real * 3, (est, real)
    assert estimate_bytes(plan, "pandas") > est


@pytest.mark.parametrize(("text", "n"), [("8G", 8 << 30), ("512M", 512 << 20), ("1.5GiB", 3 << 29), ("1000", 1000),
                                         ("64kb", 64 << 10)])
def test_sizes_parse(text, n):
    assert parse_size(text) == n


def test_a_bad_budget_variable_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("DATAGEN_MEMORY_BUDGET", "lots")
    with pytest.raises(datagen.UsageError, match="DATAGEN_MEMORY_BUDGET='lots': not a size"):
        datagen.generate(SHOP, output="memory")


def test_dirty_data_in_memory_comes_with_its_corruption_record(tmp_path):
    mem = datagen.generate(SHOP, output="memory", profile="dirty", workers=1)
    files = datagen.generate(SHOP, profile="dirty", format="csv", out=tmp_path / "d", workers=1)
    import pandas as pd

    sidecar = pd.read_csv(tmp_path / "d" / "corruptions.csv", keep_default_na=False)
    assert len(mem.corruptions) == len(sidecar) > 0
    assert mem.manifest["corruption"]["counts"] == files.manifest["corruption"]["counts"]
    assert list(mem.corruptions.columns) == ["table", "column", "row", "kind", "original"]
    assert "__corruptions__" not in mem.rows


def test_polars_tables_or_a_clear_message():
    try:
        import polars  # noqa: F401
    except ImportError:
        with pytest.raises(datagen.UsageError, match="table_format 'polars' needs polars"):
            datagen.generate(SHOP, output={"table_format": "polars"}, workers=1)
        return
    frames = datagen.generate(SHOP, output={"table_format": "polars"}, workers=1).tables
    assert frames["orders"].height == 6000


def test_the_client_holds_defaults_and_calls_win():
    client = datagen.DataGen(output={"sink": "memory", "table_format": "arrow"}, workers=1, seed=3)
    a = client.generate(SHOP)
    b = client.generate(SHOP, seed=4)
    assert a.manifest["seed"] == 3 and b.manifest["seed"] == 4
    assert isinstance(a.tables["orders"], pa.Table)
    assert client.describe(SHOP)["seed"] == 3
    assert repr(client).startswith("DataGen(output=")


def test_the_legacy_call_still_writes_files(tmp_path):
    res = datagen.generate(SHOP, format="csv", out=tmp_path / "c", workers=1)
    assert res.sink == "path" and (tmp_path / "c" / "orders.csv").is_file()
    assert res.tables["orders"].shape == (6000, 8)
    assert os.path.isfile(tmp_path / "c" / "manifest.json")


def test_frames_built_batch_by_batch_equal_arrows_own_conversion():
    import datetime as dt
    from decimal import Decimal

    from datagen.output import frame_from_batches

    schema = pa.schema([
        pa.field("i8", pa.int8(), nullable=False), pa.field("i64", pa.int64(), nullable=False),
        pa.field("ni", pa.int32()), pa.field("f32", pa.float32(), nullable=False),
        pa.field("b", pa.bool_(), nullable=False), pa.field("nb", pa.bool_()),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False), pa.field("nts", pa.timestamp("us", tz="UTC")),
        pa.field("d", pa.date32(), nullable=False), pa.field("dec", pa.decimal128(10, 2), nullable=False),
        pa.field("s", pa.string(), nullable=False), pa.field("ns", pa.string()),
    ])

    def batch(k):
        n = 3
        return pa.record_batch([
            pa.array([k, -k, 7], pa.int8()), pa.array([k * 10**12, 0, -1], pa.int64()), pa.array([None, 1, k], pa.int32()),
            pa.array([0.5, k, -1.25], pa.float32()), pa.array([True, False, k % 2 == 0]),
            pa.array([None, True, False]), pa.array([k * 10**9, 0, 1], pa.timestamp("us", tz="UTC")),
            pa.array([None, 5, 6], pa.timestamp("us", tz="UTC")),
            pa.array([dt.date(2025, 1, k + 1), dt.date(1999, 12, 31), dt.date(1, 1, 1)], pa.date32()),
            pa.array([Decimal("1.25"), Decimal(k), Decimal("-0.01")], pa.decimal128(10, 2)),
            pa.array(["a", "é" * k, ""]), pa.array([None, "x", "y"]),
        ][:len(schema)], schema=schema) if n else None

    batches = [batch(k) for k in range(1, 5)]
    want = pa.Table.from_batches(batches, schema=schema).to_pandas()
    got = frame_from_batches(iter(batches), schema, 12)
    assert got.equals(want)
    assert list(got.dtypes) == list(want.dtypes)
    with pytest.raises(AssertionError, match="9 rows arrived, 12 planned"):
        frame_from_batches(iter(batches[:3]), schema, 12)


def test_the_run_record_identifies_what_determines_the_bytes(tmp_path):
    a = datagen.generate(SHOP, output="memory", workers=1)
    b = datagen.generate(SHOP, output="memory", workers=2, block_rows=777)  # never changes values
    c = datagen.generate(SHOP, output="memory", workers=1, seed=11)
    assert a.record["config_hash"] == b.record["config_hash"] != c.record["config_hash"]
    files = datagen.generate(SHOP, format="csv", out=tmp_path / "f", workers=1).record
    assert files["target"] == {"kind": "files", "format": "csv", "path": str(tmp_path / "f")}
    assert files["config"]["format"] == "csv" and files["rows"] == a.record["rows"]
    assert set(files["tables"]["orders"]) == {"rows", "seconds"} and files["error"] is None
    assert files["schema"]["sha256"] == files["config"]["schema_sha256"] and len(files["config_hash"]) == 64
