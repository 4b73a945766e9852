"""``DataGen``: a client holding defaults for its calls (the verbs of ``datagen.api`` and
``datagen.stream``)."""

from __future__ import annotations

from typing import Any

from datagen.api import GenerateResult, Plan, SchemaLike, describe, generate, validate
from datagen.stream import EventStream, stream


class DataGen:
    """A client holding defaults for its calls: ``DataGen(output={"sink": "memory"}, workers=2)``
    then ``client.generate(schema, seed=7)`` — the same as ``datagen.generate`` with those
    arguments (an argument given to the call wins)."""

    def __init__(self, *, output: Any = None, workers: int | None = None, seed: int | None = None,
                 profile: str | None = None, block_rows: int | None = None):
        self.defaults = {k: v for k, v in {"output": output, "workers": workers, "seed": seed, "profile": profile,
                                           "block_rows": block_rows}.items() if v is not None}

    def generate(self, schema: SchemaLike | Plan, **kwargs: Any) -> GenerateResult:
        return generate(schema, **{**self.defaults, **kwargs})

    def describe(self, schema: SchemaLike | Plan, **kwargs: Any) -> dict[str, Any]:
        keep = {k: v for k, v in self.defaults.items() if k in ("seed", "profile")}
        return describe(schema, **{**keep, **kwargs})

    def validate(self, schema: SchemaLike, **kwargs: Any) -> dict[str, Any]:
        return validate(schema, **kwargs)

    def stream(self, schema: SchemaLike, **kwargs: Any) -> EventStream:
        """``datagen.stream`` with this client's seed and profile."""
        keep = {k: v for k, v in self.defaults.items() if k in ("seed", "profile")}
        return stream(schema, **{**keep, **kwargs})

    def __repr__(self) -> str:
        return f"DataGen({', '.join(f'{k}={v!r}' for k, v in self.defaults.items())})"
