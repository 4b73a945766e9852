"""The engine on a real local Spark (``datagen.spark``): every example schema gives the local
engine's values, in order, whatever the partition count; ``generate --engine spark`` writes the
local layout that ``validate`` (its replay against the local engine included) passes; a task that
fails once is retried without duplicates, on ``local[4]``; the error paths.

One Spark session for the module (a local[2] session takes 10–45 s to start on a busy 2-core
machine); the CLI runs in subprocesses start their own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="the spark extra (make setup installs it)")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java (17 is on the machines this runs on)", allow_module_level=True)

import datagen  # noqa: E402
from datagen import spark as dspark  # noqa: E402
from shared.resources import example_schemas  # noqa: E402
from tests.test_format_postgres import run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [example_schemas()[k] for k in sorted(example_schemas())]


@pytest.fixture(scope="module")
def spark():
    session = dspark.session("local[2]")
    yield session
    session.stop()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_equals_the_local_engine(spark, example):
    plan = datagen.resolve_plan(example, block_rows=700)  # several blocks per table
    frames = dspark.generate(plan, spark, partitions=3)
    assert list(frames) == list(plan.kept)
    assert dspark.differences(frames, plan) == {}


@pytest.mark.parametrize("partitions", [1, 2, 7])
def test_the_partition_count_never_changes_a_value(spark, partitions):
    plan = datagen.resolve_plan(example_schemas()["bank"], block_rows=1000, seed=11)
    assert dspark.differences(dspark.generate(plan, spark, partitions=partitions), plan) == {}


def test_generate_takes_a_schema_and_plan_settings(spark):
    frames = dspark.generate(example_schemas()["shop"], spark, seed=5, rows={"customers": 300}, tables=["customers"])
    assert list(frames) == ["customers"] and frames["customers"].count() == 300
    local = datagen.to_arrow(example_schemas()["shop"], "customers", seed=5, rows={"customers": 300})["customers"]
    assert dspark.to_arrow(frames["customers"], local.schema).equals(local)
    with pytest.raises(datagen.UsageError, match="no table custmers .*did you mean 'customers'"):
        dspark.generate(example_schemas()["shop"], spark, tables=["custmers"])


def test_generate_engine_spark_in_process_validates(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.db"))
    out = tmp_path / "out"
    result = datagen.generate(example_schemas()["shop"], format="parquet", out=out, engine="spark", spark=spark,
                              block_rows=2000)
    assert result.manifest["engine"] == "spark"
    assert sorted(p.name for p in out.iterdir()) == ["customers", "manifest.json", "order_items", "orders", "products"]
    assert all(p.name.startswith("part-") and p.suffix == ".parquet" for p in (out / "orders").iterdir())
    report = datagen.validate(example_schemas()["shop"], out=out, format="parquet")
    assert report["status"] == "pass", [c for c in report["checks"] if c["status"] != "pass"][:3]
    replay = [c for c in report["checks"] if c["kind"] == "deterministic_replay"]
    assert replay and all(c["status"] == "pass" for c in replay)
    from datagen.runs import RunStore

    (latest,) = RunStore.at(tmp_path / "runs.db").list(limit=1)
    assert latest["status"] == "success" and latest["id"] == result.record["id"]


def test_parquet_parts_written_by_the_executors_are_the_local_files(spark, tmp_path, monkeypatch):
    """Each task writes its part with the local format's own part writer: with the format's own
    parts (max_rows_per_file) the files are a local run's, byte for byte; every option honoured."""
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.db"))
    shop = example_schemas()["shop"]
    options = {"max_rows_per_file": 700, "row_group_rows": 300, "compression": "zstd"}
    local = datagen.generate(shop, format="parquet", out=tmp_path / "local", options=options, block_rows=5000)
    ours = datagen.generate(shop, format="parquet", out=tmp_path / "spark", options=options, engine="spark",
                            spark=spark, block_rows=700)

    def files(m):
        return {f["path"]: (f["bytes"], f["sha256"]) for f in m["files"]}

    assert files(ours.manifest) == files(local.manifest)
    assert len([p for p in files(local.manifest) if p.startswith("order_items/")]) > 1
    assert not any(p.name.startswith(".spark-") for p in (tmp_path / "spark").iterdir())


