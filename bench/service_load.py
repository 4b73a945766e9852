"""A bounded load test of ``datagen serve`` (issue 17): for ``--seconds`` (default 25), concurrent
run submissions, live streams with several WebSocket subscribers each, and probes of the other
endpoints, against a real uvicorn process on loopback. It stops by itself and prints a JSON
summary: p50/p95/p99 latency of the non-run API requests (everything but ``POST /runs``), the runs
accepted, refused (429) and how they ended, the events per second delivered to the subscribers,
and the server's peak RSS (the kernel's ``VmHWM``).

    python -m bench.service_load [--seconds 25] [--submitters 2] [--streams 2] [--subscribers 2]
                                 [--rate 2000] [--probes 2]

Not part of ``make test``: it measures, it asserts nothing. Two busy processes (the server and
this client); every run is small (``shop`` at 2,000 customers, Parquet into a temporary folder).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "schemas" / "examples"
API = "/api/v1"
#: after the load, how long runs still going get to end before the server is stopped
DRAIN_S = 20.0


def _serve(tmp: Path, args: argparse.Namespace):
    """``datagen serve`` on a free loopback port (tests/service_server.py): (process, base URL)."""
    from tests.service_server import running

    return running(tmp, "--host", "127.0.0.1", "--runs-db", str(tmp / "runs.sqlite"), "--output-dir",
                   str(tmp / "out"), "--schemas-dir", str(EXAMPLES), "--max-runs", str(args.max_runs),
                   "--max-streams", str(max(4, args.streams)), "--max-subscribers", str(max(8, args.subscribers)))


def _rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak) of a process, in KiB (Linux)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                out[name] = int(value.split()[0])
    except OSError:
        pass
    return out


def _quantiles(xs: list[float]) -> dict[str, float | int]:
    if not xs:
        return {"n": 0}
    s = sorted(xs)

    def q(p: float) -> float:
        return round(1000 * s[min(len(s) - 1, max(0, int(round(p * len(s) + 0.5)) - 1))], 2)

    return {"n": len(s), "p50_ms": q(0.50), "p95_ms": q(0.95), "p99_ms": q(0.99), "max_ms": round(1000 * s[-1], 2)}


class Load:
    def __init__(self, base: str, args: argparse.Namespace):
        self.base, self.args = base, args
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.runs = {"submitted": 0, "accepted": 0, "refused_429": 0, "other_errors": 0}
        self.run_ids: list[str] = []
        self.events = 0
        self.frames = 0
        self.stream_ids: list[str] = []
        self.stop = asyncio.Event()

    async def timed(self, client, label: str, method: str, path: str, **kw):
        t0 = time.perf_counter()
        r = await client.request(method, path, **kw)
        self.latency[label].append(time.perf_counter() - t0)
        if r.status_code >= 400:
            self.errors[f"{label} {r.status_code}"] += 1
        return r

    async def submitter(self, client, k: int) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            self.runs["submitted"] += 1
            r = await client.post("/runs", json={"schema_id": "shop", "seed": i, "rows": {"customers": 2000},
                                                 "target": {"kind": "parquet", "path": f"load/{k}-{i}"}})
            if r.status_code == 202:
                self.runs["accepted"] += 1
                self.run_ids.append(r.json()["id"])
            elif r.status_code == 429:
                self.runs["refused_429"] += 1
                await asyncio.sleep(0.25)
            else:
                self.runs["other_errors"] += 1
                await asyncio.sleep(0.25)

    async def prober(self, client) -> None:
        """The other endpoints, one after the other with a short pause: what a page or a client does."""
        while not self.stop.is_set():
            await self.timed(client, "GET /health", "GET", "/health")
            await self.timed(client, "GET /runs", "GET", "/runs", params={"limit": 20})
            if self.run_ids:
                await self.timed(client, "GET /runs/{id}", "GET", f"/runs/{self.run_ids[-1]}")
            await self.timed(client, "GET /schemas", "GET", "/schemas")
            await self.timed(client, "GET /streams", "GET", "/streams")
            await self.timed(client, "POST /runs/plan", "POST", "/runs/plan",
                             json={"schema_id": "shop", "rows": {"customers": 2000}})
            await asyncio.sleep(0.05)

    async def subscriber(self, sid: str) -> None:
        from websockets.asyncio.client import connect

        url = f"ws{self.base[4:]}{API}/ws/streams/{sid}?policy=drop_oldest"
        async with connect(url, max_size=None) as ws:
            async for text in ws:
                m = orjson.loads(text)
                if m["type"] == "events":
                    self.events += len(m["events"])
                    self.frames += 1
                elif m["type"] == "end":
                    break

    async def run(self) -> dict:
        import httpx

        a = self.args
        async with httpx.AsyncClient(base_url=f"{self.base}{API}", timeout=60) as client:
            for _ in range(a.streams):
                # enough events for the whole test (iot's default 20,400 would end a stream after ~10 s)
                rows = int(a.rate * (a.seconds + 30))
                r = await client.post("/streams", json={"schema_id": "iot", "events_per_second": a.rate,
                                                        "max_events": 10**9, "seed": 1, "start": "now",
                                                        "rows": {"readings": rows}})
                r.raise_for_status()
                self.stream_ids.append(r.json()["id"])
            tasks = [asyncio.create_task(self.subscriber(sid)) for sid in self.stream_ids
                     for _ in range(a.subscribers)]
            tasks += [asyncio.create_task(self.submitter(client, k)) for k in range(a.submitters)]
            tasks += [asyncio.create_task(self.prober(client)) for _ in range(a.probes)]
            t0 = time.perf_counter()
            await asyncio.sleep(a.seconds)
            self.stop.set()
            elapsed = time.perf_counter() - t0
            events = self.events
            for sid in self.stream_ids:
                await client.post(f"/streams/{sid}/stop")
            await asyncio.wait(tasks, timeout=30)
            ended = await self.drain(client)
        return {"elapsed_s": round(elapsed, 2), "events_at_end": events, "run_status": ended}

    async def drain(self, client) -> dict[str, int]:
        """Wait (at most DRAIN_S) for the accepted runs to end; count their statuses."""
        deadline = time.monotonic() + DRAIN_S
        while True:
            runs = (await client.get("/runs", params={"limit": 1000})).json()["runs"]
            mine = [r for r in runs if r["id"] in set(self.run_ids)]
            going = [r for r in mine if r["status"] in ("pending", "running")]
            if not going or time.monotonic() > deadline:
                counts: dict[str, int] = defaultdict(int)
                for r in mine:
                    counts[r["status"]] += 1
                return dict(counts)
            await asyncio.sleep(0.5)


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the service, its fork server and the runs' processes; Linux)."""
    children: dict[int, list[int]] = defaultdict(list)
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[ppid].append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


