"""Extensions from outside the repository: generators, formats and checks in another package.

Two ways in, both read once per process by ``load_plugins()``:

* **entry points** of an installed distribution, in the groups ``datagen.generators``,
  ``datagen.formats`` and ``datagen.checks``. The value names a module (``pkg.module``, an
  ``:attr`` part is ignored); importing it registers its entries with the usual decorators
  (``shared.distributions.base.register``, ``shared.formats.register``,
  ``shared.validation.checks.register``). Format entry points are imported lazily, on
  the first use of their name (the entry point's name is the format's ``--format`` name);
  generators and checks are imported at once, since a schema may name any of them.
* **dotted paths** in the environment variable ``DATAGEN_PLUGINS`` (comma-separated module
  names, as Snowfakery accepts plugins by dotted path), imported at once.

A plugin that cannot be imported is a ``UsageError`` naming it (exit 2), not a traceback.
"""

from __future__ import annotations

import importlib
import os
from importlib import metadata

GROUPS = ("datagen.generators", "datagen.formats", "datagen.checks")
ENV = "DATAGEN_PLUGINS"

_loaded: set[str] = set()


def _module_of(value: str) -> str:
    return value.partition(":")[0].strip()


def _import(module: str, origin: str) -> None:
    from shared.errors import UsageError

    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise UsageError(f"plugin {module!r} ({origin}) cannot be imported: {exc}") from None


#: format name → module, from the ``datagen.formats`` entry points (``shared.formats`` registers
#: them lazily, so this module imports no registry)
FORMAT_MODULES: dict[str, str] = {}


def load_plugins() -> None:
    """Import (or, for formats, note lazily) every plugin named by entry points and ``DATAGEN_PLUGINS``."""
    key = os.environ.get(ENV, "")
    if key in _loaded:
        return
    for group in GROUPS:
        try:
            eps = metadata.entry_points(group=group)
        except Exception:  # noqa: BLE001 - broken metadata of an unrelated distribution
            continue
        for ep in eps:
            if group == "datagen.formats":
                FORMAT_MODULES.setdefault(ep.name, _module_of(ep.value))
            else:
                _import(_module_of(ep.value), f"entry point {group}:{ep.name}")
    for name in (m.strip() for m in key.split(",")):
        if name:
            _import(name, f"from {ENV}")
    _loaded.add(key)  # only once everything imported: a failure is reported again on the next call
