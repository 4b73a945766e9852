"""Loading a schema: read → JSON Schema → typed model → semantic checks.

``load_schema(path)`` returns a frozen ``model.Schema`` or raises ``SchemaError`` carrying every
problem found (best first), each located by file, line, column and schema path, with a hint.

Stages, each collecting all of its problems before raising:

1. ``source.read_document``: size cap, UTF-8, safe YAML/JSON, duplicate keys, depth and alias caps.
2. JSON Schema (``schemas/datagen.schema.json``, draft 2020-12): the shape of everything; its
   errors are mapped to plain messages (``_report_jsonschema_error``; for ``anyOf`` the branch
   that fits the instance's type speaks). Alongside it: NaN and infinities are refused anywhere,
   a generator written without ``params`` (or as a bare name) still needs its required params,
   and integers in generator params must fit in 64 bits.
3. Model building: types parsed, min/max/allowed converted to engine units, row counts capped
   at the int64 range.
4. Semantic checks: unique names, generator supports the column type, generator-specific checks
   (``Generator.check``), min ≤ max, null_rate only on nullable columns, keys and unique groups
   name real columns, foreign keys target a primary key or unique column of a matching type,
   per-parent rows, events, correlation blocks (columns with an inverse CDF, each in one block;
   a square, symmetric, positive semi-definite matrix with a unit diagonal), and table
   dependency cycles (named).
"""

from __future__ import annotations

import dataclasses
import decimal
import difflib
import hashlib
import math
import re
import warnings
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import jsonschema

from shared.distributions.base import GENERATORS, file_sha256, load_builtins, schema_file
from shared.errors import Problem, SchemaError, UsageError
from shared.model import timeutil
from shared.model.schema import (
    AnomalyKind,
    AnomalySpec,
    Column,
    Correlation,
    EventsSpec,
    GeneratorSpec,
    Index,
    ListLength,
    RowsOf,
    RowsPer,
    Schema,
    Source,
    Table,
    fmt_path,
    freeze,
)
from shared.model.types import LIST_ITEM, SQL_ALIASES, TYPE_NAMES, Child, parse_type
from shared.schema_dsl import defaults, jsonschema_doc
from shared.schema_dsl.source import read_document

_VALIDATOR: jsonschema.Draft202012Validator | None = None
_VALIDATOR_KEY: tuple[str, ...] = ()


def _ecma_pattern(validator, pattern: str, instance: Any, schema: dict):
    """JSON Schema's ``pattern`` with ECMA-262's ``$``: the very end of the text only.

    Python's ``$`` also matches before a final newline, so ``^[A-Za-z_][A-Za-z0-9_]*$`` would let
    the name ``"orders\\n"`` through (into file names and SQL). A final unescaped ``$`` is read as
    ``\\Z``, which is what the published schema means.
    """
    if not validator.is_type(instance, "string"):
        return
    if _compiled_pattern(pattern).search(instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_PATTERNS: dict[str, re.Pattern] = {}


def _compiled_pattern(pattern: str) -> re.Pattern:
    rx = _PATTERNS.get(pattern)
    if rx is None:
        text = pattern
        if text.endswith("$") and (len(text) - len(text[:-1].rstrip("\\")) - 1) % 2 == 0:
            text = text[:-1] + r"\Z"
        rx = _PATTERNS[pattern] = re.compile(text)
    return rx


def _validator() -> jsonschema.Draft202012Validator:
    """The JSON Schema built from the generator registry as it is now (a generator registered by
    a plugin is known at once); rebuilt when a generator is added."""
    global _VALIDATOR, _VALIDATOR_KEY
    key = tuple(GENERATORS)
    if _VALIDATOR is None or key != _VALIDATOR_KEY:
        doc = jsonschema_doc.build()
        cls = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})
        _VALIDATOR, _VALIDATOR_KEY = cls(doc), key
    return _VALIDATOR


def _generator_names() -> set[str]:
    """The generator names the JSON Schema accepts (its enum, wherever a generator is named)."""
    try:
        return set(_validator().schema["$defs"]["generator"]["anyOf"][0]["enum"])
    except (KeyError, IndexError, TypeError):
        return set(GENERATORS)


class _Collector:
    def __init__(self, file: str, lines: Mapping[tuple, tuple[int, int]]):
        self.file = file
        self.lines = lines
        self.problems: list[Problem] = []

    def add(self, path: tuple, message: str, hint: str | None = None) -> None:
        line, col = _locate(self.lines, path)
        self.problems.append(Problem(message, fmt_path(path), self.file, line, col, hint))

    def raise_if_any(self, what: str) -> None:
        if self.problems:
            probs = sorted(_dedupe(self.problems), key=lambda p: (p.line or 10**9, p.column or 0))
            n = len(probs)
            raise SchemaError(f"{self.file}: {n} problem{'s' if n != 1 else ''} {what}", probs)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen = set()
    out = []
    for p in problems:
        k = (p.path, p.message)
        if k not in seen:
            seen.add(k)
            out.append(p)
    return out


def _locate(lines: Mapping[tuple, tuple[int, int]], path: tuple) -> tuple[int | None, int | None]:
    p = tuple(path)
    while True:
        if p in lines:
            return lines[p]
        if not p:
            return None, None
        p = p[:-1]


def suggest(name: Any, choices) -> str | None:
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


# --- stage 2: JSON Schema -----------------------------------------------------------------------


def _json_schema_problems(data: Any, col: _Collector) -> None:
    for err in _validator().iter_errors(data):
        _report_jsonschema_error(err, col)


