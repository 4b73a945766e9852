"""Plan arithmetic (issue 14, item 5): ``--scale``, ``--table-scale``, ``--rows``, ``--include`` and
``--exclude`` as describe, generate and validate resolve them (docs/cli.md "Plan arithmetic")."""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datagen
from datagen.cli import app
from shared.errors import DatagenError, InfeasibleSchema, UsageError
from shared.schema_dsl.planner import parse_table_scale
from tests.helpers import make_runner, output_text

SCHEMA = """\
version: 1
name: arith
seed: 7
tables:
  - name: customers
    rows: 5
    primary_key: customer_id
    columns:
      - {name: customer_id, type: int64, generator: {type: sequence, params: {start: 1}}}
      - {name: email, type: string, generator: {type: template, params: {template: "c{customer_id}@x.org"}}}
      - {name: score, type: float64, generator: {type: normal, params: {mean: 10, std: 2}}}
  - name: orders
    rows: 40
    primary_key: order_id
    columns:
      - {name: order_id, type: int64, generator: {type: sequence, params: {start: 1}}}
      - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers, column: customer_id}}}
      - {name: contact, type: string, generator: {type: template, params: {template: "{customer_id.email}"}}}
      - {name: qty, type: int64, generator: {type: uniform_int, params: {min: 1, max: 9}}}
  - name: visits
    rows: {per: customers, distribution: {type: poisson, params: {lam: 2}}, min: 0, max: 5}
    columns:
      - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers, column: customer_id}}}
      - {name: page, type: string, generator: {type: choice, params: {values: [home, cart, pay]}}}
  - name: tickets
    rows: {per: customers, total: 10, min: 0, max: 10}
    columns:
      - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers, column: customer_id}}}
      - {name: urgent, type: bool, generator: {type: bernoulli, params: {p: 0.3}}}
  - name: profiles
    rows: {of: customers, coverage: 0.6}
    columns:
      - name: customer_id
        type: int64
        unique: true
        generator: {type: fk, params: {table: customers, column: customer_id}}
      - {name: bio, type: string, generator: {type: words, params: {min: 1, max: 3}}}
  - name: audit
    rows: 3
    columns:
      - {name: n, type: int64, generator: {type: sequence, params: {start: 100}}}
"""

LEAVES = ("orders", "visits", "tickets", "profiles", "audit")


