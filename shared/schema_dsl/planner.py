"""The planner: from a valid schema and the run's options to a ``Plan`` the engine executes.

``resolve_plan(schema, seed=…, rows={…}, scale=…, profile=…)``

* resolves row overrides (``--rows TABLE=N`` — an unknown table is a ``UsageError``) and ``--scale``;
* applies ``--table-scale TABLE=F`` after ``--scale`` and selects the tables a run writes
  (``--include`` / ``--exclude``; see "Plan arithmetic" below);
* computes the foreign-key graph once (``Plan.foreign_keys``, the columns' ``ForeignKeyRef``s in
  plan order; ``Plan.parents``/``Plan.children`` per table) and orders the tables so every parent
  comes before its children (cycles were refused by the loader);
* computes the row count of per-parent tables from their parents' addressable child counts, and
  of coverage tables (``rows: {of, coverage}``) from their parent's planned rows;
* orders each table's columns so that every same-row reference is computed first (a cycle of
  references is named);
* decides how each unique column and each unique group is kept by construction, and runs the
  feasibility analysis: the capacity of every unique domain against its row count, bounds that
  contradict each other, a sequence that would leave its type or its max, a one-to-one key (a unique
  fk) with more rows than its parent. Any infeasibility raises
  ``InfeasibleSchema`` (exit 2) naming the column and the capacity;
* refuses a plan whose size estimate — the sum over tables of rows × columns ("cells") — is over
  ``MAX_CELLS`` (5e9; the environment variable ``DATAGEN_MAX_CELLS`` adjusts it) unless the caller
  passes ``allow_huge=True`` (the ``--allow-huge`` flag): a typo such as ``--scale 10000`` fails
  at once with a ``UsageError`` naming the estimate, the cap and the flag, instead of filling a
  disk. Fixed-row tables are counted before any per-parent table is planned, so the refusal is
  immediate.

Plan arithmetic (a table's resolved rows, the order sdgen resolves them in):

1. the table's own count: ``rows: N``, or the ``total`` of ``rows: {per, total}``; a table whose
   rows follow from its parent (``rows: {per}`` with a distribution, ``rows: {of, coverage}``)
   takes the parent's *resolved* rows — so scaling a parent carries over to such children;
2. ``× --scale F`` (every table with an own count), rounded half to even, at least 1;
3. ``× --table-scale TABLE=F`` (that table only), rounded half to even again, at least 1 — two
   roundings, as sdgen does; a ``rows: {of}`` table is scaled from its coverage count (the
   one-to-one check still refuses more rows than the parent); a ``rows: {per}`` table without a
   ``total`` has no count of its own: ``--table-scale`` on it is refused, as ``--rows`` is;
4. ``--rows TABLE=N`` is absolute: it wins over both factors;
5. a ``total`` is then kept inside ``[min × parents, max × parents]`` as ``--scale`` always did.

Table selection: ``include`` keeps only those tables, ``exclude`` drops those (both may be given,
as in sdgen: include first, then exclude — a table named in both is excluded). Excluded tables stay
in the plan — rows, seeds, keys — so the kept tables' values (foreign keys, lookups, per-parent
counts) are exactly a full run's; only the writing skips them (``Plan.excluded``). A kept table
whose parent (foreign key, ``rows.per`` or ``rows.of``) is excluded is refused unless the caller
passes ``allow_missing_parents=True`` — what a frontend does when the target already holds the
parents (a database written with ``mode=append``); the planner itself knows no formats.
"""

from __future__ import annotations

import decimal
import math
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from types import MappingProxyType
from typing import Any

import numpy as np

from shared.constraints.coerce import allowed_mask, coerce
from shared.distributions.base import GENERATORS
from shared.errors import InfeasibleSchema, PlanError, Problem, UsageError
from shared.io import rng
from shared.model import timeutil
from shared.model.schema import PROFILES, Column, ForeignKeyRef, RowsOf, RowsPer, Schema, Table, fmt_path
from shared.relationships.cardinality import COUNT_COLUMN, PARENT_BLOCK, CountIndex, build_count_index, clamp_counts
from shared.schema_dsl.context import ColumnContext

DEFAULT_BLOCK_ROWS = 65_536
#: per-parent child counts are summed at plan time (one pass over the parents' count cells): at most
#: this many parents in all, even with ``allow_huge``
MAX_PER_PARENT_ROWS = 10**10
#: parents whose child counts the planner draws, over all per-parent tables, without ``allow_huge``
#: (about ten million a second on one core: a plan is never minutes of counting unasked)
MAX_COUNTED_PARENTS = 10**8
#: the size cap: rows × columns summed over the tables; more needs ``allow_huge`` (--allow-huge)
MAX_CELLS = 5_000_000_000
MAX_CELLS_ENV = "DATAGEN_MAX_CELLS"
#: nested reads through parents (``fk.col`` of a parent that reads its own parent's, …) a value may
#: take; each level is one nested lookup when generating (about a dozen Python frames: 32 levels stay
#: well inside the interpreter's default recursion limit, whatever the generators)
MAX_LOOKUP_DEPTH = 32
#: a row index is an int64
MAX_TABLE_ROWS = 2**63 - 1


def max_cells() -> int:
    """The cell cap: ``MAX_CELLS``, or ``DATAGEN_MAX_CELLS`` when set (a positive whole number)."""
    env = os.environ.get(MAX_CELLS_ENV)
    if env is None or not env.strip():
        return MAX_CELLS
    try:
        n = int(float(env)) if any(ch in env for ch in ".eE") else int(env.replace("_", ""))
    except (ValueError, OverflowError):
        raise UsageError(f"{MAX_CELLS_ENV}={env!r}: expected a positive whole number of cells, e.g. 5e9") from None
    if n < 1:
        raise UsageError(f"{MAX_CELLS_ENV}={env!r}: expected a positive whole number of cells, e.g. 5e9")
    return n


def _check_size(schema: Schema, sizes: Mapping[str, int], cap: int, about: str = "about") -> None:
    """Refuse an estimate over the cap, naming it, the largest tables, the cap and the flag."""
    cells = sum(sizes.values())
    if cells <= cap:
        return
    biggest = sorted(sizes, key=lambda n: -sizes[n])[:3]
    detail = ", ".join(f"{n}: {sizes[n] // max(1, len(schema.table(n).columns)):,} rows × "
                       f"{len(schema.table(n).columns)} columns" for n in biggest)
    raise UsageError(
        f"the plan is {about} {cells:,} cells (rows × columns; {detail}), over the cap of {cap:,} cells; "
        f"pass --allow-huge to generate it anyway, or lower --rows / --scale "
        f"({MAX_CELLS_ENV} adjusts the cap)")


@dataclass(frozen=True)
class Feasibility:
    table: str
    column: str | None
    check: str  # unique_capacity | bounds | sequence_range | cardinality | ...
    ok: bool
    capacity: int | None
    needed: int | None
    message: str


@dataclass(frozen=True)
class UniqueGroup:
    """Columns made jointly unique by decoding one permuted index in mixed radix."""

    columns: tuple[str, ...]
    capacities: tuple[int, ...]


@dataclass(frozen=True)
class TablePlan:
    table: Table
    rows: int
    column_order: tuple[str, ...]
    depends_on: tuple[str, ...]
    per: CountIndex | None = None
    owner_column: str | None = None  # the fk column filled with the owning parent (its ref's ``owner``)
    unique_index: Mapping[str, int] = field(default_factory=dict)  # column → capacity (index strategy)
    groups: tuple[UniqueGroup, ...] = ()