_CUT_TYPE = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_ ]*\(\s*[0-9]+\s*$")
_CUT_REST = re.compile(r"^\s*[0-9]+\s*\)\s*$")


def _cut_type_problems(data: Any, col: _Collector) -> None:
    """``{name: x, type: decimal(10,2)}``: in a YAML flow mapping the comma ends the value, so the
    type reads ``decimal(10`` and ``2)`` becomes a key of its own. Say so, once, with the fix."""
    tables = data.get("tables") if isinstance(data, dict) else None
    for ti, t in enumerate(tables if isinstance(tables, list) else ()):
        columns = t.get("columns") if isinstance(t, dict) else None
        for c, cpath in _loose_columns(columns, ("tables", ti, "columns")):
            if not isinstance(c.get("type"), str) or not _CUT_TYPE.match(c["type"]):
                continue
            rest = [k for k in c if isinstance(k, str) and _CUT_REST.match(k) and c[k] is None]
            if rest:
                whole = f"{c['type'].strip()},{rest[0].strip()}"
                col.add(cpath + ("type",),
                        f"the type {c['type'].strip()!r} was cut at its comma: inside {{ … }} a comma separates "
                        f"keys, so {rest[0].strip()!r} was read as a key of its own",
                        f"quote the type: type: '{whole}'")


def _loose_columns(columns: Any, path: tuple):
    """Column mappings (fields and items too) of a document not yet checked for shape."""
    for ci, c in enumerate(columns if isinstance(columns, list) else ()):
        if isinstance(c, dict):
            yield c, path + (ci,)
            yield from _loose_parts(c, path + (ci,))


def _loose_parts(c: dict, path: tuple):
    yield from _loose_columns(c.get("fields"), path + ("fields",))
    if isinstance(c.get("items"), dict):
        yield c["items"], path + ("items",)
        yield from _loose_parts(c["items"], path + ("items",))


def _nonfinite_problems(data: Any, col: _Collector) -> None:
    """NaN and infinities (YAML ``.nan``/``.inf``, JSON ``NaN``) are no value of the DSL: JSON Schema
    bounds do not catch NaN (every comparison with it is false), so refuse them up front."""
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            col.add(path, f"expected a finite number, got {value}")
        elif isinstance(value, dict):
            stack.extend((v, path + (k,)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, path + (i,)) for i, v in enumerate(value))


_TYPE_WORDS = {"object": "mapping", "array": "list"}


def _type_word(t: str) -> str:
    return _TYPE_WORDS.get(t, t)


def _at_instance(e: jsonschema.ValidationError, err: jsonschema.ValidationError) -> bool:
    return len(e.absolute_path) == len(err.absolute_path)


def _report_alternatives(err: jsonschema.ValidationError, col: _Collector) -> None:
    """An anyOf/oneOf failure: report the errors of the branch that fits the instance best.

    A branch whose type does not match the instance (the string branch for a mapping) is left
    out; of the rest, the branch whose errors reach deepest into the instance wins, and all of
    its errors are reported. When no branch has the instance's type, one message names the
    types that would do.
    """
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for e in err.context:
        branches.setdefault(e.relative_schema_path[0] if e.relative_schema_path else 0, []).append(e)
    fitting = {b: errs for b, errs in branches.items()
               if not any(e.validator == "type" and _at_instance(e, err) for e in errs)}
    if not fitting:
        want: list[str] = []
        for errs in branches.values():
            for e in errs:
                if e.validator == "type" and _at_instance(e, err):
                    vals = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
                    want += [_type_word(t) for t in vals if _type_word(t) not in want]
        col.add(tuple(err.absolute_path), f"expected {' or '.join(want) or 'another value'}, "
                                          f"got {_kind(err.instance)} {_short(err.instance)}")
        return
    best = max(fitting.values(), key=lambda errs: (max(len(e.absolute_path) for e in errs), -len(errs)))
    for e in best:
        _report_jsonschema_error(e, col)


def _field(path: tuple) -> str:
    """The name of what a path points at: ``rows``, ``weights[1]``, ``value`` for the root."""
    i = len(path)
    while i > 0 and not isinstance(path[i - 1], str):
        i -= 1
    return fmt_path(path[max(i - 1, 0):]) if path else "value"


def _report_jsonschema_error(err: jsonschema.ValidationError, col: _Collector) -> None:
    if err.validator in ("anyOf", "oneOf") and err.context:
        _report_alternatives(err, col)
        return
    path = tuple(err.absolute_path)
    v = err.validator
    inst = err.instance
    if isinstance(inst, float) and not math.isfinite(inst):
        return  # reported by _nonfinite_problems
    if v == "additionalProperties" and isinstance(inst, dict):
        allowed = list(err.schema.get("properties", {}))
        for key in inst:
            if key not in allowed:
                col.add(path + (key,), f"unknown key {key!r}",
                        suggest(key, allowed) or f"allowed keys: {', '.join(allowed) or 'none'}")
        return
    if v == "required":
        missing = [k for k in err.validator_value if isinstance(inst, dict) and k not in inst]
        for k in missing:
            hint = None
            if k == "max" and path and path[-1] == "length":
                hint = "a list's length must be bounded: add max, the most items a row holds (e.g. {max: 10})"
            col.add(path, f"missing required key {k!r}", hint)
        return
    if v == "enum":
        field = path[-1] if path else ""
        choices = err.validator_value
        if set(choices) == _generator_names():
            col.add(path, f"unknown generator {_short(inst)}", suggest(inst, choices) or "see docs/generators.md")
        elif field == "profile":
            col.add(path, f"unknown profile {_short(inst)}", f"one of: {', '.join(choices)}")
        else:
            col.add(path, f"{_short(inst)} is not one of {', '.join(map(str, choices))}", suggest(inst, choices))
        return
    if v == "propertyNames":
        col.add(path, f"unknown key {_short(err.instance)}")
        return
    if v == "pattern":
        field = path[-1] if path else ""
        if field == "type" and len(path) >= 2:
            col.add(path, f"unknown type {_short(inst)}",
                    suggest(inst, [t for t in TYPE_NAMES]) or f"types: {', '.join(TYPE_NAMES)}")
        elif err.validator_value == jsonschema_doc.IDENT:
            col.add(path, f"{_short(inst)} is not a valid name",
                    "names use letters, digits and _, and do not start with a digit")
        elif field == "locale":
            col.add(path, f"{_short(inst)} is not a locale", "e.g. en_US, de_DE, fr_FR")
        else:
            col.add(path, f"{_short(inst)} does not match {err.validator_value}")
        return
    if v == "type":
        want = err.validator_value
        want = " or ".join(map(_type_word, want)) if isinstance(want, list) else _type_word(want)
        col.add(path, f"expected {want}, got {_kind(inst)} {_short(inst)}")
        return
    if v == "const" and path == ("version",):
        hint = ("write version: 1 as a number, without quotes" if str(inst).strip() == "1"
                else "this datagen reads version: 1")
        col.add(path, f"unsupported DSL version {_short(inst)}", hint)
        return
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "greater than",
                "exclusiveMaximum": "less than"}[v]
        col.add(path, f"{_field(path)} must be {word} {err.validator_value}, got {_short(inst)}")
        return
    if v in ("minItems", "minLength"):
        col.add(path, "must not be empty" if err.validator_value == 1 else err.message)
        return
    if v in ("maxLength", "maxItems"):
        col.add(path, f"{_field(path)} is too long (at most {err.validator_value} "
                      f"{'characters' if v == 'maxLength' else 'items'})")
        return
    col.add(path, err.message)


def _kind(v: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "mapping",
            type(None): "null"}.get(type(v), type(v).__name__)


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def raw_columns(columns: list, path: tuple):
    """Every column spec of a shape-valid list of columns, with its path: the columns, then (depth
    first) the fields of a struct and the items of a list."""
    for ci, c in enumerate(columns):
        yield c, path + (ci,)
        yield from _raw_parts(c, path + (ci,))


def _raw_parts(c: dict, path: tuple):
    if isinstance(c.get("fields"), list):
        yield from raw_columns(c["fields"], path + ("fields",))
    if isinstance(c.get("items"), dict):
        yield c["items"], path + ("items",)
        yield from _raw_parts(c["items"], path + ("items",))


def _raw_generators(c: dict, cpath: tuple):
    """The generator specs written in one column spec: its own, and its list length's distribution."""
    if "generator" in c:  # none only where the type is unknown (reported when columns are built)
        yield c["generator"], cpath + ("generator",)
    if isinstance(c.get("length"), dict) and "distribution" in c["length"]:
        yield c["length"]["distribution"], cpath + ("length", "distribution")


def _generator_positions(doc: dict):
    """Every generator spec in a shape-valid document: (raw spec, path), nested ones included."""
    for ti, t in enumerate(doc["tables"]):
        for c, cpath in raw_columns(t["columns"], ("tables", ti, "columns")):
            for raw, gpath in _raw_generators(c, cpath):
                yield from _nested_generators(raw, gpath)
        if isinstance(t["rows"], dict) and "distribution" in t["rows"]:
            yield from _nested_generators(t["rows"]["distribution"], ("tables", ti, "rows", "distribution"))


def _nested_generators(raw: Any, path: tuple):
    yield raw, path
    if isinstance(raw, dict):
        gen = GENERATORS.get(str(raw.get("type")))
        props = gen.params_schema.get("properties", {}) if gen is not None else {}
        for key, value in (raw.get("params") or {}).items():
            if props.get(key) == {"$ref": "#/$defs/generator"}:
                yield from _nested_generators(value, path + ("params", key))
            elif isinstance(props.get(key), dict) and props[key].get("additionalProperties") == \
                    {"$ref": "#/$defs/generator"} and isinstance(value, dict):  # a mapping of generators
                for name, inner in value.items():
                    yield from _nested_generators(inner, path + ("params", key, name))


def _missing_params_problems(doc: dict, col: _Collector) -> None:
    """A generator written without ``params`` (or as a bare name) still needs its required params.

    The JSON Schema checks ``params`` only where the key is present, so ``{type: poisson}`` and
    ``generator: fk`` would otherwise pass and fail later, at generation time.
    """
    for raw, path in _generator_positions(doc):
        name = raw if isinstance(raw, str) else raw.get("type")
        if isinstance(raw, dict) and "params" in raw:
            continue
        gen = GENERATORS.get(name)
        if gen is None:
            continue
        for key in gen.params_schema.get("required", ()):
            col.add(path + ("params",), f"generator {name!r} needs param {key!r}",
                    f"write {{type: {name}, params: {{{key}: ...}}}}")


_INT64 = (-(2**63), 2**63 - 1)


def _param_range_problems(doc: dict, col: _Collector) -> None:
    """Integers in generator params must fit in 64 bits: the engine computes in int64."""
    stack: list[tuple[Any, tuple]] = []
    for ti, t in enumerate(doc["tables"]):
        for c, cpath in raw_columns(t["columns"], ("tables", ti, "columns")):
            stack.extend(_raw_generators(c, cpath))
        if isinstance(t["rows"], dict) and "distribution" in t["rows"]:
            stack.append((t["rows"]["distribution"], ("tables", ti, "rows", "distribution")))
    while stack:
        value, path = stack.pop()
        if isinstance(value, int) and not isinstance(value, bool) and not _INT64[0] <= value <= _INT64[1]:
            col.add(path, f"{_field(path)} {_short(value)} is outside the 64-bit integer range",
                    f"use a value between {_INT64[0]:,} and {_INT64[1]:,}")
        elif isinstance(value, dict):
            stack.extend((v, path + (k,)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, path + (i,)) for i, v in enumerate(value))


# --- stage 3: model -----------------------------------------------------------------------------


def _generator_spec(raw: Any, path: tuple) -> GeneratorSpec:
    if isinstance(raw, str):
        return GeneratorSpec(raw, freeze({}), path)
    return GeneratorSpec(raw["type"], freeze(raw.get("params") or {}), path, default=raw.get(_DEFAULT_MARK))


