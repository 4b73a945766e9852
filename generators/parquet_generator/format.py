"""Parquet output: one dataset folder per table, ``<table>/part-00000.parquet``, ….

Written with ``pyarrow.parquet.ParquetWriter`` opened with the table's Arrow schema (native
decimal, date and timestamp types), the seed, profile and schema hash in the key-value metadata.

``validate`` also reads every file back with fastparquet, an independent reader, and compares
row counts and values with what pyarrow reads (check kind ``parquet_independent_reader``), row
group by row group. Reading back for ``validate`` streams (``read_batches``: a batch at a time)
and the footers' row counts come first (``count_rows``): a part that expands to far more rows
than the plan has is refused without decoding it.

Parts: a table is written as ``part-NNNNN.parquet`` files of ``max_rows_per_file`` rows each
(default 1,048,576; the last is shorter). Every part is a pure function of its rows, so with
``--workers N`` each worker writes whole parts — generation and encoding both in parallel, nothing
sent back but the file's size and SHA-256 — and the files are the same bytes as with one worker.

Options (``--option KEY=VALUE``): ``compression`` (snappy | zstd | gzip | none; default snappy),
``row_group_rows`` (default 262,144; row groups hold exactly this many rows counted from the
start of their file, the last one of a file may be shorter, whatever the engine's block size),
``max_rows_per_file`` (default 1,048,576; 0: one file per table), ``max_file_bytes`` (default 0;
otherwise start the next part once a file has reached this many bytes, checked after each row
group — parts then end where only writing in order can tell, so one process writes them),
``dictionary`` (auto | true | false; default auto: text, booleans, value lists and small integer
ranges only — see ``dictionary_columns``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shared.corruption import expected_rows
from shared.distributions.base import GENERATORS
from shared.formats import Format, RunInfo, Written, check_known_options, choice_option, int_option, register
from shared.io import partition
from shared.io.output import HashingFile

COMPRESSIONS = ("snappy", "zstd", "gzip", "none")


#: default rows per part file: parts are written independently (by the workers with --workers N)
DEFAULT_FILE_ROWS = 1 << 20
#: rows per record batch when ``validate`` streams a table back
READ_BATCH_ROWS = 1 << 16


def _int_option(opts: dict, key: str, default: int, minimum: int = 0) -> int:
    return int_option(opts, key, default, minimum)


def _file_schema(schema: pa.Schema, run: RunInfo | None) -> pa.Schema:
    meta = dict(schema.metadata or {})
    meta.update({
        b"datagen.seed": str(run.seed if run else "").encode(),
        b"datagen.profile": str(run.profile if run else "").encode(),
        b"datagen.schema": str(run.schema_name if run else "").encode(),
        b"datagen.schema_sha256": str(run.schema_sha256 if run else "").encode(),
        b"datagen.version": str(run.tool_version if run else "").encode(),
    })
    return schema.with_metadata(meta)


#: integer or date columns whose declared range spans at most this many values are
#: dictionary-encoded by ``dictionary=auto``
SMALL_DOMAIN = 1 << 16


def dictionary_columns(table, schema: pa.Schema, setting) -> bool | list[str]:
    """``use_dictionary`` for pyarrow: every column (true), none (false), or with ``auto`` the
    columns a dictionary pays for: text, booleans, columns drawn from a list of values and
    integers or dates with a small declared range. Random numbers, timestamps and keys are
    written plain: a dictionary there is only built to be thrown away (about 3× the writing time
    for those columns, and larger files)."""
    if setting != "auto":
        return setting == "true" or setting is True
    out = []
    names = set(schema.names)
    for c in table.columns:
        if c.name not in names:  # hidden, a part of a nested column, or a partition column (the folders)
            continue
        t = schema.field(c.name).type
        small = (c.min is not None and c.max is not None and (pa.types.is_integer(t) or pa.types.is_date(t))
                 and c.max - c.min < SMALL_DOMAIN)
        if (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t) or small
                or GENERATORS[c.generator.type].listed_values or (c.allowed and len(c.allowed) <= SMALL_DOMAIN)):
            out.append(c.name)
    return out


def _open(sink: HashingFile, table, schema: pa.Schema, options: dict[str, Any]) -> pq.ParquetWriter:
    comp = options["compression"]
    return pq.ParquetWriter(sink, schema, compression=None if comp == "none" else comp,
                            use_dictionary=dictionary_columns(table, schema, options["dictionary"]),
                            write_statistics=True, store_schema=True)


class _Groups:
    """Batches in, batches of exactly the rows asked for out: row groups never depend on the
    engine's block size."""

    def __init__(self, schema: pa.Schema):
        self.schema = schema
        self._buffer: list[pa.RecordBatch] = []
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self._buffer.append(batch)
            self.rows += batch.num_rows

    def take(self, n: int) -> pa.RecordBatch:
        if len(self._buffer) == 1 and self._buffer[0].num_rows == n:
            head = self._buffer.pop()
        else:
            table = pa.Table.from_batches(self._buffer, schema=self.schema)
            tail = table.slice(n)
            self._buffer = tail.to_batches() if tail.num_rows else []
            head = table.slice(0, n).combine_chunks().to_batches(max_chunksize=n)[0]
        self.rows -= n
        return head


