"""``/streams``: live event streams (``datagen.stream`` on the server), controlled over HTTP and
delivered over WebSocket at ``/ws/streams/{id}`` (docs/service.md, "Live streams")."""

from __future__ import annotations

import asyncio
import contextlib
import time

from fastapi import APIRouter, Depends, Query, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from datagen.service.deps import PREFIX, Context, check_key, context
from datagen.service.errors import ApiError
from datagen.service.models import StreamAccepted, StreamIn, StreamList, StreamOut
from datagen.service.resolve import load_dataset, resolve_plan
from datagen.service.routers.schemas import ERRORS
from datagen.service.settings import API_KEY_HEADER
from datagen.service.streams import POLICIES, LiveStream, Subscriber
from datagen.stream import EventStream

router = APIRouter(tags=["streams"])
ws_router = APIRouter(tags=["streams"])
STREAM_ERRORS = {**ERRORS, 409: ERRORS[400], 429: ERRORS[400]}
#: the most events one WebSocket frame carries (``?batch=``)
MAX_BATCH = 10_000
DEFAULT_BATCH = 500
#: a subscriber with drops hears about them at most this often
STATUS_EVERY_S = 1.0


def _event_stream(ctx: Context, body: StreamIn) -> EventStream:
    schema = load_dataset(ctx.settings, body)
    plan = resolve_plan(body, schema)
    rate = body.events_per_second if "events_per_second" in body.model_fields_set else plan.schema.stream_rate
    return EventStream(plan, events_per_second=rate, max_events=body.max_events, options=body.options, raw=True)


def _out(live: LiveStream) -> StreamOut:
    return StreamOut(**live.info())


@router.post("/streams", response_model=StreamAccepted, status_code=201, responses=STREAM_ERRORS)
async def create_stream(body: StreamIn, ctx: Context = Depends(context)) -> StreamAccepted:
    """Create a live stream and answer its id; subscribe at ``/api/v1/ws/streams/{id}``. By default
    its first event waits for the first subscriber (``start``). 429 past ``--max-streams``."""
    if body.buffer is not None and body.buffer > ctx.settings.max_stream_buffer:
        from shared.errors import UsageError

        raise UsageError(f"buffer={body.buffer}: at most {ctx.settings.max_stream_buffer:,} events (the service's "
                         f"max_stream_buffer)")
    stream = await run_in_threadpool(_event_stream, ctx, body)
    live = ctx.streams.create(stream, schema_name=stream.plan.schema.name, seed=stream.plan.seed,
                              policy=body.policy, buffer=body.buffer or ctx.settings.stream_buffer, start=body.start)
    return StreamAccepted(id=live.id, status=live.status, websocket=f"{PREFIX}/ws/streams/{live.id}")


@router.get("/streams", response_model=StreamList, responses=STREAM_ERRORS)
async def list_streams(ctx: Context = Depends(context)) -> StreamList:
    """This service's streams, the newest first (ended ones too, the latest 200)."""
    return StreamList(streams=[_out(s) for s in ctx.streams.list()])


@router.get("/streams/{stream_id}", response_model=StreamOut, responses=STREAM_ERRORS)
async def show_stream(stream_id: str, ctx: Context = Depends(context)) -> StreamOut:
    """One stream: status, events produced, the rate measured over the last 5 s, and each
    subscriber's queue, events sent and drops."""
    return _out(ctx.streams.get(stream_id))


@router.post("/streams/{stream_id}/pause", response_model=StreamOut, responses=STREAM_ERRORS)
async def pause_stream(stream_id: str, ctx: Context = Depends(context)) -> StreamOut:
    """Hold the stream before its next event (409 once it has ended)."""
    return _out(ctx.streams.pause(stream_id))


@router.post("/streams/{stream_id}/resume", response_model=StreamOut, responses=STREAM_ERRORS)
async def resume_stream(stream_id: str, ctx: Context = Depends(context)) -> StreamOut:
    """Go on, the schedule restarted from now: no burst of the events the pause missed."""
    return _out(ctx.streams.resume(stream_id))


