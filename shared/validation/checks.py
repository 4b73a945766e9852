"""The built-in check kinds of ``validate``, each registered under its report ``kind``.

A check is a callable ``(vctx) -> list[dict]`` (what a plugin registers with ``register``; it
reads whole tables with ``vctx.data(name)``). The built-ins are ``StreamingCheck``s: the runner
reads each table once, as a stream of record batches, and feeds every batch to the
*accumulators* each check kind made for that table (``begin(vctx, table, names)``), so memory
holds one batch, not the table. Value checks keep counts and the first ``SAMPLE`` failures;
``unique`` and ``primary_key`` keep the distinct keys seen with their counts (compacted as they
grow: a constant column of 100M rows is one key); ``foreign_key`` keeps the parent's distinct
keys. Everything is vectorised with pyarrow.compute (no per-row Python). ``pattern`` uses Arrow's
RE2 engine, which runs in linear time: a hostile pattern cannot backtrack.
Each result is built with ``result(...)`` so the fields of the report stay uniform.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.distributions.regex import to_re2
from shared.model.timeutil import format_date, format_timestamp
from shared.registry import Registry

SAMPLE = 5
CHECKS: Registry = Registry("check")


def register(kind: str):
    return CHECKS.register(kind)


class Accumulator(Protocol):
    """The results of one check for one table, fed the table's batches in order."""

    #: the data columns it reads: when one of them cannot be read (a value its type cannot
    #: take), the accumulator is dropped, as the check skips a column it cannot read
    columns: tuple[str, ...]

    def update(self, batch: pa.RecordBatch, offset: int) -> None: ...
    def results(self, vctx) -> list[dict]: ...


class StreamingCheck:
    """A check kind computed in one pass over each table's batches: ``begin(vctx, table, names)``
    returns the accumulators of the results it reports for ``table``, whose data has the columns
    ``names``. Called as a plain check, it runs over ``vctx.data`` (whole tables)."""

    def __init__(self, kind: str, begin: Callable[..., list[Accumulator]]):
        self.kind = kind
        self.begin = begin

    def __call__(self, vctx) -> list[dict]:
        out = []
        for table in vctx.schema.tables:
            data = vctx.data(table.name)
            if data is None:
                continue
            accs = self.begin(vctx, table, set(data.column_names))
            offset = 0
            for batch in data.to_batches():
                for acc in accs:
                    acc.update(batch, offset)
                offset += batch.num_rows
            out += [r for acc in accs for r in acc.results(vctx)]
        return out


def streaming(kind: str):
    """Register ``begin(vctx, table, names) -> [accumulators]`` as the check ``kind``."""

    def deco(begin):
        CHECKS.add(kind, StreamingCheck(kind, begin))
        return begin

    return deco


def result(kind: str, table: str | None, column: str | None, status: str, message: str, **extra: Any) -> dict:
    out = {"kind": kind, "table": table, "column": column, "status": status, "message": message}
    out.update(extra)
    return out


def failure(kind, table, column, bad_mask_or_count, total: int, sample, message: str, **extra) -> dict:
    n = int(bad_mask_or_count)
    return result(kind, table, column, "fail" if n else "pass", message if n else "ok",
                  unexpected_count=n, unexpected_percent=round(100.0 * n / total, 4) if total else 0.0,
                  element_count=total, sample=[_jsonable(v) for v in sample][:SAMPLE], **extra)


def _jsonable(v: Any) -> Any:
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", "replace")
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if v is not None and not isinstance(v, (str, int, float, bool, list, dict)):
        return str(v)
    return v


class Fixed:
    """An accumulator whose result is known before any row (a check that cannot run here)."""

    def __init__(self, res: dict, columns: tuple[str, ...] = ()):
        self.res = res
        self.columns = columns

    def update(self, batch: pa.RecordBatch, offset: int) -> None:
        pass

    def results(self, vctx) -> list[dict]:
        return [self.res]


