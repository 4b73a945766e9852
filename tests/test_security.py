"""Security: what a schema, an output folder or an artifact smuggles in gets nowhere.

* identifiers are validated by the DSL (no ``..``, ``/``, quotes or a trailing newline can reach
  a file name or SQL) and always quoted in SQL — SQL keywords as names round-trip through SQLite;
* nothing in a schema writes outside ``--out``; links inside a previous ``--out`` are replaced,
  never written through; ``validate`` reads no artifact through a link (a link to a FIFO would
  hang it) and writes its report without following a link planted under its name; a lock file
  planted as a link to a FIFO cannot hang ``generate``;
* YAML is loaded safely (Python tags refused, nothing runs);
* ``expr`` cannot reach Python: dunders, attribute access, subscripts, lambdas and calls outside
  the whitelist are refused with an ``ExprError``, and the module calls no ``eval``/``exec``;
* ``regex`` refuses huge patterns with a message and bounds unbounded quantifiers;
* ``pattern`` checks in ``validate`` run on RE2 (linear time): ``(a+)+$`` against ``a…ab`` is fast;
  the loader checks ``choice``/``const`` values against ``pattern`` the same way;
* a plan above the size cap (rows × columns) needs ``allow_huge`` (``--allow-huge``).
"""

from __future__ import annotations

import ast
import json
import os
import signal
import sqlite3
import textwrap
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generators.csv_generator.__main__ import app as csv_app
from generators.csv_generator.format import CsvFormat
from generators.parquet_generator.format import ParquetFormat
from generators.sqlite_seed.format import SqliteFormat
from shared import api
from shared.distributions.regex import (
    MAX_EXPANDED_LENGTH,
    MAX_PATTERN_LENGTH,
    UNBOUNDED_EXTRA,
    RegexError,
    compile_pattern,
)
from shared.errors import SchemaError, UsageError
from shared.io.output import AtomicOutput
from shared.model import expr as expr_mod
from shared.model.expr import FUNCTIONS, ExprError, parse_expr
from shared.schema_dsl.planner import MAX_CELLS, max_cells, resolve_plan
from shared.validation.runner import validate_output
from tests.gen_helpers import run as run_generator
from tests.helpers import make_runner

SMALL = textwrap.dedent("""\
    version: 1
    name: sec
    seed: 5
    tables:
      - name: customers
        rows: 40
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: code, type: string, generator: {type: regex, params: {pattern: '[A-Z]{4}'}}}
      - name: orders
        rows: 90
        primary_key: order_id
        columns:
          - {name: order_id, type: int64, generator: sequence}
          - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers, column: id}}}
""")


def _schema(tmp_path: Path, text: str = SMALL, name: str = "sec.yaml") -> str:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(p)


def _plan(tmp_path: Path, text: str = SMALL, **kw):
    return resolve_plan(api.load_schema(_schema(tmp_path, text)), **kw)



