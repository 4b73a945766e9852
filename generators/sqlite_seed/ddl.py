"""What an SQLite table of a schema table looks like: declared types, keys, DDL, and comparison.

One ``TableSpec`` per schema table (``table_spec``) drives everything that touches the declared
schema, so they cannot drift apart: the ``CREATE TABLE`` text (``create_table_sql``), the indexes
on foreign-key columns, the compatibility check before ``mode=truncate|append`` into an existing
table and the ``sqlite_schema`` check of ``validate`` (``compare``).

Declared types (the SQLite *affinity* decides how values are stored; see docs/formats/sqlite.md):

=================  ==============  ======================================================
DSL type           declared type   stored as
=================  ==============  ======================================================
int8 … int64       INTEGER         integer
bool               INTEGER         integer 0 / 1
float32, float64   REAL            real (float32: the shortest decimal that reads back to
                                   the same float32, e.g. 0.1 rather than 0.100000001…)
decimal(p,s) p≤15  REAL            real: the double nearest the exact decimal; ≤ 15 digits
                                   always survive a double, read back exactly
decimal(p,s) p>15  TEXT            the exact digits, e.g. ``'12345678901234567.89'``
string, uuid       TEXT            text
date               TEXT            ``'YYYY-MM-DD'``
timestamp          TEXT            ``'YYYY-MM-DDTHH:MM:SS.ffffffZ'`` (UTC, fixed width:
                                   text order is time order)
=================  ==============  ======================================================

A single-column integer primary key made by an ascending ``sequence`` is declared ``INTEGER``
and so becomes SQLite's rowid alias (compact, and an application inserting without a key gets
the next one). Any other single-column integer key is declared ``INT`` (same affinity, not an
alias): the rowid then keeps the generated row order, which ``read_table`` relies on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from generators.common.sql_target import ForeignKey, quote_identifier
from generators.common.sql_target import is_key as _is_key
from shared.distributions.base import GENERATORS

#: decimals up to this precision are stored as REAL (every such decimal survives a double)
MAX_REAL_DECIMAL_PRECISION = 15

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # Arrow's %S prints the microseconds of a timestamp[us]


def affinity(declared: str | None) -> str:
    """SQLite's column affinity of a declared type (the rules of §3.1 of datatype3.html)."""
    t = (declared or "").upper()
    if "INT" in t:
        return "INTEGER"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return "TEXT"
    if not t or "BLOB" in t:
        return "BLOB"
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "REAL"
    return "NUMERIC"


def declared_type(dtype) -> str:
    """The declared type of a DSL type (before the rowid-alias adjustment)."""
    kind = dtype.kind
    if kind in ("int", "bool"):
        return "INTEGER"
    if kind == "float":
        return "REAL"
    if kind == "decimal":
        return "REAL" if dtype.precision <= MAX_REAL_DECIMAL_PRECISION else "TEXT"
    return "TEXT"


def accepted_affinities(dtype) -> tuple[str, ...]:
    """Affinities of an existing column that store this DSL type without changing its values
    (for ``mode=truncate|append`` into a user's table, and for foreign databases)."""
    kind = dtype.kind
    if kind in ("int", "bool"):
        return ("INTEGER", "NUMERIC")
    if kind == "float":
        return ("REAL", "NUMERIC")
    if kind == "decimal":
        # NUMERIC/REAL would round more than 15 significant digits away
        return ("REAL", "NUMERIC") if dtype.precision <= MAX_REAL_DECIMAL_PRECISION else ("TEXT",)
    if kind in ("date", "timestamp"):
        return ("TEXT", "NUMERIC")  # DATE/DATETIME columns: ISO text stays text under NUMERIC
    return ("TEXT",)


def storage_classes(dtype) -> tuple[str, ...]:
    """``typeof()`` values a stored cell of this DSL type may have (besides ``'null'``)."""
    kind = dtype.kind
    if kind in ("int", "bool"):
        return ("integer",)
    if kind == "float" or (kind == "decimal" and dtype.precision <= MAX_REAL_DECIMAL_PRECISION):
        return ("real", "integer")  # NUMERIC columns of a user's database keep 5.0 as 5
    return ("text",)


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    declared: str
    not_null: bool
    dtype: object  # shared.model.types.DType
    path: tuple = ()


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    #: foreign-key columns that get an index after loading (those no key index starts with)
    indexed: tuple[str, ...] = ()
    constraints: bool = True
    rowid_alias: bool = False
    path: tuple = field(default=(), compare=False)
    #: the schema's ``indexes`` as (name, columns, unique); unique only with ``constraints``
    declared_indexes: tuple[tuple[str, tuple[str, ...], bool], ...] = ()

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _is_ascending_sequence(column) -> bool:
    """Values ``first + step · row`` with a positive step: distinct and ascending, so an int
    primary key can be SQLite's rowid alias."""
    progression = GENERATORS[column.generator.type].progression(column.generator.params)
    if progression is None:
        return False
    step = progression[1]
    return isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0


