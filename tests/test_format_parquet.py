"""Parquet: the conformance suite plus Parquet specifics."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from tests.conformance import FormatConformance


class TestParquetConformance(FormatConformance):
    FORMAT = "parquet"
    MODULE = "generators.parquet_generator"

    def test_metadata_and_native_types(self, generated):
        f = pq.ParquetFile(generated / "people" / "part-00000.parquet")
        meta = f.schema_arrow.metadata
        m = json.loads((generated / "manifest.json").read_text())
        assert meta[b"datagen.seed"] == b"11"
        assert meta[b"datagen.schema_sha256"].decode() == m["schema"]["sha256"]
        types = {fld.name: str(fld.type) for fld in f.schema_arrow}
        assert types["balance"] == "decimal128(12, 2)" and types["born"] == "date32[day]"
        assert types["seen_at"] == "timestamp[us, tz=UTC]"

    def test_part_files_roll_over(self, app, schema_file, tmp_path):
        out = tmp_path / "o"
        res = self.generate(app, schema_file, out, "--option", "max_rows_per_file=100", "--option", "compression=zstd")
        assert res.exit_code == 0, res.output
        parts = sorted(p.name for p in (out / "people").iterdir())
        assert parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
        assert self.validate(app, schema_file, out).exit_code == 0

    def test_bad_option(self, app, schema_file, tmp_path):
        res = self.generate(app, schema_file, tmp_path / "o", "--option", "compression=lz9")
        assert res.exit_code == 2

    def test_file_size_limit_rolls_over(self, app, schema_file, tmp_path):
        out = tmp_path / "o"
        res = self.generate(app, schema_file, out, "--option", "max_file_bytes=8000", "--option", "row_group_rows=50")
        assert res.exit_code == 0, res.output
        parts = sorted((out / "people").iterdir())
        assert len(parts) > 1
        assert all(p.stat().st_size < 8000 + 40_000 for p in parts)
        assert self.validate(app, schema_file, out).exit_code == 0

    def test_independent_reader_check_runs(self, app, schema_file, generated, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        assert self.validate(app, schema_file, out).exit_code == 0
        rep = self.report(out)
        assert [c for c in rep["checks"] if c["kind"] == "parquet_independent_reader" and c["status"] == "pass"]