#: the key, in a generator the loader chose (never one a schema can write: JSON Schema refuses
#: unknown keys before it is added), holding why it was chosen
_DEFAULT_MARK = "(default)"


def _fill_default_generators(data: dict, col: _Collector) -> None:
    """Give every column written without a generator the one ``shared.schema_dsl.defaults``
    chooses from its type, name and constraints (marked, for ``describe``)."""
    try:
        anchor_us = timeutil.parse_timestamp(data.get("anchor", timeutil.DEFAULT_ANCHOR))
    except ValueError:
        anchor_us = timeutil.parse_timestamp(timeutil.DEFAULT_ANCHOR)
    for traw in data["tables"]:
        pk = traw.get("primary_key")
        pk = [pk] if isinstance(pk, str) else list(pk or ())
        singles = {g[0] for g in traw.get("unique", ()) if len(g) == 1}
        top = {id(c) for c in traw["columns"]}
        for craw, cpath in raw_columns(traw["columns"], ()):
            if "generator" in craw:
                continue
            try:
                dtype = parse_type(craw["type"])
            except ValueError:
                continue  # reported where the columns are built
            name = craw.get("name") or _item_name(traw["columns"], cpath)
            key = id(craw) in top and (pk == [name] or bool(craw.get("unique")) or name in singles)
            spec, why = defaults.choose({**craw, "name": name}, dtype, key=key, anchor_us=anchor_us)
            craw["generator"] = {**spec, _DEFAULT_MARK: why}


def _item_name(columns: list, path: tuple) -> str:
    """The name of the list column whose items are at ``path`` (for a default generator's rules)."""
    node: Any = columns
    name = ""
    for part in path:
        node = node[part]
        if isinstance(node, dict) and isinstance(node.get("name"), str):
            name = node["name"]
    return name


def _convert_bound(dtype, value: Any, path: tuple, col: _Collector, anchor_us: int):
    """A min/max/allowed value in engine units, or None after reporting a problem."""
    kind = dtype.kind
    try:
        if kind == "date":
            return timeutil.parse_date(value)
        if kind == "timestamp":
            return timeutil.parse_timestamp(value, anchor_us)
        if kind in ("int", "float", "decimal"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"expected a number for a {dtype.name} column, got {_kind(value)} {_short(value)}")
            if kind == "int" and isinstance(value, float) and not value.is_integer():
                raise ValueError(f"expected a whole number for a {dtype.name} column, got {value}")
            return int(value) if kind == "int" else float(value)
    except ValueError as exc:
        col.add(path, str(exc))
        return None
    return value


#: row indices are int64 everywhere downstream
MAX_ROWS = 2**63 - 1


def _row_count(value: Any, path: tuple, col: _Collector) -> int:
    """A row count as an int (JSON Schema's "integer" lets 10.0 through), at most ``MAX_ROWS``."""
    n = int(value)
    if n > MAX_ROWS:
        col.add(path, f"{_field(path)} {n:,} is more than a table can hold (at most {MAX_ROWS:,})")
    return n


def _resolve_anchor(doc: dict, option: str | None) -> str:
    """Settle the anchor before anything reads it: ``--anchor`` replaces the schema's, and
    ``now`` becomes the run's start (UTC, whole seconds), written back as an ISO instant so the
    manifest records it and a rerun with ``--anchor`` that instant reproduces the run. Returns
    where it came from: ``schema``, ``option`` or ``now``."""
    source = "schema"
    if option is not None:
        text = str(option).strip()
        if text.lower() != "now":
            try:
                timeutil.parse_timestamp(text)
            except ValueError as exc:
                raise UsageError(f"--anchor {option!r}: {exc} (hint: an ISO instant such as "
                                 f"2025-01-01T00:00:00Z, or now)") from None
        doc["anchor"] = text
        source = "option"
    if isinstance(doc.get("anchor"), str) and doc["anchor"].strip().lower() == "now":
        import time

        doc["anchor"] = timeutil.format_timestamp(int(time.time()) * 1_000_000)
        source = "now"
    return source


#: the name of a list's items column: the list's name and this (``tags[]``, ``tags[].name``)
ITEMS_SUFFIX = "[]"


def _make_columns(craw: dict, cpath: tuple, name: str, part_of: str | None, in_list: bool, col: _Collector,
                  anchor_us: int) -> list[Column]:
    """The column written at ``cpath`` (named ``name``: a dotted path for a nested part), then
    every part of it when it is a struct or a list, depth first; [] when its type is unknown."""
    try:
        dtype = parse_type(craw["type"])
    except ValueError as exc:
        unknown = str(exc).startswith("unknown type")
        col.add(cpath + ("type",), str(exc),
                (suggest(craw["type"], [*TYPE_NAMES, *SQL_ALIASES]) or f"types: {', '.join(TYPE_NAMES)}, "
                 f"or their SQL spellings (see docs/dsl.md#types)") if unknown else None)
        return []
    for key, wanted in (("fields", "struct"), ("items", "list"), ("length", "list")):
        if key in craw and dtype.kind != wanted:
            col.add(cpath + (key,), f"{key} applies to a {wanted} column, not to a {dtype.name} column",
                    f"write type: {wanted}, or remove {key}")
    parts: list[Column] = []
    fields: list[Column] = []
    items = None
    if dtype.kind == "struct" and isinstance(craw.get("fields"), list):
        for fi, fraw in enumerate(craw["fields"]):
            made = _make_columns(fraw, cpath + ("fields", fi), f"{name}.{fraw['name']}", name, in_list, col,
                                 anchor_us)
            parts += made
            fields += made[:1]
        dtype = dataclasses.replace(dtype, children=tuple(
            Child(f.key, f.dtype, optional=f.present is not None) for f in fields))
    elif dtype.kind == "list" and isinstance(craw.get("items"), dict):
        made = _make_columns(craw["items"], cpath + ("items",), name + ITEMS_SUFFIX, name, True, col, anchor_us)
        parts += made
        items = made[0] if made else None
        if items is not None:
            dtype = dataclasses.replace(dtype, children=(Child(LIST_ITEM, items.dtype),))
    length = None
    if "length" in craw and dtype.kind == "list":
        length = _list_length(craw["length"], cpath + ("length",), col)
    max_length = craw.get("max_length")
    if dtype.length is not None:
        if max_length is None:
            max_length = dtype.length
        elif max_length > dtype.length:
            col.add(cpath + ("max_length",), f"max_length {max_length} is longer than the type "
                    f"{_short(craw['type'])} holds", f"at most {dtype.length}, or a longer type")
    bounds = {}
    for key in ("min", "max"):
        if key in craw:
            bounds[key] = _convert_bound(dtype, craw[key], cpath + (key,), col, anchor_us)
    allowed = None
    if "allowed" in craw:
        if dtype.is_ordered:
            allowed = tuple(_convert_bound(dtype, v, cpath + ("allowed", i), col, anchor_us)
                            for i, v in enumerate(craw["allowed"]))
        else:
            allowed = tuple(craw["allowed"])
    nullable = bool(craw.get("nullable", False))
    column = Column(
        name=name, dtype=dtype, generator=_generator_spec(craw["generator"], cpath + ("generator",)),
        path=cpath, nullable=nullable, null_rate=float(craw.get("null_rate", 0.0)),
        unique=bool(craw.get("unique", False)), min=bounds.get("min"), max=bounds.get("max"),
        allowed=allowed, pattern=craw.get("pattern"), max_length=max_length,
        description=craw.get("description"), corruption=freeze(craw.get("corruption")),
        raw_min=craw.get("min"), raw_max=craw.get("max"), hidden=bool(craw.get("hidden", False)),
        fields=tuple(fields), items=items, length=length,
        present=float(craw["present"]) if "present" in craw else None, part_of=part_of, in_list=in_list,
        sql_name=craw.get("sql_name"),
    )
    if part_of is not None and "sql_name" in craw:
        col.add(cpath + ("sql_name",), "sql_name applies to a table's own columns, not to a field or a list's items",
                "a nested column is one JSON value in SQL: give its container the sql_name")
    return [column, *parts]


def _list_length(raw: Any, path: tuple, col: _Collector) -> ListLength:
    """``length: 3`` or ``length: {min, max, distribution}`` (shape checked by the JSON Schema)."""
    if isinstance(raw, int):
        return ListLength(min=raw, max=raw, distribution=None, path=path)
    lo, hi = int(raw.get("min", 0)), int(raw["max"])
    if hi < lo:
        col.add(path + ("max",), f"length.max {hi} is less than length.min {lo}")
    dist = _generator_spec(raw["distribution"], path + ("distribution",)) if "distribution" in raw else None
    return ListLength(min=lo, max=hi, distribution=dist, path=path)


