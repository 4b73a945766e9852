"""datagen: describe a dataset once, generate it fast and reproducibly, prove it in CI.

The public face for Python users (``shared`` and ``generators`` are internal names)::

    >>> import datagen
    >>> tables = datagen.to_pandas("schemas/examples/shop.yaml", rows={"customers": 100})
    >>> result = datagen.generate("shop.yaml", format="parquet", out="out/shop", seed=7)
    >>> report = datagen.validate("shop.yaml", out="out/shop")
    >>> report["status"]
    'pass'
    >>> fitted = datagen.fit("real_data/")       # learn an editable schema (docs/fit.md)
    >>> datagen.report("real_data/", "out/synthetic").write("report.html")  # fidelity (docs/report.md)

Formats are found by name on first use (``datagen.formats()`` lists them); generators, formats
and checks from other packages come in through entry points or ``DATAGEN_PLUGINS``.
"""

from __future__ import annotations

from datagen import blueprints, gen
from datagen.api import (
    GenerateResult,
    default_out,
    describe,
    generate,
    load_schema,
    rerun,
    resolve_plan,
    to_arrow,
    to_pandas,
    validate,
)
from datagen.client import DataGen
from datagen.config import (
    DELETE,
    Column,
    ConfigValidationError,
    Events,
    Generator,
    Index,
    RowsOf,
    RowsPer,
    Schema,
    Table,
)
from datagen.fit import FitResult, PrivacyConfig, fit  # the subpackage's function (scipy is imported on first use)
from datagen.output import OutputSpec
from datagen.report import FidelityReport, report  # the subpackage's function (pandas on first use)
from datagen.stream import EventStream, stream
from generators import register_builtins as _register_builtins
from shared import __version__
from shared.errors import DatagenError, InfeasibleSchema, OutputError, PlanError, SchemaError, UsageError
from shared.formats import Format, format_names, get_format
from shared.model.schema import Schema as SchemaModel
from shared.resources import example_schemas
from shared.schema_dsl.planner import Plan

_register_builtins()


def formats() -> list[str]:
    """Every ``format`` name (aliases included); no format module is imported to list them."""
    return format_names()


__all__ = [
    "__version__", "load_schema", "resolve_plan", "describe", "generate", "rerun", "validate", "to_arrow", "to_pandas",
    "formats", "get_format", "default_out", "example_schemas", "GenerateResult", "Schema", "SchemaModel", "Plan",
    "Format", "Table", "Column", "RowsPer", "RowsOf", "Events", "Index", "Generator", "gen", "DELETE",
    "ConfigValidationError", "OutputSpec", "DataGen", "stream", "EventStream", "blueprints",
    "fit", "FitResult", "PrivacyConfig", "report", "FidelityReport",
    "DatagenError", "UsageError", "SchemaError", "PlanError", "InfeasibleSchema", "OutputError",
]
