"""``create_app(settings)``: the FastAPI application (FastAPI's "bigger applications" layout —
one router per resource under ``/api/v1``, the state on ``app.state``)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from datagen.service.deps import PREFIX, Context, require_key
from datagen.service.errors import body as error_body
from datagen.service.errors import install as install_errors
from datagen.service.metrics import Metrics
from datagen.service.runs import RunManager
from datagen.service.settings import Settings
from datagen.service.streams import StreamManager

log = logging.getLogger("datagen.service")


class _Limits:
    """A pure ASGI middleware: a body past ``max_body_bytes`` is 413 before any route reads it
    (Content-Length, or counted while it arrives); each request's latency goes to the metrics."""

    def __init__(self, app: Any, settings: Settings, metrics: Metrics):
        self.app, self.limit, self.metrics = app, settings.max_body_bytes, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = [500]

        async def send_status(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            length = dict(scope.get("headers") or []).get(b"content-length")
            too_big = length is not None and (not length.isdigit() or int(length) > self.limit)
            if not too_big and scope.get("method") in ("POST", "PUT", "PATCH"):
                chunks, size, more = [], 0, True
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunks.append(message.get("body", b""))
                    size += len(chunks[-1])
                    more = message.get("more_body", False)
                    if size > self.limit:
                        too_big = True
                        break
                if not too_big:
                    data = b"".join(chunks)
                    sent = [False]

                    async def replay():
                        if not sent[0]:
                            sent[0] = True
                            return {"type": "http.request", "body": data, "more_body": False}
                        return await receive()

                    receive = replay
            if too_big:
                response = JSONResponse(error_body("TooLarge", f"the request body is larger than "
                                                    f"{self.limit:,} bytes (--max-body-bytes)"), status_code=413)
                await response(scope, receive, send_status)
                return
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            if path.startswith("/") and scope.get("path", "").startswith(PREFIX + "/") and \
                    not path.startswith(PREFIX + "/"):
                path = PREFIX + path  # a route of an included router knows its own part only
            self.metrics.observe(scope.get("method", "?"), path, status[0], time.perf_counter() - t0)


#: what ``_warm`` plans: a table of each kind of column the loader and the planner check most
_WARM_SCHEMA = {"version": 1, "name": "warm_up", "tables": [
    {"name": "t", "rows": 10, "primary_key": "id", "columns": [
        {"name": "id", "type": "int64", "generator": {"type": "sequence"}},
        {"name": "at", "type": "timestamp", "generator": {"type": "uniform_timestamp",
                                                          "params": {"start": "2024-01-01", "end": "2024-02-01"}}}]},
    {"name": "e", "rows": 10, "events": {"time": "at"}, "columns": [
        {"name": "t_id", "type": "int64", "generator": {"type": "fk", "params": {"table": "t", "column": "id"}}},
        {"name": "at", "type": "timestamp", "generator": {"type": "uniform_timestamp",
                                                          "params": {"start": "2024-01-01", "end": "2024-02-01"}}}]}]}


def _warm(app: FastAPI) -> None:
    """What the first requests would load — the schema loader and its JSON Schema, the planner,
    ``describe``, the file formats, the run store, the event stream — loaded at startup by
    planning a tiny schema as ``POST /runs/plan`` does (nothing is written). Best effort: a
    failure here is the first request's to report."""
    try:
        from datagen.service.models import RunIn
        from datagen.service.resolve import load_dataset, resolve_plan
        from datagen.service.routers.runs import plan_run
        from datagen.stream import EventStream

        ctx = app.state.ctx
        plan_run(RunIn.model_validate({"schema": _WARM_SCHEMA}), ctx)
        body = RunIn.model_validate({"schema": _WARM_SCHEMA})
        EventStream(resolve_plan(body, load_dataset(ctx.settings, body)), raw=True)
        import generators.event_stream_generator.merge  # noqa: F401
        import shared.schema_dsl.engine  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - only a warm-up
        log.warning("warm-up: %s: %s", type(exc).__name__, exc)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application for ``settings`` (checked: a non-loopback host needs an API key)."""
    from shared import __version__

    settings = (settings or Settings()).check()
    metrics = Metrics()
    manager = RunManager(max_runs=settings.max_runs, runs_db=None if settings.runs_db is None else str(settings.runs_db),
                         workers=settings.workers, metrics=metrics, shutdown_grace_s=settings.shutdown_grace_s)
    streams = StreamManager(max_streams=settings.max_streams, max_subscribers=settings.max_subscribers,
                            max_buffer=settings.max_stream_buffer, metrics=metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import asyncio

        from datagen.service.runs import start_run_server

        # off the event loop: the fork server runs start from imports the engine once, and this
        # process loads what its first requests would, so that they take as long as the next ones
        loop = asyncio.get_running_loop()
        await asyncio.gather(loop.run_in_executor(None, start_run_server), loop.run_in_executor(None, _warm, app))
        yield
        await streams.shutdown()
        await asyncio.get_running_loop().run_in_executor(None, manager.shutdown)

    app = FastAPI(title="datagen", version=__version__, lifespan=lifespan,
                  description="Synthetic datasets over HTTP: the same schemas, runs and run store as the "
                              "datagen command line (docs/service.md).")
    app.state.ctx = Context(settings, manager, metrics, streams)
    install_errors(app)

    from datagen.service.routers import generate, health, imports, runs, schemas, targets
    from datagen.service.routers import streams as stream_routes

    app.include_router(health.router, prefix=PREFIX)
    guarded = [Depends(require_key)]
    for module in (schemas, targets, runs, stream_routes, imports, generate):
        app.include_router(module.router, prefix=PREFIX, dependencies=guarded)
    app.include_router(stream_routes.ws_router, prefix=PREFIX)  # checks the key itself (header or ?api_key=)
    app.include_router(health.metrics_router, prefix=PREFIX, dependencies=guarded)

    from datagen.service.routers import page

    app.include_router(page.router)  # the page at / needs no key: it holds no data, the API it calls does

    app.add_middleware(_Limits, settings=settings, metrics=metrics)
    return app
