"""The verbs of ``import datagen``: the same operations as the command line, flag for flag.

``datagen generate --format parquet --schema S --out O --seed 7 --rows orders=500`` is
``datagen.generate("S", format="parquet", out="O", seed=7, rows={"orders": 500})``. Every
function accepts a schema as a path, YAML or JSON text, a dict, a loaded ``Schema`` or (where it
makes sense) a resolved ``Plan``. Errors are the ``DatagenError`` tree (``datagen.errors``).

Signatures are keyword-only past the schema, so they can grow (typed configs, blueprints, sinks)
without breaking a caller.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datagen.config import Node, load_document
from datagen.config import Schema as ConfigSchema
from datagen.runs import Recorder, RunStore
from datagen.runs import replay_options as _replay_options
from datagen.runs import run_record as _run_record
from shared import api as _lib
from shared.errors import UsageError
from shared.formats import Format, get_format
from shared.model.schema import Schema
from shared.schema_dsl.planner import Plan

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SchemaLike = str | os.PathLike | Mapping[str, Any] | Schema | Node
Rows = Mapping[str, int] | Iterable[str] | None
#: the corruption kinds of a run (``--corrupt``): ``{"typos": 0.05, "bom": None}`` or
#: ``["typos=0.05", "bom"]`` (``None`` / no rate: the schema's, else the documented one)
Corrupt = Mapping[str, float | None] | Iterable[str] | None
#: ``--table-scale``: ``{"orders": 2.0}`` or ``["orders=2"]`` (a factor per table, after ``scale``)
TableScale = Mapping[str, float] | Iterable[str] | None
#: ``--include`` / ``--exclude``: table names (a single name as text is one table)
Tables = Iterable[str] | str | None

__all__ = ["GenerateResult", "load_schema", "resolve_plan", "describe", "generate", "rerun", "validate", "to_arrow",
           "to_pandas", "default_out"]


def load_schema(source: SchemaLike, *, name: str | None = None, anchor: str | None = None) -> Schema:
    """A validated, typed schema from a file path, YAML/JSON text or a dict (``name`` labels text
    and dicts in error messages). Raises ``SchemaError`` listing every problem. ``anchor``
    replaces the schema's anchor (an ISO instant, or ``"now"``: the run's start, recorded in the
    manifest)."""
    if isinstance(source, Schema):
        if anchor is not None:
            raise UsageError("anchor= applies when a schema is loaded; this one is already loaded")
        return source
    if isinstance(source, Node):  # typed configuration objects: their document, checked like a file's
        if anchor is None and isinstance(source, ConfigSchema):
            return source.load_model()
        return load_document(source.to_dict(), name or getattr(source, "_label", None) or "<config>", anchor)
    if isinstance(source, Mapping):
        return load_document(source, name or "<dict>", anchor)
    if isinstance(source, os.PathLike):
        return _lib.load_schema(os.fspath(source), anchor=anchor)
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
        label = name or "<string>"
        json_text = source.lstrip().startswith("{")
        suffix = ".json" if json_text else ".yaml"
        return _lib.load_schema(label if label.endswith(suffix) else label + suffix, source.encode("utf-8"),
                                anchor=anchor)
    if isinstance(source, str):
        return _lib.load_schema(source, anchor=anchor)
    raise UsageError(f"a schema is a path, YAML or JSON text, a dict or a Schema, not {type(source).__name__}")


def _rows(rows: Rows) -> dict[str, int]:
    if rows is None:
        return {}
    if isinstance(rows, Mapping):
        return _lib.parse_rows_overrides([f"{k}={v}" for k, v in rows.items()])
    if isinstance(rows, str):
        return _lib.parse_rows_overrides([rows])
    return _lib.parse_rows_overrides(list(rows))


def _table_scale(table_scale: TableScale) -> dict[str, float]:
    if table_scale is None:
        return {}
    if isinstance(table_scale, Mapping):
        from shared.schema_dsl.planner import check_table_scale

        return {str(k): check_table_scale(str(k), v) for k, v in table_scale.items()}
    if isinstance(table_scale, str):
        return _lib.parse_table_scale([table_scale])
    return _lib.parse_table_scale(list(table_scale))


def _tables(names: Tables) -> list[str] | None:
    if names is None:
        return None
    if isinstance(names, str):
        return [names]
    return [str(n) for n in names]


def _appends(options: Mapping[str, Any] | None) -> bool:
    """The format options say the run appends into a target that already holds its tables
    (``--option mode=append``, or the ``--mode append`` flag that lands in the same options)."""
    return options is not None and str(options.get("mode", "")) == "append"


def _check_parents(plan: Plan, options: Mapping[str, Any] | None) -> None:
    """A plan whose kept tables reference excluded parents is written only in append mode."""
    if plan.missing_parents and not _appends(options):
        child, parent = plan.missing_parents[0]
        raise UsageError(f"table {child!r} is written but its parent {parent!r} is excluded — include it, or "
                         f"--mode append (--option mode=append) into a target that already holds {parent!r}")


def _corrupt(corrupt: Corrupt) -> dict[str, float | None] | None:
    from shared.corruption import parse_selection

    if corrupt is None:
        return None
    if isinstance(corrupt, str):
        corrupt = [corrupt]
    items = [k if v is None else f"{k}={v}" for k, v in corrupt.items()] if isinstance(corrupt, Mapping) \
        else [str(x) for x in corrupt]
    if not items:
        raise UsageError("--corrupt: name at least one corruption kind")
    return parse_selection(items)


def resolve_plan(schema: SchemaLike | Plan, *, seed: int | None = None, rows: Rows = None,
                 scale: float | None = None, profile: str | None = None, block_rows: int | None = None,
                 allow_huge: bool = False, corrupt: Corrupt = None, table_scale: TableScale = None,
                 include: Tables = None, exclude: Tables = None,
                 allow_missing_parents: bool = False) -> Plan:
    """Row counts, order, seeds and the feasibility analysis (``InfeasibleSchema`` if it fails).
    ``corrupt``: only these corruption kinds (the dirty profile), as ``--corrupt`` says.
    ``table_scale``: a factor per table after ``scale`` (``rows`` wins over both);
    ``include``/``exclude``: the tables written (the others are planned, not written);
    ``allow_missing_parents``: a kept table may reference an excluded parent — for a run that
    appends into a target already holding it (``generate`` passes it for ``mode=append``)."""
    if isinstance(schema, Plan):
        return schema
    kwargs: dict[str, Any] = {}
    if block_rows is not None:
        kwargs["block_rows"] = block_rows
    return _lib.resolve_plan(load_schema(schema), seed=seed, rows=_rows(rows), scale=scale, profile=profile,
                             allow_huge=allow_huge, corrupt=_corrupt(corrupt), table_scale=_table_scale(table_scale),
                             include=_tables(include), exclude=_tables(exclude),
                             allow_missing_parents=allow_missing_parents, **kwargs)


def _format(format: str | Format | None) -> Format | None:
    if format is None or isinstance(format, Format):
        return format
    return get_format(format)


def default_out(schema_name: str, format: str) -> Path:
    """``out/<schema name>/<format>/`` relative to the current directory."""
    return _lib.default_out(schema_name, format)


def describe(schema: SchemaLike | Plan, *, format: str | Format | None = None, seed: int | None = None,
             rows: Rows = None, scale: float | None = None, profile: str | None = None,
             out: str | os.PathLike | None = None, allow_huge: bool = False,
             corrupt: Corrupt = None, table_scale: TableScale = None, include: Tables = None,
             exclude: Tables = None, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The plan as plain data: tables, rows, columns, generators, keys, order, sizes, feasibility
    (what ``datagen describe --json`` prints), with each table's row arithmetic (base rows,
    scale, table-scale, override, rows, included/excluded). ``out`` adds where ``generate`` would
    write; ``options`` are the format's (``mode=append`` allows excluding a referenced parent)."""
    fmt = _format(format)
    if fmt is not None and options:
        options = fmt.check_options({str(k): str(v) for k, v in options.items()})
    plan = resolve_plan(schema, seed=seed, rows=rows, scale=scale, profile=profile, allow_huge=allow_huge,
                        corrupt=corrupt, table_scale=table_scale, include=include, exclude=exclude,
                        allow_missing_parents=_appends(options))
    info = _lib.describe(plan, fmt)
    if fmt is not None or out is not None:
        info["out"] = str(Path(out) if out is not None else default_out(plan.schema.name, fmt.name if fmt else "-"))
    return info


