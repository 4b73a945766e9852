"""``datagen targets test`` for a PostgreSQL target: can we reach it, how fast, which server, and
may this role create, truncate and insert where a run would write?"""

from __future__ import annotations

import time
from typing import Any

from generators.postgres_target.connection import connect, describe, redact
from generators.postgres_target.ddl import qualified as ddl_qualified


def probe(dsn: str, db_schema: str, tables: list[str] | None = None) -> dict[str, Any]:
    """A report (never an exception for a refused connection: ``reachable: false`` and the error).
    ``tables``: the tables a run would load (a schema's); default every table of ``db_schema``."""
    import psycopg

    from shared.errors import OutputError

    t0 = time.perf_counter()
    out: dict[str, Any] = {"target": redact(dsn), "db_schema": db_schema, "reachable": False}
    try:
        conn = connect(dsn, autocommit=True)
    except OutputError as exc:
        out["error"] = str(exc)
        return out
    try:
        out["connect_ms"] = round(1000 * (time.perf_counter() - t0), 1)
        t1 = time.perf_counter()
        conn.execute("SELECT 1").fetchone()
        out["latency_ms"] = round(1000 * (time.perf_counter() - t1), 2)
        out["reachable"] = True
        out["server_version"] = conn.execute("SHOW server_version").fetchone()[0]
        out["user"], out["database"] = conn.execute("SELECT current_user, current_database()").fetchone()
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (db_schema,)).fetchone() is not None
        out["schema_exists"] = exists
        out["can_create"] = bool(exists and conn.execute("SELECT has_schema_privilege(%s, 'CREATE')",
                                                         (db_schema,)).fetchone()[0])
        present = [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY 1", (db_schema,)).fetchall()]
        wanted = present if tables is None else [t for t in tables if t in present]
        per = {}
        for t in wanted:
            qualified = ddl_qualified(db_schema, t)
            ins, trunc = conn.execute("SELECT has_table_privilege(%s, 'INSERT'), has_table_privilege(%s, 'TRUNCATE')",
                                      (qualified, qualified)).fetchone()
            per[t] = {"insert": bool(ins), "truncate": bool(trunc)}
        out["tables"] = per
        if tables is not None:
            out["missing_tables"] = [t for t in tables if t not in present]
        out["can_insert"] = all(v["insert"] for v in per.values()) if per else None
        out["can_truncate"] = all(v["truncate"] for v in per.values()) if per else None
    except psycopg.Error as exc:
        out["error"] = describe(exc)
    finally:
        conn.close()
    return out
