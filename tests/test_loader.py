"""The schema loader's negative and positive corpora, through the real frontend and the library.

Negative corpus: every file in ``tests/bad_schemas/`` starts with a header of expectations
(JSON files, which cannot carry comments, keep theirs in ``<file>.expect``)::

    # what the file gets wrong
    # expect-exit: 2
    # expect-error: SchemaError            (or PlanError / InfeasibleSchema)
    # expect-path: tables[0].columns[1].max    ((root) for the document itself)
    # expect-line: 12                      (none: the problem has no line, e.g. an empty file)
    # expect-message: max 5 is less than min 10   (a substring of the problem's message)
    # expect-hint: did you mean            (optional: a substring of the hint)
    # expect-count: 3                      (optional: exactly this many problems)
    # expect-also: PATH | MESSAGE          (optional, repeatable: further problems, or rendered lines)
    # requires-generator: template         (optional: skipped while that generator is not registered)

Each file is run through the Parquet frontend in-process (typer's CliRunner) and through the
library (``load_schema`` then ``resolve_plan``); a few run as true subprocesses.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from generators.parquet_generator.__main__ import app
from shared import api
from shared.distributions.base import GENERATORS, load_builtins
from shared.errors import MAX_SHOWN_PROBLEMS, DatagenError, InfeasibleSchema, PlanError, SchemaError
from shared.schema_dsl import jsonschema_doc
from shared.schema_dsl.loader import load_schema
from shared.schema_dsl.planner import resolve_plan
from tests.helpers import EXAMPLES_DIR, ROOT, make_runner

BAD = ROOT / "tests" / "bad_schemas"
EXAMPLES = EXAMPLES_DIR
PYTHON = ROOT / ".venv" / "bin" / "python"
ERRORS = {"SchemaError": SchemaError, "PlanError": PlanError, "InfeasibleSchema": InfeasibleSchema}

# a small valid schema that needs only the numeric and key generators
SMALL = """\
version: 1
name: small
seed: 7
tables:
  - name: customers
    rows: 20
    primary_key: customer_id
    columns:
      - name: customer_id
        type: int64
        generator: sequence
      - name: tier
        type: string
        allowed: [free, plus, pro]
        generator: {type: choice, params: {values: [free, plus, pro], weights: [70, 20, 10]}}
  - name: orders
    rows: 50
    primary_key: order_id
    columns:
      - name: order_id
        type: int64
        generator: {type: sequence, params: {start: 1000}}
      - name: customer_id
        type: int64
        generator: {type: fk, params: {table: customers, skew: {type: zipf, params: {a: 1.3}}}}
      - name: quantity
        type: int32
        min: 1
        max: 9
        generator: {type: poisson, params: {lam: 2, shift: 1}}
