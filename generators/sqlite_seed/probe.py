"""``datagen targets test`` for an SQLite target: the file opens as a database, and may be written."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any


def probe(path: Path, tables: list[str] | None = None) -> dict[str, Any]:
    """A report like PostgreSQL's (``generators.postgres_target.probe``): reachable, latency, the
    SQLite library's version, and the rights (the file's and its folder's write permission)."""
    out: dict[str, Any] = {"target": str(path), "reachable": False}
    if not path.is_file():
        out["error"] = f"{path}: no such file (an SQLite target is an existing database file)"
        return out
    t0 = time.perf_counter()
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            present = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        out["error"] = f"{path}: {exc}"
        return out
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    out.update({"reachable": True, "latency_ms": round(1000 * (time.perf_counter() - t0), 2),
                "server_version": sqlite3.sqlite_version, "can_create": writable, "can_insert": writable,
                "can_truncate": writable,
                "tables": {t: {"insert": writable, "truncate": writable}
                           for t in (present if tables is None else [t for t in tables if t in present])}})
    if tables is not None:
        out["missing_tables"] = [t for t in tables if t not in present]
    return out