def _build(data: dict, col: _Collector, source: Source) -> Schema:
    anchor_text = data.get("anchor", timeutil.DEFAULT_ANCHOR)
    try:
        anchor_us = timeutil.parse_timestamp(anchor_text)
    except ValueError as exc:
        col.add(("anchor",), str(exc))
        anchor_us = timeutil.parse_timestamp(timeutil.DEFAULT_ANCHOR)
    tables = []
    for ti, traw in enumerate(data["tables"]):
        tpath = ("tables", ti)
        columns = []
        for ci, craw in enumerate(traw["columns"]):
            columns += _make_columns(craw, tpath + ("columns", ci), craw["name"], None, False, col, anchor_us)
        # a one-column unique group is that column's own unique constraint (kept by construction)
        singles = {g[0] for g in traw.get("unique", ()) if len(g) == 1}
        columns = [dataclasses.replace(c, unique=True) if c.name in singles and not c.unique else c for c in columns]
        rows_raw = traw["rows"]
        rpath = tpath + ("rows",)
        rows: int | RowsPer | RowsOf
        if isinstance(rows_raw, dict) and "of" in rows_raw:
            rows = RowsOf(of=rows_raw["of"], coverage=float(rows_raw["coverage"]))
        elif isinstance(rows_raw, dict):
            rmax = rows_raw.get("max")
            rtotal = rows_raw.get("total")
            rows = RowsPer(
                per=rows_raw["per"],
                distribution=_generator_spec(rows_raw["distribution"], rpath + ("distribution",))
                if "distribution" in rows_raw else None,
                min=_row_count(rows_raw.get("min", 0), rpath + ("min",), col),
                max=None if rmax is None else _row_count(rmax, rpath + ("max",), col),
                total=None if rtotal is None else _row_count(rtotal, rpath + ("total",), col),
                via=rows_raw.get("via"),
            )
        else:
            rows = _row_count(rows_raw, rpath, col)
        pk = traw.get("primary_key", ())
        pk = (pk,) if isinstance(pk, str) else tuple(pk)
        events = None
        if "events" in traw:
            ev = traw["events"]
            etype = ev.get("type", traw["name"])
            names = {c["name"] for c in traw["columns"]}
            events = EventsSpec(time=ev["time"], key=ev.get("key"), type=etype, type_is_column=etype in names,
                                late_rate=float(ev.get("late_rate", 0.0)))
        part = traw.get("partition_by", ())
        anomaly_spec = None
        if "anomalies" in traw:
            anomaly_spec, label_column = _anomalies(traw["anomalies"], tpath + ("anomalies",))
            if label_column.name not in {c.name for c in columns}:  # a clash is reported by the checks
                columns.append(label_column)
        tables.append(Table(
            name=traw["name"], rows=rows, columns=tuple(columns), path=tpath, primary_key=pk,
            unique=tuple(tuple(g) for g in traw.get("unique", ())), events=events,
            description=traw.get("description"), corruption=freeze(traw.get("corruption")),
            partition_by=(part,) if isinstance(part, str) else tuple(part),
            indexes=tuple(_index(traw["name"], ix, tpath + ("indexes", i)) for i, ix in enumerate(traw.get("indexes", ()))),
            anomalies=anomaly_spec, sql_name=traw.get("sql_name"),
            correlations=tuple(_correlation(c, tpath + ("correlations", i))
                               for i, c in enumerate(traw.get("correlations", ()))),
        ))
    return link_references(Schema(
        version=int(data["version"]), name=data["name"], tables=tuple(tables), source=source,
        description=data.get("description"), seed=int(data.get("seed", 0)), locale=data.get("locale", "en_US"),
        profile=data.get("profile", "realistic"), anchor=str(anchor_text), anchor_us=anchor_us,
        corruption=freeze(data.get("corruption")),
        stream_rate=(data.get("stream") or {}).get("events_per_second"),
    ))


def _anomalies(raw: dict, path: tuple) -> tuple[AnomalySpec, Column]:
    """A table's ``anomalies`` block, and the label column it adds to the table: a nullable string
    (null on normal rows, the kind's name on anomalous ones; ``allowed`` the kinds)."""
    kinds = tuple(AnomalyKind(name=k, params=freeze({n: v for n, v in (p or {}).items() if n != "weight"}),
                              path=path + ("kinds", k), weight=float((p or {}).get("weight", 1.0)))
                  for k, p in raw["kinds"].items())
    label = raw.get("label", "anomaly")
    spec = AnomalySpec(rate=float(raw["rate"]), label=label, kinds=kinds, path=path)
    lpath = path + ("label",)
    column = Column(name=label, dtype=parse_type("string"), path=lpath, nullable=True, null_rate=1.0,
                    generator=GeneratorSpec("const", freeze({"value": kinds[0].name}), lpath,
                                            default="the anomalies' label: null on normal rows"),
                    allowed=tuple(k.name for k in kinds),
                    description="anomaly label: the kind of a labelled anomaly, null on normal rows")
    return spec, column


def _correlation(raw: dict, path: tuple) -> Correlation:
    """One ``correlations:`` entry (shape checked by the JSON Schema, meaning by ``_check_correlations``)."""
    return Correlation(kind=raw.get("kind", "gaussian_copula"), columns=tuple(raw["columns"]),
                       matrix=tuple(tuple(float(v) for v in row) for row in raw["matrix"]), path=path)


def _index(table: str, raw: Any, path: tuple) -> Index:
    """One ``indexes:`` entry: a list of columns, or ``{columns, name, unique}``."""
    spec = raw if isinstance(raw, dict) else {"columns": raw}
    cols = spec["columns"]
    cols = (cols,) if isinstance(cols, str) else tuple(cols)
    name = spec.get("name") or "ix_" + "_".join((table, *cols))
    return Index(name=name, columns=cols, path=path, unique=bool(spec.get("unique", False)),
                 columns_path=path + ("columns",) if isinstance(raw, dict) else path)


def _bind_composite_keys(schema: Schema) -> Schema:
    """A composite key's ``with_columns`` columns written without a generator take the same parent row's
    values: their generator becomes the lookup ``fk_column.parent_column`` (one written with a
    generator of its own is reported by the fk's check)."""
    tables = []
    for t in schema.tables:
        bound: dict[str, str] = {}
        for c in t.columns:
            gen = GENERATORS.get(c.generator.type)
            for child, expr in (gen.bound_columns(c) if gen is not None else {}).items():
                bound.setdefault(child, expr)
        if not bound:
            tables.append(t)
            continue
        columns = []
        for c in t.columns:
            lookup = bound.get(c.name)
            if lookup is not None and c.generator.default is not None:
                c = dataclasses.replace(c, generator=GeneratorSpec(
                    "expr", freeze({"expr": lookup}), c.generator.path, default="bound by a composite foreign key"))
            columns.append(c)
        tables.append(dataclasses.replace(t, columns=tuple(columns)))
    return dataclasses.replace(schema, tables=tuple(tables))


def link_references(schema: Schema) -> Schema:
    """The schema with every foreign key resolved once onto its column (``Column.references``).

    A column holds a ``ForeignKeyRef`` when its generator makes one (``Generator.reference``;
    the ``fk`` generator), so the loader tests no generator name. In a per-parent table the first
    fk to the ``rows.per`` table is marked the owner. Refs are made before the semantic checks
    (which report a parent that does not exist), so ``parent`` may name no table here. Schemas
    built by hand in Python pass through this too.
    """
    schema = _bind_composite_keys(schema)
    tables = []
    for t in schema.tables:
        columns = []
        owner_found = False
        via = t.rows.via if isinstance(t.rows, RowsPer) else None
        for c in t.columns:
            gen = GENERATORS.get(c.generator.type)
            ref = gen.reference(c, t, schema) if gen is not None else None
            if ref is not None and isinstance(t.rows, RowsPer) and ref.parent == t.rows.per and not owner_found \
                    and via in (None, c.name):
                ref = dataclasses.replace(ref, owner=True)
                owner_found = True
            columns.append(c if ref == c.references else dataclasses.replace(c, references=ref))
        tables.append(dataclasses.replace(t, columns=tuple(columns)))
    return dataclasses.replace(schema, tables=tuple(tables))


# --- stage 4: semantic checks -------------------------------------------------------------------


