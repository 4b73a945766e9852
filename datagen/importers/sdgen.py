"""``datagen import sdgen SCENARIO.yaml``: an sdgen scenario → a DSL schema.

sdgen (github.com/mmrzaf/sdgen, Go) describes a scenario as ``id``, ``name``, ``version``,
``description``, ``seed`` and ``entities``; each entity has ``name``, ``target_table``, ``rows``,
``table_mode`` and ``columns`` (``name``, ``type`` — int, bigint, float, double, string, text,
bool, timestamp, date, uuid — ``nullable``, ``generator: {type, params}`` and an optional
``fk: {entity, column}``). Its eleven generators map as follows (docs/import-peers.md):

``const`` → const; ``uuid4`` → uuid4; ``uniform_int`` (max exclusive) → uniform_int with
``max − 1``; ``uniform_float`` → uniform_float; ``normal`` → normal; ``choice`` → choice (on a
bool column: bernoulli); ``faker_name`` → faker name; ``faker_city`` → faker city (sdgen draws
from 40 fixed cities: a note); ``faker_device_name`` → a regex of its prefix/suffix words (a
warning: the user-name and word parts are dropped); ``time_series`` → time_series (relative
starts resolve against the schema's anchor, not the wall clock; ``jitter_seconds`` → ``jitter``);
``fk`` → fk (the referenced column becomes the parent's primary key).
"""

from __future__ import annotations

from typing import Any

from datagen.importers import Imported, importer
from datagen.importers._peers import Collector, gen, identifier, need, number, read

TYPES = {"int": "int32", "bigint": "int64", "float": "float64", "double": "float64", "string": "string",
         "text": "string", "bool": "bool", "timestamp": "timestamp", "date": "date", "uuid": "uuid"}
GENERATORS = ("const", "uuid4", "uniform_int", "uniform_float", "normal", "choice", "faker_name", "faker_city",
              "faker_device_name", "time_series", "fk")
_DEVICE = "(Sensor|Device|Meter|Gauge|Monitor|Detector|Reader|Tracker)-(Alpha|Beta|Gamma|Delta|Prime|Pro|Max|Plus)-[0-9]"


@importer("sdgen", "an sdgen scenario (YAML: entities, generators, fk)")
def import_sdgen(source: str, **options: Any) -> Imported:
    src = read(source, "sdgen")
    doc = src.data
    need(isinstance(doc, dict) and isinstance(doc.get("entities"), list) and doc["entities"], src,
         "not an sdgen scenario: no 'entities' list")
    c = Collector(src)
    tables_of = {}  # entity name -> DSL table name
    for i, ent in enumerate(doc["entities"]):
        need(isinstance(ent, dict) and isinstance(ent.get("name"), str), src, f"entities[{i}] has no name",
             "entities", i)
        tables_of[ent["name"]] = identifier(ent.get("target_table") or ent["name"])
    keys: dict[str, str] = {}  # table -> the column an fk references (its primary key)
    tables = []
    for i, ent in enumerate(doc["entities"]):
        tables.append(_entity(c, ent, i, tables_of, keys))
    for t in tables:
        if t["name"] in keys:
            t["primary_key"] = keys[t["name"]]
            col = next(col for col in t["columns"] if col["name"] == keys[t["name"]])
            col.pop("nullable", None)
            col.pop("null_rate", None)
    name = identifier(doc.get("id") or doc.get("name") or src.path.stem)
    schema: dict[str, Any] = {"version": 1, "name": name}
    text = " — ".join(str(doc[k]) for k in ("name", "description") if doc.get(k))
    if text:
        schema["description"] = text
    if isinstance(doc.get("seed"), int):
        schema["seed"] = doc["seed"]
    else:
        c.note("the scenario has no seed: sdgen would draw one per run; the DSL's default seed is used",
               None, "seed")
    if doc.get("version") is not None:
        c.note(f"scenario version {doc['version']} (kept in this note only: the DSL's version is its own)",
               None, "version")
    schema["tables"] = tables
    return c.result(schema)


