"""Parquet output: one dataset folder per table, ``<table>/part-00000.parquet``, ….

Written with ``pyarrow.parquet.ParquetWriter`` opened with the table's Arrow schema (native
decimal, date and timestamp types), the seed, profile and schema hash in the key-value metadata.

``validate`` also reads every file back with fastparquet, an independent reader, and compares
row counts and values with what pyarrow reads (check kind ``parquet_independent_reader``).

Options (``--option KEY=VALUE``): ``compression`` (snappy | zstd | gzip | none; default snappy),
``row_group_rows`` (default 262,144; row groups always hold exactly this many rows, whatever
the engine's block size, so the bytes never depend on it), ``max_rows_per_file`` (default 0: one file per table;
otherwise roll over to the next ``part-NNNNN.parquet``), ``max_file_bytes`` (default 0; otherwise
start the next part once a file has reached this many bytes, checked after each row group),
``dictionary`` (true/false, default true).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shared.formats import Format, check_known_options, choice_option, int_option, register

COMPRESSIONS = ("snappy", "zstd", "gzip", "none")


def _int_option(opts: dict, key: str, default: int, minimum: int = 0) -> int:
    return int_option(opts, key, default, minimum)


class ParquetWriter:
    def __init__(self, out_dir: Path, table, schema: pa.Schema, options: dict[str, Any]):
        self.dir = out_dir / table.name
        self.dir.mkdir(parents=True, exist_ok=False)
        run = options.get("_run", {})
        meta = dict(schema.metadata or {})
        meta.update({
            b"datagen.seed": str(run.get("seed", "")).encode(),
            b"datagen.profile": str(run.get("profile", "")).encode(),
            b"datagen.schema": str(run.get("schema_name", "")).encode(),
            b"datagen.schema_sha256": str(run.get("schema_sha256", "")).encode(),
            b"datagen.version": str(run.get("tool_version", "")).encode(),
        })
        self.schema = schema.with_metadata(meta)
        self.compression = options["compression"]
        self.row_group_rows = options["row_group_rows"]
        self.max_rows_per_file = options["max_rows_per_file"]
        self.max_file_bytes = options.get("max_file_bytes", 0)
        self.dictionary = options["dictionary"]
        self.files: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._rows_in_file = 0
        self._buffer: list[pa.RecordBatch] = []
        self._buffered = 0

    def _open_next(self) -> None:
        if self._writer is not None:
            self._writer.close()
        path = self.dir / f"part-{len(self.files):05d}.parquet"
        self.files.append(path)
        self._writer = pq.ParquetWriter(
            path, self.schema, compression=None if self.compression == "none" else self.compression,
            use_dictionary=self.dictionary, write_statistics=True, store_schema=True,
        )
        self._rows_in_file = 0

    def write_batch(self, batch: pa.RecordBatch) -> None:
        """Buffer rows and write row groups of exactly ``row_group_rows`` rows (the last may be
        shorter), so the file's bytes do not depend on the engine's block size."""
        self._buffer.append(batch)
        self._buffered += batch.num_rows
        while self._buffered >= self.row_group_rows:
            self._flush(self.row_group_rows)

    def _flush(self, n: int) -> None:
        table = pa.Table.from_batches(self._buffer, schema=self.schema)
        head, tail = table.slice(0, n), table.slice(n)
        self._buffer = tail.to_batches() if tail.num_rows else []
        self._buffered = tail.num_rows
        self._write_group(head.combine_chunks().to_batches(max_chunksize=n)[0] if head.num_rows else None)

    def _write_group(self, batch: pa.RecordBatch | None) -> None:
        if batch is None:
            return
        if self._writer is None:
            self._open_next()
        while batch.num_rows:
            room = batch.num_rows
            if self.max_rows_per_file:
                room = self.max_rows_per_file - self._rows_in_file
                if room <= 0:
                    self._open_next()
                    room = self.max_rows_per_file
            part = batch.slice(0, room) if room < batch.num_rows else batch
            self._writer.write_batch(part, row_group_size=self.row_group_rows)
            self._rows_in_file += part.num_rows
            batch = batch.slice(part.num_rows)
            if self.max_file_bytes and self.files[-1].stat().st_size >= self.max_file_bytes:
                self._rows_in_file = self.max_rows_per_file or (1 << 62)  # full: next rows open a new part
                if not self.max_rows_per_file:
                    self._open_next()

    def close(self) -> list[Path]:
        if self._buffered:
            self._flush(self._buffered)
        if self._writer is None:
            self._open_next()  # an empty table still gets its (empty) file
        self._writer.close()
        self._writer = None
        return [p.relative_to(self.dir.parent) for p in self.files]

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None


@register("parquet")
class ParquetFormat(Format):
    name = "parquet"
    widths = {"int": 4.0, "float": 8.0, "decimal": 8.0, "bool": 0.2, "string": 9.0, "date": 2.0,
              "timestamp": 8.0, "uuid": 36.0}

    def check_options(self, opts: dict[str, str]) -> dict[str, Any]:
        known = {"compression", "row_group_rows", "max_rows_per_file", "max_file_bytes", "dictionary"}
        check_known_options(opts, known, "Parquet")
        comp = choice_option(opts, "compression", COMPRESSIONS, "snappy")
        dictionary = choice_option(opts, "dictionary", ("true", "false"), "true")
        return {
            "compression": comp,
            "row_group_rows": _int_option(opts, "row_group_rows", 1 << 18, 1),
            "max_rows_per_file": _int_option(opts, "max_rows_per_file", 0, 0),
            "max_file_bytes": _int_option(opts, "max_file_bytes", 0, 0),
            "dictionary": dictionary == "true",
        }

    def open_writer(self, out_dir: Path, table, arrow_schema: pa.Schema, options: dict[str, Any]):
        if "compression" not in options:
            options.update(self.check_options({}))
        return ParquetWriter(out_dir, table, arrow_schema, options)

    def artifacts(self, out_dir: Path, table) -> list[Path]:
        return sorted((out_dir / table.name).glob("part-*.parquet"))

    def read_table(self, out_dir: Path, table, arrow_schema: pa.Schema) -> pa.Table:
        files = self.artifacts(out_dir, table)
        return pa.concat_tables([pq.read_table(f) for f in files]) if files else arrow_schema.empty_table()

    def extra_checks(self, out_dir: Path, schema, plan) -> list[dict]:
        """Read every file with fastparquet too and compare with pyarrow's reading."""
        from shared.validation.checks import result

        out = []
        for table in schema.tables:
            files = self.artifacts(out_dir, table)
            if not files:
                continue
            try:
                ours = pa.concat_tables([pq.read_table(f) for f in files])
                theirs = _read_fastparquet(files)
            except Exception as exc:  # noqa: BLE001 - any reader failure is the check's failure
                out.append(result("parquet_independent_reader", table.name, None, "fail",
                                  f"fastparquet cannot read the files: {type(exc).__name__}: {exc}"[:300]))
                continue
            bad = _compare_frames(ours, theirs)
            out.append(result("parquet_independent_reader", table.name, None, "fail" if bad else "pass",
                              f"fastparquet reads differently: {'; '.join(bad[:3])}" if bad else
                              f"fastparquet reads the same {ours.num_rows} rows",
                              expected=ours.num_rows, observed=len(theirs)))
        return out


def _read_fastparquet(files):
    import fastparquet
    import pandas as pd

    frames = [fastparquet.ParquetFile(str(f)).to_pandas() for f in files]
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
