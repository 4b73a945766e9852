"""The built-in corruption kinds. Each acts on the few selected cells of a block, vectorised.

Text kinds work on a character matrix (numpy ``U`` strings viewed as code points) so a
per-row random position costs no Python loop; numeric kinds work on numpy arrays.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.corruption import Corruption, register

_TEXT = ("string",)


def _is_key(column, table) -> bool:
    return column.references is not None or column.name in table.primary_key


def _char_matrix(values: pa.Array) -> tuple[np.ndarray, np.ndarray, int]:
    """(n, width) uint32 code points, lengths, width — for non-null strings."""
    arr = np.asarray(values.to_numpy(zero_copy_only=False), dtype=str)
    width = max(1, int(arr.dtype.itemsize // 4))
    mat = arr.astype(f"<U{width + 1}").view(np.uint32).reshape(len(arr), width + 1)
    lengths = np.char.str_len(arr)
    return mat, lengths, width + 1


def _from_matrix(mat: np.ndarray, width: int) -> pa.Array:
    return pa.array(mat.reshape(-1).view(f"<U{width}").tolist(), pa.string())


@register("nulls")
class Nulls(Corruption):
    """Null in a column that is not nullable."""

    def applies(self, column, table) -> bool:
        return not column.nullable

    def corrupt(self, values, rows, u, column, engine, table):
        return pa.nulls(len(values), type=values.type)


@register("typos")
class Typos(Corruption):
    """One keyboard slip per value: two adjacent characters swapped, one dropped or one doubled."""

    def applies(self, column, table) -> bool:
        return column.dtype.kind in _TEXT and not _is_key(column, table)

    def corrupt(self, values, rows, u, column, engine, table):
        valid = pc.is_valid(values).to_numpy(zero_copy_only=False)
        filled = pc.fill_null(values, "")
        mat, lengths, width = _char_matrix(filled)
        n = len(values)
        how = np.floor(u * 3).astype(np.int64)  # 0 swap, 1 drop, 2 double
        pos = np.floor((u * 3 - how) * np.maximum(lengths, 1)).astype(np.int64)
        pos = np.minimum(pos, np.maximum(lengths - 1, 0))
        r = np.arange(n)
        out = np.zeros((n, width + 1), dtype=np.uint32)
        cols = np.arange(width + 1)[None, :]
        # source index for each output column, per row
        src = np.broadcast_to(cols, (n, width + 1)).copy()
        swap = (how == 0) & (lengths >= 2)
        p = np.minimum(pos, np.maximum(lengths - 2, 0))
        src[swap, p[swap]] = p[swap] + 1
        src[swap, p[swap] + 1] = p[swap]
        drop = how == 1
        src[drop] = np.where(cols >= pos[drop, None], cols + 1, cols)
        dbl = (how == 2) | ((how == 0) & (lengths < 2))
        src[dbl] = np.where(cols > pos[dbl, None], cols - 1, cols)
        src = np.clip(src, 0, width - 1)
        out[:, :] = 0
        out = mat[r[:, None], src]
        new_len = lengths + np.where(dbl, 1, 0) - np.where(drop & (lengths > 0), 1, 0)
        out[cols >= new_len[:, None]] = 0
        res = _from_matrix(np.ascontiguousarray(out), width + 1)
        empty = lengths == 0
        if empty.any():
            res = pc.if_else(pa.array(empty), pa.scalar("x"), res)
        return pc.if_else(pa.array(valid), res, values)


@register("whitespace")
class Whitespace(Corruption):
    """Stray spaces: leading, trailing, or both doubled around the value."""

    def applies(self, column, table) -> bool:
        return column.dtype.kind in _TEXT and not _is_key(column, table)

    def corrupt(self, values, rows, u, column, engine, table):
        lead = pc.binary_join_element_wise(pa.scalar(" "), values, "")
        trail = pc.binary_join_element_wise(values, pa.scalar("  "), "")
        both = pc.binary_join_element_wise(pa.scalar("  "), values, pa.scalar(" "), "")
        pick = np.floor(u * 3).astype(np.int8)
        return pc.choose(pa.array(pick), lead, trail, both)


@register("casing")
class Casing(Corruption):
    """Wrong case: UPPER, lower or sWAPPED."""

    def applies(self, column, table) -> bool:
        return column.dtype.kind in _TEXT and not _is_key(column, table)

    def corrupt(self, values, rows, u, column, engine, table):
        pick = np.floor(u * 3).astype(np.int8)
        return pc.choose(pa.array(pick), pc.utf8_upper(values), pc.utf8_lower(values), pc.utf8_swapcase(values))


_MOJIBAKE = {c: c.encode("utf-8").decode("latin-1") for c in "éèêëàâäôöûüùçñíóúÉÀÖÜß€–’“”"}


@register("encoding")
class Encoding(Corruption):
    """Encoding damage: UTF-8 read as Latin-1 (é → Ã©), or a U+FFFD replacement character."""

    def applies(self, column, table) -> bool:
        return column.dtype.kind in _TEXT and not _is_key(column, table)

    def corrupt(self, values, rows, u, column, engine, table):
        out = values
        for good, bad in _MOJIBAKE.items():
            out = pc.replace_substring(out, good, bad)
        unchanged = pc.fill_null(pc.equal(out, values), False)
        marked = pc.binary_join_element_wise(values, pa.scalar("\ufffd"), "")
        return pc.if_else(unchanged, marked, out)


def _bounds_span(column):
    lo, hi = column.min, column.max
    span = (hi - lo) if lo is not None and hi is not None else None
    return lo, hi, span


@register("out_of_range")
class OutOfRange(Corruption):
    """A number, date or timestamp beyond ``min``/``max`` (by 1 to 50% of the range)."""

    def applies(self, column, table) -> bool:
        return column.dtype.is_ordered and (column.min is not None or column.max is not None) \
            and not _is_key(column, table)

    def corrupt(self, values, rows, u, column, engine, table):
        lo, hi, span = _bounds_span(column)
        kind = column.dtype.kind
        step = (span if span else max(abs(lo or 0), abs(hi or 0), 1)) * (0.01 + 0.49 * u)
        below = (u < 0.5) if lo is not None and hi is not None else np.full(len(u), hi is None)
        if kind == "int":
            step = np.maximum(np.ceil(step), 1)
        elif kind in ("date", "timestamp"):
            step = np.maximum(np.ceil(step), 1)
        target = np.where(below, (lo if lo is not None else 0) - step, (hi if hi is not None else 0) + step)
        if kind == "int":
            tlo, thi = column.dtype.int_bounds()
            target = np.clip(np.rint(target), tlo, thi).astype(np.int64)
            return pa.array(target, type=values.type)
        if kind == "decimal":
            b = column.dtype.decimal_bound()
            target = np.round(np.clip(target, -b, b), column.dtype.scale)
            from shared.constraints.coerce import to_arrow

            return to_arrow(column, target, None)
        if kind == "float":
            return pa.array(target.astype(np.float64)).cast(values.type)
        if kind == "date":
            return pa.array(target.astype(np.int32), type=pa.date32())
        return pa.array(target.astype(np.int64), type=values.type)


@register("malformed_dates")
class MalformedDates(Corruption):
    """Implausible dates: 1900-01-01, 9999-12-31, or day and month swapped where that is a date.

    Columnar formats store typed dates, so a date cannot be syntactically malformed there; these
    are the semantically malformed values a cleaning pipeline must catch.
    """

    def applies(self, column, table) -> bool:
        return column.dtype.kind in ("date", "timestamp") and not _is_key(column, table)

    def corrupt(self, values, rows, u, column, engine, table):
        import datetime as dt

        us_day = 86_400_000_000
        ts = column.dtype.kind == "timestamp"
        raw = pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False) if ts else \
            pc.cast(pc.cast(values, pa.int32()), pa.int64()).to_numpy(zero_copy_only=False)
        days = raw // us_day if ts else raw
        d = np.asarray(days, dtype="datetime64[D]")
        y = d.astype("datetime64[Y]").astype(int) + 1970
        m = d.astype("datetime64[M]").astype(int) % 12 + 1
        dd = (d - d.astype("datetime64[M]")).astype(int) + 1
        swapped_ok = dd <= 12
        # day and month swapped: year y, month dd, day m (valid where dd <= 12)
        sw = (np.asarray(y - 1970).astype("datetime64[Y]").astype("datetime64[M]")
              + (np.minimum(dd, 12) - 1)).astype("datetime64[D]") + (m - 1)
        epoch_1900 = (dt.date(1900, 1, 1) - dt.date(1970, 1, 1)).days
        epoch_9999 = (dt.date(9999, 12, 31) - dt.date(1970, 1, 1)).days
        pick = np.floor(u * 3).astype(np.int64)
        new_days = np.where(pick == 0, epoch_1900, np.where(pick == 1, epoch_9999,
                            np.where(swapped_ok, sw.astype(np.int64), epoch_1900)))
        if ts:
            new = new_days * us_day + (raw - days * us_day)
            return pa.array(new.astype(np.int64), type=values.type)
        return pa.array(new_days.astype(np.int32), type=pa.date32())


@register("orphans")
class Orphans(Corruption):
    """A foreign key that points at no parent row (a key value outside the parent's keys)."""

    def applies(self, column, table) -> bool:
        return column.references is not None

    def corrupt(self, values, rows, u, column, engine, table):
        kind = column.dtype.kind
        if kind == "int":
            lo, hi = column.dtype.int_bounds()
            # below every generated key: sequences start at >= 0 unless told otherwise
            return pa.array(np.maximum(lo, -(10**6) - rows).astype(np.int64), type=values.type)
        if kind == "uuid":
            tail = np.char.zfill(np.char.mod("%x", rows % (1 << 48)), 12)
            return pa.array(np.char.add("00000000-0000-0000-0000-", tail).tolist(), pa.string())
        if kind in ("string",):
            return pa.array(np.char.add("ORPHAN-", rows.astype(str)).tolist(), pa.string())
        if kind == "date":
            return pa.array(np.full(len(rows), -719_162, dtype=np.int32), type=pa.date32())  # 0001-01-01
        if kind == "timestamp":
            return pa.array(np.full(len(rows), -62_135_596_800_000_000, dtype=np.int64), type=values.type)
        return pc.negate(values) if pa.types.is_floating(values.type) else values


@register("duplicates")
class Duplicates(Corruption):
    """A whole row replaced by an exact copy of an earlier row (r − k, k drawn in 1..64)."""

    table_level = True

    def apply_rows(self, engine, table_name, rows, batch, sel):
        from shared.corruption import RECORD_SCHEMA, _key
        from shared.io import rng

        idx = np.flatnonzero(sel)
        k = 1 + np.floor(rng.uniform(_key(engine, table_name, "*", "duplicates/how"), rows[idx]) * 64).astype(np.int64)
        src = np.maximum(rows[idx] - k, 0)
        copies = engine.rows_batch(table_name, src)
        cols = []
        for i in range(batch.num_columns):
            from shared.corruption import _scatter

            cols.append(_scatter(batch.column(i), idx, copies.column(i)))
        out = pa.RecordBatch.from_arrays(cols, schema=batch.schema)
        rec = pa.RecordBatch.from_arrays([
            pa.array([table_name] * len(idx), pa.string()), pa.array(["*"] * len(idx), pa.string()),
            pa.array(rows[idx], pa.int64()), pa.array(["duplicates"] * len(idx), pa.string()),
            pa.array(np.char.add("copy of row ", src.astype(str)).tolist(), pa.string()),
        ], schema=RECORD_SCHEMA)
        return out, rec