class Violations:
    """Values of one column that break a rule: ``rule(array)`` is a boolean 'violates' array
    (null counts as not violating); counted over every batch, the first ``SAMPLE`` kept."""

    def __init__(self, kind: str, table, column, rule: Callable[[pa.Array], pa.Array], message: str, **extra: Any):
        self.kind, self.table, self.column = kind, table, column
        self.columns: tuple[str, ...] = (column.name,)
        self.rule, self.message, self.extra = rule, message, extra
        self.n = 0
        self.total = 0
        self.sample: list = []

    def update(self, batch: pa.RecordBatch, offset: int) -> None:
        arr = batch.column(self.column.name)
        self.add(arr, self.rule(arr))

    def add(self, arr: pa.Array, bad: pa.Array) -> None:
        """Count the values of ``arr`` that ``bad`` marks."""
        bad = pc.fill_null(bad, False)
        n = pc.sum(bad).as_py() or 0
        if n and len(self.sample) < SAMPLE:
            self.sample += arr.filter(bad).slice(0, SAMPLE - len(self.sample)).to_pylist()
        self.n += n
        self.total += len(arr)

    def results(self, vctx) -> list[dict]:
        res = failure(self.kind, self.table.name, self.column.name, self.n, self.total, self.sample,
                      self.message.format(n=self.n), **self.extra)
        status_extra = vctx.expected(self.table.name, self.column.name, self.kind, self.n)
        if self.n and status_extra:
            res.update(status_extra)
        return [res]


#: name of the count column of ``Duplicates``' state (not an identifier: no column has it)
_COUNT = "#count"
#: ``Duplicates`` and ``KeySet`` compact what they hold once this many new rows (or as many as
#: they already hold) have come in: linear time, memory of the distinct keys plus a batch or two
COMPACT_ROWS = 1 << 20


class Duplicates:
    """Rows whose key (one column or several) repeats an earlier row's; rows with a null in the
    key are not compared (``primary_key`` counts them). The state is the distinct keys with their
    counts, in order of first appearance."""

    def __init__(self, kind: str, table, names: list[str], column: str, count_nulls: bool = False):
        self.kind, self.table, self.names, self.column = kind, table, names, column
        self.columns = tuple(names)
        self.count_nulls = count_nulls
        self.nulls = 0
        self.rows = 0
        self.state: pa.Table | None = None
        self.pending: list[pa.Table] = []
        self.pending_rows = 0

    def update(self, batch: pa.RecordBatch, offset: int) -> None:
        keys = [batch.column(n) for n in self.names]
        self.rows += batch.num_rows
        valid = None
        for a in keys:
            self.nulls += a.null_count if self.count_nulls else 0
            v = pc.is_valid(a)
            valid = v if valid is None else pc.and_(valid, v)
        t = pa.table([*keys, pa.array(np.ones(batch.num_rows, np.int64))], names=[*self.names, _COUNT])
        t = t.filter(valid) if valid is not None else t
        if t.num_rows:
            self.pending.append(t)
            self.pending_rows += t.num_rows
        if self.pending_rows >= max(COMPACT_ROWS, self.state.num_rows if self.state is not None else 0):
            self._compact()

    def _compact(self) -> None:
        if not self.pending:
            return
        parts = ([self.state] if self.state is not None else []) + self.pending
        t = pa.concat_tables(parts)
        g = t.group_by(self.names, use_threads=False).aggregate([(_COUNT, "sum")])  # in order of appearance
        self.state = g.select([*self.names, _COUNT + "_sum"]).rename_columns([*self.names, _COUNT])
        self.pending = []
        self.pending_rows = 0

    def duplicates(self) -> tuple[int, list]:
        """(rows that repeat an earlier key, the first ``SAMPLE`` repeated keys)."""
        self._compact()
        if self.state is None:
            return 0, []
        counts = self.state.column(_COUNT)
        dup = pc.greater(counts, 1)
        n = int(pc.sum(pc.subtract(counts.filter(dup), 1)).as_py() or 0)
        if not n:
            return 0, []
        keys = self.state.filter(dup).slice(0, SAMPLE)
        return n, keys.select(self.names).to_pylist() if len(self.names) > 1 else keys.column(0).to_pylist()

    def results(self, vctx) -> list[dict]:
        n, sample = self.duplicates()
        name = self.table.name
        if self.kind == "primary_key":
            total = n + self.nulls
            msg = f"{n} duplicated and {self.nulls} null key values" if total else "ok"
            res = failure("primary_key", name, self.column, total, self.rows, sample, msg)
            if total:
                res.update(vctx.expected(name, None, "primary_key", total) or {})
            return [res]
        single = len(self.names) == 1
        msg = f"{n} duplicated values" if single else f"{n} duplicated ({', '.join(self.names)}) combinations"
        res = failure("unique", name, self.column, n, self.rows, sample, msg)
        if n:
            res.update(vctx.expected(name, self.column if single else None, "unique", n) or {})
        return [res]


