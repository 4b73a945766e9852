"""What every benchmark program shares: paths, the reference row counts, and the one-line JSON report.

Each program (``bench.measure``, ``bench.handvec``, ``bench.faker_loop``) runs as its own process
and ends by printing one JSON line with its own figures and peak RSS (``report``), which
``bench.run`` parses. Peak RSS comes from ``getrusage``: ``RUSAGE_SELF`` for the process and
``RUSAGE_CHILDREN`` for its largest worker (ru_maxrss is KiB on Linux).
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SCHEMAS = BENCH / "schemas"
OUT = BENCH / "out"

#: the reference workload at full scale (bench/schemas/reference.yaml)
REF_CUSTOMERS = 10_000_000
REF_ORDERS = 50_000_000


def scaled(n: int, scale: float) -> int:
    """Row count at ``scale``, rounded like the planner does."""
    return max(1, int(round(n * scale)))


def dir_bytes(path: Path) -> int:
    """Bytes of every file under ``path`` (datagen's manifest excluded)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and p.name != "manifest.json")


def peak_rss_mib() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"rss_mib": round(own, 1), "rss_worker_mib": round(kids, 1)}


def report(result: dict) -> None:
    """Print the result as the last stdout line, with this process's peak RSS added."""
    result = {**result, **peak_rss_mib(), "pid": os.getpid()}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
