"""The library API every frontend calls (and Python users call directly, with the same names).

    >>> from shared.api import load_schema, resolve_plan, Engine, describe, generate
    >>> schema = load_schema("schemas/examples/shop.yaml")
    >>> plan = resolve_plan(schema, seed=7, rows={"customers": 100})
    >>> for batch in Engine(plan).iter_batches("customers"):
    ...     ...

``describe(plan, fmt)`` returns the plan as plain data (what the ``describe`` command prints),
``generate(plan, fmt, out, …)`` writes every table through a format's writer into a temporary
folder, writes ``manifest.json`` and swaps the folder into place atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

from shared import TOOL_NAME, __version__
from shared.distributions.base import GENERATORS
from shared.formats import Format, RunInfo, Written
from shared.io.oslimits import fit_workers
from shared.io.output import MANIFEST, AtomicOutput, file_digest
from shared.model.schema import RowsOf, RowsPer, thaw
from shared.model.timeutil import format_date, format_timestamp
from shared.resources import data_file
from shared.schema_dsl.engine import Engine, effective_workers
from shared.schema_dsl.loader import load_schema
from shared.schema_dsl.planner import Plan, parse_rows_overrides, parse_table_scale, resolve_plan

__all__ = ["load_schema", "resolve_plan", "parse_rows_overrides", "parse_table_scale", "Engine", "describe",
           "generate", "default_out", "file_digest", "plan_arithmetic"]

DEFAULT_SCHEMA = data_file("examples", "default.yaml")


def default_out(schema_name: str, fmt: str) -> Path:
    """``out/<schema name>/<format>/`` relative to the current directory."""
    return Path("out") / schema_name / fmt


def _fmt_bound(column, v):
    if v is None:
        return None
    if column.dtype.kind == "date":
        return format_date(v)
    if column.dtype.kind == "timestamp":
        return format_timestamp(v)
    return v


def _per_row(table, column) -> float:
    """How many values of ``column`` a row holds on average: 1, or inside lists the product of
    their mean lengths (the midpoint of ``length``; an estimate for ``describe``)."""
    n = 1.0
    part = column.part_of
    while part is not None:
        outer = table.column(part)
        if outer.length is not None:
            n *= (outer.length.min + outer.length.max) / 2
        part = outer.part_of
    return n


def plan_arithmetic(plan: Plan, name: str) -> dict[str, Any]:
    """How a table's rows were resolved: its own count (``base_rows``; None when the rows follow
    from a parent, named by ``derived_from``), the ``scale`` and ``table_scale`` applied to it
    (None when not applied), the ``--rows`` override, the resulting ``rows``, and whether the run
    writes it (``included``) or not (``excluded``)."""
    t = plan.tables[name].table
    override = plan.rows_overrides.get(name)
    own: int | None
    if isinstance(t.rows, RowsPer):
        own, derived = t.rows.total, t.rows.per
    elif isinstance(t.rows, RowsOf):
        own, derived = None, t.rows.of
    else:
        own, derived = t.rows, None
    ts = plan.table_scale.get(name)
    return {
        "base_rows": own, "derived_from": derived,
        "scale": plan.scale if own is not None and override is None else None,
        "table_scale": ts if override is None else None,
        "rows_override": override, "rows": plan.tables[name].rows,
        "included": name not in plan.excluded, "excluded": name in plan.excluded,
    }


def describe(plan: Plan, fmt: Format | None = None) -> dict[str, Any]:
    """The plan as plain, JSON-ready data."""
    schema = plan.schema
    tables = []
    edges = [{"table": r.table, "column": r.column, "parent": r.parent, "parent_column": r.parent_column,
              "skew": thaw(r.skew) if r.skew is not None else None, "nullable": r.nullable,
              "self_reference": r.self_reference, "owner": r.owner} for r in plan.foreign_keys]
    total_bytes = 0
    for name in plan.order:
        tp = plan.tables[name]
        t = tp.table
        cols = []
        width = 0.0
        for c in t.columns:
            gen = GENERATORS[c.generator.type]
            cols.append({
                "name": c.name, "type": c.dtype.name, "generator": gen.describe(c.generator.params),
                "generator_type": c.generator.type, "params": thaw(c.generator.params),
                "generator_default": c.generator.default, "hidden": c.hidden,
                "nullable": c.nullable, "null_rate": c.null_rate, "unique": c.unique,
                "min": _fmt_bound(c, c.min), "max": _fmt_bound(c, c.max),
                "allowed": [_fmt_bound(c, v) for v in c.allowed] if c.allowed else None,
                "pattern": c.pattern, "max_length": c.max_length,
                "part_of": c.part_of, "present": c.present,
                "length": None if c.length is None else {
                    "min": c.length.min, "max": c.length.max,
                    "distribution": None if c.length.distribution is None else
                    GENERATORS[c.length.distribution.type].describe(c.length.distribution.params)},
            })
            if fmt is not None and not c.hidden and not c.dtype.is_nested:
                width += fmt.bytes_per_value(c.dtype.kind) * _per_row(t, c)
        if isinstance(t.rows, RowsPer):
            dist = t.rows.distribution
            rows_rule: dict[str, Any] = {"per": t.rows.per, "distribution": None if dist is None else
                         GENERATORS[dist.type].describe(dist.params), "min": t.rows.min, "max": t.rows.max}
            if t.rows.total is not None:
                rows_rule.update(total=t.rows.total, override=plan.rows_overrides.get(name), scale=plan.scale)
        elif isinstance(t.rows, RowsOf):
            rows_rule = {"of": t.rows.of, "coverage": t.rows.coverage, "override": plan.rows_overrides.get(name)}
        else:
            rows_rule = {"fixed": t.rows, "override": plan.rows_overrides.get(name), "scale": plan.scale}
        est = int((width + fmt.row_overhead) * tp.rows) if fmt is not None else None
        if name not in plan.excluded:
            total_bytes += est or 0
        tables.append({
            "name": name, "rows": tp.rows, "rows_rule": rows_rule, "primary_key": list(t.primary_key),
            "unique": [list(g) for g in t.unique], "depends_on": list(tp.depends_on),
            "events": None if t.events is None else {"time": t.events.time, "key": t.events.key,
                                                     "type": t.events.type, "late_rate": t.events.late_rate},
            "partition_by": list(t.partition_by),
            "indexes": [{"name": ix.name, "columns": list(ix.columns), "unique": ix.unique} for ix in t.indexes],
            "columns": cols, "estimated_bytes": est,
            **plan_arithmetic(plan, name),
        })
    return {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "schema": {"name": schema.name, "path": schema.source.path, "sha256": schema.source.sha256,
                   "description": schema.description},
        "format": fmt.name if fmt is not None else None,
        "seed": plan.seed, "profile": plan.profile, "anchor": schema.anchor, "block_rows": plan.block_rows,
        **({"corrupt": dict(plan.corrupt)} if plan.corrupt is not None else {}),
        "order": list(plan.order), "tables": tables, "foreign_keys": edges,
        "feasibility": [{"table": f.table, "column": f.column, "check": f.check, "ok": f.ok,
                         "capacity": f.capacity, "needed": f.needed, "message": f.message}
                        for f in plan.feasibility],
        "estimated_bytes": total_bytes if fmt is not None else None,
        # the rows the run writes (the kept tables); planned_rows counts the excluded ones too
        "total_rows": sum(plan.tables[n].rows for n in plan.kept),
        "planned_rows": sum(plan.tables[n].rows for n in plan.order),
        "scale": plan.scale, "rows_overrides": dict(plan.rows_overrides), "table_scale": dict(plan.table_scale),
        "include": None if plan.include is None else list(plan.include), "exclude": list(plan.exclude),
        "excluded": list(plan.excluded), "written": list(plan.kept),
        "missing_parents": [{"table": c, "parent": p} for c, p in plan.missing_parents],
    }


def generate(plan: Plan, fmt: Format, out: str | os.PathLike, *, workers: int = 1, force: bool = False,
             options: dict[str, Any] | None = None, progress=None, table_writer=None,
             engine_name: str | None = None) -> dict[str, Any]:
    """Write every table of the plan in ``fmt`` into ``out`` atomically; returns the manifest.

    ``table_writer(tmp, table)``: another engine (``engine_name``, recorded in the manifest)
    writes each table's files into the run's temporary folder in ``fmt``'s layout and returns
    their entries (``{"path", "table"}``, paths relative to ``tmp``); the output is then committed,
    hashed and described exactly as the local engine's."""
    options = dict(options or {})
    engine = Engine(plan, text=fmt.renders_text)
    kept = plan.kept  # excluded tables are planned (their keys addressed) but not written
    written = plan.written_schema()
    # no more workers than blocks, nor than the open-file and address-space limits hold (exit 2
    # when not even one process fits)
    workers = fit_workers(effective_workers(workers, sum(len(engine.blocks(n)) for n in kept)))
    run = RunInfo(seed=plan.seed, profile=plan.profile, schema_name=plan.schema.name,
                  schema_sha256=plan.schema.source.sha256, tool_version=__version__, workers=workers,
                  out=os.path.abspath(out))
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    timings: dict[str, float] = {}
    files: list[dict[str, Any]] = []
    pool = None
    sidecar = None
    counts: dict = {}
    with AtomicOutput(out, force=force) as ao:
        tmp = ao.tmp
        assert tmp is not None  # AtomicOutput made it on entering
        try:
            if workers > 1 and table_writer is None:
                from shared.schema_dsl.parallel import WorkerPool

                pool = WorkerPool(engine, workers)
            if engine.dirty or any(t.anomalies is not None for t in plan.schema.tables):
                sidecar = _CorruptionSidecar(tmp)  # the corruption's and the anomalies' records
            fmt.prepare(tmp, written, options, run=run)
            parts = {n: fmt.part_spans(written.table(n), plan.tables[n].rows, options) for n in kept}
            order = list(kept) if table_writer is None else []
            for name in kept if table_writer is not None else ():
                t1 = time.perf_counter()
                files += table_writer(tmp, name)
                timings[name] = round(time.perf_counter() - t1, 4)
                if progress is not None:
                    progress(name, plan.tables[name].rows)
            while order:
                if parts[order[0]] is None:
                    name = order.pop(0)
                    t1 = time.perf_counter()
                    files += _write_stream(engine, fmt, tmp, name, options, run, workers, pool, sidecar, progress)
                    timings[name] = round(time.perf_counter() - t1, 4)
                    continue
                # consecutive part-written tables form one stream of tasks, so the workers move on
                # to the next table while the last parts of this one are still being written
                stream: list[tuple[str, list[tuple[int, int]]]] = []
                while order and (spans := parts[order[0]]) is not None:
                    stream.append((order.pop(0), spans))
                files += _write_parts(engine, fmt, tmp, stream, options, run, pool, sidecar, progress, timings)
            files += [{"path": str(p), "table": None} for p in fmt.finish(tmp, written, options, run=run)]
            extra = fmt.manifest_extra(tmp, options)
            if sidecar is not None:
                files.append({"path": sidecar.close(), "table": None})
                counts = sidecar.counts
        except BaseException:
            if pool is not None:
                pool.close(cancel=True)
                pool = None
            fmt.abort_run(options)
            raise
        finally:
            if pool is not None:
                pool.close()
            if sidecar is not None:
                sidecar.abort()
        for f in files:
            if "sha256" not in f:  # not hashed while written
                p = tmp / f["path"]
                f["bytes"] = p.stat().st_size
                f["sha256"] = file_digest(p)
        manifest = {
            "manifest_version": 1,
            "tool": {"name": TOOL_NAME, "version": __version__},
            "format": fmt.name,
            "schema": {"name": plan.schema.name, "path": str(plan.schema.source.path),
                       "sha256": plan.schema.source.sha256},
            "seed": plan.seed,
            "profile": plan.profile,
            "anchor": plan.schema.anchor,
            **({"anchor_from": plan.schema.anchor_from} if plan.schema.anchor_from != "schema" else {}),
            "block_rows": plan.block_rows,
            "rows_overrides": dict(plan.rows_overrides),
            "scale": plan.scale,
            "allow_huge": plan.allow_huge,
            "workers": workers,
            **({"engine": engine_name} if engine_name else {}),
            "options": {k: v for k, v in options.items() if not k.startswith("_") and jsonable(v)},
            **plan_record(plan),
            "rows": {n: plan.tables[n].rows for n in kept},
            # each written table's columns and DSL types, so a reader (``datagen query``) types
            # text formats as the schema did instead of guessing
            "columns": {n: [{"name": c.name, "type": c.dtype.name} for c in written.table(n).columns] for n in kept},
            "files": files,
            "generated_at": started.isoformat().replace("+00:00", "Z"),
            "timings": {"tables_s": timings, "total_s": round(time.perf_counter() - t0, 4)},
        }
        if engine.dirty:
            from shared import corruption

            dirt: dict[str, Any] = {"sidecar": corruption.SIDECAR,
                                    "rates": corruption.rates_used(written, plan.corrupt, fmt.renders_text),
                                    "counts": counts}
            skipped = [] if fmt.renders_text else corruption.not_applicable(written, plan.corrupt)
            if skipped:  # text-only kinds a typed format cannot hold
                dirt["not_applicable"] = {k: f"{fmt.name} stores typed values; {k} applies to the text formats "
                                             "(csv, json, ndjson, event_stream)" for k in skipped}
            if sidecar is not None and any(sidecar.added.values()):  # kinds that add rows
                dirt["added_rows"] = {t: n for t, n in sidecar.added.items() if n}
            if plan.corrupt is not None:  # the run's choice of kinds (--corrupt): validate re-plans with it
                dirt["selected"] = dict(plan.corrupt)
            manifest["corruption"] = dirt
        if any(t.anomalies is not None for t in plan.schema.tables):
            from shared import anomalies, corruption

            manifest["anomalies"] = {"sidecar": corruption.SIDECAR, "tables": anomalies.summary(plan.schema, counts)}
        manifest.update(extra)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        ao.commit()
    return manifest


