"""``POST /import/sql``: DDL text → a schema (``datagen import sql``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from datagen.service.deps import Context, context
from datagen.service.models import ImportOut, ImportSqlIn
from datagen.service.routers.schemas import ERRORS, plain

router = APIRouter(tags=["import"])


@router.post("/import/sql", response_model=ImportOut, responses=ERRORS)
def import_sql(body: ImportSqlIn, ctx: Context = Depends(context)) -> ImportOut:
    """CREATE TABLE statements in a dialect → a schema that generates and validates, as a JSON
    object and as the commented YAML ``datagen import sql`` writes, with what could not be mapped."""
    from datagen.importers.sql import import_sql_text
    from datagen.importers.writer import write_yaml

    rows = body.rows if not isinstance(body.rows, dict) else [f"{k}={v}" for k, v in body.rows.items()]
    if isinstance(rows, int):
        rows = [str(rows)]
    result = import_sql_text(body.ddl, dialect=body.dialect, rows=rows, name=body.name, file="<ddl>")
    return ImportOut(schema=plain(result.schema), yaml=write_yaml(result), warnings=[str(f) for f in result.warnings],
                     notes=[str(f) for f in result.notes], skipped=[str(f) for f in result.skipped])
