"""SDV's side of ``python -m bench.fit``: fit and sample one SDV synthesizer, in SDV's own venv.

    .venv-sdv/bin/python bench/sdv_peer.py --model gaussian_copula --real DIR --out DIR [--rows N]

``--real``: a folder of Parquet files, one per table (``flights.parquet`` …), written by
bench/fit.py; ``--model``: ``gaussian_copula`` (one table: the first file, or ``--table``) or
``hma`` (every file, with the relationships given as ``--relationships`` JSON). Writes the
synthetic tables as Parquet into ``--out`` and prints one JSON line: fit and sample seconds and
the peak RSS of this process. Imports nothing of datagen (SDV needs pandas<3; datagen pins 3).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd


def _metadata_single(df: pd.DataFrame, name: str):
    from sdv.metadata import Metadata

    return Metadata.detect_from_dataframes({name: df}, infer_keys=None)


def _metadata_multi(frames: dict[str, pd.DataFrame], relationships: list[dict], keys: dict[str, str]):
    from sdv.metadata import Metadata

    meta = Metadata.detect_from_dataframes(frames, infer_keys=None)  # the keys and relationships: the bench's
    for table, key in keys.items():
        meta.update_column(table_name=table, column_name=key, sdtype="id")
        meta.set_primary_key(table_name=table, column_name=key)
    for r in relationships:
        meta.update_column(table_name=r["child_table_name"], column_name=r["child_foreign_key"], sdtype="id")
        meta.add_relationship(**r)
    return meta


def peak_rss_mib() -> int:
    """This process's own peak RSS (VmHWM; bench/fit.py measures datagen's side with it too):
    getrusage's ru_maxrss keeps the parent's across fork and exec, so a child of a large process
    would report the parent's."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", choices=("gaussian_copula", "hma"), required=True)
    ap.add_argument("--real", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--table", default="flights")
    ap.add_argument("--relationships", default="[]")
    ap.add_argument("--keys", default="{}")
    args = ap.parse_args()
    real = Path(args.real)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.model == "gaussian_copula":
        from sdv.single_table import GaussianCopulaSynthesizer

        df = pd.read_parquet(real / f"{args.table}.parquet")
        synth = GaussianCopulaSynthesizer(_metadata_single(df, args.table))
        t0 = time.perf_counter()
        synth.fit({args.table: df})  # SDV 2: a single table is a one-entry mapping too
        t1 = time.perf_counter()
        syn = synth.sample(num_rows=len(df))
        t2 = time.perf_counter()
        if isinstance(syn, dict):
            syn = syn[args.table]
        syn.to_parquet(out / f"{args.table}.parquet")
    else:
        from sdv.multi_table import HMASynthesizer

        frames = {p.stem: pd.read_parquet(p) for p in sorted(real.glob("*.parquet"))}
        keys = {t: k for t, k in json.loads(args.keys).items() if t in frames}
        synth = HMASynthesizer(_metadata_multi(frames, json.loads(args.relationships), keys))
        t0 = time.perf_counter()
        synth.fit(frames)
        t1 = time.perf_counter()
        got = synth.sample(num_rows=len(frames[args.table]), main_table_name=args.table)  # SDV 2: rows of the main table
        t2 = time.perf_counter()
        for name, df in got.items():
            df.to_parquet(out / f"{name}.parquet")
    print(json.dumps({"model": args.model, "fit_s": round(t1 - t0, 2), "sample_s": round(t2 - t1, 2),
                      "peak_rss_mib": peak_rss_mib()}), flush=True)


if __name__ == "__main__":
    main()