@dataclass(frozen=True)
class GenerateResult:
    """What ``generate`` made: the folder (None for the memory sink), the format, the manifest
    (rows, files, digests; for the memory sink the same keys without files) and the tables —
    built in memory, or read back from the files on first use, as ``table_format`` says."""

    output_dir: Path | None
    format: str | None
    manifest: dict[str, Any] = field(repr=False)
    sink: str = "path"
    table_format: str = "pandas"
    #: the run's record (``run_record``): identity, status, seed, config hash, schema, target,
    #: rows and per-table seconds — what the run store keeps
    record: dict[str, Any] | None = field(default=None, repr=False)
    _tables: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _plan: Any = field(default=None, repr=False, compare=False)

    @property
    def rows(self) -> dict[str, int]:
        return dict(self.manifest["rows"])

    @property
    def files(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("files", ()))

    @property
    def tables(self) -> dict[str, Any]:
        """Every table, as ``table_format`` says (files are read back the first time)."""
        if not self._tables and self.output_dir is not None and self._plan is not None:
            from datagen.output import convert

            fmt = get_format(self.manifest["format"])
            for name in self._plan.kept:
                self._tables[name] = convert(_read_back(self._plan, fmt, self.output_dir, name), self.table_format)
        return self._tables

    @property
    def corruptions(self) -> Any:
        """The record of every corrupted cell and labelled anomaly (memory sink: the sidecar's
        rows, as the files' ``corruptions.csv``), else None."""
        return self._tables.get(_CORRUPTIONS) if self.sink == "memory" else None


