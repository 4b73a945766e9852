"""The ``expr`` generator: a column derived from same-row and parent columns (``shared.model.expr``).

Load time parses and type-checks the expression against the columns it names; run time evaluates
it on the whole block through ``ctx`` (column values from ``ctx.ref``, inline random draws from
``ctx.uniform``/``ctx.normal`` under the purposes ``expr:0``, ``expr:1`` …) and converts the result
to the column's engine units.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import numpy as np

from shared.distributions.base import GenContext, Generator, obj, register
from shared.model.expr import (
    US_PER_DAY,
    Expr,
    ExprError,
    constant_problems,
    evaluate_masked,
    infer_kind,
    is_assignable,
    null_source,
    parse_expr,
    sat_mul,
    to_int64,
)

_PARSED: dict[str, Expr] = {}
_PARSED_MAX = 4096


def _parse(text: str) -> Expr:
    expr = _PARSED.get(text)
    if expr is None:
        expr = parse_expr(text)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[text] = expr
    return expr


def _candidates(table, schema) -> list[str]:
    """Every name an expression in ``table`` could read: its columns and fk.parent columns."""
    names = list(table.column_names)
    for ref in table.foreign_keys:
        if schema is not None and schema.has_table(ref.parent):
            names += [f"{ref.column}.{p}" for p in schema.table(ref.parent).column_names]
    return names


def _close(name: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    if not close:
        return None
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"


def _kind_of_value(value: Any) -> str:
    """A reference's kind from its values (bare unit tests, where ctx.schema is None)."""
    import pyarrow as pa

    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        t = value.type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return "string"
        value = value.to_numpy(zero_copy_only=False)
    dt = np.asarray(value).dtype
    if dt.kind == "b":
        return "bool"
    if dt.kind in "iu":
        return "int"
    if dt.kind == "f":
        return "float"
    if dt.kind == "M":
        return "date" if np.datetime_data(dt)[0] in ("D", "W", "M", "Y") else "timestamp"
    if dt.kind in "UOS":
        return "string"
    raise TypeError(f"cannot tell the kind of values of dtype {dt}")


class _ContextEnv:
    """The evaluator's environment over a GenContext (each reference is fetched once)."""

    def __init__(self, ctx: GenContext):
        self.ctx = ctx
        self.n = len(ctx.rows)
        self.rows = ctx.rows
        self._values: dict[str, Any] = {}

    def ref(self, name: str) -> Any:
        if name not in self._values:
            self._values[name] = self.ctx.ref(name)
        return self._values[name]

    def kind(self, name: str) -> str:
        schema = getattr(self.ctx, "schema", None)
        if schema is None:
            return _kind_of_value(self.ref(name))
        return schema.resolve_ref(self.ctx.table, name).dtype.kind

    def uniform(self, purpose: str) -> np.ndarray:
        return self.ctx.uniform(purpose)

    def normal(self, purpose: str) -> np.ndarray:
        return self.ctx.normal(purpose)


def _to_column(kind: str, values: Any, column_kind: str):
    """Expression values (engine units of ``kind``) → engine units of the column."""
    if column_kind == "int":
        # rounded, saturating at int64's bounds, NaN → 0 (then clipped into the column's bounds):
        # never numpy's cast of NaN, int64's minimum
        return to_int64(values)
    if column_kind in ("float", "decimal"):
        return np.asarray(values, dtype=np.float64)
    if column_kind == "timestamp":
        return sat_mul(values, np.int64(US_PER_DAY)) if kind == "date" else values
    if column_kind == "date":
        return np.floor_divide(values, US_PER_DAY) if kind == "timestamp" else values
    return values  # bool, string, uuid: already in engine units


@register("expr")
class ExprGenerator(Generator):
    """A value computed from same-row and parent columns (``fk_col.parent_col``) by a small, safe,
    vectorised expression language: arithmetic, comparisons, and/or/not, if(cond, a, b),
    case(c1, v1, …, default), coalesce(), is_null(), row(), days()/hours()/minutes()/seconds(),
    round(), abs(), floor(), ceil(), min()/max(), strings (lower, upper, concat, to_string, length,
    trim, replace, substring, lpad/rpad), date parts (year, quarter, month, day, weekday, hour,
    minute, second, date_trunc), casts (to_int, to_float, to_date, to_timestamp, parse_date,
    parse_timestamp: null where a string does not parse) and inline random draws uniform(a, b),
    normal(mean, std), exponential(scale). See docs/dsl.md for the table of functions."""

    params_schema = obj(("expr",), expr={"type": "string", "minLength": 1})

    def references(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        return _parse(params["expr"]).names

    def check(self, column, table, schema) -> list[tuple[str, str, str | None]]:
        path = "params.expr"
        try:
            expr = _parse(column.generator.params["expr"])
        except ExprError as e:
            return [(str(e), path, e.hint)]
        problems: list[tuple[str, str, str | None]] = []
        kinds: dict[str, str] = {}
        for name, pos in zip(expr.names, expr.name_positions, strict=True):
            if name.partition(".")[0] == column.name:
                problems.append((f"at character {pos}: the expression of {column.name!r} reads {name!r}, "
                                 "which needs the column's own value", path,
                                 "an expression cannot reference its own column"))
                continue
            try:
                kinds[name] = schema.resolve_ref(table, name).dtype.kind
            except KeyError as e:
                reason = e.args[0] if e.args else name
                others = [c for c in _candidates(table, schema) if c != column.name]
                problems.append((f"at character {pos}: unknown name {name!r} ({reason})", path,
                                 _close(name, others)))
        if problems:
            return problems
        try:
            kind = infer_kind(expr, kinds)
        except ExprError as e:
            return [(str(e), path, e.hint)]
        if not is_assignable(kind, column.dtype.kind):
            hint = None
            if kind == "duration" and column.dtype.kind in ("int", "float", "decimal"):
                hint = "divide by a unit to get a number, e.g. (end - start) / days(1)"
            elif column.dtype.kind in ("string", "uuid"):
                hint = "turn it into text with concat(...)"
            problems.append((f"at character 0: the expression gives {kind} values, which a "
                             f"{column.dtype.name} column cannot hold", path, hint))
        source = null_source(expr, kinds)
        if source is not None and not column.nullable:
            problems.append((f"at character {source.pos}: {source.func}() gives null where its string does not "
                             f"parse, and column {column.name!r} is not nullable", path,
                             f"give a default with coalesce({source.func}(…), …) or set nullable: true"))
        problems += [(str(e), path, e.hint) for e in constant_problems(expr)]
        return problems

    def generate(self, ctx: GenContext):
        expr = _parse(ctx.params["expr"])
        kind, values, nulls = evaluate_masked(expr, _ContextEnv(ctx))
        column_kind = ctx.column.dtype.kind
        if not is_assignable(kind, column_kind):
            raise ExprError(f"the expression gives {kind} values, which a {ctx.column.dtype.name} column "
                            "cannot hold", 0)
        nan = np.isnan(values) if ctx.column.nullable and kind == "float" else None
        values = _to_column(kind, values, column_kind)
        if not ctx.column.nullable:
            return values  # the loader refuses a null source here; NaN becomes the value nearest 0
        if nan is not None and nan.any():  # x / 0, 0 * inf …: null in a nullable column
            nulls = nan if nulls is None else (nulls | nan)
        if nulls is not None:  # and strings that do not parse
            return values, nulls
        return values
