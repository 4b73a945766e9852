"""Prometheus text (exposition format 0.0.4), by hand: a few counters, a gauge and one histogram.

``datagen_runs_total{status}`` (runs this service ended, by status), ``datagen_runs_active``,
``datagen_rows_written_total``, ``datagen_stream_events_sent_total`` (live streams add to it), ``datagen_streams_active``,
``datagen_stream_subscribers``, ``datagen_stream_events_dropped_total``,
``datagen_http_requests_total{method,route,status}`` and
``datagen_http_request_duration_seconds{method,route}`` (a histogram).
"""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.runs: dict[str, int] = defaultdict(int)
        self.rows_written = 0
        self.stream_events = 0
        self.stream_drops = 0
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], list[float]] = {}  # bucket counts, then sum, then count

    def run_ended(self, status: str) -> None:
        with self._lock:
            self.runs[status] += 1

    def add_rows(self, n: int) -> None:
        with self._lock:
            self.rows_written += n

    def add_stream_events(self, n: int) -> None:
        with self._lock:
            self.stream_events += n

    def add_stream_drops(self, n: int) -> None:
        with self._lock:
            self.stream_drops += n

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            h = self.latency.setdefault((method, route), [0.0] * (len(BUCKETS) + 2))
            for i, b in enumerate(BUCKETS):
                if seconds <= b:
                    h[i] += 1
            h[-2] += seconds
            h[-1] += 1

    def render(self, active: int, streams: int = 0, subscribers: int = 0) -> str:
        with self._lock:
            out = ["# HELP datagen_runs_total Runs this service ended, by status.", "# TYPE datagen_runs_total counter"]
            for ended in ("success", "failed", "interrupted"):
                out.append(f'datagen_runs_total{{status="{ended}"}} {self.runs.get(ended, 0)}')
            out += ["# HELP datagen_runs_active Runs in progress.", "# TYPE datagen_runs_active gauge",
                    f"datagen_runs_active {active}",
                    "# HELP datagen_rows_written_total Rows written by this service's runs.",
                    "# TYPE datagen_rows_written_total counter", f"datagen_rows_written_total {self.rows_written}",
                    "# HELP datagen_stream_events_sent_total Events sent to stream subscribers.",
                    "# TYPE datagen_stream_events_sent_total counter",
                    f"datagen_stream_events_sent_total {self.stream_events}",
                    "# HELP datagen_stream_events_dropped_total Events dropped for slow stream subscribers.",
                    "# TYPE datagen_stream_events_dropped_total counter",
                    f"datagen_stream_events_dropped_total {self.stream_drops}",
                    "# HELP datagen_streams_active Live streams (waiting, running or paused).",
                    "# TYPE datagen_streams_active gauge", f"datagen_streams_active {streams}",
                    "# HELP datagen_stream_subscribers WebSocket subscribers of live streams.",
                    "# TYPE datagen_stream_subscribers gauge", f"datagen_stream_subscribers {subscribers}",
                    "# HELP datagen_http_requests_total HTTP requests answered.",
                    "# TYPE datagen_http_requests_total counter"]
            for (method, route, status), n in sorted(self.requests.items()):
                out.append(f'datagen_http_requests_total{{method="{_label(method)}",route="{_label(route)}",'
                           f'status="{status}"}} {n}')
            out += ["# HELP datagen_http_request_duration_seconds HTTP request latency.",
                    "# TYPE datagen_http_request_duration_seconds histogram"]
            for (method, route), h in sorted(self.latency.items()):
                labels = f'method="{_label(method)}",route="{_label(route)}"'
                for i, b in enumerate(BUCKETS):
                    out.append(f'datagen_http_request_duration_seconds_bucket{{{labels},le="{b}"}} {int(h[i])}')
                out.append(f'datagen_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {int(h[-1])}')
                out.append(f"datagen_http_request_duration_seconds_sum{{{labels}}} {h[-2]:.6f}")
                out.append(f"datagen_http_request_duration_seconds_count{{{labels}}} {int(h[-1])}")
        return "\n".join(out) + "\n"