def run_record(plan: Plan, manifest: dict[str, Any], target: dict[str, Any], started: float,
               finished: float) -> dict[str, Any]:
    """The run's record (platform.md "Runs are records"), as ``datagen.runs.run_record`` builds
    it: its identity and status, the resolved seed, a config hash — canonical JSON of everything
    that determines the bytes (the schema's SHA-256, seed, row overrides, scale, profile,
    corruption choice, anchor, format, options, the target's kind and mode; not the worker count,
    block size, paths or secrets) — the schema, the target, the resolved rows and each table's
    rows and seconds. ``generate`` keeps it in the run store (docs/runs.md)."""
    return _run_record(plan, manifest, target, started, finished)


#: where the memory sink keeps the corruption records beside the tables
_CORRUPTIONS = "__corruptions__"


def _read_back(plan: Plan, fmt: Format, out: Path, name: str) -> pa.Table:
    """A table read back from its files in row order (a partitioned one through the plan)."""
    from types import SimpleNamespace

    import pyarrow as pa

    from shared.schema_dsl.engine import arrow_schema

    table = plan.schema.written.table(name)
    schema = arrow_schema(table, dirty=plan.profile == "dirty")
    if table.partition_by and hasattr(fmt, "read_partitions"):
        from shared.validation.partitioned import row_order_reader

        ctx = SimpleNamespace(fmt=fmt, out_dir=out, plan=plan, engine=_lib.Engine(plan), dirty=plan.profile == "dirty")
        data = row_order_reader(ctx, table, schema).read_all()
    else:
        data = fmt.read_table(out, table, schema)
    try:  # the schema's own types and nullability, as in memory (text formats read nullable columns)
        return data.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, KeyError):
        return data


