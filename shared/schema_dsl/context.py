"""The engine's implementation of ``GenContext``: keyed randomness for one column and one block.

Every stream key is ``stream_key(seed, table, column, purpose)``; nested distributions (fk skew,
per-parent counts, inline draws of ``expr``) extend the purpose (``skew/value``), so adding a
nested draw never moves another stream. Faker pools are built once per process per
(provider, locale, size) from a Faker instance seeded through ``seed_instance`` with a stable key;
a pool's default size follows the planned rows of the table drawing from it (``pool_size_for``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.distributions.pools import faker_pool, pool_size_for
from shared.io import rng


@dataclass
class ColumnContext:
    """Randomness and references for one column over one block of rows."""

    seed: int
    table: Any
    column: Any
    params: Mapping[str, Any]
    rows: np.ndarray
    n_total: int
    profile: str = "realistic"
    locale: str = "en_US"
    anchor_us: int = 0
    unique: bool = False
    purpose_prefix: str = ""
    schema: Any = None  # model.Schema, for reference kinds (expr) — None in bare unit tests
    resolver: Callable[[str, np.ndarray], Any] | None = None
    #: values of any table's column at given row indices (parent lookups): lookup(table, column, rows)
    lookup: Callable[[str, str, np.ndarray], Any] | None = None
    #: planned row count of any table
    row_count: Callable[[str], int] | None = None
    sampler: Callable[[Any, ColumnContext, str], np.ndarray] | None = None
    #: in a per-parent table: (parent row, position among that parent's children) of each row
    owners: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None
    #: the table the names given to ``ref`` belong to, when not ``table`` (a per-parent count's
    #: distribution runs over the parent's rows and reads the parent's columns)
    ref_table: Any = None
    #: a part of a nested column (a field, a list's items) as Arrow, nulls applied: at these rows,
    #: or at ``rows`` (a list's element addresses) — part(name, rows=None)
    parts: Callable[[str, np.ndarray | None], Any] | None = None
    _keys: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return int(self.rows.shape[0])

    @property
    def pool_size(self) -> int:
        """The default Faker pool size for this column: sized from its table's planned rows
        (``n_total``), so a parent lookup (``fk.col``) builds the parent's pool, not the child's."""
        return pool_size_for(self.n_total, self.profile)

    def key(self, purpose: str = "value") -> int:
        full = self.purpose_prefix + purpose
        k = self._keys.get(full)
        if k is None:
            k = rng.stream_key(self.seed, self.table.name, self.column.name, full)
            self._keys[full] = k
        return k

    def uniform(self, purpose: str = "value") -> np.ndarray:
        return rng.uniform(self.key(purpose), self.rows)

    def normal(self, purpose: str = "value") -> np.ndarray:
        return rng.normal(self.key(purpose), self.rows)

    def integers(self, low: int, high: int, purpose: str = "value") -> np.ndarray:
        return rng.integers(self.key(purpose), self.rows, low, high)

    def bits(self, purpose: str = "value") -> np.ndarray:
        return rng.bits(self.key(purpose), self.rows)

    def permute(self, n: int, purpose: str = "unique") -> np.ndarray:
        """A keyed bijection of the row index into [0, n) (needs n >= the table's rows)."""
        return rng.permute(self.key(purpose), self.rows, n)

    @property
    def names_table(self):
        """The table whose columns ``ref`` names (``ref_table``, else ``table``)."""
        return self.table if self.ref_table is None else self.ref_table

    def ref(self, name: str):
        if self.resolver is None:
            raise LookupError(f"no column {name!r} available here")
        return self.resolver(name, self.rows)

    def part(self, name: str, rows: np.ndarray | None = None):
        if self.parts is None:
            raise LookupError(f"no nested column part {name!r} available here")
        return self.parts(name, rows)

    def faker_pool(self, provider: str, locale: str | None = None, size: int | None = None,
                   draws: int | None = None, args_json: str | None = None):
        """The pool of ``provider``: ``size`` values when given (``pool_size``), else sized by
        ``pool_size_for`` from ``draws`` (default: the table's planned rows); ``args_json``: the
        provider's keyword arguments (``pools.args_key``)."""
        if not size:
            size = self.pool_size if draws is None else pool_size_for(draws, self.profile)
        return faker_pool(provider, locale or self.locale, size, self.seed, args_json)

    def derive(self, *, params: Mapping[str, Any] | None = None, prefix: str = "", rows: np.ndarray | None = None,
               unique: bool = False) -> ColumnContext:
        """A context for a nested distribution (own params, own purpose prefix)."""
        return ColumnContext(
            seed=self.seed, table=self.table, column=self.column,
            params=self.params if params is None else params,
            rows=self.rows if rows is None else rows, n_total=self.n_total, profile=self.profile,
            locale=self.locale, anchor_us=self.anchor_us, unique=unique,
            purpose_prefix=self.purpose_prefix + prefix, schema=self.schema, resolver=self.resolver,
            lookup=self.lookup, row_count=self.row_count, sampler=self.sampler, ref_table=self.ref_table,
            owners=self.owners if rows is None else None,  # positions are the block's rows'
        )

    def sample(self, spec, purpose: str) -> np.ndarray:
        """Values of a nested generator spec (e.g. fk ``skew``) under its own purpose prefix."""
        from shared.distributions.base import GENERATORS

        sub = self.derive(params=spec.params if hasattr(spec, "params") else spec.get("params", {}),
                          prefix=purpose + "/")
        gen_type = spec.type if hasattr(spec, "type") else spec["type"]
        return np.asarray(GENERATORS[gen_type].generate(sub), dtype=np.float64)