"""


# --- the negative corpus ----------------------------------------------------------------------


def _bad_files() -> list[Path]:
    return sorted(p for p in BAD.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))


def expectations(path: Path) -> dict:
    """The header of a bad schema (or its ``.expect`` sidecar) as a dict; ``also`` is a list."""
    source = path.with_name(path.name + ".expect") if path.suffix == ".json" else path
    text = source.read_bytes().decode("utf-8", "replace")
    exp: dict = {"also": []}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line[1:].strip().partition(":")
        if not sep or not (key.startswith("expect-") or key.startswith("requires-")):
            continue
        value = value.strip()
        if key == "expect-also":
            p, _, m = value.partition("|")
            exp["also"].append((_path(p.strip()), m.strip()))
        else:
            exp[key] = value
    for required in ("expect-exit", "expect-path", "expect-line", "expect-message"):
        assert required in exp, f"{source.name}: header lacks {required}"
    exp["expect-path"] = _path(exp["expect-path"])
    exp["expect-line"] = None if exp["expect-line"] == "none" else int(exp["expect-line"])
    exp["expect-exit"] = int(exp["expect-exit"])
    exp.setdefault("expect-error", "SchemaError")
    return exp


def _path(text: str) -> str:
    return "" if text == "(root)" else text


def _skip_unless_registered(exp: dict) -> None:
    name = exp.get("requires-generator")
    if name:
        load_builtins()
        if name not in GENERATORS:
            pytest.skip(f"generator {name!r} is not registered yet")


BAD_FILES = _bad_files()
BAD_IDS = [p.name for p in BAD_FILES]


def test_negative_corpus_is_complete():
    assert len(BAD_FILES) >= 35
    assert sum(p.suffix == ".json" for p in BAD_FILES) >= 2
    for p in BAD_FILES:
        expectations(p)  # every file has a readable header
    assert not [p.name for p in BAD.iterdir() if p.suffix == ".expect"
                and not p.with_name(p.name[: -len(".expect")]).exists()], "orphan .expect files"



def _stderr(result) -> str:
    try:
        return result.stderr
    except ValueError:  # stderr mixed into output
        return result.output


def invoke(*args: str):
    result = make_runner().invoke(app, list(args))
    return result, _stderr(result)


@pytest.mark.parametrize("path", BAD_FILES, ids=BAD_IDS)
def test_bad_schema_cli(path: Path):
    exp = expectations(path)
    _skip_unless_registered(exp)
    result, err = invoke("describe", "--format", "parquet", "--schema", str(path))
    assert result.exit_code == exp["expect-exit"], err
    assert "Traceback" not in err and "Traceback" not in result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert err.startswith("error: "), err
    assert str(path) in err
    assert exp["expect-message"] in err
    if exp["expect-path"]:
        assert exp["expect-path"] in err
    if exp["expect-line"] is not None:
        assert f"{path}:{exp['expect-line']}:" in err, err
    if "expect-hint" in exp:
        assert "(hint: " in err and exp["expect-hint"] in err
    assert result.stdout == ""


@pytest.mark.parametrize("path", BAD_FILES, ids=BAD_IDS)
def test_bad_schema_library(path: Path):
    exp = expectations(path)
    _skip_unless_registered(exp)
    with pytest.raises(DatagenError) as info:
        resolve_plan(load_schema(str(path)))
    exc = info.value
    assert isinstance(exc, ERRORS[exp["expect-error"]]), f"{type(exc).__name__}: {exc.render()}"
    assert exc.exit_code == exp["expect-exit"]
    assert exc.problems, "every error carries at least one problem"
    for p in exc.problems:
        assert p.file == str(path)
        assert p.message
    matching = [p for p in exc.problems if p.path == exp["expect-path"] and exp["expect-message"] in p.message]
    assert matching, "\n" + exc.render()
    first = matching[0]
    assert first.line == exp["expect-line"], first.render()
    if first.line is not None:
        assert first.column is not None and first.column >= 1
    if "expect-hint" in exp:
        assert first.hint and exp["expect-hint"] in first.hint, first.render()
    if "expect-count" in exp:
        assert len(exc.problems) == int(exp["expect-count"])
    rendered = exc.render()
    for also_path, also_message in exp["also"]:
        if also_path:
            assert any(p.path == also_path and also_message in p.message for p in exc.problems), rendered
        else:
            assert also_message in rendered
    # best first: problems of one stage come in file order
    lines = [p.line for p in exc.problems if p.line is not None]
    assert lines == sorted(lines)


def test_several_problems_are_collected_in_file_order():
    with pytest.raises(SchemaError) as info:
        load_schema(str(BAD / "several_problems.yaml"))
    exc = info.value
    assert [p.path for p in exc.problems] == [
        "tables[0].columns[1].max", "tables[0].columns[2].min", "tables[0].columns[3].null_rate"]
    assert str(exc).endswith("3 problems in the schema")
    assert "more" not in exc.render()


def test_many_problems_are_capped_with_and_n_more():
    with pytest.raises(SchemaError) as info:
        load_schema(str(BAD / "twenty_five_problems.yaml"))
    exc = info.value
    assert len(exc.problems) == 25
    text = exc.render()
    assert text.splitlines()[0].endswith("25 problems in the schema")
    assert len(text.splitlines()) == 1 + MAX_SHOWN_PROBLEMS + 1
    assert text.splitlines()[-1] == f"  ... and {25 - MAX_SHOWN_PROBLEMS} more"
    # shown in column order: c00 … c19; the rest are counted, not shown
    assert "tables[0].columns[20]" in text and "tables[0].columns[21]" not in text


SUBPROCESS_CASES = ["yaml_syntax_error.yaml", "fk_cycle.yaml", "infeasible_unique.yaml", "json_duplicate_key.json",
                    "alias_bomb.yaml"]


def _run_frontend(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run([str(PYTHON), "-m", "generators.parquet_generator", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120, check=False)


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_schema_subprocess(name: str):
    path = BAD / name
    exp = expectations(path)
    proc = _run_frontend("describe", "--format", "parquet", "--schema", str(path))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert exp["expect-message"] in proc.stderr
    assert f"{path}:{exp['expect-line']}:" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("name", ["column_min_over_max.yaml", "infeasible_unique.yaml", "empty_file.yaml",
                                  "json_syntax_error.json", "nesting_bomb.yaml"])
def test_generate_on_bad_schema_writes_nothing(tmp_path: Path, name: str):
    out = tmp_path / "out"
    result, err = invoke("generate", "--format", "parquet", "--schema", str(BAD / name), "--out", str(out))
    assert result.exit_code == 2, err
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == []


def test_generate_on_bad_schema_writes_nothing_subprocess(tmp_path: Path):
    out = tmp_path / "out"
    proc = _run_frontend("generate", "--format", "parquet", "--schema", str(BAD / "fk_missing_table.yaml"),
                         "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "did you mean 'customers'?" in proc.stderr
    assert not out.exists() and os.listdir(tmp_path) == []


# --- files the corpus cannot hold ---------------------------------------------------------------


def _assert_refused(path: Path, message: str, line: int | None = None) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        load_schema(str(path))
    exc = info.value
    assert any(message in p.message and p.file == str(path) for p in exc.problems), exc.render()
    if line is not None:
        assert exc.problems[0].line == line
    result, err = invoke("describe", "--format", "parquet", "--schema", str(path))
    assert result.exit_code == 2, err
    assert message in err and str(path) in err and "Traceback" not in err
    return exc


def test_oversized_file_is_refused_before_reading(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DATAGEN_MAX_SCHEMA_BYTES", "2000")
    path = tmp_path / "big.yaml"
    path.write_text(SMALL + "# padding\n" * 300, encoding="utf-8")
    exc = _assert_refused(path, "larger than the 2,000-byte cap")
    assert "DATAGEN_MAX_SCHEMA_BYTES" in exc.problems[0].hint
    # in-memory data obeys the same cap
    with pytest.raises(SchemaError, match="cap"):
        load_schema("mem.yaml", data=path.read_bytes())
    monkeypatch.setenv("DATAGEN_MAX_SCHEMA_BYTES", "100000")
    assert load_schema(str(path)).name == "small"


def test_invalid_utf8_is_located(tmp_path: Path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(SMALL.replace("name: small", "name: sm\xe4ll").encode("latin-1"))
    exc = _assert_refused(path, "invalid UTF-8 byte 0xe4", line=2)
    assert exc.problems[0].column == 9
    assert "UTF-8" in exc.problems[0].hint


def _loader_work(monkeypatch) -> dict[str, int]:
    """Count the loader's units of work: YAML nodes composed, and nodes converted to data (which
    is where aliases get expanded). Deterministic, unlike a stopwatch."""
    from shared.schema_dsl import source

    calls = {"composed": 0, "converted": 0}
    compose, convert = source._Loader.compose_node, source._Converter.convert

    def counting_compose(self, *args):
        calls["composed"] += 1
        return compose(self, *args)

    def counting_convert(self, *args):
        calls["converted"] += 1
        return convert(self, *args)

    monkeypatch.setattr(source._Loader, "compose_node", counting_compose)
    monkeypatch.setattr(source._Converter, "convert", counting_convert)
    return calls


def test_deep_json_is_refused_at_the_depth_cap(tmp_path: Path, monkeypatch):
    """However deep the nesting, composing stops at the cap: the work does not grow with it."""
    from shared.schema_dsl.source import MAX_DEPTH

    work = _loader_work(monkeypatch)
    for depth in (200, 10_000):
        path = tmp_path / f"deep{depth}.json"
        path.write_text('{"version": 1, "name": "deep", "tables": ' + "[" * depth + "]" * depth + "}",
                        encoding="utf-8")
        work.update(composed=0, converted=0)
        with pytest.raises(SchemaError) as info:
            load_schema(str(path))
        assert info.value.problems[0].message == f"nesting deeper than {MAX_DEPTH} levels"
        assert info.value.problems[0].line == 1
        assert work["composed"] <= MAX_DEPTH + 8 and work["converted"] == 0, work
        _assert_refused(path, "nesting deeper than 64 levels")


def test_recursive_alias_is_refused(tmp_path: Path):
    path = tmp_path / "loop.yaml"
    path.write_text("version: 1\nname: loop\ntables: &t [*t]\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        load_schema(str(path))
    assert info.value.problems and info.value.problems[0].file == str(path)


@pytest.mark.parametrize("name, message, max_composed", [
    # 10^9 nodes once expanded; refused from the ~125 nodes written in the file, before expanding any
    ("alias_bomb.yaml", "this node expands to more than 1,000,000 nodes", 200),
    # 10,000 levels; composing stops at the cap
    ("nesting_bomb.yaml", "nesting deeper than 64 levels", 64 + 8),
])
def test_bombs_are_refused_before_the_work_grows(name: str, message: str, max_composed: int, monkeypatch):
    """Bounded work, counted (the wall-clock budget is in bench/hostile.py): the bomb is refused
    having composed only the nodes written in the file, and expanded none of them."""
    work = _loader_work(monkeypatch)
    with pytest.raises(SchemaError) as info:  # not RecursionError, not MemoryError
        load_schema(str(BAD / name))
    assert info.value.problems[0].message.startswith(message), info.value.render()
    assert work["converted"] == 0, work
    assert 0 < work["composed"] <= max_composed, work


@pytest.mark.parametrize("suffix, text", [(".yaml", 'version: 1\nname: "a\\ud800"\ntables: []\n'),
                                          (".json", '{"version": 1, "name": "a\\ud800", "tables": []}')])
def test_lone_surrogate_escapes_are_refused(tmp_path: Path, suffix: str, text: str):
    path = tmp_path / ("surrogate" + suffix)
    path.write_text(text, encoding="utf-8")
    _assert_refused(path, "lone surrogate")


def test_control_character_is_located(tmp_path: Path):
    path = tmp_path / "bell.yaml"
    path.write_text("version: 1\nname: a\x07b\ntables: []\n", encoding="utf-8")
    exc = _assert_refused(path, "is not allowed in YAML text", line=2)
    assert exc.problems[0].column == 8


def test_missing_file_and_directory(tmp_path: Path):
    result, err = invoke("describe", "--format", "parquet", "--schema", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "cannot read the schema file" in err and "--schema" in err
    result, err = invoke("describe", "--format", "parquet", "--schema", str(tmp_path))
    assert result.exit_code == 2 and "directory" in err


# --- the positive corpus -----------------------------------------------------------------------

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def test_positive_corpus_exists():
    assert len(EXAMPLE_FILES) >= 6
    assert (EXAMPLES / "default.yaml") in EXAMPLE_FILES


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_example_loads_and_plans(path: Path):
    try:
        schema = load_schema(str(path))
        plan = resolve_plan(schema)
    except DatagenError as exc:  # say which example fails, and why, in one readable message
        pytest.fail(f"{path.name} does not load and plan:\n{exc.render()}", pytrace=False)
    assert schema.name == path.stem
    assert all(plan.rows(t) >= 1 for t in plan.order)
    result, err = invoke("describe", "--format", "parquet", "--schema", str(path), "--json")
    assert result.exit_code == 0, err
    info = json.loads(result.stdout)
    assert info["schema"]["name"] == path.stem


# --- forms and scalars -------------------------------------------------------------------------


def test_json_form_equals_yaml_form(tmp_path: Path):
    yaml_path = tmp_path / "small.yaml"
    yaml_path.write_text(SMALL, encoding="utf-8")
    json_path = tmp_path / "small.json"
    json_path.write_text(json.dumps(yaml.safe_load(SMALL), indent=2), encoding="utf-8")
    a, b = load_schema(str(yaml_path)), load_schema(str(json_path))
    assert a.source.sha256 != b.source.sha256
    assert dataclasses.replace(a, source=b.source) == b
    pa_, pb = resolve_plan(a), resolve_plan(b)
    da, db = api.describe(pa_), api.describe(pb)
    for d in (da, db):
        d.pop("schema")
    assert da == db
    # JSON problems point at lines too
    bad = json.loads(json_path.read_text())
    bad["tables"][1]["columns"][2]["max"] = 0
    json_path.write_text(json.dumps(bad, indent=2), encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        load_schema(str(json_path))
    p = info.value.problems[0]
    assert p.path == "tables[1].columns[2].max" and p.line is not None
    assert '"max": 0' in json_path.read_text().splitlines()[p.line - 1]


def test_yaml_12_booleans_stay_strings(tmp_path: Path):
    path = tmp_path / "flags.yaml"
    path.write_text("""\
