"""The negative corpus: bad input never ends in a traceback or a hang.

One parametrized table of hostile inputs, run in-process through the real frontends (typer's
CliRunner), each case asserted by exit code AND a substring of the message, with no "Traceback"
anywhere in the output. A case that hangs is stopped by a guard (SIGALRM after ``HANG_GUARD_S``)
so the suite cannot hang; that is a safety net far above any real run, not a speed budget (the
timings of hostile inputs are measured in ``bench/hostile.py``).

* schemas — a selection of ``tests/bad_schemas/`` (their expectations come from the files'
  headers, see ``tests/test_loader.py``) plus inputs that corpus does not hold: names that would
  escape ``--out`` or break SQL, a newline smuggled into a name, wrong encodings, a file over the
  size cap, a Python-object YAML tag, a pattern that would backtrack catastrophically;
* command-line options — bad ``--rows``, ``--scale``, ``--seed``, ``--workers 0``,
  ``--block-rows 0``, ``--option``, ``--format``, ``--profile``, unknown commands and flags, a bad
  ``--out``, the size cap;
* artifacts handed to ``validate`` (CSV and Parquet, generated once per module, copied per case)
  — empty, truncated, garbage, wrong types, a missing or an extra column, latin-1 / UTF-16 text, a
  50 MB line, a deleted manifest, a manifest that is not JSON or not of the right shape, manifest
  paths escaping ``--out`` (never opened), a broken dialect sidecar, the wrong format.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from generators.csv_generator.__main__ import app as csv_app
from generators.csv_generator.format import CsvFormat
from generators.parquet_generator.__main__ import app as parquet_app
from generators.parquet_generator.format import ParquetFormat
from shared import api
from tests.helpers import make_runner, output_text
from tests.test_loader import BAD, expectations

APPS = {"parquet": parquet_app, "csv": csv_app}
#: a case still running after this many seconds is a hang (not a budget: cases take well under 1 s)
HANG_GUARD_S = 120.0

SCHEMA = textwrap.dedent("""\
    version: 1
    name: hostile
    seed: 3
    tables:
      - name: customers
        rows: 60
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - name: code
            type: string
            pattern: '[A-Z]{3}-[0-9]{4}'
            generator: {type: regex, params: {pattern: '[A-Z]{3}-[0-9]{4}'}}
          - {name: score, type: float64, min: 0, max: 100, generator: {type: uniform_float, params: {min: 0, max: 100}}}
      - name: orders
        rows: 150
        primary_key: order_id
        columns:
          - {name: order_id, type: int64, generator: sequence}
          - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers, column: id}}}
          - {name: qty, type: int32, min: 1, max: 9, generator: {type: uniform_int, params: {min: 1, max: 9}}}
""")


class _Hang(BaseException):
    """Raised by SIGALRM: not an Exception, so neither guard() nor CliRunner swallows it."""


@pytest.fixture(autouse=True)
def _time_bound():
    def boom(signum, frame):
        raise _Hang(f"the case hangs: still running after {HANG_GUARD_S} s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.setitimer(signal.ITIMER_REAL, HANG_GUARD_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, Path]:
    """The good schema, and one generated dataset per format (copied by every case that edits one)."""
    base = tmp_path_factory.mktemp("hostile-data")
    schema_path = base / "hostile.yaml"
    schema_path.write_text(SCHEMA, encoding="utf-8")
    plan = api.resolve_plan(api.load_schema(str(schema_path)))
    api.generate(plan, CsvFormat(), base / "csv")
    api.generate(plan, ParquetFormat(), base / "parquet")
    return {"schema": schema_path, "csv": base / "csv", "parquet": base / "parquet"}


class Ctx:
    """What a case's ``build`` gets: a private tmp folder, the good schema, dataset copies."""

    def __init__(self, tmp: Path, data: dict[str, Path]):
        self.tmp = tmp
        self.good = str(data["schema"])
        self._data = data

    def schema(self, text: str, name: str = "s.yaml") -> str:
        p = self.tmp / name
        p.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(p)

    def raw_schema(self, data: bytes, name: str = "s.yaml") -> str:
        p = self.tmp / name
        p.write_bytes(data)
        return str(p)

    def copy(self, fmt: str) -> Path:
        dst = self.tmp / f"out-{fmt}"
        shutil.copytree(self._data[fmt], dst)
        return dst

    def validate(self, fmt: str, out: Path, frontend: str | None = None) -> list[str]:
        return ["validate", "--format", frontend or fmt, "--schema", self.good, "--out", str(out)]


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Ctx], list[str]]
    exit: int
    message: str
    app: str = "parquet"
    env: dict = field(default_factory=dict)


