"""Typed configuration objects: the schema DSL as Python objects, its twin.

A ``Schema`` holds a DSL document — the same mapping a YAML or JSON file holds — behind typed
objects: ``Table``, ``Column``, ``RowsPer``, ``RowsOf``, ``Events``, ``Index`` and generators
made by ``datagen.gen`` (``gen.normal(mean=40, std=12)``, ``gen.fk("customers",
skew=gen.zipf(1.2))``). There is one definition of the DSL: the keys each object takes come from
the JSON Schema (``shared.schema_dsl.jsonschema_doc``), the parameters of each generator from its
registered ``params_schema``, and ``validate()`` runs the very loader and planner a file goes
through, so a document and the objects built from it are accepted or refused alike, with the
same messages at the same paths.

Objects are immutable: ``override(**changes)`` and ``replace(**changes)`` return new ones.
``to_dict()`` gives the document back exactly as it was given (``from_dict(d).to_dict() == d``),
so YAML → objects → YAML is lossless.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import json
import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from shared.errors import DatagenError, PlanError, SchemaError, UsageError

#: removes a table, a column or a key in ``override``
DELETE = None


class ConfigValidationError(SchemaError):
    """Every problem of a configuration at once: ``errors`` is a list of ``{path, message,
    value, hint}`` (``value``: what the document holds at ``path``, or None). A ``SchemaError``,
    so the command line treats it like a bad schema file (exit 2)."""

    def __init__(self, message: str, errors: list[dict[str, Any]], problems=()):
        super().__init__(message, problems)
        self.errors = errors


@cache
def _document_schema() -> dict:
    from shared.schema_dsl import jsonschema_doc

    return jsonschema_doc.build()


def _keys(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every key, the required ones) of a DSL object, from the JSON Schema."""
    doc = _document_schema()
    defs = doc["$defs"]
    spec = {
        "Schema": doc,
        "Table": defs["table"],
        "Column": defs["column"],
        "RowsPer": defs["rows_per"],
        "RowsOf": defs["rows_of"],
        "Events": defs["table"]["properties"]["events"],
        "Index": next(a for a in defs["table"]["properties"]["indexes"]["items"]["anyOf"] if a.get("type") == "object"),
    }[kind]
    return tuple(spec.get("properties", {})), tuple(spec.get("required", ()))


def _plain(value: Any) -> Any:
    """A value with every config object inside replaced by its document."""
    if isinstance(value, Node):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _suggest(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Node:
    """A DSL object: a mapping of the document's keys, typed where the DSL nests objects."""

    _kind = ""

    def __init__(self, **values: Any):
        keys, _ = _keys(self._kind)
        for k in values:
            if k not in keys:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword {k!r}{_suggest(k, keys)}; "
                                f"keys: {', '.join(keys)}")
        doc = {k: _wrap_value(self._kind, k, v) for k, v in values.items() if v is not None}
        object.__setattr__(self, "_doc", doc)

    @classmethod
    def _of(cls, doc: Any) -> Any:
        """Wrap a document as it is (unknown keys and wrong values included: ``validate`` says)."""
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_doc", {k: _wrap_value(cls._kind, k, v) for k, v in doc.items()})
        return obj

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        keys, _ = _keys(self._kind)
        if key in self._doc:
            return self._doc[key]
        if key in keys:
            return None
        raise AttributeError(f"{type(self).__name__} has no key {key!r}{_suggest(key, keys)}")

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: use .replace({key}=...) or override()")

    def __getitem__(self, key: str) -> Any:
        return self._doc[key]

    def __contains__(self, key: object) -> bool:
        return key in self._doc

    def keys(self):
        return self._doc.keys()

    def to_dict(self) -> dict[str, Any]:
        """The document: plain dicts, lists and scalars, exactly as given."""
        return {k: _plain(v) for k, v in self._doc.items()}

    def replace(self, **changes: Any):
        """A copy with ``changes`` set (a value of None removes the key)."""
        doc = {**self.to_dict(), **{k: _plain(v) for k, v in changes.items()}}
        return type(self).from_dict({k: v for k, v in doc.items() if v is not None})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__}.from_dict takes a mapping, not {type(data).__name__}")
        return cls._of(copy.deepcopy(dict(data)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and type(other) is type(self) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True, default=str))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._doc.items())
        return f"{type(self).__name__}({inner})"


