"""The engine on Spark: every table a DataFrame whose partitions are the engine's blocks, each
computed in an executor by the same engine as a local run — the same values, types and row order.

    >>> import datagen, datagen.spark
    >>> spark = datagen.spark.session("local[2]")
    >>> frames = datagen.spark.generate("schemas/examples/shop.yaml", spark, seed=7)
    >>> frames["orders"].count()

How: the driver resolves the plan once and sends the executors its *recipe* (the schema's bytes
and the settings the planner took, :func:`datagen.runs.plan_recipe`), never rows. Each table is
``spark.range(blocks)`` — one row per engine block — mapped with ``mapInArrow`` to the block's
Arrow batch: an executor rebuilds the plan from the recipe once per Python worker (kept while
the worker lives) and calls ``Engine.batch(table, start, stop)``, the function every local
worker calls. Parent lookups recompute the parents' columns in the executor, as locally; no
table is ever collected on the driver. The partition count never changes a value: a row's
values are a pure function of its index, the seed and the schema (docs/engine.md), so
``local[2]``, ``local[4]`` and any ``partitions`` give the bytes of the local engine, in order.

Executors must import datagen: on a cluster install the wheel (``pip install datagen[spark]`` in
the cluster's image, Databricks cluster libraries, an EMR bootstrap action); :func:`session`
sets ``spark.executorEnv.PYTHONPATH`` to this checkout for local masters. docs/spark.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from datagen.engines import ENGINES, READERS
from datagen.runs import plan_recipe
from shared.errors import UsageError
from shared.formats import Format

__all__ = ["session", "generate", "table_writer", "differences", "to_arrow", "register_tables", "DEFAULT_CONF",
           "SparkReading", "spark_reader"]

ROOT = Path(__file__).resolve().parents[1]
#: a session's settings that make it behave like the local engine (UTC timestamps, Arrow on)
DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.sources.partitionOverwriteMode": "static",
    # Parquet as the local engine writes it: microsecond timestamps (not INT96), no summary files
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "snappy",
    "spark.hadoop.parquet.enable.summary-metadata": "false",
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    # the JVM and its Python workers talk over Unix domain sockets (Spark ≥ 4.1; older versions
    # ignore the key): over TCP each mapInArrow task waited ~40 ms on the socket (measured on a
    # trivial task: 40 ms from its first batch to its end over TCP, under 5 ms over a Unix socket)
    "spark.python.unix.domain.socket.enabled": "true",
}
#: the driver JVM's options for a local master (whose driver is its executor): the client
#: compiler only (C1). Generating, the JVM only schedules tasks and moves a row of metadata per
#: part (the Python workers compute and write the rows), so C2's optimisation is never paid back,
#: while its compiler threads took a core from the workers: on 2 cores, C1 alone halved the JVM's
#: CPU on the first job and on each later job of 58 tasks (docs/spark.md); ``validate --engine
#: spark`` at scale 0.1 took as long either way (within the machine's noise)
LOCAL_JVM_OPTIONS = "-XX:TieredStopAtLevel=1"
#: rows per engine block on Spark unless the plan says otherwise: one block is one Arrow batch
SPARK_BLOCK_ROWS = 65_536

# the executors' engines, one per plan recipe, kept for the life of the Python worker
_ENGINES: dict[str, Any] = {}


def session(master: str = "local[2]", conf: Mapping[str, str] | None = None, app_name: str = "datagen",
            hive_metastore: str | os.PathLike | None = None):
    """A SparkSession with :data:`DEFAULT_CONF` (``conf`` on top); for a local master the
    executors' Python finds datagen in this checkout. ``hive_metastore``: a folder for a Hive
    catalog (Hive support on, an embedded Derby metastore in ``DIR/metastore_db`` and the
    warehouse in ``DIR/warehouse``) — the catalog ``--hive-db`` registers tables in."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app_name)
    settings = dict(DEFAULT_CONF)
    if hive_metastore is not None:
        builder = builder.enableHiveSupport()
        settings.update(hive_conf(hive_metastore))
    if master.startswith("local"):
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        settings["spark.executorEnv.PYTHONPATH"] = path
        settings["spark.pyspark.python"] = sys.executable
        settings["spark.pyspark.driver.python"] = sys.executable
        # the workers' interpreter is read from the environment when the context starts
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        extra = settings.get("spark.driver.extraJavaOptions")
        settings["spark.driver.extraJavaOptions"] = f"{extra} {LOCAL_JVM_OPTIONS}" if extra else LOCAL_JVM_OPTIONS
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("DATAGEN_SPARK_LOG_LEVEL", "ERROR"))
    return spark