# --- schemas ------------------------------------------------------------------------------------

#: bad_schemas files whose headers already say exit and message
CORPUS = ["yaml_syntax_error.yaml", "alias_bomb.yaml", "nesting_bomb.yaml", "unsafe_yaml_tag.yaml", "binary_nul.yaml",
          "empty_file.yaml", "top_level_list.yaml", "tab_indentation.yaml", "duplicate_key.yaml",
          "expr_forbidden_dunder.yaml", "fk_cycle.yaml", "infeasible_unique.yaml", "json_syntax_error.json",
          "regex_generator_bad_pattern.yaml", "rows_too_many.yaml"]


def _corpus_case(name: str) -> Case:
    exp = expectations(BAD / name)
    return Case(f"schema-corpus-{name}", lambda c, n=name: ["describe", "--schema", str(BAD / n)],
                exp["expect-exit"], exp["expect-message"])


def _named(table: str = "t", column: str = "id", schema: str = "s") -> str:
    return textwrap.dedent(f"""\
        version: 1
        name: {json.dumps(schema)}
        tables:
          - name: {json.dumps(table)}
            rows: 3
            columns:
              - {{name: {json.dumps(column)}, type: int64, generator: sequence}}
        """)


def _generate(c: Ctx, text: str) -> list[str]:
    return ["generate", "--schema", c.schema(text), "--out", str(c.tmp / "out"), "-q"]


REDOS = """\
    version: 1
    name: redos
    tables:
      - name: t
        rows: 3
        columns:
          - name: s
            type: string
            pattern: '(a+)+'
            generator: {type: choice, params: {values: ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab']}}
"""

PYTHON_TAG = """\
    version: 1
    name: pwn
    description: !!python/object/apply:os.system ["touch /tmp/datagen-pwned"]
    tables: []
"""

SCHEMA_CASES = [_corpus_case(n) for n in CORPUS] + [
    Case("schema-table-name-path-traversal", lambda c: _generate(c, _named(table="../../escape")), 2,
         "'../../escape' is not a valid name"),
    Case("schema-table-name-slash", lambda c: _generate(c, _named(table="a/b")), 2, "'a/b' is not a valid name"),
    Case("schema-name-path-traversal", lambda c: _generate(c, _named(schema="../x")), 2, "'../x' is not a valid name"),
    Case("schema-name-trailing-newline", lambda c: _generate(c, _named(table="orders\n")), 2,
         "'orders\\n' is not a valid name"),
    Case("schema-column-name-sql-injection", lambda c: _generate(c, _named(column='id"; DROP TABLE t; --')), 2,
         "is not a valid name"),
    Case("schema-latin1-encoded", lambda c: ["describe", "--schema", c.raw_schema(
        SCHEMA.replace("name: hostile", "name: h\xe4stile").encode("latin-1"))], 2, "is not UTF-8 text"),
    Case("schema-utf16-encoded", lambda c: ["describe", "--schema", c.raw_schema(SCHEMA.encode("utf-16"))], 2,
         "not UTF-8"),
    Case("schema-over-size-cap", lambda c: ["describe", "--schema", c.raw_schema(
        SCHEMA.encode() + b"# " + b"x" * 5000 + b"\n")], 2, "over the 4,000-byte cap",
         env={"DATAGEN_MAX_SCHEMA_BYTES": "4000"}),
    Case("schema-enormous-line", lambda c: ["describe", "--schema", c.raw_schema(
        b"version: 1\nname: big\ndescription: " + b"x" * (11 * 1024 * 1024) + b"\ntables: []\n")], 2,
         "over the 10,485,760-byte cap"),
    Case("schema-python-object-tag", lambda c: ["describe", "--schema", c.schema(PYTHON_TAG)], 2,
         "unsupported YAML tag"),
    Case("schema-catastrophic-backtracking-pattern", lambda c: ["describe", "--schema", c.schema(REDOS)], 2,
         "does not match the column's pattern"),
    Case("schema-missing-file", lambda c: ["describe", "--schema", str(c.tmp / "nope.yaml")], 2,
         "cannot read the schema file"),
    Case("schema-is-a-directory", lambda c: ["describe", "--schema", str(c.tmp)], 2, "is a directory"),
]

