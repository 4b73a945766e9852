"""Requests → the library's arguments: a schema (inline, by id, a blueprint), a plan, a target.

Ids resolve only inside their folders: a schema id is a relative path of plain names (letters,
digits, ``_ . -``; no ``..``, no hidden parts) under ``--schemas-dir``, and the file it names
must resolve (links followed) inside that folder; a target id is looked up among the files of
``--targets-dir``. An inline target's ``path`` is relative to ``--output-dir`` and stays inside it.
"""

from __future__ import annotations

import collections
import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from datagen.service.errors import NotFound, TooLarge
from datagen.service.models import FILE_KINDS, DatasetIn, RunIn
from datagen.service.settings import Settings
from shared.errors import UsageError
from shared.model.schema import Schema
from shared.schema_dsl.planner import Plan

SUFFIXES = (".yaml", ".yml", ".json")
_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_TARGET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
#: how deep ``GET /schemas`` looks into the schemas folder
MAX_DEPTH = 4


def schema_files(settings: Settings) -> list[tuple[str, Path]]:
    """(id, file) of every schema file of the folder, by id (hidden parts and links out skipped)."""
    base = settings.schemas_dir.resolve()
    if not base.is_dir():
        return []
    found = []
    for p in sorted(base.rglob("*")):
        rel = p.relative_to(base)
        if p.suffix not in SUFFIXES or len(rel.parts) > MAX_DEPTH or not all(_PART.fullmatch(x) for x in rel.parts):
            continue
        real = p.resolve()
        if real.is_file() and real.is_relative_to(base):
            found.append((rel.with_suffix("").as_posix(), p))
    return found


def schema_path(settings: Settings, schema_id: str) -> Path:
    """The file of ``schema_id``; ``NotFound`` for anything that is not a file inside the folder."""
    parts = schema_id.split("/")
    if len(parts) > MAX_DEPTH or not all(_PART.fullmatch(x) for x in parts):
        raise NotFound(f"no schema {schema_id!r}: an id is a relative path of plain names (GET /api/v1/schemas)")
    base = settings.schemas_dir.resolve()
    for suffix in SUFFIXES:
        p = base.joinpath(*parts[:-1], parts[-1] + suffix)
        real = p.resolve()
        if real.is_file() and real.is_relative_to(base):
            return p
    raise NotFound(f"no schema {schema_id!r} in the schemas folder (GET /api/v1/schemas lists them)")


#: loaded schemas kept (the latest used): loading one (YAML, JSON Schema, typing) takes tens of
#: milliseconds of CPU, and a service asks for the same few again and again
SCHEMA_CACHE_SIZE = 64
_schemas: collections.OrderedDict[tuple[Any, ...], Schema] = collections.OrderedDict()
_schemas_lock = threading.Lock()


def cached_schema(key: tuple[Any, ...], load: Callable[[], Schema]) -> Schema:
    """The schema ``load()`` gives, kept under ``key`` — what determines it: a file's path, size and
    modification time, an inline schema's SHA-256, a blueprint and its parameters. Schemas are
    frozen, so one object serves every request. A schema anchored at ``now`` is loaded each time
    (its anchor is the load's time); a schema with problems is never kept (its error is raised)."""
    with _schemas_lock:
        schema = _schemas.get(key)
        if schema is not None:
            _schemas.move_to_end(key)
            return schema
    schema = load()
    if schema.anchor_from != "now":
        with _schemas_lock:
            _schemas[key] = schema
            while len(_schemas) > SCHEMA_CACHE_SIZE:
                _schemas.popitem(last=False)
    return schema


def _inline(settings: Settings, source: dict[str, Any] | str) -> Schema:
    from datagen.api import load_schema
    from shared import api as lib

    if isinstance(source, str):
        data = source.encode("utf-8")
        if len(data) > settings.max_schema_bytes:
            raise TooLarge(f"the inline schema is {len(data):,} bytes; at most {settings.max_schema_bytes:,}")
        label = "inline.json" if source.lstrip().startswith("{") else "inline.yaml"
        return cached_schema(("text", label, hashlib.sha256(data).hexdigest()), lambda: lib.load_schema(label, data))
    text = json.dumps(source, default=str)
    if len(text) > settings.max_schema_bytes:
        raise TooLarge(f"the inline schema is {len(text):,} bytes as JSON; at most {settings.max_schema_bytes:,}")
    return cached_schema(("dict", hashlib.sha256(text.encode()).hexdigest()),
                         lambda: load_schema(source, name="inline"))


def load_schema_file(path: Path) -> Schema:
    """The schema of a file of the schemas folder (kept while the file stays as it is)."""
    from datagen.api import load_schema

    st = path.stat()
    return cached_schema(("file", str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino),
                         lambda: load_schema(path))


