"""``GET /health`` (the process answers), ``GET /ready`` (the run store and folders are usable)
and ``GET /metrics`` (Prometheus text)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse

from datagen.service.deps import Context, context
from datagen.service.metrics import CONTENT_TYPE
from datagen.service.models import Health, Ready

router = APIRouter(tags=["health"])
metrics_router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    """The service is up."""
    from shared import __version__

    return Health(status="ok", version=__version__)


@router.get("/ready", response_model=Ready, responses={503: {"model": Ready}})
def ready(ctx: Context = Depends(context)):
    """The run store can be written (every run is recorded) and the service is not stopping."""
    from datagen.runs import RunStore
    from shared.errors import DatagenError

    problems = []
    try:
        RunStore.at(ctx.runs_db).check_writable()
    except DatagenError as exc:
        problems.append(str(exc))
    if ctx.runs._closing:
        problems.append("the service is stopping")
    if problems:
        return JSONResponse(Ready(ready=False, problems=problems).model_dump(), status_code=503)
    return Ready(ready=True)


@metrics_router.get("/metrics", response_class=PlainTextResponse,
                    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format 0.0.4"}})
async def metrics(ctx: Context = Depends(context)) -> PlainTextResponse:
    """Runs by status, rows written, stream events sent, request counts and latencies."""
    return PlainTextResponse(ctx.metrics.render(ctx.runs.active, ctx.streams.active,
                                                 ctx.streams.subscribers), media_type=CONTENT_TYPE)
