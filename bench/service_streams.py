"""Live streams over the service (issue 17, item 2): events per second delivered to one local
WebSocket subscriber when unthrottled, against writing the same events to a file in the same run,
and a paced stream's per-second counts over a minute.

    python -m bench.service_streams [--events 300000] [--seconds 60] [--rate 200]

Starts ``datagen serve`` on a free loopback port, creates the streams over HTTP and reads them
with the ``websockets`` client (the one ``DataGen(server_url=…)`` uses); prints a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "examples" / "iot.yaml"
API = "/api/v1"


def _serve(tmp: Path):
    """``datagen serve`` on a free loopback port (tests/service_server.py): (process, base URL)."""
    from tests.service_server import running

    return running(tmp, "--runs-db", str(tmp / "runs.sqlite"), "--output-dir", str(tmp / "out"), "--schemas-dir",
                   str(SCHEMA.parent))


async def _subscribe(base: str, body: dict, batch: int | None = None) -> list[tuple[float, int]]:
    """(arrival time, events) of every events frame until the end."""
    import httpx
    from websockets.asyncio.client import connect

    sid = httpx.post(f"{base}{API}/streams", json={"schema_id": "iot", **body}, timeout=60).json()["id"]
    frames = []
    url = f"ws{base[4:]}{API}/ws/streams/{sid}" + (f"?batch={batch}" if batch else "")
    async with connect(url, max_size=None) as ws:
        async for text in ws:
            m = orjson.loads(text)
            if m["type"] == "events":
                frames.append((time.perf_counter(), len(m["events"])))
            elif m["type"] == "end":
                break
    return frames


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def unthrottled(base: str, n: int, batch: int | None, pid: int) -> dict:
    server0, client0 = _cpu_s(pid), time.process_time()
    frames = asyncio.run(_subscribe(base, {"events_per_second": None, "max_events": n, "seed": 1,
                                           "rows": {"readings": n}}, batch))
    server, client = _cpu_s(pid) - server0, time.process_time() - client0
    got = sum(k for _, k in frames)
    seconds = frames[-1][0] - frames[0][0]
    # CPU per event: what a busy shared machine changes least
    return {"events": got, "frames": len(frames), "seconds": round(seconds, 3),
            "events_per_s": round(got / seconds), "server_cpu_us_per_event": round(1e6 * server / got, 2),
            "client_cpu_us_per_event": round(1e6 * client / got, 2)}


def to_file(n: int, tmp: Path) -> dict:
    import datagen

    path = tmp / "events.ndjson"
    t0, c0 = time.perf_counter(), time.process_time()
    with path.open("wb") as f:
        for line in datagen.stream(SCHEMA, events_per_second=None, max_events=n, seed=1, rows={"readings": n},
                                   raw=True):
            f.write(line + b"\n")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"events": n, "seconds": round(seconds, 3), "events_per_s": round(n / seconds),
            "cpu_us_per_event": round(1e6 * cpu / n, 2), "bytes": path.stat().st_size}


def paced(base: str, seconds: int, rate: float) -> dict:
    n = int(seconds * rate)
    frames = asyncio.run(_subscribe(base, {"events_per_second": rate, "max_events": n, "seed": 1,
                                           "rows": {"readings": n}}))
    t0 = frames[0][0]
    counts = [0] * seconds
    for t, k in frames:
        i = int(t - t0)
        if i < seconds:
            counts[i] += k
    full = counts[: seconds - 1] if sum(counts) < n else counts  # the last second may hold the tail only
    return {"events_per_second": rate, "seconds": seconds, "events": sum(k for _, k in frames),
            "elapsed_s": round(frames[-1][0] - t0, 3), "per_second_mean": round(sum(full) / len(full), 2),
            "per_second_min": min(full), "per_second_max": max(full)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--rate", type=float, default=200.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with _serve(tmp) as (proc, base):
            out = {"file": to_file(args.events, tmp),
                   "websocket_batch_default": unthrottled(base, args.events, None, proc.pid),
                   "websocket_batch_1": unthrottled(base, min(args.events, 100_000), 1, proc.pid)}
            out["websocket_vs_file"] = round(out["websocket_batch_default"]["events_per_s"]
                                             / out["file"]["events_per_s"], 3)
            if args.seconds > 0:
                out["paced"] = paced(base, args.seconds, args.rate)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