def generate(schema: SchemaLike | Plan, *, format: str | Format | None = None, out: str | os.PathLike | None = None,
             seed: int | None = None, rows: Rows = None, scale: float | None = None, profile: str | None = None,
             workers: int | None = None, block_rows: int | None = None, force: bool = False,
             options: Mapping[str, Any] | None = None, allow_huge: bool = False,
             progress: Callable[[str, int], None] | None = None, output: Any = None,
             corrupt: Corrupt = None, table_scale: TableScale = None, include: Tables = None,
             exclude: Tables = None, runs_db: str | os.PathLike | None = None,
             record_run: bool = True, on_record: Callable[[str], None] | None = None, engine: str = "local",
             spark: Any = None, spark_master: str | None = None,
             spark_conf: Mapping[str, str] | None = None, hive_db: str | None = None,
             hive_metastore: str | os.PathLike | None = None) -> GenerateResult:
    """Generate the dataset. Without ``output``: write it in ``format`` (default Parquet) into
    ``out`` (default ``out/<schema>/<format>/``), replaced atomically, with ``manifest.json``;
    ``options`` are the format's ``--option`` settings. With ``output`` (an ``OutputSpec``, a dict
    of its fields or a sink name — see ``datagen.output``): into memory (no file written), a new
    temporary folder or a path, the tables returned as pandas, Arrow or polars. ``corrupt``:
    only these corruption kinds (``KIND`` or ``KIND=RATE``; implies the dirty profile).
    ``table_scale``, ``include``, ``exclude``: as ``resolve_plan`` (excluded tables are not written;
    excluding a parent a kept table references needs ``options={"mode": "append"}``).
    Every run is recorded in the run store (``runs_db``, else ``$DATAGEN_RUNS_DB``, else the
    state folder; docs/runs.md) — pending, running, then success, failed or interrupted — and
    its record is ``result.record``. ``record_run=False`` keeps the record on the result only
    (for callers that record the run themselves). A store that cannot be written stops the run
    before anything is written (``OutputError``); so does another live run into the same target.
    ``on_record`` is called with the run's id as soon as it is recorded as running (``datagen
    serve`` answers with it while the run goes on). ``engine="spark"``: the blocks are computed
    by Spark's executors (``spark``: a session, else one on ``spark_master``, default
    ``local[2]``, with ``spark_conf``) and written in the local layout — the same values as the
    local engine (datagen.spark, docs/spark.md). ``hive_db`` (with ``engine="spark"``): once the
    run is committed, register each table in the session's catalog as ``hive_db.table`` (a safe
    identifier, checked first); ``hive_metastore``: the folder of the Hive catalog of the session
    datagen starts (an embedded Derby metastore)."""
    import time

    from shared.schema_dsl.engine import check_workers, default_workers

    if workers is None:
        workers = default_workers()
    check_workers(workers)
    started = time.time()
    store = RunStore.at(runs_db) if record_run else None
    if output is None:
        fmt = get_format(format or "parquet") if not isinstance(format, Format) else format
        raw = {str(k): str(v) for k, v in (options or {}).items()}
        opts = fmt.check_options(raw)
        plan = resolve_plan(schema, seed=seed, rows=rows, scale=scale, profile=profile, block_rows=block_rows,
                            allow_huge=allow_huge, corrupt=corrupt, table_scale=table_scale, include=include,
                            exclude=exclude, allow_missing_parents=_appends(opts))
        _check_parents(plan, opts)
        target = Path(out) if out is not None else default_out(plan.schema.name, fmt.name)
        extra = _engine_args(engine, plan, fmt, opts, raw, spark, spark_master, spark_conf, hive_db, hive_metastore)
        register = extra.pop("register", None)
        with _recorder(store, plan, fmt, opts, raw, target, "path", None, started, on_record) as rec:
            manifest = _lib.generate(plan, fmt, target, workers=workers, force=force, options=opts, progress=progress,
                                     **extra)
            if register is not None:
                manifest = {**manifest, "hive": {"database": hive_db, "tables": register(target)}}
            record = rec.succeed(manifest)
        return GenerateResult(output_dir=target, format=fmt.name, manifest=manifest, record=record, _plan=plan)
    if engine != "local":
        raise UsageError(f"engine={engine!r} writes files (format= and out=), not output=")
    from datagen.output import OutputSpec, check_budget

    spec = OutputSpec.of(output)
    if out is not None or options:
        raise UsageError("output= says where the run goes: give its path and options there, not out= or options=")
    fmt_name = spec.format or (format.name if isinstance(format, Format) else format) or "parquet"
    fmt = get_format(fmt_name)
    raw = {str(k): str(v) for k, v in spec.format_options().items()}
    opts = fmt.check_options(spec.format_options())
    plan = resolve_plan(schema, seed=seed, rows=rows, scale=scale, profile=profile, block_rows=block_rows,
                        allow_huge=allow_huge, corrupt=corrupt, table_scale=table_scale, include=include,
                        exclude=exclude, allow_missing_parents=_appends(opts))
    _check_parents(plan, opts)
    if spec.sink == "memory":
        check_budget(plan, spec)  # before a single row is computed
        with _recorder(store, plan, None, {}, {}, None, "memory", spec.table_format, started, on_record) as rec:
            tables, manifest = _generate_in_memory(plan, workers, spec.table_format, progress)
            record = rec.succeed(manifest)
        return GenerateResult(output_dir=None, format=None, manifest=manifest, sink="memory", record=record,
                              table_format=spec.table_format, _tables=tables, _plan=plan)
    if spec.sink == "temp_dir":
        import tempfile

        target = Path(tempfile.mkdtemp(prefix=f"datagen-{plan.schema.name}-")) / fmt.name
    else:
        target = Path(spec.path)  # type: ignore[arg-type]  # check() requires it for this sink
    with _recorder(store, plan, fmt, opts, raw, target, spec.sink, spec.table_format, started, on_record) as rec:
        manifest = _lib.generate(plan, fmt, target, workers=workers, force=force, options=opts, progress=progress)
        record = rec.succeed(manifest)
    return GenerateResult(output_dir=target, format=fmt.name, manifest=manifest, sink=spec.sink, record=record,
                          table_format=spec.table_format, _plan=plan)


