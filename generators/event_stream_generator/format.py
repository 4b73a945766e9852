"""event_stream output (alias ``events``): every event table merged into one ``events.ndjson``.

Artifacts under ``--out``:

* ``events.ndjson`` — the events of every table with ``events:`` in the schema, one envelope per
  line (see ``envelope``), in delivery order (see ``merge``); always written, empty when the
  schema has no event table.
* ``<table>.ndjson`` — each table *without* ``events:`` as reference data, one plain JSON object
  per row in the same value forms as ``data``, so that foreign keys from events (and every other
  check) can be validated. (An extension of the artifact table in cli-and-artifacts.md.)

How it is written: ``generate`` hands each table's batches to a writer in plan order. An event
table's writer encodes the envelopes and spills them, already in per-table delivery order, to an
Arrow IPC file ``.event-spill/<table>.arrow`` inside the temporary output folder; ``finish``
merges the spills into ``events.ndjson`` in bounded memory and deletes the spill folder.

Options (``--option KEY=VALUE``): ``late_max_delay`` (a duration, default ``5m``: the largest
delay of a late event), ``max_sort_rows`` (default 2,000,000: the most events of one table whose
time column is not in row order that are sorted in memory).

Reading back (``validate``): a table's events are picked out of the stream by their ``table``
field and put back in row order by ``seq``, so the table equals the engine's output.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from generators.common.json_encode import data_buffer, quote_values, text_keys
from generators.event_stream_generator.envelope import encode, rows_text
from generators.event_stream_generator.merge import (
    DEFAULT_MAX_SORT_ROWS,
    SPILL_BATCH_ROWS,
    TableOrderer,
    merge,
    not_ordered_error,
    write_lines,
)
from generators.event_stream_generator.reader import EVENTS_FILE, conform, parse_json, read_type, stream_lines
from shared.errors import PlanError, UsageError
from shared.formats import Format, RunInfo, check_known_options, int_option, register
from shared.model.timeutil import parse_duration

SPILL_DIR = ".event-spill"
DEFAULT_LATE_MAX_DELAY = "5m"
_SPILL_SCHEMA = pa.schema([("emit", pa.int64()), ("seq", pa.int64()), ("line", pa.large_binary())])


def _int_option(opts: dict, key: str, default: int, minimum: int = 0) -> int:
    return int_option(opts, key, default, minimum)


# --- writing ----------------------------------------------------------------------------------


class NdjsonWriter:
    """A reference (non-event) table: ``<table>.ndjson``, one JSON object per row."""

    def __init__(self, out_dir: Path, table):
        self.rel = Path(f"{table.name}.ndjson")
        self.path = out_dir / self.rel
        self._f = open(self.path, "xb")  # noqa: SIM115 - closed in close()/abort()

    def write_batch(self, batch: pa.RecordBatch) -> None:
        for rows in rows_text(batch):
            self._f.write(data_buffer(rows))

    def close(self) -> list[Path]:
        self._f.close()
        return [self.rel]

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._f.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def _spill_path(out_dir: Path, table_name: str) -> Path:
    return out_dir / SPILL_DIR / f"{table_name}.arrow"


class EventSpillWriter:
    """An event table: envelopes spilled in per-table delivery order to an Arrow IPC file."""

    def __init__(self, out_dir: Path, table, options: dict[str, Any], seed: int = 0):
        self.table = table
        self.path = _spill_path(out_dir, table.name)
        self.path.parent.mkdir(exist_ok=True)
        self.seed = seed
        self.max_delay_us = options["late_max_delay_us"]
        self.max_sort_rows = options["max_sort_rows"]
        self.orderer = TableOrderer()
        self.rows = 0
        self._sink = pa.OSFile(str(self.path), "wb")
        self._writer = ipc.new_file(self._sink, _SPILL_SCHEMA)

    def _write(self, chunk) -> None:
        for s in range(0, len(chunk), SPILL_BATCH_ROWS):
            e = min(len(chunk), s + SPILL_BATCH_ROWS)
            self._writer.write_batch(pa.record_batch(
                [pa.array(chunk.emit[s:e]), pa.array(chunk.seq[s:e]), chunk.lines.slice(s, e - s)],
                schema=_SPILL_SCHEMA))

    def write_batch(self, batch: pa.RecordBatch) -> None:
        chunk = encode(self.table, batch, self.rows, self.seed, self.max_delay_us)
        self.rows += batch.num_rows
        for ready in self.orderer.push(chunk):
            self._write(ready)
        if not self.orderer.in_order and self.rows > self.max_sort_rows:
            raise not_ordered_error(self.table, self.max_sort_rows)

    def close(self) -> list[Path]:
        for ready in self.orderer.finish():
            self._write(ready)
        self._writer.close()
        self._sink.close()
        if not self.orderer.in_order:
            self._sort_in_memory()
        return []  # the spill is not an artifact: finish() merges it into events.ndjson

    def _sort_in_memory(self) -> None:
        with pa.OSFile(str(self.path), "rb") as src:  # read, not mapped: the file is rewritten below
            t = ipc.open_file(src).read_all().combine_chunks()
        order = np.lexsort((t.column("seq").to_numpy(), t.column("emit").to_numpy()))
        t = t.take(pa.array(order))
        with pa.OSFile(str(self.path), "wb") as sink, ipc.new_file(sink, _SPILL_SCHEMA) as w:
            for b in t.to_batches(max_chunksize=SPILL_BATCH_ROWS):
                w.write_batch(b)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()
        with contextlib.suppress(Exception):
            self._sink.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def _spill_chunks(path: Path):
    """The (emit, seq, lines) chunks of a spill file, read one record batch at a time.

    Read, not memory-mapped: mapped pages stay resident as the merge walks the file, so RSS
    would grow with the row count; read batches are freed once merged."""
    with pa.OSFile(str(path), "rb") as src:
        reader = ipc.open_file(src)
        for i in range(reader.num_record_batches):
            b = reader.get_batch(i)
            if b.num_rows:
                yield (b.column(0).to_numpy(), b.column(1).to_numpy(), b.column(2))


# --- reading ----------------------------------------------------------------------------------


def _joined(lines: pa.Array) -> bytes:
    out = io.BytesIO()
    write_lines(out, lines)
    return out.getvalue()


def _envelope_schema(table, read: pa.Schema) -> pa.Schema:
    """Every envelope field typed, so nothing but extra keys inside ``data`` is left to inference."""
    ev = table.events

    def col_type(name: str | None) -> pa.DataType:
        return pa.null() if name is None else read.field(name).type

    return pa.schema([
        ("event_id", pa.string()),
        ("event_type", col_type(ev.type) if ev.type_is_column else pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")), ("key", col_type(ev.key)), ("table", pa.string()),
        ("seq", pa.int64()), ("late", pa.bool_()), ("data", pa.struct(list(read))),
    ])


@register("event_stream")
class EventStreamFormat(Format):
    name = "event_stream"
    renders_text = True
    # rough bytes per value in a line: the quoted key, the value and a comma
    #: event_id, event_type, ts, key, table, seq, late and the braces of the envelope
    row_overhead = 190.0
    widths = {"int": 12.0, "float": 24.0, "decimal": 16.0, "bool": 11.0, "string": 24.0, "date": 20.0,
              "timestamp": 38.0, "uuid": 48.0}
    default_width = 16.0
    aliases = ("events",)
    option_help = {
        "late_max_delay": "how late a late event may arrive, e.g. 30s, 5m (default 5m)",
        "max_sort_rows": "rows sorted in memory before spilling (default 2000000)",
    }

    def variant(self, name: str) -> EventStreamFormat:
        """``events`` is another name of the same format."""
        if name not in (self.name, *self.aliases):
            raise UsageError(f"--format {name}: this frontend writes {', '.join((self.name, *self.aliases))}")
        return self

    def check_options(self, opts: dict[str, str]) -> dict[str, Any]:
        known = {"late_max_delay", "max_sort_rows"}
        check_known_options(opts, known, "event_stream")
        text = str(opts.get("late_max_delay", DEFAULT_LATE_MAX_DELAY))
        try:
            delay = parse_duration(text)
        except ValueError as exc:
            raise UsageError(f"--option late_max_delay={text}: {exc}") from None
        if delay < 1:
            raise UsageError(f"--option late_max_delay={text}: must be at least 1us")
        return {"late_max_delay": text, "late_max_delay_us": delay,
                "max_sort_rows": _int_option(opts, "max_sort_rows", DEFAULT_MAX_SORT_ROWS, 1)}

    def open_writer(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any],
                    run: RunInfo | None = None):
        if "late_max_delay_us" not in options:
            options.update(self.check_options({}))
        if table.events is None:
            if f"{table.name}.ndjson" == EVENTS_FILE:
                raise PlanError(f"table {table.name}: a table without events is written as {table.name}.ndjson, "
                                f"which is the event stream's own file in event_stream output (hint: rename the "
                                f"table, or give it events)")
            return NdjsonWriter(out_dir, table)
        return EventSpillWriter(out_dir, table, options, run.seed if run else 0)

    def finish(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> list[Path]:
        sources = [(i, _spill_chunks(_spill_path(out_dir, t.name))) for i, t in enumerate(schema.tables)
                   if t.events is not None and _spill_path(out_dir, t.name).is_file()]
        with open(out_dir / EVENTS_FILE, "xb") as f:
            for window in merge(sources):
                write_lines(f, window)
        shutil.rmtree(out_dir / SPILL_DIR, ignore_errors=True)
        return [Path(EVENTS_FILE)]

    def artifacts(self, out_dir: Path, table) -> list[Path]:
        return [out_dir / (EVENTS_FILE if table.events is not None else f"{table.name}.ndjson")]

    def read_table(self, out_dir: Path, table, arrow_schema: pa.Schema) -> pa.Table:
        read = pa.schema([pa.field(f.name, read_type(f.type)) for f in arrow_schema])
        as_text = text_keys(table, arrow_schema)  # columns asked for as text (validate, dirty text kinds)
        if table.events is None:
            data = (out_dir / f"{table.name}.ndjson").read_bytes()
            return conform(parse_json(quote_values(data, as_text), read), arrow_schema)
        lines, fields = stream_lines(out_dir)
        mine = pc.fill_null(pc.equal(fields.column("table"), table.name), False)
        picked = _joined(lines.filter(mine.combine_chunks() if isinstance(mine, pa.ChunkedArray) else mine))
        parsed = parse_json(quote_values(picked, as_text, within='"data":{'), _envelope_schema(table, read))
        if parsed.num_rows == 0:
            return arrow_schema.empty_table()
        if parsed.column("seq").null_count:
            raise ValueError(f"{EVENTS_FILE}: an event of table {table.name} has no seq")
        parsed = parsed.take(pa.array(np.argsort(parsed.column("seq").to_numpy(), kind="stable")))
        data = parsed.column("data").combine_chunks()
        names = [data.type.field(i).name for i in range(data.type.num_fields)]
        return conform(pa.Table.from_arrays(data.flatten(), names=names), arrow_schema)

    def extra_checks(self, out_dir: Path, schema, plan) -> list[dict]:
        from generators.event_stream_generator.checks import stream_checks

        return stream_checks(out_dir, schema, plan)
