"""The typed, frozen model a schema file loads into.

The loader (``shared.schema_dsl.loader``) is the only producer; everything downstream (planner,
engine, validators, frontends) reads these objects and never the raw YAML. ``path`` fields hold
the location inside the schema (``tables[1].columns[2]``) so later stages can still point at the
user's text; ``Schema.locate(path)`` turns one into file/line/column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from shared.model.types import DType

PROFILES = ("fast", "realistic", "dirty")


def fmt_path(path: tuple) -> str:
    """``("tables", 1, "columns", 2)`` → ``"tables[1].columns[2]"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def freeze(value: Any) -> Any:
    """Deep-freeze parsed YAML: dicts become read-only mappings, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of ``freeze`` (for JSON output)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class GeneratorSpec:
    type: str
    params: Mapping[str, Any]
    path: tuple  # e.g. ("tables", 0, "columns", 3, "generator")
    #: why this generator was chosen for a column written without one (shared.schema_dsl.defaults),
    #: None when the schema names it
    default: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ForeignKeyRef:
    """A foreign key as the model knows it: ``table.column`` references ``parent.parent_column``.

    Made once by the loader (``link_references``) for every column whose generator declares
    itself a reference (``Generator.reference``; the ``fk`` generator), and read by everything
    downstream — the planner's table order and foreign-key graph, the engine's parent lookups,
    validation, ``describe`` and the SQL frontends — so nothing outside the ``fk`` generator asks
    for a generator by name or reads its params.

    ``parent`` is the table as written, which in a schema still being checked may name no table;
    ``parent_column`` is ``params.column`` or else the parent's single-column primary key, ``None``
    when there is neither (the loader reports it). ``path`` is the fk column's generator path
    (``tables[1].columns[2].generator``) for errors.
    """

    table: str  # the child table
    column: str  # the child's fk column
    parent: str
    parent_column: str | None
    path: tuple
    nullable: bool = False
    #: the ``skew`` spec as written (a generator name or a frozen ``{type, params}``), or None
    skew: Any = None
    #: the owning fk of a per-parent table (``rows.per`` = ``parent``): filled with the owning row
    owner: bool = False
    #: a composite key's other columns, ``(child column, parent column)`` pairs (the fk's
    #: ``with_columns``): the child columns take the same parent row's values, and the reference is the
    #: tuple ``columns`` → ``parent_columns`` (a primary key or unique group of the parent)
    with_columns: tuple[tuple[str, str], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The child's columns of the reference: the fk column, then those of ``with_columns``."""
        return (self.column, *(c for c, _ in self.with_columns))

    @property
    def parent_columns(self) -> tuple[str | None, ...]:
        return (self.parent_column, *(p for _, p in self.with_columns))

    @property
    def composite(self) -> bool:
        return bool(self.with_columns)

    @property
    def self_reference(self) -> bool:
        """The fk points into its own table (at an earlier row)."""
        return self.parent == self.table


@dataclass(frozen=True)
class ListLength:
    """``length`` of a list column: each row's number of items, in ``[min, max]`` — uniform, or
    drawn from ``distribution`` (a numeric generator) and clipped into the bounds. ``max`` is
    always finite: it bounds the items' element addresses (row × (max + 1) + position)."""

    min: int
    max: int
    distribution: GeneratorSpec | None
    path: tuple


