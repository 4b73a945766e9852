"""One datagen measurement in its own process: load, plan and generate a schema through the library.

    python -m bench.measure --schema bench/schemas/reference.yaml --format parquet --workers 2 --scale 0.02

``--format none`` only computes the batches (the engine alone, no writer); ``--format memory``
builds every table as a pandas DataFrame in memory (``datagen.generate(..., output="memory")``)
and reports the frames' size and the resident memory before the run, so the peak's growth can
be set against the frames. ``seconds`` runs from
``load_schema`` to the end of ``generate`` (imports excluded, reported as ``import_s``); the
last stdout line is the JSON report (``bench.common.report``).
"""

from __future__ import annotations

import argparse
import importlib
import time

T_START = time.perf_counter()

from pathlib import Path  # noqa: E402

from bench.common import OUT, dir_bytes, report  # noqa: E402
from shared import api  # noqa: E402
from shared.formats import FORMATS  # noqa: E402

FRONTENDS = ("parquet_generator", "csv_generator", "json_generator", "sqlite_seed", "event_stream_generator")


def load_formats() -> list[str]:
    """Import every format frontend that exists; the registered format names."""
    for mod in FRONTENDS:
        try:
            importlib.import_module(f"generators.{mod}.format")
        except ImportError:
            pass
    return sorted(n for n in FORMATS if not FORMATS[n].stores_tables)  # databases: bench.postgres


def engine_only(plan, workers: int) -> dict[str, float]:
    """Compute every table's batches without writing them; per-table seconds."""
    engine = api.Engine(plan)
    pool = None
    if workers > 1:
        from shared.schema_dsl.parallel import WorkerPool

        pool = WorkerPool(engine, workers)
    timings = {}
    try:
        for name in plan.order:
            t = time.perf_counter()
            for _ in engine.iter_batches(name, workers=workers, pool=pool):
                pass
            timings[name] = time.perf_counter() - t
    finally:
        if pool is not None:
            pool.close()
    return timings


def run(schema: str, fmt: str, workers: int, scale: float | None, rows: dict[str, int], out: Path) -> dict:
    load_formats()
    t0 = time.perf_counter()
    plan = api.resolve_plan(api.load_schema(schema), scale=scale, rows=rows or None)
    extra: dict = {}
    if fmt == "none":
        timings, nbytes = engine_only(plan, workers), 0
    elif fmt == "memory":
        import datagen

        extra["rss_before_mib"] = current_rss_mib()
        res = datagen.generate(plan, output={"sink": "memory", "memory_budget": 1 << 50}, workers=workers)
        timings, nbytes = res.manifest["timings"]["tables_s"], 0
        extra["frames_mib"] = round(sum(int(f.memory_usage(deep=True).sum()) for f in res.tables.values()) / 2**20, 1)
    else:
        manifest = api.generate(plan, FORMATS[fmt], out, workers=workers, force=True)
        timings, nbytes = manifest["timings"]["tables_s"], dir_bytes(out)
    seconds = time.perf_counter() - t0
    table_rows = {n: plan.tables[n].rows for n in plan.order}
    return {"program": "datagen", "schema": plan.schema.name, "format": fmt, "workers": workers,
            "rows": sum(table_rows.values()), "seconds": seconds, "bytes": nbytes, "tables_s": timings,
            "table_rows": table_rows, "import_s": t0 - T_START, **extra}


def current_rss_mib() -> float:
    """This process's resident memory now (Linux /proc; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    import os

    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schema", required=True)
    ap.add_argument("--format", default="parquet")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--scale", type=float, default=None)
    ap.add_argument("--rows", action="append", default=[], help="TABLE=N")
    ap.add_argument("--out", type=Path, default=OUT / "datagen")
    a = ap.parse_args(argv)
    rows = {k: int(v) for k, v in (r.split("=", 1) for r in a.rows)}
    report(run(a.schema, a.format, a.workers, a.scale, rows, a.out))


if __name__ == "__main__":
    main()