def plan_record(plan: Plan) -> dict[str, Any]:
    """The manifest's record of the plan arithmetic beyond ``rows_overrides``/``scale``: the
    ``table_scale`` factors, ``include``/``exclude`` as given and the tables ``excluded`` (planned,
    not written). ``validate`` re-plans with them."""
    return {"table_scale": dict(plan.table_scale),
            "include": None if plan.include is None else list(plan.include),
            "exclude": list(plan.exclude), "excluded": list(plan.excluded)}


def _file_entry(written, table: str | None) -> dict[str, Any]:
    if isinstance(written, Written):
        return {"path": str(written.path), "table": table, "bytes": written.bytes, "sha256": written.sha256}
    return {"path": str(written), "table": table}


def _write_stream(engine: Engine, fmt: Format, tmp: Path, name: str, options: dict[str, Any], run: RunInfo,
                  workers: int, pool, sidecar, progress) -> list[dict[str, Any]]:
    """One table through the format's writer, block by block in order."""
    table = engine.schema.written.table(name)
    writer: Any = fmt.open_writer(tmp, table, engine.written_schemas[name], options, run=run)
    renderer = getattr(writer, "renderer", None)
    try:
        if pool is not None and renderer is not None:
            # the workers render the text too; this process only writes it
            spans = engine.blocks(name)
            for (s, e), (text, records) in zip(spans, pool.map_rendered(name, spans, renderer), strict=True):
                writer.write_rendered(text, e - s)
                if records is not None and sidecar is not None:
                    sidecar.add(records)
                if progress is not None:
                    progress(name, e - s)
        else:
            for batch, records in engine.iter_batches(name, workers=workers, pool=pool, with_records=True):
                writer.write_batch(batch)
                if records is not None and sidecar is not None:
                    sidecar.add(records)
                if progress is not None:
                    progress(name, batch.num_rows)
        written = writer.close()
    except BaseException:
        writer.abort()
        raise
    return [_file_entry(w, name) for w in written]


