"""``CsvWriter``: Arrow record batches in, one CSV file out, streaming with bounded memory.

One vectorised renderer (``render_rows``) writes every quoting style; nothing loops over rows in
Python. Each column is cast to text with Arrow's own casts (the texts ``pyarrow.csv.CSVWriter``
writes, UTC timestamps excepted: Arrow formats them 45× slower, so they are cast as naive ones
and get their ``Z`` as a literal), quoted as the dialect says, and one
``binary_join_element_wise`` call lays out the lines — delimiters, constant quotes and line
terminators are literal pieces of that join rather than passes over the data. The styles:
``strings`` (every text value quoted; pyarrow's "needed"), ``needed`` (only values containing the
delimiter, a quote or a line break, empty ones and ones equal to the null marker), ``all`` (every
non-null value; pyarrow's "all_valid") and ``none`` (nothing; a value that would need quotes is
refused). The tests compare each style with pyarrow's CSVWriter byte for byte.

Below it, ``streams.OutputChain`` encodes, re-chunks and compresses. Every row's text depends
only on the row, and the chain re-chunks, so the bytes never depend on how rows were split into
batches — or on which process rendered them (``CsvWriter.render`` / ``write_rendered``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from csv_generator.dialect import DEFAULT_DIALECT, CsvOptions, Dialect
from csv_generator.errors import CsvWriteError
from csv_generator.streams import OutputChain


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _specials(d: Dialect) -> tuple[str, ...]:
    return (d.delimiter, '"', "\n", "\r")


def _needs_quotes(s: pa.Array, d: Dialect) -> pa.Array:
    needs = pc.equal(s, "")
    if d.null:
        needs = pc.or_(needs, pc.equal(s, d.null))
    for ch in _specials(d):
        if _has_byte(s, ch):
            needs = pc.or_(needs, pc.match_substring(s, ch))
    return needs


def _quote(s: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise('"', pc.replace_substring(s, '"', '""'), '"', "")


def render_header(names: list[str], d: Dialect, quote_all: bool = False) -> bytes:
    """The header line: names quoted only where needed, or every name (quoting=strings)."""
    out = []
    for n in names:
        if quote_all or n == "" or any(ch in n for ch in _specials(d)):
            n = '"' + n.replace('"', '""') + '"'
        out.append(n)
    return (d.delimiter.join(out) + d.line_terminator).encode("utf-8")


_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "+00:00", "GMT"})


#: doubles with a magnitude in this range and a fractional part get the same shortest text from
#: orjson (Ryu) as from Arrow's cast (double-conversion): the two differ only in where they
#: switch to exponents and in how they write whole numbers (``2.0`` against ``2``)
_FAST_FLOAT = (1e-5, 1e9)


def float64_text(arr: pa.Array, comma: bool = False) -> pa.Array:
    """Arrow's text of a float64 array (``pc.cast(arr, pa.string())``, the shortest text that
    reads back to the same double), 2–4× faster: orjson (Ryu) formats the doubles where it
    writes the same text (``_FAST_FLOAT``, not whole) and Arrow's cast the rest — whole numbers,
    tiny and huge magnitudes, NaN, infinities, nulls. ``comma``: every value followed by ``,``
    (orjson's own separators become the CSV delimiter, so its text needs no second pass). A test
    checks it against Arrow's cast over random bit patterns and the edge cases."""
    n = len(arr)
    x = arr.to_numpy(zero_copy_only=False)  # nulls read as NaN: they take Arrow's path
    ax = np.abs(x)
    with np.errstate(invalid="ignore"):
        slow = ~((ax >= _FAST_FLOAT[0]) & (ax < _FAST_FLOAT[1])) | (x == np.trunc(x))
    n_slow = int(np.count_nonzero(slow))
    if n == 0 or n_slow * 2 > n:
        text = pc.cast(arr, pa.string())
        return pc.binary_join_element_wise(text, ",", "") if comma else text
    body = np.frombuffer(orjson.dumps(np.where(slow, 0.5, x) if n_slow else x, option=orjson.OPT_SERIALIZE_NUMPY),
                         dtype=np.uint8)[1:-1]
    is_comma = body == 44
    ends = np.flatnonzero(is_comma)  # value i ends at the i-th comma (the last at the end of the text)
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    if comma:  # keep orjson's commas, add the last one
        offsets[1:n] = ends + 1
        offsets[n] = len(body) + 1
        data = np.concatenate([body, np.frombuffer(b",", dtype=np.uint8)])
    else:  # drop them: value i moves left by the i commas before it
        offsets[1:n] = ends - np.arange(n - 1)
        offsets[n] = len(body) - (n - 1)
        data = body[~is_comma]
    text = pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data))
    if n_slow:
        mask = pa.array(slow)
        other = pc.cast(arr.filter(mask), pa.string())
        text = pc.replace_with_mask(text, mask, pc.binary_join_element_wise(other, ",", "") if comma else other)
    return text


