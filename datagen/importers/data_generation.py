"""``datagen import data-generation SCHEMA.yaml``: a Data-Generation schema → a DSL schema.

Data-Generation (github.com/diegoescalante328-oss/Data-Generation, ``csv_generator/``) reads a
YAML or JSON document: ``dataset``, ``seed``, ``tables`` (a mapping of table name → ``rows``,
``columns``, ``corruption``) and ``relationships`` (``parent_table``, ``parent_key``,
``child_table``, ``child_key``, ``min_children``, ``max_children``, ``lookup_columns:
{parent column: child column}``). A column has a ``type`` — id (``id_mode`` int or uuid,
``start``), integer, float (``round``, default 2), categorical (``categories``, ``weights``),
boolean (``true_probability``), date, datetime (``start``, ``end``), string_pattern (``prefix``,
``width``), name, email, city, state, constant (``value``) — with ``distribution`` (uniform,
normal, lognormal, poisson and their ``min``/``max``/``mean``/``std``/``sigma``/``lambda``),
``constraints`` (primary_key, unique, not_null, pattern, allowed_values, monotonic_increasing),
or ``computed``: a Python expression over the row (``round``, ``min``, ``max``, ``float``, ``int``,
``normal(mean, std)``, ``rand_days_after(date, min, max)``).

The mapping (docs/import-peers.md): a relationship's min/max children become the child's
``rows: {per: parent, total: rows, min, max}`` (exactly the source's rule: each parent between min
and max children, the child's row count kept); lookup columns become ``expr:
child_key.parent_column``; computed columns are translated into the DSL's ``expr``; corruption
toggles become dirty-profile kinds (``nulls``, ``extra_duplicates``, ``out_of_range``,
``type_noise``).
"""

from __future__ import annotations

import ast
from typing import Any

from datagen.importers import Imported, importer
from datagen.importers._peers import Collector, gen, identifier, need, number, read

_FAKER = {"name": "name", "email": "email", "city": "city", "state": "state"}


@importer("data-generation", "a Data-Generation schema (tables, relationships with min/max children and "
                             "lookups, computed columns, corruption)")
def import_data_generation(source: str, **options: Any) -> Imported:
    src = read(source, "Data-Generation")
    doc = src.data
    need(isinstance(doc, dict) and "dataset" in doc and isinstance(doc.get("tables"), dict) and bool(doc["tables"]),
         src, "not a Data-Generation schema: it needs 'dataset' and a non-empty 'tables' mapping")
    c = Collector(src)
    rels: Any = doc.get("relationships") or []
    need(isinstance(rels, list), src, "'relationships' must be a list", "relationships")
    tables: dict[str, dict[str, Any]] = {}
    specs: dict[str, Any] = {}
    for tname, spec in doc["tables"].items():
        need(isinstance(spec, dict) and isinstance(spec.get("columns"), list), src,
             f"table {tname}: no columns list", "tables", tname)
        name = identifier(tname)
        specs[name] = spec
        tables[name] = _table(c, str(tname), name, spec)
    dirty: set[str] = set()
    for i, rel in enumerate(rels):
        _relationship(c, rel, i, tables, specs)
    for name, spec in specs.items():
        _corruption(c, spec.get("corruption"), tables[name], name, dirty)
    schema: dict[str, Any] = {"version": 1, "name": identifier(str(doc["dataset"])).lower()}
    if number(doc.get("seed")):
        schema["seed"] = int(doc["seed"])
    if dirty:
        schema["profile"] = "dirty"
        # only these kinds, and none at the schema level: the tables and columns that asked get them
        schema["corruption"] = {"only": sorted(dirty), **{k: 0 for k in sorted(dirty)}}
        c.note(f"corruption toggles → the dirty profile with only {', '.join(sorted(dirty))} (generate --profile "
               "realistic for the clean data)", None, "tables")
    schema["tables"] = [tables[n] for n in _order(tables)]
    return c.result(schema)


def _order(tables: dict[str, dict[str, Any]]) -> list[str]:
    return list(tables)  # the DSL plans the generation order itself


