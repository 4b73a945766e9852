"""Issue 11, item 18: values defined through their own parent chain, and times past the calendar.

A column that reads, through a self-reference, a column that reads it back (``path:
"{parent.path}/{id}"``, ``depth: parent.depth + 1``, or ``x: parent.y`` with ``y: parent.x``)
cannot be computed row by row: ``describe`` used to say OK and ``generate`` died with a
RecursionError (exit 3). The planner names the cycle (exit 2, with the file, line and path).
A relative time or a duration past the calendar (``start: "-99999999999999d"``) was an
OverflowError at generate; it is refused with its location.

The fuzz test draws random self-referencing tables and checks the planner against an independent
cycle test (Kahn's algorithm over the reference graph): refused exactly when there is a cycle,
and every accepted schema generates.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import datagen
from datagen.cli import build_app
from shared.errors import PlanError, SchemaError
from tests.helpers import make_runner, output_text
from tests.test_fuzz_planner import fuzz

APP = build_app("csv")

HEAD = textwrap.dedent("""\
    version: 1
    name: s
    seed: 1
    tables:
      - name: nodes
        rows: 40
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - name: parent
            type: int64
            nullable: true
            generator: {type: fk, params: {table: nodes, column: id}}
    """)


def _schema(tmp_path: Path, columns: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(HEAD + textwrap.indent(textwrap.dedent(columns), "      "))
    return p


def _run(*args: str) -> tuple[int, str]:
    r = make_runner().invoke(APP, list(args))
    return r.exit_code, output_text(r)


CYCLES = {
    "template_path": ("""\
        - name: path
          type: string
          generator: {type: template, params: {template: "{parent.path}/{id}"}}
        """, "nodes.path reads parent.path", "s.yaml:16:"),
    "expr_depth": ("""\
        - name: depth
          type: int64
          generator: {type: expr, params: {expr: "parent.depth + 1"}}
        """, "nodes.depth reads parent.depth", "s.yaml:16:"),
    "mutual_pair": ("""\
        - name: x
          type: int64
          generator: {type: expr, params: {expr: "parent.y + 1"}}
        - name: y
          type: int64
          generator: {type: expr, params: {expr: "parent.x * 2"}}
        """, "nodes.x reads parent.y; nodes.y reads parent.x", "s.yaml:16:"),
    "through_a_same_row_column": ("""\
        - name: a
          type: int64
          generator: {type: expr, params: {expr: "b + 1"}}
        - name: b
          type: int64
          generator: {type: expr, params: {expr: "parent.a"}}
        """, "nodes.b reads parent.a; nodes.a reads b", "s.yaml:19:"),
}


@pytest.mark.parametrize("verb", ["describe", "generate"])
@pytest.mark.parametrize("case", sorted(CYCLES))
def test_a_parent_chain_cycle_is_named_at_plan_time(case: str, verb: str, tmp_path: Path):
    columns, chain, where = CYCLES[case]
    schema = _schema(tmp_path, columns)
    out = tmp_path / "out"
    code, text = _run(verb, "--schema", str(schema), "--out", str(out))
    assert code == 2, text
    assert "a column is defined through its own parent chain" in text
    assert chain in text and where in text and ".generator" in text
    assert "hint:" in text and "Traceback" not in text and "RecursionError" not in text
    assert not out.exists()  # nothing written, not even the folder


def test_reading_a_parent_column_that_reads_no_parent_is_fine(tmp_path: Path):
    schema = _schema(tmp_path, """\
        - name: label
          type: string
          generator: {type: template, params: {template: "n{id}"}}
        - name: parent_label
          type: string
          nullable: true
          generator: {type: template, params: {template: "{parent.label}/{label}"}}
        """)
    t = datagen.to_arrow(str(schema))["nodes"].to_pydict()
    by_id = dict(zip(t["id"], t["label"], strict=True))
    for pid, lab, pl in zip(t["parent"], t["label"], t["parent_label"], strict=True):
        if pid is not None:
            assert pl == f"{by_id[pid]}/{lab}"


def test_a_long_chain_of_same_row_columns_plans_without_recursion(tmp_path: Path):
    """A chain of 3,000 columns each reading the previous one: the column order is found
    iteratively (the recursive walk hit Python's recursion limit past ~1,000)."""
    n = 3000
    cols = "".join(f"- {{name: c{i}, type: int64, generator: {{type: expr, params: {{expr: \"c{i - 1} + 1\"}}}}}}\n"
                   for i in range(n, 0, -1))
    schema = _schema(tmp_path, cols + "- {name: c0, type: int64, generator: {type: expr, params: {expr: \"id\"}}}\n")
    plan = datagen.resolve_plan(str(schema), rows={"nodes": 3})
    order = plan.tables["nodes"].column_order
    assert order.index("c0") < order.index("c1") < order.index(f"c{n}")
    t = datagen.to_arrow(plan)["nodes"].to_pydict()  # computed in order, not by recursion
    assert t[f"c{n}"] == [i + n for i in t["id"]]


def _chain(levels: int) -> dict:
    """``levels + 1`` tables, each reading its parent's ``label`` into its own: ``levels`` nested
    reads through parents for the last one."""
    tables = [{"name": "t0", "rows": 4, "primary_key": "id", "columns": [
        {"name": "id", "type": "int64", "generator": "sequence"},
        {"name": "label", "type": "string", "generator": {"type": "template", "params": {"template": "r{id}"}}}]}]
    for i in range(1, levels + 1):
        tables.append({"name": f"t{i}", "rows": 4, "primary_key": "id", "columns": [
            {"name": "id", "type": "int64", "generator": "sequence"},
            {"name": "up", "type": "int64", "generator": {"type": "fk", "params": {"table": f"t{i - 1}", "column": "id"}}},
            {"name": "label", "type": "string",
             "generator": {"type": "template", "params": {"template": "{up.label}/{id}"}}}]})
    return {"version": 1, "name": "chain", "seed": 5, "tables": tables}


def test_a_chain_of_reads_through_parents_is_bounded(tmp_path: Path):
    """32 levels generate (in worker processes too); 33 are refused at plan time, naming the chain,
    instead of a RecursionError at generate (a 300-level chain used to end that way)."""
    from shared.schema_dsl.planner import MAX_LOOKUP_DEPTH

    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(_chain(MAX_LOOKUP_DEPTH)))
    code, text = _run("generate", "--schema", str(ok), "--out", str(tmp_path / "out"), "--workers", "2")
    assert code == 0, text
    last = (tmp_path / "out" / f"t{MAX_LOOKUP_DEPTH}.csv").read_text().splitlines()[1]
    assert last.count("/") == MAX_LOOKUP_DEPTH
    for levels in (MAX_LOOKUP_DEPTH + 1, 300):
        bad = tmp_path / f"bad{levels}.json"
        bad.write_text(json.dumps(_chain(levels)))
        code, text = _run("describe", "--schema", str(bad))
        assert code == 2, text
        assert f"values read through {levels} levels of parents" in text
        assert f"t{levels}.label → t{levels - 1}.label" in text and "t1.label → t0.label" in text
        assert f"over the {MAX_LOOKUP_DEPTH} this version follows" in text and "Recursion" not in text