@pytest.mark.parametrize(("fmt", "options"), [
    ("csv", {}),
    ("csv", {"delimiter": ";", "quoting": "all", "compression": "gzip"}),
    ("ndjson", {"compression": "zstd"}),
    ("json", {}),
])
def test_text_formats_on_spark_are_the_local_bytes(spark, tmp_path, monkeypatch, fmt, options):
    """The executors render each block with the local format's own renderer and the driver
    appends the blocks in order through the local writer: the same files, byte for byte, at
    another block size; validate (replay included) passes."""
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.db"))
    shop = example_schemas()["shop"]
    local = datagen.generate(shop, format=fmt, out=tmp_path / "local", options=options, block_rows=5000)
    ours = datagen.generate(shop, format=fmt, out=tmp_path / "spark", options=options, engine="spark", spark=spark,
                            block_rows=700)
    assert ours.manifest["engine"] == "spark"

    def files(m):
        return {f["path"]: (f["bytes"], f["sha256"]) for f in m["files"]}

    assert files(ours.manifest) == files(local.manifest)
    assert not any(p.name.startswith(".spark-") for p in (tmp_path / "spark").iterdir())
    report = datagen.validate(shop, out=tmp_path / "spark", format=fmt)
    assert report["status"] == "pass", [c for c in report["checks"] if c["status"] != "pass"][:3]


FLAKY = """
version: 1
name: flaky
seed: 3
tables:
  - name: events
    rows: 5000
    primary_key: id
    columns:
      - {name: id, type: int64, generator: {type: flaky_sequence, params: {start: 1}}}
      - {name: value, type: float64, generator: {type: normal, params: {mean: 0, std: 1}}}
"""


def test_cli_on_local4_retries_a_failed_task_without_duplicates(tmp_path):
    schema = tmp_path / "flaky.yaml"
    schema.write_text(FLAKY)
    plugins = str(ROOT / "tests" / "plugins")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), plugins]),
           "DATAGEN_PLUGINS": "datagen_flaky_spark", "DATAGEN_RUNS_DB": str(tmp_path / "runs.db")}
    out = tmp_path / "out"
    cmd = [sys.executable, "-P", "-m", "datagen"]
    gen = subprocess.run([*cmd, "generate", "--format", "parquet", "--schema", schema, "--out", out, "--engine",
                          "spark", "--spark-master", "local[4,2]", "--block-rows", "500", "--spark-conf",
                          "spark.default.parallelism=4", "--json"],
                         env=env, capture_output=True, text=True, timeout=600)
    assert gen.returncode == 0, gen.stderr[-3000:]
    assert "the first attempt of partition 1 fails on purpose" in gen.stderr  # it did fail, and was retried
    manifest = json.loads(gen.stdout)
    assert manifest["engine"] == "spark" and manifest["rows"] == {"events": 5000}
    val = subprocess.run([*cmd, "validate", "--format", "parquet", "--schema", schema, "--out", out],
                         env=env, capture_output=True, text=True, timeout=600)
    assert val.returncode == 0, val.stdout[-3000:] + val.stderr[-3000:]
    import pyarrow.parquet as pq

    ids = pq.read_table(out / "events").column("id").to_pylist()
    assert ids == list(range(1, 5001))  # each row once, in order: the failed attempt left nothing


def test_engine_errors(tmp_path):
    shop = example_schemas()["shop"]
    code, out = run("generate", "--format", "sqlite", "--schema", shop, "--out", tmp_path / "a", "--engine", "spark")
    assert code == 2 and "--engine spark writes parquet, delta, csv, ndjson or json, not sqlite" in out, out
    code, out = run("generate", "--format", "parquet", "--schema", shop, "--out", tmp_path / "b", "--engine", "sprak")
    assert code == 2 and "--engine 'sprak': one of local, spark (did you mean 'spark'?)" in out, out
    code, out = run("generate", "--format", "parquet", "--schema", shop, "--out", tmp_path / "c", "--spark-master",
                    "local[2]")
    assert code == 2 and "--spark-master and --spark-conf go with --engine spark" in out, out
    code, out = run("generate", "--format", "parquet", "--schema", shop, "--out", tmp_path / "d", "--engine", "spark",
                    "--profile", "dirty")
    assert code == 2 and "the dirty profile" in out, out
    code, out = run("generate", "--format", "parquet", "--schema", shop, "--out", tmp_path / "e", "--engine", "spark",
                    "--option", "max_file_bytes=1000000")
    assert code == 2 and "--option max_file_bytes needs the sequential writer" in out, out
    code, out = run("generate", "--format", "parquet", "--schema", shop, "--out", tmp_path / "f", "--engine", "spark",
                    "--spark-conf", "nonsense")
    assert code == 2 and "--spark-conf 'nonsense': give KEY=VALUE" in out, out
    assert not any((tmp_path / n).exists() for n in "abcdef")