def _table(c: Collector, raw_name: str, name: str, spec: dict) -> dict[str, Any]:
    rows = spec.get("rows", 100)
    need(isinstance(rows, int) and not isinstance(rows, bool) and rows > 0, c.src,
         f"table {raw_name}: rows must be a positive whole number", "tables", raw_name, "rows")
    if "rows" not in spec:
        c.note("no rows: Data-Generation's default of 100", name, "tables", raw_name)
    cols, pk = [], None
    for j, col in enumerate(spec["columns"]):
        path = ("tables", raw_name, "columns", j)
        need(isinstance(col, dict) and isinstance(col.get("name"), str), c.src,
             f"table {raw_name}: columns[{j}] has no name", *path)
        out = _column(c, col, name, path)
        cons = col.get("constraints") or {}
        if isinstance(cons, dict) and cons.get("primary_key") and pk is None:
            pk = out["name"]
        cols.append(out)
    out_table: dict[str, Any] = {"name": name, "rows": rows}
    if pk is not None:
        out_table["primary_key"] = pk
        next(col for col in cols if col["name"] == pk).pop("unique", None)
    out_table["columns"] = cols
    return out_table


def _column(c: Collector, col: Any, table: str, path: tuple) -> dict[str, Any]:
    name = identifier(col["name"])
    where = f"{table}.{name}"
    if col.get("computed"):
        return {"name": name, **_computed(c, str(col["computed"]), where, path)}
    kind = col.get("type")
    out: dict[str, Any] = {"name": name}
    if kind == "id":
        if col.get("id_mode", "int") == "int":
            out.update(type="int64", generator=gen("sequence", start=int(col.get("start", 1))))
        else:
            out.update(type="uuid", generator=gen("uuid4"))
    elif kind in ("integer", "float"):
        _numeric(c, col, out, kind, where, path)
    elif kind == "categorical":
        cats, weights = col.get("categories"), col.get("weights")
        need(isinstance(cats, list) and bool(cats), c.src, f"column {where}: categorical needs categories", *path)
        if all(isinstance(v, bool) for v in cats):
            out["type"] = "bool"
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in cats):
            out["type"] = "int64"
        elif all(number(v) for v in cats):
            out.update(type="float64")
            cats = [float(v) for v in cats]
        else:
            out["type"] = "string"
            cats = [str(v) for v in cats]
        out["generator"] = gen("choice", values=cats, **({"weights": weights} if weights else {}))
    elif kind == "boolean":
        out.update(type="bool", generator=gen("bernoulli", p=float(col.get("true_probability", 0.5))))
    elif kind in ("date", "datetime"):
        need(isinstance(col.get("start"), str) and isinstance(col.get("end"), str), c.src,
             f"column {where}: {kind} needs start and end", *path)
        if kind == "date":
            out.update(type="date", generator=gen("uniform_date", start=col["start"], end=col["end"]))
        else:
            out.update(type="timestamp", generator=gen("uniform_timestamp", start=col["start"], end=col["end"]))
            c.note("datetime: Data-Generation writes naive ISO times; here UTC timestamps", where, *path)
    elif kind == "string_pattern":
        prefix = str(col.get("prefix", "item")).replace("'", "")
        width = int(col.get("width", 5))
        out.update(type="string", generator=gen(
            "expr", expr=f"concat('{prefix}', lpad(to_string(row() + 1), {width}, '0'))"))
    elif kind in _FAKER:
        out.update(type="string", generator=gen("faker", provider=_FAKER[kind]))
    elif kind == "constant":
        v = col.get("value")
        out["type"] = ("bool" if isinstance(v, bool) else "int64" if isinstance(v, int)
                       else "float64" if isinstance(v, float) else "string")
        if v is None:
            out.update(nullable=True, null_rate=1.0, generator=gen("const", value=""))
        else:
            out["generator"] = gen("const", value=v if out["type"] != "string" else str(v))
    else:
        c.warn(f"type {kind!r} is not a Data-Generation type (Data-Generation writes an empty text); an empty "
               "string constant", where, *path, "type")
        out.update(type="string", generator=gen("const", value=""))
    _constraints(c, col.get("constraints") or {}, out, where, path)
    return out