def _semantic(schema: Schema, col: _Collector) -> None:
    seen_tables: dict[str, int] = {}
    for table in schema.tables:
        if table.name in seen_tables:
            col.add(table.path + ("name",), f"duplicate table name {table.name!r}",
                    f"already used by tables[{seen_tables[table.name]}]")
        seen_tables.setdefault(table.name, table.path[1])
    _check_sql_names(schema, col)
    for table in schema.tables:
        _check_table(schema, table, col)
    index_names: dict[str, tuple[str, str]] = {}
    for table in schema.tables:
        for ix in table.indexes:
            other = index_names.get(ix.name.lower())
            if other is not None or schema.has_table(ix.name):
                clash = f"index {other[0]!r} of table {other[1]!r}" if other is not None else f"table {ix.name!r}"
                col.add(ix.path, f"index name {ix.name!r} is already used by the {clash}: a database holds "
                        "one name once", "give the index another name (name: ...)")
            index_names.setdefault(ix.name.lower(), (ix.name, table.name))
    _check_cycles(schema, col)


def _check_sql_names(schema: Schema, col: _Collector) -> None:
    """``sql_name``: each table and each column of a table one name in SQL, whatever the case (a
    database that folds or ignores case — SQLite — holds it once)."""
    if not schema.has_sql_names:
        return

    def clashes(items: list[tuple[str, str, str | None, tuple]], what: str) -> None:
        seen: dict[str, str] = {}
        for name, sql, given, path in items:
            key = sql.lower()
            if key in seen and given is not None:
                col.add(path + ("sql_name",), f"sql_name {given!r} is the SQL name of {what} {seen[key]!r} too",
                        "one SQL name per " + what + ", whatever the case")
            seen.setdefault(key, name)

    clashes([(t.name, t.sql_name or t.name, t.sql_name, t.path) for t in schema.tables], "table")
    for t in schema.tables:
        clashes([(c.name, c.sql_name or c.name, c.sql_name, c.path) for c in t.columns if c.part_of is None],
                "column")


def _check_table(schema: Schema, table: Table, col: _Collector) -> None:
    names = [c.name for c in table.columns]
    seen: dict[str, int] = {}
    for c in table.columns:
        if c.name in seen:
            col.add(c.path + ("name",), f"duplicate column name {c.name!r} in table {table.name!r}")
        seen.setdefault(c.name, c.path[-1])
    for c in table.columns:
        _check_column(schema, table, c, col)
    for i, key in enumerate(table.primary_key):
        p = table.path + (("primary_key", i) if len(table.primary_key) > 1 else ("primary_key",))
        if key not in names:
            col.add(p, f"primary key names no column {key!r}", suggest(key, names))
        elif table.column(key).nullable:
            col.add(table.column(key).path + ("nullable",), f"primary key column {key!r} cannot be nullable")
    for gi, group in enumerate(table.unique):
        for i, key in enumerate(group):
            if key not in names:
                col.add(table.path + ("unique", gi, i), f"unique group names no column {key!r}", suggest(key, names))
    if isinstance(table.rows, RowsPer):
        _check_rows_per(schema, table, col)
    if isinstance(table.rows, RowsOf):
        _check_rows_of(schema, table, col)
    if table.events is not None:
        ev = table.events
        epath = table.path + ("events",)
        if ev.time not in names:
            col.add(epath + ("time",), f"events.time names no column {ev.time!r}", suggest(ev.time, names))
        elif table.column(ev.time).dtype.kind != "timestamp":
            col.add(epath + ("time",), f"events.time column {ev.time!r} must be a timestamp, "
                                       f"not {table.column(ev.time).dtype.name}")
        if ev.key is not None and ev.key not in names:
            col.add(epath + ("key",), f"events.key names no column {ev.key!r}", suggest(ev.key, names))
    _check_hidden(schema, table, col)
    _check_partition_by(table, col)
    _check_indexes(table, col)
    _check_anomalies(table, col)
    _check_correlations(table, col, schema)
    _check_nested(schema, table, col)


def _check_anomalies(table: Table, col: _Collector) -> None:
    """``anomalies``: each kind's parameters against the table, a label that names no column."""
    spec = table.anomalies
    if spec is None:
        return
    from shared import anomalies

    anomalies.load()
    label = [c for c in table.columns if c.name == spec.label]
    if len(label) > 1 or (label and label[0].path != spec.path + ("label",)):
        col.add(spec.path + ("label",) if spec.path + ("label",) else spec.path,
                f"anomalies: the label column {spec.label!r} is already a column of table {table.name!r}",
                "name the label otherwise (label: ...)")
    for kind in spec.kinds:
        for path, message, hint in anomalies.ANOMALIES[kind.name].check(kind.params, table, kind.path):
            col.add(path, message, hint)


def _check_correlations(table: Table, col: _Collector, schema: Schema | None = None) -> None:
    """``correlations``: each block names columns of the table (each once, in one block at most)
    whose generators have an inverse CDF and whose values are drawn, not permuted (not unique,
    not a key); its matrix is k × k, symmetric with a unit diagonal, positive semi-definite.
    A block may also name a parent's column through a foreign key (``fk.col``, a *given*: the
    parent context its own columns are drawn conditionally on), checked by ``_check_given``."""
    from shared.schema_dsl import copula

    names = list(table.column_names)
    unique_cols = set(table.primary_key) | {k for g in table.unique for k in g} | \
        {c.name for c in table.columns if c.unique}
    owner: dict[str, int] = {}
    for bi, block in enumerate(table.correlations):
        cpath = block.path + ("columns",)
        seen: set[str] = set()
        for j, name in enumerate(block.columns):
            p = cpath + (j,)
            if name in seen:
                col.add(p, f"correlations[{bi}] names column {name!r} twice", "name each column once")
                continue
            seen.add(name)
            if not table.has_column(name) and "." in name and schema is not None:
                _check_given(schema, table, bi, j, name, col)
                continue
            if not table.has_column(name):
                col.add(p, f"correlations[{bi}] names no column {name!r} of table {table.name!r}",
                        suggest(name, names))
                continue
            if name in owner:
                col.add(p, f"column {name!r} is in two correlation blocks (correlations[{owner[name]}] and "
                        f"correlations[{bi}])", "a column takes part in one block: merge the blocks into one "
                        "(its matrix then holds every pair)")
                continue
            owner[name] = bi
            c = table.column(name)
            gen = GENERATORS.get(c.generator.type)
            if c.part_of is not None or c.in_list:
                col.add(p, f"column {name!r} is a part of the nested column {c.part_of!r}: it cannot join a "
                        "correlation block", "correlate the table's own columns")
            elif name in unique_cols or c.references is not None:
                what = "a foreign key" if c.references is not None else "unique (a key)"
                col.add(p, f"column {name!r} is {what}: its values are not drawn from a distribution, so it "
                        "cannot join a Gaussian copula", "drop it from the block")
            elif gen is not None and not gen.supports_quantile(c.generator.params):
                col.add(p, f"column {name!r} cannot join a Gaussian copula: its generator {c.generator.type!r} "
                        "has no inverse CDF", "correlate columns whose generator has one ("
                        + ", ".join(sorted(n for n, g in GENERATORS.items() if g.has_quantile))
                        + "), or derive this column from a correlated one with expr")
        problems = copula.matrix_problems(block.matrix, len(block.columns))
        for sub, message, hint in problems:
            col.add(block.path + ("matrix",) + sub, f"correlations[{bi}]: {message}", hint)
        givens = [j for j, c in enumerate(block.columns) if not table.has_column(c) and "." in c]
        if givens and schema is not None and not problems:
            _check_given_matrix(schema, table, bi, givens, col)


def _given_block(schema: Schema, table: Table, name: str):
    """(foreign-key column, parent table, parent column, the parent's block index or None) of a
    given ``fk.col``; raises KeyError with a readable message when it reaches no parent column."""
    from shared.schema_dsl import copula

    parts = copula.given_parts(name)
    assert parts is not None
    fk_name, parent_col = parts
    schema.resolve_ref(table, name)  # raises KeyError: no such fk, not a foreign key, no parent column
    ref = table.column(fk_name).references
    assert ref is not None
    parent = schema.table(ref.parent)
    owner = next((bi for bi, b in enumerate(parent.correlations) if parent_col in b.columns), None)
    return fk_name, parent, parent_col, owner