# --- command-line options ----------------------------------------------------------------------


def _gen(*args: str) -> Callable[[Ctx], list[str]]:
    return lambda c: ["generate", "--schema", c.good, "--out", str(c.tmp / "out"), "-q", *args]


def _file_out(c: Ctx) -> list[str]:
    (c.tmp / "afile").write_text("x")
    return ["generate", "--schema", c.good, "--out", str(c.tmp / "afile")]


def _foreign_out(c: Ctx) -> list[str]:
    (c.tmp / "mine").mkdir()
    (c.tmp / "mine" / "thesis.tex").write_text("precious")
    return ["generate", "--schema", c.good, "--out", str(c.tmp / "mine")]


def _link_out(c: Ctx) -> list[str]:
    (c.tmp / "real").mkdir()
    (c.tmp / "link").symlink_to(c.tmp / "real")
    return ["generate", "--schema", c.good, "--out", str(c.tmp / "link")]


OPTION_CASES = [
    Case("cli-rows-not-a-number", _gen("--rows", "customers=abc"), 2, "'abc' is not a whole number"),
    Case("cli-rows-zero", _gen("--rows", "customers=0"), 2, "a table needs at least 1 row"),
    Case("cli-rows-negative", _gen("--rows", "customers=-5"), 2, "a table needs at least 1 row"),
    Case("cli-rows-no-equals", _gen("--rows", "customers"), 2, "expected TABLE=N"),
    Case("cli-rows-unknown-table", _gen("--rows", "custmers=5"), 2, "the schema has no table 'custmers'"),
    Case("cli-rows-beyond-int64", _gen("--rows", "customers=99999999999999999999999"), 2,
         "more rows than a table can hold"),
    Case("cli-scale-zero", _gen("--scale", "0"), 2, "must be a positive number"),
    Case("cli-scale-nan", _gen("--scale", "nan"), 2, "must be a positive number"),
    Case("cli-scale-inf", _gen("--scale", "inf"), 2, "must be a positive number"),
    Case("cli-scale-not-a-number", _gen("--scale", "abc"), 2, "Invalid value for '--scale'"),
    Case("cli-scale-overflows-rows", _gen("--scale", "1e308"), 2, "more rows than a table can hold"),
    Case("cli-scale-over-size-cap", _gen("--scale", "1e8"), 2, "pass --allow-huge"),
    Case("cli-size-cap-from-env", _gen(), 2, "over the cap of 100 cells", env={"DATAGEN_MAX_CELLS": "100"}),
    Case("cli-size-cap-env-garbage", _gen(), 2, "DATAGEN_MAX_CELLS='lots'", env={"DATAGEN_MAX_CELLS": "lots"}),
    Case("cli-seed-negative", _gen("--seed", "-1"), 2, "must be between 0 and 2**63-1"),
    Case("cli-seed-too-large", _gen("--seed", str(2**64)), 2, "must be between 0 and 2**63-1"),
    Case("cli-seed-not-a-number", _gen("--seed", "abc"), 2, "Invalid value for '--seed'"),
    Case("cli-workers-zero", _gen("--workers", "0"), 2, "--workers 0: must be at least 1"),
    Case("cli-block-rows-zero", _gen("--block-rows", "0"), 2, "--block-rows must be at least 1"),
    Case("cli-option-not-key-value", _gen("--option", "nonsense"), 2, "expected KEY=VALUE"),
    Case("cli-option-unknown", _gen("--option", "bogus=1"), 2, "unknown Parquet option"),
    Case("cli-option-bad-value", _gen("--option", "compression=lzma"), 2, "one of snappy, zstd, gzip, none"),
    Case("cli-csv-option-bad-delimiter", _gen("--option", "delimiter=ab"), 2, "delimiter", app="csv"),
    Case("cli-format-mismatch", _gen("--format", "csv"), 2, "this frontend writes parquet"),
    Case("cli-profile-unknown", _gen("--profile", "filthy"), 2, "one of fast, realistic, dirty"),
    Case("cli-unknown-command", lambda c: ["frobnicate"], 2, "No such command"),
    Case("cli-unknown-flag", _gen("--bogus"), 2, "No such option"),
    Case("cli-out-is-a-file", _file_out, 2, "exists and is not a folder"),
    Case("cli-out-is-foreign-folder", _foreign_out, 2, "was not written by datagen"),
    Case("cli-out-is-a-symlink", _link_out, 2, "is a symbolic link"),
    Case("cli-validate-missing-folder", lambda c: ["validate", "--schema", c.good, "--out", str(c.tmp / "none")], 2,
         "no such folder to validate"),
    Case("cli-report-unwritable", lambda c: c.validate("parquet", c.copy("parquet")) + [
        "--report", str(c.tmp / "no" / "such" / "dir" / "r.json")], 3, "cannot write the report"),
]