def _numeric(c: Collector, col: Any, out: dict, kind: str, where: str, path: tuple) -> None:
    dist = col.get("distribution", "uniform")
    lo, hi = col.get("min"), col.get("max")
    if kind == "integer":
        out["type"] = "int64"
    else:
        digits = int(col.get("round", 2))
        out["type"] = f"decimal(18,{digits})" if 0 <= digits <= 17 else "float64"
        c.comment(where, f"float rounded to {digits} decimals: decimal(18,{digits}).")
    if dist == "uniform":
        a = lo if number(lo) else 0
        b = hi if number(hi) else 1
        out["generator"] = (gen("uniform_int", min=int(round(a)), max=int(round(b))) if kind == "integer"
                            else gen("uniform_float", min=a, max=b))
        return
    if dist == "normal":
        out["generator"] = gen("normal", mean=col.get("mean", 0), std=col.get("std", 1))
    elif dist == "lognormal":
        out["generator"] = gen("lognormal", mean=col.get("mean", 0), sigma=col.get("sigma", 1))
    elif dist == "poisson":
        out["generator"] = gen("poisson", lam=col.get("lambda", 5))
    else:
        c.warn(f"distribution {dist!r} is not one Data-Generation runs (uniform, normal, lognormal, poisson); "
               "uniform within min/max instead", where, *path, "distribution")
        out["generator"] = gen("uniform_float", min=lo if number(lo) else 0, max=hi if number(hi) else 1)
    if number(lo):
        out["min"] = lo
    if number(hi):
        out["max"] = hi
    if number(lo) or number(hi):
        c.comment(where, "Data-Generation clamps into min/max; the DSL truncates (no mass piled on the bounds).")


def _constraints(c: Collector, cons: Any, out: dict, where: str, path: tuple) -> None:
    if not isinstance(cons, dict):
        return
    if cons.get("unique") or cons.get("primary_key"):
        out["unique"] = True
    if cons.get("not_null") is False:
        out["nullable"] = True
    if cons.get("allowed_values") is not None:
        allowed = cons["allowed_values"]
        values = (out.get("generator") or {}).get("params", {}).get("values")
        if out["generator"]["type"] == "choice" and isinstance(allowed, list) and set(values) <= set(allowed):
            out["allowed"] = allowed
        else:
            c.warn("allowed_values is enforced by Data-Generation's retries; the DSL checks allowed values but "
                   "this generator does not keep to them, so it is left out", where, *path, "constraints")
    if cons.get("pattern") and out["generator"]["type"] == "expr" and "row()" in out["generator"]["params"]["expr"]:
        out["pattern"] = cons["pattern"]  # string_pattern's text is exact: the pattern holds or never did
    elif cons.get("pattern"):
        c.warn(f"pattern {cons['pattern']!r}: Data-Generation retries until it matches; the DSL has no retry "
               "(patterns hold by construction with a regex generator), so it is left out", where,
               *path, "constraints")
    if cons.get("monotonic_increasing"):
        if out["generator"]["type"] == "sequence":
            c.note("monotonic_increasing: a sequence is", where, *path, "constraints")
        else:
            c.warn("monotonic_increasing holds only for sequences in the DSL; left out", where, *path, "constraints")


# --- computed columns ------------------------------------------------------------------------

class _Untranslatable(Exception):
    pass


_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def _computed(c: Collector, text: str, where: str, path: tuple) -> dict[str, Any]:
    try:
        tree = ast.parse(text, mode="eval").body
        expr, kind = _expr(tree)
    except (SyntaxError, _Untranslatable) as exc:
        c.warn(f"computed {text!r}: {exc if isinstance(exc, _Untranslatable) else 'not a Python expression'}; "
               "the DSL's expr cannot say it, so the column is a placeholder 0", where, *path, "computed")
        return {"type": "float64", "generator": gen("const", value=0.0)}
    typ = {"date": "date", "bool": "bool"}.get(kind, "float64")
    c.comment(where, f"computed: {text}")
    return {"type": typ, "generator": gen("expr", expr=expr)}