def target_identity(fmt: Format | None, options: Mapping[str, Any], target: Path | None,
                    sink: str = "path") -> dict[str, Any]:
    """Where a run writes, as the run store records it: the format's own ``target_identity(options)``
    when it has one and returns a dict (a database: its ``kind``, a ``key`` that names the target
    for the concurrency check, a ``label`` for messages, e.g. a redacted DSN), else the folder:
    ``{"kind": "files", "format": …, "path": …}`` (``sink`` added for ``output=`` sinks), or
    ``{"kind": "memory", …}``."""
    if fmt is None or target is None:
        return {"kind": "memory"}
    hook = getattr(fmt, "target_identity", None)
    identity = hook(dict(options)) if callable(hook) else None
    if identity is not None:
        return dict(identity)
    files: dict[str, Any] = {"kind": "files", "format": fmt.name, "path": str(target)}
    if sink != "path":
        files["sink"] = sink
    return files


def _recorder(store: RunStore | None, plan: Plan, fmt: Format | None, opts: Mapping[str, Any], raw: Mapping[str, str],
              target: Path | None, sink: str, table_format: str | None, started: float,
              on_start: Callable[[str], None] | None = None) -> Recorder:
    """The run's ``Recorder``: its target identity, the key two runs must not share (the
    identity's ``key``, else the output folder's absolute path; none in memory) and the message
    a refused run gets."""
    identity = target_identity(fmt, opts, target, sink)
    if target is None:
        identity["table_format"] = table_format
        key, label, hint = None, "memory", ""
    else:
        key = str(identity.get("key") or os.path.abspath(target))
        label = str(identity.get("label") or f"--out {target}")
        hint = "" if identity.get("key") else f" (its lock: {target.parent / f'.{target.name}.datagen.lock'})"
        if store is not None and identity["kind"] == "files":
            _check_store_outside(store, target)
    replay = {"sink": sink, "out": None if target is None else str(target), "table_format": table_format}
    return Recorder(store, plan, format_name=fmt.name if fmt is not None else None, options=opts, raw_options=raw,
                    target=identity, key=key, label=label, hint=hint, replay=replay, started=started,
                    exclude=tuple(getattr(fmt, "target_options", ()) or ()), on_start=on_start)


def _check_store_outside(store: RunStore, target: Path) -> None:
    """The store must not live inside the folder a run replaces."""
    store_at, out_at = os.path.abspath(store.path), os.path.abspath(target)
    if store_at == out_at or store_at.startswith(out_at.rstrip(os.sep) + os.sep):
        raise UsageError(f"--runs-db {store.path}: inside --out {target}, which generate replaces; keep the run store "
                         f"elsewhere")


def rerun(run_id: str, *, out: str | os.PathLike | None = None, force: bool = False, workers: int | None = None,
          runs_db: str | os.PathLike | None = None, target: str | None = None,
          progress: Callable[[str, int], None] | None = None) -> GenerateResult:
    """Run a recorded run again (``datagen runs rerun ID``): its stored schema bytes and settings,
    into its target (or ``out``), recorded as a new run with the same config hash — and the same
    bytes. A run held in memory is rerun in memory. ``target``: the database to load (``--target``:
    a DSN, an SQLite file or a named target) instead of the recorded one — needed when the recorded
    one held a password, which the store keeps only redacted."""
    store = RunStore.at(runs_db)
    run = store.get(run_id)
    replay = run.get("replay") or {}
    source = run.get("schema_source")
    if not isinstance(source, bytes) or not replay:
        raise UsageError(f"run {run['id']}: the run store holds no schema or settings for it (a record of a "
                         f"datagen before the run store?); it cannot be rerun")
    import hashlib

    if hashlib.sha256(source).hexdigest() != run["schema_sha256"]:
        from shared.errors import OutputError

        raise OutputError(f"run {run['id']}: the stored schema does not match its SHA-256 (the run store "
                          f"{store.path} was changed); it cannot be rerun")
    plan = plan_from_recipe(replay, source)
    if target is not None:
        flag = get_format(replay["format"]).flag_options.get("target")
        if flag is None:
            raise UsageError(f"--target: run {run['id']} wrote {replay['format']} files, not a database")
        run = {**run, "replay": {**replay, "options": {**(replay.get("options") or {}), flag: target}}}
    options = _replay_options(run)
    common: dict[str, Any] = {"workers": workers, "force": force, "progress": progress, "runs_db": store.path}
    if replay.get("sink") == "memory":
        if out is not None:
            raise UsageError(f"run {run['id']} was generated in memory: it is rerun in memory (no --out)")
        return generate(plan, output={"sink": "memory", "table_format": replay.get("table_format") or "pandas"},
                        **common)
    folder = out if out is not None else replay.get("out")
    if folder is None or replay.get("sink") == "temp_dir" and out is None:
        return generate(plan, output={"sink": "temp_dir", "format": replay["format"], "options": options,
                                      "table_format": replay.get("table_format") or "pandas"}, **common)
    return generate(plan, format=replay["format"], out=folder, options=options, **common)


