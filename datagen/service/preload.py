"""Imported by the fork server the service's runs start from (``datagen.service.runs``), and for
that only: importing it loads what a run needs — the engine, every built-in generator module,
the file formats, pandas, Faker, Parquet — once, so that each run's process, forked from there,
starts with all of it in memory (shared, copy-on-write) instead of importing it again: a small
run then takes a tenth of a second, not a second of imports.
"""

from __future__ import annotations

import importlib
import pkgutil

import datagen.api  # noqa: F401 - loaded for the runs' processes
import datagen.service.child  # noqa: F401
import shared.distributions
import shared.schema_dsl.engine  # noqa: F401
from shared.formats import FORMATS, format_names

#: the formats the service's runs write most (files); a database target imports its driver itself
FILE_FORMATS = ("parquet", "csv", "json", "ndjson", "event_stream")


def _load() -> None:
    for info in pkgutil.iter_modules(shared.distributions.__path__, "shared.distributions."):
        importlib.import_module(info.name)
    for name in ("shared.relationships.fk", "shared.anomalies.kinds", "shared.schema_dsl.parallel",
                 "datagen.engines", "pyarrow.parquet", "pandas", "faker"):
        try:
            importlib.import_module(name)
        except ImportError:  # an optional part: a run that needs it imports it (and says what is missing)
            pass
    format_names()
    for name in FILE_FORMATS:
        if name in FORMATS:
            FORMATS[name]


_load()
