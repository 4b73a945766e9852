"""``DataGen``: a client holding defaults for its calls (the verbs of ``datagen.api`` and
``datagen.stream``) — or, with ``server_url``, the client of a ``datagen serve`` service
(``datagen.remote``: runs over HTTP, live streams over WebSocket)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datagen.api import GenerateResult, Plan, SchemaLike, describe, generate, validate
from datagen.stream import EventStream, stream
from shared.errors import UsageError

if TYPE_CHECKING:
    from datagen.remote import RemoteStream


class DataGen:
    """A client holding defaults for its calls: ``DataGen(output={"sink": "memory"}, workers=2)``
    then ``client.generate(schema, seed=7)`` — the same as ``datagen.generate`` with those
    arguments (an argument given to the call wins).

    ``DataGen(server_url="http://127.0.0.1:8000", api_key=None)`` talks to a service instead:
    ``client.runs`` (``start``, ``get``, ``list``, ``wait``, ``logs``, ``cancel``) and
    ``client.stream(...)``, a ``RemoteStream`` whose ``events()`` is an async iterator."""

    def __init__(self, *, output: Any = None, workers: int | None = None, seed: int | None = None,
                 profile: str | None = None, block_rows: int | None = None, server_url: str | None = None,
                 api_key: str | None = None):
        self.defaults = {k: v for k, v in {"output": output, "workers": workers, "seed": seed, "profile": profile,
                                           "block_rows": block_rows}.items() if v is not None}
        self.remote = None
        if server_url is not None:
            from datagen.remote import Remote, Runs

            self.remote = Remote(server_url, api_key)
            self.runs = Runs(self.remote)
        elif api_key is not None:
            raise UsageError("api_key is for a service: give server_url too")

    def _local(self, verb: str) -> None:
        if self.remote is not None:
            raise UsageError(f"DataGen(server_url=...).{verb}: this client talks to a service; use "
                             f"client.runs.start(...) or client.stream(...), or DataGen() to work in this process")

    def generate(self, schema: SchemaLike | Plan, **kwargs: Any) -> GenerateResult:
        self._local("generate")
        return generate(schema, **{**self.defaults, **kwargs})

    def describe(self, schema: SchemaLike | Plan, **kwargs: Any) -> dict[str, Any]:
        self._local("describe")
        keep = {k: v for k, v in self.defaults.items() if k in ("seed", "profile")}
        return describe(schema, **{**keep, **kwargs})

    def validate(self, schema: SchemaLike, **kwargs: Any) -> dict[str, Any]:
        self._local("validate")
        return validate(schema, **kwargs)

    def stream(self, schema: SchemaLike | None = None, **kwargs: Any) -> EventStream | RemoteStream:
        """``datagen.stream`` with this client's seed and profile; with a ``server_url``, ``POST
        /streams`` (``schema`` or ``schema_id=``/``blueprint=`` with ``params=``, and
        ``events_per_second``, ``max_events``, ``seed``, ``rows``, ``policy``, ``buffer``, ``start``)
        and the ``RemoteStream`` to subscribe to."""
        keep = {k: v for k, v in self.defaults.items() if k in ("seed", "profile")}
        if self.remote is None:
            return stream(schema, **{**keep, **kwargs})
        from datagen.remote import RemoteStream, dataset

        rate = kwargs.pop("events_per_second", "schema")
        body = dataset(schema, **{**keep, **kwargs})
        if rate != "schema":
            body["events_per_second"] = rate
        return RemoteStream(self.remote, self.remote.call("POST", "/streams", json=body))

    def close(self) -> None:
        if self.remote is not None:
            self.remote.close()

    def __repr__(self) -> str:
        shown = {**self.defaults, **({"server_url": self.remote.base} if self.remote is not None else {})}
        return f"DataGen({', '.join(f'{k}={v!r}' for k, v in shown.items())})"
