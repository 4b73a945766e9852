"""Delta Lake output: one Delta table per table, ``<table>/part-NNNNN.parquet`` plus
``<table>/_delta_log/00000000000000000000.json``.

The data files are the Parquet format's parts (found by name in the format registry: no
frontend imports another), written exactly as ``--format parquet`` writes
them (in parallel with ``--workers N``, the same row groups, the same Hive-style folders for a
table with ``partition_by``, which become the Delta table's partition columns). Once every part
is written, each table is committed as a new Delta table in one transaction whose add actions
list the parts in row order, each with its row count (``numRecords``), by delta-rs
(``deltalake.transaction.create_table_with_add_actions``; no JVM). The run's folder is still
replaced atomically by ``shared.api``, so a reader never sees a half-committed table.

``generate --engine spark --format delta`` writes the parts with Spark (datagen.spark) and
commits them the same way: Spark's own Delta writer needs the delta-spark jar.

Reading back (``validate``): the files the Delta log names, in part order — never a file the log
does not list — and the check ``delta_log`` opens each table with ``deltalake.DeltaTable``: one
version, the same files on disk as in the log, and the rows delta-rs counts through
``to_pyarrow_dataset()`` equal to the Parquet footers'.

Options (``--option KEY=VALUE``): those of Parquet (compression, row_group_rows,
max_rows_per_file, max_file_bytes, dictionary, max_partitions), with the same defaults.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path
from typing import Any

import pyarrow as pa

from shared.formats import FORMATS, Format, RunInfo, check_known_options, register
from shared.io import partition

LOG = "_delta_log"
#: rows per batch when a partitioned table is read back (a batch of every folder may be held)
PARTITION_READ_ROWS = 1 << 12
#: the first commit of a table (every table is created by one commit)
FIRST_COMMIT = "00000000000000000000.json"


def _table_schema(table, run: RunInfo | None) -> pa.Schema:
    from shared.schema_dsl.engine import arrow_schema

    return arrow_schema(table, dirty=run is not None and run.profile == "dirty")


def _partition_values(rel: str, table) -> dict[str, str | None]:
    """A part's folder (``region=EU/day=2025-01-01``) as Delta partition values (text, None for a
    null)."""
    if not table.partition_by:
        return {}
    folder = rel.rsplit("/", 1)[0]
    values = partition.folder_values(folder, table)
    kinds = {c: table.column(c).dtype.kind for c in table.partition_by}
    return {c: partition.value_text(v, kinds[c]) for c, v in zip(table.partition_by, values, strict=True)}


def commit_table(out_dir: Path, table, arrow_schema: pa.Schema, files: list[Path]) -> Path:
    """Make ``<out_dir>/<table>`` a Delta table holding ``files`` (its Parquet parts, in row
    order) in one commit; returns the commit file's path relative to ``out_dir``."""
    import pyarrow.parquet as pq
    from deltalake import Schema
    from deltalake.transaction import AddAction, create_table_with_add_actions

    root = out_dir / table.name
    actions = []
    for f in files:
        rel = f.relative_to(root).as_posix()
        st = f.stat()
        rows = pq.read_metadata(f).num_rows
        actions.append(AddAction(path=rel, size=st.st_size,
                                 partition_values=_partition_values(rel, table),
                                 modification_time=int(st.st_mtime * 1000), data_change=True,
                                 stats=json.dumps({"numRecords": rows})))
    schema = arrow_schema.remove_metadata()
    create_table_with_add_actions(str(root), Schema.from_arrow(schema), actions, mode="error",
                                  partition_by=list(table.partition_by) or None, name=table.name)
    return (root / LOG / FIRST_COMMIT).relative_to(out_dir)


def _parquet() -> Format:
    """The Parquet format, found by name in the format registry (no frontend imports another):
    it writes the parts and reads them back."""
    from shared.formats import format_names

    format_names()  # the built-ins named in the registry
    return FORMATS["parquet"]


