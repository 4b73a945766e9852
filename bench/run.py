"""The benchmark suite (``make bench``): every measurement in its own process, medians of N runs.

    python -m bench.run                      # default: BENCH_SCALE=0.1 (1M customers, 5M orders)
    BENCH_SCALE=1 python -m bench.run        # the issue's full figures (10M / 50M rows; long)

Settings (flag or environment variable): ``--scale`` / BENCH_SCALE (0.1: the reference workload
in Parquet, CSV and without writing, against the baselines), ``--other-scale`` /
BENCH_OTHER_SCALE (0.02: the other workloads, and json, ndjson and sqlite on the reference
workload — slower formats that no target concerns), ``--runs`` / BENCH_RUNS (3), ``--workers`` /
BENCH_WORKERS (``1,<cpu count>``), ``--formats`` / BENCH_FORMATS (every registered format; ``json``,
``ndjson`` and ``sqlite`` run on the reference workload only, ``event_stream`` on the event
workload), ``--workloads`` / BENCH_WORKLOADS (every schema in bench/schemas), ``--rss-rows`` /
BENCH_RSS_ROWS (2,000,000; the issue's figure is 20M), ``--faker-rows`` / BENCH_FAKER_ROWS (20,000).

Runs are interleaved (run 1 of every configuration, then run 2 …) so load from other processes
falls on all of them alike, and every ratio compares medians taken in the same invocation. Writes
bench/results.json (every measurement, machine, versions), bench/results.md and bench/results.png
(the chart; ``python -m bench.chart -o docs/performance.png A.json B.json`` draws the docs' chart).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import BENCH, OUT, ROOT, SCHEMAS

PY = sys.executable
REFERENCE_ONLY = {"json", "ndjson", "sqlite"}  # measured at --other-scale
TARGET_FORMATS = {"none", "memory", "parquet", "csv"}  # the reference workload's targets: measured at --scale
SCALING = (0.25, 0.5, 1.0)  # fractions of --scale for the throughput-against-rows chart


def _env(name: str, default):
    return os.environ.get(name) or default


def _call(args: list[str]) -> dict:
    """Run one measurement program; its last stdout line is its JSON report."""
    t = time.perf_counter()
    p = subprocess.run([PY, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["process_s"] = time.perf_counter() - t
    return res


def configs(a) -> list[dict]:
    """Every measured configuration: a key for grouping plus the program's arguments."""
    out = []
    for fmt in ("none", "parquet", "csv"):
        out.append({"key": ("handvec", "reference", fmt, 1, a.scale),
                    "args": ["bench.handvec", "--format", fmt, "--scale", str(a.scale), "--out", str(OUT / "handvec")]})
    out.append({"key": ("faker_loop", "reference", "csv", 1, a.faker_rows),
                "args": ["bench.faker_loop", "--rows", str(a.faker_rows), "--out", str(OUT / "faker_loop.csv")]})
    for wl in a.workloads:
        fmts = ["none", "memory"] if wl == "reference" else []
        for fmt in a.formats:
            if (fmt in REFERENCE_ONLY and wl != "reference") or (fmt == "event_stream" and wl != "events"):
                continue
            fmts.append(fmt)
        for fmt in fmts:
            scale = a.scale if wl == "reference" and fmt in TARGET_FORMATS else a.other_scale
            for w in a.workers:
                out.append(_datagen(wl, fmt, w, scale))
    if "reference" in a.workloads:  # the chart: throughput against rows and workers
        for f in SCALING[:-1]:
            s = round(a.scale * f, 6)
            for w in a.workers:
                out.append(_datagen("reference", "parquet", w, s))
            out.append({"key": ("handvec", "reference", "parquet", 1, s),
                        "args": ["bench.handvec", "--format", "parquet", "--scale", str(s), "--out", str(OUT / "handvec")]})
    return out


def _datagen(wl: str, fmt: str, workers: int, scale: float, rows: dict | None = None, out: str = "") -> dict:
    args = ["bench.measure", "--schema", str(SCHEMAS / f"{wl}.yaml"), "--format", fmt, "--workers", str(workers),
            "--scale", str(scale), "--out", out or str(OUT / "datagen" / f"{wl}-{fmt}")]
    for k, v in (rows or {}).items():
        args += ["--rows", f"{k}={v}"]
    return {"key": ("datagen", wl, fmt, workers, scale if rows is None else json.dumps(rows)), "args": args}