@pytest.fixture(scope="module")
def schema_path(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("arith") / "arith.yaml"
    p.write_text(SCHEMA, encoding="utf-8")
    return p


def _rows(schema_path: Path, **kw) -> dict[str, int]:
    plan = datagen.resolve_plan(str(schema_path), **kw)
    return {n: plan.rows(n) for n in plan.order}


def _cli(*args) -> tuple[int, str]:
    r = make_runner().invoke(app, [str(a) for a in args])
    return r.exit_code, output_text(r)


# --- arithmetic ---------------------------------------------------------------------------------


def test_table_scale_multiplies_after_scale_and_rows_wins(schema_path):
    base = _rows(schema_path)
    assert base["customers"] == 5 and base["orders"] == 40 and base["audit"] == 3
    assert _rows(schema_path, table_scale={"orders": 2})["orders"] == 80
    assert _rows(schema_path, table_scale={"orders": 2})["customers"] == 5  # only that table
    both = _rows(schema_path, scale=0.5, table_scale={"orders": 3})
    assert both["orders"] == 60 and both["customers"] == 2  # 40 × 0.5 × 3; 5 × 0.5 = 2.5 → 2 (half to even)
    # --rows is absolute: it wins over --scale and --table-scale
    assert _rows(schema_path, scale=0.5, table_scale={"orders": 3}, rows={"orders": 7})["orders"] == 7


def test_rounding_is_half_to_even_twice_and_at_least_one(schema_path):
    # two roundings, as sdgen: round(round(5 × 0.5) × 3) = round(2 × 3) = 6, not round(7.5) = 8
    assert _rows(schema_path, scale=0.5, table_scale={"customers": 3})["customers"] == 6
    assert _rows(schema_path, table_scale={"customers": 0.5})["customers"] == 2   # 2.5 → 2
    assert _rows(schema_path, table_scale={"customers": 0.7})["customers"] == 4   # 3.5 → 4
    assert _rows(schema_path, table_scale={"customers": 1e-9})["customers"] == 1  # at least 1
    assert _rows(schema_path, scale=1e-9, table_scale={"audit": 1e-9})["audit"] == 1


def test_children_follow_a_scaled_parent(schema_path):
    """A table whose rows derive from its parent follows the parent's resolved rows: scaling the
    parent by --table-scale is the same plan as --rows on it."""
    scaled = _rows(schema_path, table_scale={"customers": 2})
    direct = _rows(schema_path, rows={"customers": 10})
    assert scaled == direct
    assert scaled["customers"] == 10 and scaled["profiles"] == 6  # coverage 0.6 of 10
    assert scaled["orders"] == 40  # a fixed count does not follow its parent


def test_table_scale_on_a_total_and_on_a_coverage_table(schema_path):
    assert _rows(schema_path, table_scale={"tickets": 2})["tickets"] == 20
    # the total stays inside [min × parents, max × parents]: 2 parents × 10 at most
    assert _rows(schema_path, scale=0.5, table_scale={"tickets": 3})["tickets"] == 15
    assert _rows(schema_path, scale=0.5, table_scale={"tickets": 9})["tickets"] == 20
    assert _rows(schema_path, table_scale={"profiles": 0.5})["profiles"] == 2  # 3 × 0.5 = 1.5 → 2
    with pytest.raises(InfeasibleSchema):  # more one-to-one children than parents
        datagen.resolve_plan(str(schema_path), table_scale={"profiles": 2})


def test_table_scale_on_a_table_without_a_count_of_its_own_is_refused(schema_path):
    with pytest.raises(UsageError, match=r"--table-scale visits=2: the rows of 'visits' follow from its parent "
                                         r"'customers'.*scale the parent instead"):
        datagen.resolve_plan(str(schema_path), table_scale={"visits": 2})


def test_the_python_forms_of_table_scale_agree(schema_path):
    a = _rows(schema_path, table_scale={"orders": 2.5})
    assert a == _rows(schema_path, table_scale=["orders=2.5"]) == _rows(schema_path, table_scale="orders=2.5")
    assert a["orders"] == 100


# --- unknown names and bad values ------------------------------------------------------------------


@pytest.mark.parametrize(("flag", "value", "shown"), [
    ("--table-scale", "ordres=2", "--table-scale ordres=2"),
    ("--include", "custmers", "--include custmers"),
    ("--exclude", "audits", "--exclude audits"),
])
@pytest.mark.parametrize("verb", ["describe", "generate"])
def test_an_unknown_table_is_exit_2_with_did_you_mean(schema_path, tmp_path, verb, flag, value, shown):
    code, text = _cli(verb, "--format", "csv", "--schema", schema_path, "--out", tmp_path / "o", flag, value)
    assert code == 2, text
    assert f"error: {shown}: the schema has no table" in text
    assert "did you mean" in text
    assert "Traceback" not in text
    assert not (tmp_path / "o").exists()


def test_validate_refuses_unknown_names_too(schema_path, tmp_path):
    out = tmp_path / "o"
    datagen.generate(str(schema_path), format="csv", out=out, workers=1)
    for flag, value in (("--table-scale", "ordres=2"), ("--include", "custmers"), ("--exclude", "audits")):
        code, text = _cli("validate", "--format", "csv", "--schema", schema_path, "--out", out, flag, value)
        assert code == 2 and "did you mean" in text, (flag, text)


@pytest.mark.parametrize(("value", "message"), [
    ("orders", "expected TABLE=F"),
    ("=2", "expected TABLE=F"),
    ("orders=", "is not a number"),
    ("orders=two", "is not a number"),
    ("orders=0", "finite number above 0"),
    ("orders=-1", "finite number above 0"),
    ("orders=inf", "finite number above 0"),
    ("orders=nan", "finite number above 0"),
])
def test_a_bad_factor_is_exit_2_naming_the_flag_and_value(schema_path, value, message):
    code, text = _cli("describe", "--format", "csv", "--schema", schema_path, "--table-scale", value)
    assert code == 2, text
    assert f"--table-scale {value!r}" in text and message in text
    assert "Traceback" not in text


def test_a_table_scaled_twice_is_refused(schema_path):
    code, text = _cli("describe", "--format", "csv", "--schema", schema_path,
                      "--table-scale", "orders=2", "--table-scale", "orders=3")
    assert code == 2 and "scaled twice" in text


@pytest.mark.parametrize("bad", [0, -2.0, math.inf, math.nan, True, "2", None, 10**400])
def test_python_factors_are_checked(schema_path, bad):
    with pytest.raises(UsageError, match="--table-scale orders="):
        datagen.resolve_plan(str(schema_path), table_scale={"orders": bad})


def test_a_factor_that_overflows_a_table_is_refused(schema_path):
    with pytest.raises(UsageError, match="more rows than a table can hold"):
        datagen.resolve_plan(str(schema_path), table_scale={"orders": 1e300}, allow_huge=True)


# --- include / exclude ------------------------------------------------------------------------------


def test_include_exclude_selection(schema_path):
    plan = datagen.resolve_plan(str(schema_path), exclude=["orders", "audit"])
    assert plan.excluded == ("orders", "audit") and "orders" not in plan.kept
    plan = datagen.resolve_plan(str(schema_path), include=["customers", "visits"])
    assert plan.kept == ("customers", "visits")
    # both: include first, then exclude (as sdgen)
    plan = datagen.resolve_plan(str(schema_path), include=["customers", "audit", "visits"], exclude=["audit"])
    assert plan.kept == ("customers", "visits")
    # excluded tables are still planned: the same rows as a full run
    assert {n: plan.rows(n) for n in plan.order} == _rows(schema_path)
    with pytest.raises(UsageError, match="no table to write"):
        datagen.resolve_plan(str(schema_path), include=["audit"], exclude=["audit"])
    with pytest.raises(UsageError, match="no table to write"):
        datagen.resolve_plan(str(schema_path), exclude=["customers", *LEAVES])


@pytest.mark.parametrize("args", [("--exclude", "customers"), ("--include", "orders")])
def test_excluding_a_referenced_parent_names_child_parent_and_fix(schema_path, tmp_path, args):
    code, text = _cli("generate", "--format", "csv", "--schema", schema_path, "--out", tmp_path / "o", *args)
    assert code == 2, text
    assert f"error: {args[0]}: table 'orders' is written but its parent 'customers' is not" in text
    assert "include it" in text and "mode=append" in text and "already holds 'customers'" in text
    assert not (tmp_path / "o").exists()


def test_a_plan_allowing_missing_parents_is_written_only_in_append_mode(schema_path, tmp_path):
    plan = datagen.resolve_plan(str(schema_path), exclude=["customers"], allow_missing_parents=True)
    assert ("orders", "customers") in plan.missing_parents
    with pytest.raises(UsageError, match="mode=append"):
        datagen.generate(plan, format="csv", out=tmp_path / "o", workers=1)
    assert not (tmp_path / "o").exists()
    with pytest.raises(UsageError, match="mode=append"):
        datagen.generate(str(schema_path), format="csv", out=tmp_path / "o", exclude=["customers"], workers=1)


def _table_files(out: Path, fmt: str, table: str) -> dict[str, bytes]:
    if fmt == "csv":
        return {f"{table}.csv": (out / f"{table}.csv").read_bytes()}
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted((out / table).rglob("*.parquet"))}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("selection", [{"exclude": ["orders", "audit"]},
                                       {"include": ["customers", "visits", "profiles"]},
                                       {"include": ["customers", "orders", "tickets"], "exclude": ["tickets"]}])