class KeySet:
    """The distinct values of a column fed in batches (compacted as they grow)."""

    def __init__(self):
        self.state: pa.Array | None = None
        self.pending: list[pa.Array] = []
        self.pending_rows = 0

    def add(self, arr: pa.Array | pa.ChunkedArray) -> None:
        chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
        self.pending += [c for c in chunks if len(c)]
        self.pending_rows += len(arr)
        if self.pending_rows >= max(COMPACT_ROWS, len(self.state) if self.state is not None else 0):
            self.compact()

    def compact(self) -> None:
        if self.pending:
            parts = ([self.state] if self.state is not None else []) + self.pending
            self.state = pc.unique(pa.chunked_array(parts)) if len(parts) > 1 else pc.unique(parts[0])
            self.pending = []
            self.pending_rows = 0

    def values(self, type_: pa.DataType) -> pa.Array:
        self.compact()
        return self.state if self.state is not None else pa.array([], type=type_)


@streaming("not_null")
def check_not_null(vctx, table, names) -> list[Accumulator]:
    return [Violations("not_null", table, c, pc.is_null, "{n} null values in a non-nullable column")
            for c in table.columns if c.name in names and not c.nullable]


@streaming("unique")
def check_unique(vctx, table, names) -> list[Accumulator]:
    out: list[Accumulator] = [Duplicates("unique", table, [c.name], c.name)
                              for c in table.columns if c.unique and c.name in names]
    out += [Duplicates("unique", table, list(group), ",".join(group))
            for group in table.unique if len(group) >= 2 and all(g in names for g in group)]
    return out


@streaming("primary_key")
def check_primary_key(vctx, table, names) -> list[Accumulator]:
    if not table.primary_key or not set(table.primary_key) <= names:
        return []
    return [Duplicates("primary_key", table, list(table.primary_key), ",".join(table.primary_key), count_nulls=True)]


def _render_bound(c, v):
    if c.dtype.kind == "date":
        return format_date(v)
    if c.dtype.kind == "timestamp":
        return format_timestamp(v)
    return v


def _scalar_for(c, v, arr_type: pa.DataType):
    if c.dtype.kind == "date":
        return pa.scalar(int(v), pa.int32()).cast(pa.date32())
    if c.dtype.kind == "timestamp":
        return pa.scalar(int(v), pa.int64()).cast(arr_type)
    if c.dtype.kind == "decimal":
        return pa.scalar(float(v), pa.float64())
    return pa.scalar(v)


@streaming("range")
def check_range(vctx, table, names) -> list[Accumulator]:
    out: list[Accumulator] = []
    for c in table.columns:
        if c.name not in names or c.min is None and c.max is None or not c.dtype.is_ordered:
            continue

        def rule(arr, c=c):
            a = pc.cast(arr, pa.float64()) if c.dtype.kind == "decimal" else arr
            bad = None
            if c.min is not None:
                bad = pc.less(a, _scalar_for(c, c.min, a.type))
            if c.max is not None:
                hi = pc.greater(a, _scalar_for(c, c.max, a.type))
                bad = hi if bad is None else pc.or_(bad, hi)
            return bad

        lo_s = _render_bound(c, c.min) if c.min is not None else "-∞"
        hi_s = _render_bound(c, c.max) if c.max is not None else "+∞"
        out.append(Violations("range", table, c, rule, "{n} values outside " + f"[{lo_s}, {hi_s}]",
                              min=_render_bound(c, c.min) if c.min is not None else None,
                              max=_render_bound(c, c.max) if c.max is not None else None))
    return out


@streaming("allowed")
def check_allowed(vctx, table, names) -> list[Accumulator]:
    out: list[Accumulator] = []
    for c in table.columns:
        if c.name not in names or not c.allowed:
            continue
        if c.dtype.kind in ("string", "uuid"):
            values = pa.array([str(v) for v in c.allowed], type=pa.string())
        elif c.dtype.kind == "bool":
            values = pa.array([bool(v) for v in c.allowed], type=pa.bool_())
        else:
            values = pa.array([float(v) for v in c.allowed], type=pa.float64())

        def rule(arr, c=c, values=values):
            a = arr
            if c.dtype.kind not in ("string", "uuid", "bool"):
                a = pc.cast(arr, pa.float64()) if c.dtype.kind != "date" else \
                    pc.cast(pc.cast(arr, pa.int32()), pa.float64())
                if c.dtype.kind == "timestamp":
                    a = pc.cast(pc.cast(arr, pa.int64()), pa.float64())
            return pc.and_(pc.invert(pc.is_in(a, value_set=values)), pc.is_valid(arr))

        out.append(Violations("allowed", table, c, rule, "{n} values not in the allowed list"))
    return out


