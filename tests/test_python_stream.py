"""Live event streams in Python (issue 13, item 3): ``datagen.stream`` yields the event stream's
events — the very lines of ``events.ndjson`` — as an iterator and an async iterator, on an
absolute schedule that does not drift, at the consumer's pace, a window at a time."""

from __future__ import annotations

import asyncio

import orjson
import pytest

import datagen
from datagen.stream import EventStream
from tests.helpers import EXAMPLES_DIR

IOT = str(EXAMPLES_DIR / "iot.yaml")
ROWS = {"readings": 3000, "alerts": 200, "devices": 50}


def _file_lines(tmp_path) -> list[bytes]:
    res = datagen.generate(IOT, format="event_stream", out=tmp_path / "ev", rows=ROWS, workers=1)
    return (res.output_dir / "events.ndjson").read_bytes().splitlines()


def test_the_stream_is_the_files_events_in_their_order(tmp_path):
    lines = _file_lines(tmp_path)
    got = list(datagen.stream(IOT, rows=ROWS, raw=True))
    assert got == lines and len(lines) == 3200
    events = list(datagen.stream(IOT, rows=ROWS, max_events=5))
    assert events == [orjson.loads(x) for x in lines[:5]]
    assert list(events[0]) == ["event_id", "event_type", "ts", "key", "table", "seq", "late", "data"]


def test_async_iteration_gives_the_same_events(tmp_path):
    lines = _file_lines(tmp_path)

    async def collect():
        return [e async for e in datagen.stream(IOT, rows=ROWS, max_events=700, events_per_second=1_000_000)]

    got = asyncio.run(collect())
    assert got == [orjson.loads(x) for x in lines[:700]]


class FakeClock:
    """A monotonic clock that moves only when slept on or when the consumer works."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = 0

    def __call__(self):
        return self.now

    def sleep(self, s):
        assert s > 0
        self.sleeps += 1
        self.now += s


def _stream(clock, **kw):
    plan = datagen.resolve_plan(IOT, rows=ROWS)
    return EventStream(plan, clock=clock, sleep=clock.sleep, **kw)


def test_the_rate_is_held_on_an_absolute_schedule_without_drift():
    clock = FakeClock()
    handed = []
    for _ in _stream(clock, events_per_second=250.0, max_events=3000):
        handed.append(clock.now)
        clock.now += 0.0013  # the consumer works a little (less than the 4 ms between events)
    t0 = handed[0]
    assert len(handed) == 3000
    # every event exactly at its due time: t0 + i / rate, the last one included (no drift)
    assert max(abs(t - (t0 + i / 250.0)) for i, t in enumerate(handed)) < 1e-9
    assert clock.sleeps == 2999


def test_a_slow_consumer_sets_the_pace_and_a_long_pause_restarts_the_schedule():
    clock = FakeClock()
    handed = []
    for i, _ in enumerate(_stream(clock, events_per_second=100.0, max_events=40)):
        handed.append(clock.now)
        clock.now += 0.05 if i < 10 else (5.0 if i == 20 else 0.001)  # slower than 10 ms, then a pause
    gaps = [b - a for a, b in zip(handed, handed[1:], strict=False)]
    assert all(abs(g - 0.05) < 1e-9 for g in gaps[:9])  # the consumer's pace, no sleep added
    # after the 5 s pause: no burst of the 500 missed events, the schedule restarts from now
    after = gaps[21:]
    assert all(abs(g - 0.01) < 1e-9 for g in after[1:]), after


def test_no_rate_goes_as_fast_as_the_consumer_and_windows_are_computed_on_demand(monkeypatch):
    clock = FakeClock()
    s = _stream(clock)
    pulled = []
    real = s._windows

    def counting():
        for w in real():
            pulled.append(len(w))
            yield w

    monkeypatch.setattr(s, "_windows", counting)
    it = iter(s)
    next(it)
    assert len(pulled) == 1 and clock.sleeps == 0  # one window, not the stream
    assert s.emitted == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"events_per_second": 0}, "events_per_second=0: more than 0"),
    ({"events_per_second": float("inf")}, "events_per_second=inf"),
    ({"max_events": -1}, "max_events=-1: a whole number"),
    ({"options": {"late_max_dely": "1s"}}, "--option late_max_dely: unknown"),
])
def test_bad_arguments_are_refused_before_anything_runs(kwargs, message):
    with pytest.raises(datagen.UsageError) as exc:
        datagen.stream(IOT, **kwargs)
    assert message in str(exc.value)


def test_a_schema_without_event_tables_cannot_stream():
    with pytest.raises(datagen.UsageError, match="has no event table"):
        datagen.stream(str(EXAMPLES_DIR / "shop.yaml"))


def test_max_events_zero_and_the_client():
    assert list(datagen.stream(IOT, rows=ROWS, max_events=0)) == []
    client = datagen.DataGen(seed=9)
    a = list(client.stream(IOT, rows=ROWS, max_events=3))
    b = list(datagen.stream(IOT, rows=ROWS, max_events=3, seed=9))
    assert a == b and a != list(datagen.stream(IOT, rows=ROWS, max_events=3))