def _engine_args(engine: str, plan: Plan, fmt: Format, opts: Mapping[str, Any], raw: Mapping[str, str], spark: Any,
                 spark_master: str | None, spark_conf: Mapping[str, str] | None, hive_db: str | None = None,
                 hive_metastore: str | os.PathLike | None = None) -> dict[str, Any]:
    """``shared.api.generate``'s arguments for ``engine`` (``datagen.engines``): nothing for the
    local engine; another engine's table writer (and ``register``, with ``hive_db``), checked
    before anything is written."""
    from datagen.engines import ENGINES, check_engine

    check_engine(engine)
    if engine == "local":
        if spark is not None or spark_master or spark_conf:
            raise UsageError("--spark-master and --spark-conf go with --engine spark")
        if hive_db is not None or hive_metastore is not None:
            raise UsageError("--hive-db and --hive-metastore go with --engine spark (tables are registered in "
                             "the Spark session's catalog)")
        return {}
    hive = {k: v for k, v in (("hive_db", hive_db), ("hive_metastore", hive_metastore)) if v is not None}
    return ENGINES[engine](plan, fmt, opts, raw, spark=spark, master=spark_master, conf=spark_conf, **hive)


def plan_from_recipe(recipe: Mapping[str, Any], source: bytes) -> Plan:
    """The plan of :func:`datagen.runs.plan_recipe` from the schema's bytes (``options.mode`` append, as a run
    records it, lets excluded parents be missing)."""
    anchor = recipe.get("anchor") if recipe.get("anchor_from", "schema") != "schema" else None
    the_schema = _lib.load_schema(recipe["schema_label"], source, anchor=anchor)
    return resolve_plan(the_schema, seed=recipe["seed"], rows=recipe.get("rows_overrides") or {},
                        scale=recipe.get("scale"), profile=recipe.get("profile"), block_rows=recipe.get("block_rows"),
                        allow_huge=bool(recipe.get("allow_huge")), corrupt=recipe.get("corrupt"),
                        table_scale=recipe.get("table_scale") or None, include=recipe.get("include"),
                        exclude=recipe.get("exclude") or None,
                        allow_missing_parents=(recipe.get("options") or {}).get("mode") == "append")


def _generate_in_memory(plan: Plan, workers: int, table_format: str, progress) -> tuple[dict[str, Any], dict]:
    """Every table straight from the engine's batches (no file), and a manifest without files."""
    import datetime as dt
    import time

    import pyarrow as pa

    from datagen.output import convert
    from shared import TOOL_NAME, __version__

    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    engine = _lib.Engine(plan)
    tables: dict[str, Any] = {}
    records: list = []
    timings: dict[str, float] = {}
    # the system allocator hands freed pages back to the OS, where Arrow's default pool keeps
    # them: the engine's per-block scratch then does not stay resident beside the growing frames
    # (bench: peak growth 1.5x the frames at 1M + 5M rows, against 1.7x with the default pool)
    previous_pool = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        for name in plan.kept:
            t1 = time.perf_counter()
            tables[name] = _build_table(plan, engine, name, workers, table_format, progress, records)
            timings[name] = round(time.perf_counter() - t1, 4)
    finally:
        pa.set_memory_pool(previous_pool)
    manifest: dict[str, Any] = {
        "manifest_version": 1, "tool": {"name": TOOL_NAME, "version": __version__}, "format": None,
        "sink": "memory", "schema": {"name": plan.schema.name, "path": str(plan.schema.source.path),
                                     "sha256": plan.schema.source.sha256},
        "seed": plan.seed, "profile": plan.profile, "anchor": plan.schema.anchor, "block_rows": plan.block_rows,
        "rows_overrides": dict(plan.rows_overrides), "scale": plan.scale, **_lib.plan_record(plan),
        "workers": workers, "rows": {n: plan.tables[n].rows for n in plan.kept}, "files": [],
        "generated_at": started.isoformat().replace("+00:00", "Z"),
        "timings": {"tables_s": timings, "total_s": round(time.perf_counter() - t0, 4)},
    }
    with_anomalies = any(t.anomalies is not None for t in plan.schema.tables)
    if plan.profile == "dirty" or with_anomalies:
        from shared import anomalies, corruption

        rec = pa.concat_tables([pa.Table.from_batches([r]) for r in records]) if records else \
            corruption.RECORD_SCHEMA.empty_table()
        counts = corruption.summarize(rec)
        if plan.profile == "dirty":
            manifest["corruption"] = {"rates": corruption.rates_used(plan.schema.written), "counts": counts}
        if with_anomalies:
            manifest["anomalies"] = {"tables": anomalies.summary(plan.schema, counts)}
        tables[_CORRUPTIONS] = convert(rec, table_format)
    return tables, manifest