class Generator(Node):
    """A column's generator: a registered name and its parameters (``datagen.gen.NAME(...)``)."""

    _kind = "Generator"

    def __init__(self, type: str, params: Mapping[str, Any] | None = None):  # noqa: A002 - the DSL's key
        doc: dict[str, Any] = {"type": type}
        if params:
            doc["params"] = {k: v for k, v in params.items() if v is not None}
        object.__setattr__(self, "_doc", doc)
        object.__setattr__(self, "_bare", False)

    @classmethod
    def _of(cls, doc):
        if isinstance(doc, str):  # `generator: sequence`
            obj = cls.__new__(cls)
            object.__setattr__(obj, "_doc", {"type": doc})
            object.__setattr__(obj, "_bare", True)
            return obj
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_doc", dict(doc))
        object.__setattr__(obj, "_bare", False)
        return obj

    @classmethod
    def from_dict(cls, data):
        return cls._of(copy.deepcopy(data if isinstance(data, str) else dict(data)))

    def __getattr__(self, key: str) -> Any:
        if key in ("type", "params"):
            return self._doc.get(key, {} if key == "params" else None)
        raise AttributeError(key)

    def to_dict(self) -> Any:
        if self._bare:
            return self._doc["type"]
        return {k: _plain(v) for k, v in self._doc.items()}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in (self._doc.get("params") or {}).items()) \
            if isinstance(self._doc.get("params"), Mapping) else repr(self._doc.get("params"))
        return f"gen.{self._doc.get('type')}({params})"


class Column(Node):
    """A column: ``Column(name="age", type="int32", generator=gen.normal(40, 12), min=18)``."""

    _kind = "Column"


class RowsPer(Node):
    """Rows per parent row: ``RowsPer(per="orders", distribution=gen.poisson(2), min=1)``."""

    _kind = "RowsPer"


class RowsOf(Node):
    """A share of another table's rows (one-to-one): ``RowsOf(of="users", coverage=0.8)``."""

    _kind = "RowsOf"


class Events(Node):
    """An event table: ``Events(time="at", key="device_id", late_rate=0.01)``."""

    _kind = "Events"


class Index(Node):
    """An index database targets create: ``Index(columns=["a", "b"], unique=True)``."""

    _kind = "Index"


class Table(Node):
    """A table: ``Table(name="orders", rows=5000, columns=[Column(...), ...])``."""

    _kind = "Table"

    def column(self, name: str) -> Column:
        for c in self._doc.get("columns") or ():
            if isinstance(c, Column) and c._doc.get("name") == name:
                return c
        raise KeyError(f"table {self._doc.get('name')!r} has no column {name!r}")


class _SchemaMeta(type):
    def __instancecheck__(cls, obj: object) -> bool:
        # a schema loaded by datagen.load_schema (the validated model) counts as a Schema too
        from shared.model.schema import Schema as Model

        return type.__instancecheck__(cls, obj) or isinstance(obj, Model)