version: 1
name: flags
tables:
  - name: t
    rows: 10
    columns:
      - name: answer
        type: string
        allowed: [yes, no, on, off, y, n, Yes, NO]
        generator: {type: choice, params: {values: [yes, no, on, off]}}
      - name: country
        type: string
        generator: {type: const, params: {value: NO}}
      - name: flag
        type: bool
        allowed: [true, false]
        generator: {type: choice, params: {values: [true, False]}}
""", encoding="utf-8")
    schema = load_schema(str(path))
    t = schema.table("t")
    assert t.column("answer").allowed == ("yes", "no", "on", "off", "y", "n", "Yes", "NO")
    assert tuple(t.column("answer").generator.params["values"]) == ("yes", "no", "on", "off")
    assert t.column("country").generator.params["value"] == "NO"
    assert t.column("flag").allowed == (True, False)
    resolve_plan(schema)


def test_yaml_12_numbers_and_dates(tmp_path: Path):
    path = tmp_path / "scalars.yaml"
    path.write_text("""\
version: 1
name: scalars
seed: 0x2A
tables:
  - name: t
    rows: 1_000
    columns:
      - name: p
        type: bool
        generator: {type: bernoulli, params: {p: 1e-3}}
      - name: d
        type: date
        min: 2024-01-01
        max: 2024-12-31
        generator: {type: choice, params: {values: [2024-02-01, 2024-03-01]}}
      - name: clock
        type: string
        generator: {type: const, params: {value: 1:30}}
      - name: n
        type: int32
        min: 012
        generator: {type: uniform_int, params: {max: 0o20}}