def _build_table(plan: Plan, engine, name: str, workers: int, table_format: str, progress, records: list) -> Any:
    """One table from the engine's batches, as ``table_format`` says (corruption records kept)."""
    import pyarrow as pa

    from datagen.output import convert, frame_from_batches

    def batches():
        for batch, rec in engine.iter_batches(name, workers=workers, with_records=True):
            if rec is not None and rec.num_rows:
                records.append(rec)
            if progress is not None:
                progress(name, batch.num_rows)
            yield batch

    schema = engine.arrow_schemas[name]
    if table_format == "pandas" and plan.profile != "dirty":  # dirty data may add rows: not preallocated
        return frame_from_batches(batches(), schema, plan.tables[name].rows)
    return convert(pa.Table.from_batches(list(batches()), schema=schema), table_format)


def validate(schema: SchemaLike, *, out: str | os.PathLike | None = None, format: str | Format | None = None,
             strict: bool = False, allow_huge: bool = False, seed: int | None = None, rows: Rows = None,
             scale: float | None = None, profile: str | None = None, anchor: str | None = None,
             options: Mapping[str, Any] | None = None, table_scale: TableScale = None,
             include: Tables = None, exclude: Tables = None, engine: str = "local", spark: Any = None,
             spark_master: str | None = None, spark_conf: Mapping[str, str] | None = None,
             hive_db: str | None = None, hive_metastore: str | os.PathLike | None = None) -> dict[str, Any]:
    """Check the artifacts in ``out`` against the schema; returns the report (``status`` "pass" or
    "fail"), never raises for a failed check. ``format`` defaults to the manifest's. ``seed``,
    ``rows``, ``scale`` and ``profile``, when given, must be those the output was generated with
    (a ``run_match`` check fails otherwise). ``options`` are the format's ``--option`` values that
    say where to read (SQLite's ``database=PATH`` for a database loaded outside ``out``).
    ``table_scale``, ``include`` and ``exclude`` are, like ``scale``, what the run must have used
    (``run_match``): the manifest records them and only the tables it wrote are checked. Without a
    manifest (data datagen did not write), ``include``/``exclude`` choose the tables checked.
    ``engine="spark"``: Spark reads the tables (``spark``: a session, else one on ``spark_master``
    with ``spark_conf``) — the Parquet or Delta files in ``out``, or with ``hive_db`` the catalog's
    tables ``hive_db.<table>`` (``hive_metastore``: the catalog's folder, as for ``generate``) —
    and the same checks run on its reading; the report says ``"engine": "spark"`` (docs/spark.md)."""
    from shared.validation.runner import parse_instant, read_manifest, validate_output

    the_schema = load_schema(schema)
    fmt = _format(format)
    if out is None:
        if fmt is None:
            raise UsageError("validate needs --format or --out")
        target = default_out(the_schema.name, fmt.name)
    else:
        target = Path(out)
    if not target.is_dir():
        raise UsageError(f"--out {target}: no such folder to validate (generate first, or pass --out)")
    manifest = read_manifest(target)
    recorded = manifest.get("anchor") if isinstance(manifest, dict) else None
    if isinstance(recorded, str) and not isinstance(schema, Schema) and parse_instant(recorded) is not None \
            and parse_instant(recorded) != the_schema.anchor_us:
        # the run's relative times resolved against the anchor it recorded (anchor: now, --anchor)
        the_schema = load_schema(schema, anchor=recorded)
    if fmt is None:
        name = manifest.get("format") if isinstance(manifest, dict) else None
        if not isinstance(name, str):
            raise UsageError(f"--out {target}: no manifest names the format (pass --format)")
        fmt = get_format(name)
    if options:
        fmt = fmt.for_reading(fmt.check_options({str(k): str(v) for k, v in options.items()}))
    expect: dict[str, Any] = {}
    if seed is not None:
        expect["seed"] = seed
    if rows:
        expect["rows_overrides"] = _rows(rows)
    if scale is not None:
        expect["scale"] = scale
    if profile is not None:
        expect["profile"] = profile
    if table_scale is not None:
        scales = _table_scale(table_scale)
        for name, f in scales.items():
            if not the_schema.has_table(name):
                from shared.schema_dsl.planner import unknown_table_error

                raise unknown_table_error(the_schema, f"--table-scale {name}={f:g}", name)
        expect["table_scale"] = scales
    excluded: tuple[str, ...] = ()
    if include is not None or exclude is not None:
        from shared.schema_dsl.planner import select_tables

        _inc, _exc, excluded = select_tables(the_schema, _tables(include), _tables(exclude))
        expect["excluded"] = list(excluded)
    if anchor is not None:
        if anchor.strip().lower() == "now":
            raise UsageError("--anchor now: validate checks a run that has happened; give the instant its "
                             "manifest records (or leave --anchor out)")
        if parse_instant(anchor) is None:
            raise UsageError(f"--anchor {anchor!r}: not an ISO instant (e.g. 2025-01-01T00:00:00Z)")
        expect["anchor"] = anchor
    fmt = _reading_engine(engine, fmt, the_schema, target, spark, spark_master, spark_conf, hive_db, hive_metastore)
    return validate_output(the_schema, fmt, target, strict=strict, allow_huge=allow_huge, expect=expect,
                           excluded=excluded, engine=engine,
                           hive={"database": hive_db} if hive_db is not None else None)


