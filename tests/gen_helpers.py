"""Helpers for generator unit tests: a real ColumnContext over a one-column table."""

from __future__ import annotations

from typing import Any

import numpy as np

from shared.distributions.base import GENERATORS, load_builtins
from shared.model.schema import Column, GeneratorSpec, Table, freeze
from shared.model.types import parse_type
from shared.schema_dsl.context import ColumnContext


def make_column(name: str = "c", type: str = "float64", generator: str = "uniform_float",
                params: dict | None = None, **col: Any) -> Column:
    return Column(name=name, dtype=parse_type(type),
                  generator=GeneratorSpec(generator, freeze(params or {}), ("tables", 0, "columns", 0, "generator")),
                  path=("tables", 0, "columns", 0), **col)


def run(generator: str, params: dict | None = None, *, type: str = "float64", rows=1000, seed: int = 7,
        refs: dict[str, Any] | None = None, unique: bool = False, profile: str = "realistic",
        start: int = 0, n_total: int | None = None, **col: Any):
    """Generate ``rows`` values (an int count from ``start``, or an explicit index array)."""
    load_builtins()
    column = make_column(type=type, generator=generator, params=params, unique=unique, **col)
    table = Table(name="t", rows=n_total or 1, columns=(column,), path=("tables", 0))
    idx = np.arange(start, start + rows, dtype=np.int64) if isinstance(rows, int) else np.asarray(rows, np.int64)
    refs = refs or {}

    def resolver(name, r):
        v = refs[name]
        return v(r) if callable(v) else v

    ctx = ColumnContext(seed=seed, table=table, column=column, params=column.generator.params, rows=idx,
                        n_total=n_total or int(idx.max(initial=0)) + 1, profile=profile, unique=unique,
                        resolver=resolver)
    return GENERATORS[generator].generate(ctx)