""", encoding="utf-8")
    schema = load_schema(str(path))
    t = schema.table("t")
    assert schema.seed == 42 and t.rows == 1000
    assert t.column("p").generator.params["p"] == pytest.approx(0.001)
    assert t.column("d").raw_min == "2024-01-01"  # a string, not a datetime.date
    assert t.column("clock").generator.params["value"] == "1:30"  # not sexagesimal 90
    assert t.column("n").min == 12 and t.column("n").generator.params["max"] == 16
    resolve_plan(schema)


def test_keys_are_strings_and_unsafe_tags_refused(tmp_path: Path):
    path = tmp_path / "keys.yaml"
    path.write_text("version: 1\nname: k\n1: x\ntables: []\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        load_schema(str(path))
    assert any(p.path == "1" and "unknown key '1'" in p.message and p.line == 3 for p in info.value.problems)
    for tag in ("!!binary aGVsbG8=", "!!timestamp 2024-01-01", "!!set {a, b}", "!!python/name:os.system ''"):
        path.write_text(f"version: 1\nname: k\ndescription: {tag}\ntables: []\n", encoding="utf-8")
        with pytest.raises(SchemaError) as info:
            load_schema(str(path))
        assert any(p.line == 3 and ("tag" in p.message or "YAML" in p.message) for p in info.value.problems), tag


def test_merge_keys_override_without_duplicate_errors(tmp_path: Path):
    path = tmp_path / "merge.yaml"
    text = """\
