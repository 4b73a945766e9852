"""The built-in check kinds of ``validate``, each registered under its report ``kind``.

A check is a function ``(vctx) -> list[dict]`` over data already read back by the format into
Arrow tables; all of them are vectorised with pyarrow.compute (no per-row Python). ``pattern``
uses Arrow's RE2 engine, which runs in linear time: a hostile pattern cannot backtrack.
Each result is built with ``result(...)`` so the fields of the report stay uniform.
"""

from __future__ import annotations

from typing import Any

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


def _bad(kind, vctx, table, column, arr: pa.ChunkedArray | pa.Array, bad: pa.Array, message: str, **extra):
    """A result from a boolean 'violates' array (nulls count as not violating)."""
    bad = pc.fill_null(bad, False)
    n = pc.sum(bad).as_py() or 0
    sample = arr.filter(bad).slice(0, SAMPLE).to_pylist() if n else []
    status_extra = vctx.expected(table.name, column.name if column is not None else None, kind, n)
    res = failure(kind, table.name, column.name if column is not None else None, n, len(arr), sample,
                  message.format(n=n), **extra)
    if n and status_extra:
        res.update(status_extra)
    return res


def _cols(vctx, table):
    data = vctx.data(table.name)
    if data is None:
        return []
    names = set(data.column_names)  # once: ``Table.column_names`` builds a new list on every call
    return [(c, data.column(c.name)) for c in table.columns if c.name in names]


@register("not_null")
def check_not_null(vctx) -> list[dict]:
    out = []
    for table in vctx.schema.tables:
        for c, arr in _cols(vctx, table):
            if c.nullable:
                continue
            out.append(_bad("not_null", vctx, table, c, arr, pc.is_null(arr), "{n} null values in a non-nullable column"))
    return out


def _duplicates(arrs: list[pa.ChunkedArray], names: list[str]) -> tuple[int, list]:
    """(number of rows that repeat an earlier key, sample keys) — nulls are not compared."""
    t = pa.table(dict(zip(names, arrs, strict=True)))
    valid = None
    for a in arrs:
        v = pc.is_valid(a)
        valid = v if valid is None else pc.and_(valid, v)
    t = t.filter(valid) if valid is not None else t
    if t.num_rows == 0:
        return 0, []
    g = t.group_by(names).aggregate([([], "count_all")])
    counts = g.column("count_all")
    dup = pc.greater(counts, 1)
    n = int(pc.sum(pc.subtract(counts.filter(dup), 1)).as_py() or 0)
    sample = []
    if n:
        keys = g.filter(dup).slice(0, SAMPLE)
        sample = keys.select(names).to_pylist() if len(names) > 1 else keys.column(names[0]).to_pylist()
    return n, sample


@register("unique")
def check_unique(vctx) -> list[dict]:
    out = []
    for table in vctx.schema.tables:
        data = vctx.data(table.name)
        if data is None:
            continue
        names = set(data.column_names)
        for c in table.columns:
            if not c.unique or c.name not in names:
                continue
            n, sample = _duplicates([data.column(c.name)], [c.name])
            res = failure("unique", table.name, c.name, n, data.num_rows, sample, f"{n} duplicated values")
            if n:
                res.update(vctx.expected(table.name, c.name, "unique", n) or {})
            out.append(res)
        for group in table.unique:
            if len(group) < 2 or not all(g in names for g in group):
                continue
            n, sample = _duplicates([data.column(g) for g in group], list(group))
            res = failure("unique", table.name, ",".join(group), n, data.num_rows, sample,
                          f"{n} duplicated ({', '.join(group)}) combinations")
            if n:
                res.update(vctx.expected(table.name, None, "unique", n) or {})
            out.append(res)
    return out


@register("primary_key")
def check_primary_key(vctx) -> list[dict]:
    out = []
    for table in vctx.schema.tables:
        data = vctx.data(table.name)
        if data is None or not table.primary_key or not set(table.primary_key) <= set(data.column_names):
            continue
        names = list(table.primary_key)
        arrs = [data.column(k) for k in names]
        nulls = 0
        for a in arrs:
            nulls += a.null_count
        dups, sample = _duplicates(arrs, names)
        n = dups + nulls
        msg = f"{dups} duplicated and {nulls} null key values" if n else "ok"
        res = failure("primary_key", table.name, ",".join(names), n, data.num_rows, sample, msg)
        if n:
            res.update(vctx.expected(table.name, None, "primary_key", n) or {})
        out.append(res)
    return out


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