def _text_parts(arr: pa.Array) -> tuple[pa.Array, str]:
    """A non-text column as (text, suffix): UTC timestamps as their naive text and ``"Z"``."""
    t = arr.type
    if pa.types.is_timestamp(t) and t.tz in _UTC_NAMES:
        return pc.cast(arr.cast(pa.timestamp(t.unit)), pa.string()), "Z"
    if t == pa.float64():
        return float64_text(arr), ""
    return pc.cast(arr, pa.string()), ""


#: a column given as a struct of these fields is written as ``text`` where that is not null and
#: as ``value`` elsewhere (a cell whose text is not its value's: ``N/A`` in a number column)
OVERRIDE_FIELDS = ("value", "text")


def is_override(t: pa.DataType) -> bool:
    """Whether a column's type is the struct of ``OVERRIDE_FIELDS``."""
    return pa.types.is_struct(t) and t.num_fields == 2 and \
        tuple(t.field(i).name for i in range(2)) == OVERRIDE_FIELDS


def _override_text(arr: pa.Array) -> pa.Array:
    """The text of an ``OVERRIDE_FIELDS`` column: the given text, else the value's."""
    value, text = pc.struct_field(arr, [0]), pc.struct_field(arr, [1])
    if _is_text(value.type):
        s = value.cast(pa.string())
    else:
        s, suffix = _text_parts(value)
        if suffix:
            s = pc.binary_join_element_wise(s, suffix, "")
    return pc.if_else(pc.is_valid(text), text.cast(pa.string()), s)


def value_text(arr: pa.Array) -> pa.Array:
    """Numbers, bools, dates, timestamps as text, exactly as pyarrow's CSVWriter writes them.

    UTC timestamps are formatted as naive ones plus ``Z`` — the same text — because Arrow's
    time-zone-aware formatting costs about 3 µs a value against 0.1 µs (45× slower)."""
    text, suffix = _text_parts(arr)
    return pc.binary_join_element_wise(text, suffix, "") if suffix else text


def _has_byte(s: pa.Array, chars: str) -> bool:
    """Whether any value of a string array contains one of ``chars`` (ASCII): one scan of the data
    buffer — much cheaper than a string kernel per value."""
    data = s.buffers()[2]
    if data is None or len(s) == 0:
        return False
    offsets = np.frombuffer(s.buffers()[1], dtype=np.int32, count=len(s) + 1, offset=s.offset * 4)
    view = np.frombuffer(data, dtype=np.uint8, count=int(offsets[-1]) - int(offsets[0]), offset=int(offsets[0]))
    return any(bool((view == ord(ch)).any()) for ch in chars)


def _escape(s: pa.Array) -> pa.Array:
    """Double the quotes inside text values (a scan first: most columns have none)."""
    return pc.replace_substring(s, '"', '""') if _has_byte(s, '"') else s


def _constant(text: str, n: int) -> pa.Array:
    """``n`` copies of ``text`` as a string array, built from two numpy buffers."""
    b = text.encode("utf-8")
    offsets = np.arange(0, len(b) * (n + 1), len(b), dtype=np.int32) if b else np.zeros(n + 1, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(b * n))


def render_rows(batch: pa.RecordBatch, d: Dialect) -> pa.Buffer:
    """The rows of ``batch`` in dialect ``d`` (UTF-8), vectorised: every quoting style.

    Each column becomes text (Arrow's casts: the texts pyarrow's CSVWriter writes), and one
    ``binary_join_element_wise`` call lays out whole lines: delimiters, the quotes of columns
    quoted in every row, a timestamp's ``Z`` and the line terminator are literal pieces of that
    join, not passes over the data. Columns with nulls, and ``needed``-quoted ones, are quoted
    per value first. The lines come back as the joined array's data buffer, without a copy."""
    n = batch.num_rows
    if n == 0:
        return pa.py_buffer(b"")
    q = d.quoting
    args: list = []
    lit = ""

    def piece(arr: pa.Array, before: str, after: str) -> None:
        nonlocal lit
        lit += before
        if lit:
            args.append(lit)
        args.append(arr)
        lit = after

    last = batch.num_columns - 1
    owed = False  # the previous column's text already ends with the delimiter
    for i, arr in enumerate(batch.columns):
        if i and not owed:
            lit += d.delimiter
        owed = False
        if (arr.type == pa.float64() and q != "all" and not arr.null_count and d.delimiter == "," and i < last):
            piece(float64_text(arr, comma=True), "", "")
            owed = True
            continue
        if is_override(arr.type):
            # the text of a typed value, or any text in its place: quoted only where needed
            s, suffix = _override_text(arr), ""
            mode = {"none": "bare", "all": "quoted"}.get(q, "needed")
        elif _is_text(arr.type):
            s, suffix = (arr if arr.type == pa.string() else arr.cast(pa.string())), ""
            mode = {"none": "bare", "needed": "needed"}.get(q, "quoted")
        else:
            s, suffix = _text_parts(arr)
            mode = "quoted" if q == "all" else "bare"
        if mode == "needed":
            needs = _needs_quotes(s, d)
            s = _escape(s)  # a value with a quote needs quotes anyway
            if pc.any(needs).as_py():
                s = pc.if_else(needs, pc.binary_join_element_wise('"', s, '"', ""), s)
            piece(pc.fill_null(s, d.null) if s.null_count else s, "", "")
        elif mode == "quoted":
            if suffix == "" and (_is_text(arr.type) or is_override(arr.type)):
                s = _escape(s)
            if s.null_count:  # a null is the bare marker: quote value by value
                piece(pc.fill_null(pc.binary_join_element_wise('"', s, suffix + '"', ""), d.null), "", "")
            else:
                piece(s, '"', suffix + '"')
        elif s.null_count:
            piece(pc.fill_null(pc.binary_join_element_wise(s, suffix, "") if suffix else s, d.null), "", "")
        else:
            piece(s, "", suffix)
    args.append(lit + d.line_terminator)
    # literal pieces as constant arrays: Arrow joins arrays-only arguments on a fast path,
    # about twice as fast as with scalars among them
    lines = pc.binary_join_element_wise(*[_constant(a, n) if isinstance(a, str) else a for a in args], "")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=2, offset=lines.offset * 4)
    last = int(np.frombuffer(lines.buffers()[1], dtype=np.int32, count=1, offset=(lines.offset + n) * 4)[0])
    return lines.buffers()[2].slice(int(offsets[0]), last - int(offsets[0]))