class ParquetWriter:
    """The sequential writer, used when ``max_file_bytes`` is set (a part then ends where a file
    reached that size, which only writing in order can know). Row groups hold ``row_group_rows``
    rows counted from the start of each file, as in ``write_part``."""

    def __init__(self, out_dir: Path, table, schema: pa.Schema, options: dict[str, Any], run: RunInfo | None = None):
        self.out_dir = out_dir
        self.dir = out_dir / table.name
        self.dir.mkdir(parents=True, exist_ok=False)
        self.table = table
        self.schema = _file_schema(schema, run)
        self.options = options
        self.row_group_rows = options["row_group_rows"]
        self.max_rows_per_file = options["max_rows_per_file"]
        self.max_file_bytes = options.get("max_file_bytes", 0)
        self.files: list[Written] = []
        self._sink: HashingFile | None = None
        self._writer: pq.ParquetWriter | None = None
        self._rows_in_file = 0
        self._full = False
        self._groups = _Groups(self.schema)

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._sink.close()
            self.files.append(Written(self._sink.path.relative_to(self.out_dir), self._sink.size,
                                      self._sink.hexdigest()))
            self._sink = None

    def _open_next(self) -> None:
        self._close_file()
        self._sink = HashingFile(self.dir / f"part-{len(self.files):05d}.parquet")
        self._writer = _open(self._sink, self.table, self.schema, self.options)
        self._rows_in_file = 0
        self._full = False

    def _group_rows(self) -> int:
        if self._writer is None or self._full:
            return self.row_group_rows
        if self.max_rows_per_file:
            return min(self.row_group_rows, self.max_rows_per_file - self._rows_in_file)
        return self.row_group_rows

    def write_batch(self, batch: pa.RecordBatch) -> None:
        self._groups.add(batch)
        while self._groups.rows and self._groups.rows >= self._group_rows():
            self._emit(self._group_rows())

    def _emit(self, n: int) -> None:
        if self._writer is None or self._full:
            self._open_next()
        self._writer.write_batch(self._groups.take(n), row_group_size=self.row_group_rows)
        self._rows_in_file += n
        if self.max_rows_per_file and self._rows_in_file >= self.max_rows_per_file:
            self._full = True
        if self.max_file_bytes and self._sink.size >= self.max_file_bytes:
            self._full = True

    def close(self) -> list[Written]:
        while self._groups.rows:
            self._emit(min(self._groups.rows, self._group_rows()))
        if self._writer is None and not self.files:
            self._open_next()  # an empty table still gets its (empty) file
        self._close_file()
        return self.files

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        if self._sink is not None:
            with contextlib.suppress(Exception):
                self._sink.close()


