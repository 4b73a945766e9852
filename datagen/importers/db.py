"""``datagen import db DSN_OR_FILE``: a live database's tables as a schema.

PostgreSQL (a ``postgresql://`` URL, a libpq string or a ``targets/*.yaml`` name) is read from its
catalogs and SQLite (a database file) from the DDL it keeps; either way the result is DDL that
the SQL importer turns into the schema, so a database and its DDL file import alike. Each
table's row count becomes its rows (an empty table keeps the importer's default, with a note).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datagen.importers import Finding, Imported, importer
from datagen.importers.sql import import_sql_text
from shared.errors import UsageError


def _names(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [n.strip() for item in items for n in str(item).split(",") if n.strip()]


@importer("db", "a live PostgreSQL database (DSN or targets/*.yaml name) or an SQLite database file", extra="sql")
def import_db(source: str, *, include: str | Iterable[str] | None = None, exclude: str | Iterable[str] | None = None,
              db_schema: str = "public", rows: Any = None, name: str | None = None) -> Imported:
    """The schema of the database ``source``: ``include``/``exclude`` table names (lists or
    comma-separated), ``db_schema`` the PostgreSQL schema to read, ``rows`` as for ``import sql``
    (overrides the row counts), ``name`` the schema's name (default: the database's)."""
    wanted, dropped = _names(include), _names(exclude)
    path = Path(source)
    if path.is_file():
        from generators.sqlite_seed.introspect import introspect as sqlite_introspect

        ddl, counts, tables = sqlite_introspect(path, None)
        dialect, label, default_name = "sqlite", str(path), path.stem
    else:
        from generators.postgres_target.format import resolve_target
        from generators.postgres_target.introspect import introspect as pg_introspect

        try:
            dsn, label, _options = resolve_target(source)
        except UsageError as exc:
            raise UsageError(f"{source}: neither an SQLite database file nor a PostgreSQL DSN or target ({exc}; "
                             f"hint: postgresql://user@host/db, 'host=… dbname=…', or a targets/*.yaml id)") from None
        found = pg_introspect(dsn, db_schema, None)
        ddl, counts, tables, dialect = found.ddl, found.rows, found.tables, "postgres"
        default_name = dsn.rsplit("/", 1)[-1].split("?")[0] if "://" in dsn else "database"
    unknown = [t for t in wanted + dropped if t not in tables]
    if unknown:
        from shared.registry import did_you_mean

        hints = [f"{t!r}" + (f" ({h})" if (h := did_you_mean(t, tables)) else "") for t in unknown]
        raise UsageError(f"{label}: no table {', '.join(hints)}; tables: {', '.join(tables) or 'none'}")
    keep = [t for t in (wanted or tables) if t not in dropped]
    if not keep:
        raise UsageError(f"{label}: no table left to import (--include/--exclude)")
    if keep != tables:  # re-read only the kept tables
        if dialect == "sqlite":
            ddl, counts, _ = sqlite_introspect(path, keep)
        else:
            found = pg_introspect(dsn, db_schema, keep)
            ddl, counts = found.ddl, found.rows
    per_table = {t: n for t, n in counts.items() if n > 0}
    user_default, user_per = _user_rows(rows)
    rows_option = {**(per_table if user_default is None else {}), **user_per}
    result = import_sql_text(ddl, dialect=dialect, rows=_rows_list(rows_option, user_default),
                             name=name or default_name, file=f"{label} (introspected DDL)")
    result.notes.insert(0, Finding(f"read from {'SQLite file' if dialect == 'sqlite' else 'PostgreSQL'} {label}: "
                                   f"{len(keep)} table(s); rows are the tables' row counts"))
    for t in keep:
        if counts.get(t, 0) == 0 and t not in user_per:
            result.notes.append(Finding("the table is empty: rows left at the importer's default", where=t))
    return result


def _user_rows(rows: Any) -> tuple[int | None, dict[str, int]]:
    """``rows`` as ``import sql`` takes it, split into (for every table, per table)."""
    if rows is None:
        return None, {}
    if isinstance(rows, int):
        return rows, {}
    if isinstance(rows, dict):
        return None, {str(k): int(v) for k, v in rows.items()}
    default, per = None, {}
    for item in [rows] if isinstance(rows, str) else list(rows):
        text = str(item)
        if "=" in text:
            k, v = text.split("=", 1)
            per[k.strip()] = _count(v, text)
        else:
            default = _count(text, text)
    return default, per


def _count(value: str, item: str) -> int:
    try:
        n = int(value.strip())
    except ValueError:
        raise UsageError(f"--rows {item!r}: give N or TABLE=N") from None
    if n < 0:
        raise UsageError(f"--rows {item!r}: a count cannot be negative")
    return n


def _rows_list(per: dict[str, int], default: int | None) -> list[str]:
    return ([str(default)] if default is not None else []) + [f"{t}={n}" for t, n in per.items()]
