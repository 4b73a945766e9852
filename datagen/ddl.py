"""``export-ddl``: a schema as CREATE TABLE statements of a SQL dialect (docs/import.md).

The PostgreSQL DDL is the PostgreSQL target's own (``generators.common.sql_ddl``: types, NOT
NULL, primary keys, unique groups, foreign keys, indexes), plus a CHECK per column for its
``allowed`` values and its ``min``/``max``. Other dialects are that DDL transpiled by sqlglot,
with the fixes transpiling does not make itself (below, ``_fix_type`` and ``_FEATURES``): JSON
and uuid types each dialect has, SQLite type names that keep the DSL type, MySQL times that hold
any year, and the constraints a warehouse does not enforce or accept.
"""

from __future__ import annotations

from typing import Any

from shared.errors import UsageError

__all__ = ["export_ddl", "DIALECTS"]

from datagen.importers.sql import DIALECTS, check_dialect

#: what a dialect accepts in CREATE TABLE: CHECK constraints, UNIQUE constraints, CREATE INDEX;
#: ``not_enforced``: keys are declared NOT ENFORCED (BigQuery)
_FEATURES: dict[str, dict[str, bool]] = {
    "postgres": {"check": True, "unique": True, "index": True},
    "duckdb": {"check": True, "unique": True, "index": True},
    "sqlite": {"check": True, "unique": True, "index": True},
    "mysql": {"check": True, "unique": True, "index": True},
    "tsql": {"check": True, "unique": True, "index": True},
    "snowflake": {"check": False, "unique": True, "index": False},
    "redshift": {"check": False, "unique": True, "index": False},
    "bigquery": {"check": False, "unique": False, "index": False, "not_enforced": True},
}
_JSON = {"redshift": "SUPER", "snowflake": "VARIANT", "mysql": "JSON", "bigquery": "JSON", "duckdb": "JSON",
         "sqlite": "JSON", "tsql": "NVARCHAR(MAX)"}
_UUID = {"redshift": "CHAR(36)", "snowflake": "VARCHAR(36)", "mysql": "CHAR(36)"}
#: SQLite keeps any type name: these keep the DSL type readable (and importable) in the file
_SQLITE = {"BIGINT": "BIGINT", "INT": "INTEGER", "SMALLINT": "SMALLINT", "FLOAT": "REAL", "DOUBLE": "DOUBLE",
           "BOOLEAN": "BOOLEAN", "TEXT": "TEXT", "DATE": "DATE", "TIMESTAMPTZ": "TIMESTAMP", "UUID": "UUID"}


def export_ddl(schema: Any, dialect: str = "postgres", *, checks: bool = True, indexes: bool = True) -> str:
    """CREATE TABLE statements for every table of ``schema`` (a path, dict or loaded schema), in
    ``dialect`` (one of ``DIALECTS``; sqlglot's other names are tried too), parents before
    children, separated by ``;`` lines. ``checks``: CHECK constraints for ``allowed`` and bounds
    where the dialect has them; ``indexes``: the schema's indexes and foreign-key indexes."""
    import datagen
    from generators.common.sql_ddl import create_indexes_sql, create_table_sql, pg_table

    d = check_dialect(dialect)
    model = datagen.load_schema(schema).sql_named  # tables and columns under their SQL names (sql_name)
    features = _FEATURES.get(d, {"check": True, "unique": True, "index": False})
    by_name = {t.name: t for t in model.tables}
    statements: list[str] = []
    for t in _ordered(model.tables):
        t = _replace(t, columns=tuple(c for c in t.columns if c.is_written))  # no hidden columns, no struct parts
        spec = pg_table(t, by_name, None, checks=checks and features["check"], lengths=True)
        if d == "duckdb":  # DuckDB ignores VARCHAR(n): a CHECK keeps the length (and import reads it back)
            from generators.common.sql_target import quote_identifier

            spec = _replace(spec, checks=spec.checks + tuple(
                (c.name, f"length({quote_identifier(c.name)}) <= {c.max_length}") for c in t.columns
                if c.dtype.kind == "string" and c.max_length))
        if not features["unique"]:
            spec = _replace(spec, unique=())
        statements.append(create_table_sql(spec))
        if indexes and features["index"]:
            statements += create_indexes_sql(spec)
    header = f"-- {model.name}: {len(model.tables)} tables, {d} DDL written by datagen export-ddl\n"
    if d == "postgres":
        return header + "".join(s + ";\n\n" for s in statements).rstrip() + "\n"
    return header + "".join(_transpile(s, d, features) + ";\n\n" for s in statements).rstrip() + "\n"


def _replace(spec: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(spec, **changes)


def _ordered(tables: Any) -> list[Any]:
    """Parents before children (self-references aside); the DSL has no other cycles."""
    by_name = {t.name: t for t in tables}
    done: set[str] = set()
    out: list[Any] = []

    def visit(t: Any) -> None:
        if t.name in done:
            return
        done.add(t.name)
        for ref in t.foreign_keys:
            if ref.parent in by_name and ref.parent != t.name:
                visit(by_name[ref.parent])
        out.append(t)

    for t in tables:
        visit(t)
    return out


def _transpile(sql: str, dialect: str, features: dict[str, bool]) -> str:
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except sqlglot.errors.ParseError as exc:  # our own DDL: a bug, not bad input
        raise UsageError(f"export-ddl: cannot transpile to {dialect}: {exc}") from None
    for col in tree.find_all(exp.ColumnDef):
        kind = col.args.get("kind")
        if isinstance(kind, exp.DataType):
            fixed = _fix_type(kind, dialect)
            if fixed is not None:
                col.set("kind", fixed)
    for ordered in list(tree.find_all(exp.Ordered)):  # index columns: no NULLS FIRST/LAST added
        ordered.replace(ordered.this)
    if features.get("not_enforced"):
        for key in [*tree.find_all(exp.PrimaryKey), *tree.find_all(exp.ForeignKey)]:
            key.replace(exp.Var(this=key.sql("bigquery") + " NOT ENFORCED"))
    return tree.sql(dialect=dialect, pretty=True)


def _verbatim(text: str) -> Any:
    """A type written exactly as ``text`` in every dialect."""
    from sqlglot import exp

    return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=exp.Var(this=text))


def _fix_type(dt: Any, dialect: str) -> Any:
    t = dt.this
    name = t.name
    if name in ("JSONB", "JSON"):
        return _verbatim(_JSON.get(dialect, "JSON"))
    if name == "UUID" and dialect in _UUID:
        return _verbatim(_UUID[dialect])
    if dialect == "mysql" and name == "TIMESTAMPTZ":
        return _verbatim("DATETIME(6)")
    params = [p.sql() for p in dt.expressions]
    if dialect == "duckdb" and name == "VARCHAR" and params:  # DuckDB ignores the length; the reader keeps it
        return _verbatim(f"VARCHAR({params[0]})")
    if dialect == "sqlite":
        if name == "DECIMAL":
            return _verbatim(f"DECIMAL({', '.join(params)})")
        if name == "VARCHAR":
            return _verbatim(f"VARCHAR({', '.join(params)})" if params else "TEXT")
        if name in _SQLITE:
            return _verbatim(_SQLITE[name])
    return None
