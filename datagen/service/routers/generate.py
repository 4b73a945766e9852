"""``POST /generate``: a small dataset in memory (the memory sink of ``datagen.generate``,
recorded as every run is), answered as JSON or as an Arrow IPC stream."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from datagen.service.deps import Context, context
from datagen.service.errors import TooLarge
from datagen.service.models import GenerateIn, GenerateOut
from datagen.service.resolve import load_dataset, resolve_plan
from datagen.service.routers.schemas import ERRORS
from shared.errors import UsageError

router = APIRouter(tags=["generate"])
ARROW = "application/vnd.apache.arrow.stream"


@router.post("/generate", response_model=GenerateOut, responses={
    **ERRORS, 200: {"content": {"application/json": {}, ARROW: {}},
                    "description": "JSON (every table as a list of rows), or an Arrow IPC stream of one table."}})
def generate(body: GenerateIn, ctx: Context = Depends(context)) -> Response:
    """Generate in memory and answer the rows: ``output: json`` (every table, or ``tables``) or
    ``output: arrow`` (one table, an Arrow IPC stream; the run id and seed in headers). At most
    ``--max-generate-rows`` rows in all (413 beyond)."""
    import datagen

    schema = load_dataset(ctx.settings, body)
    plan = resolve_plan(body, schema)
    names = list(plan.kept) if body.tables is None else body.tables
    for n in names:
        if n not in plan.kept:
            from shared.registry import did_you_mean

            hint = did_you_mean(n, plan.kept)
            raise UsageError(f"tables: no table {n!r} in schema {plan.schema.name!r}" + (f" ({hint})" if hint else ""))
    if body.output == "arrow" and len(names) != 1:
        raise UsageError(f"output arrow answers one table (an Arrow IPC stream holds one schema): name it in tables "
                         f"(one of: {', '.join(plan.kept)})")
    total = sum(plan.tables[n].rows for n in plan.kept)
    if total > ctx.settings.max_generate_rows:
        raise TooLarge(f"{total:,} rows: POST /generate answers at most {ctx.settings.max_generate_rows:,} "
                       f"(--max-generate-rows); start a run (POST /runs) for more")
    result = datagen.generate(plan, output={"sink": "memory", "table_format": "arrow"}, workers=1,
                              runs_db=ctx.runs_db)
    ctx.metrics.add_rows(sum(result.rows.values()))
    run_id = (result.record or {}).get("id")
    headers = {"X-Datagen-Run-Id": str(run_id), "X-Datagen-Seed": str(plan.seed)}
    if body.output == "arrow":
        import pyarrow as pa

        table = result.tables[names[0]]
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return Response(sink.getvalue().to_pybytes(), media_type=ARROW, headers=headers)
    out = {"run_id": run_id, "seed": plan.seed, "rows": {n: result.rows[n] for n in names},
           "tables": {n: result.tables[n].to_pylist() for n in names}}
    return Response(json.dumps(out, default=_json_value).encode(), media_type="application/json",
                    headers=headers)


def _json_value(value: object) -> object:
    """Timestamps and dates as ISO 8601, decimals as exact text, bytes as base64, the rest as text."""
    import base64
    import datetime as dt

    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)