def _tree(root: Path) -> dict[str, bytes]:
    """Every file under root (links as their target text), for before/after comparisons."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = Path(dirpath, name)
            out[str(p.relative_to(root))] = (b"->" + os.readlink(p).encode()) if p.is_symlink() else p.read_bytes()
    return out


# --- identifiers ----------------------------------------------------------------------------------

BAD_NAMES = ["../x", "..", "a/b", "a\\b", "/abs", "x\n", "a b", 'a"b', "a'b", "a;b", "", "1abc", "ä", "a.b",
             "a\x00b", "a" * 129]


@pytest.mark.parametrize("where", ["schema", "table", "column"])
@pytest.mark.parametrize("bad", BAD_NAMES, ids=[repr(n)[:20] for n in BAD_NAMES])
def test_identifiers_are_validated(tmp_path: Path, where: str, bad: str):
    names = {"schema": "s", "table": "t", "column": "id", where: bad}
    text = (f"version: 1\nname: {json.dumps(names['schema'])}\ntables:\n"
            f"  - name: {json.dumps(names['table'])}\n    rows: 2\n    columns:\n"
            f"      - {{name: {json.dumps(names['column'])}, type: int64, generator: sequence}}\n")
    with pytest.raises(SchemaError) as info:
        api.load_schema(_schema(tmp_path, text))
    assert any("is not a valid name" in p.message or "too long" in p.message or "must not be empty" in p.message
               or "does not match" in p.message or "NUL" in p.message for p in info.value.problems), \
        info.value.render()


def test_table_names_cannot_escape_out(tmp_path: Path):
    """A generate of every format writes files only inside --out."""
    text = SMALL.replace("name: orders", "name: ___")
    plan = _plan(tmp_path, text)
    for fmt in (CsvFormat(), ParquetFormat(), SqliteFormat()):
        out = tmp_path / "box" / fmt.name
        manifest = api.generate(plan, fmt, out)
        for f in manifest["files"]:
            p = (out / f["path"]).resolve()
            assert p.is_relative_to(out.resolve()), f["path"]
    assert sorted(os.listdir(tmp_path)) == ["box", "sec.yaml"]
    assert sorted(os.listdir(tmp_path / "box")) == ["csv", "parquet", "sqlite"]


def test_sql_keywords_as_names_are_quoted(tmp_path: Path):
    text = textwrap.dedent("""\
        version: 1
        name: select
        tables:
          - name: from
            rows: 5
            primary_key: where
            columns:
              - {name: where, type: int64, generator: sequence}
              - {name: group, type: string, generator: {type: choice, params: {values: [a, b]}}}
          - name: order
            rows: 7
            columns:
              - {name: table, type: int64, generator: {type: fk, params: {table: from, column: where}}}
        """)
    out = tmp_path / "db"
    api.generate(_plan(tmp_path, text), SqliteFormat(), out)
    conn = sqlite3.connect(out / "select.sqlite")
    try:
        ddl = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
        assert set(ddl) == {"from", "order"}
        assert 'CREATE TABLE "from"' in ddl["from"] and '"where"' in ddl["from"]
        assert 'REFERENCES "from" ("where")' in ddl["order"]
        assert conn.execute('SELECT count(*) FROM "order"').fetchone() == (7,)
        assert conn.execute('PRAGMA foreign_key_check("order")').fetchall() == []
    finally:
        conn.close()


# --- links inside --out ---------------------------------------------------------------------------


def test_generate_replaces_links_in_the_old_out_without_following_them(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("do not touch")
    (outside / "dir").mkdir()
    (outside / "dir" / "keep.txt").write_text("keep me")
    before = _tree(outside)
    plan = _plan(tmp_path)
    out = tmp_path / "out"
    api.generate(plan, CsvFormat(), out)
    # plant links where the next run writes its files, and elsewhere
    (out / "customers.csv").unlink()
    (out / "customers.csv").symlink_to(outside / "precious.txt")
    (out / "orders.csv").unlink()
    (out / "orders.csv").symlink_to(outside / "precious.txt")
    (out / "linked_dir").symlink_to(outside / "dir")
    api.generate(plan, CsvFormat(), out)
    assert _tree(outside) == before
    assert not [p for p in out.rglob("*") if p.is_symlink()]
    assert (out / "customers.csv").read_text().startswith('"id","code"')


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "outside.fifo"
    os.mkfifo(fifo)
    return fifo


def _bounded(fn, seconds: float = 20.0):
    """Run fn() in a thread; fail (instead of hanging the suite) if it does not return in time.
    A hang guard, not a speed budget: reading through a link into a FIFO blocks forever."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"did not finish in {seconds} s (it followed a link into a FIFO?)"
    if "error" in box:
        raise box["error"]
    return box.get("value")


@pytest.mark.parametrize("fmt, victim", [(CsvFormat(), "customers.csv"), (ParquetFormat(), "customers"),
                                         (CsvFormat(), "csv_dialect.json"), (CsvFormat(), "manifest.json")])