@streaming("pattern")
def check_pattern(vctx, table, names) -> list[Accumulator]:
    out: list[Accumulator] = []
    for c in table.columns:
        if c.name not in names or not c.pattern:
            continue
        regex = f"^(?:{to_re2(c.pattern)})$"
        try:
            pc.match_substring_regex(pa.array([""]), regex)  # compiled once here: RE2 may refuse it
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            out.append(Fixed(result("pattern", table.name, c.name, "fail",
                                    f"the pattern cannot be checked by the linear-time (RE2) engine: {exc}"),
                             (c.name,)))
            continue
        out.append(Violations("pattern", table, c, partial(_mismatches, regex=regex),
                              "{n} values do not fully match " + c.pattern.replace("{", "{{").replace("}", "}}")))
    return out


def _mismatches(arr: pa.Array, regex: str) -> pa.Array:
    return pc.invert(pc.match_substring_regex(pc.cast(arr, pa.string()), regex))


def _too_long(arr: pa.Array, n: int) -> pa.Array:
    return pc.greater(pc.utf8_length(pc.cast(arr, pa.string())), n)


@streaming("max_length")
def check_max_length(vctx, table, names) -> list[Accumulator]:
    return [Violations("max_length", table, c, partial(_too_long, n=c.max_length),
                       "{n} values longer than " + f"{c.max_length} characters")
            for c in table.columns if c.name in names and c.max_length is not None]


