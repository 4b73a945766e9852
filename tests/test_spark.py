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
                    "--option", "row_group_rows=1000")
    assert code == 2 and "--option row_group_rows is not honoured" in out, out
    code, out = run("generate", "--format", "parquet", "--schema", shop, "--out", tmp_path / "f", "--engine", "spark",
                    "--spark-conf", "nonsense")
    assert code == 2 and "--spark-conf 'nonsense': give KEY=VALUE" in out, out
    assert not any((tmp_path / n).exists() for n in "abcdef")