@dataclass(frozen=True)
class Plan:
    schema: Schema
    seed: int
    profile: str
    order: tuple[str, ...]
    tables: Mapping[str, TablePlan]
    feasibility: tuple[Feasibility, ...]
    block_rows: int = DEFAULT_BLOCK_ROWS
    rows_overrides: Mapping[str, int] = field(default_factory=dict)
    scale: float | None = None
    #: planned past the size cap on purpose (``--allow-huge``); recorded in the manifest
    allow_huge: bool = False
    #: the foreign-key graph: every column's ``ForeignKeyRef``, tables in plan order, then columns
    foreign_keys: tuple[ForeignKeyRef, ...] = ()
    #: the run's choice of corruption kinds (``--corrupt KIND[=RATE]``): only these, each at its
    #: rate or else the schema's, else the documented one; ``None``: the schema decides
    corrupt: Mapping[str, float | None] | None = None
    #: ``--table-scale TABLE=F``: a factor per table, applied after ``scale`` (``--rows`` wins)
    table_scale: Mapping[str, float] = field(default_factory=dict)
    #: ``--include`` as given (None: every table) and ``--exclude`` as given, in schema order
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    #: the tables planned but not written (the result of include/exclude), in plan order
    excluded: tuple[str, ...] = ()
    #: (kept table, excluded parent) pairs allowed by ``allow_missing_parents`` (appending into a
    #: target that already holds the parents)
    missing_parents: tuple[tuple[str, str], ...] = ()

    @property
    def kept(self) -> tuple[str, ...]:
        """The tables the run writes, in plan order."""
        return tuple(n for n in self.order if n not in self.excluded)

    def written_schema(self) -> Schema:
        """The schema as written (no hidden columns) with only the kept tables: what formats and
        ``validate`` see. The engine computes from the whole plan."""
        written = self.schema.written
        if not self.excluded:
            return written
        import dataclasses

        return dataclasses.replace(written, tables=tuple(t for t in written.tables if t.name not in self.excluded))

    def rows(self, table: str) -> int:
        return self.tables[table].rows

    def parents(self, table: str) -> tuple[ForeignKeyRef, ...]:
        """The foreign keys held by ``table``'s columns (self-references included)."""
        return tuple(r for r in self.foreign_keys if r.table == table)

    def children(self, table: str) -> tuple[ForeignKeyRef, ...]:
        """The foreign keys that point at ``table`` (self-references included)."""
        return tuple(r for r in self.foreign_keys if r.parent == table)

    def table_plans(self):
        return [self.tables[n] for n in self.order]


def parse_rows_overrides(items: list[str] | tuple[str, ...] | None) -> dict[str, int]:
    """``["customers=500", "orders=2000"]`` → dict; malformed items raise UsageError."""
    out: dict[str, int] = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--rows {item!r}: expected TABLE=N, e.g. --rows customers=500")
        try:
            n = int(value.replace("_", ""))
        except ValueError:
            raise UsageError(f"--rows {item!r}: {value!r} is not a whole number") from None
        if n < 1:
            raise UsageError(f"--rows {item!r}: a table needs at least 1 row")
        if n > MAX_TABLE_ROWS:
            raise UsageError(f"--rows {item!r}: more rows than a table can hold (at most {MAX_TABLE_ROWS:,})")
        out[name] = n
    return out


def parse_table_scale(items: list[str] | tuple[str, ...] | None) -> dict[str, float]:
    """``["orders=2", "events=0.5"]`` → ``{"orders": 2.0, "events": 0.5}``: each factor a finite
    number above 0; a malformed item or a table named twice raises UsageError."""
    out: dict[str, float] = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--table-scale {item!r}: expected TABLE=F, e.g. --table-scale orders=2")
        try:
            f = float(value.strip().replace("_", ""))
        except ValueError:
            raise UsageError(f"--table-scale {item!r}: {value!r} is not a number") from None
        if not (math.isfinite(f) and f > 0):
            raise UsageError(f"--table-scale {item!r}: the factor must be a finite number above 0")
        if name in out:
            raise UsageError(f"--table-scale {item!r}: table {name!r} is scaled twice (give one factor per table)")
        out[name] = f
    return out


def check_table_scale(name: str, f: Any) -> float:
    """A ``--table-scale`` factor: a finite number above 0 (a bool is not a number here)."""
    if isinstance(f, bool) or not isinstance(f, (int, float)):
        raise UsageError(f"--table-scale {name}={f!r}: a factor is a number above 0")
    try:
        f = float(f)
    except OverflowError:
        raise UsageError(f"--table-scale {name}={f!r}: must be a finite number above 0") from None
    if not (math.isfinite(f) and f > 0):
        raise UsageError(f"--table-scale {name}={f!r}: must be a finite number above 0")
    return f


def _num(f: Any) -> str:
    """A factor as a person wrote it: ``2`` for 2.0, ``0.5``; anything else as its repr."""
    return f"{f:g}" if isinstance(f, float) and math.isfinite(f) else (str(f) if isinstance(f, int) else repr(f))


def unknown_table_error(schema: Schema, flag: str, name: str) -> UsageError:
    """``{flag}: the schema has no table 'x' (did you mean 'y'?)`` (or the list of tables)."""
    from shared.registry import did_you_mean

    hint = did_you_mean(name, schema.table_names) or f"tables: {', '.join(schema.table_names)}"
    return UsageError(f"{flag}: the schema has no table {name!r} ({hint})")


def select_tables(schema: Schema, include: Collection[str] | None = None,
                  exclude: Collection[str] | None = None) -> tuple[tuple[str, ...] | None, tuple[str, ...],
                                                                   tuple[str, ...]]:
    """``(include, exclude, excluded)``: the names checked (unknown ones raise UsageError with the
    closest name), each in schema order without repeats, and the tables not written — every table
    outside ``include`` (when given) and every table in ``exclude`` — include first, then exclude,
    as sdgen applies them (a table in both is excluded). Nothing left to write is a UsageError."""
    for flag, names in (("--include", include), ("--exclude", exclude)):
        if isinstance(names, str):
            raise UsageError(f"{flag}: give a list of table names, not the text {names!r}")
        for n in names or ():
            if not isinstance(n, str) or not schema.has_table(n):
                raise unknown_table_error(schema, f"{flag} {n}", str(n))
    inc = None if include is None else tuple(n for n in schema.table_names if n in set(include))
    exc = tuple(n for n in schema.table_names if n in set(exclude or ()))
    excluded = tuple(n for n in schema.table_names if (inc is not None and n not in inc) or n in exc)
    if len(excluded) == len(schema.table_names):
        raise UsageError("--include/--exclude leave no table to write"
                         + (" (--include names none)" if inc == () else ""))
    return inc, exc, excluded


def _missing_parents(schema: Schema, excluded: tuple[str, ...], exc: tuple[str, ...],
                     allow: bool) -> tuple[tuple[str, str], ...]:
    """Kept tables whose parents are excluded: refused (naming child, parent and the fix) unless
    ``allow`` (the target already holds the parents)."""
    pairs = [(t.name, p) for t in schema.tables if t.name not in excluded
             for p in sorted(_table_deps(t)) if p in excluded]
    if pairs and not allow:
        flag = "--exclude" if pairs[0][1] in exc else "--include"
        lines = [f"table {c!r} is written but its parent {p!r} is not" for c, p in pairs[:5]]
        more = f" … and {len(pairs) - 5} more" if len(pairs) > 5 else ""
        child, parent = pairs[0]
        how = f"--include {parent}" if flag == "--include" else f"drop --exclude {parent}"
        raise UsageError(f"{flag}: " + "; ".join(lines) + more + f" — include it ({how}), or --mode append "
                         f"(--option mode=append) into a target that already holds {parent!r}")
    return tuple(pairs)


