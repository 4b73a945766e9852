"""A live PostgreSQL schema read back as the DDL that creates it (``datagen import db``).

The catalogs are read as PostgreSQL itself prints them — ``format_type`` for column types,
``pg_get_expr`` for defaults, ``pg_get_constraintdef`` for keys, references, UNIQUE and CHECK —
and put together as ``CREATE TYPE … AS ENUM`` and ``CREATE TABLE`` statements in PostgreSQL's
dialect, so the SQL importer reads a live database exactly as it reads a DDL file. Row counts
come with it (the imported schema's default rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generators.common.sql_target import quote_identifier, quote_string
from generators.postgres_target.connection import connect, describe
from shared.errors import OutputError

_ENUMS = """
SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = %s GROUP BY t.typname ORDER BY t.typname
"""
_TABLES = """
SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname
"""
_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
       a.attidentity, a.attgenerated
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""
_CONSTRAINTS = """
SELECT conname, pg_get_constraintdef(oid, true) FROM pg_constraint
WHERE conrelid = %s AND contype IN ('p', 'u', 'f', 'c')
ORDER BY CASE contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'c' THEN 2 ELSE 3 END, conname
"""
_COMMENTS = """
SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped AND col_description(a.attrelid, a.attnum) IS NOT NULL
"""


@dataclass
class Introspected:
    """What a database holds: its DDL (PostgreSQL dialect), row counts, and the server's version."""

    ddl: str
    rows: dict[str, int] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)
    server: str = ""


def introspect(dsn: str, db_schema: str = "public", tables: list[str] | None = None) -> Introspected:
    """The DDL of ``tables`` (default: every table) in ``db_schema``, with their row counts.
    A name in ``tables`` that is not there is an error naming what is."""
    import psycopg

    conn = connect(dsn, autocommit=True)
    try:
        server = conn.execute("SHOW server_version").fetchone()[0]
        # names in db_schema print unqualified (references, enum types), as in a DDL file
        conn.execute(f"SET search_path TO {quote_identifier(db_schema)}")
        found = conn.execute(_TABLES, (db_schema,)).fetchall()
        if tables is not None:
            by_name = dict((name, oid) for oid, name in found)
            missing = [t for t in tables if t not in by_name]
            if missing:
                raise OutputError(f"PostgreSQL {db_schema}: no table {', '.join(missing)}; tables: "
                                  f"{', '.join(by_name) or 'none'}")
            found = [(by_name[t], t) for t in tables]
        statements = [f"CREATE TYPE {quote_identifier(name)} AS ENUM ({', '.join(quote_string(v) for v in labels)});"
                      for name, labels in conn.execute(_ENUMS, (db_schema,)).fetchall()]
        rows: dict[str, int] = {}
        for oid, name in found:
            parts = []
            for col, type_, not_null, default, identity, generated in conn.execute(_COLUMNS, (oid,)).fetchall():
                text = f"{quote_identifier(col)} {type_}"
                if identity:
                    text += " GENERATED " + ("ALWAYS" if identity == "a" else "BY DEFAULT") + " AS IDENTITY"
                elif generated == "s":
                    text += f" GENERATED ALWAYS AS ({default}) STORED"
                elif default is not None:
                    text += f" DEFAULT {default}"
                if not_null:
                    text += " NOT NULL"
                parts.append(text)
            parts += [f"CONSTRAINT {quote_identifier(con)} {definition}"
                      for con, definition in conn.execute(_CONSTRAINTS, (oid,)).fetchall()]
            statements.append(f"CREATE TABLE {quote_identifier(name)} (\n  " + ",\n  ".join(parts) + "\n);")
            statements += [f"COMMENT ON COLUMN {quote_identifier(name)}.{quote_identifier(col)} IS {quote_string(text)};"
                           for col, text in conn.execute(_COMMENTS, (oid,)).fetchall()]
            rows[name] = conn.execute(f"SELECT count(*) FROM {quote_identifier(db_schema)}.{quote_identifier(name)}"
                                      ).fetchone()[0]
        return Introspected("\n\n".join(statements) + "\n", rows, [name for _, name in found], server)
    except psycopg.Error as exc:
        raise OutputError(f"PostgreSQL: reading the catalogs failed: {describe(exc)}") from None
    finally:
        conn.close()