def _check_given(schema: Schema, table: Table, bi: int, j: int, name: str, col: _Collector) -> None:
    """A block's ``fk.col``: a foreign key of this table (not a self-reference), and a column of
    one of the parent's own correlation blocks — its latent normal is what the row conditions on."""
    p = table.correlations[bi].path + ("columns", j)
    try:
        fk_name, parent, parent_col, owner = _given_block(schema, table, name)
    except KeyError as exc:
        col.add(p, f"correlations[{bi}] names {name!r}: {exc.args[0] if exc.args else 'no such column'}",
                suggest(name, list(table.column_names)))
        return
    ref = table.column(fk_name).references
    assert ref is not None
    if ref.self_reference or parent.name == table.name:
        col.add(p, f"correlations[{bi}] names {name!r}: a self-reference cannot be a given",
                "condition on another table's columns, or correlate this table's own columns")
    elif owner is None or not parent.has_column(parent_col):
        col.add(p, f"correlations[{bi}] names {name!r}: {parent.name}.{parent_col} is in none of "
                f"{parent.name!r}'s correlation blocks, so it has no latent normal to condition on",
                f"add {parent_col!r} to a correlations block of table {parent.name!r}")
    elif any(not table.has_column(c) and "." in c for c in parent.correlations[owner].columns):
        col.add(p, f"correlations[{bi}] names {name!r}: {parent.name}'s block conditions on its own "
                "parents; one level of parent context is supported", "condition on the parent's columns only")


def _check_given_matrix(schema: Schema, table: Table, bi: int, givens: list[int], col: _Collector) -> None:
    """The entries between two givens are not the child's to choose: the parent's own matrix has
    them (same foreign key, same parent block), else the two are drawn independently (0)."""
    block = table.correlations[bi]
    info = {}
    for j in givens:
        try:
            fk_name, parent, parent_col, owner = _given_block(schema, table, block.columns[j])
        except KeyError:
            return  # reported by _check_given
        if owner is None:
            return
        info[j] = (fk_name, parent, parent_col, owner)
    for a in givens:
        for b in givens:
            if b <= a:
                continue
            fa, pa_, ca, oa = info[a]
            fb, _, cb, ob = info[b]
            if fa == fb and oa == ob:
                pb = pa_.correlations[oa]
                want = float(pb.matrix[pb.columns.index(ca)][pb.columns.index(cb)])
                why = f"{pa_.name}'s correlations[{oa}] has {want}"
            else:
                want, why = 0.0, "they come from different parent rows, drawn independently"
            got = float(block.matrix[a][b])
            if abs(got - want) > 1e-3:
                col.add(block.path + ("matrix", a, b),
                        f"correlations[{bi}]: the entry of {block.columns[a]!r} and {block.columns[b]!r} is {got}, "
                        f"but two parent columns' correlation is the parent's: {why}",
                        f"write {want} (in both places)")


#: the kinds a partition column may have: values that name a folder exactly and read back as
#: themselves (a float, a timestamp or a decimal would make a folder per value, or round)
PARTITION_KINDS = ("int", "string", "bool", "date")


def _check_partition_by(table: Table, col: _Collector) -> None:
    """``partition_by``: written columns of few values (one folder each), not every column."""
    names = list(table.column_names)
    ppath = table.path + ("partition_by",)
    seen: set[str] = set()
    for i, name in enumerate(table.partition_by):
        p = ppath + (i,) if len(table.partition_by) > 1 else ppath
        if name in seen:
            col.add(p, f"partition_by names {name!r} twice")
            continue
        seen.add(name)
        if not table.has_column(name):
            col.add(p, f"partition_by names no column {name!r}", suggest(name, names))
            continue
        c = table.column(name)
        if c.hidden:
            col.add(p, f"partition column {name!r} is hidden: its values name the folders, so it is written",
                    "partition by a written column")
        elif c.dtype.kind not in PARTITION_KINDS:
            col.add(p, f"cannot partition by {name!r} of type {c.dtype.name}: a folder per value",
                    f"partition by a column of type {', '.join(PARTITION_KINDS)} with few values; derive one "
                    "with expr, e.g. date_trunc('month', created_at) or year(created_at)")
        elif c.unique or table.primary_key == (name,) or c.references is not None and c.references.owner:
            what = "unique" if c.unique or table.primary_key == (name,) else "the owning foreign key"
            col.add(p, f"cannot partition by {name!r}: it is {what}, so every row would be a folder of its own",
                    "partition by a column of few values (a category, a region, a month)")
    written = [c.name for c in table.columns if not c.hidden]
    if written and set(written) <= seen:
        col.add(ppath, f"table {table.name!r} is partitioned by every column it writes: the files would be empty",
                "keep at least one column out of partition_by")


def _check_indexes(table: Table, col: _Collector) -> None:
    """``indexes``: columns of the table that are written; a unique index only over columns
    whose values are unique by the schema (otherwise creating it fails after loading)."""
    names = list(table.column_names)
    keys = {frozenset(table.primary_key)} | {frozenset(g) for g in table.unique} | \
        {frozenset((c.name,)) for c in table.columns if c.unique}
    for ix in table.indexes:
        cpath = ix.columns_path or ix.path
        if len(set(ix.columns)) != len(ix.columns):
            col.add(cpath, f"index {ix.name!r} names a column twice")
            continue
        bad = False
        for j, name in enumerate(ix.columns):
            p = cpath + (j,) if len(ix.columns) > 1 else cpath
            if not table.has_column(name):
                col.add(p, f"index {ix.name!r} names no column {name!r}", suggest(name, names))
                bad = True
            elif table.column(name).hidden:
                col.add(p, f"index {ix.name!r} names hidden column {name!r}, which is never written",
                        "index written columns only")
                bad = True
        if not bad and ix.unique and not any(k and k <= set(ix.columns) for k in keys):
            col.add(ix.path + ("unique",), f"unique index {ix.name!r} on {', '.join(ix.columns)}: the schema does not "
                    "make these values unique, so creating the index would fail",
                    f"declare them unique (unique: [[{', '.join(ix.columns)}]] or unique: true on the column), "
                    "or drop unique from the index")


#: the most items a list may hold in one row (``length.max``)
MAX_LIST_ITEMS = 1_000_000


def _check_nested(schema: Schema, table: Table, col: _Collector) -> None:
    """Struct and list columns: a struct has fields, a list items and a length; a field or an
    item is a value inside its row, so it cannot be a key, unique, hidden, a foreign key or
    corrupted on its own; ``present`` is for struct fields that are not also nullable; a list's
    items read no other column (their rows are element addresses); nothing reads a whole struct
    or list, nor a value inside a list."""
    roles: dict[str, str] = {k: "a primary key column" for k in table.primary_key}
    for group in table.unique:
        roles.update({k: "a column of a unique group" for k in group if k not in roles})
    if table.events is not None:
        for k in (table.events.time, table.events.key):
            if k is not None:
                roles.setdefault(k, "an events column")
    for c in table.columns:
        kind = c.dtype.kind
        if kind == "struct" and not c.fields:
            col.add(c.path + ("type",), f"the struct column {c.name!r} needs fields",
                    "add fields: [{name: ..., type: ..., generator: ...}, ...]")
        if kind == "list":
            if c.items is None:
                col.add(c.path + ("type",), f"the list column {c.name!r} needs items",
                        "add items: {type: ..., generator: ...}")
            if c.length is None:
                col.add(c.path + ("type",), f"the list column {c.name!r} needs a length",
                        "add length: {min: 0, max: 5} (or a fixed count, or a distribution within min and max)")
        if c.length is not None and c.length.max > MAX_LIST_ITEMS:
            col.add(c.length.path + (("max",) if c.length.distribution is not None or c.length.min != c.length.max
                                     else ()),
                    f"a list of up to {c.length.max:,} items is more than datagen keeps in one row",
                    f"at most {MAX_LIST_ITEMS:,} items")
        if c.length is not None and c.length.distribution is not None:
            gen = GENERATORS.get(c.length.distribution.type)
            if gen is not None and not gen.numeric_distribution:
                col.add(c.length.path + ("distribution", "type"),
                        f"{c.length.distribution.type!r} is not a numeric distribution: a list's length is a count",
                        "use e.g. poisson, uniform_int, zipf, histogram")
        if c.dtype.is_nested:
            for key in ("unique", "allowed"):
                if getattr(c, key):
                    col.add(c.path + (key,), f"{key} does not apply to a {kind} column",
                            "put constraints on its fields or items")
            if c.name in roles:
                col.add(c.path + ("type",), f"{roles[c.name]} cannot be a {kind} column")
            if c.corruption:
                col.add(c.path + ("corruption",), f"the dirty profile does not corrupt {kind} columns",
                        "remove corruption from this column")
        if c.present is not None and c.part_of is None:
            col.add(c.path + ("present",), "present applies to the fields of a struct column",
                    "use nullable and null_rate for a column of the table")
        if c.present is not None and c.nullable:
            col.add(c.path + ("nullable",), f"the field {c.name!r} is optional (present) and nullable: both would "
                    "be written as null (Parquet, CSV, SQLite)", "keep one: present (the key is left out in JSON) "
                    "or nullable with null_rate")
        if c.part_of is None:
            continue
        what = "inside a list's items" if c.in_list else "a field of a struct"
        if c.unique:
            col.add(c.path + ("unique",), f"{c.name!r} is {what}: it cannot be unique",
                    "uniqueness applies to a table's own columns")
        if c.hidden:
            col.add(c.path + ("hidden",), f"{c.name!r} is {what}: it cannot be hidden on its own",
                    "leave it out of the fields, or hide the whole column")
        if c.corruption:
            col.add(c.path + ("corruption",), f"{c.name!r} is {what}: the dirty profile does not corrupt it",
                    "remove corruption from this field")
        if c.references is not None:
            col.add(c.generator.path + ("type",), f"{c.name!r} is {what}: it cannot be a foreign key",
                    "make the foreign key a column of the table")
    for c in table.columns:
        gen = GENERATORS.get(c.generator.type)
        if gen is None or c.references is not None:
            continue
        try:
            refs = gen.references(c.generator.params)
        except Exception:  # noqa: BLE001 - params that do not parse: the generator's own check says so
            continue
        if refs and c.in_list:
            col.add(c.generator.path, f"{c.name!r} is inside a list's items, whose generators cannot read other "
                    f"columns (it reads {', '.join(map(repr, refs))})", "compute it from its own draws")
            continue
        for ref in refs:
            try:
                target = schema.resolve_ref(table, ref)
            except KeyError:
                continue  # reported by the generator's own check
            if target.dtype.is_nested:
                example = target.fields[0].name if target.fields else None
                col.add(c.generator.path, f"{ref!r} is a {target.dtype.kind} column: a generator reads plain "
                        "values", f"read one of its fields, e.g. {example}" if example else
                        "read a column of plain values")


