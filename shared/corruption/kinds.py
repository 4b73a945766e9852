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

    def apply_rows(self, engine, table_name, rows, batch, sel, added):
        from shared.corruption import _key, _records, copy_of
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
        return out, _records(table_name, "*", added.position(rows[idx]), "duplicates", copy_of(added.position(src)))


# --- opt-in kinds (rate 0 unless chosen: the default dirty output keeps its bytes) -------------

#: the QWERTY layout, rows of unshifted keys, each with its shifted twin (for the neighbours)
_QWERTY = ("1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./")
_QWERTY_SHIFTED = ("!@#$%^&*()_+", "QWERTYUIOP{}", 'ASDFGHJKL:"', "ZXCVBNM<>?")
#: a key's neighbours: left, right, and the two nearest keys of the rows above and below
_MAX_NB = 6


def _neighbour_table() -> tuple[np.ndarray, np.ndarray]:
    """(128, _MAX_NB) code points of each ASCII letter's and digit's QWERTY neighbours (letters
    and digits only, the case kept), and how many each has."""
    table = np.zeros((128, _MAX_NB), dtype=np.uint32)
    count = np.zeros(128, dtype=np.int64)
    for layout in (_QWERTY, _QWERTY_SHIFTED):
        for r, row in enumerate(layout):
            for c, ch in enumerate(row):
                if not ch.isalnum():
                    continue
                cand = [(r, c - 1), (r, c + 1), (r - 1, c), (r - 1, c + 1), (r + 1, c - 1), (r + 1, c)]
                nbs = [layout[rr][cc] for rr, cc in cand if 0 <= rr < len(layout) and 0 <= cc < len(layout[rr])]
                nbs = [n for n in nbs if n.isalnum()]
                if ch.isdigit():
                    nbs = [n for n in nbs if n.isdigit() or n.isalpha() and n.islower()]
                table[ord(ch), :len(nbs)] = [ord(n) for n in nbs]
                count[ord(ch)] = len(nbs)
    return table, count


_NEIGHBOURS, _N_NEIGHBOURS = _neighbour_table()


def keyboard_typo(values: pa.Array, u: np.ndarray) -> pa.Array:
    """One letter or digit of each value replaced by a QWERTY neighbour of it (``u`` picks which
    character and which neighbour); a value without an ASCII letter or digit gets an ``x``
    appended (an empty one becomes ``x``). Nulls stay null. Vectorised on the code-point matrix."""
    valid = pc.is_valid(values).to_numpy(zero_copy_only=False)
    filled = pc.fill_null(values, "")
    mat, _lengths, width = _char_matrix(filled)
    n = len(values)
    cp = np.where(mat < 128, mat, 0)
    eligible = _N_NEIGHBOURS[cp] > 0
    count = eligible.sum(axis=1)
    rank = np.minimum(np.floor(u * np.maximum(count, 1)).astype(np.int64), np.maximum(count - 1, 0))
    frac = u * np.maximum(count, 1) - rank  # what is left of u picks the neighbour
    cum = np.cumsum(eligible, axis=1)
    pos = np.argmax(eligible & (cum == (rank + 1)[:, None]), axis=1)
    r = np.arange(n)
    ch = cp[r, pos]
    nb = np.minimum(np.floor(frac * np.maximum(_N_NEIGHBOURS[ch], 1)).astype(np.int64),
                    np.maximum(_N_NEIGHBOURS[ch] - 1, 0))
    out = mat.copy()
    has = count > 0
    out[r[has], pos[has]] = _NEIGHBOURS[ch[has], nb[has]]
    res = _from_matrix(np.ascontiguousarray(out), width)
    if (~has).any():
        res = pc.if_else(pa.array(~has), pc.binary_join_element_wise(filled, pa.scalar("x"), ""), res)
    return pc.if_else(pa.array(valid), res, values)


@register("keyboard_typos")
class KeyboardTypos(Corruption):
    """A letter or digit replaced by a neighbouring key on a QWERTY keyboard (``e`` → ``r``)."""

    def applies(self, column, table) -> bool:
        return column.dtype.kind in _TEXT and not _is_key(column, table)

    def corrupt(self, values, rows, u, column, engine, table):
        return keyboard_typo(values, u)