def hive_conf(folder: str | os.PathLike) -> dict[str, str]:
    """The settings of a Hive catalog kept in ``folder``: an embedded Derby metastore
    (``folder/metastore_db``) and the managed tables' warehouse (``folder/warehouse``)."""
    root = Path(folder).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return {"spark.sql.catalogImplementation": "hive",
            "spark.sql.warehouse.dir": str(root / "warehouse"),
            "spark.hadoop.javax.jdo.option.ConnectionURL":
                f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true",
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={root}"}


#: a database or table name ``--hive-db`` accepts: a plain SQL identifier, nothing to quote
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_identifier(name: str, what: str = "--hive-db") -> str:
    """``name`` when it is a safe SQL identifier (letters, digits, ``_``, not starting with a
    digit), else a ``UsageError`` — nothing is quoted into SQL."""
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        raise UsageError(f"{what} {name!r}: not a safe identifier (letters, digits and _, not starting with a "
                         "digit)")
    return name


def register_tables(spark, database: str, out_dir: str | os.PathLike, tables: Iterable[str]) -> list[str]:
    """Register each table of a run in ``out_dir`` in the session's catalog as
    ``database.table`` — an external Parquet table at ``<out_dir>/<table>`` (a Delta table's
    parts are its Parquet files; Spark without delta-spark skips ``_delta_log``) — replacing a
    table of that name. Returns the qualified names."""
    check_identifier(database)
    root = Path(out_dir).resolve()
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    names = []
    for table in tables:
        check_identifier(table, "table name")
        location = str(root / table).replace("\\", "\\\\").replace("'", "\\'")
        spark.sql(f"DROP TABLE IF EXISTS {database}.{table}")
        spark.sql(f"CREATE TABLE {database}.{table} USING parquet LOCATION '{location}'")
        names.append(f"{database}.{table}")
    return names


def _engine(key: str, recipe: Mapping[str, Any], source: bytes):
    engine = _ENGINES.get(key)
    if engine is None:
        from datagen.api import plan_from_recipe
        from shared.schema_dsl.engine import Engine

        engine = _ENGINES[key] = Engine(plan_from_recipe(recipe, source))
    return engine


def _block_batches(batches: Iterator[pa.RecordBatch], key: str, recipe: Mapping[str, Any], source: bytes,
                   table: str, block_rows: int, n_rows: int, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function: each input row is a block index; out comes that block's batch."""
    engine = _engine(key, recipe, source)
    for batch in batches:
        for index in batch.column(0).to_pylist():
            start = index * block_rows
            out = engine.batch(table, start, min(n_rows, start + block_rows))
            yield out if out.schema.equals(schema) else out.cast(schema)


def _shipped(plan) -> tuple[dict[str, Any], bytes, str]:
    """What the executors get of a plan: its recipe, the schema's bytes, and the key their engines
    are kept under (one per plan, per Python worker)."""
    recipe = plan_recipe(plan)
    source = plan.schema.source.raw
    return recipe, source, hashlib.sha256(repr(sorted(recipe.items())).encode() + source).hexdigest()


def _plan(schema: Any, **plan_kwargs: Any):
    from datagen.api import resolve_plan
    from shared.schema_dsl.planner import Plan

    if isinstance(schema, Plan):
        if plan_kwargs:
            raise UsageError(f"datagen.spark.generate: {', '.join(plan_kwargs)} apply to a schema, not a resolved plan")
        return schema
    return resolve_plan(schema, **plan_kwargs)


def spark_schema(arrow_schema: pa.Schema):
    """The Spark schema of an engine table (what ``mapInArrow`` declares)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(arrow_schema)


def generate(schema: Any, spark, *, tables: Iterable[str] | None = None, partitions: int | None = None,
             block_rows: int | None = None, **plan_kwargs: Any) -> dict[str, Any]:
    """Every kept table of ``schema`` (a path, text, dict, Schema or resolved Plan; ``plan_kwargs``
    as for :func:`datagen.resolve_plan`: seed, rows, scale, profile …) as a Spark DataFrame, in
    plan order. ``partitions``: how many Spark partitions per table (default: one per block, at
    most ``4 × defaultParallelism``); ``block_rows`` the rows per block (default the plan's, or
    65,536). Nothing is computed until an action runs."""
    if block_rows is not None:
        plan_kwargs["block_rows"] = block_rows
    elif "block_rows" not in plan_kwargs and not _is_plan(schema):
        plan_kwargs["block_rows"] = SPARK_BLOCK_ROWS
    plan = _plan(schema, **plan_kwargs)
    from shared.schema_dsl.engine import Engine

    engine = Engine(plan)
    wanted = list(plan.kept) if tables is None else [str(t) for t in tables]
    unknown = [t for t in wanted if t not in plan.kept]
    if unknown:
        from shared.registry import did_you_mean

        raise UsageError(f"datagen.spark.generate: no table {', '.join(unknown)}"
                         + (f" ({h})" if (h := did_you_mean(unknown[0], plan.kept)) else "")
                         + f"; tables: {', '.join(plan.kept)}")
    recipe, source, key = _shipped(plan)
    parallelism = max(1, spark.sparkContext.defaultParallelism)
    out: dict[str, Any] = {}
    for name in wanted:
        n_rows = engine.row_count(name)
        per = plan.block_rows
        blocks = -(-n_rows // per) if n_rows else 0
        arrow = engine.written_schemas[name]
        parts = max(1, min(blocks, partitions or 4 * parallelism)) if blocks else 1

        def fn(batches, name=name, per=per, n_rows=n_rows, arrow=arrow):
            return _block_batches(batches, key, recipe, source, name, per, n_rows, arrow)

        out[name] = spark.range(0, blocks, 1, parts).mapInArrow(fn, spark_schema(arrow))
    return out


def _is_plan(schema: Any) -> bool:
    from shared.schema_dsl.planner import Plan

    return isinstance(schema, Plan)


def to_arrow(frame, arrow_schema: pa.Schema | None = None) -> pa.Table:
    """A DataFrame's rows as an Arrow table, in partition order (``arrow_schema``: cast to it)."""
    table = frame.toArrow()
    return table.cast(arrow_schema) if arrow_schema is not None else table


def differences(frames: Mapping[str, Any], plan, *, rows_per_piece: int = 1 << 20) -> dict[str, str]:
    """Each table of ``frames`` (from :func:`generate`) compared with the local engine's rows, in
    order, piece by piece (``Table.equals`` after casting to the engine's schema: the values,
    their order and types, not the buffers' layout); ``{}`` when all are equal, else a message
    per differing table."""
    from shared.schema_dsl.engine import Engine

    engine = Engine(plan)
    out: dict[str, str] = {}
    for name, frame in frames.items():
        got = to_arrow(frame, engine.written_schemas[name])
        n = engine.row_count(name)
        if got.num_rows != n:
            out[name] = f"{got.num_rows} rows, the local engine {n}"
            continue
        for start in range(0, n, rows_per_piece):
            stop = min(n, start + rows_per_piece)
            want = engine.batch(name, start, stop)
            piece = got.slice(start, stop - start).combine_chunks()
            if not piece.equals(pa.Table.from_batches([want]).cast(piece.schema)):
                out[name] = f"rows {start}..{stop - 1} differ from the local engine's"
                break
    return out


#: the formats Spark writes in the local engine's layout (``<table>/part-NNNNN.<ext>``): Spark's
#: writer, the part files' extension and the local format options it honours. ``delta``: Spark
#: writes the Parquet parts and the format's ``finish`` commits them as Delta tables with delta-rs
#: (Spark's own Delta writer needs the delta-spark jar from a Maven repository)
SPARK_FORMATS = {"parquet": ("parquet", "parquet", ("compression",)),
                 "delta": ("parquet", "parquet", ("compression",))}
#: text formats: the executors run the local format's own renderer on each block, Spark stages
#: the blocks' text (with its committer: a retried task leaves no duplicate), and the driver
#: appends them in order through the local format's writer — the local run's bytes, every
#: format option honoured (docs/spark.md)
TEXT_FORMATS = ("csv", "ndjson", "json")


def _block_texts(batches: Iterator[pa.RecordBatch], key: str, recipe: Mapping[str, Any], source: bytes,
                 table: str, block_rows: int, n_rows: int, schema: pa.Schema, renderer: Any
                 ) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function for a text format: each input row is a block index; out comes the
    block's text as the local format renders it, one block per batch (memory: one block)."""
    engine = _engine(key, recipe, source)
    for batch in batches:
        for index in batch.column(0).to_pylist():
            start = index * block_rows
            stop = min(n_rows, start + block_rows)
            out = engine.batch(table, start, stop)
            text = renderer(out if out.schema.equals(schema) else out.cast(schema))
            yield pa.RecordBatch.from_arrays([pa.array([index], pa.int64()), pa.array([stop - start], pa.int64()),
                                              pa.array([bytes(memoryview(text))], pa.binary())],
                                             names=["block", "rows", "text"])


def text_writer(spark, plan, fmt, options: Mapping[str, Any], *, partitions: int | None = None):
    """``shared.api.generate``'s ``table_writer`` for a text format (:data:`TEXT_FORMATS`): the
    local format's writer is opened on the driver, its ``renderer`` runs in the executors, and
    the staged block texts are appended to the writer in block order — the file is the one a
    local run writes, byte for byte."""
    import shutil

    import pyarrow.parquet as pq

    from shared.schema_dsl.engine import Engine

    engine = Engine(plan)
    written = plan.written_schema()
    recipe, source, key = _shipped(plan)
    parallelism = max(1, spark.sparkContext.defaultParallelism)

    def write(tmp: Path, name: str) -> list[dict[str, Any]]:
        arrow = engine.written_schemas[name]
        writer = fmt.open_writer(tmp, written.table(name), arrow, dict(options))
        renderer = getattr(writer, "renderer", None)
        stage = tmp / f".spark-{name}"
        try:
            if renderer is None:  # prevented by spark_engine's checks
                raise UsageError(f"--engine spark --format {fmt.name}: table {name} has no block renderer")
            n_rows, per = engine.row_count(name), plan.block_rows
            blocks = -(-n_rows // per) if n_rows else 0
            parts = max(1, min(blocks, partitions or 4 * parallelism)) if blocks else 1

            def fn(batches, name=name, per=per, n_rows=n_rows, arrow=arrow, renderer=renderer):
                return _block_texts(batches, key, recipe, source, name, per, n_rows, arrow, renderer)

            frame = spark.range(0, blocks, 1, parts).mapInArrow(fn, "block long, rows long, text binary")
            frame.write.mode("overwrite").option("compression", "none").parquet(str(stage))
            expected = 0
            for part in sorted(p for p in stage.iterdir() if p.name.startswith("part-") and p.suffix == ".parquet"):
                for batch in pq.ParquetFile(part).iter_batches(batch_size=1):
                    index = batch.column(0)[0].as_py()
                    if index != expected:  # partitions are contiguous block ranges, written in order
                        raise UsageError(f"--engine spark: table {name}: block {index} came where block "
                                         f"{expected} belongs")
                    writer.write_rendered(memoryview(batch.column(2)[0].as_buffer()), batch.column(1)[0].as_py())
                    expected += 1
            if expected != blocks:
                raise UsageError(f"--engine spark: table {name}: {expected} of {blocks} blocks came back")
            written_files = writer.close()
        except BaseException:
            writer.abort()
            raise
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        out = []
        for w in written_files:
            entry: dict[str, Any] = {"path": str(getattr(w, "path", w)), "table": name}
            if hasattr(w, "sha256"):
                entry |= {"bytes": w.bytes, "sha256": w.sha256}
            out.append(entry)
        return out

    return write


def table_writer(spark, plan, format: str, options: Mapping[str, Any], *, partitions: int | None = None):
    """``shared.api.generate``'s ``table_writer`` for Spark: each table's DataFrame written by the
    executors, then its part files, in partition order, renamed into the local layout
    (``<table>/part-00000.parquet`` …), so ``validate --format parquet`` reads a Spark run as it
    reads a local one — replaying it against the local engine included."""
    if format not in SPARK_FORMATS:
        raise UsageError(f"--engine spark writes {' or '.join(SPARK_FORMATS)}, not {format} (the local engine "
                         f"writes every format)")
    writer_name, ext, honoured = SPARK_FORMATS[format]
    frames = generate(plan, spark, partitions=partitions)

    def write(tmp: Path, name: str) -> list[dict[str, Any]]:
        import shutil

        stage = tmp / f".spark-{name}"
        writer = frames[name].write.mode("overwrite").format(writer_name)
        for key in honoured:
            if key in options:
                writer = writer.option(key, str(options[key]))
        writer.save(str(stage))
        parts = sorted(p for p in stage.iterdir() if p.name.startswith("part-") and not p.name.endswith(".crc"))
        dest = tmp / name
        dest.mkdir(parents=True, exist_ok=True)
        entries = []
        for i, part in enumerate(parts):
            target = dest / f"part-{i:05d}.{ext}"
            os.replace(part, target)
            entries.append({"path": f"{name}/{target.name}", "table": name})
        shutil.rmtree(stage)
        return entries

    return write


def _write_parts(batches: Iterator[pa.RecordBatch], key: str, recipe: Mapping[str, Any], source: bytes, fmt: Any,
                 table: str, spans: list[tuple[int, int]], options: Mapping[str, Any], stage: str, run: Any
                 ) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function for a Parquet-based format: each input row is a part index; the
    executor writes that part with the local format's own ``write_part`` (shared.api.write_part:
    the batches the local workers write) into this task attempt's folder under ``stage``, and
    returns where it is, its size and SHA-256. A failed or speculative attempt's files stay in
    its own folder: the driver moves only those of the attempts Spark committed."""
    from pyspark import TaskContext

    from shared.api import write_part

    engine = _engine(key, recipe, source)
    ctx = TaskContext.get()
    folder = Path(stage) / f"attempt-{ctx.taskAttemptId() if ctx is not None else 0}"
    folder.mkdir(parents=True, exist_ok=True)
    for batch in batches:
        for index in batch.column(0).to_pylist():
            start, stop = spans[index]
            written, _ = write_part(engine, fmt, str(folder), table, index, start, stop, dict(options), run)
            for w in written if isinstance(written, list) else [written]:
                yield pa.RecordBatch.from_arrays(
                    [pa.array([index], pa.int64()), pa.array([str(folder / w.path)]), pa.array([str(w.path)]),
                     pa.array([w.bytes], pa.int64()), pa.array([w.sha256])],
                    names=["part", "path", "relative", "bytes", "sha256"])


def parts_writer(spark, plan, fmt, options: Mapping[str, Any], *, partitions: int | None = None):
    """``shared.api.generate``'s ``table_writer`` for Parquet and Delta: each Spark task computes
    its part's rows with the engine and writes them with the local format's own part writer (the
    Arrow-native Parquet writer the local workers use, every format option honoured), so Spark
    only schedules, retries and collects a row of metadata per part; the driver moves the parts
    of the committed attempts into the local layout (``<table>/part-NNNNN.parquet``). The parts
    are the format's own when it splits a table (``max_rows_per_file``: then the files are a local
    run's, byte for byte), else ``partitions`` (default 4 × the default parallelism) runs of whole
    blocks. ``--out`` must be a folder every executor sees (a local master, a shared filesystem)."""
    import shutil

    from shared.schema_dsl.engine import Engine

    engine = Engine(plan)
    written = plan.written_schema()
    recipe, source, key = _shipped(plan)
    parallelism = max(1, spark.sparkContext.defaultParallelism)
    from shared import __version__
    from shared.formats import RunInfo

    # what a local run tells its format (the files' metadata: seed, profile, schema, version)
    run = RunInfo(seed=plan.seed, profile=plan.profile, schema_name=plan.schema.name,
                  schema_sha256=plan.schema.source.sha256, tool_version=__version__)

    def spans_of(name: str) -> list[tuple[int, int]]:
        n_rows, per = engine.row_count(name), plan.block_rows
        own = fmt.part_spans(written.table(name), n_rows, dict(options))
        if own is not None and len(own) > 1:
            return own
        blocks = -(-n_rows // per) if n_rows else 0
        parts = max(1, min(blocks, partitions or 4 * parallelism))
        edges = [round(i * blocks / parts) * per for i in range(parts + 1)]
        return [(min(a, n_rows), min(b, n_rows)) for a, b in zip(edges, edges[1:], strict=False)] or [(0, 0)]

    def write(tmp: Path, name: str) -> list[dict[str, Any]]:
        spans = spans_of(name)
        stage = tmp / f".spark-{name}"
        try:
            def fn(batches, name=name, spans=spans):
                return _write_parts(batches, key, recipe, source, fmt, name, spans, options, str(stage), run)

            frame = spark.range(0, len(spans), 1, len(spans)).mapInArrow(
                fn, "part long, path string, relative string, bytes long, sha256 string")
            got = frame.toArrow().sort_by([("part", "ascending"), ("relative", "ascending")])
            if sorted(set(got.column("part").to_pylist())) != list(range(len(spans))):
                raise UsageError(f"--engine spark: table {name}: parts came back missing")
            entries = []
            for path, rel, size, digest in zip(*(got.column(c).to_pylist()
                                                 for c in ("path", "relative", "bytes", "sha256")), strict=True):
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                entries.append({"path": rel, "table": name, "bytes": size, "sha256": digest})
            return entries
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    return write


def _session(spark, master: str | None, conf: Mapping[str, str] | None, hive_metastore) -> Any:
    """The session given, or one started with ``master``/``conf`` (and ``hive_metastore``, which
    only a session datagen starts can take)."""
    if spark is not None and hive_metastore is not None:
        raise UsageError("hive_metastore applies to the session datagen starts; a session passed in keeps its own "
                         "catalog (start it with datagen.spark.session(..., hive_metastore=DIR))")
    return spark if spark is not None else session(master or "local[2]", conf, hive_metastore=hive_metastore)


@ENGINES.register("spark")
def spark_engine(plan, fmt, options: Mapping[str, Any], raw: Mapping[str, str], *, spark: Any = None,
                 master: str | None = None, conf: Mapping[str, str] | None = None, hive_db: str | None = None,
                 hive_metastore: str | os.PathLike | None = None) -> dict[str, Any]:
    """``generate --engine spark``: checked (the format, the options Spark honours, the profile,
    the ``hive_db`` name) before a session is started or anything is written; then the table
    writer, and with ``hive_db`` a ``register(out_dir)`` to call once the run is committed."""
    if hive_db is not None:
        check_identifier(hive_db)
        for name in plan.kept:
            check_identifier(name, "--hive-db: table name")
    known = (*SPARK_FORMATS, *TEXT_FORMATS)
    if fmt.name not in known:
        raise UsageError(f"--engine spark writes {', '.join(known[:-1])} or {known[-1]}, not {fmt.name} (the local "
                         f"engine writes every format)")
    if "max_file_bytes" in raw:  # the local writer's, every other option honoured
        raise UsageError("--engine spark: --option max_file_bytes needs the sequential writer (a part ends where "
                         "its bytes do); on Spark, parts run in parallel: use max_rows_per_file")
    if plan.profile == "dirty" or any(t.anomalies is not None for t in plan.schema.tables):
        raise UsageError("--engine spark: the dirty profile and anomalies keep per-cell records the Spark "
                         "engine does not write yet; use the local engine")
    parted = [t.name for t in plan.schema.tables if t.name in plan.kept and t.partition_by]
    if (fmt.name == "delta" or fmt.name in TEXT_FORMATS) and parted:
        raise UsageError(f"--engine spark --format {fmt.name}: table {parted[0]!r} is partitioned (partition_by), "
                         "which Spark's writer does not lay out yet; use the local engine")
    spark = _session(spark, master, conf, hive_metastore)
    write = text_writer(spark, plan, fmt, options) if fmt.name in TEXT_FORMATS else \
        parts_writer(spark, plan, fmt, options)
    out: dict[str, Any] = {"table_writer": write, "engine_name": "spark"}
    if hive_db is not None:
        kept = list(plan.kept)
        out["register"] = lambda out_dir: register_tables(spark, hive_db, out_dir, kept)
    return out


# --------------------------------------------------------------------------- validate --engine spark

#: the formats ``validate --engine spark`` reads with Spark: their tables are Parquet files (a
#: Delta table's are the files its log names). Text formats are read by the local readers.
SPARK_READ_FORMATS = ("parquet", "delta")
#: the column each file's rows are numbered in (Spark's ``_metadata.row_index``): the order check
_ROW_INDEX = "_datagen_row_index"
#: what the executors send the driver per Arrow batch of a file's rows
_BLOB_SCHEMA = "first long, rows long, ordered boolean, ipc binary"


def _ipc_batches(batches: Iterator[pa.RecordBatch], target: pa.Schema) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function for reading: each batch of a file's rows (their row index last)
    becomes one row — the index of its first row, its row count, whether the rows are
    consecutive, and the rows cast to ``target`` as Arrow IPC bytes. Columnar: no row is looked
    at one by one."""
    import numpy as np

    for batch in batches:
        n = batch.num_rows
        if not n:
            continue
        index = batch.column(batch.num_columns - 1).to_numpy(zero_copy_only=False)
        first = int(index[0])
        ordered = bool(np.array_equal(index, np.arange(first, first + n, dtype=index.dtype)))
        arrays = [col if col.type == f.type else col.cast(f.type)
                  for col, f in zip(batch.columns[:-1], target, strict=True)]
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, target) as writer:
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=target))
        data = sink.getvalue()
        offsets = pa.py_buffer(np.array([0, data.size], dtype=np.int32).tobytes())
        yield pa.RecordBatch.from_arrays([pa.array([first], pa.int64()), pa.array([n], pa.int64()),
                                          pa.array([ordered]), pa.Array.from_buffers(pa.binary(), 1, [None, offsets, data])],
                                         names=["first", "rows", "ordered", "ipc"])