def _check_hidden(schema: Schema, table: Table, col: _Collector) -> None:
    """A hidden column is computed and referenceable, never written: it cannot be what the
    output is keyed, ordered or linked by, and what would only change how it is written (nulls,
    corruption) would change nothing."""
    hidden = [c for c in table.columns if c.hidden]
    if not hidden:
        return
    if len(hidden) == len(table.columns):
        col.add(table.path + ("columns",), f"every column of table {table.name!r} is hidden: nothing would be written",
                "write at least one column")
    roles: dict[str, str] = {k: "a primary key column" for k in table.primary_key}
    for group in table.unique:
        if len(group) > 1:
            roles.update({k: "a column of a unique group" for k in group if k not in roles})
    if table.events is not None:
        ev = table.events
        for k, what in ((ev.time, "events.time"), (ev.key, "events.key"),
                        (ev.type if ev.type_is_column else None, "events.type")):
            if k is not None:
                roles.setdefault(k, f"the {what} column")
    owner = table.owner
    if owner is not None:
        roles.setdefault(owner.column, f"the owning foreign key (rows per {owner.parent!r})")
    for c in hidden:
        if c.name in roles:
            col.add(c.path + ("hidden",), f"{roles[c.name]} is written: {c.name!r} cannot be hidden")
        if c.null_rate > 0:
            col.add(c.path + ("null_rate",), "a hidden column is never written, so null_rate has no effect "
                    "(references read values before nulls)", "remove null_rate, or make the column visible")
        if c.corruption:
            col.add(c.path + ("corruption",), "a hidden column is never written, so its corruption has no effect",
                    "remove corruption, or make the column visible")
    for other in schema.tables:
        for ref in other.foreign_keys:
            if ref.parent == table.name and ref.parent_column is not None and table.has_column(ref.parent_column) and \
                    table.column(ref.parent_column).hidden and not other.column(ref.column).hidden:
                col.add(other.column(ref.column).generator.path, f"foreign key {other.name}.{ref.column} "
                        f"references {table.name}.{ref.parent_column}, which is hidden (never written)",
                        "reference a written key, or hide the foreign key too")


def _check_rows_per(schema: Schema, table: Table, col: _Collector) -> None:
    rp = table.rows
    assert isinstance(rp, RowsPer)
    rpath = table.path + ("rows",)
    if not schema.has_table(rp.per):
        col.add(rpath + ("per",), f"rows.per names no table {rp.per!r}", suggest(rp.per, schema.table_names))
    elif rp.per == table.name:
        col.add(rpath + ("per",), "a table cannot count its rows per its own rows")
    if rp.distribution is None and rp.total is None:
        col.add(rpath, "rows per a parent needs a distribution (each parent's count) or a total (spread over "
                "the parents)", f"write rows: {{per: {rp.per}, distribution: {{type: poisson, params: {{lam: 3}}}}}}"
                f" or rows: {{per: {rp.per}, total: 1000, min: 1}}")
    gen = None if rp.distribution is None else GENERATORS.get(rp.distribution.type)
    if rp.distribution is None:
        pass
    elif gen is not None and gen.chooses_by_column:
        if schema.has_table(rp.per) and rp.per != table.name:
            _check_count_switch(schema, table, col)
    elif gen is not None and not gen.numeric_distribution:
        col.add(rpath + ("distribution", "type"), f"{rp.distribution.type!r} is not a numeric distribution",
                "use e.g. poisson, uniform_int, zipf, histogram, or a switch on a column of the parent")
    if rp.max is not None and rp.max < rp.min:
        col.add(rpath + ("max",), f"rows.max {rp.max} is less than rows.min {rp.min}")
    owner = table.owner
    if rp.via is not None and schema.has_table(rp.per) and owner is None:
        fks = [c.name for c in table.columns if c.references is not None and c.references.parent == rp.per]
        col.add(rpath + ("via",), f"rows.via {rp.via!r} is not a foreign key of {table.name!r} to {rp.per!r}",
                f"name one of: {', '.join(fks)}" if fks else
                f"add a column {rp.via!r} with generator {{type: fk, params: {{table: {rp.per}, column: ...}}}}")
    elif schema.has_table(rp.per) and owner is None:
        col.add(rpath + ("per",), f"table {table.name!r} counts rows per {rp.per!r} but has no fk column to it",
                f"add a column with generator {{type: fk, params: {{table: {rp.per}, column: ...}}}}")
    elif owner is not None and owner.nullable:
        col.add(table.column(owner.column).path + ("nullable",), f"{owner.column!r} is the owning foreign key "
                f"of a per-parent table (rows per {rp.per!r}), so every row has its parent: it cannot be nullable",
                "remove nullable and null_rate from this column")


def _check_count_switch(schema: Schema, table: Table, col: _Collector) -> None:
    """``rows.distribution: {type: switch, params: {on: PARENT_COLUMN, cases: …}}``: the count of a
    parent's children drawn by the case of the parent's ``on`` value. ``on`` names a column of the
    parent (or ``fk.col`` through the parent's foreign key); every case is a numeric distribution,
    checked as a float count."""
    rp = table.rows
    assert isinstance(rp, RowsPer) and rp.distribution is not None
    dpath = table.path + ("rows", "distribution")
    params = rp.distribution.params
    specs: list[tuple[tuple[str, ...], Any]] = [(("cases", k), v) for k, v in params["cases"].items()]
    if "default" in params:
        specs.append((("default",), params["default"]))
    for key, raw in specs:
        name = raw if isinstance(raw, str) else raw.get("type")
        sub = GENERATORS.get(name)
        if sub is not None and not sub.numeric_distribution:
            col.add(dpath + ("params", *key, "type"), f"{name!r} is not a numeric distribution: a case of a "
                    f"per-parent count draws each parent's number of children", "use e.g. poisson, uniform_int")
            return
    count = Column(name="__rows__", dtype=parse_type("float64"), generator=rp.distribution, path=dpath)
    parent = schema.table(rp.per)
    try:
        found = GENERATORS[rp.distribution.type].check(count, parent, schema)
    except Exception as exc:  # noqa: BLE001 - a plugin bug must not hide the user's other problems
        found = [(f"generator check failed: {exc}", "", None)]
    for message, sub_path, hint in found:
        if sub_path == "params.on":
            message += f" (rows.distribution runs over the rows of {rp.per!r}: on names a column of {rp.per!r})"
        subpath = tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", sub_path) if p) if sub_path else ()
        col.add(dpath + subpath, message, hint)


def _check_rows_of(schema: Schema, table: Table, col: _Collector) -> None:
    """``rows: {of, coverage}`` needs the table it names and a one-to-one key to it (a ``unique``
    fk, or the single-column primary key), which is what the coverage covers."""
    ro = table.rows
    assert isinstance(ro, RowsOf)
    opath = table.path + ("rows", "of")
    if not schema.has_table(ro.of):
        col.add(opath, f"rows.of names no table {ro.of!r}", suggest(ro.of, schema.table_names))
        return
    if ro.of == table.name:
        col.add(opath, "a table cannot take its rows as a share of its own rows")
        return
    one_to_one = [r for r in table.foreign_keys if r.parent == ro.of and (
        table.column(r.column).unique or table.primary_key == (r.column,))]
    if not one_to_one:
        col.add(opath, f"rows.coverage gives {table.name!r} rows for a share of the rows of {ro.of!r}, but no "
                f"unique fk column points at {ro.of!r}",
                f"add a column with unique: true and generator {{type: fk, params: {{table: {ro.of}}}}}")


