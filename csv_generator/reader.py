"""``read_csv``: one CSV file back into Arrow, with the exact types of the schema.

pyarrow's reader does the work, told everything instead of guessing:

* ``column_types`` from the Arrow schema, so int8 stays int8, decimal(12,2) stays decimal and
  ``2024-01-02 03:04:05.123456Z`` becomes ``timestamp[us, tz=UTC]`` again;
* ``null_values=[dialect.null]`` with ``strings_can_be_null=True`` and
  ``quoted_strings_can_be_null=False``: an unquoted null marker is null, a quoted ``""`` is the
  empty string;
* ``true``/``false`` only for bools; ``newlines_in_values`` (quoted line breaks) and
  ``ignore_empty_lines=False`` (a one-column row holding a null is an empty line);
* without a header, the schema's names as ``column_names``; an empty file is an empty table.

Compression follows the file name (``.gz``, ``.zst``) and is decoded by Arrow's own codecs.
Columns in the file but not in the schema are read with inferred types (``validate`` reports them).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from csv_generator.dialect import DEFAULT_DIALECT, Dialect, compression_of

#: our encoding name -> the name pyarrow's reader gets (pyarrow skips a UTF-8 BOM by itself)
_READ_ENCODING = {"utf-8": "utf8", "utf-8-sig": "utf8", "latin-1": "latin-1", "utf-16": "utf-16"}
_ARROW_CODEC = {"gzip": "gzip", "zstd": "zstd"}


def _options(arrow_schema: pa.Schema, d: Dialect):
    read_opts = pacsv.ReadOptions(encoding=_READ_ENCODING[d.encoding],
                                  column_names=None if d.header else list(arrow_schema.names))
    parse_opts = pacsv.ParseOptions(delimiter=d.delimiter, quote_char='"', double_quote=True, escape_char=False,
                                    newlines_in_values=True, ignore_empty_lines=False)
    convert_opts = pacsv.ConvertOptions(
        column_types={f.name: f.type for f in arrow_schema}, null_values=[d.null], strings_can_be_null=True,
        quoted_strings_can_be_null=False, true_values=["true"], false_values=["false"], check_utf8=True)
    return read_opts, parse_opts, convert_opts


def read_csv(path: str | Path, arrow_schema: pa.Schema, dialect: Dialect = DEFAULT_DIALECT, *,
             compression: str | None = None) -> pa.Table:
    """Read ``path`` (compression from its suffix unless given) as ``arrow_schema`` in ``dialect``."""
    comp = compression or compression_of(path)
    read_opts, parse_opts, convert_opts = _options(arrow_schema, dialect)
    stream = pa.input_stream(str(path), compression=_ARROW_CODEC.get(comp))
    try:
        return pacsv.read_csv(stream, read_options=read_opts, parse_options=parse_opts, convert_options=convert_opts)
    except pa.ArrowInvalid as exc:
        if not dialect.header and str(exc).startswith("Empty CSV file"):
            return arrow_schema.empty_table()
        raise
    finally:
        stream.close()


def open_csv(path: str | Path, arrow_schema: pa.Schema, dialect: Dialect = DEFAULT_DIALECT, *,
             compression: str | None = None) -> pa.RecordBatchReader:
    """``read_csv`` as a stream of record batches (Arrow's streaming reader, one block at a
    time), for reading back a file of any size in bounded memory. Columns the schema does not
    name have their type inferred from the first block."""
    comp = compression or compression_of(path)
    read_opts, parse_opts, convert_opts = _options(arrow_schema, dialect)
    stream = pa.input_stream(str(path), compression=_ARROW_CODEC.get(comp))
    try:
        reader = pacsv.open_csv(stream, read_options=read_opts, parse_options=parse_opts,
                                convert_options=convert_opts)
    except pa.ArrowInvalid as exc:
        stream.close()
        if not dialect.header and str(exc).startswith("Empty CSV file"):
            return pa.RecordBatchReader.from_batches(arrow_schema, iter(()))
        raise
    except BaseException:
        stream.close()
        raise

    def batches():
        try:
            yield from reader
        finally:
            stream.close()

    return pa.RecordBatchReader.from_batches(reader.schema, batches())