#: the largest batch a format may ask for in ``write_part`` (memory stays bounded by the width)
MAX_PART_BATCH_ROWS = 1 << 20


def write_part(engine: Engine, fmt: Format, tmp: str, name: str, index: int, start: int, stop: int,
               options: dict[str, Any], run: RunInfo | None = None):
    """Part ``index`` (rows ``[start, stop)``) of a table, written by the format in this process
    (the parent or a worker; ``fmt`` travels by pickle, so a format's class must live at module
    level): ``(Written, corruption records as Arrow IPC or None)``."""
    import pyarrow as pa

    from shared.schema_dsl.parallel import to_ipc

    records: list = []

    step = min(fmt.part_batch_rows(options) or engine.plan.block_rows, MAX_PART_BATCH_ROWS)

    added = 0  # rows the dirty profile inserted in the batches before (their records' rows move)

    def batches():
        nonlocal added
        from shared.corruption import shift_records

        for s in range(start, stop, step):
            batch, rec = engine.batch_with_records(name, s, min(stop, s + step))
            if rec is not None and rec.num_rows:
                rec, n = shift_records(rec, added)
                added += n
                records.append(rec)
            yield batch

    written = fmt.write_part(Path(tmp), engine.schema.written.table(name), engine.written_schemas[name], options, index,
                             batches(), run=run)
    rec = None
    if records:
        rec = pa.Table.from_batches(records).combine_chunks().to_batches()[0]
    return written, to_ipc(rec)


