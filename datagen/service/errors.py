"""Exceptions to responses, in one place (the service's ``guard``): the same message and
problems the command line prints, never a traceback, secrets redacted.

=============================  ======
UsageError                     400
SchemaError, PlanError          422
NotFound (an unknown id)        404
Unauthorized / Forbidden        401 / 403
TooLarge (body, schema, rows)   413
Conflict (a finished run, a     409
target another run writes)
TooManyRuns                     429
OutputError, GenerationError,   500 (the message only)
anything else
=============================  ======
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.errors import DatagenError, OutputError, PlanError, SchemaError, UsageError
from shared.io.redact import redact, redact_text

log = logging.getLogger("datagen.service")


class ApiError(Exception):
    """An answer other than success, with its status."""

    status = 400
    kind = "Error"

    def __init__(self, message: str, *, status: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status
        self.headers = headers


class NotFound(ApiError):
    status, kind = 404, "NotFound"


class Unauthorized(ApiError):
    status, kind = 401, "Unauthorized"


class Forbidden(ApiError):
    status, kind = 403, "Forbidden"


class TooLarge(ApiError):
    status, kind = 413, "TooLarge"


class Conflict(ApiError):
    status, kind = 409, "Conflict"


class TooManyRuns(ApiError):
    status, kind = 429, "TooManyRuns"


def status_of(exc: DatagenError) -> int:
    if isinstance(exc, SchemaError | PlanError):
        return 422
    if isinstance(exc, UsageError):
        return 400
    if isinstance(exc, OutputError) and "another datagen run" in str(exc):
        return 409
    return 500


def body(kind: str, message: str, problems: Any = ()) -> dict[str, Any]:
    return {"error": {"type": kind, "message": redact_text(message),
                      "problems": [redact({"message": p.message, "path": p.path, "file": p.file, "line": p.line,
                                           "column": p.column, "hint": p.hint}) for p in problems]}}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(body(exc.kind, str(exc)), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(DatagenError)
    async def _datagen(request: Request, exc: DatagenError) -> JSONResponse:
        return JSONResponse(body(type(exc).__name__, str(exc), exc.problems), status_code=status_of(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s on %s %s: %s", type(exc).__name__, request.method, request.url.path,
                  redact_text(str(exc)))
        return JSONResponse(body("InternalError", f"unexpected {type(exc).__name__} (see the service's log)"),
                            status_code=500)
