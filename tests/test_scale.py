"""Work that grows linearly: in columns (describe, generate, validate) and in manifest files.

No wall clock here (the timings are in ``bench/hostile.py``): each test counts a deterministic
measure of the work — columns of the model visited, column names materialised from Arrow,
files hashed or stat'ed — at a size N and at 4·N, and asserts it grew about 4×, never N².
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

import datagen
from shared.schema_dsl.loader import load_schema
from tests.conformance import REPORT_SCHEMA

#: column kinds cycled through by ``wide_schema``: every check kind, references in the same row
#: (template, expr) so lookups by name happen per column
_KINDS = [
    "{{name: c{i}, type: int64, min: 0, max: 1000, generator: {{type: uniform_int, params: {{min: 0, max: 1000}}}}}}",
    "{{name: c{i}, type: string, max_length: 8, pattern: '[a-z]{{5}}', "
    "generator: {{type: regex, params: {{pattern: '[a-z]{{5}}'}}}}}}",
    "{{name: c{i}, type: float64, nullable: true, null_rate: 0.2, "
    "generator: {{type: normal, params: {{mean: 0, std: 1}}}}}}",
    "{{name: c{i}, type: string, allowed: [a, b, c], generator: {{type: choice, params: {{values: [a, b, c]}}}}}}",
    "{{name: c{i}, type: date, generator: {{type: uniform_date, params: {{start: '2021-01-01', end: '2024-06-30'}}}}}}",
    "{{name: c{i}, type: int64, unique: true, generator: {{type: sequence, params: {{start: 1}}}}}}",
    "{{name: c{i}, type: string, generator: {{type: template, params: {{template: '{{c{ref}}}-x'}}}}}}",
    "{{name: c{i}, type: int64, generator: {{type: expr, params: {{expr: 'c{ref} + 1'}}}}}}",
]


def wide_schema(path: Path, n: int, rows: int = 20) -> Path:
    """One table of ``n`` columns (a multiple of 8) and ``rows`` rows."""
    lines = ["version: 1", f"name: wide{n}", "tables:", "  - name: t", f"    rows: {rows}",
             "    primary_key: c5", "    columns:"]
    for i in range(n):
        kind = _KINDS[i % len(_KINDS)]
        ref = i - 6 if "template" in kind else i - 7  # the int64 of the same group of 8
        lines.append("      - " + kind.format(i=i, ref=ref))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class _CountingColumns(tuple):
    """A table's ``columns``, counting every element handed out (iteration and indexing)."""

    visits = 0

    def __iter__(self):
        for c in tuple.__iter__(self):
            _CountingColumns.visits += 1
            yield c

    def __getitem__(self, i):
        got = tuple.__getitem__(self, i)
        _CountingColumns.visits += len(got) if isinstance(i, slice) else 1
        return got


def _column_visits(tmp: Path, n: int, fmt: str) -> tuple[int, int, int]:
    schema = load_schema(str(wide_schema(tmp / f"wide{n}.yaml", n)))
    for t in schema.tables:
        object.__setattr__(t, "columns", _CountingColumns(t.columns))  # frozen: swapped in for the count
    out = tmp / f"out{n}"
    _CountingColumns.visits = 0
    datagen.describe(schema, format=fmt)
    described = _CountingColumns.visits
    datagen.generate(schema, out=out, format=fmt, workers=1)
    generated = _CountingColumns.visits - described
    report = datagen.validate(schema, out=out, format=fmt)
    assert report["status"] == "pass", [c for c in report["checks"] if c["status"] == "fail"]
    return described, generated, _CountingColumns.visits - described - generated


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_columns_of_the_model_are_visited_linearly(tmp_path, fmt):
    """describe, generate and validate visit the schema's columns O(columns) times: a lookup by
    name does not scan the table (5,000 columns took 45 s to generate, > 300 s to validate)."""
    small = _column_visits(tmp_path, 48, fmt)
    large = _column_visits(tmp_path, 192, fmt)
    for step, a, b in zip(("describe", "generate", "validate"), small, large, strict=True):
        assert b <= 4.5 * a, f"{step}: {a} column visits at 48 columns, {b} at 192 (quadratic)"


