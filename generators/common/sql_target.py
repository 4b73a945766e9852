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
    column: str
    parent: str
    parent_column: str


def is_key(parent, col: str) -> bool:
    """Whether ``col`` is a key of the schema table ``parent`` (its one-column primary key, a
    unique column or a unique group of one): SQL databases refuse a foreign key to anything else."""
    if parent is None or not parent.has_column(col):
        return False
    return tuple(parent.primary_key) == (col,) or parent.column(col).unique or (col,) in tuple(parent.unique)


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
