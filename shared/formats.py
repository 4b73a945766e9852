"""The output-format extension point: the interface every format frontend implements.

shared/ knows no format; each frontend in ``generators/`` defines a ``Format`` and registers it
under the name users pass to ``--format`` (``FORMATS.register("parquet")``). The library
functions in ``shared.api`` drive it:

* ``open_writer(out_dir, table, arrow_schema, options)`` → a ``Writer``: ``write_batch(batch)``
  for each block in order, then ``close()`` returning the files written (paths relative to
  ``out_dir``); ``abort()`` on failure.
* optionally, ``part_spans(table, rows, options)`` → row ranges written as independent files, each
  a pure function of its rows (Parquet's ``part-NNNNN.parquet``); then ``write_part(...)`` writes
  one of them from its batches, possibly in a worker process, and nothing of that table goes
  through ``open_writer``. The parts do not depend on the worker count, so neither do the bytes.
* a writer may offer ``renderer`` — a picklable, pure ``renderer(batch)`` → bytes-like — and
  ``write_rendered(text, rows)``; with ``--workers N`` the workers then render the blocks (CSV,
  JSON text) and the main process only writes the text, in order.
* writers and ``write_part`` may return ``Written`` (path, size, SHA-256 computed while writing)
  instead of a bare path, which spares the manifest a second read of the file.
* ``bytes_per_value(kind)`` (rough average on-disk width per value, for ``describe``'s estimate).
* for ``validate``: ``read_table(out_dir, table, schema)`` → a ``pyarrow.Table`` read back from the
  artifacts, ``artifacts(out_dir, table)`` the files expected, and ``extra_checks(...)`` for
  format-aware checks (SQLite's ``PRAGMA foreign_key_check``, a second Parquet reader …).
  ``read_batches(...)`` streams the table as record batches (``validate`` holds one at a time;
  the default reads the whole table) and ``count_rows(...)`` tells the rows without decoding a
  value where a small file can hold very many rows (Parquet's footers), so a table whose
  artifacts hold another row count than the plan is refused before anything is decoded;
  ``stop_past_plan`` makes ``validate`` stop reading such a format's table past the plan's rows.
* a database target (``stores_tables``) keeps its tables outside ``--out`` (which still gets the
  manifest and the report): ``table_present(out_dir, table)`` says why a table is not there (None:
  it is) instead of ``artifacts``; ``abort_run(options)`` releases what ``prepare`` opened when a
  run fails between tables; ``flag_options`` maps the command line's target flags (``--target``,
  ``--mode`` …) to the format's option keys (a flag a format does not list is refused).
* for a table with ``partition_by`` (formats that write folders): the Hive-style layout of
  ``shared.io.partition``, and ``read_partitions(out_dir, table, schema, columns)`` → the folders
  with a reader of each one's rows, which ``validate`` merges back into row order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from shared.registry import Registry


@dataclass(frozen=True)
class Written:
    """A file a writer produced: its path relative to the output folder, size and SHA-256."""

    path: Path
    bytes: int
    sha256: str


class Writer(Protocol):
    def write_batch(self, batch: pa.RecordBatch) -> None: ...
    def close(self) -> list[Path | Written]: ...
    def abort(self) -> None: ...


@dataclass(frozen=True)
class RunInfo:
    """What a format may know of the run it writes (instead of magic option keys): the resolved
    seed and profile, the schema's identity, the tool version and the worker count."""

    seed: int
    profile: str
    schema_name: str
    schema_sha256: str
    tool_version: str
    workers: int = 1
    #: the output folder the run replaces (absolute), e.g. to refuse a target inside it
    out: str = ""