def test_validate_reads_nothing_through_links(tmp_path: Path, fmt, victim: str):
    plan = _plan(tmp_path)
    out = tmp_path / "out"
    api.generate(plan, fmt, out)
    fifo = _fifo(tmp_path)
    target = out / victim
    if target.is_dir():
        import shutil

        shutil.rmtree(target)
    else:
        target.unlink()
    target.symlink_to(fifo)  # reading through the link would block forever
    rep = _bounded(lambda: validate_output(plan.schema, fmt, out))
    assert rep["status"] == "fail"
    msgs = [c["message"] for c in rep["checks"] if c["status"] == "fail"]
    if victim == "manifest.json":
        assert "manifest.json is a symbolic link; validate does not follow links" in msgs
    else:
        assert f"{victim} is a symbolic link; validate does not follow links inside --out, so no artifact was read" \
            in msgs


def test_validate_report_is_not_written_through_a_link(tmp_path: Path):
    plan = _plan(tmp_path)
    out = tmp_path / "out"
    api.generate(plan, CsvFormat(), out)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "report.json").symlink_to(victim)
    (tmp_path / "report.json.tmp").symlink_to(victim)  # the old fixed temporary name
    result = make_runner().invoke(csv_app, ["validate", "--schema", plan.schema.source.path, "--out", str(out),
                                        "--report", str(tmp_path / "report.json")])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious"
    assert not (tmp_path / "report.json").is_symlink()
    assert json.loads((tmp_path / "report.json").read_text())["status"] == "pass"


def test_a_lock_planted_as_a_link_to_a_fifo_cannot_hang_generate(tmp_path: Path):
    plan = _plan(tmp_path)
    out = tmp_path / "out"
    (tmp_path / ".out.datagen.lock").symlink_to(_fifo(tmp_path))
    manifest = _bounded(lambda: api.generate(plan, CsvFormat(), out))
    assert manifest["rows"]["orders"] == 90
    assert not (tmp_path / ".out.datagen.lock").exists()


def test_atomic_output_refuses_a_symlinked_out(tmp_path: Path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(UsageError, match="is a symbolic link"), AtomicOutput(tmp_path / "link"):
        pass
    assert os.listdir(tmp_path / "real") == []


# --- safe YAML ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['touch {m}']", "!!python/name:os.system",
                                 "!!python/object/new:subprocess.Popen [['touch', '{m}']]", "!!binary aGVsbG8="])
def test_yaml_python_tags_are_refused_and_run_nothing(tmp_path: Path, tag: str):
    marker = tmp_path / "pwned"
    text = f"version: 1\nname: x\ndescription: {tag.format(m=marker)}\ntables: []\n"
    with pytest.raises(SchemaError, match="unsupported YAML tag|schema"):
        api.load_schema(_schema(tmp_path, text))
    assert not marker.exists()


# --- expr cannot reach Python -----------------------------------------------------------------------

EXPR_ESCAPES = [
    "__import__('os').system('true')", "a.__class__", "a.__class__.__mro__", "().__class__", "x.__dict__",
    "__builtins__", "a.__globals__", "getattr(a, 'b')", "eval('1')", "exec('1')", "compile('1', 'f', 'eval')",
    "open('/etc/passwd')", "globals()", "locals()", "vars()", "type(a)", "lambda: 1", "a[0]", "a[1:2]", "{'a': 1}",
    "[1, 2]", "a if b else c", "import os", "from os import system", "f'{a}'", "a.b.c", "a.b()", "a.upper()",
    "a := 1", "a = 1", "a; b", "`a`", "@a", "a ** 2", "a | b", "a & b", "~a", "a ^ b", "a << 1", "\\x41",
    "'\\x41'", "a.__len__()", "round.__call__(1)", "__class__", "_" * 2 + "x" + "_" * 2, "a.__x",
    "concat(a.__class__)", "min(a, b).__class__", "if.__call__(1, 2, 3)", "None", "True", "print(1)",
]


@pytest.mark.parametrize("text", EXPR_ESCAPES)
def test_expr_cannot_reach_python(text: str):
    with pytest.raises(ExprError) as info:
        parse_expr(text)
    assert 0 <= info.value.position <= len(text)


