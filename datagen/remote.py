"""The client of a ``datagen serve`` service: ``DataGen(server_url=…)`` — runs over HTTP (httpx),
live streams over WebSocket (websockets); both are the ``service`` extra's, imported on first use.

    client = DataGen(server_url="http://127.0.0.1:8000", api_key=None)
    run = client.runs.start(schema_id="shop", seed=7)          # POST /api/v1/runs
    client.runs.wait(run["id"])                                 # GET /api/v1/runs/{id} until it ends
    stream = client.stream(schema, events_per_second=200, max_events=1000)   # POST /api/v1/streams
    async for event in stream.events(): ...                     # WS /api/v1/ws/streams/{id}

Errors the service answers become ``RemoteError`` (a ``DatagenError``) with its status, type and
message.
"""

from __future__ import annotations

import builtins
import json
import os
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from shared.errors import DatagenError, UsageError

PREFIX = "/api/v1"
#: the statuses after which a run has ended
ENDED = ("success", "failed", "interrupted")


class RemoteError(DatagenError):
    """An error the service answered: ``status`` (HTTP, or the WebSocket close code), ``kind``."""

    def __init__(self, message: str, *, status: int, kind: str = "Error"):
        super().__init__(message)
        self.status, self.kind = status, kind


def schema_body(schema: Any) -> dict[str, Any] | str:
    """What ``schema`` is over the wire: a JSON object or the text of a schema file."""
    if isinstance(schema, Mapping):
        return dict(schema)
    if hasattr(schema, "to_json"):
        return json.loads(schema.to_json())
    if isinstance(schema, os.PathLike) or (isinstance(schema, str) and "\n" not in schema
                                           and schema.endswith((".yaml", ".yml", ".json"))):
        return Path(schema).read_text(encoding="utf-8")
    if isinstance(schema, str):
        return schema
    raise UsageError(f"a schema for the service: a Schema, a mapping, a file path or its text, not "
                     f"{type(schema).__name__}")


class Remote:
    """The HTTP side: one ``httpx.Client`` per client, the key in ``X-API-Key``."""

    def __init__(self, server_url: str, api_key: str | None = None, timeout: float = 60.0):
        import httpx

        self.base = server_url.rstrip("/")
        self.api_key = api_key
        self.headers = {"X-API-Key": api_key} if api_key else {}
        self.http = httpx.Client(base_url=self.base + PREFIX, headers=self.headers, timeout=timeout)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self.http.request(method, path, **kwargs)
        if r.status_code >= 400:
            try:
                err = r.json()["error"]
                raise RemoteError(f"{r.status_code} {err['type']}: {err['message']}", status=r.status_code,
                                  kind=err["type"])
            except (ValueError, KeyError, TypeError):
                raise RemoteError(f"{r.status_code}: {r.text[:500]}", status=r.status_code) from None
        return r.json()

    def ws_url(self, path: str) -> str:
        scheme, _, rest = self.base.partition("://")
        return {"https": "wss", "http": "ws"}.get(scheme, scheme) + "://" + rest + path

    def close(self) -> None:
        self.http.close()


