"""JSON and NDJSON output: ``<table>.json`` (one JSON array of objects) and ``<table>.ndjson``.

Both formats share one writer. Every row is one JSON object on one line, keys in column order,
every key present (``null`` for nulls); the value forms are those of ``encode.py`` and
``docs/formats/json.md``. The array form is laid out line by line too::

    [
    {"id":1,…},
    {"id":2,…}
    ]

so it is valid JSON *and* can be read back as fast as NDJSON (strip the brackets and the
line-final commas). An empty table is ``[\\n]\\n`` (json) or an empty file (ndjson).

Streaming: each batch is rendered to JSON text with Arrow compute (no per-row Python) and
written at once, so memory is bounded by one batch. The bytes never depend on the batch
boundaries: each row carries its own separator, and compressed streams are fed in fixed-size
chunks.

Options (``--option KEY=VALUE``): ``decimals`` (string | number; default string: ``"12.50"``
keeps every digit whatever the reader), ``compression`` (none | gzip | zstd; default none;
``<table>.ndjson.gz`` / ``.zst``; gzip with mtime 0 and no file name, so the bytes are
deterministic).
"""

from __future__ import annotations

import contextlib
import gzip
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import zstandard

from generators.common.json_encode import data_buffer, key_literals, quote_values, rows_json, text_keys
from generators.common.nested_text import read_type
from shared.formats import FORMATS, Format, RunInfo, Written, check_known_options, choice_option, register
from shared.io.output import HashingFile

DECIMALS = ("string", "number")
#: compression → file name suffix
COMPRESSIONS = {"none": "", "gzip": ".gz", "zstd": ".zst"}
GZIP_LEVEL = 6
ZSTD_LEVEL = 3
#: rows rendered at a time (bounds the JSON text held in memory whatever --block-rows is)
ENCODE_ROWS = 65_536
#: compressors are fed exactly this many bytes at a time, so their output cannot depend on
#: where the batches happened to end
FEED_BYTES = 1 << 20
#: bytes of decompressed text parsed at a time when reading back
READ_BYTES = 16 << 20


# --- writing ----------------------------------------------------------------------------------


class _FixedFeed:
    """Pass bytes on to ``sink`` in chunks of exactly ``size`` bytes (the last one shorter)."""

    def __init__(self, sink, size: int = FEED_BYTES):
        self.sink = sink
        self.size = size
        self.buf = bytearray()

    def write(self, data) -> None:
        self.buf += data
        if len(self.buf) >= self.size:
            mv = memoryview(self.buf)
            n = len(self.buf) // self.size * self.size
            for i in range(0, n, self.size):
                self.sink.write(mv[i:i + self.size])
            mv.release()
            del self.buf[:n]

    def flush(self) -> None:
        if self.buf:
            self.sink.write(bytes(self.buf))
            self.buf.clear()


class _Renderer:
    """A batch's rows as JSON text, each row with its own separator (picklable: with
    ``--workers N`` it runs in the workers, and ``JsonWriter.write_rendered`` takes the text)."""

    def __init__(self, lits: list[str], decimals: str):
        self.lits = lits
        self.decimals = decimals

    def __call__(self, batch: pa.RecordBatch):
        pieces = [data_buffer(rows_json(batch.slice(s, ENCODE_ROWS), self.lits, decimals=self.decimals))
                  for s in range(0, batch.num_rows, ENCODE_ROWS)]
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)