def _problem(schema: Schema, path: tuple, message: str, hint: str | None = None) -> Problem:
    line, col = schema.source.locate(path)
    return Problem(message, fmt_path(path), schema.source.path, line, col, hint)


def _order_tables(schema: Schema) -> tuple[str, ...]:
    deps = {t.name: _table_deps(t) for t in schema.tables}
    order: list[str] = []
    done: set[str] = set()
    # stable: schema order, each table after its parents
    remaining = list(schema.table_names)
    while remaining:
        progressed = False
        for name in list(remaining):
            if deps[name] <= done:
                order.append(name)
                done.add(name)
                remaining.remove(name)
                progressed = True
        if not progressed:  # the loader refuses cycles; keep a clear error anyway
            raise PlanError("foreign keys form a cycle among: " + ", ".join(remaining))
    return tuple(order)


def _column_refs(table: Table, column: Column) -> set[str]:
    gen = GENERATORS[column.generator.type]
    out = set()
    for name in gen.references(column.generator.params):
        # a same-row column or a struct's field (``address.city``) by its name; ``fk.col`` reads
        # the fk column's parent row
        out.add(name if table.has_column(name) else name.split(".", 1)[0])
    return {n for n in out if table.has_column(n)}


def _find_cycle(nodes, edges) -> list | None:
    """The first cycle of a directed graph as ``[n0, n1, …, n0]``, or None; ``edges(n)`` lists a
    node's successors. Iterative (a chain of thousands of columns needs no recursion) and linear
    in nodes and edges; nodes are visited in the order given, successors in the order listed."""
    state: dict = {}
    for root in nodes:
        if state.get(root):
            continue
        state[root] = 1
        path = [root]
        stack = [iter(edges(root))]
        while stack:
            for m in stack[-1]:
                st = state.get(m)
                if st == 1:
                    return path[path.index(m):] + [m]
                if st is None:
                    state[m] = 1
                    path.append(m)
                    stack.append(iter(edges(m)))
                    break
            else:
                state[path.pop()] = 2
                stack.pop()
    return None


def _order_columns(schema: Schema, table: Table) -> tuple[str, ...]:
    deps = {c.name: sorted(_column_refs(table, c)) for c in table.columns}
    for c in table.columns:
        if c.name in deps[c.name]:
            raise PlanError(f"{schema.source.path}: column refers to itself",
                            [_problem(schema, c.generator.path, f"column {c.name!r} refers to itself")])
    names = [c.name for c in table.columns]
    cyc = _find_cycle(names, deps.__getitem__)
    if cyc is not None:
        c = table.column(cyc[0])
        raise PlanError(f"{schema.source.path}: columns refer to each other in a cycle",
                        [_problem(schema, c.generator.path, "column references form a cycle: " + " → ".join(cyc),
                                  "one of them must not depend on the others")])
    # dependencies first, otherwise schema order: a post-order walk
    order: list[str] = []
    done: set[str] = set()
    for root in names:
        if root in done:
            continue
        done.add(root)
        stack = [(root, iter(deps[root]))]
        while stack:
            n, it = stack[-1]
            for m in it:
                if m not in done:
                    done.add(m)
                    stack.append((m, iter(deps[m])))
                    break
            else:
                order.append(n)
                stack.pop()
    return tuple(order)


def _reference_graph(schema: Schema) -> dict[tuple[str, str], list[tuple[tuple[str, str], str, int]]]:
    """What each column reads, as ``(table, column) → [((table, column), how, lookups)]``.

    ``lookups`` is 1 for a read at other rows (an fk column reads its parent's key; ``fk.col``
    reads a parent's column) and 0 for a same-row read (``col``). ``how`` is the reference as
    written, for messages.
    """
    graph: dict[tuple[str, str], list[tuple[tuple[str, str], str, int]]] = {}
    for t in schema.tables:
        for c in t.columns:
            out = []
            fk = c.references
            if fk is not None and fk.parent_column is not None and schema.has_table(fk.parent):
                out.append(((fk.parent, fk.parent_column), f"{fk.parent}.{fk.parent_column}", 1))
            for ref in GENERATORS[c.generator.type].references(c.generator.params):
                if t.has_column(ref) and "." in ref:  # a struct's field in the same row
                    out.append(((t.name, ref), ref, 0))
                    continue
                fk_name, dot, parent_col = ref.partition(".")
                if not t.has_column(fk_name):
                    continue
                if not dot:
                    out.append(((t.name, fk_name), ref, 0))
                    continue
                via = t.column(fk_name).references
                if via is not None and schema.has_table(via.parent) and schema.table(via.parent).has_column(parent_col):
                    out.append(((via.parent, parent_col), ref, 1))
            graph[(t.name, c.name)] = out
    return graph


def _check_references(schema: Schema) -> None:
    """Refuse values that cannot be computed row by row: a cycle through other rows, or a chain of
    reads through parents deeper than ``MAX_LOOKUP_DEPTH``.

    ``path: "{parent.path}/{id}"`` or ``depth: parent.depth + 1`` (``parent`` a foreign key into
    the same table), or ``x: parent.y`` with ``y: parent.x``: each row's value needs its parent's,
    which needs its own parent's, up the whole chain — as deep as the data. Same-row cycles are left
    to ``_order_columns``; tables form no cycle (the loader refuses one), so every cycle found here
    passes through a self-reference. Linear in columns and references.
    """
    graph = _reference_graph(schema)
    cyc = _find_cycle(list(graph), lambda n: [m for m, _, _ in graph[n]])
    if cyc is not None:
        steps = [(a, next((how, k) for m, how, k in graph[a] if m == b)) for a, b in pairwise(cyc)]
        if not any(k for _, (_, k) in steps):
            return  # a same-row cycle: _order_columns names it
        first = next(i for i, (_, (_, k)) in enumerate(steps) if k)
        steps = steps[first:] + steps[:first]
        table, column = steps[0][0]
        reads = "; ".join(f"{a[0]}.{a[1]} reads {how}" for a, (how, _) in steps)
        raise PlanError(
            f"{schema.source.path}: a column is defined through its own parent chain",
            [_problem(schema, schema.table(table).column(column).generator.path,
                      f"{reads} — each row's value needs its parent's, which needs its own parent's, up "
                      f"the whole chain: it cannot be computed row by row",
                      "compute it from the row's own columns (e.g. from the id), or read a parent column "
                      "that does not itself read through the self-reference")])
    # the deepest chain of reads through parents: each level is one nested lookup at generate time
    depth: dict[tuple[str, str], int] = {}
    nxt: dict[tuple[str, str], tuple[str, str] | None] = {}
    for root in graph:
        if root in depth:
            continue
        stack = [root]
        while stack:
            n = stack[-1]
            todo = [m for m, _, _ in graph[n] if m not in depth and m in graph]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            if n in depth:
                continue
            best, arg = 0, None
            for m, _, k in graph[n]:
                if m in depth and depth[m] + k > best:
                    best, arg = depth[m] + k, m
            depth[n], nxt[n] = best, arg
    deepest = max(graph, key=lambda n: depth[n], default=None)
    if deepest is not None and depth[deepest] > MAX_LOOKUP_DEPTH:
        shown: list[str] = []
        at: tuple[str, str] | None = deepest
        while at is not None:
            shown.append(f"{at[0]}.{at[1]}")
            at = nxt[at]
        if len(shown) > 8:
            shown = shown[:4] + [f"… {len(shown) - 7} more …"] + shown[-3:]
        raise PlanError(
            f"{schema.source.path}: values read through {depth[deepest]} levels of parents",
            [_problem(schema, schema.table(deepest[0]).column(deepest[1]).generator.path,
                      f"{' → '.join(shown)}: {depth[deepest]} nested reads through parents, over the "
                      f"{MAX_LOOKUP_DEPTH} this version follows",
                      "read the value from a nearer table, or copy it down fewer levels")])