class Format:
    name: str = ""
    #: other ``--format`` names of this format (``events`` for ``event_stream``)
    aliases: tuple[str, ...] = ()
    #: ``--option`` keys with a one-line description (default and values), shown by ``--help``
    option_help: dict[str, str] = {}
    #: rough bytes per value by kind, for describe's size estimate
    widths: dict[str, float] = {}
    default_width: float = 8.0
    #: bytes each row costs beyond its values (an event envelope, JSON braces …)
    row_overhead: float = 0.0
    #: a small artifact can expand to very many rows (compression, run-length encodings), so
    #: ``validate`` stops reading a table at the first batch past the plan's rows
    stop_past_plan: bool = False
    #: the format writes values as text (CSV, JSON): the dirty profile's text-only kinds apply
    #: (``N/A`` in a number column). A column they touch reaches ``write_batch`` and the renderer
    #: as a struct ``{value, text}`` (``shared.corruption.TEXT_FIELDS``): write ``text`` where it
    #: is not null, else the value; ``validate`` then asks ``read_batches`` for that column as
    #: ``string`` (every value's text as written) and parses it itself.
    renders_text: bool = False
    #: the tables live in a database, not in files under ``--out``
    stores_tables: bool = False
    #: command-line flag (``target``, ``db_schema``, ``mode``, ``atomic``, ``defer_constraints``)
    #: → the ``--option`` key it sets for this format
    flag_options: dict[str, str] = {}

    def open_writer(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any],
                    run: RunInfo | None = None) -> Writer:
        raise NotImplementedError

    def check_options(self, opts: dict[str, str]) -> dict[str, Any]:
        """``--option`` strings → the format's settings (they land in the manifest); raises
        ``UsageError`` for an unknown key or a bad value, before anything is written."""
        check_known_options(opts, self.option_help, self.name)
        return dict(opts)

    def for_reading(self, options: dict[str, Any]) -> Format:
        """The format as ``validate`` reads with it, given the checked ``--option`` values (SQLite's
        ``database=PATH``: a database outside ``--out`` is opened only when asked for like this,
        never because a manifest names it). Default: itself."""
        return self

    def variant(self, name: str) -> Format:
        """The Format that ``--format name`` means (``name`` is this format's name or an alias)."""
        return self

    def prepare(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> None:
        """Called once before any table is written: check everything that can fail early
        (e.g. an existing database's compatibility), so a bad target fails before a byte."""

    def abort_run(self, options: dict[str, Any]) -> None:
        """Called when a run fails or is interrupted after ``prepare``: release what it opened (a
        database connection and its transaction). Default: nothing."""

    def table_present(self, out_dir: Path, table) -> str | None:
        """For ``stores_tables`` formats: None when the table is there, else why not."""
        return None

    def manifest_extra(self, out_dir: Path, options: dict[str, Any]) -> dict[str, Any]:
        """Keys this format adds to ``manifest.json`` (called after ``finish``)."""
        return {}

    def finish(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> list[Path]:
        """Called once after every table is written (e.g. to merge an event stream); the files it
        adds. ``manifest_extra`` is asked next for keys to add to the manifest."""
        return []

    def part_spans(self, table, rows: int, options: dict[str, Any]) -> list[tuple[int, int]] | None:
        """Row ranges ``[start, stop)`` written as independent files (``write_part``), covering the
        table in order; ``None`` (the default): the table is one stream through ``open_writer``."""
        return None

    def write_part(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any], index: int,
                   batches: Iterable[pa.RecordBatch], run: RunInfo | None = None) -> Written | list[Written]:
        """Write part ``index`` of ``part_spans`` from its batches (in row order); a table with
        ``partition_by`` may return a list (a file per folder, ``shared.io.partition``)."""
        raise NotImplementedError

    def part_batch_rows(self, options: dict[str, Any]) -> int | None:
        """Rows per batch ``write_part`` would like (e.g. one Parquet row group); ``None``: the
        plan's block size. Values never depend on it, only the cost of writing does."""
        return None

    def bytes_per_value(self, kind: str) -> float:
        return self.widths.get(kind, self.default_width)

    def read_table(self, out_dir: Path, table, arrow_schema: pa.Schema) -> pa.Table:
        raise NotImplementedError

    def read_batches(self, out_dir: Path, table, arrow_schema: pa.Schema,
                     columns: list[str] | None = None) -> pa.RecordBatchReader:
        """The table read back as a stream of record batches (only ``columns`` when given: those
        of them the artifacts have). Reading errors may surface while iterating. Default: the
        whole ``read_table``, so memory is bounded only where a format streams."""
        data = self.read_table(out_dir, table, arrow_schema)
        if columns is not None:
            data = data.select([c for c in columns if c in set(data.column_names)])
        return pa.RecordBatchReader.from_batches(data.schema, data.to_batches())

    def count_rows(self, out_dir: Path, table) -> int | None:
        """The rows the table's artifacts hold, from their metadata without decoding a value;
        ``None`` (the default) when the format cannot tell that cheaply."""
        return None

    def artifacts(self, out_dir: Path, table) -> list[Path]:
        raise NotImplementedError

    def extra_checks(self, out_dir: Path, schema, plan) -> list[dict]:
        return []


FORMATS: Registry[Format] = Registry("format")


def int_option(opts: dict[str, Any], key: str, default: int, minimum: int = 0, maximum: int = 2**62) -> int:
    """A whole-number ``--option KEY=VALUE`` (``_`` separators allowed) in ``[minimum, maximum]``,
    checked before anything starts (a value past what the writers take failed inside a worker)."""
    from shared.errors import UsageError

    v = opts.get(key, default)
    try:
        n = int(str(v).replace("_", ""))
    except ValueError:
        raise UsageError(f"--option {key}={v}: not a whole number") from None
    if n < minimum:
        raise UsageError(f"--option {key}={v}: must be at least {minimum}")
    if n > maximum:
        raise UsageError(f"--option {key}={v}: must be at most {maximum:,}")
    return n


#: alias → format name (``events`` → ``event_stream``)
ALIASES: dict[str, str] = {}


def register(name: str):
    """Class decorator: instantiate a Format and register it under ``name`` (and its aliases)."""

    def deco(cls: type[Format]) -> type[Format]:
        cls.name = name
        FORMATS.add(name, cls())
        for a in cls.aliases:
            ALIASES[a] = name
        return cls

    return deco


def format_names() -> list[str]:
    """Every ``--format`` name, aliases included (imports no format module)."""
    from shared.plugins import FORMAT_MODULES, load_plugins

    load_plugins()
    for name, module in FORMAT_MODULES.items():
        FORMATS.add_lazy(name, module)
    return sorted(set(FORMATS) | set(ALIASES))


def get_format(name: str) -> Format:
    """The Format for ``--format name``, its module imported on first use; an unknown name is a
    ``UsageError`` with the closest name and the list."""
    from shared.errors import UsageError
    from shared.registry import did_you_mean

    names = format_names()
    target = ALIASES.get(name, name)
    if target not in FORMATS:
        hint = did_you_mean(name, names)
        raise UsageError(f"--format {name}: unknown format{f' ({hint})' if hint else ''}; formats: {', '.join(names)}")
    return FORMATS[target].variant(name)


def check_known_options(opts: dict[str, Any], known, label: str) -> None:
    """Refuse any ``--option`` key this format does not know, listing the ones it does."""
    from shared.errors import UsageError

    names = sorted(known)
    for k in opts:
        if k not in known:
            raise UsageError(f"--option {k}: unknown {label} option (known: {', '.join(names)})")


def choice_option(opts: dict[str, Any], key: str, choices, default: str) -> str:
    """A ``--option KEY=VALUE`` that must be one of ``choices`` (case and spaces ignored)."""
    from shared.errors import UsageError

    value = str(opts.get(key, default)).strip().lower()
    if value not in choices:
        raise UsageError(f"--option {key}={opts.get(key)}: one of {', '.join(choices)}")
    return value