def _check_unquoted(names: list[str], batch: pa.RecordBatch | None, path: Path, d: Dialect) -> None:
    """quoting=none: name the first value that would need quotes (instead of pyarrow's bare error)."""
    for name in names:
        if any(ch in name for ch in _specials(d)):
            raise CsvWriteError(f"{path.name}: quoting=none cannot write the column name {name!r} (it contains the "
                                "delimiter, a quote or a line break); use quoting=strings or quoting=needed")
    if batch is None:
        return
    for name, arr in zip(batch.schema.names, batch.columns, strict=True):
        if is_override(arr.type):
            arr = _override_text(arr)
        elif not _is_text(arr.type):
            continue
        bad = None
        for ch in _specials(d):
            m = pc.match_substring(arr, ch)
            bad = m if bad is None else pc.or_(bad, m)
        if pc.any(bad).as_py():
            i = pc.index(bad, True).as_py()
            raise CsvWriteError(
                f"{path.name}: quoting=none cannot write column {name}'s value {arr[i].as_py()!r} (it contains the "
                "delimiter, a quote or a line break); use quoting=strings or quoting=needed")


class Renderer:
    """``renderer(batch)`` → the CSV text of the batch's rows (UTF-8, before encoding and
    compression) in one dialect: a pure function of the rows, picklable, so another process can
    run it (``CsvWriter.write_rendered`` takes the result)."""

    def __init__(self, schema: pa.Schema, dialect: Dialect, path: Path):
        self.schema = schema
        self.dialect = dialect
        self.path = path

    def __call__(self, batch: pa.RecordBatch) -> pa.Buffer:
        if not batch.schema.equals(self.schema):
            batch = batch.cast(self.schema)
        if self.dialect.quoting == "none":
            _check_unquoted([], batch, self.path, self.dialect)
        return render_rows(batch, self.dialect)


class CsvWriter:
    """Write record batches of one schema into ``path`` in ``dialect``, compressed as asked.

    ``write_batch(batch)`` for each batch in order, then ``close()`` (returns ``path``); on failure
    ``abort()`` removes the partial file. Raises ``CsvWriteError`` for data the dialect cannot
    write (quoting=none and a value that needs quotes, a character the encoding lacks).

    The text of a batch is ``renderer(batch)`` — a pure function of its rows, so it can be
    computed anywhere (another process) and handed to ``write_rendered``. ``raw``: an already open binary
    file to write into instead of creating ``path`` (e.g. one that hashes what it is given).
    """

    def __init__(self, path: str | Path, schema: pa.Schema, dialect: Dialect = DEFAULT_DIALECT,
                 compression: str = "none", raw=None):
        CsvOptions(dialect, compression)  # validates the compression
        self.path = Path(path)
        self.schema = schema
        self.dialect = dialect
        if dialect.quoting == "none":
            _check_unquoted(schema.names, None, self.path, dialect)
        self.renderer = Renderer(schema, dialect, self.path)
        self._out = OutputChain(self.path, dialect.encoding, compression, raw=raw)
        try:
            if dialect.header:
                self._out.write(render_header(schema.names, dialect, quote_all=dialect.quoting in ("strings", "all")))
        except BaseException:
            self._out.abort()
            raise

    def write_rendered(self, text) -> None:
        """Append text ``renderer`` produced (any buffer)."""
        self._out.write(text)

    def write_batch(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self._out.write(self.renderer(batch))

    def write_table(self, table: pa.Table) -> None:
        for batch in table.to_batches():
            self.write_batch(batch)

    def close(self) -> Path:
        self._out.close()
        return self.path

    def abort(self) -> None:
        self._out.abort()

    def __enter__(self) -> CsvWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_csv(data: pa.Table | pa.RecordBatch, path: str | Path, dialect: Dialect = DEFAULT_DIALECT,
              compression: str = "none") -> Path:
    """Write a whole table (or batch) in one call; returns the path."""
    table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    with CsvWriter(path, table.schema, dialect, compression) as w:
        w.write_table(table)
    return w.path
