"""Where ``datagen.generate(..., output=...)`` puts a run: in memory, a temporary folder, or a path.

``OutputSpec`` (or a dict of its fields) says it:

* ``sink="memory"`` (the default): the tables are built straight from the engine's Arrow
  batches — no file is written — as pandas DataFrames (``table_format="pandas"``, the default),
  ``pyarrow.Table`` (``"arrow"``) or polars DataFrames (``"polars"``, when polars is installed).
  Before anything is generated the tables' size in memory is estimated from the plan; above the
  memory budget the run is refused (``UsageError``, exit 2) with the ``path`` sink as the way out.
  The budget is ``memory_budget`` (bytes), else ``DATAGEN_MEMORY_BUDGET`` (``8G``, ``512M``,
  bytes), else half of the machine's memory (or of ``ulimit -v``).
* ``sink="temp_dir"``: files in ``format`` (default Parquet) in a new temporary folder
  (``result.output_dir``; removing it is the caller's business); ``result.tables`` reads them
  back on first use.
* ``sink="path"``: files in ``format`` at ``path`` (required), replaced atomically, as the
  command line writes them.

``compression`` is passed to the format (Parquet's and CSV's ``compression`` option);
``options`` holds any other ``--option`` of the format.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from shared.errors import UsageError

SINKS = ("memory", "temp_dir", "path")
TABLE_FORMATS = ("pandas", "arrow", "polars")
BUDGET_ENV = "DATAGEN_MEMORY_BUDGET"


@dataclass(frozen=True)
class OutputSpec:
    """Where a run's tables go (see the module documentation)."""

    sink: str = "memory"
    format: str | None = None
    path: str | os.PathLike | None = None
    compression: str | None = None
    table_format: str = "pandas"
    memory_budget: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, value: OutputSpec | Mapping[str, Any] | str | None) -> OutputSpec:
        """An ``OutputSpec`` from itself, a dict of its fields, or a sink name; checked."""
        if value is None:
            spec = cls()
        elif isinstance(value, OutputSpec):
            spec = value
        elif isinstance(value, str):
            spec = cls(sink=value)
        elif isinstance(value, Mapping):
            known = [f.name for f in fields(cls)]
            for k in value:
                if k not in known:
                    import difflib

                    close = difflib.get_close_matches(str(k), known, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise UsageError(f"output: unknown key {k!r}{hint}; keys: {', '.join(known)}")
            spec = cls(**dict(value))
        else:
            raise UsageError(f"output: an OutputSpec, a dict or a sink name, not {type(value).__name__}")
        spec.check()
        return spec

    def check(self) -> None:
        if self.sink not in SINKS:
            raise UsageError(f"output: sink {self.sink!r} is not one of {', '.join(SINKS)}")
        if self.table_format not in TABLE_FORMATS:
            raise UsageError(f"output: table_format {self.table_format!r} is not one of {', '.join(TABLE_FORMATS)}")
        if self.sink == "path" and not self.path:
            raise UsageError("output: sink 'path' needs a path (output={'sink': 'path', 'path': 'out/run'}), "
                             "or use sink 'temp_dir' for a new temporary folder")
        if self.sink != "path" and self.path:
            raise UsageError(f"output: a path is for sink 'path', not {self.sink!r}")
        if self.sink == "memory" and (self.compression or self.options):
            raise UsageError("output: compression and options are settings of files; sink 'memory' writes none")
        if self.memory_budget is not None and (not isinstance(self.memory_budget, int) or self.memory_budget <= 0):
            raise UsageError(f"output: memory_budget must be a positive number of bytes, not {self.memory_budget!r}")

    def format_options(self) -> dict[str, str]:
        opts = {str(k): str(v) for k, v in self.options.items()}
        if self.compression is not None:
            opts["compression"] = str(self.compression)
        return opts


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.I)


def parse_size(text: str) -> int:
    """``8G``, ``512M``, ``1.5GiB``, ``1000000`` → bytes (powers of 1024)."""
    m = _SIZE.match(str(text))
    if not m:
        raise UsageError(f"{BUDGET_ENV}={text!r}: not a size (e.g. 8G, 512M or a number of bytes)")
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2).lower() or " "))


def default_budget() -> int:
    """The memory budget of the memory sink when none is given (see the module documentation)."""
    env = os.environ.get(BUDGET_ENV)
    if env:
        return parse_size(env)
    from shared.io.oslimits import address_space_limit

    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a modest machine
        total = 8 << 30
    limit = address_space_limit()
    return (min(total, limit) if limit else total) // 2


#: bytes one value takes in memory, by kind, in Arrow (strings: offsets + a typical value)
_ARROW_BYTES = {"int": 8.0, "float": 8.0, "decimal": 16.0, "bool": 0.125, "date": 4.0, "timestamp": 8.0,
                "uuid": 40.0, "string": 24.0}