async def _sample_rss(pid: int, stop: asyncio.Event, peak: list[int]) -> None:
    """peak[0]: the service's own RSS; peak[1]: the sum over its process tree (fork server and runs
    included; shared pages counted in each, so an upper bound)."""
    while not stop.is_set():
        peak[0] = max(peak[0], _rss_kib(pid).get("VmRSS", 0))
        peak[1] = max(peak[1], sum(_rss_kib(p).get("VmRSS", 0) for p in _tree(pid)))
        await asyncio.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=25.0, help="how long the load lasts (it then stops)")
    ap.add_argument("--submitters", type=int, default=2, help="tasks submitting runs back to back")
    ap.add_argument("--max-runs", type=int, default=2, help="the server's --max-runs (past it: 429)")
    ap.add_argument("--streams", type=int, default=2, help="live streams")
    ap.add_argument("--subscribers", type=int, default=2, help="WebSocket subscribers per stream")
    ap.add_argument("--rate", type=float, default=2000.0, help="each stream's events per second")
    ap.add_argument("--probes", type=int, default=2, help="tasks probing the other endpoints")
    args = ap.parse_args()
    if not 1 <= args.seconds <= 600:
        raise SystemExit("--seconds: from 1 to 600 (the test is bounded)")
    with tempfile.TemporaryDirectory() as d:
        with _serve(Path(d), args) as (proc, base):
            async def go() -> dict:
                stop, peak = asyncio.Event(), [0, 0]
                sampler = asyncio.create_task(_sample_rss(proc.pid, stop, peak))
                load = Load(base, args)
                result = await load.run()
                stop.set()
                await sampler
                everything = [x for label, xs in load.latency.items() for x in xs]
                mem = _rss_kib(proc.pid)
                return {
                    "settings": vars(args),
                    "elapsed_s": result["elapsed_s"],
                    "api_latency": {"all": _quantiles(everything),
                                    **{label: _quantiles(xs) for label, xs in sorted(load.latency.items())}},
                    "api_errors": dict(load.errors),
                    "runs": {**load.runs, "ended": result["run_status"]},
                    "streams": {"streams": args.streams, "subscribers": args.streams * args.subscribers,
                                "events_delivered": result["events_at_end"],
                                "events_per_s_delivered": round(result["events_at_end"] / result["elapsed_s"]),
                                "events_per_s_asked": args.rate * args.streams * args.subscribers,
                                "frames": load.frames},
                    "server": {"peak_rss_mib": round(max(mem.get("VmHWM", 0), peak[0]) / 1024, 1),
                               "rss_at_end_mib": round(mem.get("VmRSS", 0) / 1024, 1),
                               "peak_rss_tree_mib": round(peak[1] / 1024, 1)},
                }

            out = asyncio.run(go())
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
