"""Time budgets of hostile inputs: bombs, catastrophic patterns and caps are refused *quickly*.

The test suite asserts the deterministic side of each (the right refusal, work that does not grow
with the input: nodes composed, the position where a cap stopped the parser, no parent counted);
wall-clock budgets live here, where a loaded CI machine cannot make a test flaky::

    .venv/bin/python -m bench.hostile            # a table; exit 1 when a case is over its budget
    .venv/bin/python -m bench.hostile --json
    .venv/bin/python -m bench.hostile -k columns  # only the cases whose name has "columns"

Each case runs ``--runs`` times (default 3); the best time is compared with its budget.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "bad_schemas"

REDOS_SCHEMA = """\
version: 1
name: redos
tables:
  - name: t
    rows: 3
    columns:
      - {name: s, type: string, pattern: '(a+)+$', generator: {type: const, params: {value: a}}}
"""

PER_PARENT_SCHEMA = """\
version: 1
name: cap
tables:
  - name: customers
    rows: 10
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - {name: code, type: string, generator: {type: regex, params: {pattern: '[A-Z]{4}'}}}
  - name: orders
    rows: {per: customers, distribution: {type: poisson, params: {lam: 2}}}
    columns: [{name: customer_id, type: int64, generator: {type: fk, params: {table: customers, column: id}}}]
"""


def wide_schema_text(n: int, rows: int = 20) -> str:
    """One table of ``n`` columns, int64 and string in turn (issue 11, item 16)."""
    cols = [f"      - {{name: c{i}, type: int64, generator: {{type: uniform_int, params: {{min: 0, max: 1000}}}}}}"
            if i % 2 else
            f"      - {{name: c{i}, type: string, generator: {{type: regex, params: {{pattern: '[a-z]{{5}}'}}}}}}"
            for i in range(n)]
    return "\n".join(["version: 1", f"name: wide{n}", "tables:", "  - name: t", f"    rows: {rows}", "    columns:",
                      *cols]) + "\n"


#: column counts of the wide-table cases; budgets grow linearly with them
WIDE_COLUMNS = (250, 500, 1000, 2000)


def _wide_cases(tmp: Path) -> list[tuple[str, float, Callable[[], None]]]:
    """load + generate, and load + validate, of a 20-row table of N columns: linear in N (before
    issue 11 validate was quadratic: 1,000 columns 7 s, 4,000 columns 111 s)."""
    import datagen

    out = []
    for fmt in ("csv", "parquet"):
        for n in WIDE_COLUMNS:
            path = tmp / f"wide{n}.yaml"
            path.write_text(wide_schema_text(n))
            target = tmp / f"wide{n}-{fmt}"

            def gen(path=path, target=target, fmt=fmt) -> None:
                datagen.generate(str(path), format=fmt, out=target, workers=1, force=True)

            def val(path=path, target=target, fmt=fmt) -> None:
                assert datagen.validate(str(path), format=fmt, out=target)["status"] == "pass", "the wide table fails"

            # measured ~2.5 ms per column (most of it loading the schema): 2x headroom
            out.append((f"generate --format {fmt}: {n:,} columns x 20 rows", 1.0 + n * 0.005, gen))
            out.append((f"validate --format {fmt}: {n:,} columns x 20 rows", 1.0 + n * 0.005, val))
    return out


def _many_files_case(tmp: Path) -> tuple[str, float, Callable[[], None]]:
    """validate of a forged manifest listing 300,000 files that do not exist (before issue 11:
    72 s and a 49 MB report; each file's result is listed up to a cap, the rest folded)."""
    import datagen

    schema = tmp / "one.yaml"
    schema.write_text(wide_schema_text(2, rows=10))
    out = tmp / "many-files"
    datagen.generate(str(schema), format="parquet", out=out, workers=1)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] += [{"path": f"t/part-{i:06d}.parquet", "table": "t", "bytes": 1, "sha256": "0" * 64}
                          for i in range(1, 300_001)]
    (out / "manifest.json").write_text(json.dumps(manifest))

    def val() -> None:
        report = datagen.validate(str(schema), format="parquet", out=out)
        assert report["status"] == "fail" and len(report["checks"]) < 1_000, "not refused, or not capped"

    return "validate: a manifest listing 300,000 missing files", 10.0, val