# --------------------------------------------------------------------------- validate --engine spark


def _not_passed(report):
    return [c for c in report["checks"] if c["status"] != "pass"][:3]


#: small runs of several files per table (Spark streams each file's partitions: one job each)
SMALL = {"scale": 0.25, "block_rows": 400}


def _replays(report, table=None):
    return [c for c in report["checks"] if c["kind"] == "deterministic_replay" and table in (None, c["table"])]


def test_validate_engine_spark_reads_parquet_and_catches_a_tampered_value(spark, tmp_path, monkeypatch):
    """Spark reads the tables back and the runner's one set of checks runs on its batches:
    status pass, the replay against the local engine included, the report saying so; one key
    rewritten in a part (pyarrow, the same types) fails the replay of that table."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.db"))
    shop, out = example_schemas()["shop"], tmp_path / "out"
    datagen.generate(shop, format="parquet", out=out, engine="spark", spark=spark, **SMALL)
    parts = sorted((out / "orders").glob("part-*.parquet"))
    assert len(parts) > 1  # several files: their order matters
    report = datagen.validate(shop, out=out, format="parquet", engine="spark", spark=spark)
    assert report["status"] == "pass", _not_passed(report)
    assert report["engine"] == "spark" and "hive" not in report
    assert len(_replays(report)) == 4 and all(c["status"] == "pass" and c["element_count"] for c in _replays(report))

    data = pq.read_table(parts[0])  # block 0: always replayed
    i = data.schema.get_field_index("order_id")
    ids = data.column(i)
    pq.write_table(data.set_column(i, data.field(i), pc.if_else(pc.equal(ids, ids[3]), pa.scalar(-1, ids.type), ids)),
                   parts[0])
    report = datagen.validate(shop, out=out, format="parquet", engine="spark", spark=spark)
    assert report["status"] == "fail" and report["engine"] == "spark"
    (replay,) = _replays(report, "orders")
    assert replay["status"] == "fail" and replay["unexpected_count"] == 1, replay


def test_validate_engine_spark_reads_delta(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.db"))
    shop, out = example_schemas()["shop"], tmp_path / "out"
    datagen.generate(shop, format="delta", out=out, engine="spark", spark=spark, **SMALL)
    report = datagen.validate(shop, out=out, format="delta", engine="spark", spark=spark)
    assert report["status"] == "pass", _not_passed(report)
    assert report["engine"] == "spark" and [c["status"] for c in _replays(report)] == ["pass"] * 4
    assert [c["status"] for c in report["checks"] if c["kind"] == "delta_log"] == ["pass"] * 4
    assert datagen.validate(shop, out=out, format="delta")["engine"] == "local"


def test_spark_reading_keeps_the_row_order_of_files_split_in_partitions(spark, tmp_path, monkeypatch):
    """Parts of many row groups read in several Spark partitions each (a small maxPartitionBytes):
    the rows reach the checks in the files' order — the batches equal pyarrow's reading of the
    files, and the replay, which compares in order, passes."""
    import pyarrow.parquet as pq

    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.db"))
    shop, out = example_schemas()["shop"], tmp_path / "out"
    datagen.generate(shop, format="parquet", out=out, options={"row_group_rows": 50}, workers=1, scale=0.1)
    (part,) = sorted((out / "orders").glob("part-*.parquet"))
    assert pq.ParquetFile(part).num_row_groups > 5
    old = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "4096")
    try:
        assert spark.read.parquet(str(part)).rdd.getNumPartitions() > 2
        the_schema = datagen.load_schema(shop)
        reading = dspark.spark_reader(datagen.get_format("parquet"), the_schema, out, spark=spark)
        got = reading.read_batches(out, the_schema.table("orders"), pq.read_schema(part)).read_all()
        assert got.num_rows == 600 and got.equals(pq.read_table(part).cast(got.schema))
        report = datagen.validate(shop, out=out, format="parquet", engine="spark", spark=spark)
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", old)
    assert report["status"] == "pass", _not_passed(report)


HIVE_SCRIPT = """
import json, sys
import datagen
from datagen import spark as dspark
from typer.testing import CliRunner
from datagen.cli import app

