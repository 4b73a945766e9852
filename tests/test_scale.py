"""Work that grows linearly: in columns (describe, generate, validate) and in manifest files.

No wall clock here (the timings are in ``bench/hostile.py``): each test counts a deterministic
measure of the work — columns of the model visited, column names materialised from Arrow,
files hashed or stat'ed — at a size N and at 4·N, and asserts it grew about 4×, never N².
"""

from __future__ import annotations

from pathlib import Path

import pytest

import datagen
from shared.schema_dsl.loader import load_schema

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
