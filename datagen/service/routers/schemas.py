"""``/schemas`` (the files of ``--schemas-dir``), ``/schemas/validate`` and ``/blueprints``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends

from datagen.service.deps import Context, context
from datagen.service.errors import NotFound
from datagen.service.models import (
    BlueprintList,
    ErrorOut,
    ProblemOut,
    SchemaCheckIn,
    SchemaCheckOut,
    SchemaDetail,
    SchemaItem,
    SchemaList,
)
from datagen.service.resolve import _inline, load_schema_file, schema_files, schema_path
from shared.errors import DatagenError

router = APIRouter(tags=["schemas"])
ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": ErrorOut} for c in (400, 401, 403, 404, 413, 422)}


def plain(value: Any) -> Any:
    """JSON-ready data (what ``--json`` prints: anything else as text)."""
    return json.loads(json.dumps(value, default=str))


@router.get("/schemas", response_model=SchemaList, responses=ERRORS)
def list_schemas(ctx: Context = Depends(context)) -> SchemaList:
    """Every schema file of the schemas folder: its id (the path without the suffix)."""
    return SchemaList(schemas=[SchemaItem(id=i, file=p.name, bytes=p.stat().st_size)
                               for i, p in schema_files(ctx.settings)])


@router.get("/schemas/{schema_id:path}", response_model=SchemaDetail, responses=ERRORS)
def show_schema(schema_id: str, ctx: Context = Depends(context)) -> SchemaDetail:
    """One schema: its text and its plan at its own settings (``datagen describe --json``)."""
    import datagen

    path = schema_path(ctx.settings, schema_id)
    schema = load_schema_file(path)
    return SchemaDetail(id=schema_id, name=schema.name, text=path.read_text(encoding="utf-8", errors="replace"),
                        plan=plain(datagen.describe(schema)))


def _problems(exc: DatagenError) -> list[ProblemOut]:
    return [ProblemOut(message=p.message, path=p.path, file=p.file, line=p.line, column=p.column, hint=p.hint)
            for p in exc.problems]


@router.post("/schemas/validate", response_model=SchemaCheckOut, responses=ERRORS)
def validate_schema(body: SchemaCheckIn, ctx: Context = Depends(context)) -> SchemaCheckOut:
    """Check a posted schema — loading and planning, as ``describe`` does — and report every
    problem with its path (200 either way: a report, not an error)."""
    from datagen.api import resolve_plan
    from shared.errors import OutputError

    try:
        schema = _inline(ctx.settings, body.schema_)
        plan = resolve_plan(schema)
    except OutputError:
        raise
    except DatagenError as exc:
        return SchemaCheckOut(valid=False, error=str(exc), problems=_problems(exc))
    return SchemaCheckOut(valid=True, name=schema.name, tables=list(plan.order))


@router.get("/blueprints", response_model=BlueprintList, responses=ERRORS)
def list_blueprints() -> BlueprintList:
    """Every blueprint with its description (``datagen blueprints list``)."""
    from datagen import blueprints

    return BlueprintList(blueprints=plain(blueprints.list()))


@router.get("/blueprints/{name}", response_model=dict[str, Any], responses=ERRORS)
def show_blueprint(name: str) -> dict[str, Any]:
    """A blueprint's description and parameters (``datagen blueprints show NAME --json``)."""
    from datagen import blueprints

    if name not in blueprints.names():
        raise NotFound(f"no blueprint {name!r} (GET /api/v1/blueprints lists them)")
    return plain(blueprints.get(name).info())
