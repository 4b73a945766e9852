"""``switch``: a column's generator chosen by another column's value.

The vectorised form of Snowfakery's ``if``/``when`` and dbldatagen's CASE expressions::

    - name: amount
      type: decimal(10,2)
      generator:
        type: switch
        params:
          on: tier
          cases:
            gold:   {type: lognormal, params: {mean: 6, sigma: 0.5}}
            silver: {type: lognormal, params: {mean: 5, sigma: 0.5}}
          default:  {type: uniform_float, params: {min: 5, max: 50}}

Each case's generator runs once per block over the rows whose ``on`` value is that case (the
rows of no case take ``default``), under its own stream (purpose ``case/<value>/…``): a row's
value depends on its row index and its case alone, so it is the same at any block size or worker
count, and adding a case never moves the values of another.

A switch whose cases (and default) all have an inverse CDF has one too — each row's case's, at
that row's uniform — so it joins a Gaussian copula (``correlations:``) as a *conditional*
marginal: the value given the ``on`` column's, correlated through the copula with the others.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.distributions.base import ALL_KINDS, Generator, obj, register

GEN = {"$ref": "#/$defs/generator"}


def _not_in_a_case(gen) -> str | None:
    """Why a generator cannot run inside a case, or None: a reference to another table's key
    (its values come with the parent's rows), or another switch (say it in one)."""
    if type(gen).reference is not Generator.reference:
        return "a reference to another table is a column of its own"
    if getattr(gen, "chooses_by_column", False):
        return "write the cases of both in one switch"
    return None


def _spec(raw: Any) -> tuple[str, Mapping[str, Any]]:
    if isinstance(raw, str):
        return raw, {}
    return raw["type"], raw.get("params") or {}


def case_value(kind: str, key: str, anchor_us: int) -> Any:
    """A case written as mapping key text, in the engine units of the ``on`` column's kind."""
    from shared.model import timeutil

    text = str(key).strip()
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{key!r} is not true or false")
        return text.lower() == "true"
    if kind == "int":
        return int(text)
    if kind in ("float", "decimal"):
        v = float(text)
        if not math.isfinite(v):
            raise ValueError(f"{key!r} is not a finite number")
        return v
    if kind == "date":
        return timeutil.parse_date(text)
    if kind == "timestamp":
        return timeutil.parse_timestamp(text, anchor_us)
    return str(key)


def _on_domain(on_col) -> list[Any] | None:
    """Every value the ``on`` column can take, when it is a short known list, else None."""
    if on_col.dtype.kind == "bool":
        return [False, True]
    if on_col.allowed:
        return list(on_col.allowed)
    from shared.distributions.base import GENERATORS

    gen = GENERATORS.get(on_col.generator.type)
    if gen is not None and gen.listed_values and on_col.generator.params.get("values"):  # a written list
        return list(on_col.generator.params["values"])
    return None


@register("switch")
class Switch(Generator):
    """A generator chosen per row by another column's value (a case per value, and a default).

    Params: ``on`` — a column of the same row (or ``fk.col`` of a parent); ``cases`` — a mapping
    from a value of ``on`` (written as text: ``gold``, ``3``, ``true``, ``2024-01-01``) to the
    generator of the rows with that value; ``default`` — the generator of every other row
    (required unless the cases cover every value ``on`` can take: a bool, a column with
    ``allowed``, a ``choice``). A case's generator is any generator of this column's type except
    ``fk`` and ``switch``, with its own params, checked as if it were written on the column; its
    stream is the case's own (``case/<value>/``), so a row's value depends only on its row and
    its case. Not unique by construction. Joins a Gaussian copula when every case's generator
    can (the case's inverse CDF at the row's correlated uniform)."""

    kinds = ALL_KINDS
    chooses_by_column = True
    #: an inverse CDF when every case has one (``supports_quantile``): the case's, per row
    has_quantile = True
    params_schema = obj(("on", "cases"), on={"type": "string", "minLength": 1},
                        cases={"type": "object", "minProperties": 1, "additionalProperties": GEN},
                        default=GEN)

    def references(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        from shared.distributions.base import GENERATORS

        refs = [params["on"]]
        for raw in [*(params.get("cases") or {}).values(), *([params["default"]] if "default" in params else [])]:
            name, sub = _spec(raw)
            gen = GENERATORS.get(name)
            if gen is not None:
                refs += [r for r in gen.references(sub) if r not in refs]
        return tuple(refs)

    def check(self, column, table, schema) -> list[tuple[str, str, str | None]]:
        from shared.distributions.base import GENERATORS
        from shared.model.schema import GeneratorSpec, freeze

        params = column.generator.params
        problems: list[tuple[str, str, str | None]] = []
        on = params["on"]
        if on == column.name:
            return [(f"{column.name!r} cannot choose its generator by its own value", "params.on", None)]
        try:
            on_col = schema.resolve_ref(table, on)
        except KeyError as exc:
            return [(f"on: {exc.args[0] if exc.args else on}", "params.on", None)]
        values: list[Any] = []
        subs = [(f"params.cases.{k}", raw) for k, raw in params["cases"].items()]
        if "default" in params:
            subs.append(("params.default", params["default"]))
        for key in params["cases"]:
            try:
                values.append(case_value(on_col.dtype.kind, key, schema.anchor_us))
            except (ValueError, OverflowError) as exc:
                problems.append((f"case {key!r} is not a value of {on!r} ({on_col.dtype.name}): {exc}",
                                 f"params.cases.{key}", None))
        for path, raw in subs:
            name, sub = _spec(raw)
            gen = GENERATORS.get(name)
            if gen is None:
                continue  # an unknown generator is reported by the JSON Schema
            why_not = _not_in_a_case(gen)
            if why_not is not None:
                problems.append((f"{name!r} cannot be a case's generator", f"{path}.type", why_not))
                continue
            if column.dtype.kind not in gen.kinds:
                problems.append((f"generator {name!r} cannot produce type {column.dtype.name}", f"{path}.type",
                                 f"{name} produces: {', '.join(sorted(gen.kinds))}"))
                continue
            inner = dataclasses.replace(column, generator=GeneratorSpec(name, freeze(sub), column.generator.path))
            problems += [(m, f"{path}.{p}" if p else path, h) for m, p, h in gen.check(inner, table, schema)]
        if "default" not in params and not problems:
            domain = _on_domain(on_col)
            missing = [] if domain is None else [v for v in domain if v not in values]
            if domain is None or missing:
                shown = "values not listed in cases" if domain is None else \
                    "the values " + ", ".join(map(repr, missing[:5])) + (" …" if len(missing) > 5 else "")
                problems.append((f"{shown} of {on!r} get no generator", "params",
                                 "add default: {type: …} for the other rows"))
        return problems

    def supports_quantile(self, params: Mapping[str, Any]) -> bool:
        from shared.distributions.base import GENERATORS

        subs = [*(params.get("cases") or {}).values(), *([params["default"]] if "default" in params else [])]
        for raw in subs:
            name, sub = _spec(raw)
            gen = GENERATORS.get(name)
            if gen is None or not gen.supports_quantile(sub):
                return False
        return bool(subs)

    def generate(self, ctx):
        return self._cases(ctx, None)

    def quantile(self, u, ctx):
        """Each row's case's inverse CDF at its ``u``: non-decreasing in ``u`` among the rows of
        one case (the conditional quantile given the ``on`` value)."""
        return self._cases(ctx, np.asarray(u, dtype=np.float64))

    def _cases(self, ctx, u: np.ndarray | None):
        from shared.distributions.base import GENERATORS

        params = ctx.params
        on = ctx.ref(params["on"])
        kind = ctx.schema.resolve_ref(ctx.names_table, params["on"]).dtype.kind if ctx.schema is not None else "string"
        n = ctx.n
        taken = np.zeros(n, dtype=bool)
        pieces: list[tuple[np.ndarray, Any]] = []
        strings = isinstance(on, (pa.Array, pa.ChunkedArray))
        for key, raw in params["cases"].items():
            value = case_value(kind, key, ctx.anchor_us)
            if strings:
                hit = pc.equal(on, pa.scalar(str(value), pa.string())).fill_null(False)
                sel = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
            else:
                sel = np.asarray(on) == value
            sel &= ~taken
            taken |= sel
            pieces.append((sel, self._run(ctx, GENERATORS, raw, sel, f"case/{key}/", u)))
        rest = ~taken
        if rest.any():
            if "default" not in params:  # the loader proved the cases cover every value
                raise AssertionError("switch: rows of no case and no default")
            pieces.append((rest, self._run(ctx, GENERATORS, params["default"], rest, "default/", u)))
        return _assemble(pieces, n)

    @staticmethod
    def _run(ctx, generators, raw, sel: np.ndarray, prefix: str, u: np.ndarray | None = None):
        name, sub_params = _spec(raw)
        rows = ctx.rows[sel]
        sub = ctx.derive(params=sub_params, prefix=prefix, rows=rows)
        outer = ctx.resolver

        def resolve(ref: str, _rows, outer=outer, sel=sel):
            full = outer(ref, ctx.rows)  # the block's values, then this case's rows of them
            if isinstance(full, (pa.Array, pa.ChunkedArray)):
                return full.filter(pa.array(sel))
            return np.asarray(full)[sel]

        sub.resolver = resolve if outer is not None else None
        if ctx.owners is not None:  # a per-parent table: this case's rows' parents and positions
            sub.owners = lambda owners=ctx.owners, sel=sel: tuple(np.asarray(x)[sel] for x in owners())
        out = generators[name].generate(sub) if u is None else generators[name].quantile(u[sel], sub)
        if isinstance(out, tuple):  # (values, missing): only references return it, refused above
            out = out[0]
        return out


def _assemble(pieces: list[tuple[np.ndarray, Any]], n: int):
    """One array of ``n`` values from each case's values at its selected positions."""
    positions = np.concatenate([np.flatnonzero(sel) for sel, _ in pieces]) if pieces else np.empty(0, np.int64)
    inverse = np.empty(n, dtype=np.int64)
    inverse[positions] = np.arange(positions.size, dtype=np.int64)
    values = [v for _, v in pieces]
    if any(isinstance(v, (pa.Array, pa.ChunkedArray)) for v in values):
        arrays = [v.combine_chunks() if isinstance(v, pa.ChunkedArray) else
                  (v if isinstance(v, pa.Array) else pa.array(v)) for v in values]
        return pa.concat_arrays([a.cast(pa.string()) if pa.types.is_large_string(a.type) else a
                                 for a in arrays]).take(pa.array(inverse))
    if not values:
        return np.empty(0)
    common = np.result_type(*[np.asarray(v).dtype for v in values])
    return np.concatenate([np.asarray(v, dtype=common) for v in values])[inverse]