@register("parquet")
class ParquetFormat(Format):
    name = "parquet"
    stop_past_plan = True  # run-length and dictionary encodings expand
    option_help = {
        "compression": "snappy (default), zstd, gzip or none",
        "row_group_rows": "rows per row group (default 262144)",
        "max_rows_per_file": "rows per part file (default 1048576; 0: one file per table)",
        "max_file_bytes": "start a new part file past this size (default 0: off; parts then written in order)",
        "dictionary": "auto (default: text, booleans, value lists, small ranges), true or false",
        "max_partitions": "most folders a partitioned table may make (default 1000; 0: no limit)",
    }
    widths = {"int": 4.0, "float": 8.0, "decimal": 8.0, "bool": 0.2, "string": 9.0, "date": 2.0,
              "timestamp": 8.0, "uuid": 36.0}

    def check_options(self, opts: dict[str, str]) -> dict[str, Any]:
        check_known_options(opts, self.option_help, "Parquet")
        comp = choice_option(opts, "compression", COMPRESSIONS, "snappy")
        dictionary = choice_option(opts, "dictionary", ("auto", "true", "false"), "auto")
        return {
            "compression": comp,
            "row_group_rows": int_option(opts, "row_group_rows", 1 << 18, 1, 1 << 30),
            "max_rows_per_file": _int_option(opts, "max_rows_per_file", DEFAULT_FILE_ROWS, 0),
            "max_file_bytes": _int_option(opts, "max_file_bytes", 0, 0),
            "dictionary": dictionary if dictionary == "auto" else dictionary == "true",
            "max_partitions": int_option(opts, "max_partitions", partition.DEFAULT_MAX_PARTITIONS, 0),
        }

    def _resolved(self, options: dict[str, Any]) -> dict[str, Any]:
        if "compression" not in options:
            options.update(self.check_options({}))
        return options

    def open_writer(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any],
                    run: RunInfo | None = None):
        return ParquetWriter(out_dir, table, arrow_schema, self._resolved(options), run)

    def part_spans(self, table, rows: int, options: dict[str, Any]) -> list[tuple[int, int]] | None:
        """Parts of ``max_rows_per_file`` rows (one part when 0); ``None`` with ``max_file_bytes``,
        whose part boundaries only the sequential writer can find."""
        options = self._resolved(options)
        if options.get("max_file_bytes", 0):
            return None
        per = options["max_rows_per_file"] or max(rows, 1)
        return [(s, min(rows, s + per)) for s in range(0, rows, per)] or [(0, 0)]

    def part_batch_rows(self, options: dict[str, Any]) -> int | None:
        return self._resolved(options)["row_group_rows"]  # one batch per row group: nothing to re-chunk

    def write_part(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any], index: int,
                   batches, run: RunInfo | None = None) -> Written:
        """One ``part-NNNNN.parquet`` from its batches, row groups counted from its first row."""
        options = self._resolved(options)
        if table.partition_by:
            return _write_partitioned_part(out_dir, table, arrow_schema, options, index, batches, run)
        folder = out_dir / table.name
        folder.mkdir(exist_ok=True)
        schema = _file_schema(arrow_schema, run)
        size = options["row_group_rows"]
        sink = HashingFile(folder / f"part-{index:05d}.parquet")
        try:
            writer = _open(sink, table, schema, options)
            try:
                groups = _Groups(schema)
                for batch in batches:
                    groups.add(batch)
                    while groups.rows >= size:
                        writer.write_batch(groups.take(size), row_group_size=size)
                if groups.rows:
                    writer.write_batch(groups.take(groups.rows), row_group_size=size)
            finally:
                writer.close()
        finally:
            sink.close()
        return Written(sink.path.relative_to(out_dir), sink.size, sink.hexdigest())

    def prepare(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> None:
        options = self._resolved(options)
        parted = [t.name for t in schema.tables if t.partition_by]
        if parted and options.get("max_file_bytes"):
            from shared.errors import UsageError

            raise UsageError(f"--option max_file_bytes: table {parted[0]!r} is partitioned (partition_by), and "
                             "partitioned parts end by rows (hint: use --option max_rows_per_file=N)")

    def finish(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> list[Path]:
        """Every part checked its own folders; here the folders of all parts together."""
        options = self._resolved(options)
        for t in schema.tables:
            if t.partition_by:
                limit = partition.PartitionLimit(t.name, t.partition_by, options["max_partitions"])
                limit.add(str(f.parent.relative_to(out_dir / t.name)) for f in self.artifacts(out_dir, t))
        return []

    def artifacts(self, out_dir: Path, table) -> list[Path]:
        if table.partition_by:
            return sorted((out_dir / table.name).glob("/".join(["*"] * len(table.partition_by) + ["part-*.parquet"])))
        return sorted((out_dir / table.name).glob("part-*.parquet"))

    def read_partitions(self, out_dir: Path, table, arrow_schema: pa.Schema,
                        columns: list[str] | None = None) -> list[tuple[str, pa.RecordBatchReader]]:
        """A partitioned table's folders (``region=EU/day=2025-01-01``) in order, each with a
        reader of its files' rows (the columns other than the partition columns), part by part."""
        folders: dict[str, list[Path]] = {}
        for f in self.artifacts(out_dir, table):
            folders.setdefault(f.parent.relative_to(out_dir / table.name).as_posix(), []).append(f)
        want = partition.file_schema(arrow_schema, table.partition_by)
        return [(folder, self._read_files(files, want, columns, PARTITION_READ_ROWS))
                for folder, files in sorted(folders.items())]

    def read_table(self, out_dir: Path, table, arrow_schema: pa.Schema) -> pa.Table:
        files = self.artifacts(out_dir, table)
        return pa.concat_tables([pq.read_table(f) for f in files]) if files else arrow_schema.empty_table()

    def count_rows(self, out_dir: Path, table) -> int:
        """The rows of every part, from the footers: nothing is decoded."""
        return sum(pq.read_metadata(f).num_rows for f in self.artifacts(out_dir, table))

    def read_batches(self, out_dir: Path, table, arrow_schema: pa.Schema,
                     columns: list[str] | None = None) -> pa.RecordBatchReader:
        """Part by part, row group by row group, ``READ_BATCH_ROWS`` rows at a time: memory holds
        one batch whatever a part expands to. Every part must have the first part's schema."""
        if table.partition_by:
            return partition.layout_reader(self.read_partitions(out_dir, table, arrow_schema, columns), table,
                                           arrow_schema, columns)
        return self._read_files(self.artifacts(out_dir, table), arrow_schema, columns, READ_BATCH_ROWS)

    def read_files(self, files: list[Path], arrow_schema: pa.Schema, columns: list[str] | None = None,
                   batch_rows: int = READ_BATCH_ROWS) -> pa.RecordBatchReader:
        """These Parquet files (in this order) as one stream of batches, as ``read_batches`` reads a
        table's parts (the Delta format reads the files its log names with it)."""
        return self._read_files(files, arrow_schema, columns, batch_rows)

    def _read_files(self, files: list[Path], arrow_schema: pa.Schema, columns: list[str] | None,
                    batch_rows: int) -> pa.RecordBatchReader:
        if not files:
            empty = arrow_schema if columns is None else pa.schema([f for f in arrow_schema if f.name in columns])
            return pa.RecordBatchReader.from_batches(empty, iter(()))
        with pq.ParquetFile(files[0]) as first:
            schema = first.schema_arrow
        names = None if columns is None else [n for n in schema.names if n in set(columns)]
        out_schema = schema if names is None else pa.schema([schema.field(n) for n in names], schema.metadata)

        def batches():
            for f in files:
                with pq.ParquetFile(f) as pf:
                    if not pf.schema_arrow.equals(schema):
                        raise ValueError(f"{f.name}: its schema differs from {files[0].name}'s")
                    for batch in pf.iter_batches(batch_size=batch_rows, columns=names):
                        yield batch.replace_schema_metadata(out_schema.metadata)

        return pa.RecordBatchReader.from_batches(out_schema, batches())

    def extra_checks(self, out_dir: Path, schema, plan) -> list[dict]:
        """Read every file with fastparquet too and compare with pyarrow's reading, row group by
        row group and a few columns at a time (at most ``CROSS_CHECK_CELLS`` values): fastparquet
        decodes a row group whole, so a row group larger than that is not cross-checked, and a
        table whose footers disagree with the plan is not read at all (``row_count`` fails)."""
        from shared.validation.checks import result

        out = []
        for table in schema.tables:
            files = self.artifacts(out_dir, table)
            if not files:
                continue
            kind = "parquet_independent_reader"
            try:
                metas = [pq.read_metadata(f) for f in files]
            except Exception as exc:  # noqa: BLE001 - any reader failure is the check's failure
                out.append(result(kind, table.name, None, "fail", f"cannot read the footers: {type(exc).__name__}: "
                                                                  f"{exc}"[:300]))
                continue
            rows = sum(m.num_rows for m in metas)
            want = expected_rows(plan, table.name, rows) if plan is not None else rows  # dirty: rows may be added
            if rows != want:
                out.append(result(kind, table.name, None, "skipped",
                                  f"not read: the footers tell {rows:,} rows, the plan {want:,} "
                                  f"(see row_count)"))
                continue
            big = [(f.name, i, m.row_group(i).num_rows) for f, m in zip(files, metas, strict=True)
                   for i in range(m.num_row_groups) if m.row_group(i).num_rows > CROSS_CHECK_CELLS]
            if big:
                name, i, n = big[0]
                out.append(result(kind, table.name, None, "skipped",
                                  f"fastparquet decodes a row group whole: row group {i} of {name} holds {n:,} rows "
                                  f"(more than {CROSS_CHECK_CELLS:,}); not cross-checked"))
                continue
            try:
                bad, ours, theirs = _cross_check(files)
            except Exception as exc:  # noqa: BLE001 - any reader failure is the check's failure
                out.append(result(kind, table.name, None, "fail",
                                  f"fastparquet cannot read the files: {type(exc).__name__}: {exc}"[:300]))
                continue
            out.append(result(kind, table.name, None, "fail" if bad else "pass",
                              f"fastparquet reads differently: {'; '.join(bad[:3])}" if bad else
                              f"fastparquet reads the same {ours} rows", expected=ours, observed=theirs))
        return out


#: rows per batch when a partitioned table is read back: a batch of every folder may be held at once
PARTITION_READ_ROWS = 1 << 12


def _write_partitioned_part(out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any], index: int,
                            batches, run: RunInfo | None) -> list[Written]:
    """Part ``index`` of a partitioned table: ``<table>/<folder>/part-NNNNN.parquet`` for each
    folder its rows fall in, each holding those rows in order (row groups counted per file)."""
    cols = table.partition_by
    kinds = {c: table.column(c).dtype.kind for c in cols}
    schema = _file_schema(partition.file_schema(arrow_schema, cols), run)
    size = options["row_group_rows"]
    limit = partition.PartitionLimit(table.name, cols, options["max_partitions"])
    open_files: dict[str, tuple[HashingFile, pq.ParquetWriter, _Groups]] = {}
    try:
        for batch in batches:
            parts = partition.split(batch, cols, kinds)
            limit.add(p.folder for p in parts)
            for p in parts:
                entry = open_files.get(p.folder)
                if entry is None:
                    folder = out_dir / table.name / p.folder
                    folder.mkdir(parents=True, exist_ok=True)
                    sink = HashingFile(folder / f"part-{index:05d}.parquet")
                    entry = open_files[p.folder] = (sink, _open(sink, table, schema, options), _Groups(schema))
                _, writer, groups = entry
                groups.add(p.batch.replace_schema_metadata(schema.metadata))
                while groups.rows >= size:
                    writer.write_batch(groups.take(size), row_group_size=size)
        out = []
        for folder in sorted(open_files):
            sink, writer, groups = open_files[folder]
            if groups.rows:
                writer.write_batch(groups.take(groups.rows), row_group_size=size)
            writer.close()
            sink.close()
            out.append(Written(sink.path.relative_to(out_dir), sink.size, sink.hexdigest()))
        return out
    finally:
        for sink, writer, _ in open_files.values():
            with contextlib.suppress(Exception):
                writer.close()
            with contextlib.suppress(Exception):
                sink.close()


#: the independent reader's comparison holds at most this many values (rows × columns) at once
CROSS_CHECK_CELLS = 1 << 22


def _cross_check(files) -> tuple[list[str], int, int]:
    """(differences, rows pyarrow reads, rows fastparquet reads), row group by row group."""
    import fastparquet

    bad: list[str] = []
    ours = theirs = 0
    for f in files:
        fp = fastparquet.ParquetFile(str(f))
        with pq.ParquetFile(f) as pf:
            # lists are not compared (fastparquet reads no lists of structs); structs by their fields
            names = [n for n in pf.schema_arrow.names if not pa.types.is_list(pf.schema_arrow.field(n).type)]
            for i in range(pf.metadata.num_row_groups):
                n = pf.metadata.row_group(i).num_rows
                step = max(1, CROSS_CHECK_CELLS // max(n, 1))
                for k in range(0, max(len(names), 1), step):
                    group = names[k:k + step]
                    a = _flat_fields(pf.read_row_group(i, columns=group))
                    b = _read_fastparquet_group(fp, i, a.column_names)
                    for problem in _compare_frames(a, b.reset_index(drop=True)):
                        if problem not in bad:
                            bad.append(problem)
                    if k == 0:
                        ours += a.num_rows
                        theirs += len(b)
    return bad, ours, theirs


def _flat_fields(data: pa.Table) -> pa.Table:
    """Struct columns as one column per field (``address.city``, as fastparquet names them; a
    field is null where its struct is), lists inside them left out."""
    while any(pa.types.is_struct(t) for t in data.schema.types):
        data = data.flatten()
    return data.select([n for n, t in zip(data.column_names, data.schema.types, strict=True)
                        if not pa.types.is_list(t)])


def _read_fastparquet_group(fp, i: int, columns: list[str]):
    """Row group ``i`` of a file (``fp``, a ``fastparquet.ParquetFile``), only ``columns``,
    through fastparquet's own decoder, text columns into object arrays.

    Passing the file's dtypes explicitly keeps fastparquet (2026.9) off its new Arrow-string
    path, which it takes by default under pandas 3: that path gathers a text column's PLAIN pages
    as Arrow arrays and its dictionary pages into the object array, and when a column chunk holds
    both — as every pyarrow file does once a dictionary passes ``dictionary_pagesize_limit``
    (1 MiB) and the rest of the chunk falls back to PLAIN — it drops the Arrow part and returns
    None for those rows. The object path decodes the same pages (dictionary, RLE indices, PLAIN
    byte arrays, definition levels) with fastparquet's own code, so the check stays independent
    of pyarrow and still sees every value."""
    return fp[i].to_pandas(columns=columns, dtypes={c: fp.dtypes[c] for c in columns if c in fp.dtypes})


def _read_fastparquet(files):
    """Whole files through ``_read_fastparquet_group`` (for tests; ``validate`` reads a row group
    and a few columns at a time)."""
    import fastparquet
    import pandas as pd

    frames = []
    for f in files:
        fp = fastparquet.ParquetFile(str(f))
        frames += [_read_fastparquet_group(fp, i, list(fp.columns)) for i in range(len(fp.row_groups))]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)


def _compare_frames(ours: pa.Table, theirs) -> list[str]:
    """Column-by-column comparison, vectorised (decimals as floats, timestamps as integers)."""
    import numpy as np
    import pyarrow.compute as pc

    bad = []
    if ours.num_rows != len(theirs):
        return [f"{len(theirs)} rows, pyarrow reads {ours.num_rows}"]
    for name in ours.column_names:
        if name not in theirs.columns:
            bad.append(f"column {name} missing")
            continue
        a = ours.column(name)
        b = theirs[name]
        nulls_a = a.is_null().to_numpy(zero_copy_only=False)
        nulls_b = b.isna().to_numpy()
        if not np.array_equal(nulls_a, nulls_b):
            bad.append(f"{name}: nulls differ")
            continue
        keep = ~nulls_a
        if pa.types.is_timestamp(a.type) or pa.types.is_date(a.type):
            unit = a.type.unit if pa.types.is_timestamp(a.type) else "D"
            x = pc.cast(a, pa.int64()) if pa.types.is_timestamp(a.type) else pc.cast(pc.cast(a, pa.int32()), pa.int64())
            x = x.to_numpy(zero_copy_only=False)
            if unit == "D":
                # fastparquet reads dates as datetime64[ns], which only spans 1677-2262: compare the
                # representable ones (the dirty profile injects 9999-12-31 on purpose)
                keep = keep & (x > -106_000) & (x < 106_000)
            y = b.to_numpy()[keep].astype(f"datetime64[{unit}]").astype(np.int64)
            same = np.array_equal(x[keep], y)
        elif pa.types.is_decimal(a.type) or pa.types.is_floating(a.type):
            x = pc.cast(a, pa.float64()).to_numpy(zero_copy_only=False)[keep]
            y = b.to_numpy(dtype=float, na_value=np.nan)[keep]
            same = np.allclose(x, y, rtol=1e-12, atol=0, equal_nan=True)
        else:
            x = a.to_numpy(zero_copy_only=False)[keep]
            y = b.to_numpy()[keep]
            same = bool((x == y).all()) if len(x) else True
        if not same:
            bad.append(f"{name}: values differ")
    return bad