def _reading_engine(engine: str, fmt: Format, schema: Schema, out: Path, spark: Any, spark_master: str | None,
                    spark_conf: Mapping[str, str] | None, hive_db: str | None,
                    hive_metastore: str | os.PathLike | None) -> Format:
    """``fmt`` as ``engine`` reads it for ``validate`` (``datagen.engines.READERS``): the format
    itself for the local engine; checked before a session starts."""
    from datagen.engines import READERS, check_engine

    check_engine(engine, READERS)
    if engine == "local":
        if spark is not None or spark_master or spark_conf:
            raise UsageError("--spark-master and --spark-conf go with --engine spark")
        if hive_db is not None or hive_metastore is not None:
            raise UsageError("--hive-db and --hive-metastore go with --engine spark (tables are read from the "
                             "Spark session's catalog)")
        return fmt
    hive = {k: v for k, v in (("hive_db", hive_db), ("hive_metastore", hive_metastore)) if v is not None}
    return READERS[engine](fmt, schema.written, out, spark=spark, master=spark_master, conf=spark_conf, **hive)


def to_arrow(schema: SchemaLike | Plan, tables: Iterable[str] | str | None = None, *, seed: int | None = None,
             rows: Rows = None, scale: float | None = None, profile: str | None = None,
             workers: int = 1) -> dict[str, pa.Table]:
    """Tables in memory as ``pyarrow.Table`` (all of them, or those named), no file written:
    the same values ``generate`` writes."""
    plan = resolve_plan(schema, seed=seed, rows=rows, scale=scale, profile=profile)
    names = list(plan.order) if tables is None else ([tables] if isinstance(tables, str) else list(tables))
    for n in names:
        if n not in plan.tables:
            from shared.registry import did_you_mean

            hint = did_you_mean(n, plan.order)
            raise UsageError(f"no table {n!r} in schema {plan.schema.name!r}" + (f" ({hint})" if hint else ""))
    engine = _lib.Engine(plan)
    return {n: engine.to_arrow(n, workers=workers) for n in names}


def to_pandas(schema: SchemaLike | Plan, tables: Iterable[str] | str | None = None, *, seed: int | None = None,
              rows: Rows = None, scale: float | None = None, profile: str | None = None,
              workers: int = 1) -> dict[str, pd.DataFrame]:
    """Tables in memory as pandas DataFrames (see ``to_arrow``)."""
    arrow = to_arrow(schema, tables, seed=seed, rows=rows, scale=scale, profile=profile, workers=workers)
    return {n: t.to_pandas() for n, t in arrow.items()}
