"""Engines that compute a run's blocks: ``local`` (this process and its workers, the default) and
the ones registered here — one module each, imported on first use (``spark``: datagen.spark).

An engine is a function ``(plan, fmt, options, raw_options, *, spark, master, conf) -> dict``
returning ``shared.api.generate``'s keyword arguments for it (``table_writer``, ``engine_name``)
after checking, before anything is written, that it can write ``fmt`` with these options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.errors import UsageError
from shared.registry import Registry, did_you_mean

ENGINES: Registry[Callable[..., dict[str, Any]]] = Registry("engine")
ENGINES.add_lazy("spark", "datagen.spark")


def names() -> list[str]:
    return ["local", *ENGINES]


def check_engine(name: str) -> str:
    """``name`` if it is an engine, else a ``UsageError`` with the closest name."""
    if name == "local" or name in ENGINES:
        return name
    hint = did_you_mean(name, names())
    raise UsageError(f"--engine {name!r}: one of {', '.join(names())}" + (f" ({hint})" if hint else ""))
