"""Parquet: the conformance suite plus Parquet specifics."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

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

    def test_parts_and_row_groups_do_not_depend_on_workers_or_blocks(self, app, schema_file, tmp_path):
        """Parts of max_rows_per_file rows, row groups counted from each file's start; the workers
        write whole parts, and 1 worker, 2 workers and any block size give the same files."""
        opts = ("--option", "max_rows_per_file=110", "--option", "row_group_rows=50")
        digests = []
        for i, extra in enumerate([("--workers", "1"), ("--workers", "2"), ("--workers", "2", "--block-rows", "7")]):
            out = tmp_path / f"o{i}"
            res = self.generate(app, schema_file, out, *opts, *extra)
            assert res.exit_code == 0, res.output
            m = json.loads((out / "manifest.json").read_text())
            digests.append([(f["path"], f["sha256"]) for f in m["files"]])
            parts = sorted((out / "people").iterdir())
            assert [pq.ParquetFile(p).metadata.num_rows for p in parts] == [110, 110, 80]
            groups = [[f.metadata.row_group(g).num_rows for g in range(f.num_row_groups)]
                      for f in map(pq.ParquetFile, parts)]
            assert groups == [[50, 50, 10], [50, 50, 10], [50, 30]]
        assert digests[0] == digests[1] == digests[2]
        assert self.validate(app, schema_file, tmp_path / "o1").exit_code == 0

    def test_manifest_digests_are_the_files(self, generated):
        import hashlib

        m = json.loads((generated / "manifest.json").read_text())
        for f in m["files"]:
            data = (generated / f["path"]).read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (f["bytes"], f["sha256"])

    def test_dictionary_auto_encodes_only_columns_it_pays_for(self, app, schema_file, tmp_path):
        def encodings(out):
            f = pq.ParquetFile(next((out / "people").iterdir()))
            rg = f.metadata.row_group(0)
            return {rg.column(i).path_in_schema: "PLAIN_DICTIONARY" in rg.column(i).encodings or
                    "RLE_DICTIONARY" in rg.column(i).encodings for i in range(rg.num_columns)}

        assert self.generate(app, schema_file, tmp_path / "a").exit_code == 0
        auto = encodings(tmp_path / "a")
        assert auto["name"] is True  # text
        assert auto["person_id"] is False and auto["score"] is False  # a key and random floats: plain
        assert auto["age"] is True and auto["tier"] is True  # a small range, a list of values
        assert self.generate(app, schema_file, tmp_path / "b", "--option", "dictionary=true").exit_code == 0
        every = encodings(tmp_path / "b")
        assert all(v for k, v in every.items() if k != "active")  # Parquet has no dictionary for booleans
        assert self.generate(app, schema_file, tmp_path / "c", "--option", "dictionary=false").exit_code == 0
        assert not any(encodings(tmp_path / "c").values())


BIG_TEXT_SCHEMA = """
version: 1
name: bigtext
seed: 5
tables:
  - name: t
    rows: 120000
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - {name: uid, type: uuid, generator: uuid4}
      - {name: label, type: string, nullable: true, null_rate: 0.1,
         generator: {type: template, params: {template: "customer.{id}@example.com"}}}
"""


class TestIndependentReaderOnLargeText:
    """Text and uuid columns with several MiB of distinct values: pyarrow's dictionary passes
    ``dictionary_pagesize_limit`` (1 MiB) and the rest of the column chunk is PLAIN. Those files
    are correct, and the fastparquet cross-check must read them so (it used to see None for every
    row after the fallback and fail ``validate``)."""

    @pytest.fixture(scope="class")
    @classmethod
    def setup(cls, tmp_path_factory):
        from generators.parquet_generator.__main__ import app

        d = tmp_path_factory.mktemp("bigtext")
        schema = d / "bigtext.yaml"
        schema.write_text(BIG_TEXT_SCHEMA)
        out = d / "out"
        res = TestParquetConformance().generate(app, schema, out, "--workers", "1")
        assert res.exit_code == 0, res.output
        return app, schema, out

    def test_columns_fall_back_from_dictionary_to_plain(self, setup):
        _, _, out = setup
        rg = pq.ParquetFile(out / "t" / "part-00000.parquet").metadata.row_group(0)
        enc = {rg.column(i).path_in_schema: set(rg.column(i).encodings) for i in range(rg.num_columns)}
        for name in ("uid", "label"):  # the case under test: one column chunk, both encodings
            assert {"RLE_DICTIONARY", "PLAIN"} <= enc[name], enc

    def test_validate_passes(self, setup):
        app, schema, out = setup
        res = TestParquetConformance().validate(app, schema, out)
        assert res.exit_code == 0, res.output
        rep = json.loads((out / "validation_report.json").read_text())
        (check,) = [c for c in rep["checks"] if c["kind"] == "parquet_independent_reader"]
        assert check["status"] == "pass" and check["observed"] == 120000, check

    def test_fastparquet_reads_every_value(self, setup):
        from generators.parquet_generator.format import _read_fastparquet

        _, _, out = setup
        ours = pq.read_table(out / "t")
        theirs = _read_fastparquet([out / "t" / "part-00000.parquet"])
        for name in ("uid", "label"):
            assert theirs[name].tolist() == ours.column(name).to_pylist(), name

    def test_a_real_difference_still_fails(self, setup, monkeypatch):
        """The cross-check is not weakened: a value fastparquet reads differently fails it."""
        from generators.parquet_generator import format as parquet_format

        app, schema, out = setup
        real = parquet_format._read_fastparquet_group

        def misread(fp, i, columns):
            df = real(fp, i, columns)
            if "uid" in columns:
                df.loc[117_000, "uid"] = "00000000-0000-4000-8000-000000000000"
            return df

        monkeypatch.setattr(parquet_format, "_read_fastparquet_group", misread)
        res = TestParquetConformance().validate(app, schema, out)
        assert res.exit_code == 1, res.output
        rep = json.loads((out / "validation_report.json").read_text())
        (check,) = [c for c in rep["checks"] if c["kind"] == "parquet_independent_reader"]
        assert check["status"] == "fail" and "uid: values differ" in check["message"], check
