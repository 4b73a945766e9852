"""The service's settings: where schemas, targets, outputs and the run store live, and the
limits that keep it safe by default (docs/service.md, "Security")."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from shared.errors import UsageError

#: the header that carries the API key
API_KEY_HEADER = "X-API-Key"


class Settings(BaseModel):
    """What ``datagen serve`` is started with (each a command-line option)."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    #: schema ids resolve to ``<schemas_dir>/<id>.yaml|.yml|.json``, never outside it
    schemas_dir: Path = Path("schemas")
    #: the named targets (``targets/*.yaml``)
    targets_dir: Path = Path("targets")
    #: where inline file targets write: their ``path`` is relative to it and stays inside it
    output_dir: Path = Path("out")
    #: the run store (None: ``$DATAGEN_RUNS_DB``, else the state folder — as the command line)
    runs_db: Path | None = None
    #: required in ``X-API-Key`` on every endpoint but health and ready when set
    api_key: SecretStr | None = None
    #: runs at once; the next one is refused with 429
    max_runs: int = Field(default=2, ge=1)
    #: live streams at once (waiting, running or paused); the next ``POST /streams`` is refused with 429
    max_streams: int = Field(default=4, ge=1)
    #: WebSocket subscribers per stream; the next one is closed with 4429
    max_subscribers: int = Field(default=8, ge=1)
    #: a subscriber's queue, in events, unless the stream or the subscriber asks for another size
    stream_buffer: int = Field(default=1000, ge=1)
    #: the largest queue a stream or subscriber may ask for
    max_stream_buffer: int = Field(default=100_000, ge=1)
    #: a request body larger than this is refused with 413
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    #: an inline schema (its JSON or text) larger than this is refused with 413
    max_schema_bytes: int = Field(default=256 << 10, ge=256)
    #: ``POST /generate`` answers in memory: at most this many rows in all
    max_generate_rows: int = Field(default=100_000, ge=1)
    #: worker processes per run, forked by the run's own process (1: none, the run's process works alone)
    workers: int = Field(default=1, ge=1)
    #: on shutdown, how long running runs get to stop before they are marked interrupted anyway
    shutdown_grace_s: float = Field(default=30.0, ge=0)

    def check(self) -> Settings:
        """Refuse what is unsafe: a host other than loopback without an API key."""
        if not is_loopback(self.host) and self.api_key is None:
            raise UsageError(f"--host {self.host}: binding beyond this machine needs an API key (--api-key-env VAR, "
                             f"the key in that environment variable); without one, bind 127.0.0.1")
        if self.api_key is not None and not self.api_key.get_secret_value().strip():
            raise UsageError("the API key is empty")
        return self


def is_loopback(host: str) -> bool:
    """``localhost``, ``127.x.y.z`` or ``::1``."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