def test_kept_tables_are_byte_identical_to_a_full_run(schema_path, tmp_path, fmt, selection):
    full = datagen.generate(str(schema_path), format=fmt, out=tmp_path / "full", workers=1, table_scale={"orders": 2})
    part = datagen.generate(str(schema_path), format=fmt, out=tmp_path / "part", workers=1, table_scale={"orders": 2},
                            **selection)
    plan = datagen.resolve_plan(str(schema_path), **selection)
    assert plan.excluded
    for name in plan.kept:
        files = _table_files(tmp_path / "part", fmt, name)
        assert files and files == _table_files(tmp_path / "full", fmt, name), name
    for name in plan.excluded:  # no artifact at all
        assert not list((tmp_path / "part").glob(f"{name}*")), name
    m = part.manifest
    assert m["excluded"] == list(plan.excluded)
    assert set(m["rows"]) == set(plan.kept)
    assert {f["table"] for f in m["files"] if f["table"]} == set(plan.kept)
    assert m["table_scale"] == {"orders": 2.0}
    assert m["include"] == (None if "include" not in selection else
                            [n for n in plan.order if n in selection["include"]])
    assert full.manifest["excluded"] == [] and full.manifest["include"] is None
    assert set(part.rows) == set(plan.kept)


def test_the_memory_sink_leaves_excluded_tables_out(schema_path):
    res = datagen.generate(str(schema_path), output={"sink": "memory", "table_format": "arrow"}, exclude=["orders"],
                           workers=1)
    assert "orders" not in res.tables and "customers" in res.tables
    assert res.manifest["excluded"] == ["orders"]


def test_the_run_record_hash_is_unchanged_without_the_new_flags(schema_path, tmp_path):
    a = datagen.generate(str(schema_path), format="csv", out=tmp_path / "a", workers=1)
    assert "table_scale" not in a.record["config"] and "excluded" not in a.record["config"]
    b = datagen.generate(str(schema_path), format="csv", out=tmp_path / "b", workers=1, exclude=["audit"])
    assert b.record["config"]["excluded"] == ["audit"] and b.record["config_hash"] != a.record["config_hash"]
    assert "audit" not in b.record["rows"]


