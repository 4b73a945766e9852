"""The ``fk`` generator: a foreign key computed from a sampled parent row index.

A child never holds its parent table. For each child row it draws a parent *row index* from its
own ``fk`` stream — uniform over the parent's rows, or skewed by ``skew`` (any numeric
distribution; ``zipf``/``exponential``/… map uniforms to ranks through their ``ranks()``) with the
ranks scattered over the parents by a keyed permutation, so the popular parents are not simply
the first ones — and recomputes the parent's key column at that index (``ctx.lookup``). Parent
attributes (``fk_col.parent_col`` in template and expr) are computed the same way, on the same
indices.

Special cases handled by the engine through ``parent_index``:

* a self-reference (``table`` is the column's own table) picks an *earlier* row: row ``r`` picks
  uniformly in ``[0, r)``; row 0 has no earlier row and is null (the column must be nullable);
* the fk to the ``rows.per`` table of a per-parent table is filled with the owning parent;
* fk columns inside a composite ``unique``/``primary_key`` group take jointly distinct indices;
* a ``unique: true`` fk column is a **one-to-one** key: the planner gives it the ``index`` unique
  strategy over the parent's rows (``capacity``), and the engine takes the parent row
  ``permute(row)`` — a keyed bijection of ``[0, parent rows)`` — so each parent row is used at most
  once, by construction and addressably (a pure function of the row, the seed and the schema).
  The planner refuses more child rows than parent rows; ``check`` refuses ``skew`` and a
  self-reference on a unique fk.
"""

from __future__ import annotations

import numpy as np

from shared.distributions.base import GENERATORS, Generator, obj, register
from shared.io import rng
from shared.model.schema import ForeignKeyRef