class _NamesCounted:
    """A record batch stand-in counting the column names it materialises (``schema``,
    ``column_names``): asking for them once per column of every batch is quadratic."""

    names = 0

    def __init__(self, batch):
        self._batch = batch

    @property
    def schema(self):
        _NamesCounted.names += self._batch.num_columns
        return self._batch.schema

    @property
    def column_names(self):
        _NamesCounted.names += self._batch.num_columns
        return self._batch.column_names

    def __getattr__(self, attr):
        return getattr(self._batch, attr)


def _names_materialised(tmp: Path, n: int, monkeypatch) -> int:
    from shared.validation import runner

    schema = load_schema(str(wide_schema(tmp / f"wide{n}.yaml", n)))
    out = tmp / f"out{n}"
    datagen.generate(schema, out=out, format="csv", workers=1)
    conform = runner._Conformer.__call__
    with monkeypatch.context() as m:
        m.setattr(runner._Conformer, "__call__", lambda self, batch: _NamesCounted(conform(self, batch)))
        _NamesCounted.names = 0
        report = datagen.validate(schema, out=out, format="csv")
    assert report["status"] == "pass"
    return _NamesCounted.names


def test_validate_reads_the_column_names_of_the_data_linearly(tmp_path, monkeypatch):
    """The checks look each column up in a batch by name, never by scanning the batch's names
    once per column (the old checks asked Arrow for the list of every name once per column)."""
    small = _names_materialised(tmp_path, 48, monkeypatch)
    large = _names_materialised(tmp_path, 192, monkeypatch)
    assert 0 < large <= 4.5 * small, f"{small} column names materialised at 48 columns, {large} at 192"


# --- many files in the manifest -----------------------------------------------------------------

SMALL = """\
version: 1
name: small
tables:
  - name: t
    rows: 50
    columns:
      - {name: id, type: int64, generator: sequence}
"""


@pytest.fixture
def small_out(tmp_path) -> tuple[Path, Path]:
    schema = tmp_path / "small.yaml"
    schema.write_text(SMALL)
    out = tmp_path / "out"
    datagen.generate(str(schema), format="csv", out=out, workers=1)
    return schema, out


def _forge(out: Path, entries: list[dict]) -> None:
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] += entries
    (out / "manifest.json").write_text(json.dumps(manifest))


def _missing(n: int, start: int = 0) -> list[dict]:
    return [{"path": f"sub/part-{i:06d}.csv", "table": "t", "bytes": 1, "sha256": "0" * 64}
            for i in range(start, start + n)]


def _stats_and_report(schema: Path, out: Path, monkeypatch) -> tuple[int, dict]:
    import os

    calls = [0]
    stat, lstat = os.stat, os.lstat

    def counted(fn):
        def call(*a, **k):
            calls[0] += 1
            return fn(*a, **k)
        return call

    with monkeypatch.context() as m:
        m.setattr(os, "stat", counted(stat))
        m.setattr(os, "lstat", counted(lstat))
        report = datagen.validate(str(schema), format="csv", out=out)
    return calls[0], report


def test_a_manifest_of_many_files_costs_one_stat_each_and_a_capped_report(small_out, monkeypatch):
    """A forged manifest listing 300,000 missing files took 72 s (17 s with --quiet) and wrote a
    49 MB report: per entry, validate now makes at most two stat calls (a link check and the
    lstat that tells missing, special and regular apart; the folders on the way are checked once),
    and lists at most ``MAX_FILE_RESULTS`` results of a kind, the rest folded into one."""
    schema, out = small_out
    _forge(out, _missing(1_000))
    small, _ = _stats_and_report(schema, out, monkeypatch)
    _forge(out, _missing(3_000, start=1_000))
    large, report = _stats_and_report(schema, out, monkeypatch)
    assert large - small <= 2 * 3_000 + 20, f"{small} stat calls with 1,000 files listed, {large} with 4,000"
    from shared.validation.runner import MAX_FILE_RESULTS

    missing = [c for c in report["checks"] if c["kind"] == "artifact_exists" and c["status"] == "fail"]
    assert len(missing) == MAX_FILE_RESULTS + 1
    folded = missing[-1]
    assert folded["unexpected_count"] == 4_000 - MAX_FILE_RESULTS and folded["message"].startswith("... and 3,900 more")
    assert folded["sample"][0] == f"sub/part-{MAX_FILE_RESULTS:06d}.csv" and len(folded["sample"]) == 5
    assert report["status"] == "fail" and len(report["checks"]) < MAX_FILE_RESULTS + 30
    jsonschema.validate(report, REPORT_SCHEMA)