# --- artifacts handed to validate --------------------------------------------------------------


def _edit(fmt: str, rel: str, how: Callable[[Path], None], frontend: str | None = None):
    def build(c: Ctx) -> list[str]:
        out = c.copy(fmt)
        how(out / rel)
        return c.validate(fmt, out, frontend)

    return build


def _write(data: bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(data)


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 3])


def _garbage(p: Path) -> None:
    p.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(4096)))


def _csv_lines(fn: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    def how(p: Path) -> None:
        p.write_text("\n".join(fn(p.read_text(encoding="utf-8").splitlines())) + "\n", encoding="utf-8")

    return how


def _csv_wrong_type(lines: list[str]) -> list[str]:
    lines[3] = "abc,def,ghi"
    return lines


def _csv_latin1(p: Path) -> None:
    text = p.read_text(encoding="utf-8").splitlines()
    first = text[1].split(",")
    first[1] = '"ÄÖÜ-1234"'
    text[1] = ",".join(first)
    p.write_bytes(("\n".join(text) + "\n").encode("latin-1"))


def _csv_huge_line(p: Path) -> None:
    header = p.read_text(encoding="utf-8").splitlines()[0]
    with open(p, "w", encoding="utf-8") as f:
        f.write(header + "\n")
        f.write('1,"' + "A" * 50_000_000 + '",3.5\n')


def _manifest(fn: Callable[[dict], object]) -> Callable[[Path], None]:
    def how(p: Path) -> None:
        m = json.loads(p.read_text(encoding="utf-8"))
        m = fn(m) or m
        p.write_text(json.dumps(m), encoding="utf-8")

    return how


def _escape(m: dict) -> None:
    m["files"].append({"path": "../../../../../../etc/passwd", "table": None, "bytes": 1, "sha256": "0" * 64})


def _absolute(m: dict) -> None:
    m["files"].append({"path": "/etc/hostname", "table": None, "bytes": 1, "sha256": "0" * 64})


def _wrong_shape(m: dict) -> None:
    m["files"] = "everything"


def _wrong_item(m: dict) -> None:
    m["files"][0] = 42


def _schema_as_text(m: dict) -> None:
    m["schema"] = "not an object"


def _huge_rows(m: dict) -> None:
    m["rows_overrides"] = {"customers": 10**15}


def _pq_table(fn: Callable[[pa.Table], pa.Table]) -> Callable[[Path], None]:
    return lambda p: pq.write_table(fn(pq.read_table(p)), p)


def _qty_as_text(t: pa.Table) -> pa.Table:
    i = t.schema.get_field_index("qty")
    return t.set_column(i, "qty", pa.array([str(v) for v in t.column("qty").to_pylist()]))


def _delete(p: Path) -> None:
    shutil.rmtree(p) if p.is_dir() else p.unlink()


CSV_C, CSV_O, PQ_C, PQ_O = "customers.csv", "orders.csv", "customers/part-00000.parquet", "orders/part-00000.parquet"

ARTIFACT_CASES = [
    Case("csv-empty-file", _edit("csv", CSV_C, _write(b"")), 1, "cannot read customers: ArrowInvalid: Empty CSV file",
         app="csv"),
    Case("csv-truncated", _edit("csv", CSV_C, _truncate), 1, "FAIL row_count customers: expected 60 rows", app="csv"),
    Case("csv-garbage-bytes", _edit("csv", CSV_C, _garbage), 1, "FAIL parseable customers", app="csv"),
    Case("csv-wrong-types", _edit("csv", CSV_O, _csv_lines(_csv_wrong_type)), 1,
         "CSV conversion error to int64: invalid value 'abc'", app="csv"),
    Case("csv-missing-column", _edit("csv", CSV_O, _csv_lines(lambda ls: [",".join(x.split(",")[:2]) for x in ls])), 1,
         "FAIL columns orders: missing qty", app="csv"),
    Case("csv-extra-column", _edit("csv", CSV_O, _csv_lines(
        lambda ls: [x + (",extra" if i == 0 else ",1") for i, x in enumerate(ls)])), 1,
         "FAIL columns orders: unexpected extra", app="csv"),
    Case("csv-latin1-text", _edit("csv", CSV_C, _csv_latin1), 1, "FAIL parseable customers", app="csv"),
    Case("csv-header-not-utf8", _edit("csv", CSV_C, lambda p: p.write_bytes(b"\xa2" + p.read_bytes()[1:])), 1,
         "cannot read customers: UnicodeDecodeError", app="csv"),
    Case("csv-utf16-text", _edit("csv", CSV_C, lambda p: p.write_bytes(p.read_text().encode("utf-16"))), 1,
         "FAIL parseable customers", app="csv"),
    Case("csv-50MB-line", _edit("csv", CSV_C, _csv_huge_line), 1, "straddling object straddles", app="csv"),
    Case("csv-file-is-a-directory", _edit("csv", CSV_C, lambda p: (p.unlink(), p.mkdir())), 1,
         "FAIL artifact_exists customers: customers.csv is not a regular file", app="csv"),
    Case("csv-broken-dialect-sidecar", _edit("csv", "csv_dialect.json", _write(b"{oops")), 1,
         "csv_dialect.json: not readable JSON", app="csv"),
    Case("csv-deleted-artifact", _edit("csv", CSV_O, _delete), 1, "FAIL artifact_exists orders", app="csv"),
    Case("csv-deleted-manifest", _edit("csv", "manifest.json", _delete), 0,
         "no manifest: the data was not produced by datagen", app="csv"),
    Case("csv-manifest-not-json", _edit("csv", "manifest.json", _write(b"{not json")), 1,
         "FAIL manifest : manifest.json is not readable JSON", app="csv"),
    Case("csv-manifest-a-list", _edit("csv", "manifest.json", _write(b"[1, 2, 3]")), 1,
         "manifest.json is not a JSON object", app="csv"),
    Case("csv-manifest-binary", _edit("csv", "manifest.json", _garbage), 1, "manifest.json is not readable JSON",
         app="csv"),
    Case("csv-manifest-files-not-a-list", _edit("csv", "manifest.json", _manifest(_wrong_shape)), 1,
         "manifest.json is malformed: 'files' is not a list", app="csv"),
    Case("csv-manifest-file-entry-not-an-object", _edit("csv", "manifest.json", _manifest(_wrong_item)), 1,
         "manifest.json is malformed: files[0]", app="csv"),
    Case("csv-manifest-schema-not-an-object", _edit("csv", "manifest.json", _manifest(_schema_as_text)), 1,
         "manifest.json is malformed: 'schema' is not an object", app="csv"),
    Case("csv-manifest-path-escapes-out", _edit("csv", "manifest.json", _manifest(_escape)), 1,
         "'../../../../../../etc/passwd': a manifest path must stay inside --out; not read", app="csv"),
    Case("csv-manifest-absolute-path", _edit("csv", "manifest.json", _manifest(_absolute)), 1,
         "'/etc/hostname': a manifest path must stay inside --out; not read", app="csv"),
    Case("csv-manifest-forged-row-count", _edit("csv", "manifest.json", _manifest(_huge_rows)), 1,
         "cannot be planned with this schema", app="csv"),
    Case("csv-validated-as-parquet", _edit("csv", "manifest.json", lambda p: None, frontend="parquet"), 1,
         "the output was written as csv, not parquet"),
    Case("parquet-empty-file", _edit("parquet", PQ_C, _write(b"")), 1, "Parquet file size is 0 bytes"),
    Case("parquet-truncated", _edit("parquet", PQ_C, _truncate), 1, "FAIL parseable customers"),
    Case("parquet-garbage-bytes", _edit("parquet", PQ_C, _garbage), 1, "Parquet magic bytes not found"),
    Case("parquet-wrong-type", _edit("parquet", PQ_O, _pq_table(_qty_as_text)), 1,
         "wrong type qty: string (expected int32)"),
    Case("parquet-missing-column", _edit("parquet", PQ_O, _pq_table(lambda t: t.drop_columns(["qty"]))), 1,
         "FAIL columns orders: missing qty"),
    Case("parquet-extra-column", _edit("parquet", PQ_O, _pq_table(
        lambda t: t.append_column("extra", pa.array([1] * t.num_rows)))), 1, "FAIL columns orders: unexpected extra"),
    Case("parquet-deleted-table-folder", _edit("parquet", "orders", _delete), 1, "no artifact for table orders"),
    Case("parquet-manifest-path-escapes-out", _edit("parquet", "manifest.json", _manifest(_escape)), 1,
         "a manifest path must stay inside --out; not read"),
]

CASES = SCHEMA_CASES + OPTION_CASES + ARTIFACT_CASES


def test_the_corpus_is_large_and_spans_every_kind():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"
    assert len(SCHEMA_CASES) >= 10 and len(OPTION_CASES) >= 10 and len(ARTIFACT_CASES) >= 10
    assert {c.app for c in ARTIFACT_CASES} == {"csv", "parquet"}


def _invoke(app, args: list[str], env: dict) -> tuple[int, str, BaseException | None]:
    result = make_runner().invoke(app, args, env=env)
    return result.exit_code, output_text(result), result.exception


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case: Case, datasets, tmp_path: Path):
    ctx = Ctx(tmp_path, datasets)
    args = case.build(ctx)
    code, text, exc = _invoke(APPS[case.app], args, {"COLUMNS": "200", **case.env})
    assert exc is None or isinstance(exc, SystemExit), f"{type(exc).__name__}: {exc}\n{text}"
    assert "Traceback" not in text, text
    assert "error: unexpected" not in text, text
    assert code == case.exit, f"exit {code}, wanted {case.exit}\n{text}"
    assert case.message in text, f"{case.message!r} not in:\n{text}"
    if args[0] in ("generate", "describe") and case.exit != 0:
        # nothing was written: no output folder, no temporary or lock files beside it
        assert not (tmp_path / "out").exists()
        assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or p.name.endswith(".lock")]


def test_python_tag_ran_nothing(tmp_path: Path):
    marker = Path("/tmp/datagen-pwned")
    marker.unlink(missing_ok=True)
    ctx = Ctx(tmp_path, {"schema": tmp_path / "unused"})
    code, text, _ = _invoke(parquet_app, ["describe", "--schema", ctx.schema(PYTHON_TAG)], {})
    assert code == 2 and "unsupported YAML tag" in text
    assert not marker.exists()


def test_environment_is_not_leaked_between_cases():
    assert "DATAGEN_MAX_CELLS" not in os.environ and "DATAGEN_MAX_SCHEMA_BYTES" not in os.environ