class JsonWriter:
    """Streams one table to ``<table>.<ext>[.gz|.zst]`` (``ext`` json or ndjson); the file is
    written and hashed by a background thread."""

    def __init__(self, out_dir: Path, table, schema: pa.Schema, options: dict[str, Any], *, array: bool):
        self.out_dir = out_dir
        self.array = array
        self.decimals = options["decimals"]
        self.path = out_dir / (table.name + (".json" if array else ".ndjson") + COMPRESSIONS[options["compression"]])
        self._raw: HashingFile | None = HashingFile(self.path, background=True)  # closed in close() / abort()
        self._compressor = None
        if options["compression"] == "gzip":
            self._compressor = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0,
                                             compresslevel=GZIP_LEVEL)
        elif options["compression"] == "zstd":
            self._compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(self._raw, closefd=False)
        self._out = _FixedFeed(self._compressor) if self._compressor is not None else self._raw
        # json: every row is written as ",\n{…}"; the file's first row swaps its ",\n" for "[\n"
        self._lits = key_literals(schema.names, ",\n" if array else "", "" if array else "\n")
        self.renderer = _Renderer(self._lits, self.decimals)
        self.rows = 0

    def write_batch(self, batch: pa.RecordBatch) -> None:
        for start in range(0, batch.num_rows, ENCODE_ROWS):
            part = batch.slice(start, ENCODE_ROWS)
            self.write_rendered(data_buffer(rows_json(part, self._lits, decimals=self.decimals)), part.num_rows)

    def write_rendered(self, text, rows: int) -> None:
        """Append the text ``renderer`` made of ``rows`` rows."""
        if not rows:
            return
        if self.array and self.rows == 0:
            self._out.write(b"[\n")
            text = memoryview(text)[2:]  # the file's first row: "[\n" instead of ",\n"
        self._out.write(text)
        self.rows += rows

    def close(self) -> list[Path]:
        if self.array:
            self._out.write(b"\n]\n" if self.rows else b"[\n]\n")
        if self._compressor is not None:
            self._out.flush()
            self._compressor.close()
        raw, self._raw = self._raw, None
        raw.close()
        return [Written(self.path.relative_to(self.out_dir), raw.size, raw.hexdigest())]

    def abort(self) -> None:
        if self._raw is not None:
            # the run already failed; its exception is the one to report, and the file goes
            with contextlib.suppress(Exception):
                if self._compressor is not None:
                    self._compressor.close()
            with contextlib.suppress(Exception):
                self._raw.close()
            self._raw = None
            self.path.unlink(missing_ok=True)


# --- reading ----------------------------------------------------------------------------------


class JsonLayoutError(ValueError):
    """The file is not laid out as datagen writes it (one object per line)."""


def _decompressed_chunks(path: Path, size: int = READ_BYTES):
    """The file's (decompressed) bytes in pieces; a truncated compressed stream raises."""
    name = path.name
    with open(path, "rb") as f:
        if name.endswith(".gz"):
            with gzip.GzipFile(fileobj=f, mode="rb") as gz:  # raises EOFError when truncated
                while chunk := gz.read(size):
                    yield chunk
        elif name.endswith(".zst"):
            dobj = zstandard.ZstdDecompressor().decompressobj()
            while raw := f.read(size):
                if dobj.eof:
                    raise JsonLayoutError(f"{name}: data after the end of the zstd frame")
                if out := dobj.decompress(raw):
                    yield out
            if not dobj.eof:
                raise JsonLayoutError(f"{name}: truncated zstd stream")
            if dobj.unused_data:
                raise JsonLayoutError(f"{name}: data after the end of the zstd frame")
        else:
            while chunk := f.read(size):
                yield chunk


def _line_chunks(chunks):
    """Re-cut byte pieces at line ends: yields ``(piece, is_last)``, each piece whole lines
    (a writable ``bytearray``; the last piece may lack its final newline)."""
    carry = bytearray()
    pending = None
    for chunk in chunks:
        carry += chunk
        cut = carry.rfind(b"\n") + 1
        if cut:
            if pending is not None:
                yield pending, False
            pending, carry = carry[:cut], carry[cut:]
    if carry:
        if pending is not None:
            yield pending, False
        pending = carry
    if pending is not None:
        yield pending, True


