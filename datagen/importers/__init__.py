"""Importers: something that already exists (SQL DDL, a live database, another tool's spec) → a
schema in the DSL that a person can read and edit.

An importer is one module in this package: a function decorated with ``@importer(name, …)``
taking the source (a path or a DSN) and keyword options, returning an :class:`Imported`. The
command line offers each registered importer as ``datagen import NAME SOURCE``; Python callers
use ``datagen.importers.get(NAME)(source, **options)``.

What an importer could not map exactly is a :class:`Finding` in ``warnings`` (with the source
line when there is one) — never an exception, unless the source cannot be read at all; what it
chose or ignored on purpose is a ``note``. ``comments`` ("table" or "table.column" → text) are
written above those nodes in the YAML so the person editing it sees what was inferred and why.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.errors import UsageError
from shared.registry import Registry, did_you_mean, import_submodules

__all__ = ["Finding", "Imported", "Importer", "importer", "get", "names", "list"]


@dataclass(frozen=True)
class Finding:
    """One thing worth telling the user: a message, and where it comes from when known."""

    message: str
    line: int | None = None  # 1-based line in the source file
    where: str | None = None  # "table" or "table.column"

    def __str__(self) -> str:
        place = ", ".join(p for p in ((f"line {self.line}" if self.line else None), self.where) if p)
        return f"{place}: {self.message}" if place else self.message


@dataclass
class Imported:
    """An importer's result: the schema document and what the user should know about it."""

    schema: dict[str, Any]
    warnings: builtins.list[Finding] = field(default_factory=builtins.list)
    notes: builtins.list[Finding] = field(default_factory=builtins.list)
    skipped: builtins.list[Finding] = field(default_factory=builtins.list)
    comments: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Importer:
    name: str
    description: str
    func: Callable[..., Imported]
    extra: str | None = None  # the optional dependency set it needs (pyproject's extras)

    def __call__(self, source: str, **options: Any) -> Imported:
        return self.func(source, **options)


IMPORTERS: Registry[Importer] = Registry("importer")


def importer(name: str, description: str, *, extra: str | None = None):
    """Register the decorated ``func(source, **options) -> Imported`` as importer ``name``."""

    def deco(func: Callable[..., Imported]) -> Importer:
        return IMPORTERS.add(name, Importer(name, description, func, extra))

    return deco


def _load() -> None:
    import_submodules(__name__)


def names() -> builtins.list[str]:
    _load()
    return sorted(IMPORTERS)


def list() -> builtins.list[dict[str, Any]]:  # noqa: A001 - the API's name
    """Every importer: name, one-line description, the extra it needs."""
    return [{"name": n, "description": IMPORTERS[n].description, "extra": IMPORTERS[n].extra} for n in names()]


def get(name: str) -> Importer:
    _load()
    if name not in IMPORTERS:
        hint = did_you_mean(name, IMPORTERS)
        raise UsageError(f"unknown importer {name!r}" + (f" ({hint})" if hint else "")
                         + f"; importers: {', '.join(sorted(IMPORTERS))}")
    return IMPORTERS[name]