def _write_parts(engine: Engine, fmt: Format, tmp: Path, tables: list[tuple[str, list[tuple[int, int]]]],
                 options: dict[str, Any], run: RunInfo, pool, sidecar, progress,
                 timings: dict[str, float]) -> list[dict[str, Any]]:
    """Tables written as independent parts: by the workers (in order of completion of the stream,
    consumed in order) or, without a pool, one after the other here."""
    from shared.schema_dsl.parallel import from_ipc

    tasks = [(name, i, s, e) for name, spans in tables for i, (s, e) in enumerate(spans)]
    calls = [(fmt, str(tmp), name, i, s, e, options, run) for name, i, s, e in tasks]
    if pool is not None:
        results = pool.map_calls(write_part, calls, ", ".join(repr(n) for n, _ in tables))
    else:
        results = (write_part(engine, *c) for c in calls)
    out = []
    t1 = time.perf_counter()
    for (name, _i, s, e), (written, rec) in zip(tasks, results, strict=True):
        # a partitioned table's part is a file per folder its rows fall in
        out += [_file_entry(w, name) for w in (written if isinstance(written, list) else [written])]
        records = from_ipc(rec)
        if records is not None and sidecar is not None:
            sidecar.add(records)
        if progress is not None:
            progress(name, e - s)
        now = time.perf_counter()
        timings[name] = round(timings.get(name, 0.0) + now - t1, 4)
        t1 = now
    return out