@register("range")
def check_range(vctx) -> list[dict]:
    out = []
    for table in vctx.schema.tables:
        for c, arr in _cols(vctx, table):
            if c.min is None and c.max is None or not c.dtype.is_ordered:
                continue
            a = pc.cast(arr, pa.float64()) if c.dtype.kind == "decimal" else arr
            bad = None
            if c.min is not None:
                bad = pc.less(a, _scalar_for(c, c.min, a.type))
            if c.max is not None:
                hi = pc.greater(a, _scalar_for(c, c.max, a.type))
                bad = hi if bad is None else pc.or_(bad, hi)
            lo_s = _render_bound(c, c.min) if c.min is not None else "-∞"
            hi_s = _render_bound(c, c.max) if c.max is not None else "+∞"
            out.append(_bad("range", vctx, table, c, arr, bad, "{n} values outside " + f"[{lo_s}, {hi_s}]",
                            min=_render_bound(c, c.min), max=_render_bound(c, c.max)))
    return out


@register("allowed")
def check_allowed(vctx) -> list[dict]:
    out = []
    for table in vctx.schema.tables:
        for c, arr in _cols(vctx, table):
            if not c.allowed:
                continue
            if c.dtype.kind in ("string", "uuid"):
                values = pa.array([str(v) for v in c.allowed], type=pa.string())
                a = arr
            elif c.dtype.kind == "bool":
                values = pa.array([bool(v) for v in c.allowed], type=pa.bool_())
                a = arr
            else:
                a = pc.cast(arr, pa.float64()) if c.dtype.kind != "date" else pc.cast(pc.cast(arr, pa.int32()), pa.float64())
                if c.dtype.kind == "timestamp":
                    a = pc.cast(pc.cast(arr, pa.int64()), pa.float64())
                values = pa.array([float(v) for v in c.allowed], type=pa.float64())
            bad = pc.invert(pc.is_in(a, value_set=values))
            bad = pc.and_(bad, pc.is_valid(arr))
            out.append(_bad("allowed", vctx, table, c, arr, bad, "{n} values not in the allowed list"))
    return out


@register("pattern")
def check_pattern(vctx) -> list[dict]:
    out = []
    for table in vctx.schema.tables:
        for c, arr in _cols(vctx, table):
            if not c.pattern:
                continue
            try:
                ok = pc.match_substring_regex(pc.cast(arr, pa.string()), f"^(?:{to_re2(c.pattern)})$")
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                out.append(result("pattern", table.name, c.name, "fail",
                                  f"the pattern cannot be checked by the linear-time (RE2) engine: {exc}"))
                continue
            out.append(_bad("pattern", vctx, table, c, arr, pc.invert(ok), "{n} values do not fully match "
                            + c.pattern.replace("{", "{{").replace("}", "}}")))
    return out


@register("max_length")
def check_max_length(vctx) -> list[dict]:
    out = []
    for table in vctx.schema.tables:
        for c, arr in _cols(vctx, table):
            if c.max_length is None:
                continue
            bad = pc.greater(pc.utf8_length(pc.cast(arr, pa.string())), c.max_length)
            out.append(_bad("max_length", vctx, table, c, arr, bad,
                            "{n} values longer than " + f"{c.max_length} characters"))
    return out


@register("foreign_key")
def check_foreign_key(vctx) -> list[dict]:
    out = []
    for table in vctx.schema.tables:
        for c, arr in _cols(vctx, table):
            if c.references is None:
                continue
            parent, pcol = c.references.parent, c.references.parent_column
            pdata = vctx.data(parent)
            if pdata is None or pdata.schema.get_field_index(pcol) < 0:
                out.append(result("foreign_key", table.name, c.name, "skipped",
                                  f"parent {parent}.{pcol} could not be read"))
                continue
            keys = pdata.column(pcol).combine_chunks()
            a = arr
            if a.type != keys.type:
                try:
                    a = pc.cast(arr, keys.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    pass
            bad = pc.and_(pc.invert(pc.is_in(a, value_set=keys)), pc.is_valid(arr))
            clean_keys = vctx.clean_keys(parent, pcol) if vctx.dirty else None
            if clean_keys is not None:
                # dirty data: a child whose parent row exists in the clean data but lost its key to
                # injected corruption (nulls, duplicates) is a cascade of that corruption, reported
                # apart; only values outside the clean keys count against the child's own orphans.
                in_clean = pc.is_in(a, value_set=clean_keys.cast(a.type) if clean_keys.type != a.type else clean_keys)
                cascade = pc.and_(bad, pc.fill_null(in_clean, False))
                n_cascade = int(pc.sum(cascade).as_py() or 0)
                bad = pc.and_(bad, pc.invert(pc.fill_null(in_clean, False)))
                if n_cascade:
                    out.append(failure("foreign_key_cascade", table.name, c.name, n_cascade, len(arr),
                                       arr.filter(cascade).slice(0, SAMPLE).to_pylist(),
                                       f"{n_cascade} values point at parent rows whose key was corrupted",
                                       parent=f"{parent}.{pcol}") | {"status": "warning"})
            out.append(_bad("foreign_key", vctx, table, c, arr, bad,
                            "{n} values with no parent row in " + f"{parent}.{pcol}", parent=f"{parent}.{pcol}"))
    return out
