"""CSV output: one ``<table>.csv`` per table (``.csv.gz`` / ``.csv.zst`` when compressed), header first.

A thin adapter over the ``csv_generator`` package, which holds all CSV knowledge (dialect, text
forms, quoting, encodings, compression, reading back); see ``docs/formats/csv.md``.

Options (``--option KEY=VALUE``): ``delimiter`` (default ``,``; also comma, semicolon, tab,
pipe), ``quoting`` (strings | needed | all | none; default strings), ``header`` (true/false),
``null`` (the null marker, default empty), ``line_terminator`` (lf | crlf), ``encoding``
(utf-8 | utf-8-sig | latin-1 | utf-16), ``compression`` (none | gzip | zstd).

``validate`` has no options, so ``finish()`` records the settings in the sidecar
``csv_dialect.json`` (listed in the manifest); ``read_table`` and ``artifacts`` read it, and
assume the default dialect where there is none (CSV that datagen did not write).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

import csv_generator as csvg
from generators.common.nested_text import (
    NESTED_LAYOUTS,
    from_text,
    has_nested,
    is_nested,
    normalise,
    text_schema,
    to_text,
)
from shared.errors import OutputError, UsageError
from shared.formats import Format, RunInfo, Written, int_option, register
from shared.io import partition
from shared.io.output import HashingFile


@contextlib.contextmanager
def _output_errors():
    """CSV write errors (a value quoting=none cannot write, an unencodable character) → exit 3."""
    try:
        yield
    except csvg.CsvWriteError as exc:
        raise OutputError(str(exc)) from None


def nested_columns(table) -> frozenset[str]:
    """The struct and list columns of a schema table (not their fields)."""
    return frozenset(c.name for c in table.columns if c.dtype.is_nested and c.part_of is None)


class _Renderer:
    """The package's renderer with its errors as datagen's (picklable: it runs in the workers);
    nested columns become JSON text or flattened fields first (``nested_text``)."""

    def __init__(self, inner: csvg.Renderer, layout: str = "json", nested: frozenset[str] = frozenset()):
        self.inner = inner
        self.layout = layout
        self.nested = nested

    def __call__(self, batch: pa.RecordBatch):
        with _output_errors():
            return self.inner(to_text(batch, self.layout, self.nested))


class CsvTableWriter:
    """The shared Writer interface over ``csv_generator.CsvWriter``. The file is written and
    hashed by a background thread while the next block is computed (the manifest needs no
    second read of it)."""

    def __init__(self, out_dir: Path, path: Path, schema: pa.Schema, options: csvg.CsvOptions,
                 background: bool = True, layout: str = "json", nested: frozenset[str] | None = None):
        self.out_dir = out_dir
        self.layout = layout
        # the table's struct and list columns (a text-dirt column arrives as a struct too, of the
        # value and its text, which the CSV writer renders itself)
        self.nested = frozenset(f.name for f in schema if is_nested(f.type)) if nested is None else nested
        schema = text_schema(schema, layout, self.nested)
        self._raw = HashingFile(path, background=background)
        with _output_errors():
            try:
                self._w = csvg.CsvWriter(path, schema, options.dialect, options.compression, raw=self._raw)
            except BaseException:
                self._raw.close()
                path.unlink(missing_ok=True)
                raise
        #: with --workers N the workers run this and the text comes to ``write_rendered``
        self.renderer = _Renderer(self._w.renderer, layout, self.nested)

    def write_rendered(self, text, rows: int) -> None:
        with _output_errors():
            self._w.write_rendered(text)

    def write_batch(self, batch: pa.RecordBatch) -> None:
        with _output_errors():
            self._w.write_batch(to_text(batch, self.layout, self.nested))

    def close(self) -> list[Written]:
        with _output_errors():
            path = self._w.close()
        return [Written(path.relative_to(self.out_dir), self._raw.size, self._raw.hexdigest())]

    def abort(self) -> None:
        self._w.abort()


class PartitionedCsvWriter:
    """A partitioned table (``partition_by``): ``<table>/<folder>/part-00000.csv`` per folder
    (``shared.io.partition``), each a CSV file of the other columns with its rows in order. The
    blocks are split here, so the workers compute batches and this process renders them."""

    def __init__(self, out_dir: Path, table, schema: pa.Schema, options: csvg.CsvOptions, max_partitions: int,
                 layout: str = "json"):
        self.out_dir, self.table, self.options, self.layout = out_dir, table, options, layout
        self.schema = partition.file_schema(schema, table.partition_by)
        self.kinds = {c: table.column(c).dtype.kind for c in table.partition_by}
        self.limit = partition.PartitionLimit(table.name, table.partition_by, max_partitions)
        self.writers: dict[str, CsvTableWriter] = {}

    def write_batch(self, batch: pa.RecordBatch) -> None:
        parts = partition.split(batch, self.table.partition_by, self.kinds)
        self.limit.add(p.folder for p in parts)
        for p in parts:
            w = self.writers.get(p.folder)
            if w is None:
                folder = self.out_dir / self.table.name / p.folder
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / csvg.file_name(PART_STEM, self.options.compression)
                # no writer thread per folder: there may be a thousand of them
                w = self.writers[p.folder] = CsvTableWriter(self.out_dir, path, self.schema, self.options,
                                                            background=False, layout=self.layout,
                                                            nested=nested_columns(self.table))
            w.write_batch(p.batch)

    def close(self) -> list[Written]:
        out: list[Written] = []
        for folder in sorted(self.writers):
            out += self.writers[folder].close()
        return out

    def abort(self) -> None:
        for w in self.writers.values():
            with contextlib.suppress(Exception):
                w.abort()


#: the file in each folder of a partitioned table (``part-00000.csv``, as Spark and Hive name them)
PART_STEM = "part-00000"


@register("csv")
class CsvFormat(Format):
    name = "csv"
    stop_past_plan = True  # compressed text expands
    renders_text = True
    option_help = {
        "delimiter": "a character, or comma (default), semicolon, tab, pipe",
        "quoting": "strings (default), needed, all or none",
        "header": "true (default) or false",
        "null": "the text of a null cell (default: empty)",
        "line_terminator": "lf (default) or crlf",
        "encoding": "utf-8 (default), utf-8-sig, latin-1 or utf-16",
        "compression": "none (default), gzip or zstd",
        "max_partitions": "most folders a partitioned table may make (default 1000; 0: no limit)",
        "nested": "json (default: a struct or list cell holds its JSON text) or flatten (a column per struct field)",
    }
    #: rough bytes per value in the default dialect, delimiter included
    widths = {"int": 6.0, "float": 19.0, "decimal": 8.0, "bool": 5.5, "string": 12.0, "date": 11.0,
              "timestamp": 28.0, "uuid": 39.0}

    def check_options(self, opts: dict[str, str]) -> dict[str, Any]:
        """``--option`` strings → plain JSON settings (they also land in the manifest)."""
        rest = {k: v for k, v in opts.items() if k not in ("nested", "max_partitions")}
        problems = []
        layout = str(opts.get("nested", "json")).strip().lower()
        if layout not in NESTED_LAYOUTS:
            problems.append(f"nested={opts['nested']}: one of {', '.join(NESTED_LAYOUTS)}")
        limit = int_option(opts, "max_partitions", partition.DEFAULT_MAX_PARTITIONS, 0)
        try:
            settings = {**csvg.parse_options(rest).to_dict(), "max_partitions": limit}
        except csvg.DialectError as exc:  # the package knows its dialect keys; these are this frontend's
            problems += [p[:-1] + ", max_partitions, nested)" if p.endswith(")") and "unknown CSV option" in p
                         else p for p in exc.problems]
        if problems:
            msgs = [f"--option {p}" for p in problems]
            raise UsageError(msgs[0] if len(msgs) == 1 else "bad CSV options:\n  " + "\n  ".join(msgs)) from None
        return {**settings, "nested": layout} if "nested" in opts else settings

    def _resolved(self, options: dict[str, Any]) -> csvg.CsvOptions:
        if "delimiter" not in options:
            options.update(self.check_options({}))
        return csvg.CsvOptions.from_dict(options)

    def open_writer(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any],
                    run: RunInfo | None = None):
        opts = self._resolved(options)
        if table.partition_by:
            return PartitionedCsvWriter(Path(out_dir), table, arrow_schema, opts,
                                        options.get("max_partitions", partition.DEFAULT_MAX_PARTITIONS),
                                        layout=options.get("nested", "json"))
        path = Path(out_dir) / csvg.file_name(table.name, opts.compression)
        return CsvTableWriter(Path(out_dir), path, arrow_schema, opts, layout=options.get("nested", "json"),
                              nested=nested_columns(table))

    def finish(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> list[Path]:
        path = csvg.save_options(Path(out_dir), self._resolved(options))
        if options.get("nested", "json") != "json":  # recorded only when not the default: old bytes stay
            data = json.loads(path.read_text(encoding="utf-8"))
            path.write_text(json.dumps({**data, "nested": options["nested"]}, indent=2, sort_keys=True) + "\n",
                            encoding="utf-8")
        return [Path(csvg.SIDECAR)]

    @staticmethod
    def _layout(out_dir: Path) -> str:
        """How nested columns were written (the sidecar's ``nested``; json without one)."""
        try:
            data = json.loads((Path(out_dir) / csvg.SIDECAR).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "json"
        layout = data.get("nested", "json") if isinstance(data, dict) else "json"
        return layout if layout in NESTED_LAYOUTS else "json"

    def replay_batches(self, want: pa.Table, table) -> pa.Table:
        """A regenerated table as the layout it was read in reads back (a flattened null struct
        has null fields)."""
        return normalise(want, self._layouts.get(table.name, "json"))

    @property
    def _layouts(self) -> dict[str, str]:
        """The nested layout each table was last read in (for ``replay_batches``): this
        instance's own, never shared through the class."""
        return self.__dict__.setdefault("_layout_by_table", {})

    def _stored(self, out_dir: Path) -> csvg.CsvOptions | None:
        """The sidecar's settings; ``None`` without one (raises ``DialectError`` if it is broken)."""
        return csvg.load_options(Path(out_dir))

    def artifacts(self, out_dir: Path, table) -> list[Path]:
        out_dir = Path(out_dir)
        try:
            stored = self._stored(out_dir)
        except csvg.DialectError:
            stored = None  # read_table reports the broken sidecar as a parse failure
        if table.partition_by:
            comp = stored.compression if stored is not None else "none"
            levels = "/".join(["*"] * len(table.partition_by))
            return sorted((out_dir / table.name).glob(f"{levels}/{csvg.file_name(PART_STEM, comp)}"))
        if stored is not None:
            return [out_dir / csvg.file_name(table.name, stored.compression)]
        found = [out_dir / csvg.file_name(table.name, c) for c in csvg.COMPRESSIONS
                 if (out_dir / csvg.file_name(table.name, c)).is_file()]
        return found[:1] or [out_dir / csvg.file_name(table.name)]

    def _open_file(self, out_dir: Path, table, path: Path, arrow_schema: pa.Schema, dialect) -> pa.RecordBatchReader:
        """One CSV file as ``arrow_schema``'s batches: nested columns parsed back from the layout
        they were written in (JSON text, or a column per struct field)."""
        if not has_nested(arrow_schema):
            return csvg.open_csv(path, arrow_schema, dialect)
        layout = self._layouts[table.name] = self._layout(out_dir)
        inner = csvg.open_csv(path, text_schema(arrow_schema, layout), dialect)
        first = next(iter(inner), None)
        if first is None:
            return pa.RecordBatchReader.from_batches(arrow_schema, iter(()))
        head = from_text(first, arrow_schema, layout)
        return pa.RecordBatchReader.from_batches(
            head.schema, (b for part in ([first], inner) for b in (from_text(x, arrow_schema, layout) for x in part)))

    def read_partitions(self, out_dir: Path, table, arrow_schema: pa.Schema,
                        columns: list[str] | None = None) -> list[tuple[str, pa.RecordBatchReader]]:
        """A partitioned table's folders in order, each with a reader of its file."""
        stored = self._stored(Path(out_dir))
        dialect = stored.dialect if stored is not None else csvg.DEFAULT_DIALECT
        want = partition.file_schema(arrow_schema, table.partition_by)
        out = []
        for path in self.artifacts(out_dir, table):
            reader = self._open_file(Path(out_dir), table, path, want, dialect)
            if columns is not None:
                keep = [n for n in reader.schema.names if n in set(columns)]
                reader = pa.RecordBatchReader.from_batches(pa.schema([reader.schema.field(n) for n in keep]),
                                                           (b.select(keep) for b in reader))
            out.append((path.parent.relative_to(Path(out_dir) / table.name).as_posix(), reader))
        return out

    def read_table(self, out_dir: Path, table, arrow_schema: pa.Schema) -> pa.Table:
        if table.partition_by:
            return self.read_batches(out_dir, table, arrow_schema).read_all()
        stored = self._stored(Path(out_dir))
        path = self.artifacts(out_dir, table)[0]
        dialect = stored.dialect if stored is not None else csvg.DEFAULT_DIALECT
        if not has_nested(arrow_schema):
            return csvg.read_csv(path, arrow_schema, dialect)
        layout = self._layouts[table.name] = self._layout(Path(out_dir))
        data = csvg.read_csv(path, text_schema(arrow_schema, layout), dialect)
        return pa.Table.from_batches([from_text(data, arrow_schema, layout)])

    def read_batches(self, out_dir: Path, table, arrow_schema: pa.Schema,
                     columns: list[str] | None = None) -> pa.RecordBatchReader:
        """Block by block (``csv_generator.open_csv``): memory holds one block of the file."""
        if table.partition_by:
            return partition.layout_reader(self.read_partitions(out_dir, table, arrow_schema, columns), table,
                                           arrow_schema, columns)
        stored = self._stored(Path(out_dir))
        path = self.artifacts(out_dir, table)[0]
        dialect = stored.dialect if stored is not None else csvg.DEFAULT_DIALECT
        reader = self._open_file(Path(out_dir), table, path, arrow_schema, dialect)
        if columns is None:
            return reader
        keep = [n for n in reader.schema.names if n in set(columns)]
        return pa.RecordBatchReader.from_batches(pa.schema([reader.schema.field(n) for n in keep]),
                                                 (b.select(keep) for b in reader))