def _entity(c: Collector, ent: dict, i: int, tables_of: dict[str, str], keys: dict[str, str]) -> dict[str, Any]:
    src = c.src
    table = tables_of[ent["name"]]
    rows = ent.get("rows")
    need(isinstance(rows, int) and not isinstance(rows, bool) and rows > 0, src,
         f"entity {ent['name']}: rows must be a positive whole number", "entities", i, "rows")
    need(isinstance(ent.get("columns"), list) and ent["columns"], src,
         f"entity {ent['name']}: no columns", "entities", i, "columns")
    if ent.get("target_table") and ent["target_table"] != ent["name"]:
        c.note(f"entity {ent['name']} writes table {ent['target_table']}: the DSL table takes that name", table,
               "entities", i, "target_table")
    if ent.get("table_mode"):
        c.note(f"table_mode {ent['table_mode']} is a run option here: generate --mode create|truncate|append",
               table, "entities", i, "table_mode")
    cols = []
    for j, col in enumerate(ent["columns"]):
        path = ("entities", i, "columns", j)
        need(isinstance(col, dict) and isinstance(col.get("name"), str), src,
             f"entity {ent['name']}: columns[{j}] has no name", *path)
        cols.append(_column(c, col, table, path, tables_of, keys))
    return {"name": table, "rows": rows, "columns": cols}


def _column(c: Collector, col: dict, table: str, path: tuple, tables_of: dict[str, str],
            keys: dict[str, str]) -> dict[str, Any]:
    name = identifier(col["name"])
    where = f"{table}.{name}"
    typ = str(col.get("type", "string")).lower()
    dsl_type = TYPES.get(typ)
    if dsl_type is None:
        c.warn(f"type {typ!r} is not an sdgen type; imported as string", where, *path, "type")
        dsl_type = "string"
    out: dict[str, Any] = {"name": name, "type": dsl_type}
    if col.get("nullable"):
        out["nullable"] = True  # sdgen declares the column NULL-able but never writes a null
        c.note("nullable: the column may hold nulls (null_rate 0, as sdgen writes none)", where, *path, "nullable")
    spec = col.get("generator") or {}
    need(isinstance(spec, dict) and isinstance(spec.get("type"), str), c.src,
         f"column {where}: no generator type", *path, "generator")
    params: Any = spec.get("params") or {}
    need(isinstance(params, dict), c.src, f"column {where}: generator params must be a mapping",
         *path, "generator", "params")
    kind = spec["type"]
    fk: Any = col.get("fk")
    if kind != "fk" and isinstance(fk, dict):
        c.note(f"fk: {fk.get('entity')}.{fk.get('column')} declared beside generator {kind}: the fk wins",
               where, *path, "fk")
        kind, params = "fk", fk
    gpath = (*path, "generator")
    if kind == "const":
        out["generator"] = gen("const", value=params.get("value"))
    elif kind == "uuid4":
        if dsl_type not in ("uuid", "string"):
            c.warn(f"uuid4 on a {typ} column: the column becomes uuid", where, *gpath)
            out["type"] = "uuid"
        out["generator"] = gen("uuid4")
    elif kind == "uniform_int":
        lo, hi = params.get("min"), params.get("max")
        need(number(lo) and number(hi), c.src, f"column {where}: uniform_int needs numeric min and max", *gpath)
        lo, hi = int(lo), int(hi)
        if hi <= lo:
            c.warn(f"uniform_int max {hi} is not above min {lo} (sdgen fails at run time); imported as const {lo}",
                   where, *gpath)
            out["generator"] = gen("const", value=lo)
        else:
            out["generator"] = gen("uniform_int", min=lo, max=hi - 1)
            c.comment(where, f"sdgen uniform_int max {hi} is exclusive: max {hi - 1} here (inclusive).")
        if dsl_type == "int32" and (lo < -(2**31) or hi > 2**31):
            out["type"] = "int64"
    elif kind == "uniform_float":
        out["generator"] = gen("uniform_float", min=params.get("min", 0), max=params.get("max", 1))
    elif kind == "normal":
        out["generator"] = gen("normal", mean=params.get("mean", 0), std=params.get("std", 1))
    elif kind == "choice":
        out["generator"] = _choice(c, params, out, where, gpath)
    elif kind == "faker_name":
        out["generator"] = gen("faker", provider="name")
    elif kind == "faker_city":
        out["generator"] = gen("faker", provider="city")
        c.note("faker_city: Faker's cities; sdgen picks from a fixed list of 40 world cities", where, *gpath)
    elif kind == "faker_device_name":
        out["generator"] = gen("regex", pattern=_DEVICE)
        c.warn("faker_device_name: only its prefix-suffix-digit part maps (a regex); the Faker user name and "
               "word sdgen puts around it are dropped", where, *gpath)
    elif kind == "time_series":
        out["generator"] = _time_series(c, params, where, gpath)
    elif kind == "fk":
        ent, ref = params.get("entity"), params.get("column")
        need(isinstance(ent, str) and isinstance(ref, str), c.src,
             f"column {where}: fk needs entity and column", *gpath)
        need(ent in tables_of, c.src, f"column {where}: fk to unknown entity {ent!r} (entities: "
             f"{', '.join(tables_of)})", *gpath)
        parent = tables_of[ent]
        prior = keys.setdefault(parent, identifier(ref))
        if prior != identifier(ref):
            c.warn(f"fk to {parent}.{ref}, but {parent}.{prior} is already its primary key: referencing that",
                   where, *gpath)
        out["generator"] = gen("fk", table=parent, column=prior)
    else:
        c.warn(f"generator {kind!r} is not one of sdgen's ({', '.join(GENERATORS)}); a placeholder is used",
               where, *gpath)
        out["generator"] = _placeholder(out["type"])
    return out