def _check_column(schema: Schema, table: Table, c: Column, col: _Collector) -> None:
    gen = GENERATORS.get(c.generator.type)
    gpath = c.generator.path
    if gen is None:  # already reported by the JSON Schema
        return
    if c.dtype.kind not in gen.kinds:
        col.add(gpath + ("type",), f"generator {gen.name!r} cannot produce type {c.dtype.name}",
                f"{gen.name} produces: {', '.join(sorted(gen.kinds))}")
    else:
        try:
            found = gen.check(c, table, schema)
        except Exception as exc:  # a plugin bug must not hide the user's other problems
            found = [(f"generator check failed: {exc}", "", None)]
        for message, sub, hint in found:
            subpath = tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", sub) if p) if sub else ()
            col.add(gpath + subpath, message, hint)
    if not c.nullable and "null_rate" in _present(c) and c.null_rate > 0:
        col.add(c.path + ("null_rate",), f"null_rate {c.null_rate} on a column that is not nullable",
                "add nullable: true, or remove null_rate")
    for key in ("min", "max"):
        if getattr(c, "raw_" + key) is not None and not c.dtype.is_ordered:
            col.add(c.path + (key,), f"{key} does not apply to a {c.dtype.name} column")
    if c.min is not None and c.max is not None and c.dtype.is_ordered and c.min > c.max:
        col.add(c.path + ("max",), f"max {c.raw_max!r} is less than min {c.raw_min!r}")
    if c.dtype.kind == "int" and c.dtype.is_ordered:
        lo, hi = c.dtype.int_bounds()
        for key in ("min", "max"):
            v = getattr(c, key)
            if v is not None and not lo <= v <= hi:
                col.add(c.path + (key,), f"{key} {v} is outside the range of {c.dtype.name} ({lo}..{hi})")
    type_range = c.dtype.exact_range()
    if c.allowed is not None and type_range is not None:
        for i, v in enumerate(c.allowed):
            if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            problem = _outside_type(c.dtype, v, type_range)
            if problem:
                col.add(c.path + ("allowed", i), f"allowed value {problem}",
                        "every allowed value must be one the column's type can hold")
    if c.max_length is not None and c.dtype.kind != "string":
        col.add(c.path + ("max_length",), f"max_length does not apply to a {c.dtype.name} column")
    if c.pattern is not None:
        if c.dtype.kind not in ("string", "uuid"):
            col.add(c.path + ("pattern",), f"pattern does not apply to a {c.dtype.name} column")
        try:
            with warnings.catch_warnings():  # "possible nested set" and the like: not the user's concern here
                warnings.simplefilter("ignore", FutureWarning)
                re.compile(c.pattern)
        except re.error as exc:
            col.add(c.path + ("pattern",), f"pattern does not compile: {exc}")
    if c.allowed is not None and c.dtype.kind in ("string", "uuid"):
        for i, v in enumerate(c.allowed):
            if not isinstance(v, str):
                col.add(c.path + ("allowed", i), f"allowed value {v!r} is not a string",
                        "quote it in YAML ('yes', '1')")
    if c.dtype.kind == "bool" and c.allowed is not None:
        for i, v in enumerate(c.allowed):
            if not isinstance(v, bool):
                col.add(c.path + ("allowed", i), f"allowed value {v!r} is not a boolean",
                        "write true or false (yes, no, on and off are strings in YAML 1.2)")


def _outside_type(dtype, v, type_range) -> str | None:
    """Why ``v`` (engine units) cannot be a value of ``dtype``, or None."""
    lo, hi = type_range
    if dtype.kind == "decimal":
        if not math.isfinite(v):
            return f"{v} is not a number a {dtype.name} column can hold"
        with decimal.localcontext() as dctx:
            dctx.prec = 400
            exact = decimal.Decimal(repr(float(v)))
            exponent = exact.normalize().as_tuple().exponent
            if isinstance(exponent, int) and -exponent > dtype.scale:
                return f"{v} has more than {dtype.scale} decimal places, which {dtype.name} keeps"
            if not lo <= Fraction(exact) <= hi:
                bound = decimal.Decimal(f"{10**dtype.precision - 1}E-{dtype.scale}")
                return f"{exact.normalize():f} is outside the range of {dtype.name} (±{bound:f})"
        return None
    if not lo <= v <= hi:
        shown = {"date": "0001-01-01..9999-12-31", "timestamp": "years 1 to 9999"}.get(dtype.kind, f"{lo}..{hi}")
        return f"{v} is outside the range of {dtype.name} ({shown})"
    return None


def _present(c: Column) -> set[str]:
    return {"null_rate"} if c.null_rate else set()


def _check_cycles(schema: Schema, col: _Collector) -> None:
    """Tables depend on the tables their fk columns and rows.per name; a cycle is an error."""
    deps: dict[str, set[str]] = {t.name: set() for t in schema.tables}
    where: dict[tuple[str, str], tuple] = {}
    for t in schema.tables:
        for ref in t.foreign_keys:
            if ref.parent in deps and not ref.self_reference:
                deps[t.name].add(ref.parent)
                where.setdefault((t.name, ref.parent), ref.path + ("params", "table"))
        if isinstance(t.rows, RowsPer) and t.rows.per in deps and t.rows.per != t.name:
            deps[t.name].add(t.rows.per)
            where.setdefault((t.name, t.rows.per), t.path + ("rows", "per"))
        if isinstance(t.rows, RowsOf) and t.rows.of in deps and t.rows.of != t.name:
            deps[t.name].add(t.rows.of)
            where.setdefault((t.name, t.rows.of), t.path + ("rows", "of"))
    state: dict[str, int] = {}
    stack: list[str] = []
    reported: set[frozenset] = set()

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(deps[n]):
            if state.get(m) == 1:
                cycle = stack[stack.index(m):] + [m]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    col.add(where[(n, m)], "foreign keys form a cycle: " + " → ".join(cycle),
                            "make one of these foreign keys point the other way, or use a self-reference")
            elif state.get(m) is None:
                visit(m)
        stack.pop()
        state[n] = 2

    for name in deps:
        if name not in state:
            visit(name)


# --- entry point --------------------------------------------------------------------------------


def load_schema(path: str, data: bytes | None = None, *, anchor: str | None = None) -> Schema:
    """Load, validate and type a schema file. Raises SchemaError with every problem found.

    ``anchor`` (``--anchor``) replaces the schema's anchor: an ISO instant, or ``now``."""
    load_builtins()
    path = str(path)
    doc, lines, raw = read_document(path, data)
    col = _Collector(path, lines)
    if not isinstance(doc, dict):
        col.add((), f"the schema must be a mapping at the top level, got {_kind(doc)}",
                "start from schemas/examples/default.yaml")
        col.raise_if_any("in the schema")
    anchor_from = _resolve_anchor(doc, anchor)
    _cut_type_problems(doc, col)
    col.raise_if_any("in the schema")
    _nonfinite_problems(doc, col)
    _json_schema_problems(doc, col)
    col.raise_if_any("in the schema")
    _fill_default_generators(doc, col)
    _missing_params_problems(doc, col)
    _param_range_problems(doc, col)
    col.raise_if_any("in the schema")
    source = Source(path=path, sha256=hashlib.sha256(raw).hexdigest(), lines=lines, raw=raw)
    schema = _build(doc, col, source)
    col.raise_if_any("in the schema")
    _semantic(schema, col)
    col.raise_if_any("in the schema")
    schema = _with_files(schema)
    return dataclasses.replace(schema, anchor_from=anchor_from) if anchor_from != "schema" else schema


def _with_files(schema: Schema) -> Schema:
    """The schema whose ``source.sha256`` also covers the files its generators read (a learned
    model: ``Generator.files``): the SHA-256 of the bytes read, then of each file's name and
    digest, sorted — a changed model is a changed fingerprint. Without such files it stays the
    SHA-256 of the bytes."""
    named = sorted({f for t in schema.tables for c in t.columns
                    for f in GENERATORS[c.generator.type].files(c.generator.params)})
    if not named:
        return schema
    files = tuple((f, file_sha256(schema_file(schema, f))) for f in named)
    h = hashlib.sha256(schema.source.raw)
    for name, digest in files:
        h.update(f"\0file\0{name}\0{digest}".encode())
    return dataclasses.replace(schema, source=dataclasses.replace(schema.source, sha256=h.hexdigest(), files=files))