@dataclass(frozen=True)
class Column:
    name: str
    dtype: DType
    generator: GeneratorSpec
    path: tuple
    nullable: bool = False
    null_rate: float = 0.0
    unique: bool = False
    min: float | int | None = None  # engine units (days for dates, µs for timestamps)
    max: float | int | None = None
    allowed: tuple[Any, ...] | None = None  # engine units for ordered kinds, else as written
    pattern: str | None = None
    max_length: int | None = None
    description: str | None = None
    corruption: Mapping[str, Any] | None = None
    raw_min: Any = None  # as written, for messages and describe
    raw_max: Any = None
    #: the foreign key this column holds (filled by the loader), else None
    references: ForeignKeyRef | None = None
    #: the column's name in SQL (DDL and database targets) when the DSL name could not be it
    #: (spaces, reserved words, case): ``Schema.sql_named``
    sql_name: str | None = None
    #: computed and referenceable, never written (``hidden: true``): absent from ``Schema.written``
    hidden: bool = False
    #: a struct's fields (their ``name`` is the dotted path, ``address.city``)
    fields: tuple[Column, ...] = ()
    #: a list's items (named ``tags[]``) and its length
    items: Column | None = None
    length: ListLength | None = None
    #: a struct field present in this share of its rows (an optional key), else None (always)
    present: float | None = None
    #: the nested column this one is a field or the items of (``address`` for ``address.city``),
    #: None for a table's own columns; such a column is computed into its container, never
    #: written on its own (absent from ``Schema.written``)
    part_of: str | None = None
    #: inside a list's items: its rows are element addresses, not the table's rows
    in_list: bool = False

    @property
    def key(self) -> str:
        """The name a struct field is written under (the last part of its dotted path)."""
        return self.name.rsplit(".", 1)[-1]

    @property
    def is_written(self) -> bool:
        """A column of its table's output (not hidden, not a part of a nested column)."""
        return not self.hidden and self.part_of is None

    @property
    def children(self) -> tuple[Column, ...]:
        """A nested column's direct parts: its fields, or its items."""
        return self.fields if self.items is None else (self.items,)


@dataclass(frozen=True)
class RowsPer:
    """``rows: {per: parent, distribution: {...}, min, max}``: children per parent row; with
    ``total``, exactly that many children spread over the parents within ``min``/``max`` (the
    distribution, when given, weighs the parents)."""

    per: str
    distribution: GeneratorSpec | None
    min: int = 0
    max: int | None = None
    total: int | None = None
    #: the fk column whose parent owns the rows, when the table has several fks to ``per``
    #: (default: the first)
    via: str | None = None


@dataclass(frozen=True)
class RowsOf:
    """``rows: {of: parent, coverage: 0.8}``: a share of another table's rows — the children of a
    one-to-one key (a ``unique: true`` fk to ``of``) for that share of the parent rows. The count
    follows the parent's planned rows, so ``--rows``/``--scale`` on the parent carry over."""

    of: str
    coverage: float  # in (0, 1]

    def count(self, parent_rows: int) -> int:
        """``round(coverage × parent_rows)`` (half to even), at least 1 and at most the parent's."""
        return max(1, min(int(parent_rows), round(self.coverage * parent_rows)))


@dataclass(frozen=True)
class EventsSpec:
    time: str  # the timestamp column ordering the stream
    key: str | None  # the column used as the envelope's key
    type: str  # a column name, or a constant event type
    type_is_column: bool
    late_rate: float = 0.0


@dataclass(frozen=True)
class AnomalyKind:
    """One kind of a table's ``anomalies``: its registered name, weight among the kinds and
    parameters (``shared.anomalies``)."""

    name: str
    params: Mapping[str, Any]
    path: tuple
    weight: float = 1.0


@dataclass(frozen=True)
class AnomalySpec:
    """``anomalies:`` of a table: a share ``rate`` of its rows made anomalous by the kinds (by
    weight), each labelled in the column ``label`` (added to the table: null on normal rows)."""

    rate: float
    label: str
    kinds: tuple[AnomalyKind, ...]
    path: tuple


@dataclass(frozen=True)
class Index:
    """``indexes:`` of a table: an index a database target creates after loading the rows
    (``CREATE [UNIQUE] INDEX name ON table (columns)``). ``name`` defaults to
    ``ix_<table>_<columns joined by _>``."""

    name: str
    columns: tuple[str, ...]
    path: tuple
    unique: bool = False
    #: where the columns are written (``indexes[0]`` for the list form, ``indexes[0].columns``)
    columns_path: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class Correlation:
    """One ``correlations:`` entry of a table: a Gaussian copula over ``columns``.

    ``matrix`` is the correlation of the latent standard normals (k × k, symmetric, positive
    semi-definite, unit diagonal; checked by the loader). Each participating column draws its
    value through its generator's inverse CDF (``Generator.quantile``) from Φ of its latent
    normal instead of its own ``value`` uniform (``shared.schema_dsl.copula``)."""

    kind: str  # "gaussian_copula"
    columns: tuple[str, ...]
    matrix: tuple[tuple[float, ...], ...]
    path: tuple