@register("bom")
class Bom(Corruption):
    """A byte-order mark (U+FEFF) glued to the start of a text value — what concatenating files
    saved with a BOM leaves behind. Invisible in most viewers; breaks equality and patterns."""

    def applies(self, column, table) -> bool:
        return column.dtype.kind in _TEXT and not _is_key(column, table)

    def corrupt(self, values, rows, u, column, engine, table):
        return pc.binary_join_element_wise(pa.scalar("\ufeff"), values, "")


@register("extra_duplicates")
class ExtraDuplicates(Corruption):
    """An exact copy of a row inserted right after it: the table gets more rows than planned."""

    table_level = True


def _near_columns(table) -> list:
    return [c for c in table.columns if c.dtype.kind in _TEXT and not _is_key(c, table)]


@register("near_duplicates")
class NearDuplicates(Corruption):
    """A copy of a row inserted after it with one or two text fields (not keys) mistyped by
    keyboard proximity (``keyboard_typos``): the same entity entered twice. Needs a text column
    that is not a key; the copy keeps the keys (a null stays null)."""

    table_level = True

    def applies_to_table(self, table) -> bool:
        return bool(_near_columns(table))

    def damage(self, engine, table, batch: pa.RecordBatch, at: np.ndarray, src: np.ndarray, start: int):
        """The inserted copies at batch positions ``at`` (copies of rows ``src``) mistyped; the
        records of the changed cells (their original values)."""
        from shared.corruption import _as_text, _key, _records, _scatter
        from shared.io import rng

        cols = _near_columns(table)
        u = rng.uniform(_key(engine, table.name, "*", "near_duplicates/how"), src)
        first = np.minimum(np.floor(u * len(cols)).astype(np.int64), len(cols) - 1)
        # a second field for about half of them (another column when there is one)
        second = np.where((u * len(cols) - first) < 0.5, (first + 1) % len(cols), first) if len(cols) > 1 else first
        arrays = list(batch.columns)
        records = []
        names = batch.schema.names
        for j, c in enumerate(cols):
            pick = (first == j) | (second == j)
            if not pick.any():
                continue
            i = names.index(c.name)
            where = at[pick]
            before = arrays[i].take(pa.array(where))
            ut = rng.uniform(_key(engine, table.name, c.name, "near_duplicates/typo"), src[pick])
            arrays[i] = _scatter(arrays[i], where, keyboard_typo(before, ut))
            records.append(_records(table.name, c.name, start + where, "near_duplicates", _as_text(before)))
        return pa.RecordBatch.from_arrays(arrays, schema=batch.schema), records


# --- text-only kinds: what only a text format can hold (CSV, JSON, NDJSON, the event stream) ---

#: column kinds whose text has a type a reader must recognise (numbers, booleans, dates, times)
_TYPED = ("int", "float", "decimal", "bool", "date", "timestamp")


def _event_column(column, table) -> bool:
    """The columns an event envelope is built from (time, key, type column): kept typed."""
    ev = table.events
    return ev is not None and column.name in (ev.time, ev.key, ev.type if ev.type_is_column else None)


class _TextKind(Corruption):
    text_only = True

    def _typed(self, column, table, kinds) -> bool:
        # a partition column's value is a folder name (shared.io.partition), not a cell of text
        return column.dtype.kind in kinds and not _is_key(column, table) and not _event_column(column, table) \
            and column.name not in table.partition_by


#: what people type (or tools write) where a value is missing or broken
TYPE_NOISE_TOKENS = ("N/A", "n/a", "NULL", "null", "None", "-", "?", "#VALUE!", "#N/A", "NaN", "unknown", "")


@register("type_noise")
class TypeNoise(_TextKind):
    """A placeholder where a number, boolean, date or timestamp belongs: ``N/A``, ``NULL``, ``-``,
    ``?``, ``#VALUE!``, ``""`` … (text formats only: a JSON string where a number belongs)."""

    def applies(self, column, table) -> bool:
        return self._typed(column, table, _TYPED)

    def render(self, values, rows, u, column, engine, table):
        pick = np.minimum(np.floor(u * len(TYPE_NOISE_TOKENS)).astype(np.int64), len(TYPE_NOISE_TOKENS) - 1)
        return pa.array(TYPE_NOISE_TOKENS, pa.string()).take(pa.array(pick))