version: 1
name: m
tables:
  - name: a
    rows: 10
    columns:
      - &int_col
        name: id
        type: int64
        generator: sequence
      - <<: *int_col
        name: n
        type: int32
      - <<: [*int_col, {name: zz, type: int16}]
        name: k
"""
    path.write_text(text, encoding="utf-8")
    schema = load_schema(str(path))
    assert [(c.name, c.dtype.name) for c in schema.tables[0].columns] == [
        ("id", "int64"), ("n", "int32"), ("k", "int64")]  # written keys win; earlier merges win over later
    path.write_text(text + "        name: k2\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        load_schema(str(path))
    (p,) = info.value.problems
    assert p.path == "tables[0].columns[2].name" and p.message == "duplicate key 'name'" and p.line == 16


# --- command-line overrides --------------------------------------------------------------------


@pytest.fixture()
def small_schema(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_rows_override_unknown_table(small_schema: Path):
    result, err = invoke("describe", "--format", "parquet", "--schema", str(small_schema), "--rows", "custmers=5")
    assert result.exit_code == 2, err
    assert "no table 'custmers'" in err and "did you mean 'customers'?" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("item", ["customers=abc", "customers", "=5", "customers=0", "customers=-3"])
def test_rows_override_malformed(small_schema: Path, item: str):
    result, err = invoke("describe", "--format", "parquet", "--schema", str(small_schema), "--rows", item)
    assert result.exit_code == 2, err
    assert "--rows" in err and "Traceback" not in err


@pytest.mark.parametrize("scale", ["-1", "0", "nan", "inf"])
def test_scale_must_be_positive(small_schema: Path, scale: str):
    result, err = invoke("describe", "--format", "parquet", "--schema", str(small_schema), "--scale", scale)
    assert result.exit_code == 2, err
    assert "--scale" in err and "Traceback" not in err


def test_overrides_that_work(small_schema: Path):
    result, err = invoke("describe", "--format", "parquet", "--schema", str(small_schema), "--json",
                         "--rows", "customers=5", "--scale", "0.1")
    assert result.exit_code == 0, err
    rows = {t["name"]: t["rows"] for t in json.loads(result.stdout)["tables"]}
    assert rows == {"customers": 5, "orders": 5}


# --- the JSON Schema in schemas/ ----------------------------------------------------------------


def test_json_schema_file_is_in_sync_with_the_registry():
    on_disk = jsonschema_doc.SCHEMA_FILE.read_text(encoding="utf-8")
    assert jsonschema_doc.render() == on_disk, (
        "schemas/datagen.schema.json is stale: run .venv/bin/python -m shared.schema_dsl.jsonschema_doc")

