"""What a PostgreSQL table of a schema table looks like: column types, keys, DDL, and the
compatibility check against a table that already exists.

Column types (docs/targets.md):

=================  ===================  ==============================================
DSL type           PostgreSQL type      an existing column also accepted
=================  ===================  ==============================================
int8, int16        smallint             integer, bigint, numeric
int32              integer              bigint, numeric
int64              bigint               numeric
float32            real                 double precision
float64            double precision     —
decimal(p,s)       numeric(p,s)         numeric(p',s') with s' ≥ s and p'−s' ≥ p−s;
                                        numeric without a precision
bool               boolean              —
string             text (varchar(n)     text, varchar(n') with n' ≥ n, varchar
                   when it has a
                   length)
date               date                 —
timestamp          timestamptz          —
uuid               uuid                 text, varchar
struct, list       jsonb                json
=================  ===================  ==============================================

The dirty profile breaks NOT NULL, keys and references on purpose: its tables get none of them
(as in SQLite). Keys and references are declared inline in ``CREATE TABLE``, or — with
``defer_constraints`` — added by ``ALTER TABLE`` after the rows are in (one index build instead
of an insert per row into each index).
"""

from __future__ import annotations

import re

from generators.common.sql_ddl import (
    MAX_IDENTIFIER_BYTES,
    PgColumn,
    PgTable,
    add_constraints_sql,
    constraint_clauses,
    create_indexes_sql,
    create_table_sql,
    pg_table,
    pg_type,
    qualified,
    quote_ident,
)

#: the shared model (``generators.common.sql_ddl``), re-exported for the target's modules
__all__ = ["MAX_IDENTIFIER_BYTES", "PgColumn", "PgTable", "accepts", "add_constraints_sql", "compare",
           "constraint_clauses", "create_indexes_sql", "create_table_sql", "pg_table", "pg_type", "qualified",
           "quote_ident", "table_kind"]


_NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")
_VARCHAR = re.compile(r"character varying\((\d+)\)")
_INT_RANK = {"smallint": 16, "integer": 32, "bigint": 64}


def accepts(dtype, actual: str, max_length: int | None = None) -> bool:
    """Whether an existing column of type ``actual`` (``format_type`` spelling) stores every value
    of ``dtype`` (strings: at most ``max_length`` characters) unchanged."""
    kind = dtype.kind
    if kind == "int":
        bits = dtype.bits or 64
        return (actual in _INT_RANK and _INT_RANK[actual] >= max(bits, 16)) or actual == "numeric" or \
            bool((m := _NUMERIC.fullmatch(actual)) and int(m[1]) - int(m[2]) >= len(str(1 << (bits - 1))))
    if kind == "float":
        return actual == "double precision" or (actual == "real" and dtype.bits == 32)
    if kind == "decimal":
        if actual == "numeric":
            return True
        m = _NUMERIC.fullmatch(actual)
        return m is not None and int(m[2]) >= dtype.scale and int(m[1]) - int(m[2]) >= dtype.precision - dtype.scale
    if kind == "string":
        if actual in ("text", "character varying"):
            return True
        m = _VARCHAR.fullmatch(actual)
        limit = dtype.length or max_length
        return m is not None and limit is not None and int(m[1]) >= limit
    if kind == "uuid":
        return actual in ("uuid", "text", "character varying")
    if dtype.is_nested:
        return actual in ("jsonb", "json")
    return actual == pg_type(dtype)


# --- what the database declares -------------------------------------------------------------

COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef OR a.attidentity <> ''
FROM pg_attribute a
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_CONSTRAINTS_SQL = """
SELECT c.contype, array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)::text[],
       cf.relname, array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)::text[]
FROM pg_constraint c LEFT JOIN pg_class cf ON cf.oid = c.confrelid
WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u', 'f')
"""


def table_kind(cur, spec: PgTable) -> str | None:
    """``table``, ``view`` … of the relation called like the table, or None when there is none."""
    row = cur.execute("SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                      "WHERE n.nspname = %s AND c.relname = %s", (spec.schema, spec.name)).fetchone()
    if row is None:
        return None
    return {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}.get(row[0],
                                                                                                       "relation")


def compare(cur, spec: PgTable, *, keys: bool = True) -> list[tuple[str | None, str]]:
    """Problems, as (column or None, message), between the existing table and ``spec``: every
    column present with a type that holds its values, NOT NULL where the database has it only
    where the schema does too (a NOT NULL column the schema may leave null would refuse rows),
    extra columns only when nullable or with a default; with ``keys``: the primary key, UNIQUE
    and FOREIGN KEY constraints as declared."""
    kind = table_kind(cur, spec)
    if kind is None:
        return [(None, f"no table {spec.schema}.{spec.name}")]
    if kind != "table":
        return [(None, f"{spec.schema}.{spec.name} is a {kind}, not a table")]
    have = {r[0]: (r[1], r[2], r[3]) for r in cur.execute(COLUMNS_SQL, (spec.qualified,)).fetchall()}
    problems: list[tuple[str | None, str]] = []
    for c in spec.columns:
        got = have.get(c.name)
        if got is None:
            problems.append((c.name, f"column {c.name!r} is missing"))
            continue
        actual, not_null, _default = got
        if not accepts(c.dtype, actual, c.max_length):
            limit = f" (or varchar of at least {c.max_length})" if c.max_length and c.dtype.kind == "string" else ""
            problems.append((c.name, f"column {c.name!r} is {actual}; {c.dtype.name} needs {c.type}{limit}"))
        if not_null and not c.not_null and spec.constraints:
            problems.append((c.name, f"column {c.name!r} is NOT NULL, the schema lets it be null"))
    wanted = {c.name for c in spec.columns}
    for name, (actual, not_null, default) in have.items():
        if name not in wanted and not_null and not default:
            problems.append((name, f"column {name!r} ({actual} NOT NULL, no default) is not in the schema"))
    if keys and spec.constraints:
        cons = cur.execute(_CONSTRAINTS_SQL, (spec.qualified,)).fetchall()
        pk = next((tuple(r[1]) for r in cons if r[0] == "p"), ())
        if pk != spec.primary_key:
            problems.append((None, f"PRIMARY KEY is ({', '.join(pk) or 'none'}), the schema says "
                                   f"({', '.join(spec.primary_key) or 'none'})"))
        uniques = {tuple(r[1]) for r in cons if r[0] in ("u", "p")}
        for g in spec.unique:
            if g not in uniques:
                problems.append((g[0] if len(g) == 1 else None, f"UNIQUE ({', '.join(g)}) is not declared"))
        refs = {(tuple(r[1]), r[2], tuple(r[3])) for r in cons if r[0] == "f"}
        for fk in spec.foreign_keys:
            if (fk.columns, fk.parent, fk.parent_columns) not in refs:
                problems.append((fk.column, f"{fk.describe()} is not declared"))
    return problems