def table_spec(table, lookup: Callable[[str], object | None] | Mapping, *, constraints: bool = True) -> TableSpec:
    """The SQLite shape of a schema table. ``lookup`` finds parent tables by name (a mapping or a
    function; with the generation order, parents are always known before their children).
    ``constraints=False`` (the dirty profile) declares no PRIMARY KEY, UNIQUE, NOT NULL or
    FOREIGN KEY: dirty data breaks them on purpose."""
    if isinstance(lookup, Mapping):
        mapping = lookup
        lookup = mapping.get  # type: ignore[assignment]
    pk = tuple(table.primary_key) if constraints else ()
    alias = False
    if len(pk) == 1:
        c = table.column(pk[0])
        alias = c.dtype.kind == "int" and not c.nullable and _is_ascending_sequence(c)
    cols = []
    for c in table.columns:
        decl = declared_type(c.dtype)
        if pk == (c.name,) and c.dtype.kind == "int" and not alias:
            decl = "INT"  # INTEGER affinity without becoming the rowid alias
        cols.append(ColumnSpec(c.name, decl, constraints and not c.nullable, c.dtype, c.path))
    uniques: list[tuple[str, ...]] = []
    fks: list[ForeignKey] = []
    if constraints:
        for group in [(c.name,) for c in table.columns if c.unique] + [tuple(g) for g in table.unique]:
            if group != pk and group not in uniques:
                uniques.append(group)
    declared_ix = tuple((ix.name, tuple(ix.columns), ix.unique and constraints) for ix in table.indexes)
    # a foreign key needs no index of its own when a key or a declared index starts with it
    key_heads = {k[0] for k in ([pk] if pk else []) + uniques} | {cols[0] for _, cols, _ in declared_ix}
    indexed = []
    for ref in table.foreign_keys:
        parent = ref.parent
        if constraints and None not in ref.parent_columns and \
                _is_key(table if ref.self_reference else lookup(parent), tuple(ref.parent_columns)):
            fks.append(ForeignKey.of(ref))
        if ref.column not in key_heads:
            indexed.append(ref.column)
    return TableSpec(table.name, tuple(cols), pk, tuple(uniques), tuple(fks), tuple(indexed),
                     constraints, alias, table.path, declared_ix)


def create_table_sql(spec: TableSpec, *, strict: bool = False) -> str:
    q = quote_identifier
    lines = []
    for c in spec.columns:
        line = f"  {q(c.name)} {c.declared}" + (" NOT NULL" if c.not_null else "")
        lines.append(line + f" /* {c.dtype.name} */")
    if spec.primary_key:
        lines.append(f"  PRIMARY KEY ({', '.join(map(q, spec.primary_key))})")
    for g in spec.unique:
        lines.append(f"  UNIQUE ({', '.join(map(q, g))})")
    for fk in spec.foreign_keys:
        lines.append(f"  FOREIGN KEY ({', '.join(map(q, fk.columns))}) REFERENCES {q(fk.parent)} "
                     f"({', '.join(map(q, fk.parent_columns))})")
    return f"CREATE TABLE {q(spec.name)} (\n" + ",\n".join(lines) + "\n)" + (" STRICT" if strict else "")


def index_name(table: str, column: str) -> str:
    """``orders.person_id``: unambiguous, since schema names cannot contain a dot."""
    return f"{table}.{column}"


def create_index_sql(spec: TableSpec) -> list[str]:
    q = quote_identifier
    return [f"CREATE INDEX IF NOT EXISTS {q(index_name(spec.name, c))} ON {q(spec.name)} ({q(c)})"
            for c in spec.indexed] + \
        [f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {q(name)} ON {q(spec.name)} "
         f"({', '.join(map(q, cols))})" for name, cols, unique in spec.declared_indexes]


# --- what a database declares -----------------------------------------------------------------


def find_table(conn, name: str) -> tuple[str, str] | None:
    """(type, stored name) of the table or view called ``name`` (case-insensitive, as SQLite
    resolves names), or None."""
    row = conn.execute("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') "
                       "AND name = ? COLLATE NOCASE", (name,)).fetchone()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class Declared:
    """What ``PRAGMA table_info / foreign_key_list / index_list`` say about a table."""

    columns: dict[str, tuple[str, bool]]  # name -> (declared type, NOT NULL)
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    unique: tuple[tuple[str, ...], ...]  # every UNIQUE index (constraint, primary key or CREATE)
    #: every index by lower-cased name: (columns, unique)
    indexes: dict[str, tuple[tuple[str, ...], bool]] = field(default_factory=dict)


