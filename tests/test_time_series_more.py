"""Time series as people model them (issue 12, item 9): series of dates, readings around their
schedule (``ordered: false``), and daily/weekly seasonality for uniform timestamps."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datagen
from shared import api
from shared.errors import SchemaError
from shared.schema_dsl.engine import Engine

SCHEMA = textwrap.dedent("""\
    version: 1
    name: ts
    seed: 5
    tables:
      - name: days
        rows: 400
        primary_key: day
        columns:
          - {name: day, type: date, generator: {type: time_series, params: {start: "2024-01-01", step: 1d}}}
          - {name: week, type: date, generator: {type: time_series, params: {start: "2024-01-01", step: 7d, jitter: 2d}}}
      - name: readings
        rows: 2000
        columns:
          - {name: due, type: timestamp, generator: {type: time_series, params: {start: "2024-01-01T00:00:00Z", step: 1m}}}
          - name: seen
            type: timestamp
            generator: {type: time_series, params: {start: "2024-01-01T00:00:00Z", step: 1m, jitter: 5m, ordered: false}}
          - name: at
            type: timestamp
            generator:
              type: uniform_timestamp
              params:
                start: "2024-01-01T00:00:00Z"
                end: "2024-03-01T00:00:00Z"
                daily: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
                weekly: [1, 1, 1, 1, 1, 0, 0]
    """)


def _path(tmp_path, text=SCHEMA):
    p = tmp_path / "ts.yaml"
    p.write_text(text)
    return p


def test_a_series_of_dates_steps_in_days(tmp_path):
    t = datagen.to_arrow(str(_path(tmp_path)))["days"].to_pydict()
    assert t["day"][:3] == [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)]
    assert t["day"][-1] == dt.date(2024, 1, 1) + dt.timedelta(days=399)
    weeks = t["week"]
    assert all(b > a for a, b in zip(weeks, weeks[1:], strict=False))  # jitter 2d < 7d/2: still increasing
    assert all(abs((w - (dt.date(2024, 1, 1) + dt.timedelta(days=7 * i))).days) <= 2 for i, w in enumerate(weeks))


def test_readings_around_their_schedule_need_not_be_ordered(tmp_path):
    t = datagen.to_arrow(str(_path(tmp_path)))["readings"].to_pydict()
    offsets = [(s - d).total_seconds() for s, d in zip(t["seen"], t["due"], strict=True)]
    assert all(-300 <= o <= 300 for o in offsets) and min(offsets) < -200 and max(offsets) > 200
    assert any(b < a for a, b in zip(t["seen"], t["seen"][1:], strict=False))  # out of order, as promised


def test_seasonal_timestamps_fall_only_in_working_hours_on_weekdays(tmp_path):
    at = datagen.to_arrow(str(_path(tmp_path)))["readings"].column("at").to_pylist()
    assert all(8 <= v.hour < 17 and v.weekday() < 5 for v in at)
    assert len({v.date() for v in at}) > 30  # spread over the window's weekdays


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 900), st.integers(0, 2**31))
def test_the_same_values_at_any_block_size(tmp_path, block_rows, seed):
    path = _path(tmp_path, SCHEMA.replace("seed: 5", f"seed: {seed}"))
    plan = api.resolve_plan(api.load_schema(str(path)))
    small = api.resolve_plan(api.load_schema(str(path)), block_rows=block_rows)
    for t in ("days", "readings"):
        assert Engine(small).to_arrow(t).equals(Engine(plan).to_arrow(t))


@pytest.mark.parametrize("fmt", ["csv", "parquet", "sqlite", "json"])
def test_generates_and_validates(tmp_path, runner, fmt):
    from datagen.cli import app

    path, out = _path(tmp_path), tmp_path / "out"
    r = runner.invoke(app, ["generate", "--format", fmt, "--schema", str(path), "--out", str(out), "-q", "--workers", "2"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["validate", "--format", fmt, "--schema", str(path), "--out", str(out)])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("old, new, message", [
    ("step: 7d, jitter: 2d}", "step: 7d, jitter: 4d}", "jitter (4d) must be less than half the step (7d)"),
    ("start: \"2024-01-01\", step: 1d}", "start: \"2024-01-01\", step: 12h}", "step must be whole days on a date column"),
    ("step: 7d, jitter: 2d}", "step: 7d, jitter: 36h}", "jitter must be whole days on a date column"),
    ("step: 1m, jitter: 5m, ordered: false}}", "step: 1m, jitter: 5m, ordered: false}}\n        unique: true",
     "generator time_series cannot make distinct values by construction"),
    ("weekly: [1, 1, 1, 1, 1, 0, 0]", "weekly: [0, 0, 0, 0, 0, 0, 0]", "weekly weights must not all be zero"),
])
def test_mistakes_are_refused(tmp_path, old, new, message):
    assert old in SCHEMA
    with pytest.raises(Exception) as exc:  # SchemaError (load) or InfeasibleSchema (plan): both exit 2
        api.resolve_plan(api.load_schema(str(_path(tmp_path, SCHEMA.replace(old, new)))))
    assert getattr(exc.value, "exit_code", None) == 2
    text = exc.value.render() if hasattr(exc.value, "render") else str(exc.value)
    assert message in text, text


def test_an_unordered_series_does_not_claim_an_ordered_event_stream(tmp_path):
    from generators.event_stream_generator.merge import time_is_ordered

    text = SCHEMA + textwrap.indent(textwrap.dedent("""\
        events: {time: seen}
    """), "    ")
    schema = api.load_schema(str(_path(tmp_path, text)))
    assert not time_is_ordered(schema.table("readings"))
    ordered = api.load_schema(str(_path(tmp_path, text.replace("events: {time: seen}", "events: {time: due}"))))
    assert time_is_ordered(ordered.table("readings"))
    with pytest.raises(SchemaError):
        api.load_schema(str(_path(tmp_path, SCHEMA.replace("ordered: false", "ordered: maybe"))))
