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
from generators.common.nested_text import NESTED_LAYOUTS, from_text, has_nested, normalise, text_schema, to_text
from shared.errors import OutputError, UsageError
from shared.formats import Format, RunInfo, Written, register
from shared.io.output import HashingFile


@contextlib.contextmanager
def _output_errors():
    """CSV write errors (a value quoting=none cannot write, an unencodable character) → exit 3."""
    try:
        yield
    except csvg.CsvWriteError as exc:
        raise OutputError(str(exc)) from None


class _Renderer:
    """The package's renderer with its errors as datagen's (picklable: it runs in the workers);
    nested columns become JSON text or flattened fields first (``nested_text``)."""

    def __init__(self, inner: csvg.Renderer, layout: str = "json"):
        self.inner = inner
        self.layout = layout

    def __call__(self, batch: pa.RecordBatch):
        with _output_errors():
            return self.inner(to_text(batch, self.layout))


class CsvTableWriter:
    """The shared Writer interface over ``csv_generator.CsvWriter``. The file is written and
    hashed by a background thread while the next block is computed (the manifest needs no
    second read of it)."""

    def __init__(self, out_dir: Path, path: Path, schema: pa.Schema, options: csvg.CsvOptions,
                 layout: str = "json"):
        self.out_dir = out_dir
        self.layout = layout
        schema = text_schema(schema, layout)
        self._raw = HashingFile(path, background=True)
        with _output_errors():
            try:
                self._w = csvg.CsvWriter(path, schema, options.dialect, options.compression, raw=self._raw)
            except BaseException:
                self._raw.close()
                path.unlink(missing_ok=True)
                raise
        #: with --workers N the workers run this and the text comes to ``write_rendered``
        self.renderer = _Renderer(self._w.renderer, layout)

    def write_rendered(self, text, rows: int) -> None:
        with _output_errors():
            self._w.write_rendered(text)

    def write_batch(self, batch: pa.RecordBatch) -> None:
        with _output_errors():
            self._w.write_batch(to_text(batch, self.layout))

    def close(self) -> list[Written]:
        with _output_errors():
            path = self._w.close()
        return [Written(path.relative_to(self.out_dir), self._raw.size, self._raw.hexdigest())]

    def abort(self) -> None:
        self._w.abort()


@register("csv")
class CsvFormat(Format):
    name = "csv"
    stop_past_plan = True  # compressed text expands
    option_help = {
        "delimiter": "a character, or comma (default), semicolon, tab, pipe",
        "quoting": "strings (default), needed, all or none",
        "header": "true (default) or false",
        "null": "the text of a null cell (default: empty)",
        "line_terminator": "lf (default) or crlf",
        "encoding": "utf-8 (default), utf-8-sig, latin-1 or utf-16",
        "compression": "none (default), gzip or zstd",
        "nested": "json (default: a struct or list cell holds its JSON text) or flatten (a column per struct field)",
    }
    #: rough bytes per value in the default dialect, delimiter included
    widths = {"int": 6.0, "float": 19.0, "decimal": 8.0, "bool": 5.5, "string": 12.0, "date": 11.0,
              "timestamp": 28.0, "uuid": 39.0}

    def check_options(self, opts: dict[str, str]) -> dict[str, Any]:
        """``--option`` strings → plain JSON settings (they also land in the manifest)."""
        rest = {k: v for k, v in opts.items() if k != "nested"}
        problems = []
        layout = str(opts.get("nested", "json")).strip().lower()
        if layout not in NESTED_LAYOUTS:
            problems.append(f"nested={opts['nested']}: one of {', '.join(NESTED_LAYOUTS)}")
        try:
            settings = csvg.parse_options(rest).to_dict()
        except csvg.DialectError as exc:  # the package knows its dialect keys; `nested` is this frontend's
            problems += [p[:-1] + ", nested)" if p.endswith(")") and "unknown CSV option" in p else p
                         for p in exc.problems]
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
        path = Path(out_dir) / csvg.file_name(table.name, opts.compression)
        return CsvTableWriter(Path(out_dir), path, arrow_schema, opts, options.get("nested", "json"))

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
        if stored is not None:
            return [out_dir / csvg.file_name(table.name, stored.compression)]
        found = [out_dir / csvg.file_name(table.name, c) for c in csvg.COMPRESSIONS
                 if (out_dir / csvg.file_name(table.name, c)).is_file()]
        return found[:1] or [out_dir / csvg.file_name(table.name)]

    def read_table(self, out_dir: Path, table, arrow_schema: pa.Schema) -> pa.Table:
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
        stored = self._stored(Path(out_dir))
        path = self.artifacts(out_dir, table)[0]
        dialect = stored.dialect if stored is not None else csvg.DEFAULT_DIALECT
        if has_nested(arrow_schema):
            layout = self._layouts[table.name] = self._layout(Path(out_dir))
            inner = csvg.open_csv(path, text_schema(arrow_schema, layout), dialect)
            first = next(iter(inner), None)
            if first is None:
                reader = pa.RecordBatchReader.from_batches(arrow_schema, iter(()))
            else:
                head = from_text(first, arrow_schema, layout)
                reader = pa.RecordBatchReader.from_batches(
                    head.schema, (b for part in ([first], inner) for b in
                                  (from_text(x, arrow_schema, layout) for x in part)))
        else:
            reader = csvg.open_csv(path, arrow_schema, dialect)
        if columns is None:
            return reader
        keep = [n for n in reader.schema.names if n in set(columns)]
        return pa.RecordBatchReader.from_batches(pa.schema([reader.schema.field(n) for n in keep]),
                                                 (b.select(keep) for b in reader))