class Schema(Node, metaclass=_SchemaMeta):
    """A whole dataset description. ``Schema(name="shop", tables=[...])`` (``version`` defaults to
    1), or ``Schema.load(path)`` / ``from_yaml`` / ``from_json`` / ``from_dict``."""

    _kind = "Schema"

    def __init__(self, **values: Any):
        super().__init__(**{"version": values.pop("version", 1), **values})

    # --- reading and writing ------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike) -> Schema:
        """A schema file (YAML or JSON) as objects; unreadable or malformed text raises the
        ``SchemaError`` the command line shows."""
        from shared.schema_dsl.source import read_document

        data, _, _ = read_document(os.fspath(path))
        obj = cls.from_dict(data) if isinstance(data, Mapping) else cls._of({"tables": data})
        object.__setattr__(obj, "_label", os.fspath(path))
        return obj

    @classmethod
    def from_yaml(cls, text: str, *, name: str = "<yaml>") -> Schema:
        from shared.schema_dsl.source import read_document

        label = name if name.endswith((".yaml", ".yml")) else name + ".yaml"
        data, _, _ = read_document(label, text.encode("utf-8"))
        return cls.from_dict(data) if isinstance(data, Mapping) else cls._of({"tables": data})

    @classmethod
    def from_json(cls, text: str, *, name: str = "<json>") -> Schema:
        from shared.schema_dsl.source import read_document

        label = name if name.endswith(".json") else name + ".json"
        data, _, _ = read_document(label, text.encode("utf-8"))
        return cls.from_dict(data) if isinstance(data, Mapping) else cls._of({"tables": data})

    def to_yaml(self) -> str:
        """YAML that datagen reads back as this very document."""
        import yaml

        return yaml.dump(self.to_dict(), Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=120)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"

    def table(self, name: str) -> Table:
        for t in self._doc.get("tables") or ():
            if isinstance(t, Table) and t._doc.get("name") == name:
                return t
        raise KeyError(f"schema has no table {name!r}")

    # --- changing -----------------------------------------------------------------------------

    def override(self, **changes: Any) -> Schema:
        """A new schema: ``changes`` deep-merged into this one, which stays as it was. Tables and
        columns are addressed by name — ``override(tables={"orders": {"rows": 5000, "columns":
        {"note": None, "amount": {"max": 900}}}})`` — a name not there adds it (a full table or
        column), ``None`` removes it; a list replaces what was there; any other mapping merges
        key by key, ``None`` removing a key — except a ``generator`` (or a per-parent
        ``distribution``), which is replaced whole."""
        doc = self.to_dict()
        merged = _merge(doc, {k: _plain(v) for k, v in changes.items()}, ("tables",), ())
        return type(self).from_dict(merged)

    # --- modifiers (they compose: each returns a new schema) ---------------------------------

    def with_dirty(self, rate: float = 0.01) -> Schema:
        """The dirty profile, every corruption kind that is on by default at ``rate`` (0: the
        realistic profile again, without corruption rates)."""
        from shared.corruption import DEFAULT_RATES

        rate = _rate("with_dirty", rate)
        if rate == 0:
            return self.override(profile="realistic", corruption=None)
        return self.override(profile="dirty", corruption={k: rate for k, v in DEFAULT_RATES.items() if v > 0})

    def with_locale(self, locale: str) -> Schema:
        """Faker values from ``locale`` (``de_DE``, ``ja_JP`` …)."""
        return self.override(locale=locale)

    def with_scale(self, factor: float) -> Schema:
        """Every fixed row count and per-parent total times ``factor`` (at least 1 row each)."""
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor > 0:
            raise UsageError(f"with_scale({factor!r}): a factor above 0")
        tables: dict[str, Any] = {}
        for t in self._doc.get("tables") or ():
            if not isinstance(t, Table):
                continue
            rows = t.rows
            if isinstance(rows, int) and not isinstance(rows, bool):
                tables[t.name] = {"rows": max(1, round(rows * factor))}
            elif isinstance(rows, RowsPer) and isinstance(rows.total, int):
                tables[t.name] = {"rows": {"total": max(1, round(rows.total * factor))}}
        return self.override(tables=tables) if tables else self

    def with_anomalies(self, rate: float = 0.01) -> Schema:
        """Labelled anomalies in ``rate`` of the rows of every table that declares ``anomalies``."""
        rate = _rate("with_anomalies", rate)
        tables = {t.name: {"anomalies": {"rate": rate}} for t in self._doc.get("tables") or ()
                  if isinstance(t, Table) and "anomalies" in t}
        if not tables:
            raise UsageError(f"with_anomalies: schema {self._doc.get('name')!r} has no table with anomalies")
        return self.override(tables=tables)

    def with_streaming(self, events_per_second: float) -> Schema:
        """The rate ``datagen.stream`` delivers this schema's events at unless told otherwise."""
        if isinstance(events_per_second, bool) or not isinstance(events_per_second, (int, float)) \
                or not events_per_second > 0:
            raise UsageError(f"with_streaming({events_per_second!r}): events per second, above 0")
        if not any(isinstance(t, Table) and t.events is not None for t in self._doc.get("tables") or ()):
            raise UsageError(f"with_streaming: schema {self._doc.get('name')!r} has no event table")
        return self.override(stream={"events_per_second": events_per_second})

    # --- checking -----------------------------------------------------------------------------

    def validate(self, *, plan: bool = True) -> Schema:
        """Check the whole document as a file is checked — JSON Schema, types, references, and
        (``plan``) the planner's feasibility analysis; returns ``self`` or raises
        ``ConfigValidationError`` listing every problem with its path and value."""
        self.load_model(plan=plan)
        return self

    def load_model(self, *, plan: bool = False):
        """The validated model the engine runs (``shared.model.schema.Schema``)."""
        from shared import api as _lib

        label = getattr(self, "_label", None) or f"<{self._doc.get('name') or 'schema'}>"
        doc = self.to_dict()
        try:
            model = load_document(doc, label)
            if plan:
                _lib.resolve_plan(model)
        except (SchemaError, PlanError) as exc:  # InfeasibleSchema is a PlanError
            raise _config_error(exc, doc, label) from None
        return model