def test_expr_whitelist_is_closed_and_the_module_never_evals():
    assert set(FUNCTIONS) == {"if", "days", "hours", "minutes", "seconds", "round", "abs", "floor", "ceil", "min",
                              "max", "lower", "upper", "concat", "uniform", "normal", "exponential",
                              "row", "case", "coalesce", "is_null", "length", "trim", "ltrim", "rtrim", "replace",
                              "substring", "lpad", "rpad", "year", "quarter", "month", "day", "weekday", "hour",
                              "minute", "second", "date_trunc", "to_string", "to_int", "to_float", "to_date",
                              "to_timestamp", "parse_date", "parse_timestamp"}
    tree = ast.parse(Path(expr_mod.__file__).read_text(encoding="utf-8"))
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__", "getattr", "setattr", "globals", "locals", "vars"}
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names} | {n.module.split(".")[0] for n in ast.walk(tree)
                                     if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"os", "sys", "subprocess", "builtins", "importlib", "pickle", "ctypes"}


def test_expr_in_a_schema_is_refused_with_location(tmp_path: Path):
    text = SMALL + '      - {name: x, type: string, generator: {type: expr, params: {expr: "customer_id.__class__"}}}\n'
    with pytest.raises(SchemaError) as info:
        api.load_schema(_schema(tmp_path, text))
    rendered = info.value.render()
    assert "generator.params.expr" in rendered and "__" in rendered


# --- regex: huge and unbounded patterns -------------------------------------------------------------


@pytest.mark.parametrize("pattern, message", [
    ("a" * (MAX_PATTERN_LENGTH + 1), f"pattern longer than {MAX_PATTERN_LENGTH} characters"),
    ("a{10001}", "repeat count over 10000"),
    ("a{999999999999999999999}", "repeat count over 10000"),
    ("[a-z]{5000}[0-9]{5001}", f"(budget {MAX_EXPANDED_LENGTH})"),
    ("((((a{100}){100}){100}){100})", f"(budget {MAX_EXPANDED_LENGTH})"),
    ("((a|b|c|d|e|f|g|h){100}){30}", "nodes (budget"),
    ("(" * 40 + "a" + ")" * 40, "groups nested deeper than 32"),
    ("(a+)+\\1", "back-references"),
    ("(?=a)a", "look-arounds"),
    ("[^a]", "negated character classes"),
])
def test_regex_refuses_huge_patterns(pattern: str, message: str):
    """Refused by a cap that is measured, not reached (the timing is in bench/hostile.py)."""
    with pytest.raises(RegexError) as info:
        compile_pattern(pattern)
    assert message in str(info.value), str(info.value)


@pytest.mark.parametrize("pattern", ["a*", "(a+)+", "((a*)*)*b", "[a-z]+@[a-z]+\\.com", "x{3,}"])
def test_unbounded_quantifiers_are_bounded(pattern: str):
    """`*`, `+` and `{m,}` are capped (UNBOUNDED_EXTRA), so even nested ones stay small."""
    import re

    values = run_generator("regex", {"pattern": pattern}, type="string", rows=2000).to_pylist()
    assert all(re.fullmatch(pattern, v) for v in values)
    assert max(map(len, values)) <= compile_pattern(pattern).max_length
    assert compile_pattern("a*").max_length == UNBOUNDED_EXTRA


# --- pattern checks are linear time ------------------------------------------------------------------

REDOS_SCHEMA = """\
    version: 1
    name: redos
    tables:
      - name: t
        rows: 3
        columns:
          - {name: s, type: string, pattern: '(a+)+$', generator: {type: const, params: {value: a}}}
"""


def test_validate_pattern_check_cannot_backtrack(tmp_path: Path):
    """A data contract (no manifest) whose values would take Python's re years: RE2 is linear
    (so this returns at all; its time is measured in bench/hostile.py, not asserted here)."""
    schema = api.load_schema(_schema(tmp_path, REDOS_SCHEMA))
    out = tmp_path / "data"
    out.mkdir()
    evil = "a" * 100_000 + "b"
    (out / "t.csv").write_text(f"s\n{evil}\naaaa\n{'a' * 40}!\n", encoding="utf-8")
    rep = validate_output(schema, CsvFormat(), out)
    pattern = next(c for c in rep["checks"] if c["kind"] == "pattern")
    assert pattern["status"] == "fail" and pattern["unexpected_count"] == 2