def _median(runs: list[dict], field: str) -> float:
    return statistics.median(r[field] for r in runs)


def summarize(key: tuple, runs: list[dict]) -> dict:
    program, wl, fmt, workers, scale = key
    s = _median(runs, "seconds")
    rows, nbytes = runs[0]["rows"], runs[0]["bytes"]
    tables = {t: statistics.median(r["tables_s"][t] for r in runs) for t in runs[0]["tables_s"]}
    return {"program": program, "workload": wl, "format": fmt, "workers": workers, "scale": scale, "rows": rows,
            "table_rows": runs[0]["table_rows"], "bytes": nbytes, "seconds": round(s, 4),
            "rows_per_s": round(rows / s), "mb_per_s": round(nbytes / s / 1e6, 2),
            "tables_s": {t: round(v, 4) for t, v in tables.items()},
            "rss_mib": max(r["rss_mib"] for r in runs), "rss_worker_mib": max(r["rss_worker_mib"] for r in runs),
            "runs_s": [round(r["seconds"], 4) for r in runs], "process_s": round(_median(runs, "process_s"), 3),
            **({"frames_mib": runs[0]["frames_mib"], "rss_before_mib": max(r["rss_before_mib"] for r in runs)}
               if "frames_mib" in runs[0] else {})}


def ratios(results: list[dict], scale: float) -> None:
    """Add ratios to the same run's baselines: time ÷ handvec's (same format), rows/s ÷ faker_loop's."""
    hv = {r["format"]: r for r in results if r["program"] == "handvec" and r["scale"] == scale}
    fk = next((r for r in results if r["program"] == "faker_loop"), None)
    for r in results:
        if r["program"] != "datagen" or r["workload"] != "reference" or isinstance(r["scale"], str):
            continue
        if r["format"] in hv and r["scale"] == scale:
            r["time_vs_handvec"] = round(r["seconds"] / hv[r["format"]]["seconds"], 3)
        if fk is not None:
            fk_rate = fk["rows"] / fk["seconds"]
            r["rows_per_s_vs_faker"] = round(r["rows_per_s"] / fk_rate, 1)
            cust = r["table_rows"]["customers"] / r["tables_s"]["customers"]
            r["customers_rows_per_s_vs_faker"] = round(cust / fk_rate, 1)


def bootstrap(n: int = 5) -> dict:
    """Wall time of the bootstrap's ready path (dry run) against a bare interpreter start."""
    py3 = subprocess.run(["python3", "-c", "import sys; print(sys.executable)"], capture_output=True,
                         text=True).stdout.strip() or "python3"
    env = {**os.environ, "DATAGEN_BOOTSTRAP_DRY_RUN": "1"}
    boot = [py3, "all-in-one/datagen_bootstrap.py", "describe", "--format", "parquet"]
    direct = [str(ROOT / ".venv/bin/python"), "-m", "generators.parquet_generator", "describe", "--format", "parquet"]
    envs = {"bare": os.environ, "dry_run": env, "describe_direct": {**os.environ, "PYTHONPATH": str(ROOT)},
            "describe_bootstrap": os.environ}
    cmds = {"bare": [py3, "-c", "pass"], "dry_run": boot, "describe_direct": direct, "describe_bootstrap": boot}
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(n):
        for k, cmd in cmds.items():
            t = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, env=envs[k], capture_output=True, check=True)
            times[k].append(time.perf_counter() - t)
    med = {k: round(statistics.median(v), 4) for k, v in times.items()}
    return {"python": py3, "runs": n, "median_s": med,
            "dry_run_overhead_s": round(med["dry_run"] - med["bare"], 4),
            "describe_overhead_s": round(med["describe_bootstrap"] - med["describe_direct"], 4)}


