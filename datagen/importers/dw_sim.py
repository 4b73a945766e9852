"""``datagen import dw-sim EXPERIMENT.json``: a DW Simulator experiment → a DSL schema.

DW Simulator (github.com/fbrzx/dw-simulator, ``services/dw-simulator/src/dw_simulator/schema.py``)
describes an experiment as JSON: ``name``, ``description``, ``target_warehouse`` and ``tables``,
each with ``name``, ``target_rows``, ``composite_keys`` and ``columns`` — ``name``,
``data_type`` (INT, VARCHAR, DATE, BOOLEAN, FLOAT), ``faker_rule`` (a Faker provider path),
``is_unique``, ``required`` (default true), ``min_value``/``max_value``, ``varchar_length``,
``date_start``/``date_end``, ``distribution: {type: normal|exponential|beta, parameters}`` and
``foreign_key: {references_table, references_column, nullable}``.

How its generator behaves, and so what each field maps to (docs/import-peers.md): a unique INT
counts 0, 1, 2 … (``_row_id`` from 1) → ``sequence``; an optional column is null 5% of the time →
``nullable`` with ``null_rate: 0.05``; INT/FLOAT without a distribution are uniform in
[min_value or 0, max_value or 1,000,000]; distributions are clamped into those bounds (beta scaled
into them, default [0, 1]); VARCHAR is ``faker_rule`` (else a Faker word) cut to
``varchar_length`` (default 255); DATE is uniform in [date_start or 2020-01-01, date_end or
2025-12-31]; BOOLEAN is a fair coin.
"""

from __future__ import annotations

from typing import Any

from datagen.importers import Imported, importer
from datagen.importers._peers import Collector, gen, identifier, need, number, read

TYPES = {"INT": "int64", "VARCHAR": "string", "DATE": "date", "BOOLEAN": "bool", "FLOAT": "float64"}
OPTIONAL_NULL_RATE = 0.05  # DW Simulator's generator: a column with required: false is null 5% of the time


@importer("dw-sim", "a DW Simulator experiment (JSON: tables, faker_rule, distributions, foreign keys)")
def import_dw_sim(source: str, **options: Any) -> Imported:
    src = read(source, "DW Simulator")
    doc = src.data
    need(isinstance(doc, dict) and isinstance(doc.get("tables"), list) and doc["tables"], src,
         "not a DW Simulator experiment: no 'tables' list")
    c = Collector(src)
    names = {}
    for i, t in enumerate(doc["tables"]):
        need(isinstance(t, dict) and isinstance(t.get("name"), str), src, f"tables[{i}] has no name", "tables", i)
        names[t["name"].lower()] = identifier(t["name"])
    tables = [_table(c, t, i, names) for i, t in enumerate(doc["tables"])]
    schema: dict[str, Any] = {"version": 1, "name": identifier(doc.get("name") or src.path.stem).lower()}
    if doc.get("description"):
        schema["description"] = str(doc["description"])
    if doc.get("target_warehouse"):
        c.note(f"target_warehouse {doc['target_warehouse']}: choose the target at generate time (--format "
               "sqlite or postgres; Redshift and Snowflake via their SQL DDL)", None, "target_warehouse")
    schema["tables"] = tables
    return c.result(schema)


def _table(c: Collector, t: dict, i: int, names: dict[str, str]) -> dict[str, Any]:
    src = c.src
    name = names[t["name"].lower()]
    rows = t.get("target_rows")
    need(isinstance(rows, int) and not isinstance(rows, bool) and rows > 0, src,
         f"table {t['name']}: target_rows must be a positive whole number", "tables", i, "target_rows")
    need(isinstance(t.get("columns"), list) and t["columns"], src, f"table {t['name']}: no columns",
         "tables", i, "columns")
    cols, pk = [], None
    for j, col in enumerate(t["columns"]):
        path = ("tables", i, "columns", j)
        need(isinstance(col, dict) and isinstance(col.get("name"), str), src,
             f"table {t['name']}: columns[{j}] has no name", *path)
        out = _column(c, col, name, path, names)
        if pk is None and out["generator"]["type"] == "sequence":
            pk = out["name"]
        cols.append(out)
    table: dict[str, Any] = {"name": name, "rows": rows}
    keys = t.get("composite_keys")
    if keys:
        need(isinstance(keys, list) and all(isinstance(k, list) and k for k in keys), src,
             f"table {t['name']}: composite_keys must be a list of column lists", "tables", i, "composite_keys")
        groups = [[identifier(n) for n in k] for k in keys]
        if pk is None:
            table["primary_key"], groups = groups[0], groups[1:]
        if groups:
            table["unique"] = groups
        c.note("composite_keys: the first group is the primary key (unless a unique INT is), the others unique "
               "groups — jointly unique by construction", name, "tables", i, "composite_keys")
    if pk is not None:
        table["primary_key"] = pk
        next(col for col in cols if col["name"] == pk).pop("unique", None)
    table["columns"] = cols
    return table


def _bounds(col: dict, default_lo: float, default_hi: float) -> tuple[float, float]:
    lo = col["min_value"] if number(col.get("min_value")) else default_lo
    hi = col["max_value"] if number(col.get("max_value")) else default_hi
    return lo, max(lo, hi)


