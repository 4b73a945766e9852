"""Relationships are model objects and generator capabilities are class attributes.

* the loader puts a ``ForeignKeyRef`` on every fk column (composite key, self-reference,
  per-parent owner, skew), the planner collects them once into ``Plan.foreign_keys``, and
  ``describe`` prints exactly that graph;
* a guard walks the source of ``shared/``, ``generators/``, ``datagen/`` and ``csv_generator/``
  and fails when a generator is tested by name again (``generator.type == "fk"``,
  ``GENERATORS["fk"]``, a set of generator names, the fk's ``params["table"]`` read outside
  the fk generator).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.api import describe, resolve_plan
from shared.distributions.base import GENERATORS, Generator, load_builtins
from shared.model.schema import ForeignKeyRef, thaw
from shared.schema_dsl.loader import link_references, load_schema

ROOT = Path(__file__).resolve().parents[1]

SCHEMA = b"""
version: 1
name: refs
seed: 11
tables:
  - name: users
    rows: 40
    primary_key: id
    columns:
      - {name: id, type: int64, generator: {type: sequence}}
      - {name: code, type: string, unique: true, generator: {type: regex, params: {pattern: '[A-Z]{6}'}}}
      - {name: boss, type: int64, nullable: true, generator: {type: fk, params: {table: users}}}
  - name: groups
    rows: 6
    primary_key: gid
    columns:
      - {name: gid, type: int64, generator: {type: sequence, params: {start: 100}}}
  - name: members
    rows: {per: groups, distribution: {type: poisson, params: {lam: 3}}, min: 1, max: 5}
    primary_key: [uid, g2]
    columns:
      - {name: gid, type: int64, generator: {type: fk, params: {table: groups}}}
      - {name: uid, type: int64, generator: {type: fk, params: {table: users, skew: {type: zipf, params: {a: 1.2}}}}}
      - {name: g2, type: int64, generator: {type: fk, params: {table: groups, column: gid, skew: exponential}}}
      - {name: code, type: string, generator: {type: template, params: {template: "{uid.code}-{gid}"}}}
"""


@pytest.fixture(scope="module")
def schema():
    return load_schema("refs.yaml", SCHEMA)


def test_loader_resolves_each_fk_to_a_typed_reference(schema):
    users, groups, members = (schema.table(n) for n in ("users", "groups", "members"))
    assert [c.name for c in users.columns if c.references] == ["boss"]
    assert groups.foreign_keys == ()
    assert all(c.references is None for c in groups.columns)

    boss = users.column("boss").references
    assert boss == ForeignKeyRef(table="users", column="boss", parent="users", parent_column="id",
                                 path=("tables", 0, "columns", 2, "generator"), nullable=True)
    assert boss.self_reference and not boss.owner and boss.skew is None

    gid, uid, g2 = members.foreign_keys
    # per-parent: the first fk to rows.per is the owner, filled with the owning parent row
    assert (gid.column, gid.parent, gid.parent_column, gid.owner, gid.self_reference) == \
        ("gid", "groups", "gid", True, False)
    assert members.owner is gid
    # composite primary key of two fks, both skewed; the parent column defaults to the parent's pk
    assert (uid.parent, uid.parent_column, uid.owner) == ("users", "id", False)
    assert thaw(uid.skew) == {"type": "zipf", "params": {"a": 1.2}}
    assert (g2.parent, g2.parent_column, g2.skew, g2.owner) == ("groups", "gid", "exponential", False)
    assert members.primary_key == ("uid", "g2")
    assert g2.path == ("tables", 2, "columns", 2, "generator")
    assert schema.foreign_keys == (boss, gid, uid, g2)
    # resolve_ref goes through the reference, not the generator's name
    assert schema.resolve_ref(members, "uid.code") is users.column("code")
    with pytest.raises(KeyError, match="not a foreign key"):
        schema.resolve_ref(members, "code.id")
    # linking is done once by the loader; doing it again changes nothing
    assert link_references(schema) == schema


def test_plan_holds_the_foreign_key_graph_and_describe_prints_it(schema):
    plan = resolve_plan(schema)
    assert plan.order == ("users", "groups", "members")
    assert plan.foreign_keys == schema.foreign_keys  # plan order happens to be schema order here
    assert [r.column for r in plan.parents("members")] == ["gid", "uid", "g2"]
    assert [(r.table, r.column) for r in plan.children("groups")] == [("members", "gid"), ("members", "g2")]
    assert [(r.table, r.column) for r in plan.children("users")] == [("users", "boss"), ("members", "uid")]
    assert plan.tables["members"].owner_column == "gid"
    assert plan.tables["members"].depends_on == ("groups", "users")
    assert [g.columns for g in plan.tables["members"].groups] == [("uid", "g2")]

    edges = describe(plan)["foreign_keys"]
    assert edges == [{"table": r.table, "column": r.column, "parent": r.parent, "parent_column": r.parent_column,
                      "skew": thaw(r.skew), "nullable": r.nullable, "self_reference": r.self_reference,
                      "owner": r.owner} for r in plan.foreign_keys]
    assert list(edges[0]) == ["table", "column", "parent", "parent_column", "skew", "nullable",
                              "self_reference", "owner"]


def test_plan_foreign_keys_follow_the_plan_order():
    text = b"""