#: other ways to write a date (strftime, C locale), and a timestamp
DATE_FORMATS = ("%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%d %b %Y", "%Y%m%d", "%b %d, %Y", "%Y/%m/%d")
TIMESTAMP_FORMATS = ("%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d %b %Y %I:%M %p",
                     "%Y%m%dT%H%M%S", "%s")


@register("date_formats")
class DateFormats(_TextKind):
    """The date written another way: ``03/12/2026``, ``12.03.2026``, ``12 Mar 2026``, ``20260312``
    …; timestamps as ``03/12/2026 14:05``, without their zone, with AM/PM or as epoch seconds."""

    needs_value = True

    def applies(self, column, table) -> bool:
        return self._typed(column, table, ("date", "timestamp"))

    def render(self, values, rows, u, column, engine, table):
        ts = column.dtype.kind == "timestamp"
        formats = TIMESTAMP_FORMATS if ts else DATE_FORMATS
        when = pc.cast(values, pa.timestamp("s")) if not ts else pc.cast(values, pa.timestamp("us", tz="UTC"))
        pick = np.minimum(np.floor(u * len(formats)).astype(np.int64), len(formats) - 1)
        texts = []
        for f in formats:
            if f == "%s":
                secs = pc.cast(pc.cast(when, pa.int64()), pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000
                texts.append(pa.array(secs).cast(pa.string()))
            else:
                texts.append(pc.strftime(when, format=f, locale="C"))
        return pc.choose(pa.array(pick.astype(np.int8)), *texts)


def _grouped(text: pa.Array) -> pa.Array:
    """``1234567.5`` → ``1,234,567.5`` (thousands separators in the integer part)."""
    for _ in range(7):  # 3 digits a pass: enough for any int64 or float text
        text = pc.replace_substring_regex(text, r"^(-?\d+)(\d{3})", r"\1,\2")
    return text


@register("number_formats")
class NumberFormats(_TextKind):
    """The number written another way: ``1,234.5`` (thousands separators), ``1.234,5`` (European),
    ``$1,234.5`` (a currency sign), `` 1234.5 `` (padded) or ``1.2345E+3`` (scientific); where a
    form would not change the text (``18`` has no thousands), the currency sign."""

    needs_value = True

    def applies(self, column, table) -> bool:
        return self._typed(column, table, ("int", "float", "decimal"))

    def render(self, values, rows, u, column, engine, table):
        plain = pc.cast(values, pa.string())
        us = _grouped(plain)
        euro = pc.replace_substring(pc.replace_substring(pc.replace_substring(us, ",", "\x00"), ".", ","), "\x00", ".")
        money = pc.replace_substring_regex(us, "^(-?)", "\\1$")
        padded = pc.binary_join_element_wise(" ", plain, " ", "")
        # scientific for |x| >= 1 written without an exponent; the others get thousands separators
        sci_ok = pc.fill_null(pc.match_substring_regex(plain, r"^-?[1-9]\d*(\.\d*)?$"), False)
        digits = pc.replace_substring_regex(plain, r"^-?(\d+).*$", r"\1")
        mant = pc.replace_substring_regex(plain, r"^(-?)(\d)(\d*)\.?(\d*)$", r"\1\2.\3\4")
        mant = pc.replace_substring_regex(pc.replace_substring_regex(mant, r"0+$", ""), r"\.$", "")
        exp = pc.cast(pc.subtract(pc.utf8_length(digits), 1), pa.string())
        sci = pc.if_else(sci_ok, pc.binary_join_element_wise(mant, "E+", exp, ""), us)
        pick = np.minimum(np.floor(u * 5).astype(np.int64), 4)
        out = pc.choose(pa.array(pick.astype(np.int8)), us, euro, money, padded, sci)
        # a form that leaves the text as it was (no thousands in 18, 0.5): the currency sign
        return pc.if_else(pc.fill_null(pc.equal(out, plain), True), money, out)