def _read_type(field, arrow_schema: pa.Schema) -> pa.DataType:
    """The Arrow type a column Spark reads is handed to the checks as: the engine's own type when
    Spark's type for it is the column's (Spark says ``string`` for string and large_string, a
    time zone for every instant …), else the Arrow type of Spark's — which ``columns`` reports."""
    from pyspark.sql.pandas.types import from_arrow_type, to_arrow_type

    if arrow_schema.get_field_index(field.name) >= 0:
        want = arrow_schema.field(field.name).type
        try:
            if from_arrow_type(want).simpleString() == field.dataType.simpleString():
                return want
        except Exception:  # noqa: BLE001 - a type Spark has no equal of (PySparkTypeError …): Spark's own
            pass
    return to_arrow_type(field.dataType, timezone="UTC")


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class SparkReading(Format):
    """A run's format as ``validate --engine spark`` reads it: the format's own artifacts, row
    counts (Parquet's footers) and extra checks, but every table's rows read by Spark — from the
    files in ``--out`` or, with ``hive_db``, from the catalog's table ``hive_db.<table>`` — and
    streamed to the driver partition by partition as Arrow (:meth:`read_batches`), so the
    runner's one set of checks (replay included) runs on Spark's reading."""

    stop_past_plan = False
    renders_text = False

    def __init__(self, fmt: Format, spark, hive_db: str | None = None):
        self.base, self.spark, self.hive_db = fmt, spark, hive_db
        self.name, self.aliases, self.option_help = fmt.name, fmt.aliases, fmt.option_help
        #: with ``hive_db`` the tables are the catalog's: ``artifact_exists`` asks it (table_present)
        self.stores_tables = hive_db is not None
        self._files: dict[str, tuple[list[str], Any]] = {}

    def qualified(self, table) -> str:
        return f"{self.hive_db}.{table.name}"

    def table_present(self, out_dir: Path, table) -> str | None:
        name = self.qualified(table)
        try:
            if self.spark.catalog.tableExists(table.name, self.hive_db):
                return None
        except Exception as exc:  # noqa: BLE001 - a catalog that cannot answer: the table is not there
            return f"the Spark session's catalog cannot tell whether {name} exists: {type(exc).__name__}"
        return (f"no table {name} in the Spark session's catalog (generate --engine spark --hive-db "
                f"{self.hive_db} registers it; --hive-metastore DIR names the catalog's folder)")

    def files(self, out_dir: Path, table) -> tuple[list[str], Any]:
        """The table's files in row order (their names' order: part-00000, part-00001 …) and the
        Spark schema to read them with (the catalog's; None: the first file's)."""
        if table.name not in self._files:
            if self.hive_db is None:
                found: tuple[list[str], Any] = ([str(p) for p in self.base.artifacts(out_dir, table)], None)
            else:
                frame = self.spark.table(self.qualified(table))
                found = (sorted(frame.inputFiles(), key=lambda u: (u.rsplit("/", 1)[-1], u)), frame.schema)
            self._files[table.name] = found
        return self._files[table.name]

    def artifacts(self, out_dir: Path, table) -> list[Path]:
        return self.base.artifacts(out_dir, table)

    def count_rows(self, out_dir: Path, table) -> int | None:
        """Before any row is read: the folder's footers (the format's own count), or Spark's count
        of the catalog table's files (from their footers too, in the executors)."""
        if self.hive_db is None:
            return self.base.count_rows(out_dir, table)
        files, schema = self.files(out_dir, table)
        return int(self.spark.read.schema(schema).parquet(*files).count()) if files else 0

    def read_batches(self, out_dir: Path, table, arrow_schema: pa.Schema,
                     columns: list[str] | None = None) -> pa.RecordBatchReader:
        """The table's rows read by Spark, file by file in name order: each file's partitions (its
        row groups, in order) mapped to Arrow IPC in the executors and brought to the driver one
        partition at a time (``toLocalIterator``, the next one prefetched) — never the table.
        Each batch carries the file's row index of its first row: rows out of order raise."""
        from pyspark.sql import functions as F

        files, schema = self.files(out_dir, table)
        if not files:
            empty = pa.schema([f for f in arrow_schema if columns is None or f.name in columns])
            return pa.RecordBatchReader.from_batches(empty, iter(()))
        if schema is None:  # the first file's (read once per table): every file is read with it
            schema = self.spark.read.parquet(files[0]).schema
            self._files[table.name] = (files, schema)
        fields = [f for f in schema.fields if columns is None or f.name in set(columns)]
        target = pa.schema([pa.field(f.name, _read_type(f, arrow_schema)) for f in fields])

        def fn(batches, target=target):
            return _ipc_batches(batches, target)

        def batches() -> Iterator[pa.RecordBatch]:
            for path in files:
                frame = self.spark.read.schema(schema).parquet(path)
                frame = frame.select(*[F.col(_quoted(f.name)) for f in fields],
                                     F.col("_metadata.row_index").alias(_ROW_INDEX))
                expected = 0
                for row in frame.mapInArrow(fn, _BLOB_SCHEMA).toLocalIterator(prefetchPartitions=True):
                    if not row["ordered"] or row["first"] != expected:
                        raise ValueError(f"{path.rsplit('/', 1)[-1]}: Spark handed row {row['first']} where row "
                                         f"{expected} belongs (rows out of order)")
                    expected += row["rows"]
                    with pa.ipc.open_stream(row["ipc"]) as reader:
                        yield from reader

        return pa.RecordBatchReader.from_batches(target, batches())

    def read_table(self, out_dir: Path, table, arrow_schema: pa.Schema) -> pa.Table:
        return self.read_batches(out_dir, table, arrow_schema).read_all()

    def extra_checks(self, out_dir: Path, schema, plan) -> list[dict]:
        """The format's own checks of the folder (Parquet's independent reader, the Delta log)."""
        return self.base.extra_checks(out_dir, schema, plan)


@READERS.register("spark")
def spark_reader(fmt: Format, schema, out_dir: Path, *, spark: Any = None, master: str | None = None,
                 conf: Mapping[str, str] | None = None, hive_db: str | None = None,
                 hive_metastore: str | os.PathLike | None = None) -> SparkReading:
    """``validate --engine spark``: ``fmt`` as Spark reads it (:class:`SparkReading`) — checked
    (the format, partitioned tables, the ``hive_db`` name) before a session is started."""
    if hive_db is not None:
        check_identifier(hive_db)
        for t in schema.tables:
            check_identifier(t.name, "--hive-db: table name")
    if fmt.name not in SPARK_READ_FORMATS:
        raise UsageError(f"validate --engine spark reads {' or '.join(SPARK_READ_FORMATS)}, not {fmt.name} (validate "
                         f"{fmt.name} with the local engine: leave --engine out)")
    parted = [t.name for t in schema.tables if t.partition_by]
    if parted:
        raise UsageError(f"validate --engine spark: table {parted[0]!r} is partitioned (partition_by), which Spark's "
                         "reading does not put back in row order yet; validate it with the local engine")
    spark = _session(spark, master, conf, hive_metastore)
    return SparkReading(fmt, spark, hive_db)
