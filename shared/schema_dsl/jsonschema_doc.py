"""Builds ``schemas/datagen.schema.json``: the one source of truth for what a schema may say.

The document is assembled from the fixed shape below plus each registered generator's
``params_schema`` (an ``if/then`` per generator, so an error in a generator's params points at
``…generator.params.<name>``). ``make schema`` writes it; a test fails when the file in the
repository differs from what the registry produces, so adding a generator plugin and running
``make schema`` is all it takes.
"""

from __future__ import annotations

import json
from typing import Any

from shared import anomalies
from shared.corruption import KINDS, ONLY
from shared.distributions.base import load_builtins
from shared.model.schema import PROFILES
from shared.model.types import type_pattern
from shared.resources import data_file

SCHEMA_FILE = data_file("datagen.schema.json")
IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
TYPE_RE = type_pattern()
CORRUPTION_KINDS = KINDS  # every kind (shared.corruption), in its documented order


def build() -> dict:
    gens = load_builtins()
    names = sorted(gens)
    scalar = {"type": ["string", "number", "integer", "boolean"]}
    corruption = {
        "type": "object",
        "description": "Corruption rates (0..1) per kind for the dirty profile; `only: [kind, ...]` "
                       "disables every kind the block does not list.",
        "propertyNames": {"enum": [*CORRUPTION_KINDS, ONLY]},
        "properties": {ONLY: {"type": "array", "items": {"enum": list(CORRUPTION_KINDS)}, "uniqueItems": True}},
        "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
    }
    generator = {
        "description": "How a column's values are generated: {type, params}, or a bare generator name.",
        "anyOf": [
            {"type": "string", "enum": names},
            {
                "type": "object",
                "required": ["type"],
                "additionalProperties": False,
                "properties": {"type": {"type": "string", "enum": names}, "params": {"type": "object"}},
            },
        ],
        "allOf": [
            {
                "if": {"type": "object", "properties": {"type": {"const": n}}, "required": ["type"]},
                "then": {"properties": {"params": {"$ref": f"#/$defs/params/{n}"}}},
            }
            for n in names
        ],
    }
    column: dict[str, Any] = {
        "type": "object",
        "required": ["name", "type"],
        "additionalProperties": False,
        "properties": {
            "name": {"$ref": "#/$defs/identifier"},
            "sql_name": {"$ref": "#/$defs/sql_name"},
            "type": {"type": "string", "pattern": TYPE_RE},
            "description": {"type": "string"},
            "generator": {"$ref": "#/$defs/generator"},
            "nullable": {"type": "boolean"},
            "null_rate": {"type": "number", "minimum": 0, "maximum": 1},
            "unique": {"type": "boolean"},
            "hidden": {"type": "boolean", "description": "Computed and referenceable, never written."},
            "min": {"type": ["number", "string"]},
            "max": {"type": ["number", "string"]},
            "allowed": {"type": "array", "minItems": 1, "items": scalar},
            "pattern": {"type": "string", "minLength": 1, "maxLength": 1000},
            "max_length": {"type": "integer", "minimum": 1},
            "corruption": {"$ref": "#/$defs/corruption"},
            "fields": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/column"},
                       "description": "A struct column's fields: each a column spec (name, type, generator …)."},
            "items": {"$ref": "#/$defs/item", "description": "A list column's items: a column spec without a name."},
            "length": {"$ref": "#/$defs/list_length"},
            "present": {"type": "number", "minimum": 0, "maximum": 1,
                        "description": "A struct field: the share of rows that have the key (an optional key)."},
        },
    }
    item = {**column, "required": ["type"],
            "properties": {k: v for k, v in column["properties"].items() if k not in ("name", "present")}}
    list_length = {
        "description": "A list column's number of items per row: a fixed count, or {min, max, distribution}.",
        "anyOf": [
            {"type": "integer", "minimum": 0},
            {
                "type": "object",
                "required": ["max"],
                "additionalProperties": False,
                "properties": {
                    "min": {"type": "integer", "minimum": 0},
                    "max": {"type": "integer", "minimum": 0},
                    "distribution": {"$ref": "#/$defs/generator"},
                },
            },
        ],
    }
    rows_per = {
        "type": "object",
        "required": ["per"],
        "additionalProperties": False,
        "properties": {
            "per": {"$ref": "#/$defs/identifier"},
            "distribution": {"$ref": "#/$defs/generator"},
            "min": {"type": "integer", "minimum": 0},
            "max": {"type": "integer", "minimum": 0},
            "total": {"type": "integer", "minimum": 1},
            "via": {"$ref": "#/$defs/identifier",
                    "description": "the fk column to `per` whose parent owns the rows (default: the first)"},
        },
    }
    rows_of = {
        "type": "object",
        "required": ["of", "coverage"],
        "additionalProperties": False,
        "properties": {
            "of": {"$ref": "#/$defs/identifier"},
            "coverage": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        },
    }
    name_list = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/identifier"}}
    correlation = {
        "type": "object",
        "description": "A Gaussian copula over some of the table's columns: `matrix` is the correlation of "
                       "their latent standard normals (symmetric, positive semi-definite, unit diagonal), "
                       "each column drawn through its generator's inverse CDF.",
        "required": ["columns", "matrix"],
        "additionalProperties": False,
        "properties": {
            "kind": {"enum": ["gaussian_copula"]},
            "columns": {"type": "array", "minItems": 2,
                        "description": "The table's columns, and parents' columns as `fk.col` (givens: "
                                       "the table's own columns are drawn conditionally on them)",
                        "items": {"type": "string", "minLength": 1, "maxLength": 257,
                                  "pattern": "^" + IDENT.strip("^$") + "(\\." + IDENT.strip("^$") + ")?$"}},
            "matrix": {"type": "array", "minItems": 2,
                       "items": {"type": "array", "minItems": 2,
                                 "items": {"type": "number", "minimum": -1, "maximum": 1}}},
        },
    }
    table = {
        "type": "object",
        "required": ["name", "rows", "columns"],
        "additionalProperties": False,
        "properties": {
            "name": {"$ref": "#/$defs/identifier"},
            "sql_name": {"$ref": "#/$defs/sql_name"},
            "description": {"type": "string"},
            "rows": {"anyOf": [{"type": "integer", "minimum": 1}, {"$ref": "#/$defs/rows_per"},
                              {"$ref": "#/$defs/rows_of"}]},
            "primary_key": {"anyOf": [{"$ref": "#/$defs/identifier"},
                                      {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/identifier"}}]},
            "unique": {"type": "array", "items": {"type": "array", "minItems": 1,
                                                  "items": {"$ref": "#/$defs/identifier"}}},
            "events": {
                "type": "object",
                "required": ["time"],
                "additionalProperties": False,
                "properties": {
                    "time": {"$ref": "#/$defs/identifier"},
                    "key": {"$ref": "#/$defs/identifier"},
                    "type": {"type": "string", "minLength": 1},
                    "late_rate": {"type": "number", "minimum": 0, "maximum": 1},
                },
            },
            "corruption": {"$ref": "#/$defs/corruption"},
            "partition_by": {"anyOf": [{"$ref": "#/$defs/identifier"}, name_list]},
            "anomalies": anomalies.param_schema(),
            "correlations": {"type": "array", "items": {"$ref": "#/$defs/correlation"}},
            "indexes": {"type": "array", "items": {"anyOf": [name_list, {
                "type": "object",
                "required": ["columns"],
                "additionalProperties": False,
                "properties": {
                    "name": {"$ref": "#/$defs/identifier"},
                    "columns": {"anyOf": [{"$ref": "#/$defs/identifier"}, name_list]},
                    "unique": {"type": "boolean"},
                },
            }]}},
            "columns": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/column"}},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://datagen.invalid/schemas/datagen.schema.json",
        "title": "datagen schema (DSL version 1)",
        "description": "Generated by `make schema` from shared/schema_dsl/jsonschema_doc.py and the generator "
                       "registry. Do not edit by hand.",
        "type": "object",
        "required": ["version", "name", "tables"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1},
            "name": {"$ref": "#/$defs/identifier"},
            "description": {"type": "string"},
            "seed": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
            "locale": {"type": "string", "pattern": r"^[a-z]{2,3}(_[A-Z]{2})?$"},
            "profile": {"enum": list(PROFILES)},
            "anchor": {"type": "string"},
            "corruption": {"$ref": "#/$defs/corruption"},
            "stream": {
                "type": "object",
                "description": "How the schema's events are streamed live when not told otherwise.",
                "additionalProperties": False,
                "properties": {"events_per_second": {"type": "number", "exclusiveMinimum": 0, "maximum": 1e7}},
            },
            "tables": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/table"}},
        },
        "$defs": {
            "identifier": {"type": "string", "pattern": IDENT, "maxLength": 128},
            "sql_name": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^\\x00]*$",
                         "description": "The name in SQL (DDL, database targets) when the DSL name cannot be it: "
                                        "spaces, reserved words, case. Written quoted."},
            "corruption": corruption,
            "generator": generator,
            "column": column,
            "item": item,
            "list_length": list_length,
            "rows_per": rows_per,
            "rows_of": rows_of,
            "table": table,
            "correlation": correlation,
            "params": {n: gens[n].params_schema for n in names},
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


def load() -> dict:
    """The schema as shipped in schemas/ (documentation: the loader builds its own from the registry,
    and a test keeps the two equal)."""
    with open(SCHEMA_FILE, encoding="utf-8") as f:
        return json.load(f)


def main() -> None:  # python -m shared.schema_dsl.jsonschema_doc
    SCHEMA_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