class _CorruptionSidecar:
    """Streams the dirty profile's corruption records to ``corruptions.csv`` and counts them."""

    def __init__(self, out_dir: Path):
        from shared import corruption

        self.path = out_dir / corruption.SIDECAR
        self.counts: dict = {}
        #: per table, the rows inserted so far (records arrive in row order, each block's rows
        #: counted from its first row: see ``corruption.apply``)
        self.added: dict[str, int] = {}
        self._writer: Any = None
        self._schema = corruption.RECORD_SCHEMA

    def add(self, records) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        from shared import corruption

        if self._writer is None:
            self._writer = pacsv.CSVWriter(str(self.path), self._schema)
        if records.num_rows:
            table = records.column("table")[0].as_py()  # one table per call: a block or a part
            records, n = corruption.shift_records(records, self.added.get(table, 0))
            self.added[table] = self.added.get(table, 0) + n
            self._writer.write_batch(records)
            for t, cols in corruption.summarize(pa.Table.from_batches([records])).items():
                for c, kinds in cols.items():
                    for k, n in kinds.items():
                        slot = self.counts.setdefault(t, {}).setdefault(c, {})
                        slot[k] = slot.get(k, 0) + n

    def close(self) -> str:
        import pyarrow.csv as pacsv

        if self._writer is None:
            self._writer = pacsv.CSVWriter(str(self.path), self._schema)
        self._writer.close()
        self._writer = None
        return self.path.name

    def abort(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # noqa: BLE001 - already failing; the temp folder is removed anyway
                pass
            self._writer = None


def jsonable(v: Any) -> bool:
    """Whether ``v`` goes into JSON as it is (the manifest keeps only such option values)."""
    try:
        json.dumps(v)
        return True
    except (TypeError, ValueError):
        return False
