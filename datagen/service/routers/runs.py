"""``/runs``: start a run in the background, plan one, list, show, logs, cancel — the run store
the command line uses (``datagen runs list`` shows these runs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from datagen.service.deps import Context, context
from datagen.service.errors import Conflict, NotFound
from datagen.service.models import (
    LogLine,
    PlanOut,
    Progress,
    RunAccepted,
    RunIn,
    RunList,
    RunLogs,
    RunOut,
    TableStat,
)
from datagen.service.resolve import load_dataset, resolve_plan, resolve_target
from datagen.service.routers.schemas import ERRORS, plain
from datagen.service.runs import LiveRun
from shared.errors import UsageError
from shared.io.redact import redact

router = APIRouter(tags=["runs"])
RUN_ERRORS = {**ERRORS, 409: ERRORS[400], 429: ERRORS[400]}
#: the run store's columns a RunOut shows (not the schema's bytes, the record or the replay recipe)
LISTED = ("id", "status", "seed", "config_hash", "rows", "tables", "started_at", "finished_at", "seconds",
          "schema_name", "target", "error", "warnings", "pid", "host")


def _prepare(ctx: Context, body: RunIn):
    """The plan and the target of a request (every check the command line makes up front)."""
    from shared.formats import get_format

    schema = load_dataset(ctx.settings, body)
    where = resolve_target(ctx.settings, body, schema.name)
    fmt = get_format(where.format)
    opts = fmt.check_options(dict(where.options))
    plan = resolve_plan(body, schema, appends=opts.get("mode") == "append")
    return plan, where, fmt, opts


@router.post("/runs", response_model=RunAccepted, status_code=202, responses=RUN_ERRORS)
def start_run(body: RunIn, ctx: Context = Depends(context)) -> RunAccepted:
    """Start a run and answer at once with its id; it goes on in the background (``GET
    /runs/{id}`` follows it). 429 when ``--max-runs`` runs are in progress."""
    plan, where, _fmt, _opts = _prepare(ctx, body)
    live = ctx.runs.submit(plan, where)
    assert live.id is not None
    return RunAccepted(id=live.id, status="running" if not live.done.is_set() else live.status)


@router.post("/runs/plan", response_model=PlanOut, responses=RUN_ERRORS)
def plan_run(body: RunIn, ctx: Context = Depends(context)) -> PlanOut:
    """What ``POST /runs`` would do, without running: the plan, the target and the config hash."""
    from datagen.api import describe, target_identity
    from datagen.runs import config_hash, run_config

    plan, where, fmt, opts = _prepare(ctx, body)
    identity = target_identity(fmt, opts, where.out)
    config = run_config(plan, fmt.name, opts, identity.get("kind"), tuple(getattr(fmt, "target_options", ()) or ()))
    info = plain(describe(plan, format=fmt, out=where.out))
    return PlanOut(schema_name=plan.schema.name, seed=plan.seed, rows={n: plan.tables[n].rows for n in plan.kept},
                   total_rows=info["total_rows"], target=redact(plain(identity)), config_hash=config_hash(config),
                   plan=redact(info))


def _tables(run: dict[str, Any], live: LiveRun | None) -> dict[str, TableStat] | None:
    """Each table's rows, rows done (while this service runs it; all of them once it succeeded)
    and seconds (the record's, once it succeeded)."""
    stored = run.get("tables") or {}
    done = live.table_rows() if live is not None else {}
    planned = {n: live.plan.tables[n].rows for n in live.plan.kept} if live is not None else run.get("rows") or {}
    names = list(stored or planned)
    if not names:
        return None
    out = {}
    for n in names:
        rows = (stored.get(n) or {}).get("rows", planned.get(n, 0))
        if run["status"] == "success":  # on record as done (its last progress may not have come in yet)
            rows_done: int | None = rows
        elif n in done:
            rows_done = done[n]
        else:
            rows_done = rows if run["status"] == "success" else None
        out[n] = TableStat(rows=rows, rows_done=rows_done, seconds=(stored.get(n) or {}).get("seconds"))
    return out


def _out(ctx: Context, run: dict[str, Any]) -> RunOut:
    live = ctx.runs.get(run["id"])
    progress = None
    if live is not None:
        now = live.progress()
        if run["status"] not in ("pending", "running"):  # recorded as ended: no table is under way,
            now["current_table"] = None  # even if the run's last messages have not come in yet
        if run["status"] == "success":
            now.update(rows_done=now["rows_total"], tables_done=now["tables_total"])
        progress = Progress(**now)
    elif run["status"] == "success" and run.get("rows"):
        rows = run["rows"]
        progress = Progress(rows_done=sum(rows.values()), rows_total=sum(rows.values()), tables_done=len(rows),
                            tables_total=len(rows))
    fields = {k: run.get(k) for k in ("id", "status", "seed", "config_hash", "rows", "started_at", "finished_at",
                                      "seconds", "schema_name", "target", "error")}
    return RunOut(**redact(fields), warnings=list(run.get("warnings") or []), progress=progress,
                  cancelling=live is not None and live.cancel.is_set() and not live.done.is_set(),
                  tables=_tables(run, live))


def _get(ctx: Context, run_id: str) -> dict[str, Any]:
    from datagen.runs import RunStore

    try:
        run = RunStore.at(ctx.runs_db).get(run_id)
    except UsageError as exc:
        raise NotFound(str(exc)) from None
    run.pop("schema_source", None)
    return run


@router.get("/runs", response_model=RunList, responses=RUN_ERRORS)
def list_runs(limit: int = Query(20, ge=1, le=1000), status: str | None = Query(None, max_length=32),
              ctx: Context = Depends(context)) -> RunList:
    """The latest runs first (``datagen runs list``), every one of the store, whoever ran it."""
    from datagen.runs import RunStore, check_status

    if status is not None:
        check_status(status)
    rows = RunStore.at(ctx.runs_db).list(limit=limit, status=status, columns=LISTED)
    return RunList(runs=[_out(ctx, r) for r in rows])


@router.get("/runs/{run_id}", response_model=RunOut, responses=RUN_ERRORS)
def show_run(run_id: str, ctx: Context = Depends(context)) -> RunOut:
    """One run: status, seed, config hash, rows, target, error, and its progress (rows done and
    total, tables done, the current table)."""
    return _out(ctx, _get(ctx, run_id))


@router.get("/runs/{run_id}/logs", response_model=RunLogs, responses=RUN_ERRORS)
def run_logs(run_id: str, ctx: Context = Depends(context)) -> RunLogs:
    """The run's log lines (this service's runs; another process's run: its record's story)."""
    run = _get(ctx, run_id)
    live = ctx.runs.get(run["id"])
    if live is not None:
        lines = [LogLine(at=at, message=m) for at, m in list(live.lines)]
    else:
        lines = [LogLine(at=run["started_at"], message=f"run {run['id']} started (pid {run.get('pid')} on "
                                                       f"{run.get('host')})")]
        if run.get("finished_at"):
            end = run["status"] + (f": {run['error']}" if run.get("error") else "")
            lines.append(LogLine(at=run["finished_at"], message=end))
    return RunLogs(id=run["id"], lines=lines)


@router.post("/runs/{run_id}/cancel", response_model=RunAccepted, status_code=202, responses=RUN_ERRORS)
def cancel_run(run_id: str, ctx: Context = Depends(context)) -> RunAccepted:
    """Ask a run of this service to stop: it ends ``interrupted`` at its next batch, its target
    as its mode promises (files untouched; a database rolled back per table or whole). 409 for a
    run that has ended or that another process runs."""
    run = _get(ctx, run_id)
    live = ctx.runs.get(run["id"])
    if live is None:
        if run["status"] in ("pending", "running"):
            raise Conflict(f"run {run['id']} is run by another process (pid {run.get('pid')} on {run.get('host')}); "
                           f"only its own process can stop it")
        raise Conflict(f"run {run['id']} has ended ({run['status']}); nothing to cancel")
    ctx.runs.cancel(live)
    return RunAccepted(id=run["id"], status="cancelling")
