"""The generator plugin interface and its registry.

A generator is one class, registered under the exact name users write as
``generator: {type: NAME}``::

    @GENERATORS.register("uniform_int")
    class UniformInt(Generator):
        '''Integers uniform in [min, max], both inclusive.'''      # becomes its docs entry
        kinds = frozenset({"int", "float", "decimal"})
        params_schema = {"type": "object", "properties": {...}, "additionalProperties": False}

        def generate(self, ctx):                                   # vectorised, no row loop
            return ctx.integers(lo, hi)

Life cycle:

* load time — ``params_schema`` (a JSON Schema fragment, merged into
  ``schemas/datagen.schema.json``) checks the params' shape; ``check(column, table, schema)``
  returns semantic problems (min ≤ max, weights match values, a pattern that parses …);
  ``references(params)`` names the columns it reads (``x`` same-row, ``fk.col`` through a
  foreign key), which the planner orders; ``reference(column, table, schema)`` makes the
  ``model.ForeignKeyRef`` of a generator that *is* a reference (only ``fk``), which the loader
  stores on the column so nothing downstream tests generator names.
* capabilities — class attributes and methods the planner, engine and frontends ask instead of
  keeping sets of generator names: ``unique_strategy``, ``indexable(column)`` (may take part in
  a composite unique group), ``listed_values`` (values come from a short list in the params),
  ``ordered_in_time`` (non-decreasing with the row index), ``progression(params)`` (an
  arithmetic progression over the rows: first value and step), ``span(column, n, schema)`` (the
  first and last value over n rows, when known at plan time), ``length_bounds(...)`` (the
  shortest and longest text value, for ``max_length`` against ``unique``), ``files(params)``
  (the files it reads, e.g. a learned model: their digests join the schema's fingerprint).
* plan time — ``capacity(column, ctx)`` is the number of distinct values it can produce (``None``:
  effectively unbounded), used for unique feasibility; ``unique_strategy`` says how ``unique: true``
  is kept by construction.
* copulas — ``has_quantile`` says the generator has an inverse CDF ``quantile(u, ctx)``: the
  values for given uniforms ``u`` in [0, 1), non-decreasing in ``u``, distributed like
  ``generate`` when ``u`` is uniform. A column in a table's ``correlations:`` block takes its
  values from ``quantile`` of the block's correlated uniforms instead of ``generate``
  (``shared.schema_dsl.copula``); ``supports_quantile(params)`` may refuse some params.
* run time — ``generate(ctx)`` returns the values of ``ctx.rows`` in engine units
  (see ``shared.model.types``); ``from_index(idx, ctx)`` maps domain indices in
  ``[0, capacity)`` to values, which is how ``unique`` and composite ``unique`` groups are made
  (a keyed permutation of the row index into the domain).

Every random draw goes through ``ctx`` (keyed by seed, table, column, purpose and row), so the
value of a cell never depends on the block it is computed in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from shared.registry import Registry

#: purpose prefixes: values, null masks, fk picks and corruption each have their own stream
ALL_KINDS = frozenset({"int", "float", "decimal", "bool", "string", "date", "timestamp", "uuid"})
NUMERIC = frozenset({"int", "float", "decimal"})


class GenContext(Protocol):
    """What a generator may ask of the engine while generating one block of one column."""

    table: Any  # model.Table
    column: Any  # model.Column (for nested distributions: the owning column)
    params: Mapping[str, Any]
    rows: np.ndarray  # int64 absolute row indices of this block
    n_total: int  # the table's planned row count
    profile: str
    locale: str
    anchor_us: int
    unique: bool  # the column is unique on its own: produce distinct values

    def key(self, purpose: str = "value") -> int: ...
    def uniform(self, purpose: str = "value") -> np.ndarray: ...
    def normal(self, purpose: str = "value") -> np.ndarray: ...
    def integers(self, low: int, high: int, purpose: str = "value") -> np.ndarray: ...
    def bits(self, purpose: str = "value") -> np.ndarray: ...
    def permute(self, n: int, purpose: str = "unique") -> np.ndarray: ...
    def ref(self, name: str) -> Any: ...
    def faker_pool(self, provider: str, locale: str | None = None, size: int | None = None,
                   draws: int | None = None, args_json: str | None = None) -> Any: ...
    def sample(self, spec: Any, purpose: str) -> np.ndarray: ...
    def part(self, name: str, rows: np.ndarray | None = None) -> Any: ...


class Generator:
    """Base class of every generator plugin (see the module docstring)."""

    name: ClassVar[str] = ""
    kinds: ClassVar[frozenset[str]] = ALL_KINDS
    params_schema: ClassVar[dict] = {"type": "object", "additionalProperties": False, "properties": {}}
    #: how ``unique: true`` is kept: "index" (from_index over a permutation of rows), "native"
    #: (the generator's values are distinct by construction, e.g. sequence, uuid4), or None
    unique_strategy: ClassVar[str | None] = None
    #: a "native" unique generator whose ``capacity`` is finite and binding: the planner refuses
    #: more rows than it (unique ``faker``); other native generators report capacity only
    native_capacity: ClassVar[bool] = False
    #: usable as a numeric distribution nested in fk ``skew`` and per-parent ``rows``
    numeric_distribution: ClassVar[bool] = False
    #: picks a nested generator per row by another column's value (``switch``): as per-parent
    #: ``rows.distribution`` it is numeric when its cases are, and reads the parent's columns
    chooses_by_column: ClassVar[bool] = False
    #: has an inverse CDF ``quantile(u, ctx)`` (may join a Gaussian copula, ``correlations:``)
    has_quantile: ClassVar[bool] = False
    #: the value depends on the table's total row count (documented exception to prefix stability)
    depends_on_row_count: ClassVar[bool] = False
    #: the values come from a short list written in the params (choice, const, bernoulli): the
    #: engine does not snap them onto ``allowed``, and Parquet's ``dictionary=auto`` encodes them
    listed_values: ClassVar[bool] = False
    #: the values never decrease with the row index (time_series, arrivals): a stream of events
    #: ordered by such a column can be written block by block, unsorted
    ordered_in_time: ClassVar[bool] = False
    #: its values are categories (a choice of listed values, true/false): a copula estimator
    #: scores them by their frequencies, not as numbers
    categorical: ClassVar[bool] = False
    #: its params ``min`` and ``max`` are the range its values fill (uniform_int, uniform_float)
    range_params: ClassVar[bool] = False
    #: builds a nested value (struct, list) from the column's parts, which it reads with
    #: ``ctx.part(name, rows=None)``; the engine never snaps or clips what it returns
    assembles: ClassVar[bool] = False

    def reference(self, column, table, schema) -> Any:
        """The ``model.ForeignKeyRef`` this column holds when the generator is a reference to
        another table's key (the ``fk`` generator), else None. Called once, by the loader."""
        return None

    def bound_columns(self, column) -> dict[str, str]:
        """Columns of the same table this column's generator binds, with the ``expr`` each one
        is (a composite key's ``with_columns``: the same parent row's values); the loader gives
        that generator to such a column written without one. Default: none."""
        return {}

    def files(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The files these params name (as written: relative to the schema's folder), whose bytes
        are part of the schema's identity (the loader folds their SHA-256 into ``Source.sha256``:
        a changed model file changes the fingerprint). Default: none."""
        return ()

    def indexable(self, column) -> bool:
        """Whether the column can take part in a composite unique group: its values are
        ``from_index`` over a finite domain of ``capacity`` values."""
        return self.unique_strategy == "index"

    def orders_in_time(self, params: Mapping[str, Any]) -> bool:
        """Whether these params keep the values non-decreasing with the row index (default:
        ``ordered_in_time``; a time series with ``ordered: false`` does not)."""
        return self.ordered_in_time

    def progression(self, params: Mapping[str, Any]) -> tuple[Any, Any] | None:
        """``(first, step)`` when the values are ``first + step · row`` (sequence), else None."""
        return None

    def span(self, column, n: int, schema) -> tuple[Any, Any] | None:
        """``(first, last)`` value over ``n`` rows (engine units) when the values run monotonically
        from one to the other and both are known at plan time (a sequence, a time series), else
        None. The planner refuses a span that leaves the column's range. Default: from
        ``progression``."""
        progression = self.progression(column.generator.params)
        if progression is None:
            return None
        start, step = progression
        return start, start + step * (n - 1)

    def length_bounds(self, column, table, schema, rows: int) -> tuple[int, int | None]:
        """(shortest, longest) length in characters of the text values over ``rows`` rows, the
        longest None when unknown. The planner refuses a unique column whose ``max_length``
        would cut its values. Default: unknown."""
        return 0, None

    def check(self, column, table, schema) -> list[tuple[str, str, str | None]]:
        """Semantic problems as (message, sub-path below ``generator``, hint)."""
        return []

    def references(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        return ()

    def capacity(self, column, params: Mapping[str, Any], plan: Any) -> int | None:
        return None

    def capacity_hint(self, column) -> str | None:
        """The hint shown when the planner refuses a unique column for lack of capacity."""
        return "widen the generator's domain or lower the row count"

    def generate(self, ctx: GenContext):
        raise NotImplementedError

    def from_index(self, idx: np.ndarray, ctx: GenContext):
        raise NotImplementedError(f"{self.name} cannot map domain indices")

    def supports_quantile(self, params: Mapping[str, Any]) -> bool:
        """Whether ``quantile`` works for these params (default: ``has_quantile``)."""
        return self.has_quantile

    def quantile(self, u: np.ndarray, ctx: GenContext):
        """The inverse CDF: values for uniforms ``u`` in [0, 1), non-decreasing in ``u`` (for
        text, in the order of the generator's list), distributed like ``generate``'s when ``u``
        is uniform. Vectorised, one value per element of ``u`` (which has ``ctx.rows``' shape)."""
        raise NotImplementedError(f"{self.name} has no inverse CDF")

    def supports_unique(self, params: Mapping[str, Any]) -> bool:
        """Whether ``unique: true`` can be kept for these params (e.g. only fixed-length regexes)."""
        return self.unique_strategy is not None

    def is_unique_by_construction(self, column, table, schema) -> bool:
        """True when this column's values are distinct whatever ``unique_strategy`` says
        (e.g. a template that embeds a unique column)."""
        return False

    #: optional hook for foreign-key ``skew``: ``ranks(u, n, params)`` maps uniforms in [0, 1) to
    #: 0-based ranks in [0, n) distributed like this generator (zipf, exponential, normal …)
    ranks: Callable[..., np.ndarray] | None = None

    def describe(self, params: Mapping[str, Any]) -> str:
        """A short human summary for ``describe``."""
        if not params:
            return self.name
        inner = ", ".join(f"{k}={_short(v)}" for k, v in params.items())
        return f"{self.name}({inner})"


def _short(v: Any, limit: int = 40) -> str:
    from shared.model.schema import thaw

    text = str(thaw(v))
    return text if len(text) <= limit else text[: limit - 1] + "…"


GENERATORS: Registry[Generator] = Registry("generator")


def register(name: str):
    """Class decorator: instantiate and register a generator under ``name``."""

    def deco(cls: type[Generator]) -> type[Generator]:
        cls.name = name
        GENERATORS.add(name, cls())
        return cls

    return deco


def load_builtins() -> Mapping[str, Generator]:
    """Import the built-in generator modules and the plugins (``shared.plugins``; idempotent) and
    return the registry view."""
    from shared.plugins import load_plugins
    from shared.registry import import_submodules

    for pkg in ("shared.distributions", "shared.relationships"):
        import_submodules(pkg)
    load_plugins()
    return GENERATORS.view


# --- small helpers shared by plugins ----------------------------------------------------------

_DIGESTS: dict[tuple[str, int, int], str] = {}


def schema_folder(schema: Any) -> Path:
    """The folder files named in a schema are relative to: the schema file's (the current
    directory for a schema given as text or a dict)."""
    path = getattr(getattr(schema, "source", None), "path", None)
    if not path or str(path).startswith("<"):
        return Path.cwd()
    return Path(str(path)).resolve().parent


def schema_file(schema: Any, name: str) -> Path:
    """The file ``name`` (as written in the schema) names."""
    p = Path(os.path.expanduser(name))
    return p if p.is_absolute() else schema_folder(schema) / p


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, memoised per (path, size, mtime) within the process."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    got = _DIGESTS.get(key)
    if got is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        got = _DIGESTS[key] = h.hexdigest()
    return got



NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
NONNEG = {"type": "number", "minimum": 0}
POSITIVE = {"type": "number", "exclusiveMinimum": 0}
TIME_TEXT = {"type": "string", "minLength": 1}


def obj(required: tuple[str, ...] = (), **props: dict) -> dict:
    """A params schema: an object with these properties, no others."""
    schema: dict = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        schema["required"] = list(required)
    return schema