version: 1
name: order
tables:
  - name: child
    rows: 5
    columns:
      - {name: pid, type: int64, generator: {type: fk, params: {table: parent}}}
  - name: parent
    rows: 3
    primary_key: id
    columns:
      - {name: id, type: int64, generator: {type: sequence}}
"""
    plan = resolve_plan(load_schema("order.yaml", text))
    assert plan.order == ("parent", "child")
    assert [(r.table, r.column, r.parent, r.parent_column) for r in plan.foreign_keys] == \
        [("child", "pid", "parent", "id")]
    assert describe(plan)["foreign_keys"][0]["column"] == "pid"


def test_capabilities_are_generator_attributes():
    load_builtins()
    listed = {n for n, g in GENERATORS.view.items() if g.listed_values}
    ordered = {n for n, g in GENERATORS.view.items() if g.ordered_in_time}
    assert listed == {"choice", "const", "bernoulli"}
    assert ordered == {"time_series", "arrivals"}
    assert GENERATORS["sequence"].progression({}) == (1, 1)
    assert GENERATORS["sequence"].progression({"start": 0, "step": -2}) == (0, -2)
    assert all(GENERATORS[n].progression({}) is None for n in ("uniform_int", "fk", "choice"))
    assert [n for n, g in GENERATORS.view.items() if type(g).reference is not Generator.reference] == ["fk"]


def test_fk_indexable_except_self_reference_and_owner(schema):
    fk = GENERATORS["fk"]
    members = schema.table("members")
    assert fk.indexable(members.column("uid")) and fk.indexable(members.column("g2"))
    assert not fk.indexable(members.column("gid"))  # the owner: fixed by its parent
    assert not fk.indexable(schema.table("users").column("boss"))  # self-reference
    assert GENERATORS["uniform_int"].indexable(None) and not GENERATORS["normal"].indexable(None)


# --- the guard ---------------------------------------------------------------------------------

SOURCES = ("shared", "generators", "datagen", "csv_generator")
#: the fk generator itself and the registry may name generators
ALLOWED = {"shared/relationships/fk.py", "shared/registry.py"}


def _generator_names() -> set[str]:
    load_builtins()
    return set(GENERATORS.view)


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def name_tests(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, what) for every place in ``source`` that asks for a generator by name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op in operands:
                if _dotted(op).endswith("generator.type"):
                    found.append((node.lineno, "compares generator.type"))
                if isinstance(op, ast.Constant) and op.value in names and any(
                        "type" in _dotted(o).rsplit(".", 1)[-1] for o in operands if o is not op):
                    found.append((node.lineno, f"compares a type with the generator name {op.value!r}"))
        elif isinstance(node, ast.Subscript) and _dotted(node.value).endswith("GENERATORS") \
                and isinstance(node.slice, ast.Constant):
            found.append((node.lineno, f"GENERATORS[{node.slice.value!r}]"))
        elif isinstance(node, (ast.Set, ast.Tuple, ast.List)):
            strs = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(strs) >= 2 and len(strs) == len(node.elts) and set(strs) <= names:
                found.append((node.lineno, f"a set of generator names {sorted(strs)}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                and _dotted(node.func.value).endswith("generator.params") and node.args \
                and isinstance(node.args[0], ast.Constant) and node.args[0].value == "table":
            found.append((node.lineno, "reads the fk's params.table"))
        if isinstance(node, ast.Subscript) and _dotted(node.value).endswith("generator.params") \
                and isinstance(node.slice, ast.Constant) and node.slice.value == "table":
            found.append((node.lineno, "reads the fk's params['table']"))
    return found


def test_the_guard_catches_what_it_is_for():
    names = _generator_names()
    bad = '''
if column.generator.type == "fk": pass
if gtype in ("choice", "const"): pass
gen = GENERATORS["fk"]
NAMES = frozenset({"time_series", "arrivals"})
parent = c.generator.params.get("table")
parent = c.generator.params["table"]
if spec_type == "sequence": pass
'''
    assert sorted({line for line, _ in name_tests(bad, names)}) == [2, 3, 4, 5, 6, 7, 8]
    good = '''
if column.references is not None and gen.listed_values: pass
KINDS = frozenset({"int", "float"})
gen = GENERATORS[column.generator.type]
'''
    assert name_tests(good, names) == []


def test_no_generator_is_tested_by_name_outside_the_fk_generator():
    names = _generator_names()
    problems = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in ALLOWED:
                continue
            problems += [f"{rel}:{line}: {what}" for line, what in sorted(name_tests(path.read_text("utf-8"), names))]
    assert problems == [], ("ask the column's ForeignKeyRef (Column.references, Plan.foreign_keys) or a "
                            "capability of the generator class instead:\n" + "\n".join(problems))