def _choice(c: Collector, params: Any, out: dict, where: str, gpath: tuple) -> dict[str, Any]:
    values = params.get("values")
    need(isinstance(values, list) and bool(values), c.src, f"column {where}: choice needs a non-empty values list",
         *gpath)
    weights = params.get("weights")
    if weights is not None:
        need(isinstance(weights, list) and len(weights) == len(values) and all(number(w) for w in weights),
             c.src, f"column {where}: choice weights must be numbers, one per value", *gpath)
    if out["type"] == "bool" and set(values) <= {True, False}:
        w = weights or [1] * len(values)
        total = float(sum(w))
        p = sum(wi for v, wi in zip(values, w, strict=True) if v is True) / total if total else 0.5
        return gen("bernoulli", p=round(p, 12))
    if out["type"] in ("int32", "int64") and not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        c.warn("choice values are not all whole numbers on an int column: the column becomes string", where, *gpath)
        out["type"] = "string"
    if out["type"] == "string":
        values = [v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    return gen("choice", values=values, **({"weights": weights} if weights else {}))


def _time_series(c: Collector, params: Any, where: str, gpath: tuple) -> dict[str, Any]:
    start, step = params.get("start"), params.get("step")
    need(isinstance(start, str) and isinstance(step, str), c.src,
         f"column {where}: time_series needs start and step (text)", *gpath)
    out: dict[str, Any] = {"start": start, "step": step}
    if start.strip()[:1] in "+-":
        c.warn(f"relative start {start}: sdgen resolves it against the wall clock at each run; here against the "
               "schema's anchor (recorded in the manifest; generate --anchor now for sdgen's behaviour)",
               where, *gpath, "params", "start")
        c.comment(where, f"start {start} is relative to the schema's anchor.")
    jitter = params.get("jitter_seconds")
    if number(jitter) and jitter > 0:
        out["jitter"] = f"{int(jitter)}s"
        out["ordered"] = False  # sdgen's jitter may exceed half the step: no order is promised
        c.note(f"jitter_seconds {int(jitter)} → jitter {int(jitter)}s (uniform ± jitter); ordered: false, as "
               "sdgen's jittered series promises no order", where, *gpath, "params", "jitter_seconds")
    return gen("time_series", **out)


def _placeholder(dsl_type: str) -> dict[str, Any]:
    return {"int32": gen("const", value=0), "int64": gen("const", value=0), "float64": gen("const", value=0.0),
            "bool": gen("const", value=False), "uuid": gen("uuid4"), "date": gen("const", value="2000-01-01"),
            "timestamp": gen("const", value="2000-01-01T00:00:00Z")}.get(dsl_type, gen("const", value=""))
