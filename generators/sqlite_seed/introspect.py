"""An SQLite database file read back as the DDL that created it (``datagen import db``).

SQLite keeps each table's ``CREATE TABLE`` text as written (``sqlite_master.sql``), so the SQL
importer reads a database file exactly as it reads a DDL file in SQLite's dialect; the row
counts come with it (the imported schema's default rows).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from generators.common.sql_target import quote_identifier
from shared.errors import UsageError


def introspect(path: Path, tables: list[str] | None = None) -> tuple[str, dict[str, int], list[str]]:
    """(DDL, rows per table, table names) of ``tables`` (default: every table) in the file."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file (import db takes a PostgreSQL DSN or an SQLite database file)")
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            found = {name: sql for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                "ORDER BY rowid")}
            if tables is not None:
                missing = [t for t in tables if t not in found]
                if missing:
                    raise UsageError(f"{path}: no table {', '.join(missing)}; tables: {', '.join(found) or 'none'}")
                found = {t: found[t] for t in tables}
            rows = {name: conn.execute(f"SELECT count(*) FROM {quote_identifier(name)}").fetchone()[0]
                    for name in found}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"{path}: not an SQLite database ({exc})") from None
    return "\n\n".join(sql.rstrip().rstrip(";") + ";" for sql in found.values()) + "\n", rows, list(found)