# --- validate ---------------------------------------------------------------------------------------


def test_validate_passes_on_an_excluded_run_without_repeating_the_flags(schema_path, tmp_path):
    out = tmp_path / "o"
    code, text = _cli("generate", "--format", "csv", "--schema", schema_path, "--out", out, "-q", "-w", "1",
                      "--exclude", "orders", "--exclude", "audit", "--table-scale", "tickets=2", "--scale", "0.8")
    assert code == 0, text
    code, text = _cli("validate", "--format", "csv", "--schema", schema_path, "--out", out, "--json")
    assert code == 0, text
    rep = json.loads((out / "validation_report.json").read_text())
    assert rep["status"] == "pass"
    tables = {c["table"] for c in rep["checks"] if c["table"]}
    assert "orders" not in tables and "audit" not in tables and "tickets" in tables
    # the same flags given back match the run; others fail run_match (exit 1)
    code, _ = _cli("validate", "--format", "csv", "--schema", schema_path, "--out", out, "-q",
                   "--exclude", "audit", "--exclude", "orders", "--table-scale", "tickets=2")
    assert code == 0
    code, _ = _cli("validate", "--format", "csv", "--schema", schema_path, "--out", out, "-q", "--exclude", "audit")
    assert code == 1
    rep = json.loads((out / "validation_report.json").read_text())
    assert [c for c in rep["checks"] if c["kind"] == "run_match"][0]["status"] == "fail"
    code, _ = _cli("validate", "--format", "csv", "--schema", schema_path, "--out", out, "-q",
                   "--table-scale", "tickets=3")
    assert code == 1


def test_validate_without_a_manifest_checks_only_the_chosen_tables(schema_path, tmp_path):
    out = tmp_path / "o"
    datagen.generate(str(schema_path), format="csv", out=out, workers=1, exclude=["audit"])
    (out / "manifest.json").unlink()
    rep = datagen.validate(str(schema_path), out=out, format="csv")
    assert rep["status"] == "fail"  # audit.csv is missing
    rep = datagen.validate(str(schema_path), out=out, format="csv", exclude=["audit"])
    assert rep["status"] == "pass", [c for c in rep["checks"] if c["status"] == "fail"]


def test_append_mode_may_exclude_the_parent_and_validates(schema_path, tmp_path):
    """SQLite: the full run's database with orders emptied, then a run that appends orders only —
    the database ends up equal to the full run's, and validate passes (the foreign key into the
    excluded parent is a skipped check saying so; SQLite's own foreign_key_check still runs)."""
    full = tmp_path / "full"
    datagen.generate(str(schema_path), format="sqlite", out=full, workers=1)
    db = tmp_path / "target.sqlite"
    shutil.copy(full / "arith.sqlite", db)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM orders")
    out = tmp_path / "append"
    code, text = _cli("generate", "--format", "sqlite", "--schema", schema_path, "--out", out, "-q", "-w", "1",
                      "--include", "orders", "--option", "mode=append", "--option", f"database={db}")
    assert code == 0, text
    with sqlite3.connect(full / "arith.sqlite") as a, sqlite3.connect(db) as b:
        for t in ("customers", "orders"):
            q = f"SELECT * FROM {t} ORDER BY rowid"
            assert a.execute(q).fetchall() == b.execute(q).fetchall(), t
    code, text = _cli("validate", "--format", "sqlite", "--schema", schema_path, "--out", out, "--json",
                      "--option", f"database={db}")
    assert code == 0, text
    rep = json.loads((out / "validation_report.json").read_text())
    fk = [c for c in rep["checks"] if c["kind"] == "foreign_key" and c["table"] == "orders"]
    assert fk and fk[0]["status"] == "skipped" and "excluded from this run" in fk[0]["message"]
    # describe with the same options shows the plan it allows
    code, text = _cli("describe", "--format", "sqlite", "--schema", schema_path, "--include", "orders",
                      "--option", "mode=append", "--option", f"database={db}")
    assert code == 0 and "references customers, which is excluded" in text


# --- describe ---------------------------------------------------------------------------------------