def test_loader_pattern_check_cannot_backtrack(tmp_path: Path):
    text = REDOS_SCHEMA.replace("const, params: {value: a}", "choice, params: {values: ['" + "a" * 60 + "b']}")
    with pytest.raises(SchemaError, match="schema") as info:
        api.load_schema(_schema(tmp_path, text))
    assert "does not match the column's pattern" in info.value.render()


# --- the size cap ----------------------------------------------------------------------------------


def test_size_cap_needs_allow_huge(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("DATAGEN_MAX_CELLS", raising=False)
    schema = api.load_schema(_schema(tmp_path))
    assert max_cells() == MAX_CELLS == 5_000_000_000
    with pytest.raises(UsageError) as info:
        resolve_plan(schema, rows={"customers": 10**12})
    msg = str(info.value)
    for part in ("about 2,000,000,000,180 cells", "customers: 1,000,000,000,000 rows × 2 columns",
                 "over the cap of 5,000,000,000 cells", "--allow-huge", "DATAGEN_MAX_CELLS"):
        assert part in msg, msg
    assert resolve_plan(schema, rows={"customers": 10**12}, allow_huge=True).rows("customers") == 10**12
    monkeypatch.setenv("DATAGEN_MAX_CELLS", "1e3")
    with pytest.raises(UsageError, match="over the cap of 1,000 cells"):
        resolve_plan(schema, scale=10)
    monkeypatch.setenv("DATAGEN_MAX_CELLS", "-4")
    with pytest.raises(UsageError, match="expected a positive whole number"):
        resolve_plan(schema)


def test_size_cap_is_checked_before_per_parent_counting(tmp_path: Path, monkeypatch):
    """A huge parent is refused at once, not after counting its children parent by parent."""
    monkeypatch.delenv("DATAGEN_MAX_CELLS", raising=False)
    text = SMALL.replace("rows: 90", "rows: {per: customers, distribution: {type: poisson, params: {lam: 2}}}")
    schema = api.load_schema(_schema(tmp_path, text))
    from shared.schema_dsl import planner

    counted = []
    monkeypatch.setattr(planner, "build_count_index", lambda *a: counted.append(a))
    with pytest.raises(UsageError, match="--allow-huge"):
        resolve_plan(schema, rows={"customers": 4_000_000_000})
    assert counted == []  # refused before a single parent was counted


def test_describe_and_generate_refuse_over_the_cap_and_write_nothing(tmp_path: Path):
    schema = _schema(tmp_path)
    result = make_runner().invoke(csv_app, ["generate", "--schema", schema, "--out", str(tmp_path / "o"),
                                        "--rows", "customers=3000000000"])
    assert result.exit_code == 2
    assert "pass --allow-huge" in result.output or "pass --allow-huge" in getattr(result, "stderr", "")
    assert not (tmp_path / "o").exists()


def test_signals_are_restored_after_generate(tmp_path: Path):
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    api.generate(_plan(tmp_path), CsvFormat(), tmp_path / "o")
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


@pytest.mark.parametrize("pattern, generator", [
    ("a{,2}b", {"type": "regex", "params": {"pattern": "a{,2}b"}}),
    ("x{,}y", {"type": "regex", "params": {"pattern": "x{,}y"}}),
    ("\\u00e9{1,3}\\U0001F600", {"type": "regex", "params": {"pattern": "\\u00e9{1,3}\\U0001F600"}}),
    ("abc\\Z", {"type": "choice", "params": {"values": ["abc"]}}),
])
def test_pattern_spellings_that_re2_reads_differently(tmp_path: Path, pattern: str, generator: dict):
    """RE2 reads `{,n}` as literal text and knows neither `\\uXXXX` nor `\\Z`: validate rewrites
    them (to_re2), so values that match in Python's re also pass the linear-time check."""
    text = textwrap.dedent(f"""\
        version: 1
        name: spell
        tables:
          - name: t
            rows: 50
            columns:
              - {{name: s, type: string, pattern: {json.dumps(pattern)}, generator: {json.dumps(generator)}}}
        """)
    plan = _plan(tmp_path, text)
    out = tmp_path / "out"
    api.generate(plan, CsvFormat(), out)
    rep = validate_output(plan.schema, CsvFormat(), out)
    check = next(c for c in rep["checks"] if c["kind"] == "pattern")
    assert check["status"] == "pass", check
    assert rep["status"] == "pass"


def test_allow_huge_flag_on_the_command_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from generators.parquet_generator.__main__ import app

    monkeypatch.setenv("DATAGEN_MAX_CELLS", "100")
    schema = tmp_path / "s.yaml"
    schema.write_text("version: 1\nname: s\ntables:\n  - name: t\n    rows: 1000\n    columns:\n"
                      "      - {name: id, type: int64, generator: sequence}\n")
    r = CliRunner().invoke(app, ["describe", "--format", "parquet", "--schema", str(schema)])
    assert r.exit_code == 2 and "--allow-huge" in r.output
    r = CliRunner().invoke(app, ["describe", "--format", "parquet", "--schema", str(schema), "--allow-huge", "--json"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["generate", "--format", "parquet", "--schema", str(schema), "--out", str(out), "-q"])
    assert r.exit_code == 2 and not out.exists()
    r = CliRunner().invoke(app, ["generate", "--format", "parquet", "--schema", str(schema), "--out", str(out), "-q",
                                 "--allow-huge"])
    assert r.exit_code == 0 and (out / "manifest.json").is_file()


def test_option_helpers_refuse_unknown_keys_and_values():
    import pytest

    from shared.errors import UsageError
    from shared.formats import check_known_options, choice_option

    with pytest.raises(UsageError, match=r"--option colour: unknown SQLite option \(known: a, b\)"):
        check_known_options({"colour": "x"}, ("b", "a"), "SQLite")
    assert choice_option({"mode": " Append "}, "mode", ("create", "append"), "create") == "append"
    assert choice_option({}, "mode", ("create", "append"), "create") == "create"
    with pytest.raises(UsageError, match=r"--option mode=wipe: one of create, append"):
        choice_option({"mode": "wipe"}, "mode", ("create", "append"), "create")


def test_validate_follows_generates_allow_huge(tmp_path: Path, monkeypatch):
    """Output generated past the cap with --allow-huge validates: the manifest records the
    choice. Output whose manifest lacks it needs validate --allow-huge, and without it the
    manifest check fails naming the flag (exit 1, a report, no traceback)."""
    schema = _schema(tmp_path)
    out = tmp_path / "out"
    monkeypatch.setenv("DATAGEN_MAX_CELLS", "100")
    runner = CliRunner()
    res = runner.invoke(csv_app, ["generate", "--schema", schema, "--out", str(out), "-q"])
    assert res.exit_code == 2 and "--allow-huge" in res.output
    res = runner.invoke(csv_app, ["generate", "--schema", schema, "--out", str(out), "-q", "--allow-huge"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["allow_huge"] is True
    res = runner.invoke(csv_app, ["validate", "--schema", schema, "--out", str(out)])
    assert res.exit_code == 0, res.output
    del manifest["allow_huge"]  # as written by an older datagen
    (out / "manifest.json").write_text(json.dumps(manifest))
    res = runner.invoke(csv_app, ["validate", "--schema", schema, "--out", str(out)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    rep = json.loads((out / "validation_report.json").read_text())
    bad = [c for c in rep["checks"] if c["kind"] == "manifest"]
    assert bad and bad[0]["status"] == "fail" and "--allow-huge" in bad[0]["message"]
    res = runner.invoke(csv_app, ["validate", "--schema", schema, "--out", str(out), "--allow-huge"])
    assert res.exit_code == 0, res.output