@dataclass(frozen=True)
class Table:
    name: str
    rows: int | RowsPer | RowsOf
    columns: tuple[Column, ...]
    path: tuple
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    events: EventsSpec | None = None
    description: str | None = None
    corruption: Mapping[str, Any] | None = None
    #: columns whose values name the Hive-style folders (``region=EU/``) of formats written as
    #: folders of files (Parquet, CSV); the files then hold the other columns
    partition_by: tuple[str, ...] = ()
    #: indexes database targets create (SQLite; PostgreSQL)
    indexes: tuple[Index, ...] = ()
    #: labelled, rule-shaped anomalies in a share of the rows (``shared.anomalies``)
    anomalies: AnomalySpec | None = None
    #: the table's name in SQL (DDL and database targets), when it differs from ``name``
    sql_name: str | None = None
    #: Gaussian copulas over some of the columns (``correlations:``), each column in one at most
    correlations: tuple[Correlation, ...] = ()

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        # built once: a lookup by name is O(1), so work over every column stays linear in columns
        return {c.name: c for c in reversed(self.columns)}  # the first of a name wins

    def column(self, name: str) -> Column:
        return self._by_name[name]

    def has_column(self, name: str) -> bool:
        return name in self._by_name

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def sql_named(self) -> Table:
        """This table under its SQL names (``sql_name`` where given): the table, its columns, and
        the keys, unique groups, indexes and partition columns that name them; its references
        renamed on the child's side (``Schema.sql_named`` renames what they point at too)."""
        if self.sql_name is None and all(c.sql_name is None for c in self.columns):
            return self
        import dataclasses

        name = self.sql_name or self.name
        m = {c.name: c.sql_name or c.name for c in self.columns}

        def col(c: Column) -> Column:
            r = c.references
            if r is not None:
                mine = r.self_reference
                r = dataclasses.replace(r, table=name, column=m.get(r.column, r.column),
                                        parent=name if mine else r.parent,
                                        parent_column=m.get(r.parent_column, r.parent_column)
                                        if mine and r.parent_column is not None else r.parent_column,
                                        with_columns=tuple((m.get(a, a), m.get(b, b) if mine else b)
                                                           for a, b in r.with_columns))
            return dataclasses.replace(c, name=m[c.name], sql_name=None, references=r)

        return dataclasses.replace(
            self, name=name, sql_name=None, columns=tuple(col(c) for c in self.columns),
            primary_key=tuple(m.get(n, n) for n in self.primary_key),
            unique=tuple(tuple(m.get(n, n) for n in g) for g in self.unique),
            indexes=tuple(dataclasses.replace(ix, columns=tuple(m.get(n, n) for n in ix.columns))
                          for ix in self.indexes),
            partition_by=tuple(m.get(n, n) for n in self.partition_by))

    @property
    def sql_columns(self) -> dict[str, str]:
        """Each column's SQL name by its DSL name."""
        return {c.name: c.sql_name or c.name for c in self.columns}

    @property
    def foreign_keys(self) -> tuple[ForeignKeyRef, ...]:
        """The foreign keys of this table's columns, in column order."""
        return tuple(c.references for c in self.columns if c.references is not None)

    @property
    def owner(self) -> ForeignKeyRef | None:
        """The owning foreign key of a per-parent table (``rows.per``), else None."""
        return next((r for r in self.foreign_keys if r.owner), None)


@dataclass(frozen=True)
class Source:
    path: str  # as given by the user
    #: the schema's identity: the SHA-256 of the bytes read, and of the files its generators read
    #: when there are any (``files``; the loader's ``_with_files``)
    sha256: str
    lines: Mapping[tuple, tuple[int, int]] = field(default_factory=dict, compare=False, repr=False)
    #: the bytes read (``sha256`` is theirs): what a run store keeps so ``runs rerun`` reloads the
    #: very same schema
    raw: bytes = field(default=b"", compare=False, repr=False)
    #: (name as written, SHA-256) of each file the schema's generators read (a learned model)
    files: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)

    def locate(self, path: tuple) -> tuple[int | None, int | None]:
        """Line and column (1-based) of the longest known prefix of a schema path."""
        p = tuple(path)
        while True:
            if p in self.lines:
                return self.lines[p]
            if not p:
                return None, None
            p = p[:-1]