def _count_fn(schema: Schema, seed: int, profile: str, table: Table, resolver=None):
    """Parent rows → child counts. ``resolver(name, parent_rows)`` gives the parent's columns to a
    distribution that reads them (a ``switch`` on a parent column), else None."""
    rp = table.rows
    assert isinstance(rp, RowsPer) and rp.distribution is not None
    dist = rp.distribution
    gen = GENERATORS[dist.type]
    fake_col = Column(name=COUNT_COLUMN, dtype=table.columns[0].dtype, generator=dist,
                      path=table.path + ("rows",))
    parent = schema.table(rp.per) if resolver is not None else None

    def counts(parent_rows: np.ndarray) -> np.ndarray:
        ctx = ColumnContext(seed=seed, table=table, column=fake_col, params=dist.params,
                            rows=parent_rows, n_total=0, profile=profile, locale=schema.locale,
                            anchor_us=schema.anchor_us, schema=schema, purpose_prefix="count/",
                            resolver=resolver, ref_table=parent)
        return clamp_counts(gen.generate(ctx), rp.min, rp.max)

    return counts


#: builds an engine over a plan, to evaluate a parent's columns for counts that read them; the
#: engine registers itself (``set_engine_factory``) — it imports the planner, so the planner
#: cannot import it back
_engine_factory: Callable[[Plan], Any] | None = None


def set_engine_factory(factory: Callable[[Plan], Any]) -> None:
    global _engine_factory
    _engine_factory = factory


def _parent_resolver(schema: Schema, seed: int, profile: str, table: Table, order, final, block_rows: int):
    """The parent's columns at parent rows, for a count distribution that reads them (None when it
    reads none): an engine over the tables planned so far — the parent and its ancestors, complete
    with their unique strategies — so a count sees exactly the values the parent's rows are
    written with."""
    rp = table.rows
    assert isinstance(rp, RowsPer)
    if rp.distribution is None or not GENERATORS[rp.distribution.type].references(rp.distribution.params):
        return None
    if _engine_factory is None:  # set when shared.schema_dsl.engine is imported (shared.api does)
        raise PlanError(f"table {table.name!r} counts its rows from columns of {rp.per!r}: load "
                        f"shared.schema_dsl.engine (or shared.api) before planning")
    partial = Plan(schema=schema, seed=seed, profile=profile, order=tuple(n for n in order if n in final),
                   tables=MappingProxyType(dict(final)), feasibility=(), block_rows=block_rows)
    engine = _engine_factory(partial)
    parent = rp.per

    def resolve(name: str, rows: np.ndarray):
        return engine.reference(parent, name, rows)

    return resolve


def resolve_plan(schema: Schema, *, seed: int | None = None, rows: Mapping[str, int] | None = None,
                 scale: float | None = None, profile: str | None = None,
                 block_rows: int = DEFAULT_BLOCK_ROWS, allow_huge: bool = False,
                 corrupt: Mapping[str, float | None] | None = None,
                 table_scale: Mapping[str, float] | None = None, include: Collection[str] | None = None,
                 exclude: Collection[str] | None = None, allow_missing_parents: bool = False) -> Plan:
    """The plan (see the module docstring). ``table_scale``: a factor per table after ``scale``;
    ``include``/``exclude``: the tables written; ``allow_missing_parents``: a kept table may
    reference an excluded parent (the caller appends into a target that holds it)."""
    rows = dict(rows or {})
    problems: list[Problem] = []
    tscale = dict(table_scale or {})
    for name, f in tscale.items():
        if not schema.has_table(name):
            raise unknown_table_error(schema, f"--table-scale {name}={_num(f)}", name)
        tscale[name] = check_table_scale(name, f)
        per_rows = schema.table(name).rows
        if isinstance(per_rows, RowsPer) and per_rows.total is None:
            raise UsageError(f"--table-scale {name}={_num(f)}: the rows of {name!r} follow from its parent "
                             f"{per_rows.per!r} (rows.per, no count of its own); scale the parent instead")
    inc, exc, excluded = select_tables(schema, include, exclude)
    missing = _missing_parents(schema, excluded, exc, allow_missing_parents)
    for name in rows:
        if not schema.has_table(name):
            from shared.registry import did_you_mean

            hint = did_you_mean(name, schema.table_names) or f"tables: {', '.join(schema.table_names)}"
            raise UsageError(f"--rows {name}={rows[name]}: the schema has no table {name!r} ({hint})")
        per_rows = schema.table(name).rows
        if isinstance(per_rows, RowsPer) and per_rows.total is None:
            raise UsageError(f"--rows {name}={rows[name]}: the rows of {name!r} follow from its parent "
                             f"{per_rows.per!r} (rows.per); set the parent's rows instead")
        n = rows[name]
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_TABLE_ROWS:
            raise UsageError(f"--rows {name}={n!r}: a row count is a whole number from 1 to {MAX_TABLE_ROWS:,}")
    if scale is not None and not (scale > 0 and math.isfinite(scale)):
        raise UsageError(f"--scale {scale}: must be a positive number")
    if profile is not None and profile not in PROFILES:
        raise UsageError(f"--profile {profile}: one of {', '.join(PROFILES)}")
    if block_rows < 1:
        raise UsageError("--block-rows must be at least 1")
    seed = schema.seed if seed is None else int(seed)
    if not 0 <= seed < 2**63:
        raise UsageError(f"--seed {seed}: must be between 0 and 2**63-1")
    if corrupt is not None:
        corrupt = _check_corrupt(corrupt, profile)
        profile = "dirty"
    profile = profile or schema.profile

    order = _order_tables(schema)
    _check_references(schema)
    plans: dict[str, TablePlan] = {}
    feas: list[Feasibility] = []
    cap = None if allow_huge else max_cells()
    sizes: dict[str, int] = {}  # cells (rows × columns) per table, for the size cap
    counted = 0  # parents whose child counts were drawn
    for name in order:
        t = schema.table(name)
        if isinstance(t.rows, int):
            sizes[name] = _fixed_rows(t, rows, scale, tscale) * len(t.columns)
    if cap is not None:
        _check_size(schema, sizes, cap)  # fixed-row tables first: refused before any per-parent count
    final: dict[str, TablePlan] = {}
    feas_problems: list[Problem] = []  # reported after the row-count problems
    for name in order:
        t = schema.table(name)
        per = None
        owner = None
        if isinstance(t.rows, RowsPer) and t.rows.total is not None:
            n_parent = plans[t.rows.per].rows
            assert t.owner is not None  # the loader refuses a per-parent table without its fk
            owner = t.owner.column
            total = _total_rows(schema, t, n_parent, rows, scale, problems, tscale)
            sizes[name] = (total or 0) * len(t.columns)
            if cap is not None:
                _check_size(schema, sizes, cap)
            if total is None:
                per = build_count_index(name, n_parent, lambda r: np.zeros(np.shape(r), np.int64))
                n = 0
            else:
                resolver = _parent_resolver(schema, seed, profile, t, order, final, block_rows)
                if resolver is not None and (problems or feas_problems):
                    break
                spread = _spread_total(schema, seed, profile, t, n_parent, total, resolver)
                per = build_count_index(name, n_parent, spread.__getitem__)
                n = per.total
        elif isinstance(t.rows, RowsPer):
            n_parent = plans[t.rows.per].rows
            resolver = _parent_resolver(schema, seed, profile, t, order, final, block_rows)
            if resolver is not None and (problems or feas_problems):
                break  # counts that read the parent's columns need a parent that can be generated
            count_fn = _count_fn(schema, seed, profile, t, resolver)
            _check_counting(schema, t, n_parent, count_fn, sizes, cap, counted)
            counted += n_parent
            per = build_count_index(name, n_parent, count_fn)
            n = per.total
            assert t.owner is not None  # the loader refuses a per-parent table without its fk
            owner = t.owner.column
            if n == 0:
                problems.append(_problem(schema, t.path + ("rows",),
                                         f"table {name!r} gets 0 rows: every parent drew 0 children",
                                         "raise rows.min or the distribution's mean"))
            sizes[name] = n * len(t.columns)
            if cap is not None:
                _check_size(schema, sizes, cap)
        elif isinstance(t.rows, RowsOf):
            # a share of the parent's planned rows (after its --rows/--scale); --rows still wins
            n = rows[name] if name in rows else t.rows.count(plans[t.rows.of].rows)
            if name not in rows and name in tscale:
                n = _scaled(name, n, tscale[name], f"--table-scale {name}={tscale[name]:g}")
            sizes[name] = n * len(t.columns)
            if cap is not None:
                _check_size(schema, sizes, cap)
        else:
            n = _fixed_rows(t, rows, scale, tscale)
        tp = plans[name] = TablePlan(table=t, rows=n, column_order=_order_columns(schema, t),
                                     depends_on=tuple(sorted(_table_deps(t))), per=per, owner_column=owner)
        # feasibility, with this table's and its parents' row counts known: complete before any
        # child's counts read this table's columns
        unique_index, groups = _feasibility(schema, plans, tp, feas, feas_problems, profile, seed)
        final[name] = TablePlan(table=tp.table, rows=tp.rows, column_order=tp.column_order,
                                depends_on=tp.depends_on, per=tp.per, owner_column=tp.owner_column,
                                unique_index=MappingProxyType(unique_index), groups=tuple(groups))
    problems += feas_problems
    if problems:
        n = len(problems)
        raise InfeasibleSchema(f"{schema.source.path}: the schema cannot be generated as written "
                               f"({n} problem{'s' if n != 1 else ''})", problems)
    return Plan(schema=schema, seed=seed, profile=profile, order=order, tables=MappingProxyType(final),
                feasibility=tuple(feas), block_rows=block_rows, rows_overrides=MappingProxyType(rows), scale=scale,
                allow_huge=bool(allow_huge),
                foreign_keys=tuple(r for name in order for r in schema.table(name).foreign_keys),
                corrupt=corrupt, table_scale=MappingProxyType(tscale), include=inc, exclude=exc,
                excluded=tuple(n for n in order if n in excluded),
                missing_parents=missing)