@register("fk")
class ForeignKey(Generator):
    """A foreign key to another table's primary key (or unique column).

    Params: ``table`` (the parent table), ``column`` (the parent's key column; default its
    single-column primary key), ``skew`` (optional numeric distribution over parent rows, e.g.
    ``{type: zipf, params: {a: 1.3}}``). ``null_rate`` on a nullable fk column gives optional
    references. Parent attributes are reachable as ``this_column.parent_column`` in ``template``
    and ``expr``. A self-reference (``table`` = this table) points at an earlier row.

    One-to-one: ``unique: true`` on the fk column uses each parent row at most once — child row
    ``r`` takes the parent row at a keyed permutation of ``r`` over the parent's rows (the
    ``unique`` stream), so the child may have at most as many rows as the parent (the planner
    refuses more); ``rows: {of: PARENT, coverage: 0.8}`` on the child table gives children to 80 %
    of the parent rows, whatever ``--rows``/``--scale`` make of the parent. On a nullable unique
    fk, null rows do not count as duplicates (they still take a permutation slot). ``skew`` and a
    self-reference cannot be unique.

    Coverage: ``cover: true`` uses every parent row at least once — child rows ``0 … parents − 1``
    take a keyed permutation of the parent rows (the ``fk/cover`` stream), later rows draw as usual
    (``skew`` included). The planner refuses a child with fewer rows than the parent; ``validate``
    checks it (``coverage``).

    Composite keys: ``with_columns: {child_column: parent_column, …}`` names the key's other columns. The
    reference is the tuple (this column, the ``with_columns`` columns) → (``column``, their parent
    columns), which must be the parent's primary key or one of its unique groups; ``column`` need
    not be unique alone. The ``with_columns`` columns take the same parent row's values (each is the
    lookup ``this_column.parent_column``; written without a generator, the loader gives it that).
    """

    unique_strategy = "index"
    kinds = frozenset({"int", "string", "uuid", "date", "timestamp", "decimal", "float"})
    params_schema = obj(
        ("table",),
        table={"type": "string", "minLength": 1},
        column={"type": "string", "minLength": 1},
        skew={"$ref": "#/$defs/generator"},
        cover={"type": "boolean"},
        with_columns={"type": "object", "minProperties": 1, "additionalProperties": {"type": "string", "minLength": 1},
                    "description": "a composite key's other columns: {this table's column: the parent's column}"},
    )

    def target(self, params, schema) -> tuple[str, str | None]:
        """(parent table, parent column): ``params.column`` or the parent's single-column primary
        key (None when it has none)."""
        parent = params["table"]
        col = params.get("column")
        if col is None and schema.has_table(parent):
            pk = schema.table(parent).primary_key
            col = pk[0] if len(pk) == 1 else None
        return parent, col

    def check(self, column, table, schema):
        problems = []
        parent_name = column.generator.params["table"]
        if not schema.has_table(parent_name):
            from shared.registry import did_you_mean

            return [(f"fk names no table {parent_name!r}", "params.table", did_you_mean(parent_name, schema.table_names))]
        parent = schema.table(parent_name)
        _, col_name = self.target(column.generator.params, schema)
        if col_name is None:
            return [(f"table {parent_name!r} has no single-column primary key; name the parent column",
                     "params", "add params.column")]
        if not parent.has_column(col_name):
            from shared.registry import did_you_mean

            return [(f"fk names no column {col_name!r} in table {parent_name!r}", "params.column",
                     did_you_mean(col_name, parent.column_names))]
        pcol = parent.column(col_name)
        pairs = dict(column.generator.params.get("with_columns") or {})
        if pairs:
            problems += _with_problems(column, table, parent, col_name, pairs)
        elif not (parent.primary_key == (col_name,) or pcol.unique):
            problems.append((f"fk target {parent_name}.{col_name} is neither the primary key nor unique",
                             "params.column", f"mark it unique: true or point at {parent_name}'s primary key"))
        if pcol.dtype.kind != column.dtype.kind or (
            pcol.dtype.kind == "decimal" and pcol.dtype.scale != column.dtype.scale
        ):
            problems.append((f"fk column type {column.dtype.name} does not match {parent_name}.{col_name} "
                             f"({pcol.dtype.name})", "params.column", f"declare type: {pcol.dtype.name}"))
        else:
            problems += _range_problems(column, pcol, f"{parent_name}.{col_name}")
        if parent_name == table.name and not column.nullable:
            problems.append(("a self-reference points at an earlier row, and the first row has none",
                             "params.table", "add nullable: true to this column"))
        skew = column.generator.params.get("skew")
        one_to_one = column.unique or table.primary_key == (column.name,)
        if one_to_one and parent_name == table.name:
            problems.append(("a unique self-reference cannot be built: each row points at an earlier row, "
                             "and the rows before row r are fewer than the rows that need one",
                             "params.table", "drop unique: true, or point at another table"))
        if one_to_one and skew is not None:
            problems.append(("a unique (one-to-one) fk uses each parent row at most once, so a skew of "
                             "parent popularity has no meaning", "params.skew",
                             "drop skew, or drop unique: true for a one-to-many key"))
        if column.generator.params.get("cover"):
            problems += _cover_problems(column, table, parent_name, one_to_one)
        if skew is not None:
            stype = skew if isinstance(skew, str) else skew.get("type")
            gen = GENERATORS.get(stype)
            if gen is not None and not gen.numeric_distribution:
                problems.append((f"skew {stype!r} is not a numeric distribution", "params.skew",
                                 "use e.g. zipf, exponential, normal"))
        return problems

    def references(self, params):
        return ()

    def reference(self, column, table, schema) -> ForeignKeyRef:
        """The column's ``ForeignKeyRef`` (the parent column resolved by ``target``); the loader
        stores it on the column and marks the owning fk of a per-parent table."""
        params = column.generator.params
        parent, parent_column = self.target(params, schema)
        return ForeignKeyRef(table=table.name, column=column.name, parent=parent, parent_column=parent_column,
                             path=column.generator.path, nullable=column.nullable, skew=params.get("skew"),
                             with_columns=tuple((str(a), str(b)) for a, b in (params.get("with_columns") or {}).items()))

    def bound_columns(self, column) -> dict[str, str]:
        """A composite key's ``with_columns``: each bound to the same parent row's column."""
        pairs = column.generator.params.get("with_columns") or {}
        return {str(child): bound_expr(column.name, str(pcol)) for child, pcol in pairs.items()}

    def capacity(self, column, params, plan) -> int | None:
        """Distinct keys available: the parent's rows (a self-reference has no fixed domain)."""
        ref = column.references
        return None if ref.self_reference else plan.rows(ref.parent)

    def indexable(self, column) -> bool:
        """Parent row indices form a finite domain (so an fk takes part in a composite unique
        group), except for a self-reference and the owning fk of a per-parent table, whose
        indices are fixed."""
        ref = column.references
        return ref is not None and not ref.self_reference and not ref.owner

    def describe(self, params):
        text = f"fk → {params['table']}" + (f".{params['column']}" if params.get("column") else "")
        if params.get("with_columns"):
            text += " with " + ", ".join(f"{a} → {b}" for a, b in params["with_columns"].items())
        skew = params.get("skew")
        if skew is not None:
            stype = skew if isinstance(skew, str) else skew.get("type")
            text += f" (skew {stype})"
        return text

    # --- run time ---------------------------------------------------------------------------

    def parent_index(self, ctx, n_parent: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Parent row indices for ``ctx.rows`` and a mask of rows with no parent (or None)."""
        params = ctx.params
        rows = ctx.rows
        if params["table"] == ctx.table.name:  # self-reference: an earlier row
            u = ctx.uniform("fk")
            idx = np.floor(u * rows).astype(np.int64)
            return idx, rows == 0
        if n_parent <= 0:
            return np.zeros(rows.shape, np.int64), np.ones(rows.shape, bool)
        idx = self._draw(ctx, n_parent)
        if params.get("cover"):  # the first n_parent rows: every parent once, in a keyed order
            first = rows < n_parent
            if first.any():
                idx = idx.copy()
                idx[first] = rng.permute(ctx.key("fk/cover"), rows[first], n_parent)
        return idx, None

    def _draw(self, ctx, n_parent: int) -> np.ndarray:
        """Parent row indices drawn uniformly or by ``skew`` (the fk stream)."""
        params = ctx.params
        skew = params.get("skew")
        if skew is None:
            return ctx.integers(0, n_parent - 1, "fk")
        stype = skew if isinstance(skew, str) else skew["type"]
        sparams = {} if isinstance(skew, str) else (skew.get("params") or {})
        gen = GENERATORS[stype]
        if gen.ranks is not None:
            ranks = np.asarray(gen.ranks(ctx.uniform("fk"), n_parent, sparams), dtype=np.int64)
        else:
            sub = ctx.derive(params=sparams, prefix="fk/skew/")
            x = np.asarray(gen.generate(sub), dtype=np.float64)
            ranks = np.clip(np.floor(np.nan_to_num(x)), 0, n_parent - 1).astype(np.int64)
        ranks = np.clip(ranks, 0, n_parent - 1)
        # scatter popularity over the parents with a keyed bijection of [0, n_parent)
        return rng.permute(ctx.key("fk/scatter"), ranks, n_parent)

    def generate(self, ctx):
        parent, col = self.target(ctx.params, ctx.schema)
        idx, missing = self.parent_index(ctx, ctx.row_count(parent))
        return ctx.lookup(parent, col, idx)


def bound_expr(column: str, parent_column: str) -> str:
    """The lookup a composite key's ``with_columns`` column is: the same parent row's column."""
    return f"{column}.{parent_column}"


def _with_problems(column, table, parent, col_name: str, pairs: dict) -> list[tuple[str, str, str | None]]:
    """``with_columns`` of a composite key: columns that exist, one type each side, bound to the parent
    row, and a tuple that is a key of the parent."""
    from shared.registry import did_you_mean

    out: list[tuple[str, str, str | None]] = []
    if parent.name == table.name:
        return [("a composite self-reference is not supported", "params.with_columns",
                 "reference a single key column, or another table")]
    if column.unique or table.primary_key == (column.name,):
        out.append(("a one-to-one (unique) fk cannot have with_columns: each parent row is used once by its key column",
                    "params.with_columns", "drop unique: true, or reference a single key column"))
    for child, pcol_name in pairs.items():
        where = f"params.with_columns.{child}"
        if child == column.name:
            out.append((f"with_columns names the fk column {child!r} itself", where, "list the key's other columns"))
            continue
        if not table.has_column(child):
            out.append((f"with_columns names no column {child!r} in table {table.name!r}", where,
                        did_you_mean(child, table.column_names)))
            continue
        if not parent.has_column(pcol_name):
            out.append((f"with_columns: no column {pcol_name!r} in table {parent.name!r}", where,
                        did_you_mean(pcol_name, parent.column_names)))
            continue
        c, pc = table.column(child), parent.column(pcol_name)
        if c.dtype.kind != pc.dtype.kind:
            out.append((f"column {child} ({c.dtype.name}) does not match {parent.name}.{pcol_name} ({pc.dtype.name})",
                        where, f"declare {child} with type: {pc.dtype.name}"))
        want = bound_expr(column.name, pcol_name)
        gen = c.generator
        if not (gen.type == "expr" and str(gen.params.get("expr", "")).strip() == want):
            out.append((f"column {child} is bound by the composite key to {parent.name}.{pcol_name}, but has a "
                        f"generator of its own ({gen.type})", where, f"leave {child}'s generator out (it becomes expr {want!r})"))
    key = {col_name, *pairs.values()}
    keys = [set(parent.primary_key)] + [set(g) for g in parent.unique]
    if key not in keys:
        shown = ", ".join([col_name, *pairs.values()])
        out.append((f"({shown}) is neither the primary key nor a unique group of {parent.name}", "params.with_columns",
                    f"declare primary_key or unique: [[{shown}]] on {parent.name}"))
    return out


def _cover_problems(column, table, parent_name: str, one_to_one: bool) -> list[tuple[str, str, str | None]]:
    """``cover: true`` needs an fk whose parent rows it chooses: not a self-reference, not a
    one-to-one key (``rows: {of: P, coverage: 1.0}`` says that), not the owning fk of a
    per-parent table (its parents are fixed: ``rows.min: 1`` covers them), not a column of a
    composite unique group (its indices are decoded jointly), and no nulls that would drop parents."""
    hint_path = "params.cover"
    if parent_name == table.name:
        return [("cover on a self-reference: a row points at an earlier row, so the last rows are never "
                 "covered", hint_path, "drop cover")]
    if one_to_one:
        return [("cover on a unique (one-to-one) fk: each parent is used at most once", hint_path,
                 f"write rows: {{of: {parent_name}, coverage: 1.0}} on the table instead")]
    rows = table.rows
    if getattr(rows, "per", None) == parent_name and table.owner is not None and table.owner.column == column.name:
        return [("cover on the owning fk of a per-parent table: its parents follow the counts", hint_path,
                 "set rows.min: 1 so every parent has a child")]
    groups = [g for g in table.unique if len(g) > 1] + ([table.primary_key] if len(table.primary_key) > 1 else [])
    if any(column.name in g for g in groups):
        return [("cover on a column of a composite unique group: the group's values are chosen jointly",
                 hint_path, "drop cover, or take the column out of the group")]
    if column.nullable and column.null_rate > 0:
        return [("cover with null_rate: a null row would leave its parent uncovered", hint_path,
                 "drop null_rate, or drop cover")]
    return []


def _range_problems(child, parent, where: str) -> list[tuple[str, str, str | None]]:
    """A key of the same kind must also hold every value the parent's key can take: an ``int32``
    fk to an ``int64`` key, a ``decimal(5,2)`` to a ``decimal(12,2)`` or a ``max_length: 8`` string to
    a longer key would clip or cut the parent's values into orphans."""
    ct, pt = child.dtype, parent.dtype
    hint = f"declare type: {pt.name}"
    if ct.kind == "int":
        lo, hi = ct.int_bounds()
        plo, phi = pt.int_bounds()
        plo = plo if parent.min is None else max(plo, int(parent.min))
        phi = phi if parent.max is None else min(phi, int(parent.max))
        if plo < lo or phi > hi:
            return [(f"fk column type {ct.name} cannot hold every key of {where} ({pt.name}, values "
                     f"{plo:,}..{phi:,}); the values past {ct.name}'s range {lo:,}..{hi:,} would become orphans",
                     "params.column", hint + f", or bound the parent key with min/max inside {ct.name}")]
    if ct.kind == "float" and (ct.bits or 64) < (pt.bits or 64):
        return [(f"fk column type {ct.name} cannot hold every key of {where} ({pt.name}) exactly",
                 "params.column", hint)]
    if ct.kind == "decimal" and ct.precision - ct.scale < pt.precision - pt.scale:
        return [(f"fk column type {ct.name} cannot hold every key of {where} ({pt.name})", "params.column", hint)]
    if ct.kind == "string" and child.max_length is not None and (
        parent.max_length is None or parent.max_length > child.max_length
    ):
        theirs = "no max_length" if parent.max_length is None else f"max_length {parent.max_length}"
        return [(f"fk column max_length {child.max_length} is shorter than the keys of {where} ({theirs})",
                 "params.column", "remove max_length from the fk column, or make it at least the parent's")]
    return []