@dataclass(frozen=True)
class Schema:
    version: int
    name: str
    tables: tuple[Table, ...]
    source: Source
    description: str | None = None
    seed: int = 0
    locale: str = "en_US"
    profile: str = "realistic"
    anchor: str = "2025-01-01T00:00:00Z"
    anchor_us: int = 0
    corruption: Mapping[str, Any] | None = None
    #: ``stream.events_per_second``: the rate a live stream of the events goes at by default
    stream_rate: float | None = None
    #: where the anchor came from: "schema" (written there, or the default), "option"
    #: (``--anchor``), or "now" (the run's start, resolved at load time)
    anchor_from: str = "schema"

    @cached_property
    def _by_name(self) -> dict[str, Table]:
        return {t.name: t for t in reversed(self.tables)}

    @cached_property
    def written(self) -> Schema:
        """The schema as it is written: every table without its hidden columns. Formats,
        corruption and ``validate`` see this; the engine computes from the whole schema."""
        if all(c.is_written for t in self.tables for c in t.columns):
            return self
        import dataclasses

        tables = tuple(dataclasses.replace(t, columns=tuple(c for c in t.columns if c.is_written))
                       for t in self.tables)
        return dataclasses.replace(self, tables=tables)

    def table(self, name: str) -> Table:
        return self._by_name[name]

    def has_table(self, name: str) -> bool:
        return name in self._by_name

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    @property
    def has_sql_names(self) -> bool:
        return any(t.sql_name is not None or any(c.sql_name is not None for c in t.columns) for t in self.tables)

    @cached_property
    def sql_named(self) -> Schema:
        """The schema under the names SQL sees: each table and column named by its ``sql_name``
        where it has one, and the keys, unique groups, indexes and references that name them
        renamed alike. DDL and the database targets build their statements from it; the engine's
        Arrow batches keep the DSL names (a target maps them by position)."""
        if not self.has_sql_names:
            return self
        import dataclasses

        tables = {t.name: t.sql_name or t.name for t in self.tables}
        columns = {t.name: {c.name: c.sql_name or c.name for c in t.columns} for t in self.tables}

        out = []
        for t in self.tables:
            named = t.sql_named  # the table's own names; what its references point at, next
            cols = []
            for c, cs in zip(t.columns, named.columns, strict=True):
                r = c.references
                if r is None or r.self_reference or r.parent not in tables or cs.references is None:
                    cols.append(cs)
                    continue
                pm = columns[r.parent]
                cols.append(dataclasses.replace(cs, references=dataclasses.replace(
                    cs.references, parent=tables[r.parent],
                    parent_column=None if r.parent_column is None else pm.get(r.parent_column, r.parent_column),
                    with_columns=tuple((columns[t.name].get(x, x), pm.get(y, y)) for x, y in r.with_columns))))
            out.append(dataclasses.replace(named, columns=tuple(cols)))
        return dataclasses.replace(self, tables=tuple(out))

    @property
    def foreign_keys(self) -> tuple[ForeignKeyRef, ...]:
        """Every foreign key, in schema order (tables, then columns)."""
        return tuple(r for t in self.tables for r in t.foreign_keys)

    def resolve_ref(self, table: Table, name: str) -> Column:
        """The column a reference names: ``col`` in the same row (``address.city``: a field of a
        struct column), or ``fk_col.parent_col`` through a foreign-key column of ``table``.
        Raises KeyError with a readable message."""
        if table.has_column(name) and not table.column(name).in_list:
            return table.column(name)
        if "." not in name:
            if not table.has_column(name):
                raise KeyError(f"no column {name!r} in table {table.name!r}")
            return table.column(name)
        fk_name, _, parent_col = name.partition(".")
        if not table.has_column(fk_name):
            raise KeyError(f"no column {fk_name!r} in table {table.name!r}")
        ref = table.column(fk_name).references
        if ref is None:
            raise KeyError(f"{fk_name!r} is not a foreign key (generator fk), so {name!r} cannot reach a parent")
        parent_name = ref.parent
        if not self.has_table(parent_name):
            raise KeyError(f"foreign key {fk_name!r} names no existing table {parent_name!r}")
        parent = self.table(parent_name)
        if not parent.has_column(parent_col) or parent.column(parent_col).in_list:
            raise KeyError(f"no column {parent_col!r} in parent table {parent_name!r}")
        return parent.column(parent_col)
