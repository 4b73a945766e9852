"""Loading PostgreSQL: datagen's COPY against the server's own ``COPY … FROM 'file.csv'`` and
against sdgen's approach (``executemany`` in batches of 1,000), same run, same rows.

    python -m bench.postgres [--rows 2000000] [--runs 1] [--executemany-rows 50000] [--reference-scale 0.2]

A throw-away cluster with PostgreSQL's default settings (``tests/pg_server.py``, durable: fsync,
full-page writes and synchronous commit on) on this machine. The table is the reference
workload's customers plus a tier (10 columns, ``bench/schemas/pg_customers*.yaml``):

* without keys — server ``COPY FROM 'file'`` (the CSV datagen wrote; the file's own generation
  not counted) vs ``datagen generate --format postgres`` with 1 and 2 workers (generation
  included), in binary COPY (the default) and, with 2 workers, in CSV text (``copy=text``);
* with the primary key and the unique email — server ``COPY`` into the table with both indexes
  vs datagen with the keys declared up front, and with ``--defer-constraints``;
* ``executemany`` of 1,000-row batches (psycopg, the rows as Python tuples) on a prefix;
* the client's peak RSS at ``--rows`` and twice as many (flat in the row count);
* the reference workload (customers ─< orders, ``bench/schemas/reference.yaml`` at
  ``--reference-scale``, 0.2 = 2M customers + 10M orders) with 2 workers and
  ``--defer-constraints``, over one connection (``--option streams=1``) and in parallel streams
  (a connection per table, the default): the orders stream while customers' keys are built.

Each datagen run is its own process (``python -m datagen``), timed by its manifest (the run from
its plan to the last commit: the server's COPY is timed without psql's start either); the
process's wall time, interpreter start and imports included, is in ``wall_s``; its peak RSS
from ``wait4``. Prints a JSON report and writes ``bench/results-postgres.json`` and
``bench/results-postgres.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import BENCH, ROOT, SCHEMAS

KEYED = SCHEMAS / "pg_customers.yaml"
PLAIN = SCHEMAS / "pg_customers_plain.yaml"
REFERENCE = SCHEMAS / "reference.yaml"
COLUMNS = ("customer_id bigint, first_name text, last_name text, email text, age integer, country text, "
           "signup_ts timestamptz, balance double precision, is_active boolean, tier text")


def run_datagen(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one ``python -m datagen`` run (``wait4``: the child's own RSS)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATAGEN_RUNS_DB": str(Path(tempfile.gettempdir()) / "bench-runs.db")}
    t0 = time.perf_counter()
    pid = os.posix_spawn(sys.executable, [sys.executable, "-P", "-m", "datagen", *map(str, args), "-q"], env)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"datagen {' '.join(map(str, args))} exited {os.waitstatus_to_exitcode(status)}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_PG_ROWS", 2_000_000)))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 1)))
    ap.add_argument("--executemany-rows", type=int, default=50_000)
    ap.add_argument("--reference-scale", type=float, default=0.2, help="0 leaves the reference workload out")
    ap.add_argument("--only-reference", action="store_true", help="only the reference workload's two runs")
    a = ap.parse_args()

    import psycopg

    from tests import pg_server

    server = pg_server.start(durable=True)
    work = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    os.chmod(work, 0o755)  # the server reads the CSV as its own user
    results: dict = {"rows": a.rows, "runs": a.runs, "server": None, "figures": {}}
    try:
        with server.connect() as conn:
            results["server"] = conn.execute("SHOW server_version").fetchone()[0]
        n = a.rows

        def fresh(name: str) -> str:
            return server.create_database(name)

        def best(fn, runs=a.runs):
            return min(fn() for _ in range(runs))

        # the rows as CSV, written by datagen, for the server's own COPY
        csv_out = work / "csv"
        subprocess.run([sys.executable, "-P", "-m", "datagen", "generate", "--format", "csv", "--schema", PLAIN,
                        "--rows", f"customers={n}", "--out", csv_out, "-q"],
                       env={**os.environ, "PYTHONPATH": str(ROOT),
                            "DATAGEN_RUNS_DB": str(work / "runs.db")}, check=True)
        csv_file = next(csv_out.glob("customers*.csv"))
        os.chmod(csv_file, 0o644)
        os.chmod(csv_out, 0o755)

        def server_copy(keys: bool) -> float:
            dsn = fresh("b_server")
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"CREATE TABLE customers ({COLUMNS}"
                             + (", PRIMARY KEY (customer_id), UNIQUE (email))" if keys else ")"))
                t0 = time.perf_counter()
                conn.execute(f"COPY customers FROM '{csv_file}' WITH (FORMAT csv, HEADER true)")
                return time.perf_counter() - t0

        def reference(streams: str) -> float:
            """The reference workload with its keys deferred, its run's seconds."""
            dsn = fresh("b_reference")
            wall, _ = run_datagen(["generate", "--format", "postgres", "--schema", REFERENCE, "--target", dsn,
                                   "--scale", a.reference_scale, "--out", work / "r", "--force", "--workers", 2,
                                   "--defer-constraints", "--option", f"streams={streams}"])
            manifest = json.loads((work / "r" / "manifest.json").read_text())
            results.setdefault("wall_s", []).append({"args": ["reference.yaml", a.reference_scale, streams],
                                                     "wall_s": round(wall, 3),
                                                     "run_s": manifest["timings"]["total_s"]})
            results.setdefault("reference_rows", sum(manifest["rows"].values()))
            return manifest["timings"]["total_s"]

        def ours(schema: Path, workers: int, rows: int = n, *extra: str) -> tuple[float, float]:
            """(seconds of the run itself — the manifest's total, from the plan to the last commit,
            as the server's COPY is timed without starting psql —, peak RSS); the process's wall
            time, imports and start included, goes to ``wall``."""
            dsn = fresh("b_datagen")
            wall, rss = run_datagen(["generate", "--format", "postgres", "--schema", schema, "--target", dsn,
                                     "--rows", f"customers={rows}", "--out", work / "o", "--force", "--workers",
                                     workers, *extra])
            seconds = json.loads((work / "o" / "manifest.json").read_text())["timings"]["total_s"]
            results.setdefault("wall_s", []).append({"args": [str(schema.name), workers, rows, *extra],
                                                     "wall_s": round(wall, 3), "run_s": seconds})
            return seconds, rss

        fig = results["figures"]
        if a.reference_scale > 0:
            fig["reference_one_connection_s"] = min(reference("1") for _ in range(a.runs))
            fig["reference_streams_s"] = min(reference("auto") for _ in range(a.runs))
        if a.only_reference:
            print(json.dumps(results, indent=2))
            return
        fig["server_copy_plain_s"] = best(lambda: server_copy(False))
        fig["datagen_plain_w1_s"], fig["datagen_plain_w1_rss_mib"] = min(ours(PLAIN, 1) for _ in range(a.runs))
        fig["datagen_plain_w2_s"], fig["datagen_plain_w2_rss_mib"] = min(ours(PLAIN, 2) for _ in range(a.runs))
        fig["datagen_plain_w2_text_s"], _ = min(ours(PLAIN, 2, n, "--option", "copy=text") for _ in range(a.runs))
        fig["server_copy_keys_s"] = best(lambda: server_copy(True))
        fig["datagen_keys_w2_s"], _ = min(ours(KEYED, 2) for _ in range(a.runs))
        fig["datagen_keys_deferred_w2_s"], _ = min(ours(KEYED, 2, n, "--defer-constraints") for _ in range(a.runs))
        fig["datagen_plain_w2_2x_s"], fig["datagen_plain_w2_2x_rss_mib"] = ours(PLAIN, 2, 2 * n)

        # sdgen's way: rows as Python tuples, executemany in batches of 1,000 (a prefix of the rows)
        import pyarrow.csv as pcsv

        m = min(a.executemany_rows, n)
        table = pcsv.read_csv(csv_file).slice(0, m)
        rows = list(zip(*[c.to_pylist() for c in table.columns], strict=True))
        dsn = fresh("b_executemany")
        with psycopg.connect(dsn) as conn:
            conn.execute(f"CREATE TABLE customers ({COLUMNS})")
            conn.commit()
            sql = f"INSERT INTO customers VALUES ({', '.join(['%s'] * len(table.columns))})"
            t0 = time.perf_counter()
            with conn.cursor() as cur:
                for i in range(0, m, 1000):
                    cur.executemany(sql, rows[i:i + 1000])
            conn.commit()
            fig["executemany_rows"] = m
            fig["executemany_s"] = time.perf_counter() - t0

        def rate(rows_: int, s: float) -> float:
            return round(rows_ / s)

        results["rows_per_s"] = {
            "server COPY FROM 'file' (no keys)": rate(n, fig["server_copy_plain_s"]),
            "datagen, 1 worker (no keys)": rate(n, fig["datagen_plain_w1_s"]),
            "datagen, 2 workers (no keys)": rate(n, fig["datagen_plain_w2_s"]),
            "datagen, 2 workers, CSV text COPY (no keys)": rate(n, fig["datagen_plain_w2_text_s"]),
            "server COPY FROM 'file' (primary key + unique email)": rate(n, fig["server_copy_keys_s"]),
            "datagen, 2 workers (keys declared)": rate(n, fig["datagen_keys_w2_s"]),
            "datagen, 2 workers, --defer-constraints": rate(n, fig["datagen_keys_deferred_w2_s"]),
            "executemany, batches of 1,000": rate(m, fig["executemany_s"]),
        }
        if a.reference_scale > 0:
            nr = results["reference_rows"]
            results["rows_per_s"] |= {
                f"reference {nr:,} rows, 2 workers, deferred keys, one connection": rate(
                    nr, fig["reference_one_connection_s"]),
                f"reference {nr:,} rows, 2 workers, deferred keys, parallel streams": rate(
                    nr, fig["reference_streams_s"]),
            }
        r = results["rows_per_s"]
        results["ratios"] = {
            "datagen 2w / server COPY (no keys)": round(r["datagen, 2 workers (no keys)"]
                                                        / r["server COPY FROM 'file' (no keys)"], 2),
            "datagen deferred / server COPY (keys)": round(r["datagen, 2 workers, --defer-constraints"]
                                                           / r["server COPY FROM 'file' (primary key + unique email)"],
                                                           2),
            "datagen 2w / executemany": round(r["datagen, 2 workers (no keys)"] / r["executemany, batches of 1,000"], 1),
            "binary / CSV text COPY (2 workers)": round(r["datagen, 2 workers (no keys)"]
                                                        / r["datagen, 2 workers, CSV text COPY (no keys)"], 2),
            "2 workers / 1 worker": round(r["datagen, 2 workers (no keys)"] / r["datagen, 1 worker (no keys)"], 2),
            "client peak RSS at 2× rows / 1× rows": round(fig["datagen_plain_w2_2x_rss_mib"]
                                                           / fig["datagen_plain_w2_rss_mib"], 2),
        }
        if a.reference_scale > 0:
            results["ratios"]["reference: parallel streams / one connection"] = round(
                fig["reference_one_connection_s"] / fig["reference_streams_s"], 2)
    finally:
        pg_server.stop(server)
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(results, indent=2)
    print(text)
    (BENCH / "results-postgres.json").write_text(text + "\n")
    lines = [f"# PostgreSQL load — {results['rows']:,} rows, PostgreSQL {results['server']}, default settings", "",
             "| load | rows/s |", "| --- | ---: |"]
    lines += [f"| {k} | {v:,} |" for k, v in results["rows_per_s"].items()]
    lines += ["", "| ratio | |", "| --- | ---: |"] + [f"| {k} | {v} |" for k, v in results["ratios"].items()]
    lines += ["", f"Client peak RSS: {results['figures']['datagen_plain_w2_rss_mib']:.0f} MiB at {results['rows']:,} "
              f"rows, {results['figures']['datagen_plain_w2_2x_rss_mib']:.0f} MiB at {2 * results['rows']:,}."]
    (BENCH / "results-postgres.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
