"""Live streams: one producer task per stream on the server's event loop, fanning the events of
``datagen.stream`` out to its WebSocket subscribers (docs/service.md, "Live streams").

* **producer**: iterates the stream's ``EventStream`` (``raw=True``: each event's JSON line, the
  ``event_stream`` envelope as the format writes it) asynchronously — the absolute schedule,
  the window computed in a worker thread — numbering events ``0, 1, 2 …`` (the stream sequence)
  and offering each to every subscriber. It waits for its first subscriber before the first
  event (``start="on_subscribe"``, the default) or starts at once (``"now"``); once started it
  keeps its pace whether or not anyone listens (an event nobody is subscribed to is gone).
* **subscribers**: each has a bounded queue (``buffer`` events) and a policy for when it is full:
  ``block`` (the producer waits for it: the stream's pace follows the slowest blocking
  subscriber), ``drop_oldest`` (the oldest queued event goes) or ``drop_newest`` (the incoming
  event goes); drops are counted per subscriber. The queue never holds more than ``buffer``.
* **pause / resume / stop**: pause holds the producer before its next event; resume restarts the
  schedule from now (``EventStream.restart_schedule``: no burst of the events the pause missed);
  stop ends the producer and closes every subscriber with the reason ``stopped``.
* **end**: ``max_events`` reached or the schema's events exhausted: each subscriber gets what is
  queued, an ``end`` message, and a normal close.

Everything here runs on the event loop (no locks); only the plan is made in a worker thread, by
the router, before ``create`` is called.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from datagen.service.errors import ApiError, Conflict, NotFound
from datagen.service.metrics import Metrics
from datagen.stream import EventStream

log = logging.getLogger("datagen.service")
Policy = Literal["block", "drop_oldest", "drop_newest"]
POLICIES = ("block", "drop_oldest", "drop_newest")
#: ended streams kept for ``GET /streams/{id}``
MAX_KEPT = 200
#: the rate is measured over the last this many seconds
RATE_WINDOW_S = 5.0
#: a paced stream hands its events over at most this often (those due meanwhile together, none
#: early): a frame per subscriber every 10 ms at most, not one per event at thousands a second
TICK_S = 0.01


class TooManyStreams(ApiError):
    status, kind = 429, "TooManyStreams"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Window:
    """A window of the stream: newline-terminated JSON lines in one Arrow buffer, and where each
    line starts. A range of it becomes the inside of a JSON array with one bytes operation (a
    JSON line holds no raw newline: the newlines become commas), no Python object per event."""

    __slots__ = ("data", "offsets")

    def __init__(self, lines: Any):
        import numpy as np
        import pyarrow as pa

        width = np.dtype(np.int64 if pa.types.is_large_binary(lines.type) or pa.types.is_large_string(lines.type)
                         else np.int32)
        bufs = lines.buffers()
        self.offsets = np.frombuffer(bufs[1], dtype=width, count=len(lines) + 1, offset=lines.offset * width.itemsize)
        self.data = memoryview(bufs[2])

    def body(self, a: int, b: int) -> bytes:
        """Lines ``[a, b)`` joined by commas (without their newlines)."""
        return bytes(self.data[int(self.offsets[a]):int(self.offsets[b]) - 1]).replace(b"\n", b",")


class Segment:
    """Events ``[a, b)`` of a window, the first with stream sequence number ``seq``."""

    __slots__ = ("seq", "window", "a", "b")

    def __init__(self, seq: int, window: Window, a: int, b: int):
        self.seq, self.window, self.a, self.b = seq, window, a, b


class Subscriber:
    """One WebSocket subscriber's bounded queue (segments of windows, ``queued`` events in all)
    and its policy. Events are offered and taken a range at a time; the policies act per event
    exactly as if they came one by one."""

    def __init__(self, sid: int, policy: Policy, buffer: int):
        self.id, self.policy, self.buffer = sid, policy, buffer
        self.queue: collections.deque[Segment] = collections.deque()
        self.queued = 0
        self.ready = asyncio.Event()      # something to send (or the end)
        self.space = asyncio.Event()      # room in the queue (block)
        self.space.set()
        self.sent = 0
        self.dropped = 0
        self.high_water = 0
        self.closed: tuple[int, str] | None = None  # (close code, reason) once the stream is over for it
        self.gone = False                            # the client went away
        self.connected_at = _now()

    def _append(self, seq: int, window: Window, a: int, b: int) -> None:
        last = self.queue[-1] if self.queue else None
        if last is not None and last.window is window and last.b == a and last.seq + (last.b - last.a) == seq:
            last.b = b
        else:
            self.queue.append(Segment(seq, window, a, b))
        self.queued += b - a
        if self.queued > self.high_water:
            self.high_water = self.queued
        self.ready.set()

    def _drop_oldest(self, k: int) -> None:
        self.dropped += k
        self.queued -= k
        while k:
            seg = self.queue[0]
            m = seg.b - seg.a
            if m <= k:
                self.queue.popleft()
                k -= m
            else:
                seg.a += k
                seg.seq += k
                k = 0

    def offer(self, seq: int, window: Window, a: int, b: int) -> int:
        """Queue events ``[a, b)`` (numbered from ``seq``) under the policy: how many of them are
        dealt with — all of them, except under ``block`` when the queue fills (then wait for
        ``space`` and offer the rest)."""
        n = total = b - a
        room = self.buffer - self.queued
        if self.policy == "drop_oldest":
            if n > self.buffer:  # only the newest ``buffer`` of them would stay
                self.dropped += n - self.buffer
                seq, a = seq + n - self.buffer, b - self.buffer
                n = self.buffer
            if n > room:
                self._drop_oldest(n - room)
            self._append(seq, window, a, b)
            return total
        k = min(n, max(room, 0))
        if k:
            self._append(seq, window, a, a + k)
        if k < n:
            if self.policy == "drop_newest":
                self.dropped += n - k
                return n
            self.space.clear()
        return k

    def take(self, n: int) -> tuple[int, bytes, int]:
        """Up to ``n`` queued events with consecutive sequence numbers: (first seq, the events
        as the inside of a JSON array, how many)."""
        q = self.queue
        first = expect = q[0].seq
        parts = []
        count = 0
        while q and count < n and q[0].seq == expect:
            seg = q[0]
            m = min(seg.b - seg.a, n - count)
            parts.append(seg.window.body(seg.a, seg.a + m))
            if m == seg.b - seg.a:
                q.popleft()
            else:
                seg.a += m
                seg.seq += m
            count += m
            expect += m
        self.queued -= count
        if not q:
            self.ready.clear()
        self.space.set()
        return first, parts[0] if len(parts) == 1 else b",".join(parts), count

    def clear(self) -> None:
        self.queue.clear()
        self.queued = 0

    def finish(self, code: int, reason: str) -> None:
        if self.closed is None:
            self.closed = (code, reason)
        self.ready.set()
        self.space.set()

    def info(self) -> dict[str, Any]:
        return {"id": self.id, "policy": self.policy, "buffer": self.buffer, "queued": self.queued,
                "max_queued": self.high_water, "sent": self.sent, "dropped": self.dropped,
                "connected_at": self.connected_at}


@dataclass
class LiveStream:
    id: str
    stream: EventStream
    schema_name: str
    seed: int
    policy: Policy
    buffer: int
    start: str
    created_at: str = field(default_factory=_now)
    status: str = "waiting"          # waiting, running, paused, ended, stopped, failed
    produced: int = 0
    reason: str | None = None
    subscribers: list[Subscriber] = field(default_factory=list)
    task: asyncio.Task | None = None
    resumed: asyncio.Event = field(default_factory=asyncio.Event)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    samples: collections.deque = field(default_factory=lambda: collections.deque(maxlen=64))
    next_sub: int = 0
    total_dropped: int = 0
    before_pause: str = "running"

    @property
    def ended(self) -> bool:
        return self.status in ("ended", "stopped", "failed")

    def rate(self) -> float | None:
        """Events per second over the last ``RATE_WINDOW_S`` seconds (sampled by the producer)."""
        if self.status != "running" or len(self.samples) < 2:
            return None
        t1, n1 = self.samples[-1]
        now = time.monotonic()
        if now - t1 > 2.0:
            return 0.0
        t0, n0 = next((t, n) for t, n in self.samples if t1 - t <= RATE_WINDOW_S)
        return None if t1 <= t0 else round((n1 - n0) / (t1 - t0), 2)

    def info(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "schema_name": self.schema_name, "seed": self.seed,
                "events_per_second": self.stream.rate, "max_events": self.stream.max_events,
                "policy": self.policy, "buffer": self.buffer, "start": self.start, "created_at": self.created_at,
                "events_produced": self.produced, "rate_measured": self.rate(), "reason": self.reason,
                "dropped": self.total_dropped + sum(s.dropped for s in self.subscribers),
                "subscribers": [s.info() for s in self.subscribers]}


class StreamManager:
    def __init__(self, *, max_streams: int, max_subscribers: int, max_buffer: int, metrics: Metrics):
        self.max_streams, self.max_subscribers, self.max_buffer = max_streams, max_subscribers, max_buffer
        self.metrics = metrics
        self._streams: dict[str, LiveStream] = {}
        self.closing = False

    @property
    def active(self) -> int:
        return sum(1 for s in self._streams.values() if not s.ended)

    @property
    def subscribers(self) -> int:
        return sum(len(s.subscribers) for s in self._streams.values() if not s.ended)

    def list(self) -> list[LiveStream]:
        return sorted(self._streams.values(), key=lambda s: s.created_at, reverse=True)

    def get(self, stream_id: str) -> LiveStream:
        live = self._streams.get(stream_id)
        if live is None:
            raise NotFound(f"no stream {stream_id!r} (GET /api/v1/streams lists them)")
        return live

    def create(self, stream: EventStream, *, schema_name: str, seed: int, policy: Policy, buffer: int,
               start: str) -> LiveStream:
        if self.closing:
            raise Conflict("the service is shutting down", status=503)
        if self.active >= self.max_streams:
            raise TooManyStreams(f"{self.active} streams live, at most {self.max_streams} at once (--max-streams); "
                                 f"stop one (POST /streams/{{id}}/stop) or try again later",
                                 headers={"Retry-After": "5"})
        live = LiveStream(id=secrets.token_hex(8), stream=stream, schema_name=schema_name, seed=seed,
                          policy=policy, buffer=buffer, start=start)
        live.resumed.set()
        if start == "now":
            live.subscribed.set()
        self._streams[live.id] = live
        ended = [s.id for s in self.list() if s.ended]
        for old in ended[MAX_KEPT:]:
            del self._streams[old]
        live.task = asyncio.get_running_loop().create_task(self._produce(live), name=f"datagen-stream-{live.id}")
        return live

    # --- control ---------------------------------------------------------------------------------

    def _live(self, stream_id: str) -> LiveStream:
        live = self.get(stream_id)
        if live.ended:
            raise Conflict(f"stream {live.id} has ended ({live.status}{': ' + live.reason if live.reason else ''})")
        return live

    def pause(self, stream_id: str) -> LiveStream:
        live = self._live(stream_id)
        if live.status != "paused":
            live.resumed.clear()
            live.before_pause = live.status
            live.status = "paused"
            self._wake(live)
        return live

    def resume(self, stream_id: str) -> LiveStream:
        live = self._live(stream_id)
        if live.status == "paused":
            live.status = live.before_pause
            live.stream.restart_schedule()
            live.resumed.set()
            self._wake(live)
        return live

    @staticmethod
    def _wake(live: LiveStream) -> None:
        for sub in live.subscribers:
            sub.ready.set()

    def stop(self, stream_id: str, reason: str = "stopped") -> LiveStream:
        live = self._live(stream_id)
        self._end(live, "stopped", reason, code=1000, flush=False)
        if live.task is not None:
            live.task.cancel()
        return live

    async def shutdown(self) -> None:
        self.closing = True
        tasks = []
        for live in list(self._streams.values()):
            if not live.ended:
                self._end(live, "stopped", "the service is stopping", code=1001, flush=False)
                if live.task is not None:
                    live.task.cancel()
                    tasks.append(live.task)
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    def _end(self, live: LiveStream, status: str, reason: str, *, code: int, flush: bool) -> None:
        if live.ended:
            return
        live.status, live.reason = status, reason
        live.resumed.set()
        for sub in live.subscribers:
            if not flush:
                sub.clear()
            sub.finish(code, reason)

    # --- subscribers -----------------------------------------------------------------------------

    def subscribe(self, live: LiveStream, policy: Policy | None, buffer: int | None) -> Subscriber:
        if len(live.subscribers) >= self.max_subscribers:
            raise TooManyStreams(f"stream {live.id} has {len(live.subscribers)} subscribers, at most "
                                 f"{self.max_subscribers} (--max-subscribers)")
        live.next_sub += 1
        sub = Subscriber(live.next_sub, policy or live.policy, min(buffer or live.buffer, self.max_buffer))
        live.subscribers.append(sub)
        live.subscribed.set()
        return sub

    def unsubscribe(self, live: LiveStream, sub: Subscriber) -> None:
        sub.gone = True
        sub.finish(1000, "unsubscribed")
        if sub in live.subscribers:
            live.subscribers.remove(sub)
            live.total_dropped += sub.dropped

    # --- the producer ----------------------------------------------------------------------------

    async def _produce(self, live: LiveStream) -> None:
        try:
            await live.subscribed.wait()
            await live.resumed.wait()
            if live.ended:
                return
            if live.status == "waiting":
                live.status = "running"
            live.stream.restart_schedule()  # the schedule starts with the first event, not at creation
            unpaced = live.stream.rate is None
            seq = 0
            next_sample = time.monotonic()
            live.samples.append((next_sample, 0))
            lines, window = None, None
            async for array, a, b in live.stream.aranges(tick=TICK_S):
                if not live.resumed.is_set():
                    await live.resumed.wait()
                if live.ended:
                    return
                if array is not lines:
                    lines, window = array, Window(array)
                assert window is not None
                for sub in list(live.subscribers):
                    s0, a0 = seq, a
                    while True:
                        k = sub.offer(s0, window, a0, b)
                        s0, a0 = s0 + k, a0 + k
                        if a0 >= b or sub.gone:
                            break
                        await sub.space.wait()
                seq += b - a
                live.produced = seq
                now = time.monotonic()
                if now >= next_sample:
                    live.samples.append((now, seq))
                    next_sample = now + 0.25
                if unpaced:
                    await asyncio.sleep(0)  # let the subscribers' senders run
            live.samples.append((time.monotonic(), seq))
            why = "max_events reached" if live.stream.max_events is not None and seq >= live.stream.max_events \
                else "the schema's events are exhausted"
            self._end(live, "ended", why, code=1000, flush=True)
        except asyncio.CancelledError:
            self._end(live, "stopped", "stopped", code=1000, flush=False)
        except Exception as exc:  # noqa: BLE001 - a stream's crash is its own, never the service's
            log.error("stream %s failed: %s: %s", live.id, type(exc).__name__, exc)
            self._end(live, "failed", f"{type(exc).__name__}: {exc}", code=1011, flush=True)
