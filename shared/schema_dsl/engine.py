"""The engine: any block of rows of any table, computed alone, as Arrow record batches.

``Engine(plan).batch(table, start, stop)`` evaluates the table's columns for rows
``[start, stop)`` in the planned column order. Every value is a pure function of
(seed, table, column, purpose, row index) — see ``shared.io.rng`` — so:

* the same rows give the same bytes whatever the block size or worker count;
* a parent's column can be evaluated at any parent row indices (``lookup``) without the parent
  table ever existing in memory: that is how foreign keys and ``fk.parent_col`` references work;
* ``iter_batches`` streams a table of any size in bounded memory, and ``workers > 1`` spreads
  blocks over processes (fork) and yields them strictly in order.

Per column: the generator (or, for unique columns and unique groups, ``from_index`` over a keyed
permutation of the row index; for a column of a ``correlations:`` block, its inverse CDF at the
block's correlated uniforms, ``shared.schema_dsl.copula``), then ``constraints.coerce`` (type, bounds, max_length), then the
null mask from its own ``null`` stream. The ``dirty`` profile's corruption is applied afterwards
by ``shared.corruption`` on whole batches.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from shared.constraints.coerce import coerce, snap_allowed, to_arrow
from shared.distributions.base import GENERATORS
from shared.errors import GenerationError
from shared.io import rng
from shared.model.schema import Table
from shared.schema_dsl import copula, planner
from shared.schema_dsl.context import ColumnContext
from shared.schema_dsl.planner import Plan, TablePlan

MAX_GROUP_DOMAIN = 1 << 62


def arrow_schema(table: Table, dirty: bool = False) -> pa.Schema:
    """The Arrow schema of a table, derived once from the DSL (writers open with it).

    Non-nullable columns are declared so (Parquet ``required``); in the dirty profile every field
    is nullable, since injected nulls are part of the data.
    """
    fields = [pa.field(c.name, c.dtype.arrow, nullable=dirty or c.nullable or (
                       c.references is not None and c.references.self_reference)) for c in table.columns
              if c.is_written]
    meta = {b"datagen.table": table.name.encode()}
    return pa.schema(fields, metadata=meta)


class _Block:
    """The columns of one table over one array of row indices, computed on demand and memoised."""

    def __init__(self, engine: Engine, tp: TablePlan, rows: np.ndarray):
        self.engine = engine
        self.tp = tp
        self.table = tp.table
        self.rows = rows
        self.values: dict[str, object] = {}
        self.masks: dict[str, np.ndarray | None] = {}
        self.parent_idx: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
        self._groups: dict[str, np.ndarray] = {}
        self._owner: tuple[np.ndarray, np.ndarray] | None = None
        self._in_progress: set[str] = set()
        self._copula: dict[int, dict[str, np.ndarray]] = {}
        self._latent: dict[int, dict[str, np.ndarray]] = {}

    # --- contexts ---------------------------------------------------------------------------

    def ctx(self, column, unique: bool = False) -> ColumnContext:
        e = self.engine
        return ColumnContext(
            seed=e.plan.seed, table=self.table, column=column, params=column.generator.params, rows=self.rows,
            n_total=self.tp.rows, profile=e.plan.profile, locale=e.schema.locale, anchor_us=e.schema.anchor_us,
            unique=unique, schema=e.schema, resolver=self.ref, lookup=e.lookup, row_count=e.row_count,
            owners=self.owners if self.tp.per is not None else None, parts=self.part,
        )

    def part(self, name: str, rows: np.ndarray | None = None) -> pa.Array:
        """A part of a nested column (``address.city``, ``tags[]``) as Arrow with its nulls: at
        this block's rows, or at other rows of the table (a list's element addresses)."""
        block = self if rows is None else _Block(self.engine, self.tp, np.asarray(rows, dtype=np.int64))
        return to_arrow(self.table.column(name), block.value(name), block.mask(name))

    def ref(self, name: str, rows: np.ndarray | None = None):
        if "." in name and not self.table.has_column(name):
            fk_name, _, parent_col = name.partition(".")
            idx, _missing = self.parent_index(fk_name)
            fk = self.table.column(fk_name).references
            assert fk is not None  # the loader resolved fk_name.parent_col through a foreign key
            return self.engine.lookup(fk.parent, parent_col, idx)
        return self.value(name)

    # --- foreign keys -----------------------------------------------------------------------

    def owners(self) -> tuple[np.ndarray, np.ndarray]:
        if self._owner is None:
            assert self.tp.per is not None, "owners() of a table without rows.per"
            self._owner = self.tp.per.owners(self.rows)
        return self._owner

    def group_index(self, name: str) -> np.ndarray | None:
        """Jointly distinct domain indices for a column of a unique group (mixed radix)."""
        for group in self.tp.groups:
            if name not in group.columns:
                continue
            gkey = "|".join(group.columns)
            if gkey not in self._groups:
                domain = min(math.prod(group.capacities), MAX_GROUP_DOMAIN)
                key = rng.stream_key(self.engine.plan.seed, self.table.name, "group:" + gkey, "unique")
                self._groups[gkey] = rng.permute(key, self.rows, domain)
            combined = self._groups[gkey]
            i = group.columns.index(name)
            below = math.prod(group.capacities[i + 1:])
            return (combined // np.int64(below) if below < MAX_GROUP_DOMAIN else np.zeros_like(combined)) \
                % np.int64(group.capacities[i])
        return None

    def parent_index(self, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        got = self.parent_idx.get(name)
        if got is not None:
            return got
        column = self.table.column(name)
        gen: Any = GENERATORS[column.generator.type]  # the reference generator: it has parent_index
        assert column.references is not None
        parent = column.references.parent
        if name == self.tp.owner_column:
            got = (self.owners()[0], None)
        else:
            g = self.group_index(name)
            if g is not None:
                got = (g, None)
            elif name in self.tp.unique_index:
                ctx = self.ctx(column, unique=True)
                got = (ctx.permute(self.tp.unique_index[name]), None)
            else:
                got = gen.parent_index(self.ctx(column), self.engine.row_count(parent))
        self.parent_idx[name] = got
        return got

    def copula_uniform(self, name: str) -> np.ndarray | None:
        """The correlated uniforms of ``name`` when it is in a ``correlations:`` block, else None
        (the block's uniforms are computed once per block of rows, for all its columns)."""
        got = self.engine.copula_of(self.table.name, name)
        if got is None:
            return None
        bi = got[0]
        if bi not in self._copula:
            self._copula[bi] = {c: copula.to_uniform(x) for c, x in self.latent_block(bi).items()}
        return self._copula[bi][name]

    def latent(self, name: str) -> np.ndarray:
        """The latent normal of a column in a correlation block at this block's rows."""
        got = self.engine.copula_of(self.table.name, name)
        assert got is not None, f"{self.table.name}.{name} is in no correlation block"
        return self.latent_block(got[0])[name]

    def latent_block(self, bi: int) -> dict[str, np.ndarray]:
        """{column: latent normal} of correlation block ``bi`` at this block's rows; its given
        columns (``fk.col``) are the parents' latent normals at the rows' parent rows (a row
        without a parent takes an independent normal of its own for it)."""
        if bi in self._latent:
            return self._latent[bi]
        columns, factor, givens = self.engine.copula_blocks[self.table.name][bi]
        seed = self.engine.plan.seed
        given: list[np.ndarray] = []
        for entry, (fk_name, parent_col) in givens:
            idx, missing = self.parent_index(fk_name)
            ref = self.table.column(fk_name).references
            assert ref is not None  # the loader resolved the given through a foreign key
            if missing is not None:
                idx = np.where(missing, 0, idx)
            x = self.engine.latent(ref.parent, parent_col, idx)
            if missing is not None and missing.any():
                own = rng.normal(rng.stream_key(seed, self.table.name, entry, copula.PURPOSE), self.rows)
                x = np.where(missing, own, x)
            given.append(x)
        xs = copula.latent_normals(seed, self.table.name, columns, factor, self.rows, given)
        self._latent[bi] = dict(zip(columns, xs, strict=True))
        return self._latent[bi]

    # --- columns ----------------------------------------------------------------------------

    def value(self, name: str):
        if name in self.values:
            return self.values[name]
        if name in self._in_progress:
            raise GenerationError(f"column {self.table.name}.{name} depends on itself")
        # the same-row columns it reads first, in plan order: no recursion down a chain of columns
        for n in self.engine.same_row_closure(self.table.name, name):
            if n in self.values:
                continue
            self._in_progress.add(n)
            try:
                self._compute(n)
            finally:
                self._in_progress.discard(n)
        return self.values[name]

    def mask(self, name: str) -> np.ndarray | None:
        self.value(name)
        return self.masks[name]

    def _compute(self, name: str) -> None:
        column = self.table.column(name)
        gen = GENERATORS[column.generator.type]
        ref = column.references
        missing = None
        if ref is not None:
            idx, missing = self.parent_index(name)
            if ref.self_reference:
                idx = np.where(self.rows == 0, 0, idx)
            assert ref.parent_column is not None  # the loader refuses an fk without a key column
            raw = self.engine.lookup(ref.parent, ref.parent_column, idx)
        else:
            g = self.group_index(name)
            if g is not None:
                raw = gen.from_index(g, self.ctx(column, unique=True))
            elif name in self.tp.unique_index:
                ctx = self.ctx(column, unique=True)
                raw = gen.from_index(ctx.permute(self.tp.unique_index[name]), ctx)
            else:
                unique = column.unique or self.table.primary_key == (name,)
                u = self.copula_uniform(name)
                raw = gen.generate(self.ctx(column, unique=unique)) if u is None else \
                    gen.quantile(u, self.ctx(column, unique=unique))
            if isinstance(raw, tuple):
                raw, missing = raw
        values = raw if gen.assembles else coerce(column, raw)
        # values from the user's own list, or another table's keys, are never snapped onto allowed
        if column.allowed and not (gen.listed_values or ref is not None) and column.dtype.kind != "bool":
            values = snap_allowed(column, values, self.ctx(column).uniform("allowed"))
        mask = missing
        if column.nullable and column.null_rate > 0:
            nulls = self.ctx(column).uniform("null") < column.null_rate
            mask = nulls if mask is None else (mask | nulls)
        if column.present is not None and column.present < 1:  # an optional struct field: absent
            absent = self.ctx(column).uniform("present") >= column.present
            mask = absent if mask is None else (mask | absent)
        self.values[name] = values
        self.masks[name] = mask

    def record_batch(self, arrow_schema: pa.Schema) -> pa.RecordBatch:
        arrays = []
        for c in self.table.columns:
            if c.is_written:  # hidden columns and nested parts are computed when read
                arrays.append(to_arrow(c, self.value(c.name), self.mask(c.name)))
        return pa.RecordBatch.from_arrays(arrays, schema=arrow_schema)


class Engine:
    """Executes a plan: blocks of rows of any table, as Arrow record batches."""

    def __init__(self, plan: Plan, text: bool = False):
        self.plan = plan
        self.schema = plan.schema
        self.arrow_schemas = {t.name: arrow_schema(t, dirty=plan.profile == "dirty") for t in self.schema.tables}
        #: for a format that renders text (``Format.renders_text``): the dirty profile's text-only
        #: kinds apply, and a column they touch reaches the writer as a struct of the value and
        #: the text to write instead (``corruption.TEXT_FIELDS``)
        self.text = bool(text) and plan.profile == "dirty"
        #: the schemas of the batches the writers receive (``arrow_schemas`` but for those structs)
        self.written_schemas = dict(self.arrow_schemas)
        if self.text:
            from shared import corruption

            for t in self.schema.tables:
                cols = corruption.text_columns(plan, t.name)
                if cols:
                    self.written_schemas[t.name] = corruption.text_schema(self.arrow_schemas[t.name], cols)
        self._lookup_cache: dict[tuple, object] = {}
        self._closures: dict[tuple[str, str], tuple[str, ...]] = {}
        #: (table, column) → (block index, the block's columns, its Cholesky factor)
        self._copulas: dict[tuple[str, str], tuple[int, tuple[str, ...], tuple]] = {}
        #: table → per block: (columns, givens first; the Cholesky factor in that order;
        #: ((entry, (fk column, parent column)) for each given))
        self.copula_blocks: dict[str, list[tuple[tuple[str, ...], tuple, tuple]]] = {}
        for t in self.schema.tables:
            for bi, block in enumerate(t.correlations):
                givens = tuple((c, parts) for c in block.columns if not t.has_column(c)
                               for parts in [copula.given_parts(c)] if parts is not None)
                names = [g for g, _ in givens] + [c for c in block.columns if t.has_column(c)]
                pos = [block.columns.index(c) for c in names]
                matrix = [[block.matrix[i][j] for j in pos] for i in pos]
                factor = copula.cholesky(matrix)
                self.copula_blocks.setdefault(t.name, []).append((tuple(names), factor, givens))
                for c in block.columns:
                    if t.has_column(c):
                        self._copulas[(t.name, c)] = (bi, tuple(names), factor)

    def copula_of(self, table: str, column: str) -> tuple[int, tuple[str, ...], tuple] | None:
        """The correlation block ``column`` of ``table`` is in: (index, columns, Cholesky factor)."""
        return self._copulas.get((table, column)) if self._copulas else None

    def latent(self, table: str, column: str, rows: np.ndarray) -> np.ndarray:
        """The latent normal of ``table.column`` (a column of a correlation block) at arbitrary
        rows — what a child's block conditions on (its ``fk.col`` entries)."""
        return self._at_rows(table, rows, lambda block: block.latent(column))

    def _at_rows(self, table: str, rows: np.ndarray, read):
        """``read(block)`` of a block of ``table`` at arbitrary row indices: when they are sorted
        (children grouped by parent) each distinct row is evaluated once, O(n), then repeated;
        otherwise every row (each cell is a pure function of its row: cheaper than sorting)."""
        tp = self.plan.tables[table]
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size > 1 and bool((rows[1:] >= rows[:-1]).all()):
            first = np.empty(rows.shape, dtype=bool)
            first[0] = True
            np.not_equal(rows[1:], rows[:-1], out=first[1:])
            if not first.all():
                inverse = np.cumsum(first) - 1
                vals = read(_Block(self, tp, rows[first]))
                if isinstance(vals, (pa.Array, pa.ChunkedArray)):
                    return vals.take(pa.array(inverse))
                return np.asarray(vals)[inverse]
        return read(_Block(self, tp, rows))

    def warm_up(self) -> None:
        """Compute one row of every table so per-process caches (Faker pools) exist before fork."""
        for name in self.plan.order:
            if self.row_count(name):
                self.batch(name, 0, 1)

    def row_count(self, table: str) -> int:
        return self.plan.tables[table].rows

    def same_row_closure(self, table: str, column: str) -> tuple[str, ...]:
        """The columns of the same row that ``column`` reads, directly or not, then ``column``
        itself, in the plan's column order (each after what it reads). ``fk.col`` reads a parent
        row, not the fk column's value, so it adds nothing here."""
        key = (table, column)
        got = self._closures.get(key)
        if got is None:
            tp = self.plan.tables[table]
            t = tp.table
            need = {column}
            todo = [column]
            while todo:
                c = t.column(todo.pop())
                for ref in GENERATORS[c.generator.type].references(c.generator.params):
                    if ref not in need and t.has_column(ref):  # a same-row column, or a struct's field
                        need.add(ref)
                        todo.append(ref)
            got = tuple(n for n in tp.column_order if n in need)
            self._closures[key] = got
        return got

    def lookup(self, table: str, column: str, rows: np.ndarray):
        """Engine-unit values of ``table.column`` at arbitrary row indices (no null mask)."""
        return self._at_rows(table, rows, lambda block: block.value(column))

    def reference(self, table: str, name: str, rows: np.ndarray):
        """What ``name`` (``col`` or ``fk.col``) reads at rows of ``table``, as a reference from
        that table would (engine units, before the null mask)."""
        return _Block(self, self.plan.tables[table], np.asarray(rows, dtype=np.int64)).ref(name)

    @property
    def dirty(self) -> bool:
        return self.plan.profile == "dirty"

    def batch(self, table: str, start: int, stop: int, dirty: bool | None = None) -> pa.RecordBatch:
        """Rows [start, stop) of a table; in the dirty profile with its corruption applied."""
        return self.batch_with_records(table, start, stop, dirty)[0]

    def batch_with_records(self, table: str, start: int, stop: int, dirty: bool | None = None):
        """(batch, corruption records or None) for rows [start, stop)."""
        tp = self.plan.tables[table]
        if not 0 <= start <= stop <= tp.rows:
            raise GenerationError(f"rows [{start}, {stop}) outside table {table!r} of {tp.rows} rows")
        rows = np.arange(start, stop, dtype=np.int64)
        clean = _Block(self, tp, rows).record_batch(self.arrow_schemas[table])
        labelled = None
        if tp.table.anomalies is not None:  # part of the data: in every profile, before any dirt
            from shared import anomalies

            clean, labelled = anomalies.apply(self, table, rows, clean)
        if not (self.dirty if dirty is None else dirty):
            return clean, labelled if labelled is not None and labelled.num_rows else None
        from shared import corruption

        return corruption.apply(self, table, rows, clean, prior=labelled)

    def columns_batch(self, table: str, start: int, stop: int, names) -> pa.RecordBatch:
        """Only ``names`` of rows [start, stop), clean: each computed with just what it reads
        (``validate`` routes a partitioned table's rows by its partition columns)."""
        tp = self.plan.tables[table]
        block = _Block(self, tp, np.arange(start, stop, dtype=np.int64))
        cols = [tp.table.column(n) for n in names]
        return pa.RecordBatch.from_arrays([to_arrow(c, block.value(c.name), block.mask(c.name)) for c in cols],
                                          names=[c.name for c in cols])

    def rows_batch(self, table: str, rows: np.ndarray) -> pa.RecordBatch:
        """A batch of arbitrary rows (e.g. a sample for validation replay)."""
        tp = self.plan.tables[table]
        return _Block(self, tp, np.asarray(rows, dtype=np.int64)).record_batch(self.arrow_schemas[table])

    def blocks(self, table: str, block_rows: int | None = None) -> list[tuple[int, int]]:
        n = self.row_count(table)
        b = block_rows or self.plan.block_rows
        return [(s, min(n, s + b)) for s in range(0, n, b)]

    def iter_batches(self, table: str, block_rows: int | None = None, workers: int = 1,
                     pool=None, with_records: bool = False) -> Iterator:
        """The table's rows in order, one record batch per block.

        ``workers > 1`` computes blocks in worker processes (a ``parallel.WorkerPool`` may be
        passed to reuse one across tables); the batches are identical to one worker's. With
        ``with_records`` each item is ``(batch, corruption records or None)``.
        """
        spans = self.blocks(table, block_rows)
        if pool is not None and len(spans) > 1:
            items = pool.map_batches(table, spans, with_records=True)
        elif workers <= 1 or len(spans) <= 1:
            items = (self.batch_with_records(table, s, e) for s, e in spans)
        else:
            from shared.schema_dsl import parallel

            items = parallel.map_batches(self, table, spans, workers, with_records=True)
        for batch, rec in items:
            yield (batch, rec) if with_records else batch


    def to_arrow(self, table: str, workers: int = 1) -> pa.Table:
        """The whole table in memory, as the writers would receive it (the dirty profile applied)."""
        return pa.Table.from_batches(list(self.iter_batches(table, workers=workers)),
                                     schema=self.written_schemas[table])


planner.set_engine_factory(Engine)  # per-parent counts that read the parent's columns


#: more worker processes than this is a mistake, not a plan (each is a fork of the whole run)
MAX_WORKERS = 256


def check_workers(workers: int) -> int:
    """``--workers``: 1 .. ``MAX_WORKERS`` (exit 2 otherwise, before any process is started)."""
    from shared.errors import UsageError

    if workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    if workers > MAX_WORKERS:
        raise UsageError(f"--workers {workers}: at most {MAX_WORKERS} (this machine has {default_workers()} cores)")
    return workers


def effective_workers(workers: int, tasks: int) -> int:
    """The processes worth starting: no more than the blocks to compute, nor than 4 per core."""
    return max(1, min(workers, tasks, 4 * default_workers()))


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