shop, out, meta = sys.argv[1:4]
spark = dspark.session("local[2]", hive_metastore=meta)
datagen.generate(shop, format="delta", out=out, engine="spark", spark=spark, scale=0.25, block_rows=400,
                 hive_db="dg_validate")
runner = CliRunner()
args = ["validate", "--format", "delta", "--schema", shop, "--out", out, "--engine", "spark", "--hive-metastore", meta]
ok = runner.invoke(app, [*args, "--hive-db", "dg_validate", "--json", "--report", out + "-ok.json"])
missing = runner.invoke(app, [*args, "--hive-db", "dg_missing", "--json", "--report", out + "-missing.json"])
print(json.dumps({"ok": ok.exit_code, "missing": missing.exit_code}))
"""


def test_validate_engine_spark_reads_the_hive_tables(tmp_path):
    """A Delta run registered with --hive-db and read back from the catalog (the CLI, in a process of
    its own: a Hive session is one per process): pass; a database without the tables: exit 1,
    artifact_exists saying which table the catalog lacks."""
    out, meta = tmp_path / "out", tmp_path / "hive"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATAGEN_RUNS_DB": str(tmp_path / "runs.db")}
    proc = subprocess.run([sys.executable, "-P", "-c", HIVE_SCRIPT, str(example_schemas()["shop"]), str(out),
                           str(meta)], env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    ok = json.loads((tmp_path / "out-ok.json").read_text())
    assert codes["ok"] == 0, _not_passed(ok)
    assert ok["engine"] == "spark" and ok["hive"] == {"database": "dg_validate"}
    assert [c["status"] for c in ok["checks"] if c["kind"] == "deterministic_replay"] == ["pass"] * 4
    exists = [c for c in ok["checks"] if c["kind"] == "artifact_exists" and c["table"]]
    assert {c["table"] for c in exists} == {"customers", "products", "orders", "order_items"}
    assert all(c["status"] == "pass" for c in exists)  # asked of the catalog, table by table
    missing = json.loads((tmp_path / "out-missing.json").read_text())
    assert codes["missing"] == 1 and missing["status"] == "fail"
    gone = [c for c in missing["checks"] if c["kind"] == "artifact_exists" and c["status"] == "fail"]
    assert len(gone) == 4 and "no table dg_missing.customers in the Spark session's catalog" in \
        " ".join(c["message"] for c in gone), gone


def test_validate_engine_errors(tmp_path):
    shop, out = example_schemas()["shop"], tmp_path / "out"
    out.mkdir()
    base = ("validate", "--schema", shop, "--out", out)
    code, text = run(*base, "--format", "parquet", "--spark-master", "local[2]")
    assert code == 2 and "--spark-master and --spark-conf go with --engine spark" in text, text
    code, text = run(*base, "--format", "parquet", "--hive-db", "dg")
    assert code == 2 and "--hive-db and --hive-metastore go with --engine spark" in text, text
    code, text = run(*base, "--format", "parquet", "--engine", "spark", "--hive-db", "dg; DROP TABLE x")
    assert code == 2 and "not a safe identifier" in text, text
    code, text = run(*base, "--format", "csv", "--engine", "spark")
    assert code == 2 and "validate --engine spark reads parquet or delta, not csv" in text, text
    code, text = run(*base, "--format", "parquet", "--engine", "sprak")
    assert code == 2 and "--engine 'sprak': one of local, spark (did you mean 'spark'?)" in text, text
    code, text = run(*base, "--format", "parquet", "--engine", "spark", "--spark-conf", "nonsense")
    assert code == 2 and "--spark-conf 'nonsense': give KEY=VALUE" in text, text
