"""Live streams over the service (issue 17, item 2): ``POST /streams`` → id, ``WS /ws/streams/{id}``
delivering the event_stream envelope with a stream sequence, several subscribers, slow-subscriber
policies with bounded queues, pause/resume/stop, limits, and ``DataGen(server_url=…)``.

Quick cases go through starlette's TestClient; the ones about backpressure, pace and the client go
through a real uvicorn process and real sockets. Time bands are wide: nothing asserts a tight
wall-clock time (bench/service_streams.py measures)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time

import orjson
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("websockets")

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402
from websockets.exceptions import ConnectionClosedOK  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

import datagen  # noqa: E402
from datagen.service import Settings, create_app  # noqa: E402
from tests.helpers import EXAMPLES_DIR  # noqa: E402
from tests.service_server import serve  # noqa: E402

API = "/api/v1"
IOT = EXAMPLES_DIR / "iot.yaml"
KEY = "k3y-for-stream-tests"


@pytest.fixture
def client(tmp_path):
    settings = Settings(schemas_dir=EXAMPLES_DIR, output_dir=tmp_path / "out", runs_db=tmp_path / "runs.sqlite",
                        max_streams=2, max_subscribers=3)
    with TestClient(create_app(settings)) as c:
        yield c


def _read_all(ws) -> tuple[list[tuple[int, dict]], list[dict]]:
    """(stream_seq, event) of every events message, and the other messages, until the end message."""
    events, other = [], []
    while True:
        m = ws.receive_json()
        if m["type"] == "events":
            events += [(m["stream_seq"] + i, e) for i, e in enumerate(m["events"])]
        else:
            other.append(m)
            if m["type"] == "end":
                return events, other


def test_post_streams_answers_an_id_and_the_events_are_datagen_streams(client):
    r = client.post(f"{API}/streams", json={"schema_id": "iot", "events_per_second": None, "max_events": 1500,
                                            "seed": 5})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["status"] == "waiting" and r.json()["websocket"] == f"{API}/ws/streams/{sid}"
    with client.websocket_connect(f"{API}/ws/streams/{sid}?batch=128") as ws:
        events, other = _read_all(ws)
    assert [s for s, _ in events] == list(range(1500))  # in order, no gap
    expected = [orjson.loads(x) for x in datagen.stream(IOT, seed=5, max_events=1500, events_per_second=None,
                                                        raw=True)]
    assert [e for _, e in events] == expected
    assert list(events[0][1]) == ["event_id", "event_type", "ts", "key", "table", "seq", "late", "data"]
    assert other[0]["type"] == "subscribed" and other[-1] == {
        "type": "end", "status": "ended", "reason": "max_events reached", "events_produced": 1500, "sent": 1500,
        "dropped": 0}
    info = client.get(f"{API}/streams/{sid}").json()
    assert info["status"] == "ended" and info["events_produced"] == 1500
    assert client.post(f"{API}/streams/{sid}/pause").status_code == 409
    assert "datagen_stream_events_sent_total 1500" in client.get(f"{API}/metrics").text


def test_several_subscribers_get_the_same_events(client):
    sid = client.post(f"{API}/streams", json={"schema_id": "iot", "events_per_second": None,
                                              "max_events": 800}).json()["id"]
    assert client.post(f"{API}/streams/{sid}/pause").json()["status"] == "paused"  # nothing before both are in
    with client.websocket_connect(f"{API}/ws/streams/{sid}") as a, \
            client.websocket_connect(f"{API}/ws/streams/{sid}?batch=7") as b:
        assert a.receive_json()["type"] == b.receive_json()["type"] == "subscribed"
        assert client.post(f"{API}/streams/{sid}/resume").json()["status"] in ("waiting", "running")
        ea, _ = _read_all(a)
        eb, _ = _read_all(b)
    assert ea == eb and len(ea) == 800


def test_limits_errors_and_the_subscriber_cap(client):
    ids = [client.post(f"{API}/streams", json={"schema_id": "iot"}).json()["id"] for _ in range(2)]
    r = client.post(f"{API}/streams", json={"schema_id": "iot"})
    assert r.status_code == 429 and r.json()["error"]["type"] == "TooManyStreams" and "--max-streams" in r.text
    assert client.post(f"{API}/streams", json={"schema_id": "shop"}).status_code == 400  # no event table
    assert client.get(f"{API}/streams/nope").status_code == 404
    with client.websocket_connect(f"{API}/ws/streams/nope") as ws:
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
        assert exc.value.code == 4404
    with contextlib.ExitStack() as stack:
        for _ in range(3):
            ws = stack.enter_context(client.websocket_connect(f"{API}/ws/streams/{ids[0]}?policy=drop_newest"))
            assert ws.receive_json()["type"] == "subscribed"
        with client.websocket_connect(f"{API}/ws/streams/{ids[0]}") as ws:
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_json()
            assert exc.value.code == 4429
        assert client.post(f"{API}/streams/{ids[0]}/stop").json()["status"] == "stopped"
    for sid in ids[1:]:
        assert client.post(f"{API}/streams/{sid}/stop").json()["status"] == "stopped"
    assert client.post(f"{API}/streams", json={"schema_id": "iot"}).status_code == 201  # room again
    listed = client.get(f"{API}/streams").json()["streams"]
    assert {s["status"] for s in listed} == {"stopped", "waiting"}


def test_the_api_key_holds_for_websockets_too(tmp_path):
    from pydantic import SecretStr

    settings = Settings(schemas_dir=EXAMPLES_DIR, runs_db=tmp_path / "runs.sqlite", api_key=SecretStr(KEY))
    with TestClient(create_app(settings)) as c:
        assert c.post(f"{API}/streams", json={"schema_id": "iot"}).status_code == 401
        sid = c.post(f"{API}/streams", json={"schema_id": "iot", "max_events": 3, "events_per_second": None},
                     headers={"X-API-Key": KEY}).json()["id"]
        for url, code in ((f"{API}/ws/streams/{sid}", 4401), (f"{API}/ws/streams/{sid}?api_key=wrong", 4403)):
            with c.websocket_connect(url) as ws:
                with pytest.raises(WebSocketDisconnect) as exc:
                    ws.receive_json()
                assert exc.value.code == code
        with c.websocket_connect(f"{API}/ws/streams/{sid}?api_key={KEY}") as ws:
            assert len(_read_all(ws)[0]) == 3
        with c.websocket_connect(f"{API}/ws/streams/{sid}", headers={"X-API-Key": KEY}) as ws:
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_json()
            assert exc.value.code == 4410  # it has ended


# --- a real server -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("streams")
    with serve(tmp, "--runs-db", str(tmp / "runs.sqlite"), "--output-dir", str(tmp / "out"), "--schemas-dir",
               str(EXAMPLES_DIR), "--max-streams", "4") as base:
        yield base


def _create(base: str, **body) -> str:
    r = httpx.post(f"{base}{API}/streams", json={"schema_id": "iot", **body}, timeout=60)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _info(base: str, sid: str) -> dict:
    return httpx.get(f"{base}{API}/streams/{sid}", timeout=30).json()


def _ws(base: str, sid: str, query: str = ""):
    return connect(f"ws{base[4:]}{API}/ws/streams/{sid}{query}", max_size=None, open_timeout=30)


def _poll(fn, timeout: float = 60.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)


def _drain(ws, until_end: bool = True):
    seqs, other = [], []
    for text in ws:
        m = json.loads(text)
        if m["type"] == "events":
            seqs += range(m["stream_seq"], m["stream_seq"] + len(m["events"]))
        else:
            other.append(m)
            if m["type"] == "end" and until_end:
                break
    return seqs, other


@pytest.mark.parametrize("policy", ["drop_oldest", "drop_newest"])
def test_a_slow_subscriber_drops_while_a_fast_one_gets_everything(server, policy):
    n, buffer = 100_000, 200
    sid = _create(server, events_per_second=None, max_events=n, rows={"readings": n}, policy="block")
    httpx.post(f"{server}{API}/streams/{sid}/pause")  # nothing before both are in
    with _ws(server, sid, "?batch=1000") as fast, _ws(server, sid, f"?policy={policy}&buffer={buffer}&batch=1") \
            as slow:
        fast.recv(), slow.recv()
        httpx.post(f"{server}{API}/streams/{sid}/resume")
        seqs, other = _drain(fast)  # the slow one reads nothing meanwhile: its socket and queue fill
        assert seqs == list(range(n)) and other[-1]["dropped"] == 0
        info = _info(server, sid)
        slow_info = next(s for s in info["subscribers"] if s["policy"] == policy) if info["subscribers"] else None
        if slow_info is not None:
            assert slow_info["max_queued"] <= buffer  # bounded, never more
        got, tail = _drain(slow)
    end = tail[-1]
    assert end["type"] == "end" and end["dropped"] > 0 and end["sent"] + end["dropped"] == n
    assert len(got) == end["sent"] and got == sorted(set(got))  # in order, gaps where it dropped
    if policy == "drop_newest":
        assert got[0] == 0  # it kept the first events and dropped later ones
    else:
        assert got[-1] == n - 1  # it kept the newest
    assert any(m["type"] == "status" and m["dropped"] > 0 for m in tail)  # told while it ran


def test_block_makes_the_stream_wait_for_its_slowest_subscriber(server):
    sid = _create(server, events_per_second=None, max_events=200_000, rows={"readings": 200_000}, buffer=100)
    with _ws(server, sid, "?batch=1") as ws:
        ws.recv()
        def stalled():
            before = _info(server, sid)["events_produced"]
            time.sleep(1.0)
            after = _info(server, sid)
            return after if after["events_produced"] == before > 0 else None

        later = _poll(stalled, timeout=120)  # once the socket's buffers are full, the stream waits
        first = later["events_produced"]
        assert first < 200_000 and later["status"] == "running"
        assert later["subscribers"][0]["max_queued"] <= 100
        seqs = []
        for text in ws:  # reading lets it go on
            m = json.loads(text)
            if m["type"] == "events":
                seqs += range(m["stream_seq"], m["stream_seq"] + len(m["events"]))
            if len(seqs) >= first + 500:
                break
        assert seqs == list(range(len(seqs)))
    httpx.post(f"{server}{API}/streams/{sid}/stop")


def test_a_vanishing_client_breaks_neither_the_stream_nor_the_server(server):
    sid = _create(server, events_per_second=2000, max_events=3000)
    with _ws(server, sid) as keeper, _ws(server, sid) as gone:
        keeper.recv(), gone.recv()
        _poll(lambda: _info(server, sid)["events_produced"] > 100)
        gone.socket.shutdown(socket.SHUT_RDWR)  # no close frame: the connection just goes
        seqs, other = _drain(keeper)
    assert seqs == list(range(3000)) and other[-1]["reason"] == "max_events reached"
    assert _poll(lambda: len(_info(server, sid)["subscribers"]) == 0, timeout=30)
    assert httpx.get(f"{server}{API}/health").status_code == 200


def test_pause_resume_without_a_burst_and_stop_with_a_reason(server):
    sid = _create(server, events_per_second=200)
    with _ws(server, sid) as ws:
        ws.recv()
        times: list[tuple[float, int]] = []

        def read_for(seconds: float) -> None:
            end = time.monotonic() + seconds
            while (left := end - time.monotonic()) > 0:
                try:
                    m = json.loads(ws.recv(timeout=left))
                except TimeoutError:
                    return
                if m["type"] == "events":
                    times.extend((time.monotonic(), m["stream_seq"] + i) for i in range(len(m["events"])))

        read_for(1.5)
        assert times, "no events before the pause"
        assert httpx.post(f"{server}{API}/streams/{sid}/pause").json()["status"] == "paused"
        read_for(0.3)  # what was in flight
        held = len(times)
        read_for(0.8)
        assert len(times) == held  # none while paused
        assert httpx.post(f"{server}{API}/streams/{sid}/resume").json()["status"] == "running"
        resumed_at = time.monotonic()
        read_for(2.0)
        after = [t for t, _ in times[held:]]
        assert after, "nothing after resume"
        # the pause missed ~160 events at 200/s; a burst would send them at once on resume
        assert sum(1 for t in after if t - resumed_at < 0.5) <= 180
        assert 150 <= len(after) <= 600  # about 400 in 2 s, a wide band
        assert [s for _, s in times] == list(range(len(times)))  # no gap, no repeat
        assert httpx.post(f"{server}{API}/streams/{sid}/stop").json()["status"] == "stopped"
        _, other = _drain(ws)
        assert other[-1]["type"] == "end" and other[-1]["reason"] == "stopped"
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=10)
        assert ws.close_code == 1000 and ws.close_reason == "stopped"


def test_the_rate_holds_at_200_per_second(server):
    n = 1000  # five seconds at 200/s (the minute-long check is bench/service_streams.py)
    sid = _create(server, events_per_second=200, max_events=n)
    stamps = []
    with _ws(server, sid) as ws:
        ws.recv()
        for text in ws:
            m = json.loads(text)
            if m["type"] == "events":
                stamps += [time.monotonic()] * len(m["events"])
            elif m["type"] == "end":
                break
    assert len(stamps) == n
    elapsed = stamps[-1] - stamps[0]
    # never early (the schedule is absolute: event i is due at t0 + i/200, 4.995 s for the last);
    # late only by a busy machine — a wide band
    assert 4.9 <= elapsed <= 15, elapsed
    per_second = [sum(1 for t in stamps if k <= t - stamps[0] < k + 1) for k in range(4)]
    assert all(150 <= c <= 250 for c in per_second), per_second


def test_the_python_client(server, tmp_path):
    from datagen.remote import RemoteError

    client = datagen.DataGen(server_url=server)
    try:
        stream = client.stream(str(IOT), events_per_second=None, max_events=500, seed=11)
        assert stream.info()["status"] == "waiting"

        async def collect():
            return [e async for e in stream.events()]

        got = asyncio.run(collect())
        assert got == [orjson.loads(x) for x in datagen.stream(IOT, seed=11, max_events=500, raw=True,
                                                                events_per_second=None)]
        assert stream.end is not None and stream.end["reason"] == "max_events reached"
        with pytest.raises(RemoteError) as exc:
            stream.pause()
        assert exc.value.status == 409

        by_blueprint = client.stream(blueprint="iot_telemetry", params={"sites": 2}, events_per_second=1000,
                                     max_events=100_000)

        async def first():
            async for event in by_blueprint:
                return event

        assert asyncio.run(first())["table"] == "readings"
        by_blueprint.stop()

        run = client.runs.start(schema_id="shop", rows={"customers": 20}, seed=3,
                                target={"kind": "csv", "path": "shop-client"})
        done = client.runs.wait(run["id"], timeout=120)
        assert done["status"] == "success" and done["seed"] == 3
        assert run["id"] in [r["id"] for r in client.runs.list()]
        with pytest.raises(datagen.UsageError, match="talks to a service"):
            client.generate(str(IOT))
    finally:
        client.close()


# --- the subscriber queue, a range at a time ---------------------------------------------------------


def _one_by_one(policy: str, buffer: int, steps: list) -> tuple[list[list[int]], int]:
    """The reference: every event offered alone (the policies as docs/service.md words them)."""
    import collections

    q: collections.deque[int] = collections.deque()
    dropped, frames = 0, []
    for op, arg in steps:
        if op == "offer":
            for seq in arg:
                if len(q) >= buffer:
                    dropped += 1
                    if policy == "drop_newest":
                        continue
                    q.popleft()
                q.append(seq)
        else:
            frame = [q.popleft()] if q else []
            while q and len(frame) < arg and q[0] == frame[-1] + 1:
                frame.append(q.popleft())
            frames.append(frame)
    return frames, dropped


@pytest.mark.parametrize("policy", ["drop_oldest", "drop_newest", "block"])
def test_ranges_keep_order_numbers_and_the_policies(policy):
    """Offering and taking ranges of windows gives exactly the frames of one event at a time:
    order, consecutive numbers, frames never across a gap, drops counted; block loses nothing."""
    import random

    import pyarrow as pa

    from datagen.service.streams import Subscriber, Window

    rng = random.Random(7)
    lines = [orjson.dumps({"n": i, "s": "x" * rng.randrange(5)}) + b"\n" for i in range(5000)]
    windows = [(k, Window(pa.array(lines[k:k + 700], pa.binary()))) for k in range(0, 5000, 700)]
    sub = Subscriber(1, policy, buffer=50)  # type: ignore[arg-type]
    steps, frames, seq = [], [], 0
    for start, window in windows:
        a, n = 0, min(700, 5000 - start)
        while a < n:
            b = min(n, a + rng.choice([1, 3, 40, 120]))
            while a < b:  # block: offer what fits, take a frame, offer the rest
                k = sub.offer(seq, window, a, b)
                offered = k if policy == "block" else b - a
                steps.append(("offer", list(range(seq, seq + offered))))
                seq, a = seq + k, a + k
                if a < b or rng.random() < 0.3:
                    take = rng.choice([1, 7, 64])
                    steps.append(("take", take))
                    if sub.queued:
                        first, body, count = sub.take(take)
                        frames.append([first + i for i in range(count)])
                        assert [e["n"] for e in orjson.loads(b"[" + body + b"]")] == frames[-1]
                    else:
                        frames.append([])
                    assert sub.queued <= 50
    expected, dropped = _one_by_one(policy, 50, steps)
    assert frames == expected and sub.dropped == dropped and sub.high_water <= 50
    if policy == "block":
        assert dropped == 0
        while sub.queued:
            first, _body, count = sub.take(64)
            frames.append(list(range(first, first + count)))
        assert [s for f in frames for s in f] == list(range(5000))  # every event, in order, once


def test_aranges_gives_the_events_of_the_per_event_iterator():
    """The bulk form hands over exactly the events, in the order, that ``for event in stream``
    gives (unpaced; the paced schedule is the rate test's), ``max_events`` included."""
    import pyarrow as pa

    def ranges(n: int, most: int) -> list[bytes]:
        async def go() -> list[bytes]:
            out: list[bytes] = []
            s = datagen.stream(IOT, events_per_second=None, max_events=n, seed=4, rows={"readings": 3000}, raw=True)
            async for window, a, b in s.aranges(most=most):
                assert 0 <= a < b <= len(window) and b - a <= most
                assert pa.types.is_binary(window.type) or pa.types.is_large_binary(window.type)
                out += [line.rstrip(b"\n") for line in window.slice(a, b - a).to_pylist()]
            return out

        return asyncio.run(go())

    every = list(datagen.stream(IOT, events_per_second=None, max_events=None, seed=4, rows={"readings": 3000},
                                raw=True))
    assert ranges(10**9, 1024) == every
    assert ranges(1234, 100) == every[:1234]