def test_describe_json_carries_the_arithmetic(schema_path):
    code, text = _cli("describe", "--format", "csv", "--schema", schema_path, "--json", "--scale", "0.5",
                      "--table-scale", "orders=3", "--rows", "audit=9", "--exclude", "visits")
    assert code == 0, text
    info = json.loads(text)
    t = {x["name"]: x for x in info["tables"]}
    assert {k: t["orders"][k] for k in ("base_rows", "scale", "table_scale", "rows_override", "rows",
                                        "included", "excluded")} == {
        "base_rows": 40, "scale": 0.5, "table_scale": 3.0, "rows_override": None, "rows": 60,
        "included": True, "excluded": False}
    assert t["audit"]["rows_override"] == 9 and t["audit"]["rows"] == 9 and t["audit"]["scale"] is None
    assert t["visits"]["excluded"] is True and t["visits"]["base_rows"] is None
    assert t["visits"]["derived_from"] == "customers"
    assert t["tickets"]["base_rows"] == 10 and t["tickets"]["derived_from"] == "customers"
    assert info["excluded"] == ["visits"] and "visits" not in info["written"]
    assert info["table_scale"] == {"orders": 3.0} and info["scale"] == 0.5
    assert info["total_rows"] == sum(x["rows"] for x in info["tables"] if not x["excluded"])
    assert info["planned_rows"] == sum(x["rows"] for x in info["tables"])
    # the keys describe always had are still there
    for key in ("rows_rule", "columns", "estimated_bytes", "depends_on"):
        assert key in t["orders"]
    # the Python API gives the same
    py = datagen.describe(str(schema_path), format="csv", scale=0.5, table_scale={"orders": 3}, rows={"audit": 9},
                          exclude=["visits"])
    assert py["tables"] == info["tables"]


def test_describe_text_shows_the_resolved_plan(schema_path):
    code, text = _cli("describe", "--format", "csv", "--schema", schema_path, "--scale", "0.5",
                      "--table-scale", "orders=3", "--exclude", "audit")
    assert code == 0, text
    assert "resolved plan" in text
    row = next(line for line in text.splitlines() if "│ orders" in line)
    assert "40" in row and "×0.5" in row and "×3" in row and "60" in row and "yes" in row
    row = next(line for line in text.splitlines() if "│ audit" in line)
    assert row.rstrip("│ ").endswith("excluded")
    assert "table-scale ×3" in text and "EXCLUDED (planned, not written)" in text


# --- the TABLE=F parser -----------------------------------------------------------------------------

NAMES = st.text(st.characters(blacklist_characters="=", blacklist_categories=("Cs",)), min_size=1,
                max_size=12).filter(lambda s: s.strip() != "")
FACTORS = st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False).filter(lambda f: f > 0)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(NAMES, FACTORS, max_size=5))
def test_table_scale_parser_round_trips(scales):
    items = [f"{name}={f!r}" for name, f in scales.items()]
    stripped = {name.strip() for name in scales}
    if len(stripped) < len(scales):  # names equal once stripped: a table scaled twice
        with pytest.raises(UsageError, match="scaled twice"):
            parse_table_scale(items)
        return
    assert parse_table_scale(items) == {name.strip(): f for name, f in scales.items()}


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=20), max_size=4))
def test_table_scale_parser_never_raises_anything_but_usage_errors(items):
    try:
        out = parse_table_scale(items)
    except UsageError as exc:
        assert str(exc).startswith("--table-scale ")
        return
    for name, f in out.items():
        assert name == name.strip() and name
        assert math.isfinite(f) and f > 0


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=10), max_size=3))
def test_unknown_or_odd_names_never_give_a_traceback(items):
    schema = datagen.load_schema(SCHEMA, name="arith")
    for kw in ({"table_scale": [f"{t}=2" for t in items]}, {"include": items}, {"exclude": items}):
        try:
            datagen.resolve_plan(schema, **kw)
        except DatagenError:
            pass


def test_the_event_stream_of_kept_tables_is_the_full_stream_without_the_excluded(tmp_path):
    """event_stream merges every event table into one file: leaving a table out leaves exactly
    its events out — the other lines are the full run's, in the same order."""
    from tests.helpers import EXAMPLES_DIR

    iot = str(EXAMPLES_DIR / "iot.yaml")
    datagen.generate(iot, format="event_stream", out=tmp_path / "full", scale=0.02, workers=1)
    part = datagen.generate(iot, format="event_stream", out=tmp_path / "part", scale=0.02, workers=1,
                            exclude=["alerts"])
    full_lines = (tmp_path / "full" / "events.ndjson").read_bytes().splitlines()
    kept = [line for line in full_lines if json.loads(line)["table"] != "alerts"]
    assert len(kept) < len(full_lines)
    assert (tmp_path / "part" / "events.ndjson").read_bytes().splitlines() == kept
    assert datagen.validate(iot, out=part.output_dir)["status"] == "pass"
