"""The reference workload written by hand with numpy + pyarrow: the baseline datagen is measured against.

What a competent engineer would write for this one workload in an afternoon: one process, one
``numpy.random.Generator`` drawn in chunks, Faker only to fill the two name pools once (cached on
disk like datagen's pools), Arrow compute kernels for the strings, and pyarrow's own writers
(Parquet snappy in row groups of ``CHUNK`` rows, or CSV). The customers' ``signup_ts`` stay in
memory (8 bytes per customer) so orders can add days to their customer's signup.

    python -m bench.handvec --format parquet|csv|none --scale 0.02 --out bench/out/handvec

Same writer settings as datagen's defaults: snappy, row groups of 262,144 rows, dictionary encoding
for the columns ``dictionary=auto`` picks. Differences from datagen, in the baseline's favour: no
determinism across chunk sizes, no truncated normal (age is clipped), no uniqueness bookkeeping, no
manifest or atomic swap, and CSV timestamps written without the ``Z`` (pyarrow's text cast of tz-
aware timestamps is ~40x slower than of naive ones, so a hand-tuned program sidesteps it).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq

from bench.common import OUT, REF_CUSTOMERS, REF_ORDERS, dir_bytes, report, scaled

CHUNK = 1 << 18
POOL = 20_000  # datagen's default pool size (realistic profile)
COUNTRIES = ["US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "SE", "NO", "DK", "FI", "PL", "PT", "IE", "AT",
             "CH", "CA", "AU", "NZ"]
COUNTRY_W = np.array([30, 10, 9, 8, 6, 6, 4, 3, 3, 2, 2, 2, 3, 2, 2, 2, 2, 2, 1, 1], dtype=float)
STATUSES = ["new", "paid", "shipped", "delivered", "cancelled"]
STATUS_W = np.array([10, 30, 20, 35, 5], dtype=float)
T0 = np.datetime64("2020-01-01T00:00:00", "us").astype(np.int64)
T1 = np.datetime64("2024-12-31T00:00:00", "us").astype(np.int64)
DAY_US = 86_400_000_000
TS = pa.timestamp("us", tz="UTC")
#: dictionary-encoded Parquet columns: the ones datagen's default (dictionary=auto) picks, since a
#: hand-tuned program would not build dictionaries for random numbers and timestamps either
DICTIONARY = {"first_name", "last_name", "email", "age", "country", "is_active", "status"}


def name_pools(seed: int) -> tuple[pa.Array, pa.Array]:
    """First and last name pools from Faker, built once and cached in bench/out."""
    cache = OUT / f".handvec-pools-{seed}-{POOL}.arrow"
    if cache.exists():
        t = feather.read_table(cache)
        return t["first"].combine_chunks(), t["last"].combine_chunks()
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    t = pa.table({"first": [fake.first_name() for _ in range(POOL)], "last": [fake.last_name() for _ in range(POOL)]})
    cache.parent.mkdir(parents=True, exist_ok=True)
    feather.write_feather(t, cache)
    return t["first"].combine_chunks(), t["last"].combine_chunks()


def customers(rng: np.random.Generator, start: int, n: int, first: pa.Array, last: pa.Array):
    cid = np.arange(start + 1, start + n + 1, dtype=np.int64)
    fn = first.take(rng.integers(0, len(first), n))
    ln = last.take(rng.integers(0, len(last), n))
    email = pc.utf8_lower(pc.binary_join_element_wise(fn, ".", ln, ".", pc.cast(pa.array(cid), pa.string()),
                                                      "@example.com", ""))
    age = np.clip(np.rint(rng.normal(40, 12, n)), 18, 90).astype(np.int32)
    country = pa.array(COUNTRIES).take(rng.choice(len(COUNTRIES), n, p=COUNTRY_W / COUNTRY_W.sum()))
    signup = rng.integers(T0, T1 + 1, n)
    return pa.record_batch({
        "customer_id": cid, "first_name": fn, "last_name": ln, "email": email, "age": age, "country": country,
        "signup_ts": pa.array(signup, TS), "balance": rng.lognormal(6.0, 1.2, n), "is_active": rng.random(n) < 0.8,
    }), signup


def orders(rng: np.random.Generator, start: int, n: int, signup: np.ndarray):
    cust = rng.integers(0, len(signup), n)
    created = signup[cust] + (rng.random(n) * (30 * DAY_US)).astype(np.int64)
    return pa.record_batch({
        "order_id": np.arange(start + 1, start + n + 1, dtype=np.int64), "customer_id": cust + 1,
        "amount": rng.gamma(2.0, 25.0, n),
        "status": pa.array(STATUSES).take(rng.choice(len(STATUSES), n, p=STATUS_W / STATUS_W.sum())),
        "created_at": pa.array(created, TS),
    })


class _Sink:
    """One table's output: a Parquet or CSV writer opened on the first batch, or nothing."""

    def __init__(self, fmt: str, out: Path, table: str):
        self.fmt, self.path, self.w = fmt, out / f"{table}.{fmt}", None

    def write(self, batch: pa.RecordBatch) -> None:
        if self.fmt == "none":
            return
        if self.fmt == "csv":  # UTC written naive: pyarrow formats tz-aware timestamps ~40x slower
            batch = batch.cast(pa.schema([f.with_type(pa.timestamp("us")) if f.type == TS else f for f in batch.schema]))
        if self.w is None:
            self.w = (pq.ParquetWriter(self.path, batch.schema, compression="snappy",
                                       use_dictionary=[n for n in batch.schema.names if n in DICTIONARY])
                      if self.fmt == "parquet" else pacsv.CSVWriter(self.path, batch.schema))
        if self.fmt == "parquet":
            self.w.write_batch(batch, row_group_size=CHUNK)
        else:
            self.w.write_batch(batch)

    def close(self) -> None:
        if self.w is not None:
            self.w.close()


def run(fmt: str, n_customers: int, n_orders: int, out: Path, seed: int = 1) -> dict:
    t0 = time.perf_counter()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    first, last = name_pools(seed)
    timings = {}
    sink = _Sink(fmt, out, "customers")
    signup = np.empty(n_customers, dtype=np.int64)
    for s in range(0, n_customers, CHUNK):
        batch, signup[s:s + CHUNK] = customers(rng, s, min(CHUNK, n_customers - s), first, last)
        sink.write(batch)
    sink.close()
    timings["customers"] = time.perf_counter() - t0
    sink = _Sink(fmt, out, "orders")
    for s in range(0, n_orders, CHUNK):
        sink.write(orders(rng, s, min(CHUNK, n_orders - s), signup))
    sink.close()
    seconds = time.perf_counter() - t0
    timings["orders"] = seconds - timings["customers"]
    return {"program": "handvec", "format": fmt, "rows": n_customers + n_orders, "seconds": seconds,
            "bytes": dir_bytes(out), "tables_s": timings, "table_rows": {"customers": n_customers, "orders": n_orders}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--format", choices=["parquet", "csv", "none"], default="parquet")
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT / "handvec")
    a = ap.parse_args(argv)
    report(run(a.format, scaled(REF_CUSTOMERS, a.scale), scaled(REF_ORDERS, a.scale), a.out, a.seed))


if __name__ == "__main__":
    main()