def test_a_file_listed_many_times_is_hashed_once(small_out, monkeypatch):
    """A manifest naming one large file 100,000 times must not make validate hash it 100,000
    times: a path listed again fails ``manifest`` and is not read again."""
    import json

    import shared.io.output as output

    schema, out = small_out
    listed = json.loads((out / "manifest.json").read_text())["files"]
    data = next(f for f in listed if f["path"] == "t.csv")
    _forge(out, [dict(data) for _ in range(500)] + [dict(data, path="./t.csv"), dict(data, path="t.csv/")])
    hashed: list[Path] = []
    digest = output.file_digest
    monkeypatch.setattr(output, "file_digest", lambda p: hashed.append(Path(p)) or digest(p))
    report = datagen.validate(str(schema), format="csv", out=out)
    assert sorted(p.name for p in hashed) == sorted(Path(f["path"]).name for f in listed)
    twice = [c for c in report["checks"] if c["kind"] == "manifest" and c["status"] == "fail"]
    assert sum(c.get("folded", 1) for c in twice) == 502 and "listed more than once" in twice[0]["message"]


# --- a Parquet part that expands to 100M rows ---------------------------------------------------

BOMB_ROWS = 100_000_000
#: address space for one validate run: a normal run needs about half of it; decoding the 100M
#: rows whole needs twice it (1.7 GB of Arrow data) — the run before the fix died of it
BOMB_AS_LIMIT = 1280 << 20
BOMB = """\
version: 1
name: bomb
tables:
  - name: t
    rows: 1000
    columns:
      - {name: s, type: string, allowed: [abcde, x], generator: {type: choice, params: {values: [abcde, x]}}}
      - {name: n, type: int64, unique: true, min: 0, generator: sequence}
"""


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> tuple[Path, Path]:
    """A datagen Parquet output whose one part is replaced by a 0.6 MB file of 100M rows (two
    constant columns: RLE runs of one dictionary entry), the manifest left as it was."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = tmp_path_factory.mktemp("bomb")
    schema = tmp / "bomb.yaml"
    schema.write_text(BOMB)
    out = tmp / "out"
    datagen.generate(str(schema), format="parquet", out=out, workers=1)
    part = out / "t" / "part-00000.parquet"
    arrow = pq.read_schema(part)
    chunk = 1 << 20
    batch = pa.record_batch([pa.array(["abcde"] * chunk), pa.array([7] * chunk, pa.int64())], schema=arrow)
    full, rest = divmod(BOMB_ROWS, chunk)
    # the same batch over and over: 100M rows written without 100M rows in memory
    table = pa.Table.from_batches([batch] * full + [batch.slice(0, rest)], schema=arrow)
    pq.write_table(table, part, row_group_size=BOMB_ROWS, use_dictionary=True, data_page_size=1 << 20)
    assert part.stat().st_size < 2 << 20 and pq.read_metadata(part).num_rows == BOMB_ROWS
    return schema, out


def _validate_under_a_memory_limit(schema: Path, out: Path, fmt: str = "parquet") -> dict:
    """validate in a subprocess whose address space is ``BOMB_AS_LIMIT``; its JSON report."""
    import json
    import os
    import resource
    import subprocess
    import sys

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (BOMB_AS_LIMIT, BOMB_AS_LIMIT))

    root = Path(__file__).resolve().parents[1]
    # one Arrow thread and two malloc arenas: the address space does not grow with the cores
    env = dict(os.environ, PYTHONPATH=str(root), OMP_NUM_THREADS="1", MALLOC_ARENA_MAX="2")
    run = subprocess.run([sys.executable, "-P", "-m", "datagen", "validate", "--format", fmt, "--schema",
                          str(schema), "--out", str(out), "--json"], preexec_fn=limit, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    report = json.loads(run.stdout)
    jsonschema.validate(report, REPORT_SCHEMA)
    assert not [c for c in report["checks"] if "Memory" in c["message"]], "ran out of memory"
    return report


def _statuses(report: dict) -> dict[str, str]:
    return {c["kind"]: c["status"] for c in report["checks"] if c["table"] == "t" or c["kind"] == "manifest"}


def test_a_part_whose_footer_disagrees_with_the_manifest_is_not_decoded(bomb):
    """The footers hold 100M rows, the manifest 1,000: row_count fails from the metadata and
    neither reader decodes the part (the run reached 13 GB RSS and 60 s before)."""
    report = _validate_under_a_memory_limit(*bomb)
    got = _statuses(report)
    assert got["checksum"] == "fail" and got["row_count"] == "fail" and got["parseable"] == "skipped"
    assert got["parquet_independent_reader"] == "skipped" and got["deterministic_replay"] == "skipped"
    (rows,) = [c for c in report["checks"] if c["kind"] == "row_count"]
    assert (rows["expected"], rows["observed"], rows["counted_from"]) == (1000, BOMB_ROWS, "metadata")
    assert not {"not_null", "unique", "allowed", "range"} & {c["kind"] for c in report["checks"]}


def test_a_part_of_100m_rows_is_checked_in_bounded_memory_without_a_manifest(bomb, tmp_path):
    """Without a manifest (a data contract) every row is checked, a batch at a time: the
    constant unique column has 99,999,999 duplicates, kept as one distinct key."""
    import shutil

    schema, out = bomb
    contract = tmp_path / "contract"
    shutil.copytree(out, contract)
    (contract / "manifest.json").unlink()
    report = _validate_under_a_memory_limit(schema, contract)
    got = _statuses(report)
    assert got["parseable"] == "pass" and got["row_count"] == "skipped"
    (unique,) = [c for c in report["checks"] if c["kind"] == "unique"]
    assert (unique["unexpected_count"], unique["element_count"], unique["sample"]) == (BOMB_ROWS - 1, BOMB_ROWS, [7])
    assert all(c["status"] == "pass" for c in report["checks"] if c["kind"] in ("not_null", "allowed", "range"))
    (cross,) = [c for c in report["checks"] if c["kind"] == "parquet_independent_reader"]
    assert cross["status"] == "skipped" and "decodes a row group whole" in cross["message"]


def test_a_forged_manifest_agreeing_with_the_part_is_checked_in_bounded_memory(bomb, tmp_path):
    """A manifest forged to say 100M rows (checksums resealed): the rows are read a batch at a
    time and only the replayed blocks are regenerated, piece by piece."""
    import hashlib
    import json
    import shutil

    schema, out = bomb
    forged = tmp_path / "forged"
    shutil.copytree(out, forged)
    manifest = json.loads((forged / "manifest.json").read_text())
    manifest["rows_overrides"] = {"t": BOMB_ROWS}
    for f in manifest["files"]:
        data = (forged / f["path"]).read_bytes()
        f["bytes"], f["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    (forged / "manifest.json").write_text(json.dumps(manifest))
    report = _validate_under_a_memory_limit(schema, forged)
    got = _statuses(report)
    assert got["checksum"] == "pass" and got["parseable"] == "pass" and got["row_count"] == "pass"
    (replay,) = [c for c in report["checks"] if c["kind"] == "deterministic_replay"]
    assert replay["status"] == "fail" and replay["element_count"] == sum(e - s for s, e in replay["blocks"]) < 300_000


# --- formats without row counts in their metadata, and SQLite -----------------------------------


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_a_compressed_file_that_expands_past_the_plan_is_not_read_to_its_end(tmp_path, fmt):
    """CSV and JSON have no row count to read first: reading stops at the first batch past the
    plan's rows, so a small gzip that expands to 4M rows is read one batch deep."""
    import gzip

    schema = tmp_path / "small.yaml"
    schema.write_text(SMALL)
    out = tmp_path / "out"
    datagen.generate(str(schema), format=fmt, out=out, workers=1, options={"compression": "gzip"})
    rows = 4_000_000
    line = b'{"id":1}\n' if fmt == "ndjson" else b"1\n"
    with gzip.open(out / f"t.{fmt}.gz", "wb") as f:
        f.write(b"" if fmt == "ndjson" else b"id\n")
        for _ in range(rows // 100_000):
            f.write(line * 100_000)
    report = datagen.validate(str(schema), format=fmt, out=out)
    got = _statuses(report)
    assert got["checksum"] == "fail" and got["row_count"] == "fail" and got["parseable"] == "skipped"
    (count,) = [c for c in report["checks"] if c["kind"] == "row_count"]
    assert count["counted_from"] == "stopped" and 50 < count["observed"] < rows // 2, count
    assert not {"not_null", "unique"} & {c["kind"] for c in report["checks"]}


def test_sqlite_tables_with_other_row_counts_are_still_read(tmp_path):
    """SQLite is not gated on ``count(*)``: it stores every row (no small file expands to many),
    and a database loaded with ``mode=append`` holds more rows than the plan by design — its
    values are still checked, only ``row_count`` fails."""
    import sqlite3

    schema = tmp_path / "small.yaml"
    schema.write_text(SMALL)
    out = tmp_path / "out"
    datagen.generate(str(schema), format="sqlite", out=out, workers=1)
    (db,) = out.glob("*.sqlite")
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO t SELECT id + 1000 FROM t")
    report = datagen.validate(str(schema), format="sqlite", out=out)
    (count,) = [c for c in report["checks"] if c["kind"] == "row_count"]
    assert (count["status"], count["observed"], count.get("counted_from")) == ("fail", 100, None)
    got = _statuses(report)
    assert got["parseable"] == "pass" and got["not_null"] == "pass"


def test_a_check_registered_as_a_plain_function_still_gets_whole_tables(small_out, monkeypatch):
    """Plugins register ``(vctx) -> results`` and read ``vctx.data(name)``: the whole table,
    conformed, as before the built-in checks streamed."""
    from shared.validation.checks import CHECKS, result

    def row_sum(vctx):
        data = vctx.data("t")
        return [result("row_sum", "t", "id", "pass", f"{data.num_rows} rows, sum {sum(data.column('id').to_pylist())}")]

    monkeypatch.setitem(CHECKS._items, "row_sum", row_sum)
    schema, out = small_out
    report = datagen.validate(str(schema), format="csv", out=out)
    (got,) = [c for c in report["checks"] if c["kind"] == "row_sum"]
    assert got["message"] == f"50 rows, sum {sum(range(1, 51))}"


CHILD_FIRST = """\
version: 1
name: childfirst
tables:
  - name: child
    rows: 20
    columns:
      - {name: parent_id, type: int64, generator: {type: fk, params: {table: parent, column: id}}}
  - name: parent
    rows: 10
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
"""


def test_a_foreign_key_does_not_read_an_expanding_parent_past_the_plan(tmp_path, monkeypatch):
    """A child listed before its parent reads the parent's keys first: that read stops past the
    plan's rows too (the foreign key is skipped), so an expanding parent is never read whole."""
    import gzip

    import pyarrow as pa

    from generators.csv_generator.format import CsvFormat

    schema = tmp_path / "childfirst.yaml"
    schema.write_text(CHILD_FIRST)
    out = tmp_path / "out"
    datagen.generate(str(schema), format="csv", out=out, workers=1, options={"compression": "gzip"})
    with gzip.open(out / "parent.csv.gz", "wb") as f:
        f.write(b"id\n")
        for _ in range(40):
            f.write(b"1\n" * 100_000)
    read = CsvFormat.read_batches
    decoded = [0]

    def counted(self, *a, **k):
        reader = read(self, *a, **k)

        def batches():
            for b in reader:
                decoded[0] += b.num_rows
                yield b

        return pa.RecordBatchReader.from_batches(reader.schema, batches())

    monkeypatch.setattr(CsvFormat, "read_batches", counted)
    report = datagen.validate(str(schema), format="csv", out=out)
    (fk,) = [c for c in report["checks"] if c["kind"] == "foreign_key"]
    assert fk["status"] == "skipped" and "could not be read" in fk["message"]
    assert decoded[0] < 2_000_000, f"{decoded[0]:,} rows decoded of a parent planned at 10"


@pytest.mark.parametrize("block_rows, rows", [(1, 10**9), (10**15, 10**15)])
def test_a_manifest_forging_a_billion_one_row_blocks_costs_nothing(small_out, block_rows, rows):
    """``block_rows: 1`` and a billion rows in a forged manifest: the replayed spans are picked
    by arithmetic, never by listing every block (a list of 10^9 blocks took the memory); a
    block of 10^15 rows (``allow_huge``) is replayed piece by piece, the pieces never listed."""
    import json

    schema, out = small_out
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.update(block_rows=block_rows, rows_overrides={"t": rows}, allow_huge=True)
    (out / "manifest.json").write_text(json.dumps(manifest))
    report = _validate_under_a_memory_limit(schema, out, fmt="csv")
    got = _statuses(report)
    assert got["row_count"] == "fail" and got["deterministic_replay"] == "skipped"
    from shared.validation.runner import replay_spans

    spans = replay_spans(10**18, 1, 7, "t")
    assert spans[0] == (0, 1) and spans[-1] == (10**18 - 1, 10**18) and len(spans) <= 4
