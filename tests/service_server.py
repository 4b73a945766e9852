"""A real ``datagen serve`` process for the tests that need real sockets (WebSockets, a browser,
signals): started on a free loopback port, waited for until ``/health`` answers, stopped with
SIGTERM (killed if it does not stop). Its stderr goes to a file, shown when it fails to start."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT

#: how long a server gets to answer /health
START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``datagen serve --port <free> ARGS`` run in ``cwd``: yields its base URL (``http://127.0.0.1:PORT``)."""
    with running(cwd, *args, env=env) as (_, base):
        yield base


@contextlib.contextmanager
def running(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """As :func:`serve`, yielding the process too (the benchmarks read its memory)."""
    import httpx

    port = free_port()
    log = cwd / f"serve-{port}.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-P", "-m", "datagen", "serve", "--port", str(port), *args], cwd=cwd,
                                env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                                stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=10).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"datagen serve did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield proc, base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