def rss_check(rows: int) -> list[dict]:
    """Peak RSS of a narrow table (orders: 5 columns, fk + expr) at rows/10 and rows, Parquet, 1 worker."""
    out = []
    for n in (max(1, rows // 10), rows):
        c = _datagen("reference", "parquet", 1, 1.0, {"customers": 100_000, "orders": n}, str(OUT / "datagen" / "rss"))
        out.append(summarize(c["key"], [_call(c["args"])]) | {"orders_rows": n})
    return out


def machine() -> dict:
    import faker
    import numpy
    import pyarrow

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    mem = next((int(ln.split()[1]) // 1024 for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")), None) if Path("/proc/meminfo").exists() else None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    return {"platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(), "mem_mib": mem,
            "python": platform.python_version(), "numpy": numpy.__version__, "pyarrow": pyarrow.__version__,
            "faker": faker.VERSION, "commit": commit.strip() + ("+dirty" if dirty.strip() else ""),
            "loadavg_start": list(os.getloadavg())}


def parse_args(argv: list[str] | None):
    from bench.measure import load_formats

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=float(_env("BENCH_SCALE", 0.1)))
    ap.add_argument("--other-scale", type=float, default=None)
    ap.add_argument("--runs", type=int, default=int(_env("BENCH_RUNS", 3)))
    ap.add_argument("--workers", default=_env("BENCH_WORKERS", f"1,{os.cpu_count() or 1}"))
    ap.add_argument("--formats", default=_env("BENCH_FORMATS", ",".join(load_formats())))
    ap.add_argument("--workloads", default=_env("BENCH_WORKLOADS", ",".join(sorted(p.stem for p in SCHEMAS.glob("*.yaml")))))
    ap.add_argument("--rss-rows", type=int, default=int(_env("BENCH_RSS_ROWS", 2_000_000)))
    ap.add_argument("--faker-rows", type=int, default=int(_env("BENCH_FAKER_ROWS", 20_000)))
    ap.add_argument("--out", type=Path, default=BENCH)
    a = ap.parse_args(argv)
    if a.other_scale is None:
        a.other_scale = float(_env("BENCH_OTHER_SCALE", min(a.scale, 0.02)))
    a.workers = sorted({int(w) for w in str(a.workers).split(",") if w})
    known = load_formats()
    a.formats = [f for f in a.formats.split(",") if f]
    a.skipped = [f for f in a.formats if f not in known]
    a.formats = [f for f in a.formats if f in known]
    a.workloads = [w for w in a.workloads.split(",") if w]
    return a


def main(argv: list[str] | None = None) -> None:
    from bench.chart import render
    from bench.report import write_markdown

    a = parse_args(argv)
    for f in a.skipped:
        print(f"note: format {f!r} has no frontend yet; skipped", file=sys.stderr)
    started = time.perf_counter()
    info = machine()
    # warm the on-disk Faker pool caches (datagen's and handvec's) so no timed run builds them
    for wl in a.workloads:
        _call(_datagen(wl, "none", 1, 1e-4)["args"])
    _call(["bench.handvec", "--format", "none", "--scale", "1e-5", "--out", str(OUT / "handvec")])
    todo = configs(a)
    runs: dict[tuple, list[dict]] = {}
    for i in range(a.runs):
        for n, c in enumerate(todo, 1):
            print(f"[run {i + 1}/{a.runs}] {n}/{len(todo)} {' '.join(map(str, c['key']))}", file=sys.stderr, flush=True)
            runs.setdefault(c["key"], []).append(_call(c["args"]))
    results = [summarize(k, v) for k, v in runs.items()]
    ratios(results, a.scale)
    print("bootstrap …", file=sys.stderr, flush=True)
    boot = bootstrap()
    print(f"peak RSS at {a.rss_rows:,} rows …", file=sys.stderr, flush=True)
    rss = rss_check(a.rss_rows)
    info["loadavg_end"] = list(os.getloadavg())
    doc = {"generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
           "command": " ".join([*(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("BENCH_")),
                                "python -m bench.run", *(sys.argv[1:] if argv is None else argv)]),
           "settings": {"scale": a.scale, "other_scale": a.other_scale, "runs": a.runs, "workers": a.workers,
                        "formats": a.formats, "skipped_formats": a.skipped, "workloads": a.workloads, "rss_rows": a.rss_rows,
                        "faker_rows": a.faker_rows},
           "machine": info, "wall_s": round(time.perf_counter() - started, 1),
           "results": results, "bootstrap": boot, "rss": rss}
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "results.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    (a.out / "results.md").write_text(write_markdown(doc), encoding="utf-8")
    if any(r["workload"] == "reference" and r["format"] == "parquet" for r in results):
        (a.out / "results.png").write_bytes(render([doc]))
    print(f"wrote results.json, .md and .png to {a.out} in {doc['wall_s']} s", file=sys.stderr)


if __name__ == "__main__":
    main()
