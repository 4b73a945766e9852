"""What every router depends on: the service's state (``request.app.state.ctx``) and the API key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from datagen.service.errors import Forbidden, Unauthorized
from datagen.service.metrics import Metrics
from datagen.service.runs import RunManager
from datagen.service.settings import API_KEY_HEADER, Settings
from datagen.service.streams import StreamManager

PREFIX = "/api/v1"
_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                           description="Required when the service was started with an API key.")


@dataclass
class Context:
    """What every router reaches through ``request.app.state.ctx``."""

    settings: Settings
    runs: RunManager
    metrics: Metrics
    streams: StreamManager

    @property
    def runs_db(self) -> str | None:
        return None if self.settings.runs_db is None else str(self.settings.runs_db)


def context(request: Request) -> Context:
    return request.app.state.ctx


def require_key(request: Request, key: str | None = Depends(_key_header)) -> None:
    """401 without the key, 403 with a wrong one (when the service has a key)."""
    check_key(request.app.state.ctx.settings, key)


def check_key(settings: Settings, key: str | None) -> None:
    """``Unauthorized`` or ``Forbidden`` unless ``key`` is the service's (when it has one)."""
    expected = settings.api_key
    if expected is None:
        return
    if not key:
        raise Unauthorized(f"this service needs an API key in the {API_KEY_HEADER} header",
                                  headers={"WWW-Authenticate": API_KEY_HEADER})
    if not secrets.compare_digest(key.encode(), expected.get_secret_value().encode()):
        raise Forbidden("the API key is not valid")
