"""Named targets for the command line and Python: check them and test them (``datagen targets
validate|test``). The files and their loading are ``generators.common.targets``; each kind's
probe lives with its format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generators.common.targets import Target, find_target, list_targets
from shared.errors import UsageError

__all__ = ["Target", "check_target", "find_target", "list_targets", "test_target"]


def check_target(target: Target) -> list[str]:
    """What is wrong with a loaded target beyond its file's shape (its DSN parses; the
    environment variables it names are set): messages, empty when usable."""
    problems = []
    try:
        dsn = target.dsn
    except UsageError as exc:
        return [str(exc)]
    if target.kind == "postgres":
        from generators.postgres_target.connection import check_dsn

        try:
            check_dsn(dsn)
        except UsageError as exc:
            problems.append(str(exc))
    elif not dsn.strip():
        problems.append("dsn: the SQLite file's path is empty")
    return problems


def test_target(target: Target, tables: list[str] | None = None) -> dict[str, Any]:
    """Reachability, latency, server version and the role's rights (create, truncate, insert),
    as ``datagen targets test`` reports them."""
    dsn = target.dsn
    if target.kind == "postgres":
        from generators.postgres_target.probe import probe

        return {"id": target.id, "kind": target.kind, **probe(dsn, target.schema or "public", tables)}
    from generators.sqlite_seed.probe import probe as probe_sqlite

    return {"id": target.id, "kind": target.kind, **probe_sqlite(Path(dsn).expanduser(), tables)}
