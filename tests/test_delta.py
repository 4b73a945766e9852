"""Delta tables (``--format delta``, generators/delta_table) and Hive registration (``--hive-db``):
every example schema written by the local engine as Delta tables validates (its replay and the
``delta_log`` check included) and reads back with delta-rs as the local engine's rows; Spark
writes the same tables (its parts committed with delta-rs: delta-spark's jar comes from a Maven
repository these machines cannot reach) and registers them in a Hive catalog with an embedded
Derby metastore, where Spark SQL counts the local engine's rows; the error paths.

The Spark tests share one local[2] session with Hive support for the module, stopped at its end
(a SparkContext is one per process; tests/test_spark.py stops its own at its end).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

pytest.importorskip("deltalake", reason="the spark extra (make setup installs it)")

from deltalake import DeltaTable  # noqa: E402

import datagen  # noqa: E402
from shared.resources import example_schemas  # noqa: E402
from tests.test_format_postgres import run  # noqa: E402

EXAMPLES = [example_schemas()[k] for k in sorted(example_schemas())]


def _failures(report):
    return [c for c in report["checks"] if c["status"] not in ("pass", "skipped")][:3]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_writes_delta_tables_that_validate(example, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.db"))
    out = tmp_path / "out"
    result = datagen.generate(example, format="delta", out=out, options={"max_rows_per_file": "700"}, workers=2)
    for name in result.manifest["rows"]:
        assert (out / name / "_delta_log" / "00000000000000000000.json").is_file()
        assert DeltaTable(str(out / name)).version() == 0
    report = datagen.validate(example, out=out, format="delta")
    assert report["status"] in ("pass", "warn"), _failures(report)
    kinds = {c["kind"]: c["status"] for c in report["checks"] if c["status"] == "pass"}
    assert "deterministic_replay" in kinds and "delta_log" in kinds


def _local(example, **kw) -> dict[str, pa.Table]:
    plan = datagen.resolve_plan(example, **kw)
    return {name: datagen.to_arrow(plan, name)[name] for name in plan.kept}


def test_delta_rs_reads_the_local_engines_rows_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.db"))
    shop = example_schemas()["shop"]
    out = tmp_path / "out"
    datagen.generate(shop, format="delta", out=out, seed=3, options={"max_rows_per_file": "300"})
    for name, want in _local(shop, seed=3).items():
        got = DeltaTable(str(out / name)).to_pyarrow_dataset().to_table()
        assert got.num_rows == want.num_rows
        assert got.cast(want.schema).equals(want), name  # the parts in the log's order are the row order


def test_a_partitioned_table_is_a_partitioned_delta_table(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.db"))
    logistics = example_schemas()["logistics"]
    plan = datagen.resolve_plan(logistics, seed=5)
    parted = next(t for t in plan.schema.tables if t.partition_by and t.name in plan.kept)
    out = tmp_path / "out"
    datagen.generate(plan, format="delta", out=out)
    table = DeltaTable(str(out / parted.name))
    assert table.metadata().partition_columns == list(parted.partition_by)
    key = parted.primary_key[0] if isinstance(parted.primary_key, (list, tuple)) else parted.primary_key
    want = datagen.to_arrow(plan, parted.name)[parted.name].sort_by(key)
    got = table.to_pyarrow_table().select(want.column_names).sort_by(key)
    assert got.cast(want.schema).equals(want)


def test_a_file_the_log_does_not_name_is_not_read_and_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.db"))
    shop = example_schemas()["shop"]
    out = tmp_path / "out"
    datagen.generate(shop, format="delta", out=out, options={"max_rows_per_file": "300"})
    shutil.copy(out / "customers" / "part-00000.parquet", out / "customers" / "part-00099.parquet")
    report = datagen.validate(shop, out=out, format="delta")
    bad = [c for c in report["checks"] if c["status"] == "fail"]
    assert [(c["kind"], c["table"]) for c in bad] == [("delta_log", "customers")], bad
    assert "not in the log: part-00099.parquet" in bad[0]["message"]


def test_delta_errors(tmp_path):
    shop = example_schemas()["shop"]
    code, out = run("generate", "--format", "delta", "--schema", shop, "--out", tmp_path / "a", "--option",
                    "mergeSchema=true")
    assert code == 2 and "--option mergeSchema: unknown Delta option" in out, out
    code, out = run("generate", "--format", "delta", "--schema", shop, "--out", tmp_path / "b", "--hive-db", "sales")
    assert code == 2 and "--hive-db and --hive-metastore go with --engine spark" in out, out
    for bad in ("1sales", "sales; DROP DATABASE x", "sa-les", "`x`"):
        code, out = run("generate", "--format", "delta", "--schema", shop, "--out", tmp_path / "c", "--engine",
                        "spark", "--hive-db", bad)
        assert code == 2 and f"--hive-db {bad!r}: not a safe identifier" in out, out
    code, out = run("generate", "--format", "delta", "--schema", example_schemas()["logistics"], "--out",
                    tmp_path / "d", "--engine", "spark")
    assert code == 2 and "--engine spark --format delta: table 'telemetry' is partitioned" in out, out
    code, out = run("generate", "--format", "delta", "--schema", shop, "--out", tmp_path / "e", "--engine", "spark",
                    "--option", "max_file_bytes=1000000")
    assert code == 2 and "--option max_file_bytes needs the sequential writer" in out, out
    with pytest.raises(datagen.UsageError, match="hive_metastore applies to the session datagen starts"):
        datagen.generate(shop, format="delta", out=tmp_path / "f", engine="spark", spark=object(),
                         hive_metastore=tmp_path / "hive", hive_db="sales")
    assert not any((tmp_path / n).exists() for n in "abcdef")


# --- Spark: Delta tables from the executors, Hive registration ------------------------------------

@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    pytest.importorskip("pyspark", reason="the spark extra (make setup installs it)")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (17 is on the machines this runs on)")
    from datagen import spark as dspark

    home = tmp_path_factory.mktemp("hive")
    cwd = os.getcwd()
    os.chdir(home)  # derby.log goes to the working directory when the JVM was started earlier
    try:
        session = dspark.session("local[2]", hive_metastore=home)
        yield session
        session.stop()
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("fmt", ["delta", "parquet"])
def test_spark_writes_tables_registered_in_hive_that_validate(spark, fmt, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_RUNS_DB", str(tmp_path / "runs.db"))
    assert spark.conf.get("spark.sql.catalogImplementation") == "hive"
    shop = example_schemas()["shop"]
    out = tmp_path / "out"
    db = f"datagen_{fmt}"
    result = datagen.generate(shop, format=fmt, out=out, engine="spark", spark=spark, block_rows=2000, seed=9,
                              hive_db=db)
    assert result.manifest["engine"] == "spark"
    assert result.manifest["hive"] == {"database": db, "tables": [f"{db}.{t}" for t in result.manifest["rows"]]}
    report = datagen.validate(shop, out=out, format=fmt)
    assert report["status"] in ("pass", "warn"), _failures(report)
    assert any(c["kind"] == "deterministic_replay" and c["status"] == "pass" for c in report["checks"])
    local = _local(shop, seed=9)
    for name, want in local.items():
        (count,) = spark.sql(f"SELECT count(*) FROM {db}.{name}").collect()[0]
        assert count == want.num_rows, name
        if fmt == "delta":
            got = DeltaTable(str(out / name)).to_pyarrow_dataset().to_table()
            assert got.cast(want.schema).equals(want), name
    # keys and a foreign key through the catalog
    orphans = spark.sql(f"SELECT count(*) FROM {db}.orders o LEFT ANTI JOIN {db}.customers c "
                        "ON o.customer_id = c.customer_id").collect()[0][0]
    assert orphans == 0
    tables = {r.tableName for r in spark.sql(f"SHOW TABLES IN {db}").collect()}
    assert tables == set(local)
    # a second run into the same database replaces the registrations
    datagen.generate(shop, format=fmt, out=tmp_path / "again", engine="spark", spark=spark, block_rows=2000, seed=9,
                     rows={"customers": 100}, hive_db=db)
    assert spark.sql(f"SELECT count(*) FROM {db}.customers").collect()[0][0] == 100
    described = json.dumps([r.asDict() for r in spark.sql(f"DESCRIBE FORMATTED {db}.customers").collect()])
    assert str(tmp_path / "again" / "customers") in described


from tests.conformance import FormatConformance  # noqa: E402


class TestDeltaConformance(FormatConformance):
    """The conformance suite every format runs, on Delta tables. Two places differ by design:
    a Delta commit holds a new table id and its times on every run (the data files stay byte for
    byte the same), and a table rewritten by a tamperer gets its own commit (``commit_table``)."""

    FORMAT = "delta"
    MODULE = "generators.delta_table"

    def test_deterministic_across_runs_blocks_and_workers(self, app, schema_file, generated, tmp_path):
        from tests.helpers import delta_commit_content

        def content(out: Path) -> dict:
            files = json.loads((out / "manifest.json").read_text())["files"]
            return {f["path"]: (delta_commit_content(out / f["path"]) if "_delta_log" in f["path"] else f["sha256"])
                    for f in files}

        base = content(generated)
        assert any("_delta_log" in p for p in base)
        for i, extra in enumerate((("--workers", "1"), ("--workers", "2", "--block-rows", "37"))):
            out = tmp_path / f"o{i}"
            res = self.generate(app, schema_file, out, *extra)
            assert res.exit_code == 0, res.output
            assert content(out) == base

    def rewrite_table(self, fmt, out: Path, schema, table: str, data: pa.Table) -> None:
        """The table's files replaced by ``data`` in the format's own layout and committed anew."""
        import shutil

        from generators.delta_table.format import commit_table

        t = schema.table(table)
        shutil.rmtree(out / table)
        writer = self.variant(fmt).open_writer(out, t, data.schema, self.variant(fmt).check_options({}))
        for b in data.to_batches():
            writer.write_batch(b)
        writer.close()
        commit_table(out, t, data.schema, sorted(p for p in (out / table).rglob("*.parquet")))