def _check_corrupt(corrupt: Mapping[str, float | None], profile: str | None) -> Mapping[str, float | None]:
    """The run's choice of corruption kinds, checked: known kinds, rates in [0, 1], and no other
    profile than dirty asked for (choosing kinds means the dirty profile)."""
    from shared.corruption import parse_selection

    if profile is not None and profile != "dirty":
        raise UsageError(f"--corrupt chooses corruption kinds of the dirty profile, not --profile {profile} "
                         "(leave --profile out, or use --profile dirty)")
    items = [k if v is None else f"{k}={v}" for k, v in dict(corrupt).items()]
    if not items:
        raise UsageError("--corrupt: name at least one corruption kind")
    return MappingProxyType(parse_selection(items) or {})


#: multinomial rounds that spread a total before the rest is placed by remaining room
SPREAD_ROUNDS = 8


def _total_rows(schema: Schema, t: Table, n_parent: int, rows: Mapping[str, int], scale: float | None,
                problems: list[Problem], tscale: Mapping[str, float] | None = None) -> int | None:
    """The total of ``rows: {per, total}``: ``--rows`` wins; ``--scale`` (then ``--table-scale``)
    scales the written total and keeps it inside what the bounds allow over the (scaled) parents;
    an explicit total outside ``[min × parents, max × parents]`` is a problem (None)."""
    factor = (tscale or {}).get(t.name)
    rp = t.rows
    assert isinstance(rp, RowsPer) and rp.total is not None
    lo = rp.min * n_parent
    hi = None if rp.max is None else rp.max * n_parent
    if n_parent == 0:
        problems.append(_problem(schema, t.path + ("rows", "total"), f"table {t.name!r}: a total cannot be "
                                 f"spread over the 0 rows of {rp.per!r}", f"give {rp.per!r} rows"))
        return None
    if t.name in rows:
        total, source = rows[t.name], f"--rows {t.name}={rows[t.name]:,}"
    elif scale is not None or factor is not None:
        total = rp.total if scale is None else max(1, int(round(rp.total * scale)))
        if factor is not None:
            total = _scaled(t.name, total, factor, f"--table-scale {t.name}={factor:g}")
        total = max(lo, total) if hi is None else min(hi, max(lo, total))
        return total if total >= 1 else None
    else:
        total, source = rp.total, f"rows.total {rp.total:,}"
    if total >= lo and (hi is None or total <= hi) and total >= 1:
        return total
    span = f"{lo:,}..{hi:,}" if hi is not None else f"at least {lo:,}"
    problems.append(_problem(
        schema, t.path + ("rows", "total"),
        f"table {t.name!r}: {source} cannot be spread over the {n_parent:,} rows of {rp.per!r} with "
        f"{rp.min}..{'' if rp.max is None else rp.max} children each (the total must be {span}) — infeasible",
        f"set the total inside {span}, or change rows.min/rows.max or the rows of {rp.per!r}"))
    return None


