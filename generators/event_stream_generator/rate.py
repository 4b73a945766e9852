"""``generate --rate N``: the event stream to stdout at N events per second, no files.

The stream is the one ``events.ndjson`` would hold (same lines, same order), computed on the fly:
event tables whose time column is ordered by row (``time_series``, ``arrivals``) are streamed
block by block; others are sorted in memory first (``max_sort_rows``). Non-event tables are
not emitted. The pace is kept with ``time.monotonic``: line ``i`` is written no earlier than
``t0 + i / N``; lines that are due are written together and flushed; if generation falls more
than one second behind, the schedule restarts from now rather than bursting to catch up. A
reader that goes away (``| head``: EPIPE) ends the run quietly with exit code 0.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import BinaryIO

import pyarrow as pa
import typer

from generators.event_stream_generator.merge import merged_stream, write_lines
from shared.errors import UsageError

MAX_RATE = 10_000_000.0
#: the most the schedule may lag before it restarts (so no burst exceeds a second's worth)
MAX_LAG_S = 1.0
#: the longest single sleep, so a stopped reader is noticed and signals are handled promptly
MAX_SLEEP_S = 0.25


def pace(out: BinaryIO, windows: Iterable[pa.Array], rate: float, *,
         clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> int:
    """Write the lines of ``windows`` to ``out`` at ``rate`` lines per second; returns the count."""
    t0 = clock()
    sent = 0
    for lines in windows:
        i, n = 0, len(lines)
        while i < n:
            now = clock()
            if (now - t0) - sent / rate > MAX_LAG_S:
                t0 = now - sent / rate
            due = math.floor((now - t0) * rate) + 1 - sent
            if due <= 0:
                sleep(min(t0 + sent / rate - now, MAX_SLEEP_S))
                continue
            k = write_lines(out, lines, i, i + due)
            out.flush()
            i += k
            sent += k
    return sent


def stream_events(plan, options: dict, rate: float, out: BinaryIO) -> int:
    """Generate the plan's event stream and write it to ``out`` at ``rate`` events per second."""
    from shared.schema_dsl.engine import Engine

    engine = Engine(plan, text=True)  # a text stream: the text-only kinds apply
    windows = merged_stream(plan.written_schema(), engine.iter_batches, plan.seed, options["late_max_delay_us"],
                            options["max_sort_rows"], plan.profile)
    return pace(out, windows, rate)


def _silence_stdout() -> None:
    """After EPIPE: point fd 1 at /dev/null so the interpreter's final flush cannot fail."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation, AttributeError):
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)


def handle_rate(request) -> bool:
    """The frontend's ``generate_handler``: stream when ``--rate`` is given, else let files be written."""
    rate = request.extra.get("rate")
    if rate is None:
        return False
    if not math.isfinite(rate) or not 0 < rate <= MAX_RATE:
        raise UsageError(f"--rate {rate}: events per second, more than 0 and at most {MAX_RATE:,.0f}")
    if request.out is not None:
        raise UsageError("--rate writes the events to stdout, not files: drop --out (or drop --rate to write files)")
    started = time.monotonic()
    try:
        sys.stdout.flush()
        n = stream_events(request.plan, request.options, rate, sys.stdout.buffer)
    except BrokenPipeError:  # the reader went away (`| head`): a normal end of a stream
        _silence_stdout()
        return True
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise typer.Exit(130) from None
    if not request.quiet:
        secs = time.monotonic() - started
        print(f"emitted {n:,} events in {secs:.2f} s ({n / max(secs, 1e-9):,.1f} events/s)", file=sys.stderr)
    return True
