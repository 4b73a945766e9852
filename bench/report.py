"""bench/results.json → the markdown tables of bench/results.md (also pasted into docs/performance.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

GIB = 1024.0


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head: list[str], rows: list[list]) -> list[str]:
    return [_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows), ""]


def _n(x) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:,.2f}" if isinstance(x, float) else str(x)


def _rss(r: dict) -> str:
    return f"{r['rss_mib']:.0f}" + (f" + {r['workers']}×{r['rss_worker_mib']:.0f}" if r["workers"] > 1 else "")


def _get(results, **kw) -> dict | None:
    return next((r for r in results if all(r.get(k) == v for k, v in kw.items())), None)


def targets(doc: dict) -> list[list]:
    res, scale = doc["results"], doc["settings"]["scale"]
    n = max(doc["settings"]["workers"])
    ref = {(r["format"], r["workers"]): r for r in res
           if r["program"] == "datagen" and r["workload"] == "reference" and r["scale"] == scale}
    out = []

    def add(name, value, ok):
        out.append([name, value, "yes" if ok else "**no**"])

    for fmt in ("parquet", "csv"):
        r = ref.get((fmt, 1))
        if r and "time_vs_handvec" in r:
            add(f"1 worker, {fmt}: time ≤ 1.5× handvec", f"{r['time_vs_handvec']:.2f}×", r["time_vs_handvec"] <= 1.5)
    for fmt in ("parquet", "csv"):
        r = ref.get((fmt, n))
        if n > 1 and r and "time_vs_handvec" in r:
            add(f"{n} workers, {fmt}: faster than 1-process handvec", f"{r['time_vs_handvec']:.2f}× its time",
                r["time_vs_handvec"] < 1)
    for fmt in ("csv", "parquet"):
        for w in sorted({1, n}):
            r = ref.get((fmt, w))
            if r and "rows_per_s_vs_faker" in r:
                add(f"≥ 300× the Faker loop's rows/s (whole workload → {fmt}, {w} worker{'s' if w > 1 else ''})",
                    f"{r['rows_per_s_vs_faker']:.0f}× (customers alone {r['customers_rows_per_s_vs_faker']:.0f}×)",
                    r["rows_per_s_vs_faker"] >= 300)
    for w in sorted({1, n}):
        mem, pq = ref.get(("memory", w)), ref.get(("parquet", w))
        if mem and pq:
            share = mem["rows_per_s"] / pq["rows_per_s"]
            add(f"in memory (pandas) ≥ 70 % of Parquet's rows/s ({w} worker{'s' if w > 1 else ''})",
                f"{share:.0%}", share >= 0.7)
        if mem and mem.get("frames_mib"):
            growth = (mem["rss_mib"] - mem["rss_before_mib"]) / mem["frames_mib"]
            add(f"in memory: peak growth ≤ 1.5× the DataFrames ({w} worker{'s' if w > 1 else ''})",
                f"{growth:.2f}× of {mem['frames_mib']:,.0f} MiB", growth <= 1.5)
    rss = doc.get("rss") or []
    if rss:
        big = rss[-1]
        add(f"peak RSS < 1 GiB at {big['orders_rows']:,} rows (Parquet, 1 worker)", f"{big['rss_mib']:.0f} MiB",
            big["rss_mib"] < GIB)
        if len(rss) > 1:
            grow = big["rss_mib"] / rss[0]["rss_mib"]
            add(f"RSS flat in rows ({rss[0]['orders_rows']:,} → {big['orders_rows']:,})", f"{grow:.2f}×", grow < 1.25)
    # the memory sink holds the whole dataset by design: its own target is growth against the frames
    worst = max((r["rss_mib"] + (r["workers"] if r["workers"] > 1 else 0) * r["rss_worker_mib"] for r in res
                 if r["program"] == "datagen" and r["format"] != "memory"), default=0)
    add("peak RSS < 1 GiB in every datagen run writing files (main + workers)", f"{worst:.0f} MiB", worst < GIB)
    b = doc.get("bootstrap")
    if b:
        add("bootstrap adds < 0.5 s (dry run − bare python3)", f"{b['dry_run_overhead_s']:.3f} s",
            b["dry_run_overhead_s"] < 0.5)
    return out


def write_markdown(doc: dict) -> str:
    s, m, res = doc["settings"], doc["machine"], doc["results"]
    scale = s["scale"]
    scales = f"scale {scale}" + (f"; other workloads and json/ndjson/sqlite at {s['other_scale']}"
                                  if s.get("other_scale", scale) != scale else "")
    lines = [f"# Benchmark results ({scales})", "",
             f"`{doc['command']}` — {doc['generated_at']}, {doc['wall_s']} s. Medians of {s['runs']} runs, "
             "interleaved; every ratio compares medians of this same invocation. Time runs from loading the schema "
             "to the last byte written (interpreter start and imports excluded). MB = 10^6 bytes of output; "
             "peak RSS in MiB (main process + each worker).", "",
             f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['mem_mib']} MiB; {m['platform']}; Python {m['python']}, "
             f"numpy {m['numpy']}, pyarrow {m['pyarrow']}, Faker {m['faker']}; commit {m['commit']}; "
             f"load average {m['loadavg_start'][0]:.1f} at start, {m['loadavg_end'][0]:.1f} at end.", ""]
    if s.get("skipped_formats"):
        lines += [f"Skipped (no frontend yet): {', '.join(s['skipped_formats'])}.", ""]
    lines += ["## Targets (reference workload)", ""]
    lines += _table(["target", "measured", "met"], targets(doc))
    other_scale = s.get("other_scale", scale)
    ref = [r for r in res if r["workload"] == "reference" and (
        r["scale"] == scale or r["program"] == "faker_loop"
        or (r["scale"] == other_scale and r["format"] in ("json", "ndjson", "sqlite")))]
    ref.sort(key=lambda r: (r["program"] != "faker_loop", r["program"] != "handvec", r["format"], r["workers"]))
    lines += ["## Reference workload", ""]
    lines += _table(
        ["program", "format", "workers", "rows", "time s", "rows/s", "MB/s", "peak RSS MiB", "time ÷ handvec",
         "rows/s × Faker loop", "customers rows/s × Faker loop"],
        [[r["program"], r["format"], r["workers"], _n(r["rows"]), f"{r['seconds']:.2f}", _n(r["rows_per_s"]),
          f"{r['mb_per_s']:.1f}", _rss(r), _n(r.get("time_vs_handvec", "")), _n(r.get("rows_per_s_vs_faker", "")),
          _n(r.get("customers_rows_per_s_vs_faker", ""))] for r in ref])
    other = [r for r in res if r["workload"] != "reference"]
    if other:
        lines += ["## Other workloads", ""]
        lines += _table(["workload", "format", "workers", "rows", "time s", "rows/s", "MB/s", "peak RSS MiB"],
                        [[r["workload"], r["format"], r["workers"], _n(r["rows"]), f"{r['seconds']:.2f}",
                          _n(r["rows_per_s"]), f"{r['mb_per_s']:.1f}", _rss(r)] for r in other])
    curve = sorted((r for r in res if r["workload"] == "reference" and r["format"] == "parquet"
                    and r["program"] in ("datagen", "handvec")), key=lambda r: (r["rows"], r["program"], r["workers"]))
    if curve:
        series = sorted({(r["program"], r["workers"]) for r in curve})
        lines += ["## Throughput against rows and workers (reference, Parquet, rows/s)", ""]
        lines += _table(["rows", *(f"{p} ×{w}" for p, w in series)],
                        [[_n(n), *(_n(next((r["rows_per_s"] for r in curve if r["rows"] == n and (r["program"], r["workers"])
                                                == sw), "")) for sw in series)] for n in sorted({r["rows"] for r in curve})])
    if doc.get("rss"):
        lines += ["## Peak RSS against rows (orders table: 5 columns, fk + expr; Parquet, 1 worker, 1 run)", ""]
        lines += _table(["orders rows", "time s", "rows/s", "peak RSS MiB"],
                        [[_n(r["orders_rows"]), f"{r['seconds']:.2f}", _n(r["rows_per_s"]), f"{r['rss_mib']:.0f}"]
                         for r in doc["rss"]])
    b = doc.get("bootstrap")
    if b:
        med = b["median_s"]
        lines += [f"## Bootstrap (median of {b['runs']}, `{b['python']}`)", ""]
        lines += _table(["`python3 -c pass`", "bootstrap dry run", "bootstrap adds", "describe (venv python)",
                         "describe via bootstrap", "bootstrap adds"],
                        [[f"{med['bare']:.3f} s", f"{med['dry_run']:.3f} s", f"{b['dry_run_overhead_s']:.3f} s",
                          f"{med['describe_direct']:.3f} s", f"{med['describe_bootstrap']:.3f} s",
                          f"{b['describe_overhead_s']:.3f} s"]])
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results.json")
    sys.stdout.write(write_markdown(json.loads(path.read_text(encoding="utf-8"))))
