"""Spark against the local engine: the reference workload to Parquet, same run, same machine.

    python -m bench.spark [--scale 0.02] [--runs 1]

* the local engine (``generate --format parquet``, 1 and 2 workers; the best of ``--runs``);
* ``generate --engine spark`` on ``local[1]`` and ``local[2]``, one session each: its start is
  reported apart and not counted (a cluster's session outlives one run), then ``1 + --runs``
  runs on it — the first on the new session (it pays the first job's JVM warm-up and each
  Python worker's import of datagen and build of the plan) reported apart from the best of the
  later ones (the session warm);
* the target: local[2] reaches at least 50 % of the local engine's rows/s (2 workers), and rows/s
  per core stays flat from 1 to 2 executor cores — both given for the first run and warm.

Each run is timed by its manifest (plan → last file committed). The machine may be shared: each
run also reports the CPU other processes took meanwhile (the machine's busy time, from
``/proc/stat``, less this run's processes'), core-seconds; a run that shared its cores says so.
Writes ``bench/results-spark.json`` and ``bench/results-spark.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import BENCH, ROOT, SCHEMAS, scaled

REFERENCE = SCHEMAS / "reference.yaml"
TABLES = {"customers": 10_000_000, "orders": 50_000_000}


def _rows(scale: float) -> list[str]:
    return [f"{t}={scaled(n, scale)}" for t, n in TABLES.items()]


def machine_busy_s() -> float:
    """CPU seconds the machine's cores have been busy (every process, and time stolen by the host)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
    """CPU seconds of process ``root`` and its descendants (the ended ones they waited for included)."""
    procs = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            procs[int(entry.name)] = (int(stat[1]), sum(int(v) for v in stat[11:15]))
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += [p for p, (parent, _) in procs.items() if parent == pid and p not in tree]
    return sum(procs[p][1] for p in tree if p in procs) / os.sysconf("SC_CLK_TCK")


def local_run(out: Path, scale: float, workers: int) -> tuple[float, float]:
    """The run's seconds and the CPU seconds other processes took meanwhile."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATAGEN_RUNS_DB": str(out.parent / "runs.db")}
    args = [sys.executable, "-P", "-m", "datagen", "generate", "--format", "parquet", "--schema", str(REFERENCE),
            "--out", str(out), "--force", "-q", "--workers", str(workers)]
    for r in _rows(scale):
        args += ["--rows", r]
    busy, own = machine_busy_s(), _children_cpu_s()
    subprocess.run(args, env=env, check=True)
    others = machine_busy_s() - busy - (_children_cpu_s() - own)
    return json.loads((out / "manifest.json").read_text())["timings"]["total_s"], max(0.0, others)


def _children_cpu_s() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def spark_runs(work: Path, scale: float, cores: int, runs: int) -> dict:
    """In a child process (one SparkContext per process): session start, then ``1 + runs`` runs."""
    code = f"""
import json, sys, time
sys.path.insert(0, {str(ROOT)!r})
t0 = time.perf_counter()
import datagen, datagen.spark, os
from bench.spark import machine_busy_s, tree_cpu_s
spark = datagen.spark.session("local[{cores}]", {{"spark.driver.memory": "3g"}})
start = time.perf_counter() - t0
times, others = [], []
for i in range({runs + 1}):
    busy, own = machine_busy_s(), tree_cpu_s(os.getpid())
    r = datagen.generate({str(REFERENCE)!r}, format="parquet", out={str(work / f"spark{cores}")!r}, force=True,
                         rows={{{", ".join(f"{t!r}: {scaled(n, scale)}" for t, n in TABLES.items())}}},
                         engine="spark", spark=spark, record_run=False)
    times.append(r.manifest["timings"]["total_s"])
    others.append(max(0.0, machine_busy_s() - busy - (tree_cpu_s(os.getpid()) - own)))
best = min(range(1, len(times)), key=times.__getitem__)
print(json.dumps({{"session_s": start, "first_s": times[0], "warm_s": times[best], "first_others_s": others[0],
                  "warm_others_s": others[best]}}))
spark.stop()
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", 0.02)))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 1)))
    a = ap.parse_args()
    rows = sum(scaled(n, a.scale) for n in TABLES.values())
    work = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    try:
        local = {w: min(local_run(work / f"local{w}", a.scale, w) for _ in range(a.runs)) for w in (1, 2)}  # the fastest
        spark = {c: spark_runs(work, a.scale, c, a.runs) for c in (1, 2)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rate = {f"local engine, {w} worker(s)": round(rows / s) for w, (s, _) in local.items()}
    others = {f"local engine, {w} worker(s)": round(o, 1) for w, (_, o) in local.items()}
    for c, v in spark.items():
        for run, key in (("first run on a new session", "first"), ("session warm", "warm")):
            rate[f"Spark local[{c}], {run}"] = round(rows / v[f"{key}_s"])
            others[f"Spark local[{c}], {run}"] = round(v[f"{key}_others_s"], 1)
    local2 = rate["local engine, 2 worker(s)"]
    ratios = {}
    for run in ("first run on a new session", "session warm"):
        one, two = rate[f"Spark local[1], {run}"], rate[f"Spark local[2], {run}"]
        ratios[f"Spark local[2] / local engine (2 workers), {run}"] = round(two / local2, 2)
        ratios[f"Spark rows/s per core, 2 cores / 1 core, {run}"] = round(two / 2 / one, 2)
    result = {
        "scale": a.scale, "rows": rows, "runs": a.runs, "rows_per_s": rate, "other_processes_cpu_s": others,
        "spark_session_start_s": {f"local[{c}]": round(v["session_s"], 1) for c, v in spark.items()},
        "ratios": ratios,
        "measured_at": time.strftime("%Y-%m-%d"),
    }
    text = json.dumps(result, indent=2)
    print(text)
    (BENCH / "results-spark.json").write_text(text + "\n")
    lines = [f"# Spark vs the local engine — reference workload, {rows:,} rows, Parquet", "",
             "| run | rows/s | other processes' CPU meanwhile (core-s) |", "| --- | ---: | ---: |"]
    lines += [f"| {k} | {v:,} | {others[k]} |" for k, v in rate.items()]
    lines += ["", "| ratio | |", "| --- | ---: |"] + [f"| {k} | {v} |" for k, v in result["ratios"].items()]
    lines += ["", "Session start (not counted): " + ", ".join(f"{k} {v} s" for k, v in
                                                           result["spark_session_start_s"].items())]
    (BENCH / "results-spark.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