#: what pandas adds on top, per value, for kinds it holds as Python objects (Decimal, date)
_PANDAS_OBJECT = {"decimal": 112.0, "date": 56.0}


def estimate_bytes(plan, table_format: str) -> int:
    """The tables' size in memory, and the peak while building them: the Arrow batches, plus
    the converted frame while a pandas or polars frame is being made from them."""
    total = 0.0
    for name in plan.kept:  # the tables the run writes (--include/--exclude)
        t = plan.tables[name].table
        rows = plan.tables[name].rows
        arrow = pandas_extra = 0.0
        for c in t.columns:
            if c.hidden:
                continue
            kind = c.dtype.kind
            width = (c.dtype.bits or 64) / 8 if kind in ("int", "float") else _ARROW_BYTES.get(kind, 16.0)
            arrow += width
            pandas_extra += _PANDAS_OBJECT.get(kind, 0.0)
        total += rows * (arrow if table_format == "arrow" else 2 * arrow + pandas_extra)
    return int(total)


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"


def check_budget(plan, spec: OutputSpec) -> int:
    """Refuse, before anything is generated, tables larger than the memory budget."""
    need = estimate_bytes(plan, spec.table_format)
    budget = spec.memory_budget or default_budget()
    if need > budget:
        raise UsageError(
            f"output: the tables of {plan.schema.name!r} would take about {human(need)} in memory, over the "
            f"memory budget of {human(budget)} (hint: write them to files with output={{'sink': 'path', "
            f"'path': ...}}, lower the rows, or raise memory_budget / {BUDGET_ENV})")
    return need


def frame_from_batches(batches, schema, rows: int):
    """A pandas DataFrame equal to ``pyarrow.Table.from_batches(batches).to_pandas()``, built as
    the batches arrive: the numbers, booleans and times of columns that cannot hold a null go
    straight into their final numpy arrays (each batch is dropped once copied), and only the other
    columns (text, decimals, dates, nullable ones) wait as Arrow chunks to be converted one
    column at a time. The peak is the frame plus a batch, not the Arrow table plus the frame."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    pool = pa.default_memory_pool()
    direct: dict[str, np.ndarray] = {}
    chunks: dict[str, list] = {}
    for f in schema:
        t = f.type
        if not f.nullable and (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)):
            direct[f.name] = np.empty(rows, dtype=t.to_pandas_dtype())
        elif not f.nullable and pa.types.is_timestamp(t):
            direct[f.name] = np.empty(rows, dtype=f"datetime64[{t.unit}]")
        else:
            chunks[f.name] = []
    pos = 0
    for batch in batches:
        n = batch.num_rows
        for i, f in enumerate(schema):
            col = batch.column(i)
            if f.name in direct:
                direct[f.name][pos:pos + n] = col.to_numpy(zero_copy_only=False)
            else:
                chunks[f.name].append(col)
        pos += n
        del batch
        pool.release_unused()  # hand the batch's pages back before the next one is computed
    if pos != rows:
        raise AssertionError(f"{pos} rows arrived, {rows} planned")
    data = {}
    for f in schema:
        if f.name in direct:
            arr = direct.pop(f.name)
            if pa.types.is_timestamp(f.type) and f.type.tz is not None:
                data[f.name] = pd.Series(pd.DatetimeIndex(arr).tz_localize(f.type.tz), copy=False)
            else:
                data[f.name] = pd.Series(arr, copy=False)
        else:
            col = pa.chunked_array(chunks.pop(f.name), type=f.type)
            data[f.name] = pa.table({f.name: col}).to_pandas(split_blocks=True, self_destruct=True)[f.name]
            del col
    return pd.DataFrame(data, copy=False)


#: Arrow's own jemalloc setting (pyarrow sets dirty-page decay to 1 s), restored after converting
JEMALLOC_DECAY_MS = 1000


def convert(table, table_format: str):
    """A ``pyarrow.Table`` as the user asked for it."""
    if table_format == "arrow":
        return table
    if table_format == "polars":
        try:
            import polars as pl
        except ImportError:
            raise UsageError("output: table_format 'polars' needs polars (pip install polars), or use "
                             "'pandas' or 'arrow'") from None
        return pl.from_arrow(table)
    # split_blocks and self_destruct free each Arrow column as it is converted, and with the
    # allocator told to hand freed pages back at once, the peak stays near one copy of the data
    # (plus a column) instead of two
    import pyarrow as pa

    pool = pa.default_memory_pool()
    if pool.backend_name == "jemalloc":
        pa.jemalloc_set_decay(0)
    try:
        return table.to_pandas(split_blocks=True, self_destruct=True)
    finally:
        if pool.backend_name == "jemalloc":
            pa.jemalloc_set_decay(JEMALLOC_DECAY_MS)