class _ArrayLayout:
    """Checks the array layout ("[", "{…},", …, "{…}", "]") piece by piece and turns each piece
    into NDJSON in place: the line-final commas become spaces.

    A JSON string cannot hold a raw newline, so the byte before each newline ends a line; the
    checks look only at those bytes (numpy, no per-row Python).
    """

    def __init__(self, name: str):
        self.name = name
        self.first = True
        self.ended = False
        self.rows = 0

    def fail(self, what: str):
        raise JsonLayoutError(f"{self.name}: {what}")

    def piece(self, buf: np.ndarray, last: bool) -> tuple[np.ndarray, np.ndarray]:
        if self.first:
            if bytes(buf[:2]) != b"[\n":
                self.fail("expected '[' alone on the first line")
            buf, self.first = buf[2:], False
        if last:
            if not (bytes(buf) == b"]\n" or bytes(buf[-3:]) == b"\n]\n"):
                self.fail("expected ']' alone on the last line")
            buf = buf[:-2]
        if len(buf) and buf[-1] != 0x0A:
            self.fail("expected one object per line")  # text after the last newline
        ends = np.flatnonzero(buf == 0x0A)
        if not len(ends):
            return buf, ends
        if self.ended:
            self.fail("rows after the last object (which has no ',')")
        starts = np.concatenate(([0], ends[:-1] + 1))
        if (ends - starts < 2).any():
            self.fail("an empty line")
        tail, before = buf[ends - 1], buf[ends - 2]
        comma = tail == 0x2C
        closed = np.where(comma, before, tail) == 0x7D
        if not closed.all():
            self.fail(f"line {self.rows + 2 + int(np.argmin(closed))} is not one object followed by ','")
        if not comma[:-1].all():
            self.fail(f"line {self.rows + 2 + int(np.argmin(comma))}: missing ',' between objects")
        self.ended = not comma[-1]
        buf[ends[comma] - 1] = 0x20  # "},\n" → "} \n": one object per line, as NDJSON
        self.rows += len(ends)
        return buf, ends

    def done(self) -> None:
        if self.first:
            self.fail("empty file (expected a JSON array)")
        if self.rows and not self.ended:
            self.fail("the last object is followed by ','")


def _read_schema(schema: pa.Schema) -> pa.Schema:
    """What the JSON reader parses directly; dates are read as strings and cast afterwards."""
    return pa.schema([pa.field(f.name, read_type(f.type)) for f in schema])


def _parse(buf: np.ndarray, ends: np.ndarray, read_schema: pa.Schema) -> pa.Table:
    # each block of the reader must hold whole lines: size the blocks by the longest line
    longest = int(np.diff(ends, prepend=-1).max()) if len(ends) else 0
    longest = max(longest, len(buf) - (int(ends[-1]) + 1 if len(ends) else 0))
    opts = pj.ReadOptions(block_size=max(4 << 20, longest + 2))
    parse = pj.ParseOptions(explicit_schema=read_schema, unexpected_field_behavior="error")
    return pj.read_json(pa.BufferReader(pa.py_buffer(buf)), read_options=opts, parse_options=parse)


def read_json_file(path: Path, schema: pa.Schema, *, array: bool) -> pa.Table:
    """Read a datagen JSON/NDJSON file back into ``schema``'s Arrow types (vectorised).

    The (decompressed) text is parsed in pieces of whole lines by ``pyarrow.json`` with an
    explicit schema; unknown keys, values of the wrong JSON type and broken lines raise.
    """
    parts = list(iter_json_file(path, schema, array=array))
    return pa.concat_tables(parts) if parts else schema.empty_table()


def iter_json_file(path: Path, schema: pa.Schema, *, array: bool, as_text: list[str] | None = None):
    """``read_json_file`` piece by piece: a table per ``READ_BYTES`` of text, so memory holds
    one piece whatever the file's size (the layout is checked as the pieces pass). ``as_text``:
    keys whose values are read as their text (numbers too: ``quote_values``); ``schema`` has
    ``string`` for them."""
    read_schema = _read_schema(schema)
    layout = _ArrayLayout(path.name) if array else None
    for piece, last in _line_chunks(_decompressed_chunks(path)):
        buf = np.frombuffer(piece, np.uint8)
        if layout is not None:
            buf, ends = layout.piece(buf, last)
        else:
            ends = np.flatnonzero(buf == 0x0A)
        if as_text and len(buf):
            buf = np.frombuffer(quote_values(buf.tobytes(), as_text), np.uint8)
            ends = np.flatnonzero(buf == 0x0A)
        if len(buf):
            data = _parse(buf, ends, read_schema)
            columns = []
            for f in schema:
                col = data.column(f.name)
                if col.type != f.type:
                    col = pc.cast(col, f.type)  # "YYYY-MM-DD" → date32; a bad date raises
                columns.append(col)
            yield pa.Table.from_arrays(columns, schema=schema)
    if layout is not None:
        layout.done()


