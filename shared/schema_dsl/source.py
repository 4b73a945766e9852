"""Reading a schema file safely: size cap, YAML or JSON, duplicate keys refused, line numbers kept.

``read_document(path)`` returns the plain data (dicts, lists, scalars) and a line map from every
schema path (``("tables", 1, "columns", 2, "name")``) to its 1-based (line, column), so JSON
Schema errors and semantic errors alike point at the user's text.

Safety: a file over ``MAX_SCHEMA_BYTES`` (10 MiB; ``DATAGEN_MAX_SCHEMA_BYTES`` adjusts it) is
refused before it is read; YAML goes through a *safe* loader (no Python tags, and only the plain
data tags: str, int, float, bool, null, list, mapping); anchors and aliases are allowed but their
expansion is measured before anything is expanded (``MAX_NODES``), so an alias bomb fails at
once, as does a recursive alias; nesting deeper than ``MAX_DEPTH`` is refused while composing,
long before Python's recursion limit.

Scalars follow the YAML 1.2 core schema, not PyYAML's YAML 1.1 default:

* only ``true``/``false`` are booleans — ``yes``, ``no``, ``on``, ``off``, ``y``, ``n`` stay
  strings (a classic trap with country codes and category values);
* dates and timestamps stay strings (``min: 2024-01-01`` is the text ``"2024-01-01"``, which the
  loader parses for date and timestamp columns);
* ``1e-3`` is a float (YAML 1.1 wants ``1.0e-3``), ``1:30`` is a string (YAML 1.1: 90),
  ``012`` is twelve (YAML 1.1: octal); ``0o17``, ``0x1F`` and ``1_000_000`` are integers.

Mapping keys are always strings (the key's text, as in JSON): ``1: x`` has the key ``"1"``.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from shared.errors import Problem, SchemaError

MAX_SCHEMA_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 1_000_000

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null"))
_SURROGATE = re.compile("[\ud800-\udfff]")


def max_schema_bytes() -> int:
    env = os.environ.get("DATAGEN_MAX_SCHEMA_BYTES")
    if env and env.isdigit():
        return int(env)
    return MAX_SCHEMA_BYTES


class _TooDeep(Exception):
    def __init__(self, mark):
        self.mark = mark


class _NestingError(SchemaError):
    """Too deep or too large: refused for YAML and JSON alike."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema and a depth cap while composing."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver(_TAG + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    _TAG + "int", re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    _TAG + "float",
    re.compile(r"^(?:[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)
_Loader.add_implicit_resolver(_TAG + "null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Loader.add_implicit_resolver(_TAG + "merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    base = 10
    if digits[:2] in ("0o", "0x"):
        base, digits = (8 if digits[1] == "o" else 16), digits[2:]
    try:
        return sign * int(digits, base)
    except ValueError as exc:  # an explicit !!int on text, or more digits than Python converts
        raise ConstructorError(None, None, f"not a usable integer: {exc}", node.start_mark) from None


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    try:
        return yaml.SafeLoader.construct_yaml_float(loader, node)
    except ValueError as exc:
        raise ConstructorError(None, None, f"not a usable number: {exc}", node.start_mark) from None


_Loader.add_constructor(_TAG + "int", _construct_int)
_Loader.add_constructor(_TAG + "float", _construct_float)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _at(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Converter:
    """Turns a composed YAML node tree into plain data plus a line map, with caps."""

    def __init__(self, file: str):
        self.file = file
        self.lines: dict[tuple, tuple[int, int]] = {}
        self.nodes = 0
        self.problems: list[Problem] = []
        self._ctor = _Loader("")
        self._explicit: dict[int, set[int]] = {}

    def check_expansion(self, root: yaml.Node) -> None:
        """Measure what the tree expands to (aliases included) without expanding it.

        Each distinct node is visited once (iteratively), so an alias bomb is refused in
        milliseconds, at the first anchor whose expansion exceeds ``MAX_NODES``.
        """
        size: dict[int, int] = {}
        height: dict[int, int] = {}
        open_: set[int] = set()
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            k = id(node)
            if done:
                open_.discard(k)
                kids = _children(node)
                size[k] = 1 + sum(size[id(c)] for c in kids)
                height[k] = 1 + max((height[id(c)] for c in kids), default=0)
                if size[k] > MAX_NODES:
                    line, col = _at(node)
                    raise _NestingError(
                        f"{self.file}: the document expands to more than {MAX_NODES:,} nodes",
                        [Problem(f"this node expands to more than {MAX_NODES:,} nodes after resolving "
                                 "anchors and aliases (an alias bomb?)", file=self.file, line=line, column=col,
                                 hint="write the schema out without deeply nested aliases")],
                    )
                if height[k] > MAX_DEPTH + 1:
                    raise self._too_deep(node)
                continue
            if k in size:
                continue
            if k in open_:
                line, col = _at(node)
                raise SchemaError(f"{self.file}: a recursive alias",
                                  [Problem("an alias refers to a node that contains it (a recursive alias)",
                                           file=self.file, line=line, column=col,
                                           hint="an anchor cannot be used inside itself")])
            open_.add(k)
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(_children(node)) if id(c) not in size)

    def _too_deep(self, node: yaml.Node) -> SchemaError:
        line, col = _at(node)
        return _NestingError(f"{self.file}: nesting deeper than {MAX_DEPTH} levels",
                             [Problem(f"nesting deeper than {MAX_DEPTH} levels", file=self.file, line=line,
                                      column=col, hint="a schema needs only a few levels")])

    def _problem(self, node: yaml.Node, path: tuple, message: str, hint: str | None = None) -> None:
        line, col = _at(node)
        self.problems.append(Problem(message, _fmt(path), self.file, line, col, hint))

    def convert(self, node: yaml.Node, path: tuple, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:  # check_expansion refuses this earlier; kept as a backstop
            raise SchemaError(
                f"{self.file}: the document expands to more than {MAX_NODES:,} nodes",
                [Problem("too many nodes after expanding anchors and aliases (an alias bomb?)",
                         file=self.file, line=_at(node)[0], column=_at(node)[1],
                         hint="write the schema out without deeply nested aliases")],
            )
        if depth > MAX_DEPTH:
            raise self._too_deep(node)
        self.lines.setdefault(path, _at(node))
        if isinstance(node, yaml.MappingNode):
            if node.tag != _TAG + "map":
                self._problem(node, path, f"unsupported YAML tag {node.tag!r}", "plain mappings only")
                return {}
            out: dict = {}
            # keys written in this mapping, as opposed to keys merged in with `<<: *anchor`
            # (remembered per node: a node reached again through an alias is already flattened)
            explicit = self._explicit.setdefault(
                id(node), {id(k) for k, _ in node.value if k.tag != _TAG + "merge"})
            self._ctor.flatten_mapping(node)  # merged pairs first, then the written ones
            merged_keys: set[str] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                    self._problem(key_node, path, "mapping keys must be plain scalars (names)")
                    continue
                key = key_node.value  # the key's text: keys are strings, as in JSON
                if _SURROGATE.search(key):
                    self._problem(key_node, path, "a key holds an invalid unicode escape (a lone surrogate)")
                    continue
                if key in out and key not in merged_keys:
                    self._problem(key_node, path + (key,), f"duplicate key {key!r}",
                                  f"{key!r} is already set at line {self.lines.get(path + (key,), ('?',))[0]}")
                    continue
                # a merged value is overridden by a later merged one or by a written one (YAML merge rules)
                if id(key_node) in explicit:
                    merged_keys.discard(key)
                else:
                    merged_keys.add(key)
                self.lines[path + (key,)] = _at(value_node)
                out[key] = self.convert(value_node, path + (key,), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _TAG + "seq":
                self._problem(node, path, f"unsupported YAML tag {node.tag!r}", "plain lists only")
                return []
            return [self.convert(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        if node.tag not in _SCALAR_TAGS:
            self._problem(node, path, f"unsupported YAML tag {node.tag!r}",
                          "use plain strings, numbers, true/false and null")
            return None
        value = self._ctor.construct_object(node, deep=True)
        if isinstance(value, str) and _SURROGATE.search(value):
            self._problem(node, path, "the text holds an invalid unicode escape (a lone surrogate)")
            return ""
        return value


def _fmt(path: tuple) -> str:
    from shared.model.schema import fmt_path

    return fmt_path(path)


def _read_bytes(path: str) -> bytes:
    cap = max_schema_bytes()
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read the schema file: {exc.strerror or exc}",
                          [Problem(f"cannot read the schema file: {exc.strerror or exc}", file=path,
                                   hint="check the --schema path")]) from None
    if os.path.isdir(path):
        raise SchemaError(f"{path}: is a directory, not a schema file",
                          [Problem("is a directory", file=path, hint="pass a .yaml or .json file")])
    if not os.path.isfile(path):  # a FIFO (opening one with no writer blocks forever), a device, a socket
        raise SchemaError(f"{path}: not a regular file (a pipe, device or socket); not opened",
                          [Problem("not a regular file", file=path, hint="pass a .yaml or .json file")])
    if size > cap:
        raise SchemaError(
            f"{path}: the schema file is {size:,} bytes, over the {cap:,}-byte cap",
            [Problem(f"file larger than the {cap:,}-byte cap", file=path,
                     hint="raise DATAGEN_MAX_SCHEMA_BYTES if the file is really meant to be this large")],
        )
    try:
        with open(path, "rb") as f:
            raw = f.read(cap + 1)
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read the schema file: {exc.strerror or exc}",
                          [Problem(f"cannot read: {exc.strerror or exc}", file=path)]) from None
    if len(raw) > cap:  # grew since stat, or a special file (a pipe, /dev/zero) with no size
        raise SchemaError(f"{path}: the schema file is over the {cap:,}-byte cap",
                          [Problem(f"file larger than the {cap:,}-byte cap", file=path,
                                   hint="raise DATAGEN_MAX_SCHEMA_BYTES if the file is really meant to be this large")])
    return raw


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def read_document(path: str, data: bytes | None = None) -> tuple[Any, dict[tuple, tuple[int, int]], bytes]:
    """Read and parse a schema file; returns (data, line map, raw bytes). Raises SchemaError."""
    raw = _read_bytes(path) if data is None else data
    cap = max_schema_bytes()
    if len(raw) > cap:
        raise SchemaError(f"{path}: the schema is {len(raw):,} bytes, over the {cap:,}-byte cap",
                          [Problem(f"file larger than the {cap:,}-byte cap", file=path,
                                   hint="raise DATAGEN_MAX_SCHEMA_BYTES if the file is really meant to be this large")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SchemaError(f"{path}: the schema file is not UTF-8 text",
                          [Problem(f"invalid UTF-8 byte 0x{raw[exc.start]:02x} at offset {exc.start}", file=path,
                                   line=line, column=col, hint="save the file as UTF-8")]) from None
    nul = text.find("\x00")
    if nul >= 0:
        line, col = _line_col(text, nul)
        raise SchemaError(f"{path}: the schema file contains NUL bytes (binary?)",
                          [Problem("NUL byte in file", file=path, line=line, column=col,
                                   hint="pass a YAML or JSON text file")])
    if path.lower().endswith(".json"):
        data, lines = _read_json(path, text)
    else:
        data, lines = _read_yaml(path, text)
    return data, lines, raw


def _compose(path: str, text: str) -> yaml.Node | None:
    """Compose one YAML (or JSON) document into nodes, with the depth cap. Raises SchemaError."""
    try:
        loader = _Loader(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except _TooDeep as exc:
        raise _NestingError(f"{path}: nesting deeper than {MAX_DEPTH} levels",
                          [Problem(f"nesting deeper than {MAX_DEPTH} levels", file=path, line=exc.mark.line + 1,
                                   column=exc.mark.column + 1, hint="a schema needs only a few levels")]) from None
    except RecursionError:  # a backstop: the depth cap stops composing long before this
        raise _NestingError(f"{path}: nesting too deep to read",
                          [Problem(f"nesting deeper than {MAX_DEPTH} levels", file=path)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = f"{exc.problem or exc.context or 'invalid YAML'}"
        if exc.context and exc.problem:
            msg = f"{exc.context}: {exc.problem}"
        raise SchemaError(
            f"{path}: not valid YAML",
            [Problem(f"YAML syntax error: {msg}", file=path, line=mark.line + 1 if mark else None,
                     column=mark.column + 1 if mark else None,
                     hint="check indentation, colons and quotes around this line")],
        ) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (control characters, …)
        line, col = _line_col(text, exc.position)
        raise SchemaError(f"{path}: not valid YAML",
                          [Problem(f"YAML error: character {exc.character!r} is not allowed in YAML text",
                                   file=path, line=line, column=col,
                                   hint="remove control characters from the file")]) from None
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path}: not valid YAML", [Problem(f"YAML error: {exc}", file=path)]) from None


def _convert(path: str, node: yaml.Node) -> tuple[Any, _Converter]:
    conv = _Converter(path)
    conv.check_expansion(node)
    try:
        data = conv.convert(node, (), 0)
    except RecursionError:
        raise SchemaError(f"{path}: nesting too deep to read",
                          [Problem(f"nesting deeper than {MAX_DEPTH} levels", file=path)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SchemaError(f"{path}: not valid YAML",
                          [Problem(f"YAML error: {getattr(exc, 'problem', None) or exc}", file=path,
                                   line=mark.line + 1 if mark else None,
                                   column=mark.column + 1 if mark else None)]) from None
    return data, conv


def _raise_problems(path: str, problems: list[Problem]) -> None:
    if problems:
        n = len(problems)
        raise SchemaError(f"{path}: {n} problem{'s' if n != 1 else ''} reading the schema", problems)


def _read_yaml(path: str, text: str) -> tuple[Any, dict]:
    node = _compose(path, text)
    if node is None:
        raise SchemaError(f"{path}: the schema file is empty",
                          [Problem("empty document", file=path, hint="start from schemas/examples/default.yaml")])
    data, conv = _convert(path, node)
    _raise_problems(path, conv.problems)
    return data, conv.lines


def _read_json(path: str, text: str) -> tuple[Any, dict[tuple, tuple[int, int]]]:
    """Parse JSON with the json module (the authority on JSON syntax); the line map and the
    location of duplicate keys and deep nesting come from composing the same text as YAML."""

    def pairs(items):
        out = {}
        for k, v in items:
            if k in out:
                raise _DupKey(k)
            out[k] = v
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
        dup = None
    except _DupKey as exc:
        data, dup = None, exc.key
    except RecursionError:
        _locate_nesting(path, text)
        raise _NestingError(f"{path}: nesting too deep to read",
                            [Problem(f"nesting deeper than {MAX_DEPTH} levels", file=path)]) from None
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}: not valid JSON",
                          [Problem(f"JSON syntax error: {exc.msg}", file=path, line=exc.lineno, column=exc.colno,
                                   hint="JSON needs double quotes and no trailing commas")]) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise SchemaError(f"{path}: not valid JSON", [Problem(f"JSON error: {exc}", file=path)]) from None
    lines: dict[tuple, tuple[int, int]] = {}
    conv = None
    try:
        node = _compose(path, text)
        if node is not None:
            _, conv = _convert(path, node)
    except _NestingError:
        raise
    except SchemaError:
        conv = None  # JSON that PyYAML cannot read as YAML: no line numbers, nothing else lost
    if conv is not None:
        lines = conv.lines
        _raise_problems(path, [p for p in conv.problems if p.message.startswith("duplicate key")])
    if dup is not None:
        raise SchemaError(f"{path}: duplicate key {dup!r}",
                          [Problem(f"duplicate key {dup!r}", file=path, hint="each key may appear once")])
    _check_data(path, data)
    return data, lines


def _locate_nesting(path: str, text: str) -> None:
    """Raise the nesting error with its line when PyYAML can compose the text; else return."""
    try:
        _compose(path, text)
    except _NestingError:
        raise
    except SchemaError:
        return


def _check_data(path: str, data: Any) -> None:
    """Iterative checks of parsed JSON: nesting depth, and no lone surrogates from ``\\ud800`` escapes."""
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack:
        value, where = stack.pop()
        if len(where) > MAX_DEPTH:
            raise _NestingError(f"{path}: nesting deeper than {MAX_DEPTH} levels",
                                [Problem(f"nesting deeper than {MAX_DEPTH} levels", file=path,
                                         hint="a schema needs only a few levels")])
        if isinstance(value, dict):
            for k, v in value.items():
                if _SURROGATE.search(k):
                    raise SchemaError(f"{path}: invalid unicode escape",
                                      [Problem("a key holds an invalid unicode escape (a lone surrogate)",
                                               _fmt(where), path)])
                stack.append((v, where + (k,)))
        elif isinstance(value, list):
            stack.extend((v, where + (i,)) for i, v in enumerate(value))
        elif isinstance(value, str) and _SURROGATE.search(value):
            raise SchemaError(f"{path}: invalid unicode escape",
                              [Problem("the text holds an invalid unicode escape (a lone surrogate)",
                                       _fmt(where), path)])


class _DupKey(Exception):
    def __init__(self, key):
        self.key = key
