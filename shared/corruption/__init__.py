"""The ``dirty`` profile: reproducible corruption of realistic data, every change recorded.

Dirty data is the realistic data, then corruption applied per block by kinds registered in
``CORRUPTIONS`` (``shared/corruption/kinds.py``). Each (table, column, kind) has its own stream —
``stream_key(seed, table, column, "corrupt:<kind>")`` — so a cell's corruption is a pure function
of its row like everything else: replaying any block gives the same dirty bytes, and enabling one
kind never moves another. Every corrupted cell is recorded as (table, column, row, kind,
original value) in the sidecar ``corruptions.csv`` listed in the manifest, with counts per table,
column and kind, so users can score their cleaning and ``validate`` can tell injected violations
from real ones.

Rates: each kind has a documented default (``DEFAULT_RATES``), overridden by a ``corruption:``
block at the schema, table or column level (``{kind: rate}``; 0 disables a kind; ``only: [kind,
…]`` disables every kind the block does not list). Opt-in kinds (``OPT_IN_RATES``) are off unless
chosen: by a rate in a block, by ``only``, or by the run's selection (``--corrupt KIND[=RATE]``,
``Plan.corrupt``), which replaces every block: the chosen kinds alone, each at its given rate or
else the schema's, else its documented one. Which columns a kind touches is the kind's
``applies(column, table)``.

Kinds that add rows (``ADDS_ROWS``: ``extra_duplicates``, ``near_duplicates``) insert a copy of
row r right after it when r's keyed uniform is below the rate, so a block of rows [a, b) is the
rows a..b-1 with their copies, whatever the block boundaries; ``added_rows`` counts them for any
span without generating a value (``validate`` knows the written row count from the plan).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from shared.registry import Registry, import_submodules

DEFAULT_RATES: dict[str, float] = {
    "nulls": 0.01,  # nulls in non-nullable columns
    "typos": 0.01,  # a swapped, dropped or doubled character in text
    "whitespace": 0.01,  # stray leading/trailing/double spaces in text
    "casing": 0.01,  # UPPER / lower / sWAPPED case text
    "out_of_range": 0.005,  # numbers, dates and timestamps beyond min/max
    "malformed_dates": 0.005,  # implausible dates: 1900-01-01, 9999-12-31, day/month swapped
    "duplicates": 0.002,  # a row replaced by an exact copy of an earlier row
    "orphans": 0.005,  # foreign keys pointing at no parent
    "encoding": 0.005,  # mojibake (UTF-8 read as Latin-1) or a U+FFFD in text
}
#: kinds that are off unless chosen (so the default dirty output keeps its bytes): the rate a
#: kind gets when chosen without one (``only: [kind]``, ``--corrupt kind``)
OPT_IN_RATES: dict[str, float] = {
    "keyboard_typos": 0.01,  # a character replaced by a QWERTY neighbour
    "bom": 0.005,  # a U+FEFF byte-order mark glued to the start of a text value
    "extra_duplicates": 0.002,  # an exact copy of a row inserted after it (more rows)
    "near_duplicates": 0.002,  # a copy with one or two text fields mistyped inserted after it
    # text formats only (CSV, JSON, NDJSON, event stream): what no typed column can hold
    "type_noise": 0.01,  # N/A, NULL, -, ?, #VALUE! … in a number, boolean, date or timestamp column
    "date_formats": 0.01,  # 03/12/2026, 12.03.2026, 12 Mar 2026, 20260312 … instead of ISO 8601
    "number_formats": 0.01,  # 1,234.5 / 1.234,5 / $1,234.5 / padded / 1.2345E+3
}
#: every kind's name, in the order the JSON Schema lists them
KINDS: tuple[str, ...] = (*DEFAULT_RATES, *OPT_IN_RATES)
#: the kinds that add rows to a table (the written table has more rows than the plan)
ADDS_ROWS: tuple[str, ...] = ("extra_duplicates", "near_duplicates")
#: the key of a corruption block that names the only kinds it enables
ONLY = "only"
#: the kinds that only a text format can hold
TEXT_ONLY: tuple[str, ...] = ("type_noise", "date_formats", "number_formats")
#: a column with text-only corruption, as the engine hands it to a text format: the typed value
#: and the text to write instead (null: write the value)
TEXT_FIELDS = ("value", "text")

RECORD_SCHEMA = pa.schema([
    ("table", pa.string()), ("column", pa.string()), ("row", pa.int64()),
    ("kind", pa.string()), ("original", pa.string()),
])
SIDECAR = "corruptions.csv"


class Corruption:
    """Base of a corruption kind (see kinds.py)."""

    name = ""
    table_level = False  # acts on whole rows (duplicates) rather than one column
    #: writes text no typed column can hold (``N/A`` in a number column): applied only where the
    #: format renders text (``Format.renders_text``), by ``render`` instead of ``corrupt``
    text_only = False
    #: a null cell is left alone (there is no value to write another way)
    needs_value = False

    def applies(self, column, table) -> bool:
        return False

    def applies_to_table(self, table) -> bool:
        """A table-level kind: whether it can act on ``table`` at all."""
        return self.table_level

    def corrupt(self, values: pa.Array, rows: np.ndarray, u: np.ndarray, column, engine, table) -> pa.Array:
        """New values for the selected rows (``values`` holds just those rows)."""
        raise NotImplementedError

    def render(self, values: pa.Array, rows: np.ndarray, u: np.ndarray, column, engine, table) -> pa.Array:
        """A text-only kind: the text written instead of the selected values (a string array)."""
        raise NotImplementedError


CORRUPTIONS: Registry[Corruption] = Registry("corruption kind")


def register(name: str):
    def deco(cls):
        cls.name = name
        CORRUPTIONS.add(name, cls())
        return cls

    return deco


def _load() -> None:
    import_submodules("shared.corruption")


def chosen_rate(kind: str) -> float:
    """The documented rate of a kind: its default, or for an opt-in kind the rate it gets when chosen."""
    return DEFAULT_RATES[kind] if kind in DEFAULT_RATES else OPT_IN_RATES[kind]


def rate(schema, table, column, kind: str, corrupt=None) -> float:
    """The rate of ``kind`` for a column (``None``: the table's whole rows): column block, then
    table, then schema, then default. ``corrupt`` (the run's selection, ``Plan.corrupt``): only
    the kinds it names, at its rate, else the blocks' rate, else the documented one."""
    if corrupt is not None:
        if kind not in corrupt:
            return 0.0
        if corrupt[kind] is not None:
            return float(corrupt[kind])
    chosen = corrupt is not None  # named by the run, or by the most specific ``only``
    for block in (getattr(column, "corruption", None), table.corruption, schema.corruption):
        if not block:
            continue
        if kind in block:
            return float(block[kind])
        if not chosen and ONLY in block:
            if kind not in block[ONLY]:
                return 0.0
            chosen = True
    return chosen_rate(kind) if chosen else DEFAULT_RATES.get(kind, 0.0)


def parse_selection(items) -> dict[str, float | None] | None:
    """``--corrupt KIND[=RATE]`` values → ``{kind: rate or None}`` (``None`` for no items); an
    unknown kind or a rate outside [0, 1] is a ``UsageError`` naming the closest kind."""
    from shared.errors import UsageError
    from shared.registry import did_you_mean

    if not items:
        return None
    out: dict[str, float | None] = {}
    for item in items:
        name, eq, value = str(item).partition("=")
        name = name.strip()
        if name not in KINDS:
            hint = did_you_mean(name, KINDS)
            raise UsageError(f"--corrupt {item}: unknown corruption kind {name!r}"
                             f"{f' ({hint})' if hint else ''}; kinds: {', '.join(KINDS)}")
        r: float | None = None
        if eq:
            try:
                r = float(value)
            except ValueError:
                r = -1.0
            if not 0.0 <= r <= 1.0:
                raise UsageError(f"--corrupt {item}: the rate must be a number from 0 to 1 (e.g. {name}=0.05)")
        if name in out:
            raise UsageError(f"--corrupt {name}: given more than once")
        out[name] = r
    return out


def _key(engine, table: str, column: str, kind: str) -> int:
    from shared.io import rng

    return rng.stream_key(engine.plan.seed, table, column, "corrupt:" + kind)


def _as_text(arr: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())


def _rates(engine, table, column, kind: str) -> float:
    return rate(engine.schema.written, table, column, kind, getattr(engine.plan, "corrupt", None))


def apply(engine, table_name: str, rows: np.ndarray, batch: pa.RecordBatch,
          prior: pa.RecordBatch | None = None) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    """The dirty version of a clean batch of ``rows`` (contiguous), and the records of what was
    changed. With kinds that add rows, the batch holds each row followed by its added copies, and
    the records' ``row`` is the position in the written table *minus the rows added before
    ``rows[0]``* (``shift_records`` adds those when the blocks are put in order)."""
    from shared.io import rng

    _load()
    schema = engine.schema.written  # the columns of the batch: hidden ones are never written
    table = schema.table(table_name)
    rows = np.asarray(rows, dtype=np.int64)
    records: list[pa.RecordBatch] = []
    added = _AddedRows(engine.plan, table_name, rows)
    if prior is not None and prior.num_rows:  # the anomalies' records: their rows where written
        positions = added.position(prior.column("row").to_numpy(zero_copy_only=False))
        records.append(prior.set_column(2, "row", pa.array(positions, pa.int64())))
    # whole-row duplicates first: row r becomes an exact copy of an earlier row (r - k)
    dup: Any = CORRUPTIONS["duplicates"]  # the one kind that rewrites whole rows (apply_rows)
    r_dup = _rates(engine, table, None, "duplicates")
    if r_dup > 0 and len(rows):
        u = rng.uniform(_key(engine, table_name, "*", "duplicates"), rows)
        sel = (u < r_dup) & (rows > 0)
        if sel.any():
            batch, rec = dup.apply_rows(engine, table_name, rows, batch, sel, added)
            records.append(rec)
    arrays = list(batch.columns)
    text_cols = set(text_columns(engine.plan, table_name)) if getattr(engine, "text", False) else set()
    for i, column in enumerate(table.columns):
        for kind in CORRUPTIONS:
            c = CORRUPTIONS[kind]
            if c.table_level or c.text_only or not c.applies(column, table):
                continue
            r = _rates(engine, table, column, kind)
            if r <= 0:
                continue
            u = rng.uniform(_key(engine, table_name, column.name, kind), rows)
            sel = u < r
            if not sel.any():
                continue
            idx = np.flatnonzero(sel)
            before = arrays[i].take(pa.array(idx))
            u2 = rng.uniform(_key(engine, table_name, column.name, kind + "/how"), rows[idx])
            after = c.corrupt(before, rows[idx], u2, column, engine, table)
            arrays[i] = _scatter(arrays[i], idx, after)
            records.append(_records(table_name, column.name, added.position(rows[idx]), kind, _as_text(before)))
        if column.name in text_cols:
            arrays[i], recs = _text_cells(engine, table, column, rows, arrays[i], added)
            records += recs
    schema_out = engine.written_schemas[table_name] if text_cols else batch.schema
    out = pa.RecordBatch.from_arrays(arrays, schema=schema_out)
    if added.any:
        out, records = added.insert(engine, table, out, records)
    rec = pa.Table.from_batches(records, schema=RECORD_SCHEMA).combine_chunks() if records else \
        RECORD_SCHEMA.empty_table()
    if rec.num_rows:
        # a fixed order — row, then column position, then kind — whatever the block boundaries
        import pyarrow.compute as pc

        col_order = pa.array(["*", *table.column_names], pa.string())
        cp = pc.index_in(rec.column("column"), value_set=col_order).to_numpy(zero_copy_only=False)
        kp = pc.index_in(rec.column("kind"), value_set=pa.array(sorted(CORRUPTIONS))).to_numpy(zero_copy_only=False)
        order = np.lexsort((kp, cp, rec.column("row").to_numpy()))
        rec = pc.take(rec, pa.array(order))
    rec_batch = rec.to_batches()[0] if rec.num_rows else pa.RecordBatch.from_pylist([], schema=RECORD_SCHEMA)
    return out, rec_batch


def _text_cells(engine, table, column, rows: np.ndarray, values: pa.Array, added) -> tuple[pa.Array, list]:
    """A column with text-only kinds: the struct of ``TEXT_FIELDS`` (the value, and the text
    written instead where a kind chose the cell — one kind a cell, in registry order)."""
    from shared.io import rng

    n = len(rows)
    text = pa.nulls(n, pa.string())
    taken = np.zeros(n, dtype=bool)
    valid = _valid_mask(values)
    records = []
    for kind in CORRUPTIONS:
        c = CORRUPTIONS[kind]
        if not c.text_only or not c.applies(column, table):
            continue
        r = _rates(engine, table, column, kind)
        if r <= 0:
            continue
        sel = (rng.uniform(_key(engine, table.name, column.name, kind), rows) < r) & ~taken
        if c.needs_value:
            sel &= valid
        if not sel.any():
            continue
        idx = np.flatnonzero(sel)
        before = values.take(pa.array(idx))
        u2 = rng.uniform(_key(engine, table.name, column.name, kind + "/how"), rows[idx])
        text = _scatter(text, idx, c.render(before, rows[idx], u2, column, engine, table))
        taken |= sel
        records.append(_records(table.name, column.name, added.position(rows[idx]), kind, _as_text(before)))
    return pa.StructArray.from_arrays([values, text], names=list(TEXT_FIELDS)), records


def _valid_mask(values: pa.Array) -> np.ndarray:
    import pyarrow.compute as pc

    return np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)


def text_columns(plan, table_name: str) -> list[str]:
    """The columns of a table with text-only kinds at a rate above 0 (the dirty profile): a text
    format writes them as ``TEXT_FIELDS`` structs, ``validate`` reads them as text."""
    if getattr(plan, "profile", None) != "dirty":
        return []
    _load()
    schema = plan.schema.written
    table = schema.table(table_name)
    corrupt = getattr(plan, "corrupt", None)
    return [c.name for c in table.columns
            if any(CORRUPTIONS[k].applies(c, table) and rate(schema, table, c, k, corrupt) > 0 for k in TEXT_ONLY)]


def text_schema(schema: pa.Schema, columns) -> pa.Schema:
    """``schema`` with ``columns`` as the struct of ``TEXT_FIELDS`` a text format receives."""
    cols = set(columns)
    return pa.schema([pa.field(f.name, pa.struct([pa.field(TEXT_FIELDS[0], f.type), pa.field(TEXT_FIELDS[1], pa.string())]),
                               nullable=f.nullable) if f.name in cols else f for f in schema])


#: what a value's text must look like for ``parse_text`` to read it as the value (the forms the
#: text formats write), by Arrow type family
_VALUE_TEXT = {
    "int": r"^-?[0-9]+$",
    "float": r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$",
    "decimal": r"^-?[0-9]+(\.[0-9]+)?$",
    "bool": r"^(true|false)$",
    "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "timestamp": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[-+][0-9]{2}:?[0-9]{2})$",
}


def _family(t: pa.DataType) -> str | None:
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    return None


def parse_text(text: pa.Array, to: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Text read from a column with text-only corruption, as ``to``: each value that has the
    form a text format writes is cast, every other one is null. Returns (values, mask of the
    non-null texts that are not values). The same function reads the artifacts and the replay,
    so both sides agree on every cell."""
    import pyarrow.compute as pc

    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if text.type != pa.string():
        text = text.cast(pa.string())
    fam = _family(to)
    ok = pc.fill_null(pc.match_substring_regex(text, _VALUE_TEXT[fam]), False) if fam else pc.is_valid(text)
    bad = np.asarray(pc.and_(pc.is_valid(text), pc.invert(ok)).to_numpy(zero_copy_only=False), dtype=bool)
    kept = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    return pc.cast(kept, to), bad


def typed_view(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch as a reader of the text format sees it once parsed: each ``TEXT_FIELDS`` struct
    column becomes its value, or where a text was written, that text through ``parse_text``."""
    import pyarrow.compute as pc

    arrays, fields = [], []
    for f, col in zip(batch.schema, batch.columns, strict=True):
        if is_text_cells(f.type):
            value, text = pc.struct_field(col, [0]), pc.struct_field(col, [1])
            parsed, _bad = parse_text(text, value.type)
            col = pc.if_else(pc.is_valid(text), parsed, value)
            f = pa.field(f.name, value.type, nullable=f.nullable)
        arrays.append(col)
        fields.append(f)
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def is_text_cells(t: pa.DataType) -> bool:
    """Whether an Arrow type is the struct of ``TEXT_FIELDS`` (a column with text-only kinds)."""
    return pa.types.is_struct(t) and t.num_fields == 2 and tuple(t.field(i).name for i in range(2)) == TEXT_FIELDS


def _records(table: str, column: str, rows: np.ndarray, kind: str, original: pa.Array) -> pa.RecordBatch:
    n = len(rows)
    return pa.RecordBatch.from_arrays([
        pa.array([table] * n, pa.string()), pa.array([column] * n, pa.string()),
        pa.array(np.asarray(rows, dtype=np.int64), pa.int64()), pa.array([kind] * n, pa.string()), original,
    ], schema=RECORD_SCHEMA)


#: the ``original`` of a record of a whole-row copy: this text, then the copied row's position
COPY_OF = "copy of row "


def copy_of(positions: np.ndarray) -> pa.Array:
    return pa.array(np.char.add(COPY_OF, np.asarray(positions, dtype=np.int64).astype(str)).tolist(), pa.string())


def _added_flags(seed: int, table: str, rates: dict[str, float], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Per kind that adds rows (rate > 0): which of ``rows`` get a copy inserted after them."""
    from shared.io import rng

    return {k: rng.uniform(rng.stream_key(seed, table, "*", "corrupt:" + k), rows) < r for k, r in rates.items()}


def adding_rates(plan, table_name: str) -> dict[str, float]:
    """The rates (> 0) of the kinds that add rows to a table, in the dirty profile."""
    if getattr(plan, "profile", None) != "dirty":
        return {}
    _load()
    schema = plan.schema.written
    table = schema.table(table_name)
    out = {}
    for k in ADDS_ROWS:
        r = rate(schema, table, None, k, getattr(plan, "corrupt", None))
        if r > 0 and CORRUPTIONS[k].applies_to_table(table):
            out[k] = r
    return out


#: rows hashed at a time when counting added rows (bounds memory whatever the span)
COUNT_CHUNK = 1 << 20


def added_rows(plan, table: str, start: int = 0, stop: int | None = None) -> int:
    """How many rows the kinds that add rows insert after the rows [start, stop) of a table
    (a pure function of the plan, computed in chunks without generating a value)."""
    rates = adding_rates(plan, table)
    if not rates:
        return 0
    stop = plan.rows(table) if stop is None else stop
    n = 0
    for s in range(start, stop, COUNT_CHUNK):
        rows = np.arange(s, min(stop, s + COUNT_CHUNK), dtype=np.int64)
        n += sum(int(f.sum()) for f in _added_flags(plan.seed, table, rates, rows).values())
    return n


def written_rows(plan, table: str) -> int:
    """The rows a table's artifacts hold: the plan's, plus those the dirty profile adds."""
    return plan.rows(table) + added_rows(plan, table)


def most_rows(plan, table: str) -> int:
    """An upper bound of ``written_rows`` without hashing: each row gets at most one copy per
    kind that adds rows."""
    return plan.rows(table) * (1 + len(adding_rates(plan, table)))


def expected_rows(plan, table: str, observed: int) -> int:
    """``written_rows``, counted only when ``observed`` (rows the artifacts hold) is within its
    bounds — otherwise the plan's rows: the count is wrong either way, and a forged row count
    costs no hashing beyond the rows really there."""
    planned = plan.rows(table)
    if observed < planned or observed > most_rows(plan, table) or not adding_rates(plan, table):
        return planned
    return written_rows(plan, table)


class _AddedRows:
    """The rows kinds like ``extra_duplicates`` insert into a block of contiguous ``rows``."""

    #: copies refer back at most this many rows (``duplicates``' k), so positions of rows before
    #: the block are found by hashing this many rows before it
    LOOKBACK = 64

    def __init__(self, plan, table: str, rows: np.ndarray):
        self.table = table
        self.rows = rows
        self.rates = adding_rates(plan, table) if len(rows) else {}
        self.any = False
        if not self.rates:
            return
        self.start = int(rows[0])
        lo = max(self.start - self.LOOKBACK, 0)
        span = np.arange(lo, int(rows[-1]) + 1, dtype=np.int64)
        self.flags = _added_flags(plan.seed, table, self.rates, span)
        count = np.zeros(len(span), dtype=np.int64)
        for f in self.flags.values():
            count += f
        self.lo = lo
        # added before each row of the span, counted from the block's first row
        cum = np.concatenate([[0], np.cumsum(count)])
        self.before = cum[:-1] - cum[self.start - lo]
        self.count = count[self.start - lo:]
        self.any = bool(self.count.any())

    def _copied(self, records: list[pa.RecordBatch], first: np.ndarray) -> list[pa.RecordBatch]:
        return _copied_records(records, self.start + first, self.count)

    def position(self, rows: np.ndarray) -> np.ndarray:
        """Where ``rows`` are written, relative to the block (see ``apply``)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not self.rates:
            return rows
        return rows + self.before[rows - self.lo]

    def insert(self, engine, table, batch: pa.RecordBatch,
               records: list[pa.RecordBatch]) -> tuple[pa.RecordBatch, list[pa.RecordBatch]]:
        """The batch with each row followed by its copies, and the records: those of the cells
        so far, each also at the copies of its row (a copy repeats the row's dirt), and the
        copies' own."""
        k = len(self.rows)
        off = self.start - self.lo
        flags = {kind: f[off:] for kind, f in self.flags.items()}
        # each row, then its exact copy, then its near copy
        reps = 1 + self.count
        take = np.repeat(np.arange(k), reps)
        first = np.concatenate([[0], np.cumsum(reps)[:-1]])  # output index of each row
        src_pos = self.position(self.rows)
        records = records + self._copied(records, first)
        near_at = None
        for kind in ADDS_ROWS:
            if kind not in flags:
                continue
            f = flags[kind]
            idx = np.flatnonzero(f)
            # rows with the other kind's copy before this one
            extra = np.zeros(k, dtype=np.int64)
            for other in ADDS_ROWS[:ADDS_ROWS.index(kind)]:
                if other in flags:
                    extra += flags[other]
            at = first[idx] + 1 + extra[idx]
            if kind == "near_duplicates":
                near_at = (at, idx)
            records.append(_records(self.table, "*", self.start + at, kind, copy_of(src_pos[idx])))
        out = batch.take(pa.array(take))
        if near_at is not None and len(near_at[0]):
            near: Any = CORRUPTIONS["near_duplicates"]
            out, recs = near.damage(engine, table, out, near_at[0], self.rows[near_at[1]], self.start)
            records += recs
        return out, records


def _copied_records(records: list[pa.RecordBatch], starts: np.ndarray, count: np.ndarray) -> list[pa.RecordBatch]:
    """The cell records of rows written at ``starts`` (block positions, sorted), repeated at
    each of the ``count`` copies inserted after them (positions + 1, + 2 …)."""
    import pyarrow.compute as pc

    cells = [r for r in records if r.num_rows]
    if not cells:
        return []
    rec = pa.Table.from_batches(cells, schema=RECORD_SCHEMA).combine_chunks()
    rec = rec.filter(pc.not_equal(rec.column("column"), "*"))  # whole-row records balance already
    if rec.num_rows == 0:
        return []
    pos = rec.column("row").to_numpy()
    i = np.searchsorted(starts, pos)
    reps = count[i]
    if not reps.any():
        return []
    take = np.repeat(np.arange(rec.num_rows), reps)
    # the j-th copy of a row is written j rows after it
    step = np.arange(len(take)) - np.repeat(np.cumsum(reps) - reps, reps) + 1
    out = rec.take(pa.array(take))
    rows = pa.array(pos[take] + step, pa.int64())
    return pa.Table.from_arrays([out.column(0), out.column(1), rows, out.column(3), out.column(4)],
                                schema=RECORD_SCHEMA).to_batches()


def shift_records(records: pa.RecordBatch, offset: int) -> tuple[pa.RecordBatch, int]:
    """Records of a block in place in the written table: ``offset`` (the rows added before the
    block) added to their rows and to the positions of copied rows; and the rows this block adds."""
    import pyarrow.compute as pc

    if records is None or records.num_rows == 0:
        return records, 0
    kinds = records.column("kind")
    whole = pc.equal(records.column("column"), "*")
    adds = pc.and_(whole, pc.is_in(kinds, value_set=pa.array(list(ADDS_ROWS))))
    n_added = int(pc.sum(adds).as_py() or 0)
    if offset == 0:
        return records, n_added
    copies = pc.and_(whole, pc.is_in(kinds, value_set=pa.array(["duplicates", *ADDS_ROWS])))
    orig = records.column("original")
    if pc.any(copies).as_py():
        idx = np.flatnonzero(copies.to_numpy(zero_copy_only=False))
        pos = pc.cast(pc.utf8_slice_codeunits(orig.take(pa.array(idx)), len(COPY_OF)), pa.int64()).to_numpy()
        orig = _scatter(orig, idx, copy_of(pos + offset))
    rows = pa.array(records.column("row").to_numpy() + offset, pa.int64())
    cols = [records.column(0), records.column(1), rows, kinds, orig]
    return pa.RecordBatch.from_arrays(cols, schema=RECORD_SCHEMA), n_added


def _scatter(arr: pa.Array, idx: np.ndarray, new: pa.Array) -> pa.Array:
    """``arr`` with positions ``idx`` replaced by ``new`` (vectorised)."""
    import pyarrow.compute as pc

    if new.type != arr.type:
        new = new.cast(arr.type)
    n = len(arr)
    pos = np.full(n, -1, dtype=np.int64)
    pos[idx] = np.arange(len(idx))
    mask = pa.array(pos >= 0)
    spread = new.take(pa.array(np.where(pos >= 0, pos, 0)))
    return pc.if_else(mask, spread, arr)


def replay_table(engine, table: str, start: int, stop: int) -> pa.RecordBatch:
    """The dirty batch of rows [start, stop) (what ``validate`` compares against)."""
    rows = np.arange(start, stop, dtype=np.int64)
    clean = engine.batch(table, start, stop, dirty=False)
    return apply(engine, table, rows, clean)[0]


def summarize(records: pa.Table) -> dict[str, dict[str, dict[str, int]]]:
    """Counts per table, column ('*' for whole rows) and kind."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    if records.num_rows == 0:
        return counts
    g = records.group_by(["table", "column", "kind"]).aggregate([([], "count_all")]).to_pylist()
    for row in g:
        counts.setdefault(row["table"], {}).setdefault(row["column"], {})[row["kind"]] = int(row["count_all"])
    return counts


def rates_used(schema, corrupt=None, text: bool = True) -> dict[str, Any]:
    """The effective rates per table and column ('*': whole rows), for the manifest; without
    ``text`` (a typed format) the text-only kinds are left out (see ``not_applicable``)."""
    _load()
    out: dict[str, Any] = {}
    for t in schema.tables:
        cols: dict[str, dict[str, float]] = {}
        for c in t.columns:
            kinds = {k: rate(schema, t, c, k, corrupt) for k in CORRUPTIONS
                     if not CORRUPTIONS[k].table_level and CORRUPTIONS[k].applies(c, t)
                     and (text or not CORRUPTIONS[k].text_only) and rate(schema, t, c, k, corrupt) > 0}
            if kinds:
                cols[c.name] = kinds
        whole = {k: rate(schema, t, None, k, corrupt) for k in ("duplicates", *ADDS_ROWS)
                 if CORRUPTIONS[k].applies_to_table(t) and rate(schema, t, None, k, corrupt) > 0}
        if whole:
            cols["*"] = whole
        out[t.name] = cols
    return out


def not_applicable(schema, corrupt=None) -> list[str]:
    """The text-only kinds with a rate above 0 somewhere in the schema: what a typed format
    (Parquet, SQLite) leaves out, recorded so in the manifest."""
    _load()
    return [k for k in TEXT_ONLY if any(CORRUPTIONS[k].applies(c, t) and rate(schema, t, c, k, corrupt) > 0
                                        for t in schema.tables for c in t.columns)]
