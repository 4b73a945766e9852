"""Every example schema × every format: generate, then validate passes (exit 0, status pass)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "schemas" / "examples").glob("*.yaml"))
FORMATS = [("parquet", "parquet_generator"), ("csv", "csv_generator"), ("json", "json_generator"),
           ("ndjson", "json_generator"), ("sqlite", "sqlite_seed"), ("event_stream", "event_stream_generator")]


@pytest.mark.parametrize("fmt,frontend", FORMATS, ids=[f for f, _ in FORMATS])
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_generate_then_validate(example, fmt, frontend, tmp_path):
    app = importlib.import_module(f"generators.{frontend}.__main__").app
    runner = CliRunner()
    out = tmp_path / "out"
    res = runner.invoke(app, ["generate", "--format", fmt, "--schema", str(example), "--out", str(out), "-q",
                              "--workers", "1"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["validate", "--format", fmt, "--schema", str(example), "--out", str(out), "--json"])
    report = json.loads((out / "validation_report.json").read_text())
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert res.exit_code == 0 and report["status"] == "pass", failed[:5]