@pytest.mark.parametrize("value, message", [
    ("-99999999999999d", "is longer than the whole timestamp range"),
    ("-800000d", "relative time '-800000d' from the anchor 2025-01-01T00:00:00Z lands before year 1"),
    ("+3000000d", "lands after year 9999"),
    ("-" + "9" * 400 + "d", "is longer than the whole timestamp range"),
])
def test_a_relative_start_past_the_calendar_is_refused_with_its_location(value: str, message: str, tmp_path: Path):
    schema = _schema(tmp_path, f"""\
        - name: ts
          type: timestamp
          generator: {{type: time_series, params: {{start: "{value}", step: 1s}}}}
        """)
    for verb in ("describe", "generate"):
        code, text = _run(verb, "--schema", str(schema), "--out", str(tmp_path / "out"))
        assert code == 2, text
        assert message in text and "s.yaml:16:" in text and "generator.params.start" in text, text
        assert "Traceback" not in text and "Overflow" not in text
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("param, value", [("step", "9" * 400 + "s"), ("step", "600000w"), ("jitter", "99999999999999999999w")])
def test_a_duration_past_the_calendar_is_refused(param: str, value: str, tmp_path: Path):
    params = {"start": "2020-01-01", "step": "1s", param: value}
    schema = _schema(tmp_path, f"""\
        - name: ts
          type: timestamp
          generator: {{type: time_series, params: {{{", ".join(f'{k}: "{v}"' for k, v in params.items())}}}}}
        """)
    with pytest.raises(SchemaError) as exc:
        datagen.load_schema(str(schema))
    (problem,) = exc.value.problems
    assert "is longer than the whole timestamp range" in problem.message
    assert problem.path.endswith(f"generator.params.{param}") and problem.line == 16


# -- fuzzing: the planner refuses exactly the cyclic reference graphs ------------------------------

#: a derived column reads: a same-row column, a column of the parent row, or only the id
REF = st.tuples(st.sampled_from(["row", "parent", "id"]), st.integers(0, 5))


def _has_cycle(refs: list[list[tuple[str, int]]]) -> bool:
    """Kahn's algorithm over column → columns it reads (same row or parent row alike)."""
    n = len(refs)
    deps = [{j % n for kind, j in r if kind != "id"} for r in refs]
    indegree = [len(d) for d in deps]
    readers = [[i for i in range(n) if j in deps[i]] for j in range(n)]
    ready = [i for i in range(n) if indegree[i] == 0]
    seen = 0
    while ready:
        j = ready.pop()
        seen += 1
        for i in readers[j]:
            indegree[i] -= 1
            if indegree[i] == 0:
                ready.append(i)
    return seen < n


@fuzz(40)
@given(st.lists(st.lists(REF, min_size=1, max_size=2), min_size=1, max_size=6))
def test_fuzz_parent_reference_graphs(refs: list[list[tuple[str, int]]]):
    n = len(refs)
    cols = []
    for i, r in enumerate(refs):
        terms = [{"row": f"c{j % n}", "parent": f"parent.c{j % n}", "id": "id"}[kind] for kind, j in r]
        cols.append({"name": f"c{i}", "type": "int64", "nullable": True,
                     "generator": {"type": "expr", "params": {"expr": " + ".join(terms)}}})
    doc = {"version": 1, "name": "s", "seed": 1, "tables": [{
        "name": "nodes", "rows": 30, "primary_key": "id", "columns": [
            {"name": "id", "type": "int64", "generator": "sequence"},
            {"name": "parent", "type": "int64", "nullable": True,
             "generator": {"type": "fk", "params": {"table": "nodes", "column": "id"}}},
            *cols]}]}
    self_loop = any(kind == "row" and j % n == i for i, r in enumerate(refs) for kind, j in r)
    if _has_cycle(refs) or self_loop:
        with pytest.raises((SchemaError, PlanError)) as exc:  # the loader already refuses a self-loop
            datagen.resolve_plan(doc)
        text = str(exc.value) + " ".join(p.message for p in exc.value.problems)
        assert any(w in text for w in ("cycle", "parent chain", "itself", "own value")), text
    else:
        t = datagen.to_arrow(doc)["nodes"]
        assert t.num_rows == 30