def dataset(schema: Any = None, *, schema_id: str | None = None, blueprint: str | None = None,
            params: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    if schema is not None:
        body["schema"] = schema_body(schema)
    if schema_id is not None:
        body["schema_id"] = schema_id
    if blueprint is not None:
        body["blueprint"] = blueprint
    if params is not None:
        body["params"] = dict(params)
    return body


class Runs:
    """``client.runs``: background runs of the service (the run store ``datagen runs`` reads)."""

    def __init__(self, remote: Remote):
        self.remote = remote

    def start(self, schema: Any = None, **kwargs: Any) -> dict[str, Any]:
        """``POST /runs``: ``schema`` (or ``schema_id=``, ``blueprint=`` with ``params=``), ``target``
        or ``target_id``, ``seed``, ``rows``, ``scale``, ``profile``, ``mode``; answers ``{id, status}``."""
        return self.remote.call("POST", "/runs", json=dataset(schema, **kwargs))

    def get(self, run_id: str) -> dict[str, Any]:
        return self.remote.call("GET", f"/runs/{run_id}")

    def list(self, limit: int = 20, status: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
        return self.remote.call("GET", "/runs", params=params)["runs"]

    def logs(self, run_id: str) -> builtins.list[dict[str, Any]]:
        return self.remote.call("GET", f"/runs/{run_id}/logs")["lines"]

    def cancel(self, run_id: str) -> dict[str, Any]:
        return self.remote.call("POST", f"/runs/{run_id}/cancel")

    def wait(self, run_id: str, timeout: float | None = None, poll: float = 0.2) -> dict[str, Any]:
        """The run once it has ended (``success``, ``failed``, ``interrupted``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.get(run_id)
            if run["status"] in ENDED:
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise RemoteError(f"run {run_id} still {run['status']} after {timeout} s", status=408,
                                  kind="Timeout")
            time.sleep(poll)


class RemoteStream:
    """A live stream of the service: ``events()`` (or ``async for``) subscribes over WebSocket;
    ``pause()``, ``resume()``, ``stop()`` and ``info()`` are HTTP calls."""

    def __init__(self, remote: Remote, accepted: dict[str, Any]):
        self.remote, self.id = remote, accepted["id"]
        self.path = accepted.get("websocket") or f"{PREFIX}/ws/streams/{self.id}"
        #: the last ``end`` message (reason, counts) once ``events()`` has run out
        self.end: dict[str, Any] | None = None
        #: the latest ``status`` message (pause, resume, drops)
        self.status: dict[str, Any] | None = None

    def info(self) -> dict[str, Any]:
        return self.remote.call("GET", f"/streams/{self.id}")

    def pause(self) -> dict[str, Any]:
        return self.remote.call("POST", f"/streams/{self.id}/pause")

    def resume(self) -> dict[str, Any]:
        return self.remote.call("POST", f"/streams/{self.id}/resume")

    def stop(self) -> dict[str, Any]:
        return self.remote.call("POST", f"/streams/{self.id}/stop")

    async def events(self, *, policy: str | None = None, buffer: int | None = None,
                     batch: int | None = None, with_seq: bool = False) -> AsyncIterator[Any]:
        """Each event (the event_stream envelope as a dict; ``with_seq``: ``(stream_seq, event)``)
        until the stream ends; a close other than normal raises ``RemoteError``."""
        import orjson
        import websockets
        from websockets.asyncio.client import connect

        query = "&".join(f"{k}={v}" for k, v in (("policy", policy), ("buffer", buffer), ("batch", batch))
                         if v is not None)
        url = self.remote.ws_url(self.path + (f"?{query}" if query else ""))
        async with connect(url, additional_headers=self.remote.headers, max_size=None) as ws:
            try:
                async for text in ws:
                    message = orjson.loads(text)
                    kind = message.get("type")
                    if kind == "events":
                        first = message["stream_seq"]
                        for i, event in enumerate(message["events"]):
                            yield (first + i, event) if with_seq else event
                    elif kind == "status":
                        self.status = message
                    elif kind == "end":
                        self.end = message
            except websockets.ConnectionClosedError as exc:
                raise RemoteError(f"stream {self.id}: closed {exc.rcvd.code if exc.rcvd else '?'} "
                                  f"{exc.rcvd.reason if exc.rcvd else ''}".strip(),
                                  status=exc.rcvd.code if exc.rcvd else 1006) from None
            code = ws.close_code
            if code is not None and code != 1000 and self.end is None:
                raise RemoteError(f"stream {self.id}: closed {code} {ws.close_reason or ''}".strip(), status=code)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self.events()

    def __repr__(self) -> str:
        return f"RemoteStream({self.id!r}, {self.remote.base!r})"
