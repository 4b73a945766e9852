"""What the SQL targets (SQLite, PostgreSQL) share: their modes, and keys and references as they
declare them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODES = ("create", "truncate", "append")
#: sdgen's names of the modes
MODE_ALIASES = {"create_if_missing": "create", "truncate_then_insert": "truncate", "append_only": "append"}


def mode_option(opts: dict[str, Any]) -> str:
    """``--option mode=`` / ``--mode``: one of ``MODES``, sdgen's names accepted (default create)."""
    from shared.formats import choice_option

    raw = str(opts.get("mode", "create")).strip().lower()
    return choice_option({"mode": MODE_ALIASES.get(raw, raw)}, "mode", MODES, "create")


def bool_option(opts: dict[str, Any], key: str, default: bool) -> bool:
    """A ``true`` / ``false`` option (any case); anything else is a ``UsageError``."""
    from shared.errors import UsageError

    v = str(opts.get(key, default)).strip().lower()
    if v not in ("true", "false"):
        raise UsageError(f"--option {key}={opts.get(key)}: true or false")
    return v == "true"


@dataclass(frozen=True)
class ForeignKey:
    """``FOREIGN KEY (columns) REFERENCES parent (parent_columns)``: one column, or a composite
    key's (the fk's ``with``)."""

    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]

    @property
    def column(self) -> str:
        """The first (for a one-column key, the only) column."""
        return self.columns[0]

    @property
    def parent_column(self) -> str:
        return self.parent_columns[0]

    @classmethod
    def of(cls, ref) -> ForeignKey:
        """From the model's ``ForeignKeyRef`` (its parent columns resolved)."""
        return cls(tuple(ref.columns), ref.parent, tuple(str(c) for c in ref.parent_columns))

    def describe(self) -> str:
        return f"FOREIGN KEY ({', '.join(self.columns)}) REFERENCES {self.parent} ({', '.join(self.parent_columns)})"


def is_key(parent, col: str | tuple[str, ...]) -> bool:
    """Whether ``col`` (a column, or a composite key's columns) is a key of the schema table
    ``parent``: its primary key, a unique column or a unique group — SQL databases refuse a
    foreign key to anything else."""
    cols = (col,) if isinstance(col, str) else tuple(col)
    if parent is None or not all(parent.has_column(c) for c in cols):
        return False
    if len(cols) == 1 and parent.column(cols[0]).unique:
        return True
    keys = [tuple(parent.primary_key), *(tuple(g) for g in parent.unique)]
    return any(set(k) == set(cols) and len(k) == len(cols) for k in keys)


def quote_identifier(name: str) -> str:
    """``name`` as an SQL identifier: in double quotes, embedded quotes doubled (SQLite and
    PostgreSQL alike). Works for any name (spaces, quotes, keywords, non-ASCII); NUL is refused:
    neither database can hold it in a name."""
    name = str(name)
    if "\x00" in name:
        raise ValueError(f"an SQL identifier cannot contain NUL: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_string(text: str) -> str:
    """``text`` as an SQL string literal: in single quotes, embedded quotes doubled (standard SQL:
    PostgreSQL, SQLite, DuckDB alike)."""
    return "'" + str(text).replace("'", "''") + "'"


# --- SQL names (``sql_name``) -------------------------------------------------------------------


def sql_arrow_schema(table, arrow_schema):
    """``arrow_schema`` (the engine's batches, DSL names) with each of ``table``'s columns under
    its SQL name: statements name the columns so, the batches' arrays stay in place."""
    names = table.sql_columns
    if all(names.get(f.name, f.name) == f.name for f in arrow_schema):
        return arrow_schema
    import pyarrow as pa

    return pa.schema([f.with_name(names.get(f.name, f.name)) for f in arrow_schema], metadata=arrow_schema.metadata)


def dsl_named(results: list[dict], schema) -> list[dict]:
    """Check results made under the SQL names (``Schema.sql_named``) reported under the schema's
    own: their ``table``, and their ``column`` (a group's columns joined by ", ")."""
    if not schema.has_sql_names:
        return results
    tables = {t.sql_name or t.name: t for t in schema.tables}
    out = []
    for r in results:
        t = tables.get(r.get("table"))
        if t is None:
            out.append(r)
            continue
        back = {sql: dsl for dsl, sql in t.sql_columns.items()}
        column = r.get("column")
        if isinstance(column, str):
            column = ", ".join(back.get(c, c) for c in column.split(", "))
        out.append({**r, "table": t.name, "column": column})
    return out
