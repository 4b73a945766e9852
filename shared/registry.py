"""One small registry type for every extension point (generators, formats, checks, corruption).

A private dict, a read-only view, a ``register(name)`` decorator that refuses a duplicate name.
Keys are exactly the strings users write in YAML or on the command line. Built-ins register like
add-ons; callers look entries up with ``REGISTRY[name]``, never an ``if kind == ...`` chain.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Entries by name. ``add_lazy(name, "package.module")`` names the module that registers an
    entry when imported, so a lookup imports it on first use (as sqlglot finds its dialects) and
    listing the names imports nothing."""

    def __init__(self, what: str):
        self.what = what
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = {}
        self.view: Mapping[str, T] = MappingProxyType(self._items)

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.what} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return deco

    def add(self, name: str, obj: T) -> T:
        return self.register(name)(obj)

    def add_lazy(self, name: str, module: str) -> None:
        """``name`` is registered by importing ``module`` (on the first lookup of ``name``)."""
        if name not in self._items:
            self._lazy.setdefault(name, module)

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            module = self._lazy.get(name)
            if module is None:
                raise
        importlib.import_module(module)
        if name not in self._items:
            raise KeyError(f"{self.what} {name!r}: importing {module} did not register it")
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(self._items) | set(self._lazy)))

    def __len__(self) -> int:
        return len(set(self._items) | set(self._lazy))

    def suggest(self, name: str) -> str | None:
        """The closest registered name, for 'did you mean …?' hints."""
        close = difflib.get_close_matches(str(name), list(self), n=1, cutoff=0.6)
        return close[0] if close else None


def import_submodules(package: str) -> None:
    """Import every module of a package so that its built-ins register themselves."""
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")


def did_you_mean(name: str, choices) -> str | None:
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None
