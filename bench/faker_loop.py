"""The naive baseline: the reference workload's customers, one row at a time with Faker, to CSV.

Every value comes from a per-row Faker or ``random`` call and every row goes through
``csv.writer`` — the loop most people write first. Measured on a small row count (it is slow) and
reported as rows/s.

    python -m bench.faker_loop --rows 20000 --out bench/out/faker_loop.csv
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import time
from pathlib import Path

from bench.common import OUT, dir_bytes, report

COUNTRIES = ["US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "SE", "NO", "DK", "FI", "PL", "PT", "IE", "AT",
             "CH", "CA", "AU", "NZ"]
WEIGHTS = [30, 10, 9, 8, 6, 6, 4, 3, 3, 2, 2, 2, 3, 2, 2, 2, 2, 2, 1, 1]
START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2024, 12, 31, tzinfo=dt.UTC)


def run(n: int, out: Path, seed: int = 1) -> dict:
    from faker import Faker

    t0 = time.perf_counter()
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rnd = fake.random
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "first_name", "last_name", "email", "age", "country", "signup_ts", "balance",
                    "is_active"])
        for i in range(1, n + 1):
            first, last = fake.first_name(), fake.last_name()
            w.writerow([
                i, first, last, f"{first}.{last}.{i}@example.com".lower(),
                min(90, max(18, round(rnd.gauss(40, 12)))),
                rnd.choices(COUNTRIES, WEIGHTS)[0],
                fake.date_time_between(START, END, tzinfo=dt.UTC).isoformat(),
                rnd.lognormvariate(6.0, 1.2),
                rnd.random() < 0.8,
            ])
    seconds = time.perf_counter() - t0
    return {"program": "faker_loop", "format": "csv", "rows": n, "seconds": seconds, "bytes": dir_bytes(out),
            "tables_s": {"customers": seconds}, "table_rows": {"customers": n}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT / "faker_loop.csv")
    a = ap.parse_args(argv)
    report(run(a.rows, a.out, a.seed))


if __name__ == "__main__":
    main()