@router.post("/streams/{stream_id}/stop", response_model=StreamOut, responses=STREAM_ERRORS)
async def stop_stream(stream_id: str, ctx: Context = Depends(context)) -> StreamOut:
    """End the stream: every subscriber gets an ``end`` message and a close with reason ``stopped``."""
    return _out(ctx.streams.stop(stream_id))


def _frame(first: int, body: bytes) -> str:
    return (b'{"type":"events","stream_seq":%d,"events":[' % first + body + b"]}").decode()


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await ws.close(code, reason[:120])


@ws_router.websocket("/ws/streams/{stream_id}")
async def subscribe(ws: WebSocket, stream_id: str, policy: str | None = Query(None),
                    buffer: int | None = Query(None), batch: int = Query(DEFAULT_BATCH),
                    api_key: str | None = Query(None)) -> None:
    """Subscribe: ``events`` messages (a batch of envelopes with the first one's stream sequence),
    ``status`` messages (pause, resume, drops), an ``end`` message, then the close."""
    ctx: Context = ws.app.state.ctx
    await ws.accept()
    try:
        check_key(ctx.settings, ws.headers.get(API_KEY_HEADER) or api_key)
        if policy is not None and policy not in POLICIES:
            raise ApiError(f"policy={policy}: one of {', '.join(POLICIES)}")
        if buffer is not None and not 1 <= buffer <= ctx.settings.max_stream_buffer:
            raise ApiError(f"buffer={buffer}: from 1 to {ctx.settings.max_stream_buffer:,}")
        if not 1 <= batch <= MAX_BATCH:
            raise ApiError(f"batch={batch}: from 1 to {MAX_BATCH:,}")
        live = ctx.streams.get(stream_id)
        if live.ended:
            raise ApiError(f"stream {live.id} has ended ({live.status})", status=410)
        sub = ctx.streams.subscribe(live, policy, buffer)  # type: ignore[arg-type]
    except ApiError as exc:
        await _close(ws, 4000 + exc.status, str(exc))
        return
    try:
        await ws.send_json({"type": "subscribed", "stream": live.id, "subscriber": sub.id, "policy": sub.policy,
                            "buffer": sub.buffer, "batch": batch, "status": live.status})
        await _pump(ctx, ws, live, sub, batch)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        ctx.streams.unsubscribe(live, sub)
        ctx.metrics.add_stream_drops(sub.dropped)


async def _watch(ws: WebSocket, sub: Subscriber) -> None:
    """Read (and ignore) what the client sends, to learn at once that it went away."""
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
    except Exception:  # noqa: BLE001 - any failure to read means the client is gone
        pass
    sub.gone = True
    sub.ready.set()
    sub.space.set()


async def _pump(ctx: Context, ws: WebSocket, live: LiveStream, sub: Subscriber, batch: int) -> None:
    watcher = asyncio.get_running_loop().create_task(_watch(ws, sub))
    told_status, told_dropped, told_at = live.status, 0, time.monotonic()
    try:
        while not sub.gone:
            now = time.monotonic()
            changed = live.status != told_status and not live.ended
            # the first drop is told at once (before the events after it), later ones at most
            # once every STATUS_EVERY_S
            first_drop = told_dropped == 0 and sub.dropped > 0
            if changed or (sub.dropped != told_dropped and (first_drop or now - told_at >= STATUS_EVERY_S)):
                told_status, told_dropped, told_at = live.status, sub.dropped, now
                await ws.send_json({"type": "status", "status": live.status, "events_produced": live.produced,
                                    "sent": sub.sent, "dropped": sub.dropped})
            if sub.queue:
                first, body, count = sub.take(batch)
                await ws.send_text(_frame(first, body))
                sub.sent += count
                ctx.metrics.add_stream_events(count)
                continue
            if sub.closed is not None:
                code, reason = sub.closed
                await ws.send_json({"type": "end", "status": live.status, "reason": reason,
                                    "events_produced": live.produced, "sent": sub.sent, "dropped": sub.dropped})
                await _close(ws, code, reason)
                return
            sub.ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sub.ready.wait(), STATUS_EVERY_S)
    finally:
        watcher.cancel()