# --- the formats ------------------------------------------------------------------------------


@register("json")
class JsonFormat(Format):
    """``<table>.json``: one JSON array of objects, one object per line."""

    stop_past_plan = True  # compressed text expands
    renders_text = True
    array = True
    option_help = {
        "decimals": "string (default: exact text) or number",
        "compression": "none (default), gzip or zstd",
    }
    extension = ".json"
    # rough bytes per value, key and punctuation included (key ~8 chars + "":, )
    widths = {"int": 14.0, "float": 30.0, "decimal": 18.0, "bool": 15.0, "string": 26.0, "date": 24.0,
              "timestamp": 41.0, "uuid": 50.0}

    def variant(self, name: str) -> Format:
        """The Format of ``--format name`` (one frontend serves json and ndjson)."""
        return FORMATS[name]

    def check_options(self, opts: dict[str, str]) -> dict[str, Any]:
        known = ("compression", "decimals")
        check_known_options(opts, known, self.name)
        decimals = choice_option(opts, "decimals", DECIMALS, "string")
        comp = choice_option(opts, "compression", COMPRESSIONS, "none")
        return {"decimals": decimals, "compression": comp}

    def open_writer(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any],
                    run: RunInfo | None = None):
        opts = {**self.check_options({}), **{k: v for k, v in options.items() if k in ("decimals", "compression")}}
        return JsonWriter(out_dir, table, arrow_schema, opts, array=self.array)

    def artifacts(self, out_dir: Path, table) -> list[Path]:
        """The table's file: whichever compression variant exists (the plain name if none)."""
        names = [out_dir / (table.name + self.extension + sfx) for sfx in COMPRESSIONS.values()]
        found = [p for p in names if p.is_file()]
        return found or names[:1]

    def read_table(self, out_dir: Path, table, arrow_schema: pa.Schema) -> pa.Table:
        files = [p for p in self.artifacts(out_dir, table) if p.is_file()]
        if not files:
            raise FileNotFoundError(f"no {table.name}{self.extension} in {out_dir}")
        if len(files) > 1:
            raise JsonLayoutError(f"several files for table {table.name}: {', '.join(p.name for p in files)}")
        parts = list(iter_json_file(files[0], arrow_schema, array=self.array, as_text=text_keys(table, arrow_schema)))
        return pa.concat_tables(parts) if parts else arrow_schema.empty_table()

    def read_batches(self, out_dir: Path, table, arrow_schema: pa.Schema,
                     columns: list[str] | None = None) -> pa.RecordBatchReader:
        """A piece of text (``READ_BYTES``) at a time."""
        files = [p for p in self.artifacts(out_dir, table) if p.is_file()]
        if not files:
            raise FileNotFoundError(f"no {table.name}{self.extension} in {out_dir}")
        if len(files) > 1:
            raise JsonLayoutError(f"several files for table {table.name}: {', '.join(p.name for p in files)}")
        keep = arrow_schema.names if columns is None else [n for n in arrow_schema.names if n in set(columns)]
        pieces = iter_json_file(files[0], arrow_schema, array=self.array, as_text=text_keys(table, arrow_schema))
        return pa.RecordBatchReader.from_batches(
            pa.schema([arrow_schema.field(n) for n in keep]),
            (b for piece in pieces for b in piece.select(keep).to_batches()))


@register("ndjson")
class NdjsonFormat(JsonFormat):
    """``<table>.ndjson``: one JSON object per line."""

    array = False
    extension = ".ndjson"