def load_dataset(settings: Settings, req: DatasetIn) -> Schema:
    """The schema a request names: inline, by id or a blueprint (exactly one)."""
    from datagen.api import load_schema

    given = [n for n, v in (("schema", req.schema_), ("schema_id", req.schema_id), ("blueprint", req.blueprint))
             if v is not None]
    if len(given) != 1:
        raise UsageError("name the dataset with exactly one of schema (inline), schema_id or blueprint"
                         + (f" (given: {', '.join(given)})" if given else ""))
    if req.params is not None and req.blueprint is None:
        raise UsageError("params are a blueprint's parameters: give blueprint too")
    if req.schema_ is not None:
        return _inline(settings, req.schema_)
    if req.schema_id is not None:
        return load_schema_file(schema_path(settings, req.schema_id))
    from datagen import blueprints

    assert req.blueprint is not None
    if req.blueprint not in blueprints.names():
        raise NotFound(f"no blueprint {req.blueprint!r} (GET /api/v1/blueprints lists them)")
    bp = blueprints.get(req.blueprint)
    items = [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in (req.params or {}).items()]
    params = blueprints.parse_params(bp, items)
    return cached_schema(("blueprint", req.blueprint, tuple(items)), lambda: load_schema(bp(**params)))


def resolve_plan(req: DatasetIn, schema: Schema, *, appends: bool = False) -> Plan:
    from datagen.api import resolve_plan as plan

    return plan(schema, seed=req.seed, rows=dict(req.rows or {}), scale=req.scale, profile=req.profile,
                allow_missing_parents=appends)


@dataclass
class Where:
    """A run's target: the format, its raw options and the folder (files; the manifest for a database)."""

    format: str
    out: Path
    options: dict[str, str] = field(default_factory=dict)


def output_path(settings: Settings, path: str | None, default: str) -> Path:
    """``path`` (default ``default``) under the output folder; anything else is a ``UsageError``."""
    rel = default if path is None else path
    pure = PurePosixPath(rel)
    if not rel.strip() or "\x00" in rel or "\\" in rel or pure.is_absolute() or rel.startswith("~") \
            or any(p in ("..", ".") for p in rel.split("/")):
        raise UsageError(f"target path {rel!r}: a relative folder inside the service's output folder "
                         f"(no '..', no absolute path)")
    base = settings.output_dir.resolve()
    out = base.joinpath(*pure.parts)
    real = out.resolve()
    if real == base or not real.is_relative_to(base):
        raise UsageError(f"target path {rel!r}: resolves outside the service's output folder")
    return out


def find_named_target(settings: Settings, target_id: str):
    from generators.common.targets import list_targets

    if _TARGET_ID.fullmatch(target_id):
        for t in list_targets(settings.targets_dir):
            if t.id == target_id:
                return t
    raise NotFound(f"no target {target_id!r} (GET /api/v1/targets lists them)")


def resolve_target(settings: Settings, req: RunIn, schema_name: str) -> Where:
    """The format, options and folder of a run's target (inline, by id, or parquet by default)."""
    if req.target is not None and req.target_id is not None:
        raise UsageError("give target (inline) or target_id, not both")
    t = req.target
    mode = req.mode
    if t is not None and t.mode is not None:
        if mode is not None and mode != t.mode:
            raise UsageError(f"mode {mode} and target.mode {t.mode} disagree: give one of them")
        mode = t.mode
    if req.target_id is not None:
        named = find_named_target(settings, req.target_id)
        opts = dict(named.options)
        if named.kind == "postgres":
            opts["target"] = named.dsn
            if named.schema:
                opts["db_schema"] = named.schema
        else:
            opts["database"] = str(Path(named.dsn).expanduser())
        where = Where(named.kind, output_path(settings, None, f"{schema_name}/{named.kind}"), opts)
    elif t is None:
        where = Where("parquet", output_path(settings, None, f"{schema_name}/parquet"))
    elif t.kind == "postgres":
        from generators.postgres_target.connection import looks_like_dsn

        if t.dsn is None or not looks_like_dsn(t.dsn):
            raise UsageError("a postgres target needs dsn: a postgresql:// URL or a libpq connection string")
        if t.path is not None:
            raise UsageError("a postgres target takes dsn, not path")
        opts = {"target": t.dsn, **({"db_schema": t.db_schema} if t.db_schema else {})}
        where = Where("postgres", output_path(settings, None, f"{schema_name}/postgres"), opts)
    else:
        if t.dsn is not None or t.db_schema is not None:
            raise UsageError(f"a {t.kind} target takes path, not dsn or db_schema")
        assert t.kind in FILE_KINDS
        where = Where(t.kind, output_path(settings, t.path, f"{schema_name}/{t.kind}"))
    if mode is not None:
        if where.format not in ("postgres", "sqlite"):
            raise UsageError(f"mode applies to a database target (postgres, sqlite), not {where.format}")
        where.options["mode"] = mode
    return where