def load_document(doc: Mapping[str, Any], label: str, anchor: str | None = None):
    """A schema document (a dict) loaded as a file of JSON text would be — the one path for
    dicts and objects, so both get the messages a file gets."""
    from shared.errors import UsageError
    from shared.schema_dsl.loader import load_schema

    try:
        data = json.dumps(doc, indent=1, allow_nan=True).encode()
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{label}: a schema dict must hold only JSON values: {exc}") from None
    return load_schema(label if label.endswith(".json") else label + ".json", data, anchor=anchor)


@cache
def _dumper():
    """PyYAML's safe dumper, quoting every string datagen's YAML 1.2 reader would take for
    something else (``1e3``, ``0o7``) and escaping the line breaks YAML 1.1 knows (NEL, LS, PS)."""
    import yaml

    from shared.schema_dsl.source import _Loader

    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper, data: str):
        if any(ch in data for ch in "\x85\u2028\u2029"):
            style: str | None = '"'
        elif _Loader.resolve(_Loader, yaml.ScalarNode, data, (True, False)) != "tag:yaml.org,2002:str":
            style = "'"
        else:
            style = None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    Dumper.add_representer(str, represent_str)
    return Dumper


#: keys whose value ``override`` replaces whole instead of merging
_ATOMIC = ("generator", "distribution")


def _merge(base: Any, change: Any, named: tuple[str, ...], path: tuple) -> Any:  # noqa: C901
    """Deep merge for ``override`` (see there); ``named``: the keys holding lists of named items."""
    if isinstance(base, list) and isinstance(change, Mapping) and path and path[-1] in ("tables", "columns"):
        out: list[Any] = list(base)
        index = {item.get("name"): i for i, item in enumerate(out) if isinstance(item, Mapping)}
        for name, sub in change.items():
            if name in index:
                i = index[name]
                if sub is None:
                    out[i] = None
                else:
                    out[i] = _merge(out[i], sub, named, path + (name,))
            elif sub is not None:
                item = dict(sub)
                item.setdefault("name", name)
                out.append(item)
        return [x for x in out if x is not None]
    if path and path[-1] in _ATOMIC:
        return change  # a generator is replaced whole: another's parameters mean nothing to it
    if isinstance(base, Mapping) and isinstance(change, Mapping):
        merged = dict(base)
        for k, v in change.items():
            if v is None:
                merged.pop(k, None)
            elif k in merged:
                merged[k] = _merge(merged[k], v, named, path + (k,))
            else:
                merged[k] = v
        return merged
    return change