class ForeignKey:
    """Child values with no parent row (the parent's distinct keys are read first); in the
    dirty profile, values whose parent row lost its key to injected corruption are counted apart
    (``foreign_key_cascade``, a warning)."""

    def __init__(self, vctx, table, column, keys: pa.Array):
        self.table, self.column = table, column
        self.columns: tuple[str, ...] = (column.name,)
        ref = column.references
        self.parent = f"{ref.parent}.{ref.parent_column}"
        self.keys = keys
        self.clean = vctx.clean_keys(ref.parent, ref.parent_column) if vctx.dirty else None
        self.bad = Violations("foreign_key", table, column, pc.is_null, "{n} values with no parent row in "
                              + self.parent, parent=self.parent)
        self.cascade = Violations("foreign_key_cascade", table, column, pc.is_null,
                                  "{n} values point at parent rows whose key was corrupted", parent=self.parent)

    def update(self, batch: pa.RecordBatch, offset: int) -> None:
        arr = batch.column(self.column.name)
        a = arr
        if a.type != self.keys.type:
            try:
                a = pc.cast(arr, self.keys.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        bad = pc.and_(pc.invert(pc.is_in(a, value_set=self.keys)), pc.is_valid(arr))
        if self.clean is not None:
            # dirty data: a child whose parent row exists in the clean data but lost its key to
            # injected corruption (nulls, duplicates) is a cascade of that corruption, reported
            # apart; only values outside the clean keys count against the child's own orphans.
            clean = self.clean.cast(a.type) if self.clean.type != a.type else self.clean
            in_clean = pc.fill_null(pc.is_in(a, value_set=clean), False)
            self.cascade.add(arr, pc.and_(bad, in_clean))
            bad = pc.and_(bad, pc.invert(in_clean))
        self.bad.add(arr, bad)

    def results(self, vctx) -> list[dict]:
        out = []
        if self.cascade.n:
            c = self.cascade
            out.append(failure("foreign_key_cascade", self.table.name, self.column.name, c.n, c.total, c.sample,
                               c.message.format(n=c.n), parent=self.parent) | {"status": "warning"})
        return out + self.bad.results(vctx)


class CompositeForeignKey:
    """Child key tuples with no parent row, for a composite key (the fk's ``with_columns``): each batch's
    tuples anti-joined with the parent's distinct tuples (Arrow's hash join). A tuple with a null
    member is not checked, as SQL's default MATCH SIMPLE does not."""

    def __init__(self, table, column, parent: pa.Table):
        ref = column.references
        self.table, self.column = table, column
        self.columns: tuple[str, ...] = ref.columns
        self.parent = f"{ref.parent} ({', '.join(str(c) for c in ref.parent_columns)})"
        self.keys = parent
        self.names = parent.column_names
        self.bad = Violations("foreign_key", table, column, pc.is_null,
                              f"{{n}} key tuples ({', '.join(self.columns)}) with no parent row in {self.parent}",
                              parent=self.parent, columns=list(self.columns))

    def update(self, batch: pa.RecordBatch, offset: int) -> None:
        arrays = []
        for name, key_type in zip(self.columns, self.keys.schema.types, strict=True):
            a = batch.column(name)
            if a.type != key_type:
                try:
                    a = pc.cast(a, key_type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    pass
            arrays.append(a)
        n = batch.num_rows
        valid = arrays[0].is_valid()
        for a in arrays[1:]:
            valid = pc.and_(valid, a.is_valid())
        probe = pa.table([*arrays, pa.array(np.arange(n, dtype=np.int64))], names=[*self.names, "#row"]).filter(valid)
        try:
            orphans = probe.join(self.keys, keys=self.names, join_type="left anti").column("#row").to_numpy()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # types no join can compare: none found
            orphans = probe.column("#row").to_numpy()
        bad = np.zeros(n, dtype=bool)
        bad[orphans] = True
        self.bad.add(pa.StructArray.from_arrays(arrays, names=list(self.columns)), pa.array(bad))

    def results(self, vctx) -> list[dict]:
        return self.bad.results(vctx)


def _against_parent_keys(vctx, table, names, kind: str, wanted, make) -> list[Accumulator]:
    """One accumulator per fk column of ``table`` that ``wanted(column)`` selects, made by
    ``make(column, parent_keys)``; a parent whose keys cannot be read is a skipped ``kind``."""
    out: list[Accumulator] = []
    for c in table.columns:
        if c.name not in names or c.references is None or not wanted(c):
            continue
        parent, pcol = c.references.parent, c.references.parent_column
        keys = vctx.parent_keys(parent, pcol)
        if keys is None:
            why = (f"parent {parent}.{pcol} was excluded from this run (--include/--exclude): not written "
                   f"here, so not checked" if parent in getattr(vctx, "excluded", ()) else
                   f"parent {parent}.{pcol} could not be read")
            out.append(Fixed(result(kind, table.name, c.name, "skipped", why), (c.name,)))
            continue
        out.append(make(c, keys))
    return out


@streaming("foreign_key")
def check_foreign_key(vctx, table, names) -> list[Accumulator]:
    out = _against_parent_keys(vctx, table, names, "foreign_key", lambda c: not c.references.composite,
                               lambda c, keys: ForeignKey(vctx, table, c, keys))
    for c in table.columns:
        ref = c.references
        if ref is None or not ref.composite or any(n not in names for n in ref.columns):
            continue
        parent = vctx.parent_tuples(ref.parent, ref.parent_columns)
        if parent is None:
            out.append(Fixed(result("foreign_key", table.name, c.name, "skipped",
                                    f"parent {ref.parent} ({', '.join(map(str, ref.parent_columns))}) could not be "
                                    "read"), ref.columns))
            continue
        out.append(CompositeForeignKey(table, c, parent))
    return out


class Coverage:
    """Parent keys no child row points at, for an fk with ``cover: true`` (the child's distinct
    non-null values are kept, compacted as they grow)."""

    def __init__(self, table, column, keys: pa.Array):
        self.table, self.column = table, column
        self.columns: tuple[str, ...] = (column.name,)
        ref = column.references
        self.parent = f"{ref.parent}.{ref.parent_column}"
        self.keys = keys
        self.seen = KeySet()

    def update(self, batch: pa.RecordBatch, offset: int) -> None:
        arr = batch.column(self.column.name)
        self.seen.add(pc.drop_null(arr))

    def results(self, vctx) -> list[dict]:
        seen = self.seen.values(self.keys.type)
        if seen.type != self.keys.type:
            try:
                seen = pc.cast(seen, self.keys.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        missing = pc.filter(self.keys, pc.invert(pc.is_in(self.keys, value_set=seen)))
        n = len(missing)
        return [failure("coverage", self.table.name, self.column.name, n, len(self.keys),
                        missing.slice(0, SAMPLE).to_pylist(), f"{n} rows of {self.parent} have no child here "
                        "(cover: true)", parent=self.parent)]


@streaming("coverage")
def check_coverage(vctx, table, names) -> list[Accumulator]:
    """Every parent key appears among the values of an fk with ``cover: true``."""
    return _against_parent_keys(vctx, table, names, "coverage", lambda c: bool(c.generator.params.get("cover")),
                                lambda c, keys: Coverage(table, c, keys))


def _length_outside(arr: pa.Array, lo: int, hi: int) -> pa.Array:
    n = pc.list_value_length(arr)
    return pc.or_(pc.less(n, lo), pc.greater(n, hi))


@streaming("list_length")
def check_list_length(vctx, table, names) -> list[Accumulator]:
    """Every list (also one inside a struct or a list) has between ``length.min`` and
    ``length.max`` items."""
    return [Violations("list_length", table, c, partial(_length_outside, lo=c.length.min, hi=c.length.max),
                       "{n} lists with fewer than " + f"{c.length.min} or more than {c.length.max} items",
                       min=c.length.min, max=c.length.max)
            for c in table.columns if c.name in names and c.length is not None]
