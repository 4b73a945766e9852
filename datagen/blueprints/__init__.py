"""Blueprints: named scenarios — a Python function with keyword parameters that returns an
ordinary ``datagen.Schema`` (exportable to YAML that the command line runs identically).

    >>> from datagen import blueprints
    >>> [b["name"] for b in blueprints.list()][:2]
    ['banking_medium', 'ecommerce']
    >>> shop = blueprints.ecommerce(customers=500, locale="de_DE")
    >>> shop = blueprints.with_dirty(shop, 0.02)           # or shop.with_dirty(0.02)

A blueprint is one file in ``datagen/blueprints/catalog/``: a function decorated with ``@blueprint("one-line
description")``, taking only keyword parameters with defaults (their annotations say how
``--param key=value`` text is read). ``list()`` gives each blueprint's name, description and
parameters; ``get(name)`` the blueprint; ``blueprints.NAME(**params)`` calls it.

Modifiers compose with any schema: ``with_dirty(schema, rate)``, ``with_locale(schema,
locale)``, ``with_scale(schema, factor)``, ``with_anomalies(schema, rate)``,
``with_streaming(schema, events_per_second)`` — each returns a new schema (also as methods of
``Schema``).
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Callable
from typing import Any

from datagen.config import Schema
from shared.errors import UsageError
from shared.registry import Registry, did_you_mean, import_submodules

__all__ = ["Blueprint", "blueprint", "list", "get", "names", "parse_params", "with_dirty", "with_locale",
           "with_scale", "with_anomalies", "with_streaming"]


class Blueprint:
    """A registered blueprint: call it with keyword parameters for its schema."""

    def __init__(self, name: str, description: str, func: Callable[..., Schema]):
        self.name, self.description, self.func = name, description, func
        self.signature = inspect.signature(func)
        for p in self.signature.parameters.values():
            if p.kind is not inspect.Parameter.KEYWORD_ONLY or p.default is inspect.Parameter.empty:
                raise TypeError(f"blueprint {name}: parameter {p.name!r} must be keyword-only with a default")
        self.__doc__ = func.__doc__

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        """Each parameter: its default and type name."""
        return {p.name: {"default": p.default, "type": _type_name(p)} for p in self.signature.parameters.values()}

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description,
                "parameters": [{"name": k, **v} for k, v in self.parameters.items()]}

    def __call__(self, **params: Any) -> Schema:
        known = builtins.list(self.signature.parameters)
        for k in params:
            if k not in known:
                hint = did_you_mean(k, known)
                raise UsageError(f"blueprint {self.name}: unknown parameter {k!r}"
                                 + (f" ({hint})" if hint else "") + f"; parameters: {', '.join(known)}")
        schema = self.func(**params)
        if not isinstance(schema, Schema) or isinstance(schema, _model_class()):
            raise TypeError(f"blueprint {self.name} returned {type(schema).__name__}, not a datagen.Schema")
        return schema

    def __repr__(self) -> str:
        return f"<blueprint {self.name}{self.signature}>"


def _model_class():
    from shared.model.schema import Schema as Model

    return Model


def _type_name(p: inspect.Parameter) -> str:
    ann = p.annotation
    if isinstance(ann, str):
        return ann
    if ann is inspect.Parameter.empty:
        return type(p.default).__name__
    return getattr(ann, "__name__", str(ann))


BLUEPRINTS: Registry[Blueprint] = Registry("blueprint")


def blueprint(description: str, name: str | None = None):
    """Register the decorated function as a blueprint (named after the function)."""

    def deco(func: Callable[..., Schema]) -> Blueprint:
        bp = Blueprint(name or func.__name__, description, func)
        BLUEPRINTS.add(bp.name, bp)
        return bp

    return deco


def _load() -> None:
    import_submodules("datagen.blueprints.catalog")


def names() -> builtins.list[str]:
    _load()
    return sorted(BLUEPRINTS)


def list() -> builtins.list[dict[str, Any]]:  # noqa: A001 - the API's name
    """Every blueprint: name, one-line description and parameters (name, default, type)."""
    return [BLUEPRINTS[n].info() for n in names()]


def __getattr__(name: str) -> Blueprint:
    """``blueprints.NAME``: the blueprint of that name."""
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return get(name)
    except UsageError as exc:
        raise AttributeError(str(exc)) from None


def get(name: str) -> Blueprint:
    _load()
    if name not in BLUEPRINTS:
        hint = did_you_mean(name, sorted(BLUEPRINTS))
        raise UsageError(f"unknown blueprint {name!r}" + (f" ({hint})" if hint else "")
                         + f"; blueprints: {', '.join(sorted(BLUEPRINTS))}")
    return BLUEPRINTS[name]


def parse_params(bp: Blueprint, items: builtins.list[str] | None) -> dict[str, Any]:
    """``--param key=value`` strings → keyword arguments, read by each parameter's type."""
    out: dict[str, Any] = {}
    params = bp.signature.parameters
    for item in items or ():
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UsageError(f"--param {item!r}: expected KEY=VALUE")
        if key not in params:
            hint = did_you_mean(key, builtins.list(params))
            raise UsageError(f"--param {key}: blueprint {bp.name} has no parameter {key!r}"
                             + (f" ({hint})" if hint else "") + f"; parameters: {', '.join(params)}")
        kind = _type_name(params[key])
        try:
            if kind == "int":
                value: Any = int(text.replace("_", ""))
            elif kind == "float":
                value = float(text)
            elif kind == "bool":
                if text.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(text)
                value = text.strip().lower() in ("true", "1", "yes")
            else:
                value = text
        except ValueError:
            raise UsageError(f"--param {key}={text}: not a {kind}") from None
        out[key] = value
    return out


# --- modifiers ------------------------------------------------------------------------------


def with_dirty(schema: Schema, rate: float = 0.01) -> Schema:
    """``schema.with_dirty(rate)``: the dirty profile, each default corruption kind at ``rate``."""
    return schema.with_dirty(rate)


def with_locale(schema: Schema, locale: str) -> Schema:
    """``schema.with_locale(locale)``: Faker values from ``locale``."""
    return schema.with_locale(locale)


def with_scale(schema: Schema, factor: float) -> Schema:
    """``schema.with_scale(factor)``: every fixed row count and per-parent total times ``factor``."""
    return schema.with_scale(factor)


def with_anomalies(schema: Schema, rate: float = 0.01) -> Schema:
    """``schema.with_anomalies(rate)``: labelled anomalies in ``rate`` of the rows of every table
    that declares ``anomalies``."""
    return schema.with_anomalies(rate)


def with_streaming(schema: Schema, events_per_second: float) -> Schema:
    """``schema.with_streaming(events_per_second)``: the rate ``datagen.stream`` uses by default."""
    return schema.with_streaming(events_per_second)
