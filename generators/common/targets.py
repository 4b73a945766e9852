"""Named targets: ``targets/*.yaml``, one database per file, so a command line says
``--target staging`` instead of a connection string.

A file holds one mapping::

    id: staging                 # what --target names (letters, digits, - and _)
    name: Staging warehouse     # free text, shown by `datagen targets list`
    kind: postgres              # postgres or sqlite
    dsn: postgresql://loader:${STAGING_PGPASSWORD}@db.internal:5432/shop   # sqlite: the file path
    schema: public              # the database schema (postgres; default public)
    options: {mode: truncate}   # defaults for the format's --option keys (the command line wins)

``${VAR}`` (and ``$VAR``) in ``dsn`` are taken from the environment when the target is used, so
a password lives in the environment, never in the file; a variable that is not set is an error
naming it. The folder is ``$DATAGEN_TARGETS_DIR``, else ``targets/`` in the current directory.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.errors import Problem, UsageError

KINDS = ("postgres", "sqlite")
FIELDS = ("id", "name", "kind", "dsn", "schema", "options")
ENV_DIR = "DATAGEN_TARGETS_DIR"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Target:
    id: str
    name: str
    kind: str
    dsn_template: str
    schema: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    @property
    def dsn(self) -> str:
        """The DSN with its ``${VAR}`` taken from the environment (``UsageError`` naming a
        variable that is not set)."""
        missing: list[str] = []

        def sub(m: re.Match) -> str:
            var = m[1] or m[2]
            value = os.environ.get(var)
            if value is None:
                missing.append(var)
                return ""
            return value

        dsn = _VAR.sub(sub, self.dsn_template)
        if missing:
            raise UsageError(f"target {self.id} ({self.path}): the environment variable(s) {', '.join(missing)} "
                             f"its dsn uses are not set")
        return dsn

    def info(self) -> dict[str, Any]:
        """Everything but secrets (the DSN as written: a password in it is redacted)."""
        from shared.io.redact import redact_text

        return {"id": self.id, "name": self.name, "kind": self.kind, "dsn": redact_text(self.dsn_template),
                "schema": self.schema, "options": dict(self.options), "file": str(self.path) if self.path else None}


def targets_dir() -> Path:
    return Path(os.environ.get(ENV_DIR) or "targets")


def load_target(path: Path) -> Target:
    """One target file, checked (a ``UsageError`` listing every problem with its file)."""
    from shared.schema_dsl.source import read_document

    # the schema files' reader: safe YAML 1.2, duplicate keys refused, errors with their line
    doc, _lines, _raw = read_document(str(path))
    where = str(path)
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: a target file holds one mapping ({', '.join(FIELDS)})")
    problems = [Problem(f"unknown field {k!r}", k, file=where, hint=f"fields: {', '.join(FIELDS)}")
                for k in doc if k not in FIELDS]
    for k in ("id", "kind", "dsn"):
        if not isinstance(doc.get(k), str) or not doc[k].strip():
            problems.append(Problem(f"{k} is required (text)", k, file=where))
    if isinstance(doc.get("id"), str) and not _ID.fullmatch(doc["id"]):
        problems.append(Problem(f"id {doc['id']!r}: letters, digits, - and _ (at most 63)", "id", file=where))
    if isinstance(doc.get("kind"), str) and doc["kind"] not in KINDS:
        from shared.registry import did_you_mean

        hint = did_you_mean(doc["kind"], KINDS)
        problems.append(Problem(f"kind {doc['kind']!r} is not one of {', '.join(KINDS)}", "kind", file=where,
                                hint=hint or None))
    if doc.get("schema") is not None and not isinstance(doc.get("schema"), str):
        problems.append(Problem("schema is text", "schema", file=where))
    opts = doc.get("options") or {}
    if not isinstance(opts, dict) or not all(isinstance(k, str) for k in opts):
        problems.append(Problem("options is a mapping of option names to values", "options", file=where))
        opts = {}
    if problems:
        raise UsageError(f"{path}: not a valid target", problems)
    return Target(doc["id"], str(doc.get("name") or doc["id"]), doc["kind"], doc["dsn"], doc.get("schema"),
                  {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in opts.items()}, path)


def list_targets(folder: Path | None = None) -> list[Target]:
    """Every target of the folder, by id; two files with one id are an error."""
    folder = folder or targets_dir()
    if not folder.is_dir():
        return []
    found: dict[str, Target] = {}
    for p in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        t = load_target(p)
        if t.id in found:
            raise UsageError(f"target id {t.id!r} is defined twice: {found[t.id].path} and {p}")
        found[t.id] = t
    return sorted(found.values(), key=lambda t: t.id)


def find_target(name: str, folder: Path | None = None) -> Target:
    """The target called ``name`` (its id); unknown: a ``UsageError`` with the closest ids."""
    folder = folder or targets_dir()
    targets = list_targets(folder)
    for t in targets:
        if t.id == name:
            return t
    from shared.registry import did_you_mean

    ids = [t.id for t in targets]
    hint = did_you_mean(name, ids)
    where = f"in {folder}/ ({', '.join(ids)})" if ids else f"({folder}/ holds no *.yaml target; set {ENV_DIR} " \
        f"or give a connection string)"
    raise UsageError(f"--target {name}: no such target {where}{'; ' + hint if hint else ''}")