def _expr(node: ast.AST) -> tuple[str, str]:
    """(DSL expr text, kind: number | date | bool | any) of a Python expression node."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return ("true" if node.value else "false"), "bool"
        if isinstance(node.value, (int, float)):
            return repr(node.value), "number"
        if isinstance(node.value, str):
            return "'" + node.value.replace("'", "") + "'", "string"
        raise _Untranslatable(f"the constant {node.value!r}")
    if isinstance(node, ast.Name):
        return identifier(node.id), "any"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        text, kind = _expr(node.operand)
        return f"-({text})", kind
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return f"not ({_expr(node.operand)[0]})", "bool"
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        (a, ka), (b, _kb) = _expr(node.left), _expr(node.right)
        return f"({a} {_OPS[type(node.op)]} {b})", "date" if ka == "date" else "number"
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP:
        return f"({_expr(node.left)[0]} {_CMP[type(node.ops[0])]} {_expr(node.comparators[0])[0]})", "bool"
    if isinstance(node, ast.BoolOp):
        parts = [_expr(v) for v in node.values]
        if all(k == "bool" for _t, k in parts):
            op = " and " if isinstance(node.op, ast.And) else " or "
            return "(" + op.join(t for t, _k in parts) + ")", "bool"
        if isinstance(node.op, ast.Or):  # `x or 0`: the first value that is set (a null or 0 gives the next)
            return "coalesce(" + ", ".join(t for t, _k in parts) + ")", parts[-1][1]
        raise _Untranslatable("`and` over values that are not booleans")
    if isinstance(node, ast.IfExp):
        return f"if({_expr(node.test)[0]}, {_expr(node.body)[0]}, {_expr(node.orelse)[0]})", _expr(node.body)[1]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        fn, args = node.func.id, [_expr(a) for a in node.args]
        texts = [t for t, _k in args]
        if fn in ("round", "min", "max", "abs") and args:
            return f"{fn}({', '.join(texts)})", args[0][1] if fn in ("min", "max") else "number"
        if fn == "float" and len(args) == 1:
            return texts[0], "number"
        if fn == "int" and len(args) == 1:  # Python truncates towards zero
            return f"if({texts[0]} < 0, ceil({texts[0]}), floor({texts[0]}))", "number"
        if fn == "normal" and len(args) == 2:
            return f"normal({texts[0]}, {texts[1]})", "number"
        if fn == "rand_days_after" and len(args) == 3:  # a whole number of days in [min, max]
            return f"({texts[0]} + days(floor(uniform({texts[1]}, {texts[2]} + 1))))", "date"
        raise _Untranslatable(f"the function {fn}() with {len(args)} argument(s)")
    raise _Untranslatable(f"`{ast.unparse(node)}`")


# --- relationships and corruption -----------------------------------------------------------

def _relationship(c: Collector, rel: Any, i: int, tables: dict[str, dict[str, Any]], specs: dict[str, Any]) -> None:
    path = ("relationships", i)
    need(isinstance(rel, dict) and all(isinstance(rel.get(k), str) for k in
                                       ("parent_table", "parent_key", "child_table", "child_key")),
         c.src, f"relationships[{i}] needs parent_table, parent_key, child_table and child_key", *path)
    parent, child = identifier(rel["parent_table"]), identifier(rel["child_table"])
    for t in (parent, child):
        need(t in tables, c.src, f"relationships[{i}]: unknown table {t!r} (tables: {', '.join(tables)})", *path)
    pkey, ckey = identifier(rel["parent_key"]), identifier(rel["child_key"])
    ptable, ctable = tables[parent], tables[child]
    pcol = next((col for col in ptable["columns"] if col["name"] == pkey), None)
    need(pcol is not None, c.src, f"relationships[{i}]: {parent} has no column {pkey}", *path, "parent_key")
    assert pcol is not None
    if ptable.get("primary_key") != pkey and not pcol.get("unique"):
        pcol["unique"] = True
        c.warn(f"{parent}.{pkey} is referenced but not unique in the source; declared unique", f"{parent}.{pkey}",
               *path, "parent_key")
    where = f"{child}.{ckey}"
    fk_col = {"name": ckey, "type": pcol["type"], "generator": gen("fk", table=parent, column=pkey)}
    _replace_or_add(ctable, fk_col)
    lo, hi = rel.get("min_children"), rel.get("max_children")
    if lo is not None or hi is not None:
        rows, n_parents = ctable["rows"], ptable["rows"]
        lo_n = int(lo) if number(lo) else 0
        hi_n = int(hi) if number(hi) else max(1, rows)
        if isinstance(rows, int) and n_parents * lo_n <= rows <= n_parents * hi_n:
            ctable["rows"] = {"per": parent, "total": rows, "min": lo_n, "max": hi_n}
            c.comment(child, f"{rows} rows, each {parent} row with {lo_n}..{hi_n} of them (min/max children).")
        elif isinstance(rows, dict):
            c.warn(f"min/max children {lo_n}..{hi_n} per {parent}: a table's rows follow one parent in the DSL "
                   f"(here {rows['per']}); this key is a plain foreign key", where, *path)
        else:
            c.warn(f"min/max children {lo_n}..{hi_n} per {parent} cannot give {rows} rows from {n_parents} parents "
                   "(Data-Generation pads or cuts its key pool); a plain foreign key instead", where, *path)
    lookups: Any = rel.get("lookup_columns") or {}
    need(isinstance(lookups, dict), c.src, f"relationships[{i}]: lookup_columns must map parent to child columns",
         *path, "lookup_columns")
    for pname, cname in lookups.items():
        src_col = next((col for col in ptable["columns"] if col["name"] == identifier(pname)), None)
        need(src_col is not None, c.src, f"relationships[{i}]: lookup of unknown column {parent}.{pname}",
             *path, "lookup_columns")
        assert src_col is not None
        look = {"name": identifier(cname), "type": src_col["type"],
                "generator": gen("expr", expr=f"{ckey}.{identifier(pname)}")}
        _replace_or_add(ctable, look)
        c.comment(f"{child}.{identifier(cname)}", f"looked up from {parent}.{pname} through {ckey}.")


def _replace_or_add(table: dict[str, Any], col: dict[str, Any]) -> None:
    for i, old in enumerate(table["columns"]):
        if old["name"] == col["name"]:
            table["columns"][i] = col
            return
    table["columns"].append(col)


def _corruption(c: Collector, spec: Any, table: dict[str, Any], name: str, dirty: set[str]) -> None:
    if not spec:
        return
    need(isinstance(spec, dict), c.src, f"table {name}: corruption must be a mapping", "tables", name, "corruption")
    rates: dict[str, float] = {}
    cols = {col["name"]: col for col in table["columns"]}
    if number(spec.get("missing_rate")) and spec["missing_rate"] > 0:
        rates["nulls"] = float(spec["missing_rate"])
        dirty.add("nulls")
    for col_name, rate in (spec.get("missing_by_column") or {}).items():
        col = cols.get(identifier(col_name))
        if col is None or not number(rate):
            c.warn(f"missing_by_column {col_name!r}: no such column", name, "tables", name, "corruption")
            continue
        col.setdefault("corruption", {})["nulls"] = float(rate)
        dirty.add("nulls")
    if number(spec.get("duplicate_rate")) and spec["duplicate_rate"] > 0:
        rates["extra_duplicates"] = float(spec["duplicate_rate"])
        dirty.add("extra_duplicates")
        c.note("duplicate_rate → extra_duplicates: each copy right after its row (Data-Generation appends them at "
               "the end)", name, "tables", name, "corruption")
    if number(spec.get("outlier_rate")) and spec["outlier_rate"] > 0:
        rates["out_of_range"] = float(spec["outlier_rate"])
        dirty.add("out_of_range")
        c.warn("outlier_rate → out_of_range: values beyond a column's min/max by 1–50% of its range, per cell of "
               "columns with bounds; Data-Generation multiplies one number of a row by 4–10", name,
               "tables", name, "corruption")
    for col_name, noise in (spec.get("type_noise") or {}).items():
        col = cols.get(identifier(col_name))
        if col is None or not isinstance(noise, dict):
            c.warn(f"type_noise {col_name!r}: no such column", name, "tables", name, "corruption")
            continue
        col.setdefault("corruption", {})["type_noise"] = float(noise.get("rate", 0.0))
        dirty.add("type_noise")
        if "value" in noise:
            c.warn(f"type_noise value {noise['value']!r}: the DSL writes its own placeholders (N/A, NULL, ?, …), "
                   "not a chosen one", f"{name}.{col['name']}", "tables", name, "corruption")
    if rates:
        table["corruption"] = rates
