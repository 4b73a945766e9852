"""The SQL DDL of a schema: the PostgreSQL shape of each table (column types, NOT NULL, primary
key, unique groups, foreign keys, indexes) and the statements that create it.

Shared by the PostgreSQL target (``generators.postgres_target``), which creates its tables with
it exactly as before, and by ``datagen export-ddl``, which renders the same PostgreSQL DDL —
with ``checks=True`` also a CHECK per column for ``allowed`` values and ``min``/``max`` bounds —
and transpiles it to other dialects. The target never asks for checks: the dirty profile loads
values outside them on purpose. No database driver and no SQL parser are imported here.

=================  ===================
DSL type           PostgreSQL type
=================  ===================
int8, int16        smallint
int32              integer
int64              bigint
float32            real
float64            double precision
decimal(p,s)       numeric(p,s)
bool               boolean
string             text, or varchar(n) with a length
date               date
timestamp          timestamp with time zone
uuid               uuid
struct, list       jsonb
=================  ===================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generators.common.sql_target import ForeignKey, is_key, quote_string
from generators.common.sql_target import quote_identifier as quote_ident

#: PostgreSQL's identifiers are at most 63 bytes (NAMEDATALEN − 1)
MAX_IDENTIFIER_BYTES = 63


def qualified(schema: str | None, table: str) -> str:
    """``"schema"."table"``, or ``"table"`` without a schema (``export-ddl``)."""
    return f"{quote_ident(schema)}.{quote_ident(table)}" if schema else quote_ident(table)


def pg_type(dtype) -> str:
    """The PostgreSQL type a DSL type is created as."""
    kind = dtype.kind
    if kind == "int":
        return {8: "smallint", 16: "smallint", 32: "integer"}.get(dtype.bits or 64, "bigint")
    if kind == "float":
        return "real" if dtype.bits == 32 else "double precision"
    if kind == "decimal":
        return f"numeric({dtype.precision},{dtype.scale})"
    if kind == "string":
        return f"character varying({dtype.length})" if dtype.length else "text"
    if dtype.is_nested:
        return "jsonb"
    return {"bool": "boolean", "date": "date", "timestamp": "timestamp with time zone", "uuid": "uuid"}[kind]


@dataclass(frozen=True)
class PgColumn:
    name: str
    type: str
    not_null: bool
    dtype: Any  # shared.model.types.DType
    path: tuple = ()
    max_length: int | None = None


@dataclass(frozen=True)
class PgTable:
    schema: str
    name: str
    columns: tuple[PgColumn, ...]
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    #: the schema's ``indexes`` as (name, columns, unique), and indexes on foreign-key columns
    indexes: tuple[tuple[str, tuple[str, ...], bool], ...] = ()
    constraints: bool = True
    path: tuple = field(default=(), compare=False)
    #: (column, condition) of each CHECK: ``allowed`` and ``min``/``max`` (``pg_table(checks=True)``)
    checks: tuple[tuple[str, str], ...] = ()

    @property
    def qualified(self) -> str:
        return qualified(self.schema, self.name)


def pg_table(table, tables: dict, db_schema: str | None, *, constraints: bool = True,
             checks: bool = False, lengths: bool = False) -> PgTable:
    """The PostgreSQL shape of a schema table (``tables``: every table of the schema by name);
    ``checks``: a CHECK per column with ``allowed`` values or ``min``/``max`` (never for a target
    that loads the dirty profile); ``lengths``: a string column with a ``max_length`` is
    ``character varying(max_length)`` (the target keeps ``text``: dirty values may be longer)."""
    pk = tuple(table.primary_key) if constraints else ()
    cols = tuple(PgColumn(c.name, _sized(c) if lengths else pg_type(c.dtype), constraints and not c.nullable,
                          c.dtype, c.path, getattr(c, "max_length", None)) for c in table.columns)
    uniques: list[tuple[str, ...]] = []
    fks: list[ForeignKey] = []
    indexes: list[tuple[str, tuple[str, ...], bool]] = []
    if constraints:
        for group in [(c.name,) for c in table.columns if c.unique] + [tuple(g) for g in table.unique]:
            if group != pk and group not in uniques:
                uniques.append(group)
    key_heads = {k[0] for k in ([pk] if pk else []) + uniques} | {ix.columns[0] for ix in table.indexes}
    for ref in table.foreign_keys:
        parent = table if ref.self_reference else tables.get(ref.parent)
        if constraints and None not in ref.parent_columns and is_key(parent, tuple(ref.parent_columns)):
            fks.append(ForeignKey.of(ref))
        if ref.column not in key_heads:
            indexes.append((_index_name(table.name, "_".join(ref.columns)), tuple(ref.columns), False))
    indexes += [(ix.name, tuple(ix.columns), ix.unique and constraints) for ix in table.indexes]
    conds = tuple(c for col in table.columns if col.is_written for c in column_checks(col)) \
        if checks and constraints else ()
    return PgTable(db_schema or "", table.name, cols, pk, tuple(uniques), tuple(fks), tuple(indexes), constraints,
                   table.path, conds)


def _sized(col) -> str:
    if col.dtype.kind == "string" and getattr(col, "max_length", None):
        return f"character varying({col.max_length})"
    return pg_type(col.dtype)


def sql_literal(dtype, value: Any) -> str:
    """A value of a column (engine units: days for dates, µs for timestamps) as a SQL literal."""
    from shared.model import timeutil

    kind = dtype.kind
    if kind == "bool":
        return "TRUE" if value else "FALSE"
    if kind == "date":
        return "'" + timeutil.format_date(int(value)) + "'"
    if kind == "timestamp":
        return "'" + timeutil.format_timestamp(int(value)) + "'"
    if kind == "int":
        return str(int(value))
    if kind in ("float", "decimal"):
        f = float(value)
        return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)
    return quote_string(str(value))


def column_checks(col) -> list[tuple[str, str]]:
    """(column, condition) for a column's ``allowed`` values and its ``min``/``max``."""
    if col.dtype.is_nested:
        return []
    q = quote_ident(col.name)
    out = []
    if col.allowed:
        out.append((col.name, f"{q} IN ({', '.join(sql_literal(col.dtype, v) for v in col.allowed)})"))
    if col.dtype.is_ordered:
        lo = col.min if col.min is not None else None
        hi = col.max if col.max is not None else None
        if lo is not None and hi is not None:
            out.append((col.name, f"{q} BETWEEN {sql_literal(col.dtype, lo)} AND {sql_literal(col.dtype, hi)}"))
        elif lo is not None:
            out.append((col.name, f"{q} >= {sql_literal(col.dtype, lo)}"))
        elif hi is not None:
            out.append((col.name, f"{q} <= {sql_literal(col.dtype, hi)}"))
    return out