def declared(conn, name: str) -> Declared:
    info = conn.execute("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)", (name,)).fetchall()
    cols = {r[0]: (r[1] or "", bool(r[2])) for r in info}
    pk = tuple(r[0] for r in sorted((r for r in info if r[3]), key=lambda r: r[3]))
    by_id: dict[int, tuple[str, list[str], list[str]]] = {}
    for row in conn.execute("SELECT id, seq, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?) "
                            "ORDER BY id, seq", (name,)).fetchall():
        parent_col = row[4]
        if parent_col is None:  # REFERENCES parent without a column: the parent's primary key
            ppk = [r[0] for r in sorted(conn.execute("SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0",
                                                     (row[2],)).fetchall(), key=lambda r: r[1])]
            parent_col = ppk[row[1]] if row[1] < len(ppk) else ""
        _, cols_, pcols = by_id.setdefault(row[0], (row[2], [], []))
        cols_.append(row[3])
        pcols.append(parent_col or "")
    fks = [ForeignKey(tuple(c), p, tuple(pc)) for p, c, pc in by_id.values()]
    uniques = []
    indexes = {}
    for idx_name, unique in conn.execute("SELECT name, \"unique\" FROM pragma_index_list(?)", (name,)).fetchall():
        cols_ = conn.execute("SELECT name FROM pragma_index_info(?) ORDER BY seqno", (idx_name,)).fetchall()
        indexes[idx_name.lower()] = (tuple(r[0] for r in cols_), bool(unique))
        if unique:
            uniques.append(tuple(r[0] for r in cols_))
    return Declared(cols, pk, tuple(fks), tuple(uniques), indexes)


def compare(conn, spec: TableSpec, *, keys_and_references: bool = True) -> list[tuple[str | None, str]]:
    """Problems, as (column or None, message), between the table in ``conn`` and ``spec``.

    Always: the same column names, a compatible declared type (affinity), NOT NULL and PRIMARY KEY
    exactly as the schema says. With ``keys_and_references``: also every UNIQUE and FOREIGN KEY."""
    found = find_table(conn, spec.name)
    if found is None:
        return [(None, f"no table {spec.name!r}")]
    if found[0] != "table":
        return [(None, f"{found[1]!r} is a {found[0]}, not a table")]
    d = declared(conn, found[1])
    problems: list[tuple[str | None, str]] = []
    lower = {n.lower(): n for n in d.columns}
    for c in spec.columns:
        actual = lower.get(c.name.lower())
        if actual is None:
            problems.append((c.name, f"column {c.name!r} is missing"))
            continue
        decl, not_null = d.columns[actual]
        ok = accepted_affinities(c.dtype)
        if affinity(decl) not in ok:
            problems.append((c.name, f"column {c.name!r} is declared {decl or '(no type)'} ({affinity(decl)} affinity); "
                                     f"{c.dtype.name} needs {' or '.join(ok)} affinity (e.g. {c.declared})"))
        if not_null != c.not_null:
            problems.append((c.name, f"column {c.name!r} is {'NOT NULL' if not_null else 'nullable'}, the schema says "
                                     f"{'NOT NULL' if c.not_null else 'nullable'}"))
    wanted = {c.name.lower() for c in spec.columns}
    for n in d.columns:
        if n.lower() not in wanted:
            problems.append((n, f"column {n!r} is not in the schema"))
    if tuple(x.lower() for x in d.primary_key) != tuple(x.lower() for x in spec.primary_key):
        problems.append((None, f"PRIMARY KEY is ({', '.join(d.primary_key) or 'none'}), the schema says "
                               f"({', '.join(spec.primary_key) or 'none'})"))
    if keys_and_references:
        have_unique = {tuple(x.lower() for x in u) for u in d.unique}
        for g in spec.unique:
            if tuple(x.lower() for x in g) not in have_unique:
                problems.append((g[0] if len(g) == 1 else None, f"UNIQUE ({', '.join(g)}) is not declared"))
        def key(f: ForeignKey) -> tuple:
            return (tuple(c.lower() for c in f.columns), f.parent.lower(), tuple(c.lower() for c in f.parent_columns))

        have_fk = {key(f) for f in d.foreign_keys}
        for fk in spec.foreign_keys:
            if key(fk) not in have_fk:
                problems.append((fk.column, f"{fk.describe()} is not declared"))
    return problems


def index_problems(conn, spec: TableSpec) -> list[str]:
    """The schema's ``indexes`` the database lacks, or has on other columns or uniqueness."""
    found = find_table(conn, spec.name)
    if found is None or not spec.declared_indexes:
        return []
    have = declared(conn, found[1]).indexes
    out = []
    for name, cols, unique in spec.declared_indexes:
        got = have.get(name.lower())
        want = f"{'UNIQUE ' if unique else ''}INDEX {name} ({', '.join(cols)})"
        if got is None:
            out.append(f"{want} is missing")
        elif tuple(c.lower() for c in got[0]) != tuple(c.lower() for c in cols) or (unique and not got[1]):
            out.append(f"{want} is declared as {'UNIQUE ' if got[1] else ''}INDEX {name} ({', '.join(got[0])})")
    return out
