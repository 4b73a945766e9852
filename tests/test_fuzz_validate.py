"""Fuzzing ``validate`` with mutated artifacts.

A small dataset is generated once per format (CSV and Parquet); each example copies it, damages
one file — bytes flipped, a truncation, bytes inserted or deleted, garbage appended — and runs the
real ``validate`` command. Whatever the damage: exit 0 or 1 (never 3, never a traceback), a
report that follows ``schemas/validation_report.schema.json``, and when a data file's bytes
changed, a failed ``checksum`` check for it. Damaged manifests and dialect sidecars are fuzzed too
(then only "no crash, exit 0 or 1" is asserted: a harmless edit of the manifest may still pass).

Bounded: ``DATAGEN_FUZZ_EXAMPLES`` × 0.5 examples per format (default 25); ``make fuzz`` raises it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generators.csv_generator.__main__ import app as csv_app
from generators.csv_generator.format import CsvFormat
from generators.parquet_generator.__main__ import app as parquet_app
from generators.parquet_generator.format import ParquetFormat
from shared import api
from shared.io.reporting import check_report
from tests.helpers import make_runner, output_text


def fuzz(default: int, weight: float = 1.0) -> settings:
    env = os.environ.get("DATAGEN_FUZZ_EXAMPLES")
    n = max(1, int(int(env) * weight)) if env and env.isdigit() else default
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


SCHEMA = textwrap.dedent("""\
    version: 1
    name: mut
    seed: 4
    tables:
      - name: customers
        rows: 80
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - name: code
            type: string
            pattern: '[A-Z]{2}[0-9]{3}'
            max_length: 5
            generator: {type: regex, params: {pattern: '[A-Z]{2}[0-9]{3}'}}
          - {name: born, type: date, generator: {type: uniform_date, params: {start: "1950-01-01", end: "2005-12-31"}}}
          - {name: tier, type: string, allowed: [free, pro], generator: {type: choice, params: {values: [free, pro]}}}
      - name: orders
        rows: 200
        primary_key: order_id
        columns:
          - {name: order_id, type: int64, generator: sequence}
          - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers, column: id}}}
          - {name: amount, type: "decimal(10,2)", min: 0, max: 500, generator: {type: uniform_float, params: {min: 0, max: 500}}}
          - {name: at, type: timestamp, generator: {type: uniform_timestamp, params: {start: "2024-01-01", end: "2024-12-31"}}}
""")

APPS = {"csv": csv_app, "parquet": parquet_app}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz-validate")
    schema = base / "mut.yaml"
    schema.write_text(SCHEMA, encoding="utf-8")
    plan = api.resolve_plan(api.load_schema(str(schema)))
    api.generate(plan, CsvFormat(), base / "csv")
    api.generate(plan, ParquetFormat(), base / "parquet", options={"row_group_rows": "64"})
    return base


def _files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


@st.composite
def damage(draw, size: int):
    """A list of edits to a file of ``size`` bytes; at least one changes the bytes."""
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "append", "zero"]))
    if kind == "flip":
        n = draw(st.integers(1, 8))
        return kind, [(draw(st.integers(0, size - 1)), draw(st.integers(1, 255))) for _ in range(n)]
    if kind == "truncate":
        return kind, draw(st.integers(0, size - 1))
    if kind in ("insert", "append"):
        return kind, (draw(st.integers(0, size)), draw(st.binary(min_size=1, max_size=64)))
    a = draw(st.integers(0, size - 1))
    return kind, (a, draw(st.integers(a + 1, min(size, a + 512))))


def _apply(data: bytes, edit) -> bytes:
    kind, arg = edit
    if kind == "flip":
        b = bytearray(data)
        for pos, x in arg:
            b[pos] ^= x
        return bytes(b)
    if kind == "truncate":
        return data[:arg]
    if kind == "insert":
        return data[:arg[0]] + arg[1] + data[arg[0]:]
    if kind == "append":
        return data + arg[1]
    if kind == "delete":
        return data[:arg[0]] + data[arg[1]:]
    return data[:arg[0]] + b"\x00" * (arg[1] - arg[0]) + data[arg[1]:]  # zero a range


def _validate(fmt: str, schema: Path, out: Path, report: Path):
    result = make_runner().invoke(APPS[fmt], ["validate", "--format", fmt, "--schema", str(schema), "--out", str(out),
                                              "--report", str(report)])
    return result, output_text(result)


def _run(generated: Path, fmt: str, data) -> None:
    src = generated / fmt
    names = _files(src)
    target = data.draw(st.sampled_from(names), label="file")
    original = (src / target).read_bytes()
    edit = data.draw(damage(len(original)), label="damage")
    mutated = _apply(original, edit)
    work = Path(tempfile.mkdtemp(dir=generated))
    try:
        out = work / "out"
        shutil.copytree(src, out)
        (out / target).write_bytes(mutated)
        result, text = _validate(fmt, generated / "mut.yaml", out, work / "report.json")
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in text and "error: unexpected" not in text, text
        assert result.exit_code in (0, 1), text
        report = json.loads((work / "report.json").read_text(encoding="utf-8"))
        check_report(report)
        assert (report["status"] == "fail") == (result.exit_code == 1)
        if mutated != original and target not in ("manifest.json",):
            failed = [c for c in report["checks"] if c["status"] == "fail"]
            assert any(c["kind"] == "checksum" and c.get("file") == target for c in failed), \
                f"{target} changed but no failed checksum: {[c['message'] for c in failed]}"
            assert result.exit_code == 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


@fuzz(25, 0.5)
@given(data=st.data())
def test_fuzz_validate_mutated_csv(generated, data):
    _run(generated, "csv", data)


@fuzz(25, 0.5)
@given(data=st.data())
def test_fuzz_validate_mutated_parquet(generated, data):
    _run(generated, "parquet", data)