def _index_name(table: str, column: str) -> str:
    name = f"{table}_{column}_idx"
    return name if len(name.encode()) <= MAX_IDENTIFIER_BYTES else name.encode()[:MAX_IDENTIFIER_BYTES].decode(
        "utf-8", "ignore")


def _constraint_name(table: str, what: str, cols: tuple[str, ...]) -> str:
    name = f"{table}_{'_'.join(cols)}_{what}"
    if len(name.encode()) <= MAX_IDENTIFIER_BYTES:
        return name
    import hashlib

    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return name.encode()[:MAX_IDENTIFIER_BYTES - 9].decode("utf-8", "ignore") + "_" + digest


def constraint_clauses(spec: PgTable) -> list[tuple[str, str]]:
    """(name, definition) of the table's keys and references, in the order they can be added."""
    q = quote_ident
    out = []
    if spec.primary_key:
        out.append((_constraint_name(spec.name, "pkey", spec.primary_key),
                    f"PRIMARY KEY ({', '.join(map(q, spec.primary_key))})"))
    for g in spec.unique:
        out.append((_constraint_name(spec.name, "key", g), f"UNIQUE ({', '.join(map(q, g))})"))
    for fk in spec.foreign_keys:
        out.append((_constraint_name(spec.name, "fkey", fk.columns),
                    f"FOREIGN KEY ({', '.join(map(q, fk.columns))}) REFERENCES {qualified(spec.schema, fk.parent)} "
                    f"({', '.join(map(q, fk.parent_columns))})"))
    seen: dict[str, int] = {}
    for column, condition in spec.checks:
        seen[column] = seen.get(column, 0) + 1
        n = seen[column]
        out.append((_constraint_name(spec.name, "check" if n == 1 else f"check{n}", (column,)),
                    f"CHECK ({condition})"))
    return out


def create_table_sql(spec: PgTable, *, with_constraints: bool = True) -> str:
    q = quote_ident
    lines = [f"  {q(c.name)} {c.type}" + (" NOT NULL" if c.not_null else "") for c in spec.columns]
    if with_constraints:
        lines += [f"  CONSTRAINT {q(name)} {definition}" for name, definition in constraint_clauses(spec)]
    return f"CREATE TABLE {spec.qualified} (\n" + ",\n".join(lines) + "\n)"


def add_constraints_sql(spec: PgTable) -> list[str]:
    return [f"ALTER TABLE {spec.qualified} ADD CONSTRAINT {quote_ident(name)} {definition}"
            for name, definition in constraint_clauses(spec)]


def create_indexes_sql(spec: PgTable) -> list[str]:
    q = quote_ident
    return [f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {q(name)} ON {spec.qualified} "
            f"({', '.join(map(q, cols))})" for name, cols, unique in spec.indexes]