def _expanding_part_cases(tmp: Path) -> list[tuple[str, float, Callable[[], None]]]:
    """validate of a datagen Parquet output whose part is replaced by a 0.6 MB file of 100M
    rows of constants (before issue 11: 13 GB peak RSS and 62 s before failing)."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    import datagen

    rows = 100_000_000
    schema = tmp / "two.yaml"
    schema.write_text(wide_schema_text(2, rows=1000))
    out = tmp / "expanding"
    datagen.generate(str(schema), format="parquet", out=out, workers=1)
    part = out / "t" / "part-00000.parquet"
    arrow = pq.read_schema(part)
    chunk = 1 << 20
    batch = pa.record_batch([pa.array(["abcde"] * chunk), pa.array([7] * chunk, pa.int64())], schema=arrow)
    table = pa.Table.from_batches([batch] * (rows // chunk) + [batch.slice(0, rows % chunk)], schema=arrow)
    pq.write_table(table, part, row_group_size=rows, use_dictionary=True, data_page_size=1 << 20)
    contract = tmp / "expanding-contract"
    shutil.copytree(out, contract)
    (contract / "manifest.json").unlink()

    def refused() -> None:
        report = datagen.validate(str(schema), format="parquet", out=out)
        assert [c for c in report["checks"] if c["kind"] == "row_count"][0]["observed"] == rows, "not refused"

    def streamed() -> None:
        report = datagen.validate(str(schema), format="parquet", out=contract)
        assert report["status"] == "pass", "the part does not validate"

    return [("validate: a 0.6 MB part of 100M rows, the manifest says 1,000", 2.0, refused),
            ("validate: a 0.6 MB part of 100M rows, no manifest (streamed)", 15.0, streamed)]


def _refused(fn: Callable[[], object], *errors: type[BaseException]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn()
        except errors:
            return
        raise AssertionError("was not refused")

    return run


def cases(tmp: Path) -> list[tuple[str, float, Callable[[], None]]]:
    """(name, budget in seconds, the work)."""
    from generators.csv_generator.format import CsvFormat
    from shared import api
    from shared.distributions.regex import RegexError, compile_pattern
    from shared.errors import SchemaError, UsageError
    from shared.model.expr import ExprError, parse_expr
    from shared.validation.runner import validate_output

    deep = tmp / "deep.json"
    deep.write_text('{"version": 1, "name": "deep", "tables": ' + "[" * 10_000 + "]" * 10_000 + "}")
    redos = tmp / "redos.yaml"
    redos.write_text(REDOS_SCHEMA)
    data = tmp / "data"
    data.mkdir()
    (data / "t.csv").write_text(f"s\n{'a' * 100_000}b\naaaa\n{'a' * 40}!\n")
    per_parent = tmp / "cap.yaml"
    per_parent.write_text(PER_PARENT_SCHEMA)
    loader_redos = tmp / "redos2.yaml"
    choice = "choice, params: {values: ['" + "a" * 60 + "b']}"
    loader_redos.write_text(REDOS_SCHEMA.replace("const, params: {value: a}", choice))
    load = api.load_schema
    return [
        ("schema: alias bomb (10^9 nodes)", 1.5, _refused(lambda: load(str(BAD / "alias_bomb.yaml")), SchemaError)),
        ("schema: nesting bomb (10,000 levels)", 1.5,
         _refused(lambda: load(str(BAD / "nesting_bomb.yaml")), SchemaError)),
        ("schema: JSON nested 10,000 levels", 3.0, _refused(lambda: load(str(deep)), SchemaError)),
        ("schema: choice value vs backtracking pattern", 3.0, _refused(lambda: load(str(loader_redos)), SchemaError)),
        ("regex: ((((a{100}){100}){100}){100})", 1.0,
         _refused(lambda: compile_pattern("((((a{100}){100}){100}){100})"), RegexError)),
        ("regex: ((a|b|c|d|e|f|g|h){100}){30}", 1.0,
         _refused(lambda: compile_pattern("((a|b|c|d|e|f|g|h){100}){30}"), RegexError)),
        ("expr: 9,000 nested unary minus", 0.5, _refused(lambda: parse_expr("-" * 9000 + "1"), ExprError)),
        ("expr: 'not ' x 2,400", 0.5, _refused(lambda: parse_expr("not " * 2400 + "a"), ExprError)),
        ("validate: (a+)+$ on 100,001 characters (RE2)", 5.0,
         lambda: validate_output(load(str(redos)), CsvFormat(), data)),
        ("plan: 4e9 parents over the size cap", 1.0,
         _refused(lambda: api.resolve_plan(load(str(per_parent)), rows={"customers": 4_000_000_000}), UsageError)),
        *_wide_cases(tmp),
        _many_files_case(tmp),
        *_expanding_part_cases(tmp),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("-k", dest="match", default="", help="only the cases whose name contains this text")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, budget, work in cases(Path(tmp)):
            if args.match not in name:
                continue
            best = float("inf")
            for _ in range(max(1, args.runs)):
                t0 = time.perf_counter()
                work()
                best = min(best, time.perf_counter() - t0)
            rows.append({"case": name, "seconds": round(best, 4), "budget_s": budget, "ok": best < budget})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(r["case"]) for r in rows)
        for r in rows:
            print(f"{r['case']:<{width}}  {r['seconds']:8.4f} s  (budget {r['budget_s']} s)  "
                  f"{'ok' if r['ok'] else 'OVER BUDGET'}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
