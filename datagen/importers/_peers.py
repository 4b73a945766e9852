"""Helpers shared by the importers of other tools' specs (sdgen, dw-sim, data-generation):
reading the file (one ``UsageError`` naming it when it cannot be read or parsed), the source
line of a key, identifiers, and the findings an importer collects."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from datagen.importers import Finding, Imported
from shared.errors import UsageError

_IDENT = re.compile(r"[^A-Za-z0-9_]+")


def identifier(text: str, fallback: str = "imported") -> str:
    """A DSL identifier (``[A-Za-z_][A-Za-z0-9_]*``) from a name: other characters become ``_``."""
    out = _IDENT.sub("_", str(text).strip())
    if not out.strip("_"):
        out = fallback
    return out if not out[0].isdigit() else "_" + out


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping key: ``{path: line}``."""


def _lines(text: str) -> dict[tuple[Any, ...], int]:
    """``(key, key, index, …) → 1-based line`` for every mapping key of a YAML/JSON document."""
    found: dict[tuple[Any, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError:
        return found

    def walk(node, path: tuple[Any, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else None
                found[path + (key,)] = k.start_mark.line + 1
                walk(v, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                found[path + (i,)] = v.start_mark.line + 1
                walk(v, path + (i,))

    if root is not None:
        walk(root, ())
    return found


@dataclass
class Source:
    """A spec file read and parsed, with the line of each key."""

    path: Path
    data: Any
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def line(self, *path: Any) -> int | None:
        """The line of the deepest key of ``path`` that the file has."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None


def read(source: str | Path, tool: str) -> Source:
    """Read a spec file (YAML or JSON); any failure is one ``UsageError`` naming the file."""
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file ({tool} spec)") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: a folder, not a {tool} spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the {tool} spec: {exc}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=_LineLoader)
    except (ValueError, yaml.YAMLError) as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f":{mark.line + 1}"
        elif isinstance(exc, json.JSONDecodeError):
            where = f":{exc.lineno}"
        raise UsageError(f"{path}{where}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'} "
                         f"({str(exc).splitlines()[0]})") from None
    return Source(path, data, _lines(text))


def need(cond: bool, src: Source, message: str, *path: Any) -> None:
    """Refuse a spec that is not the tool's shape: one ``UsageError`` naming file and line."""
    if not cond:
        line = src.line(*path)
        raise UsageError(f"{src.path}{f':{line}' if line else ''}: {message}")


@dataclass
class Collector:
    """The findings and comments an importer gathers while it maps a spec."""

    src: Source
    warnings: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    skipped: list[Finding] = field(default_factory=list)
    comments: dict[str, str] = field(default_factory=dict)

    def warn(self, message: str, where: str | None, *path: Any) -> None:
        self.warnings.append(Finding(message, self.src.line(*path), where))

    def note(self, message: str, where: str | None, *path: Any) -> None:
        self.notes.append(Finding(message, self.src.line(*path), where))

    def skip(self, message: str, where: str | None, *path: Any) -> None:
        self.skipped.append(Finding(message, self.src.line(*path), where))

    def comment(self, where: str, text: str) -> None:
        self.comments[where] = (self.comments[where] + " " + text) if where in self.comments else text

    def result(self, schema: dict[str, Any]) -> Imported:
        return Imported(schema=schema, warnings=self.warnings, notes=self.notes, skipped=self.skipped,
                        comments=self.comments)


def number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def gen(kind: str, **params: Any) -> dict[str, Any]:
    """A DSL generator ``{type, params}`` (no ``params`` key when there are none)."""
    return {"type": kind, "params": params} if params else {"type": kind}
