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
    """A ``pyarrow.Table`` stand-in counting the column names it materialises: ``column_names``
    builds a new list of every name on each call, so asking it once per column is quadratic."""

    names = 0

    def __init__(self, table):
        self._table = table

    @property
    def column_names(self):
        got = self._table.column_names
        _NamesCounted.names += len(got)
        return got

    def __getattr__(self, attr):
        return getattr(self._table, attr)


def _names_materialised(tmp: Path, n: int, monkeypatch) -> int:
    from generators.csv_generator.format import CsvFormat
    from shared.validation.runner import ValidationContext

    schema = load_schema(str(wide_schema(tmp / f"wide{n}.yaml", n)))
    out = tmp / f"out{n}"
    datagen.generate(schema, out=out, format="csv", workers=1)
    read, data = CsvFormat.read_table, ValidationContext.data
    with monkeypatch.context() as m:
        m.setattr(CsvFormat, "read_table", lambda *a: _NamesCounted(read(*a)))
        m.setattr(ValidationContext, "data", lambda self, name: None if (t := data(self, name)) is None
                  else _NamesCounted(t))
        _NamesCounted.names = 0
        report = datagen.validate(schema, out=out, format="csv")
    assert report["status"] == "pass"
    return _NamesCounted.names


def test_validate_reads_the_column_names_of_the_data_linearly(tmp_path, monkeypatch):
    """The checks look a column up in the data once each, not by scanning the name list."""
    small = _names_materialised(tmp_path, 48, monkeypatch)
    large = _names_materialised(tmp_path, 192, monkeypatch)
    assert large <= 4.5 * small, f"{small} column names materialised at 48 columns, {large} at 192"


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
