"""Opt-in wall clock (issue 12, item 10): ``anchor: now`` or ``--anchor now`` resolves relative
times against the run's start, recorded in the manifest; a rerun with ``--anchor`` that instant
reproduces the bytes, and ``validate`` replays with the recorded anchor. The default stays fixed."""

from __future__ import annotations

import json
import textwrap
import time

import pytest

import datagen
from shared.model.timeutil import US_PER_DAY, parse_timestamp
from tests.helpers import file_formats

SCHEMA = textwrap.dedent("""\
    version: 1
    name: clock
    seed: 2
    tables:
      - name: ev
        rows: 200
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: at, type: timestamp, min: "-2d", max: "+0d", generator: {type: uniform_timestamp, params: {start: "-1d"}}}
          - {name: day, type: date, generator: {type: uniform_date, params: {start: "-7d", end: "+0d"}}}
    """)


def _cli(runner, *args):
    from datagen.cli import app

    return runner.invoke(app, list(args))


@pytest.fixture()
def schema(tmp_path):
    p = tmp_path / "clock.yaml"
    p.write_text(SCHEMA)
    return p


def _manifest(out):
    return json.loads((out / "manifest.json").read_text())


def test_the_default_anchor_stays_fixed(schema, tmp_path, runner):
    out = tmp_path / "out"
    assert _cli(runner, "generate", "--format", "csv", "--schema", str(schema), "--out", str(out), "-q").exit_code == 0
    m = _manifest(out)
    assert m["anchor"] == "2025-01-01T00:00:00Z" and "anchor_from" not in m


@pytest.mark.parametrize("how", ["schema", "option"])
def test_now_is_the_runs_start_recorded_and_reproducible(schema, tmp_path, runner, how):
    if how == "schema":
        schema.write_text(SCHEMA.replace("seed: 2\n", "seed: 2\nanchor: now\n"))
    extra = ["--anchor", "now"] if how == "option" else []
    out, again = tmp_path / "out", tmp_path / "again"
    before = int(time.time())
    r = _cli(runner, "generate", "--format", "csv", "--schema", str(schema), "--out", str(out), "-q", *extra)
    after = int(time.time())
    assert r.exit_code == 0, r.output
    m = _manifest(out)
    anchor_us = parse_timestamp(m["anchor"])
    assert before * 1_000_000 <= anchor_us <= after * 1_000_000 and anchor_us % 1_000_000 == 0
    assert m["anchor_from"] == "now"
    t = datagen.to_arrow(datagen.load_schema(str(schema), anchor=m["anchor"]))["ev"].to_pydict()
    first = min(v.timestamp() for v in t["at"]) * 1e6
    assert anchor_us - US_PER_DAY <= first and max(v.timestamp() for v in t["at"]) * 1e6 <= anchor_us
    r = _cli(runner, "generate", "--format", "csv", "--schema", str(schema), "--out", str(again), "-q",
             "--anchor", m["anchor"])
    assert r.exit_code == 0, r.output
    assert (out / "ev.csv").read_bytes() == (again / "ev.csv").read_bytes()
    assert _manifest(again)["anchor_from"] == "option"
    r = _cli(runner, "validate", "--format", "csv", "--schema", str(schema), "--out", str(out))
    assert r.exit_code == 0, r.output


def test_validate_replays_with_the_anchor_the_manifest_records(schema, tmp_path, runner):
    """Generated with --anchor far from the schema's: validate, given nothing, uses the manifest's."""
    out = tmp_path / "out"
    r = _cli(runner, "generate", "--format", "parquet", "--schema", str(schema), "--out", str(out), "-q",
             "--anchor", "2020-06-01T12:00:00Z")
    assert r.exit_code == 0, r.output
    r = _cli(runner, "validate", "--format", "parquet", "--schema", str(schema), "--out", str(out))
    assert r.exit_code == 0, r.output
    r = _cli(runner, "validate", "--format", "parquet", "--schema", str(schema), "--out", str(out),
             "--anchor", "2020-06-01T14:00:00+02:00")  # the same instant, written otherwise
    assert r.exit_code == 0, r.output
    r = _cli(runner, "validate", "--format", "parquet", "--schema", str(schema), "--out", str(out),
             "--anchor", "2021-01-01T00:00:00Z")
    assert r.exit_code == 1
    report = json.loads((out / "validation_report.json").read_text())
    match = [c for c in report["checks"] if c["kind"] == "run_match"]
    assert match[0]["status"] == "fail"
    assert "anchor '2021-01-01T00:00:00Z' was given, the output was generated with '2020-06-01T12:00:00Z'" \
        in match[0]["message"]


@pytest.mark.parametrize("verb, value, message", [
    ("generate", "garbage", "--anchor 'garbage': not a timestamp"),
    ("describe", "2025-13-01", "--anchor '2025-13-01'"),
    ("validate", "now", "--anchor now: validate checks a run that has happened"),
    ("validate", "yesterday", "--anchor 'yesterday': not an ISO instant"),
])
def test_a_bad_anchor_is_exit_2(schema, tmp_path, runner, verb, value, message):
    out = tmp_path / "out"
    if verb == "validate":
        datagen.generate(str(schema), format="csv", out=out)
    r = _cli(runner, verb, "--format", "csv", "--schema", str(schema), "--out", str(out), "--anchor", value)
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output


def test_describe_shows_the_anchor_given(schema, runner):
    r = _cli(runner, "describe", "--format", "csv", "--schema", str(schema), "--anchor", "2024-02-29T00:00:00Z")
    assert r.exit_code == 0, r.output
    assert "anchor 2024-02-29T00:00:00Z" in r.output


def test_an_anchor_for_a_schema_already_loaded_is_refused(schema):
    from shared.errors import UsageError

    loaded = datagen.load_schema(str(schema))
    with pytest.raises(UsageError, match="anchor= applies when a schema is loaded"):
        datagen.load_schema(loaded, anchor="now")


@pytest.mark.parametrize("fmt", file_formats())
def test_anchor_now_generates_and_validates_in_every_format(schema, tmp_path, runner, fmt):
    schema.write_text(SCHEMA.replace("seed: 2\n", "seed: 2\nanchor: now\n"))
    out = tmp_path / "out"
    r = _cli(runner, "generate", "--format", fmt, "--schema", str(schema), "--out", str(out), "-q")
    assert r.exit_code == 0, r.output
    assert _manifest(out)["anchor_from"] == "now"
    r = _cli(runner, "validate", "--format", fmt, "--schema", str(schema), "--out", str(out))
    assert r.exit_code == 0, r.output