@register("delta")
class DeltaFormat(Format):
    name = "delta"
    stop_past_plan = True  # Parquet's encodings expand
    option_help = {
        "compression": "snappy (default), zstd, gzip or none",
        "row_group_rows": "rows per row group (default 262144)",
        "max_rows_per_file": "rows per part file, one add action each (default 1048576; 0: one file per table)",
        "max_file_bytes": "start a new part file past this size (default 0: off)",
        "dictionary": "auto (default), true or false, as for Parquet",
        "max_partitions": "most folders a partitioned table may make (default 1000; 0: no limit)",
    }

    def bytes_per_value(self, kind: str) -> float:
        return _parquet().bytes_per_value(kind)

    def check_options(self, opts: dict[str, str]) -> dict[str, Any]:
        check_known_options(opts, self.option_help, "Delta")
        return _parquet().check_options(opts)

    # writing: the Parquet format's parts, then one commit per table

    def prepare(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> None:
        _parquet().prepare(out_dir, schema, options, run)

    def open_writer(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any],
                    run: RunInfo | None = None):
        return _parquet().open_writer(out_dir, table, arrow_schema, options, run)

    def part_spans(self, table, rows: int, options: dict[str, Any]) -> list[tuple[int, int]] | None:
        return _parquet().part_spans(table, rows, options)

    def part_batch_rows(self, options: dict[str, Any]) -> int | None:
        return _parquet().part_batch_rows(options)

    def write_part(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any], index: int,
                   batches, run: RunInfo | None = None):
        return _parquet().write_part(out_dir, table, arrow_schema, options, index, batches, run)

    def _parts(self, out_dir: Path, table) -> list[Path]:
        return _parquet().artifacts(out_dir, table)

    def finish(self, out_dir: Path, schema, options: dict[str, Any], run: RunInfo | None = None) -> list[Path]:
        """Every part written: commit each table as a Delta table; the commit files."""
        _parquet().finish(out_dir, schema, options, run)
        return [commit_table(out_dir, t, _table_schema(t, run), self._parts(out_dir, t)) for t in schema.tables]

    # reading: the files the log names, in part order

    def log_files(self, out_dir: Path, table) -> list[Path] | None:
        """The data files the table's Delta log names, in part order (``None``: no Delta table)."""
        root = out_dir / table.name
        if not (root / LOG).is_dir():
            return None
        from deltalake import DeltaTable

        files = [Path(urllib.parse.unquote(u.removeprefix("file://"))) for u in DeltaTable(str(root)).file_uris()]
        files = [p if p.is_absolute() else root / p for p in files]
        return sorted(files, key=lambda p: (p.name, p.as_posix()))

    def artifacts(self, out_dir: Path, table) -> list[Path]:
        return self.log_files(out_dir, table) or []

    def count_rows(self, out_dir: Path, table) -> int:
        """The rows of every file the log names, from the Parquet footers."""
        import pyarrow.parquet as pq

        return sum(pq.read_metadata(f).num_rows for f in self.artifacts(out_dir, table))

    def read_table(self, out_dir: Path, table, arrow_schema: pa.Schema) -> pa.Table:
        return self.read_batches(out_dir, table, arrow_schema).read_all()

    def read_partitions(self, out_dir: Path, table, arrow_schema: pa.Schema,
                        columns: list[str] | None = None) -> list[tuple[str, pa.RecordBatchReader]]:
        """A partitioned table's folders in order, each with a reader of the rows of the files the
        log names there (validate merges them back into row order, as for Parquet)."""
        parquet: Any = _parquet()
        root = out_dir / table.name
        folders: dict[str, list[Path]] = {}
        for f in self.artifacts(out_dir, table):
            folders.setdefault(f.parent.relative_to(root).as_posix(), []).append(f)
        want = partition.file_schema(arrow_schema, table.partition_by)
        return [(folder, parquet.read_files(fs, want, columns, PARTITION_READ_ROWS))
                for folder, fs in sorted(folders.items())]

    def read_batches(self, out_dir: Path, table, arrow_schema: pa.Schema,
                     columns: list[str] | None = None) -> pa.RecordBatchReader:
        if table.partition_by:
            return partition.layout_reader(self.read_partitions(out_dir, table, arrow_schema, columns), table,
                                           arrow_schema, columns)
        parquet: Any = _parquet()
        return parquet.read_files(self.artifacts(out_dir, table), arrow_schema, columns)

    def extra_checks(self, out_dir: Path, schema, plan) -> list[dict]:
        """Parquet's independent reader on the parts, and ``delta_log``: each table opened with
        delta-rs has one version, the log lists exactly the part files on disk, and delta-rs's
        dataset counts the rows the footers tell."""
        from shared.validation.checks import result

        out = _parquet().extra_checks(out_dir, schema, plan)
        for table in schema.tables:
            kind = "delta_log"
            root = out_dir / table.name
            try:
                from deltalake import DeltaTable

                if not (root / LOG).is_dir():
                    out.append(result(kind, table.name, None, "fail", f"{table.name}/{LOG}: no Delta log"))
                    continue
                dt = DeltaTable(str(root))
                logged = {os.path.realpath(p) for p in self.log_files(out_dir, table) or []}
                on_disk = {os.path.realpath(p) for p in self._parts(out_dir, table)}
                rows = dt.to_pyarrow_dataset().count_rows()
                footers = self.count_rows(out_dir, table)
            except Exception as exc:  # noqa: BLE001 - any reader failure is the check's failure
                out.append(result(kind, table.name, None, "fail",
                                  f"delta-rs cannot read the table: {type(exc).__name__}: {exc}"[:300]))
                continue
            problems = []
            if dt.version() != 0:
                problems.append(f"version {dt.version()}, datagen commits version 0")
            if logged != on_disk:
                extra = sorted(os.path.relpath(p, root) for p in on_disk - logged)
                gone = sorted(os.path.relpath(p, root) for p in logged - on_disk)
                problems.append("the log and the folder differ" + (f"; not in the log: {', '.join(extra[:3])}"
                                                                    if extra else "")
                                + (f"; not on disk: {', '.join(gone[:3])}" if gone else ""))
            if rows != footers:
                problems.append(f"delta-rs counts {rows} rows, the footers {footers}")
            out.append(result(kind, table.name, None, "fail" if problems else "pass",
                              "; ".join(problems) if problems else
                              f"version 0, {len(logged)} file(s), {rows} rows read by delta-rs",
                              expected=footers, observed=rows))
        return out
