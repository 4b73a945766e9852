"""Engines that compute a run's blocks: ``local`` (this process and its workers, the default) and
the ones registered here — one module each, imported on first use (``spark``: datagen.spark).

An engine is a function ``(plan, fmt, options, raw_options, *, spark, master, conf) -> dict``
returning ``shared.api.generate``'s keyword arguments for it (``table_writer``, ``engine_name``)
after checking, before anything is written, that it can write ``fmt`` with these options.

``validate --engine NAME`` asks :data:`READERS`: a function ``(fmt, schema, out_dir, *, spark,
master, conf, hive_db, hive_metastore) -> Format`` returning the format as that engine reads it
(the runner calls its ``read_batches``, ``count_rows`` …), checked before a session starts. The
same module registers both (a lookup imports it); the local engine reads with the format itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.errors import UsageError
from shared.registry import Registry, did_you_mean

ENGINES: Registry[Callable[..., dict[str, Any]]] = Registry("engine")
ENGINES.add_lazy("spark", "datagen.spark")
#: ``validate --engine NAME``: how that engine reads a run back (the local engine: the format itself)
READERS: Registry[Callable[..., Any]] = Registry("validate engine")
READERS.add_lazy("spark", "datagen.spark")


def names() -> list[str]:
    return ["local", *ENGINES]


def check_engine(name: str, registry: Registry = ENGINES) -> str:
    """``name`` if it is an engine (of ``registry``: :data:`ENGINES` for generate,
    :data:`READERS` for validate), else a ``UsageError`` with the closest name."""
    known = ["local", *registry]
    if name in known:
        return name
    hint = did_you_mean(name, known)
    raise UsageError(f"--engine {name!r}: one of {', '.join(known)}" + (f" ({hint})" if hint else ""))