def _rate(what: str, rate: Any) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise UsageError(f"{what}({rate!r}): a rate between 0 and 1")
    return float(rate)


def _at(doc: Any, path: str) -> Any:
    """The value at a problem's path (``tables[1].columns[0].type``), or None."""
    import re

    cur = doc
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        try:
            cur = cur[int(index)] if index else cur[name]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


def _config_error(exc: DatagenError, doc: dict, label: str) -> ConfigValidationError:
    import dataclasses

    # the lines are those of a JSON rendering of the objects: no place a user wrote
    problems = [dataclasses.replace(p, file=label, line=None, column=None) for p in exc.problems]
    errors = [{"path": p.path, "message": p.message, "value": _at(doc, p.path) if p.path else None, "hint": p.hint}
              for p in problems]
    if not errors:
        errors = [{"path": "", "message": str(exc), "value": None, "hint": None}]
    n = len(errors)
    head = f"the configuration has {n} problem{'s' if n != 1 else ''}"
    return ConfigValidationError(head, errors, problems)


# --- how documents become objects -------------------------------------------------------------


def _wrap_value(kind: str, key: str, value: Any) -> Any:
    """The typed object for a key of a DSL object, where the value has the expected shape;
    anything else is kept as it is (``validate`` reports it)."""
    if isinstance(value, Node):
        return value
    if kind == "Schema" and key == "tables" and isinstance(value, list):
        return [Table._of(v) if isinstance(v, Mapping) else v for v in value]
    if kind == "Table":
        if key == "columns" and isinstance(value, list):
            return [Column._of(v) if isinstance(v, Mapping) else v for v in value]
        if key == "rows" and isinstance(value, Mapping):
            return RowsOf._of(value) if "of" in value else RowsPer._of(value)
        if key == "events" and isinstance(value, Mapping):
            return Events._of(value)
        if key == "indexes" and isinstance(value, list):
            return [Index._of(v) if isinstance(v, Mapping) else v for v in value]
    if key in ("generator", "distribution") and kind in ("Column", "RowsPer") and \
            (isinstance(value, str) or (isinstance(value, Mapping) and "type" in value)):
        return Generator._of(value)
    if isinstance(value, (list, tuple)) and not isinstance(value, list):
        return list(value)
    return value


# --- datagen.gen ------------------------------------------------------------------------------


def generator_names() -> list[str]:
    from shared.distributions.base import GENERATORS, load_builtins
    from shared.plugins import load_plugins

    load_builtins()
    load_plugins()
    return sorted(GENERATORS)


def make_constructor(name: str):
    """``gen.NAME(...)``: positional or keyword parameters in the order the generator's
    ``params_schema`` lists them; a parameter left out (or None) is left out of the document."""
    from shared.distributions.base import GENERATORS

    generator = GENERATORS[name]
    props = list((generator.params_schema or {}).get("properties", {}))
    required = set((generator.params_schema or {}).get("required", ()))

    def construct(*args: Any, **kwargs: Any) -> Generator:
        if len(args) > len(props):
            raise TypeError(f"gen.{name}() takes at most {len(props)} positional parameter(s) "
                            f"({', '.join(props) or 'none'}), {len(args)} given")
        params = dict(zip(props, args, strict=False))
        for k, v in kwargs.items():
            if k not in props:
                raise TypeError(f"gen.{name}() got an unexpected parameter {k!r}{_suggest(k, props)}; "
                                f"parameters: {', '.join(props) or 'none'}")
            if k in params:
                raise TypeError(f"gen.{name}() got parameter {k!r} twice")
            params[k] = v
        return Generator(name, {k: v for k, v in params.items() if v is not None})

    construct.__name__ = name
    construct.__qualname__ = f"gen.{name}"
    construct.__doc__ = (generator.__doc__ or "").strip() or f"The {name} generator."
    construct.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=inspect.Parameter.empty if p in required else None) for p in props])
    return construct
