"""Live event streams in Python: ``datagen.stream(schema, events_per_second=N, max_events=M)``.

The events are those of the ``event_stream`` format — the same envelope (``event_id``,
``event_type``, ``ts``, ``key``, ``table``, ``seq``, ``late``, ``data``), the same order, the same
values as ``events.ndjson`` and ``generate --format event_stream --rate N`` — computed on the fly
a window at a time, so memory holds one window whatever the stream's length, and a window is
computed only when the consumer asks for the event after the last one: the stream goes at the
consumer's pace when that is slower, and never buffers ahead.

Rate: event ``i`` is due at ``t0 + i / N`` on a monotonic clock — an absolute schedule, so
rounding never accumulates into drift over minutes or hours. An event is handed over when it is
due (never early); when the consumer or the generation falls more than a second behind, the
schedule restarts from now instead of bursting to catch up (as ``--rate`` does);
``restart_schedule()`` asks for that restart at the next event (the service's resume).
``events_per_second=None`` yields as fast as the consumer takes them.

Both ``for event in stream`` and ``async for event in stream`` work; the async form sleeps with
``asyncio.sleep`` and computes the next window in a worker thread, so the event loop stays
free. ``raw=True`` yields each event's JSON line (bytes, no newline) instead of a dict.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import orjson

from shared.errors import UsageError

#: the most the schedule may fall behind before it restarts from now (as generate --rate)
MAX_LAG_S = 1.0
MAX_RATE = 10_000_000.0
#: ``aranges``: the most events of one range
UNPACED_RANGE = 1024


class EventStream:
    """An iterable (and async iterable) of events; see the module documentation."""

    def __init__(self, plan, *, events_per_second: float | None = None, max_events: int | None = None,
                 options: dict[str, Any] | None = None, raw: bool = False,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        if events_per_second is not None and (not math.isfinite(events_per_second)
                                              or not 0 < events_per_second <= MAX_RATE):
            raise UsageError(f"events_per_second={events_per_second}: more than 0 and at most {MAX_RATE:,.0f}, "
                             "or None for as fast as the consumer takes them")
        if max_events is not None and (isinstance(max_events, bool) or not isinstance(max_events, int)
                                       or max_events < 0):
            raise UsageError(f"max_events={max_events!r}: a whole number, 0 or more")
        if not any(t.events is not None for t in plan.schema.written.tables):
            raise UsageError(f"schema {plan.schema.name!r} has no event table (a table with events: {{time: …}})")
        from shared.formats import get_format

        fmt = get_format("event_stream")
        self.options = fmt.check_options({str(k): str(v) for k, v in (options or {}).items()})
        self.plan, self.rate, self.max_events, self.raw = plan, events_per_second, max_events, raw
        self.clock, self.sleep = clock, sleep
        self.emitted = 0
        self._restart = False

    def _windows(self) -> Iterator[Any]:
        from generators.event_stream_generator.merge import merged_stream
        from shared.schema_dsl.engine import Engine

        engine = Engine(self.plan)
        return merged_stream(self.plan.schema.written, engine.iter_batches, self.plan.seed,
                             self.options["late_max_delay_us"], self.options["max_sort_rows"], self.plan.profile)

    def _event(self, line: bytes) -> Any:
        line = line.rstrip(b"\n")
        return line if self.raw else orjson.loads(line)

    def restart_schedule(self) -> None:
        """Restart the schedule from now at the next event (after a pause: no burst to catch up,
        however short the pause was)."""
        self._restart = True

    def _due(self, t0: float, i: int) -> tuple[float, float]:
        """(t0, seconds to wait) for event ``i``: the schedule restarts when more than a second late
        or when asked to (``restart_schedule``)."""
        assert self.rate is not None
        now = self.clock()
        if self._restart or now - (t0 + i / self.rate) > MAX_LAG_S:
            t0 = now - i / self.rate
            self._restart = False
        return t0, t0 + i / self.rate - now

    def __iter__(self) -> Iterator[Any]:
        limit = self.max_events
        if limit == 0:
            return
        t0 = self.clock()
        i = 0
        for window in self._windows():
            for line in window.to_pylist():
                if self.rate is not None:
                    t0, wait = self._due(t0, i)
                    if wait > 0:
                        self.sleep(wait)
                i += 1
                self.emitted = i
                yield self._event(line)
                if limit is not None and i >= limit:
                    return

    async def _aiter(self) -> AsyncIterator[Any]:
        import asyncio

        limit = self.max_events
        if limit == 0:
            return
        windows = self._windows()
        done = object()
        t0 = self.clock()
        i = 0
        while True:
            window = await asyncio.to_thread(next, windows, done)
            if window is done:
                return
            for line in window.to_pylist():  # type: ignore[attr-defined]
                if self.rate is not None:
                    t0, wait = self._due(t0, i)
                    if wait > 0:
                        await asyncio.sleep(wait)
                i += 1
                self.emitted = i
                yield self._event(line)
                if limit is not None and i >= limit:
                    return

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._aiter()

    async def aranges(self, most: int = UNPACED_RANGE, tick: float = 0.0) -> AsyncIterator[tuple[Any, int, int]]:
        """The same events, on the same schedule, a range at a time: ``(window, a, b)`` hands over
        lines ``[a, b)`` of ``window`` (an Arrow binary array of newline-terminated JSON lines) —
        every event due by now (paced: at least one, never one early), or up to ``most`` at once
        (unpaced). Paced, ``tick`` is the least time between two ranges: the events that fall
        due meanwhile come together, each at most ``tick`` late (at 2,000 events/s and 10 ms,
        ranges of 20 instead of one or two per wake-up). What a consumer that moves events in
        bulk (the service's fan-out) iterates, with no Python object per event."""
        import asyncio

        limit = self.max_events
        if limit == 0:
            return
        windows = self._windows()
        done = object()
        t0 = self.clock()
        last = -math.inf  # when the previous range was handed over
        i = 0
        while True:
            window = await asyncio.to_thread(next, windows, done)
            if window is done:
                return
            n = len(window)  # type: ignore[arg-type]
            if limit is not None:
                n = min(n, limit - i)
            a = 0
            while a < n:
                if self.rate is None:
                    b = min(n, a + most)
                else:
                    t0, wait = self._due(t0, i)
                    wait = max(wait, last + tick - self.clock())
                    if wait > 0:
                        await asyncio.sleep(wait)
                    last = self.clock()
                    due = math.floor((last - t0) * self.rate) + 1  # events 0 … due-1 are due
                    b = min(n, a + max(1, min(due - i, most)))
                i += b - a
                self.emitted = i
                yield window, a, b
                a = b
            if limit is not None and i >= limit:
                return

    def __repr__(self) -> str:
        return (f"EventStream({self.plan.schema.name!r}, events_per_second={self.rate}, "
                f"max_events={self.max_events}, emitted={self.emitted})")


#: ``stream(events_per_second=SCHEMA_RATE)``: the schema's ``stream.events_per_second``, else unpaced
SCHEMA_RATE = "schema"


def stream(schema, *, events_per_second: float | str | None = SCHEMA_RATE, max_events: int | None = None,
           seed: int | None = None, rows=None, scale: float | None = None, profile: str | None = None,
           options: dict[str, Any] | None = None, raw: bool = False) -> EventStream:
    """The schema's event stream as an iterator and async iterator of events (see the module
    documentation); ``options`` are the event_stream format's (``late_max_delay``,
    ``max_sort_rows``). ``events_per_second`` defaults to the schema's ``stream.events_per_second``
    (``with_streaming``), else None: as fast as the consumer takes them. Checked before anything
    is generated."""
    from datagen.api import resolve_plan

    plan = resolve_plan(schema, seed=seed, rows=rows, scale=scale, profile=profile)
    if events_per_second == SCHEMA_RATE:
        events_per_second = plan.schema.stream_rate
    elif isinstance(events_per_second, str):
        raise UsageError(f"events_per_second={events_per_second!r}: a number, None, or {SCHEMA_RATE!r}")
    return EventStream(plan, events_per_second=events_per_second, max_events=max_events, options=options, raw=raw)
