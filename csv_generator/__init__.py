"""CSV for datagen: the one place that knows how a CSV file is spelled, written and read back.

Built only on pyarrow (and the stdlib's gzip/codecs, zstandard): it takes the engine's Arrow
record batches and knows nothing of schemas, plans or the CLI — the frontend in
``generators/csv_generator`` maps ``--option KEY=VALUE`` onto it.

    >>> from csv_generator import Dialect, CsvWriter, read_csv
    >>> d = Dialect(delimiter=";", quoting="needed")
    >>> with CsvWriter("people.csv.gz", schema, d, compression="gzip") as w:   # doctest: +SKIP
    ...     for batch in batches:
    ...         w.write_batch(batch)
    >>> table = read_csv("people.csv.gz", schema, d)                          # doctest: +SKIP

Text forms (what ``pyarrow.csv.CSVWriter`` writes too; ``read_csv`` reads each back
to the identical value): ints and decimals plain (``123.45``, never an exponent), floats in the
shortest form that round-trips (``0.1``, ``1e-7``), bools ``true``/``false``, dates
``YYYY-MM-DD``, timestamps ``YYYY-MM-DD HH:MM:SS.ffffffZ`` (ISO 8601 / RFC 3339 UTC with a space
separator and always six fractional digits), uuids in canonical 36-character form.

Null vs empty string: a null is the null marker (default: nothing) unquoted; an empty string is
``""``. Every quoting style but ``none`` keeps them apart.

Modules: ``dialect`` (``Dialect``, ``CsvOptions``, ``parse_options``, the sidecar),
``writer`` (``CsvWriter``, ``Renderer``, ``write_csv``), ``reader`` (``read_csv``, ``open_csv``), ``streams`` (encoding,
re-chunking, compression), ``errors``. The user-facing description is ``docs/formats/csv.md``.
"""

from csv_generator.dialect import (
    COMPRESSIONS,
    DEFAULT_DIALECT,
    ENCODINGS,
    OPTION_KEYS,
    QUOTING,
    SIDECAR,
    CsvOptions,
    Dialect,
    compression_of,
    file_name,
    load_options,
    parse_options,
    save_options,
)
from csv_generator.errors import CsvError, CsvWriteError, DialectError
from csv_generator.reader import open_csv, read_csv
from csv_generator.writer import CsvWriter, Renderer, write_csv

__all__ = [
    "COMPRESSIONS", "DEFAULT_DIALECT", "ENCODINGS", "OPTION_KEYS", "QUOTING", "SIDECAR", "CsvOptions", "Dialect",
    "compression_of", "file_name", "load_options", "parse_options", "save_options", "CsvError", "CsvWriteError",
    "DialectError", "open_csv", "read_csv", "CsvWriter", "Renderer", "write_csv",
]