def _spread_total(schema: Schema, seed: int, profile: str, t: Table, n_parent: int, total: int,
                  resolver) -> np.ndarray:
    """Child counts of ``rows: {per, total, min, max}``: exactly ``total``, each in ``[min, max]``.

    Every parent starts at ``min``; the rest is drawn as a multinomial over the parents (weights:
    the distribution's values over the parent rows, clipped at 0, or equal), capped at ``max``;
    what spills over a cap is drawn again among the parents with room, for ``SPREAD_ROUNDS``
    rounds, then placed in proportion to the room left (largest remainders). Vectorised, and a
    pure function of seed and schema (one keyed stream, ``count/total``)."""
    rp = t.rows
    assert isinstance(rp, RowsPer)
    parents = np.arange(n_parent, dtype=np.int64)
    if rp.distribution is not None:
        gen = GENERATORS[rp.distribution.type]
        fake_col = Column(name=COUNT_COLUMN, dtype=t.columns[0].dtype, generator=rp.distribution,
                          path=t.path + ("rows",))
        ctx = ColumnContext(seed=seed, table=t, column=fake_col, params=rp.distribution.params, rows=parents,
                            n_total=0, profile=profile, locale=schema.locale, anchor_us=schema.anchor_us,
                            schema=schema, purpose_prefix="count/", resolver=resolver,
                            ref_table=schema.table(rp.per) if resolver is not None else None)
        w = np.nan_to_num(np.asarray(gen.generate(ctx), dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        w = np.maximum(w, 0.0)
    else:
        w = np.ones(n_parent, dtype=np.float64)
    room = np.full(n_parent, np.iinfo(np.int64).max if rp.max is None else rp.max - rp.min, dtype=np.int64)
    extra = np.zeros(n_parent, dtype=np.int64)
    left = total - rp.min * n_parent
    g = np.random.Generator(np.random.PCG64(_spread_key(seed, t.name)))
    for _ in range(SPREAD_ROUNDS):
        if left <= 0:
            break
        p = np.where(extra < room, w, 0.0)
        s = p.sum()
        if not s > 0:
            break
        extra += g.multinomial(left, p / s)
        over = np.maximum(extra - room, 0)
        extra -= over
        left = int(over.sum())
    if left > 0:  # place the rest by room left: floor shares, then the largest remainders
        free = (room - extra).astype(np.float64)
        share = left * free / free.sum()
        base = np.minimum(np.floor(share).astype(np.int64), room - extra)
        extra += base
        rest = left - int(base.sum())
        if rest > 0:
            frac = np.where(extra < room, share - base, -1.0)
            extra[np.argsort(-frac, kind="stable")[:rest]] += 1
    return rp.min + extra


def _spread_key(seed: int, table: str) -> int:
    """The stream of a total's spread over the parents."""
    return rng.stream_key(seed, table, COUNT_COLUMN, "count/total")


def _check_counting(schema: Schema, t: Table, n_parent: int, count_fn, sizes: Mapping[str, int],
                    cap: int | None, counted: int) -> None:
    """Refuse a per-parent table before drawing every parent's count when the plan is already
    over the size cap at ``min`` children per parent, when the first parents' counts put it far
    over, or when the counting itself would pass ``MAX_COUNTED_PARENTS`` (``MAX_PER_PARENT_ROWS``
    with ``allow_huge``, when ``cap`` is None)."""
    assert isinstance(t.rows, RowsPer)
    cols = len(t.columns)
    if cap is not None:
        _check_size(schema, {**sizes, t.name: t.rows.min * n_parent * cols}, cap, "at least")
        first = count_fn(np.arange(min(n_parent, PARENT_BLOCK), dtype=np.int64))
        if first.size:
            estimate = round(float(first.mean()) * n_parent) * cols
            if sum(sizes.values()) + estimate > 4 * cap:  # a margin no sampling error crosses
                _check_size(schema, {**sizes, t.name: estimate}, cap, "about")
    limit = MAX_COUNTED_PARENTS if cap is not None else MAX_PER_PARENT_ROWS
    if counted + n_parent > limit:
        flag = ("pass --allow-huge to plan it anyway, or " if cap is not None else "")
        raise UsageError(
            f"table {t.name!r} counts its rows per {t.rows.per!r}: planning draws every parent's count up "
            f"front, and {counted + n_parent:,} parents in all is over the {limit:,} planned"
            f"{' without --allow-huge' if cap is not None else ''} (about ten million a second); "
            f"{flag}lower the rows of {t.rows.per!r}")


def _fixed_rows(t: Table, rows: Mapping[str, int], scale: float | None,
                tscale: Mapping[str, float] | None = None) -> int:
    """``rows: N`` × ``--scale`` (rounded, at least 1) × ``--table-scale`` (rounded again, at least
    1); ``--rows`` wins over both."""
    assert isinstance(t.rows, int)
    factor = (tscale or {}).get(t.name)
    if t.name in rows or (scale is None and factor is None):
        return rows.get(t.name, t.rows)
    n = t.rows if scale is None else _scaled(t.name, t.rows, scale, f"--scale {scale}")
    return n if factor is None else _scaled(t.name, n, factor, f"--table-scale {t.name}={factor:g}")


def _scaled(name: str, n: int, factor: float, flag: str) -> int:
    """``round(n × factor)`` (half to even), at least 1; more than a table holds is a UsageError."""
    scaled = n * factor
    if not (math.isfinite(scaled) and scaled < MAX_TABLE_ROWS):
        raise UsageError(f"{flag}: table {name!r} would get more rows than a table can hold "
                         f"(at most {MAX_TABLE_ROWS:,})")
    return max(1, int(round(scaled)))


def _table_deps(t: Table) -> set[str]:
    """The tables ``t`` needs first: its foreign keys' parents and its ``rows.per`` table."""
    out = {r.parent for r in t.foreign_keys if not r.self_reference}
    if isinstance(t.rows, RowsPer):
        out.add(t.rows.per)
    if isinstance(t.rows, RowsOf):
        out.add(t.rows.of)
    return out


class _CapacityView:
    """What ``Generator.capacity`` may ask of the plan: row counts of tables, and the run's profile,
    seed and the column's table (for domains built from seeded pools, e.g. unique ``faker``)."""

    def __init__(self, plans: Mapping[str, TablePlan], schema: Schema, profile: str | None = None,
                 seed: int | None = None, table: str | None = None):
        self._plans = plans
        self.schema = schema
        self.profile = profile or schema.profile
        self.seed = schema.seed if seed is None else seed
        self.table = table

    def rows(self, table: str) -> int:
        return self._plans[table].rows


def _capacity(schema, plans, table: Table, column: Column, profile: str | None = None,
              seed: int | None = None) -> int | None:
    gen = GENERATORS[column.generator.type]
    try:
        return gen.capacity(column, column.generator.params, _CapacityView(plans, schema, profile, seed, table.name))
    except Exception:  # noqa: BLE001 - a capacity estimate never blocks planning
        return None


def _feasibility(schema: Schema, plans, tp: TablePlan, feas: list[Feasibility], problems: list[Problem],
                 profile: str | None = None, seed: int | None = None):
    t = tp.table
    n = tp.rows
    unique_index: dict[str, int] = {}
    groups: list[UniqueGroup] = []
    distinct: set[str] = set()  # columns made distinct on their own (native or index)
    single_unique = {c.name for c in t.columns if c.unique}
    if len(t.primary_key) == 1:
        single_unique.add(t.primary_key[0])
    for c in t.columns:
        gen = GENERATORS[c.generator.type]
        # inside a list's items the rows are element addresses: a sequence there runs over all of them
        _check_bounds(schema, t, c, _address_space(t, c, n) if c.in_list else n, feas, problems)
        if c.length is not None:
            _check_list_items(schema, t, c, n, feas, problems)
        if c.references is not None and c.generator.params.get("cover"):
            _check_cover(schema, plans, t, c, n, feas, problems)
        if c.name not in single_unique:
            continue
        if not _check_unique_extra(schema, plans, t, c, n, feas, problems):
            continue
        strategy = gen.unique_strategy
        if c.name == tp.owner_column:
            # filled by the owning parent: unique exactly when no parent has more than one child
            assert isinstance(t.rows, RowsPer)
            if t.rows.max is not None and t.rows.max <= 1:
                feas.append(Feasibility(t.name, c.name, "one_to_one", True, None, n,
                                        f"unique {t.name}.{c.name}: at most one child per {t.rows.per} row "
                                        f"(rows.max {t.rows.max})"))
                distinct.add(c.name)
                continue
            msg = (f"unique {t.name}.{c.name}: the owning fk of rows per {t.rows.per!r} repeats a parent "
                   f"for each of its children, and rows.max allows more than one")
            feas.append(Feasibility(t.name, c.name, "one_to_one", False, None, n, msg))
            problems.append(_problem(schema, c.path + ("unique",), msg,
                                     "set rows.max: 1 (each parent has zero or one child), or drop unique: true"))
            continue
        if not gen.supports_unique(c.generator.params):
            strategy = None
        if gen.is_unique_by_construction(c, t, schema):
            strategy = "native"
        cap = _capacity(schema, plans, t, c, profile, seed)
        if strategy == "native" and gen.native_capacity and cap is not None and cap < n:
            msg = f"unique {t.name}.{c.name}: the {gen.name} domain holds {cap:,} distinct values for {n:,} rows"
            feas.append(Feasibility(t.name, c.name, "unique_capacity", False, cap, n, msg))
            problems.append(_problem(schema, c.generator.path, msg + " — infeasible", gen.capacity_hint(c)))
            continue
        if strategy == "native":
            feas.append(Feasibility(t.name, c.name, "unique_capacity", True, cap, n,
                                    f"unique by construction ({gen.name})"))
            distinct.add(c.name)
            continue
        if strategy == "index" and cap is not None and c.references is not None:
            _check_one_to_one(schema, tp, c, cap, feas, problems, unique_index)
            continue
        if strategy == "index" and cap is not None:
            ok = cap >= n
            msg = (f"unique {t.name}.{c.name}: the {gen.name} domain holds {cap:,} distinct values "
                   f"for {n:,} rows")
            feas.append(Feasibility(t.name, c.name, "unique_capacity", ok, cap, n, msg))
            if ok:
                unique_index[c.name] = cap
            else:
                problems.append(_problem(schema, c.path + ("unique",), msg + " — infeasible",
                                         "widen the generator's domain or lower the row count"))
            continue
        msg = (f"unique {t.name}.{c.name}: generator {gen.name} cannot make distinct values by construction")
        feas.append(Feasibility(t.name, c.name, "unique_capacity", False, cap, n, msg))
        problems.append(_problem(
            schema, c.path + ("unique",), msg,
            "use sequence, uuid4, uniform_int, choice, a fixed-length regex, faker, or a template "
            "that embeds a unique column",
        ))
    # composite unique groups (table-level unique and a composite primary key)
    group_defs = list(t.unique)
    if len(t.primary_key) > 1:
        group_defs.append(t.primary_key)
    seen_groups = set()
    for gi, group in enumerate(group_defs):
        key = tuple(sorted(group))
        if key in seen_groups:
            continue
        seen_groups.add(key)
        if len(group) == 1:
            continue
        path = t.path + (("unique", gi) if gi < len(t.unique) else ("primary_key",))
        implied = next((name for name in group if name in distinct or name in unique_index), None)
        if implied is not None:
            # a group holding a column that is unique on its own is unique already; decoding the
            # group's mixed radix would take that column off its own permutation (and repeat it)
            feas.append(Feasibility(t.name, ",".join(group), "group_capacity", True, None, n,
                                    f"unique ({', '.join(group)}) of {t.name}: implied by unique {implied}"))
            continue
        caps = []
        bad = None
        for name in group:
            c = t.column(name)
            gen = GENERATORS[c.generator.type]
            cap = _capacity(schema, plans, t, c)
            index_ok = gen.indexable(c) and name != tp.owner_column
            if not index_ok or cap is None:
                bad = name
                break
            caps.append(cap)
        if bad is not None:
            msg = (f"unique group ({', '.join(group)}) of {t.name}: column {bad!r} cannot take part "
                   f"(its generator has no finite, indexable domain)")
            feas.append(Feasibility(t.name, ",".join(group), "group_capacity", False, None, n, msg))
            problems.append(_problem(schema, path, msg,
                                     "group columns must use fk, uniform_int, choice, uniform_date or a "
                                     "fixed-length regex"))
            continue
        cap = math.prod(caps)
        ok = cap >= n
        msg = (f"unique ({', '.join(group)}) of {t.name}: {cap:,} combinations for {n:,} rows")
        feas.append(Feasibility(t.name, ",".join(group), "group_capacity", ok, cap, n, msg))
        if ok:
            groups.append(UniqueGroup(tuple(group), tuple(caps)))
        else:
            problems.append(_problem(schema, path, msg + " — infeasible", "lower the row count or widen a domain"))
    return unique_index, groups


#: element addresses of a list's items are int64 row indices
MAX_ADDRESS = 2**63 - 1


def _address_space(t: Table, c: Column, n: int) -> int:
    """How many row addresses ``c`` is computed at over ``n`` rows: ``n``, times ``length.max`` of
    every list whose items it is inside."""
    from shared.distributions.nested import element_stride

    space = n
    parent = c.part_of
    while parent is not None:
        outer = t.column(parent)
        if outer.length is not None:
            space *= element_stride(outer)
        parent = outer.part_of
    return space


def _check_list_items(schema: Schema, t: Table, c: Column, n: int, feas, problems) -> None:
    """A list's items are addressed ``row × length.max + position`` (inside another list's items,
    the row is that list's element address): every address must be an int64 row index."""
    from shared.distributions.nested import element_stride

    assert c.length is not None
    space = _address_space(t, c, n) * element_stride(c)
    ok = space <= MAX_ADDRESS
    msg = (f"list {t.name}.{c.name}: {c.length.min}..{c.length.max} items per row, {space:,} element addresses"
           if ok else f"list {t.name}.{c.name}: {space:,} element addresses (rows × length.max, nested lists "
           f"multiplied) are more than the {MAX_ADDRESS:,} datagen can address")
    feas.append(Feasibility(t.name, c.name, "list_items", ok, MAX_ADDRESS, space, msg))
    if not ok:
        problems.append(_problem(schema, c.length.path, msg, "lower length.max or the row count"))


def _check_cover(schema: Schema, plans, t: Table, c: Column, n: int, feas, problems) -> None:
    """``cover: true``: the first rows take every parent once, so the child needs at least as
    many rows as the parent — whatever ``--rows``/``--scale`` or counts made of either."""
    ref = c.references
    assert ref is not None
    n_parent = plans[ref.parent].rows
    ok = n >= n_parent
    msg = (f"coverage {t.name}.{c.name} → {ref.parent}: {n:,} rows for the {n_parent:,} rows of {ref.parent!r}"
           + ("" if ok else ", but cover uses every parent row at least once"))
    feas.append(Feasibility(t.name, c.name, "fk_coverage", ok, n, n_parent, msg))
    if not ok:
        problems.append(_problem(schema, c.generator.path + ("params", "cover"), msg + " — infeasible",
                                 f"give {t.name!r} at least {n_parent:,} rows, lower the rows of {ref.parent!r}, "
                                 f"or drop cover"))


def _check_one_to_one(schema: Schema, tp: TablePlan, c: Column, cap: int, feas, problems,
                      unique_index: dict[str, int]) -> None:
    """A unique fk (one-to-one): each parent row is used at most once, so the child may have at
    most as many rows as the parent — whatever ``--rows``/``--scale`` or per-parent counts made of
    either. Refused at the fk's generator path, naming both row counts."""
    t, n = tp.table, tp.rows
    ref = c.references
    assert ref is not None
    ok = cap >= n
    msg = (f"one-to-one {t.name}.{c.name} → {ref.parent}.{ref.parent_column}: {n:,} rows for the {cap:,} "
           f"rows of {ref.parent!r}" + (" (each parent row used at most once)" if ok else
                                        ", but a unique fk uses each parent row at most once"))
    feas.append(Feasibility(t.name, c.name, "one_to_one", ok, cap, n, msg))
    if ok:
        unique_index[c.name] = cap
        return
    follow = (f"write rows: {{of: {ref.parent}, coverage: 0.8}} to follow the parent, "
              if isinstance(t.rows, int) else "")
    problems.append(_problem(
        schema, c.generator.path, msg + " — infeasible",
        f"give {t.name!r} at most {cap:,} rows ({follow}or raise the rows of {ref.parent!r}), "
        f"or drop unique: true for a one-to-many key"))


def _exact(dtype, v):
    """A bound or span value as an exact number: decimals as the decimal they are written as
    (the shortest text of the float, rounded half-to-even to the scale), others unchanged."""
    if dtype.kind != "decimal" or isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return v
    with decimal.localcontext() as dctx:
        dctx.prec = 400  # a float has at most 309 integer digits, a decimal at most 38 places
        return Fraction(decimal.Decimal(repr(v)).quantize(decimal.Decimal(1).scaleb(-dtype.scale),
                                                          rounding=decimal.ROUND_HALF_EVEN))


def _show(dtype, v) -> str:
    """A value in engine units as users write it (timestamps and dates as ISO text when possible)."""
    try:
        if dtype.kind == "timestamp":
            return timeutil.format_timestamp(int(v))
        if dtype.kind == "date":
            return timeutil.format_date(int(v))
    except (OverflowError, ValueError):
        return f"{int(v)} ({'µs' if dtype.kind == 'timestamp' else 'days'} from 1970, beyond year 9999 or before year 1)"
    if isinstance(v, Fraction) and abs(v) >= 10**40:  # far past any decimal: short and plain
        return f"{float(v):g}"
    if isinstance(v, Fraction):
        with decimal.localcontext() as dctx:
            dctx.prec = 100  # the default 28 digits would round a decimal(38, s) bound
            return f"{decimal.Decimal(v.numerator) / decimal.Decimal(v.denominator):f}"
    return str(v)


def _check_bounds(schema: Schema, t: Table, c: Column, n: int, feas, problems) -> None:
    """Contradictory constraints: allowed outside min/max, a sequence or time series leaving the
    column's range — its min/max and what its type holds (int and decimal digits, years 1–9999)."""
    if c.allowed is not None and c.dtype.is_ordered:
        outside = [v for v in c.allowed if v is not None and (
            (c.min is not None and v < c.min) or (c.max is not None and v > c.max))]
        if len(outside) == len(c.allowed):
            msg = f"{t.name}.{c.name}: every allowed value lies outside min/max"
            feas.append(Feasibility(t.name, c.name, "bounds", False, 0, n, msg))
            problems.append(_problem(schema, c.path + ("allowed",), msg))
    gen = GENERATORS[c.generator.type]
    try:
        span = gen.span(c, n, schema)
    except Exception:  # noqa: BLE001 - a span the params cannot give was reported at load time
        span = None
    if span is None:
        return
    first, last = (_exact(c.dtype, v) for v in span)
    lo = None if c.min is None else _exact(c.dtype, c.min)
    hi = None if c.max is None else _exact(c.dtype, c.max)
    type_range = c.dtype.exact_range()
    if type_range is not None:
        lo = type_range[0] if lo is None else max(lo, type_range[0])
        hi = type_range[1] if hi is None else min(hi, type_range[1])
    bad = [v for v in (first, last) if (lo is not None and v < lo) or (hi is not None and v > hi)]
    if bad:
        rng = f"{_show(c.dtype, lo) if lo is not None else '…'}..{_show(c.dtype, hi) if hi is not None else '…'}"
        msg = (f"{t.name}.{c.name}: {c.generator.type} {_show(c.dtype, first)}..{_show(c.dtype, last)} for "
               f"{n:,} rows leaves the column's range {rng}")
        feas.append(Feasibility(t.name, c.name, "sequence_range", False, None, n, msg))
        problems.append(_problem(schema, c.generator.path, msg, "widen the type or max, or lower the rows"))


def _outside_allowed(schema: Schema, plans, t: Table, c: Column, n: int, k: int) -> str | None:
    """Why a unique column's generator may produce a value outside ``allowed`` (the engine then
    replaces it by an allowed value, which repeats one), or None when it cannot: every term of a
    progression, or every value of a finite domain (``from_index``), is in the list."""
    gen = GENERATORS[c.generator.type]
    where = f"unique {t.name}.{c.name}"
    progression = gen.progression(c.generator.params)
    if progression is not None:
        start, step = progression
        allowed = {_exact(c.dtype, v) for v in c.allowed or ()}
        outside = next((v for v in (_exact(c.dtype, start + step * i) for i in range(n)) if v not in allowed), None)
        if outside is None:
            return None
        return (f"{where}: {c.generator.type} value {_show(c.dtype, outside)} is not allowed; it would be "
                f"replaced by an allowed value, which repeats one")
    cap = _capacity(schema, plans, t, c) if gen.unique_strategy == "index" else None
    if cap is None or cap > k:
        domain = "an unbounded domain" if cap is None else f"{cap:,} values"
        return (f"{where}: {c.generator.type} draws from {domain}, more than the {k:,} allowed; values "
                f"outside the list would be replaced by allowed ones, which repeats them — infeasible")
    ctx = ColumnContext(seed=schema.seed, table=t, column=c, params=c.generator.params,
                        rows=np.arange(cap, dtype=np.int64), n_total=n, locale=schema.locale,
                        anchor_us=schema.anchor_us, unique=True, schema=schema)
    try:
        values = coerce(c, gen.from_index(np.arange(cap, dtype=np.int64), ctx))
    except Exception:  # noqa: BLE001 - a domain that cannot be listed here: leave it to the engine
        return None
    ok = allowed_mask(c, values)
    if ok.all():
        return None
    return (f"{where}: {c.generator.type} can produce values outside allowed ({int((~ok).sum()):,} of its "
            f"{cap:,}); they would be replaced by allowed ones, which repeats them — infeasible")


def _check_unique_extra(schema: Schema, plans, t: Table, c: Column, n: int, feas, problems) -> bool:
    """What caps a unique column's distinct values beyond its generator's domain: ``allowed``
    (values outside it are replaced by list values), ``max_length`` (a cut text repeats), and for
    a progression the resolution of its type (a decimal's scale, float64's 53 bits). True if OK."""
    gen = GENERATORS[c.generator.type]
    where = f"unique {t.name}.{c.name}"
    if c.allowed is not None and not gen.listed_values and c.references is None:
        k = len(set(c.allowed))
        msg = None
        if k < n:
            msg = f"{where}: allowed holds {k:,} distinct values for {n:,} rows — infeasible"
        else:
            msg = _outside_allowed(schema, plans, t, c, n, k)
        if msg:
            feas.append(Feasibility(t.name, c.name, "unique_capacity", False, k, n, msg))
            problems.append(_problem(schema, c.path + ("allowed",), msg,
                                     "make every value the generator can produce an allowed one "
                                     "(or use choice over the allowed values), or drop allowed"))
            return False
    if c.max_length is not None and c.dtype.kind == "string":
        shortest, longest = gen.length_bounds(c, t, schema, n)
        if longest is not None and longest > c.max_length:
            cut, size = longest, f"up to {longest}"
        elif shortest > c.max_length:
            cut, size = shortest, f"at least {shortest}"
        else:
            cut = None
        if cut is not None:
            msg = (f"{where}: max_length {c.max_length} cuts its {c.generator.type} values ({size} "
                   f"characters), and cut values repeat — infeasible")
            feas.append(Feasibility(t.name, c.name, "unique_capacity", False, None, n, msg))
            problems.append(_problem(schema, c.path + ("max_length",), msg,
                                     f"raise max_length to at least {cut}, or shorten the values"))
            return False
    progression = gen.progression(c.generator.params)
    if progression is not None and c.dtype.kind in ("decimal", "float") and n > 1:
        start, step = progression
        msg = None
        if c.dtype.kind == "decimal" and abs(_exact(c.dtype, step)) < Fraction(1, 10**(c.dtype.scale or 0)):
            msg = (f"{where}: step {step} is below the resolution of {c.dtype.name} "
                   f"({_show(c.dtype, Fraction(1, 10**(c.dtype.scale or 0)))}): rounded values repeat — infeasible")
        else:
            # values are float64 in the engine (float32 columns are written as such): keep every
            # step at least 4 units in the last place, so rounding (to the float, to the scale)
            # cannot merge two neighbours
            bits = 24 if c.dtype.bits == 32 else 53
            far = max(abs(start), abs(start + step * (n - 1)))
            if far / abs(step) >= float(1 << (bits - 3)):
                msg = (f"{where}: {c.generator.type} reaches {far:g} in steps of {step}: beyond {bits}-bit floating "
                       f"point resolution consecutive values repeat — infeasible")
        if msg:
            feas.append(Feasibility(t.name, c.name, "unique_capacity", False, None, n, msg))
            problems.append(_problem(schema, c.generator.path, msg, "use a larger step or an int64 column"))
            return False
    return True