def _column(c: Collector, col: Any, table: str, path: tuple, names: dict[str, str]) -> dict[str, Any]:
    name = identifier(col["name"])
    where = f"{table}.{name}"
    raw_type = str(col.get("data_type", "")).upper()
    need(raw_type in TYPES, c.src, f"column {where}: data_type {col.get('data_type')!r} is not one of "
         f"{', '.join(TYPES)}", *path, "data_type")
    out: dict[str, Any] = {"name": name, "type": TYPES[raw_type]}
    unique = bool(col.get("is_unique"))
    fk: Any = col.get("foreign_key")
    optional = col.get("required") is False
    if isinstance(fk, dict):
        parent: Any = fk.get("references_table")
        ref: Any = fk.get("references_column")
        need(isinstance(parent, str) and isinstance(ref, str), c.src,
             f"column {where}: foreign_key needs references_table and references_column", *path, "foreign_key")
        need(parent.lower() in names, c.src, f"column {where}: foreign key to unknown table {parent!r}",
             *path, "foreign_key")
        out["generator"] = gen("fk", table=names[parent.lower()], column=identifier(ref))
        nullable = fk.get("nullable")
        if nullable is True or (nullable is None and optional):
            out.update(nullable=True, null_rate=OPTIONAL_NULL_RATE)
            c.note(f"nullable foreign key: null in {OPTIONAL_NULL_RATE:.0%} of the rows (DW Simulator's rate for "
                   "optional columns)", where, *path, "foreign_key")
        if col.get("min_value") is not None or col.get("max_value") is not None:
            c.note("min_value/max_value of a foreign key are dropped: the values are the parent's keys",
                   where, *path)
        return out
    if optional:
        out.update(nullable=True, null_rate=OPTIONAL_NULL_RATE)
    dist = col.get("distribution")
    if raw_type == "INT" and unique:
        first = 1 if col["name"] == "_row_id" else 0
        out["generator"] = gen("sequence", start=first)
        c.comment(where, f"is_unique INT: DW Simulator counts from {first}.")
    elif raw_type == "FLOAT" and unique:
        out["generator"] = gen("expr", expr="row() * 1.0")
        c.warn("is_unique FLOAT counts 0.0, 1.0, …: mapped to row() * 1.0 (unique by construction, but the DSL "
               "cannot prove it, so unique is not declared)", where, *path, "is_unique")
    elif raw_type in ("INT", "FLOAT") and isinstance(dist, dict):
        out["generator"] = _distribution(c, col, dist, out, where, path)
    elif raw_type == "INT":
        lo, hi = _bounds(col, 0, 1_000_000)
        out["generator"] = gen("uniform_int", min=int(lo), max=int(hi))
    elif raw_type == "FLOAT":
        lo, hi = _bounds(col, 0.0, 1_000_000.0)
        out["generator"] = gen("uniform_float", min=lo, max=hi)
    elif raw_type == "VARCHAR":
        out["max_length"] = int(col.get("varchar_length") or 255)
        out["generator"] = _faker(c, col.get("faker_rule"), out, where, path)
        if unique:
            out["unique"] = True
    elif raw_type == "DATE":
        start = str(col.get("date_start") or "2020-01-01")
        end = str(col.get("date_end") or "2025-12-31")
        out["generator"] = gen("uniform_date", start=start, end=end)
        if unique:
            out["unique"] = True
    else:  # BOOLEAN
        out["generator"] = gen("bernoulli", p=0.5)
        if unique:
            c.warn("is_unique on a BOOLEAN holds at most two rows; dropped", where, *path, "is_unique")
    if raw_type == "INT" and unique:
        out["unique"] = True
    if col.get("faker_rule") and raw_type != "VARCHAR":
        c.warn(f"faker_rule {col['faker_rule']!r} on a {raw_type} column is ignored by DW Simulator too",
               where, *path, "faker_rule")
    return out


def _distribution(c: Collector, col: Any, dist: Any, out: dict, where: str, path: tuple) -> dict[str, Any]:
    kind = str(dist.get("type", "")).lower()
    p: Any = dist.get("parameters") or {}
    need(isinstance(p, dict), c.src, f"column {where}: distribution parameters must be a mapping",
         *path, "distribution")
    lo, hi = _bounds(col, 0, 1) if kind == "beta" else _bounds(col, 0, 1_000_000)
    if out["type"] == "int64":
        lo, hi = int(lo), int(hi)
    out["min"], out["max"] = lo, hi
    c.comment(where, f"DW Simulator clamps the {kind} samples into [{lo}, {hi}]; the DSL keeps them inside by "
                     "construction (truncation), so no mass piles up on the bounds.")
    if kind == "normal" and number(p.get("mean")) and number(p.get("stddev")):
        return gen("normal", mean=p["mean"], std=p["stddev"])
    if kind == "exponential" and number(p.get("lambda")) and p["lambda"] > 0:
        return gen("exponential", scale=1.0 / p["lambda"])
    if kind == "beta" and number(p.get("alpha")) and number(p.get("beta")):
        return gen("beta", a=p["alpha"], b=p["beta"])
    c.warn(f"distribution {dist.get('type')!r} with parameters {sorted(p)} is not one DW Simulator runs "
           "(normal: mean, stddev; exponential: lambda; beta: alpha, beta); uniform within the bounds instead",
           where, *path, "distribution")
    return gen("uniform_int", min=lo, max=hi) if out["type"] == "int64" else gen("uniform_float", min=lo, max=hi)


def _faker(c: Collector, rule: Any, out: dict, where: str, path: tuple) -> dict[str, Any]:
    if not rule:
        c.note("no faker_rule: a Faker word, as DW Simulator writes", where, *path)
        return gen("faker", provider="word")
    parts = str(rule).split(".")
    if parts[0] == "unique" and len(parts) == 2:
        out["unique"] = True
        c.note(f"faker_rule {rule}: Faker's unique proxy → unique: true", where, *path, "faker_rule")
        parts = parts[1:]
    if len(parts) > 1:
        c.warn(f"faker_rule {rule}: a path into a provider's result has no DSL form; provider {parts[0]} is used",
               where, *path, "faker_rule")
    return gen("faker", provider=parts[0])
