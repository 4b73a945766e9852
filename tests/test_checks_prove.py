"""Tests that prove the checks of ``validate``: each one can fail, and counts what it should.

For every check kind — the data checks of ``shared.validation.checks.CHECKS`` and the runner's
own ``RUNNER_KINDS`` — a test builds artifacts that violate exactly that check and asserts its
entry fails (with the exact ``unexpected_count`` for value checks) while no other check fails.
Disabling any check (making it return ``[]``) therefore fails a test here, and the registry tests
at the end make a new check kind without such a case fail too.

How one check is isolated:

* value checks (``not_null`` … ``foreign_key``): the data is edited with the format's own writer
  and validated as a *data contract* (``manifest.json`` removed), so ``checksum`` and
  ``deterministic_replay`` — which any edit trips — do not run;
* ``row_count`` and ``deterministic_replay`` need a manifest: the data is edited, then the
  manifest resealed (sizes and sha256 recomputed) as a forger would, so ``checksum`` passes and
  only the data gives the change away;
* ``checksum``: the same rows rewritten with another Parquet compression — every value equal,
  only the bytes differ;
* the rest (``manifest``, ``format_match``, ``run_match``, ``schema_match`` …) edit the manifest,
  the validate call or the folder, as their docs say.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import datagen
from shared.validation.checks import CHECKS
from shared.validation.runner import RUNNER_KINDS
from tests.conformance import reseal, rewrite_table

SCHEMA = """\
version: 1
name: prove
seed: 5
tables:
  - name: customers
    rows: 20
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - {name: name, type: string, generator: {type: template, params: {template: "customer {id}"}}}
      - {name: email, type: string, unique: true, generator: {type: template, params: {template: "c{id}@example.org"}}}
      - {name: age, type: int64, min: 18, max: 90, generator: {type: uniform_int, params: {min: 18, max: 90}}}
      - {name: tier, type: string, allowed: [free, pro], generator: {type: choice, params: {values: [free, pro]}}}
      - {name: code, type: string, pattern: "[A-Z]{2}[0-9]{3}", generator: {type: regex, params: {pattern: "[A-Z]{2}[0-9]{3}"}}}
      - {name: nick, type: string, max_length: 8, generator: {type: regex, params: {pattern: "[a-z]{3,6}"}}}
      - {name: tags, type: list, length: {min: 1, max: 3}, items: {type: string, max_length: 12}}
  - name: orders
    rows: 30
    primary_key: order_id
    unique: [[customer_id, line]]
    columns:
      - {name: order_id, type: int64, generator: sequence}
      - {name: line, type: int64, generator: {type: uniform_int, params: {min: 1, max: 1000}}}
      - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers, column: id}}}
  - name: visits
    rows: 25
    columns:
      - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers, cover: true}}}
"""

#: the formats the value checks are proven on (a binary and a text format)
FORMATS = ("parquet", "csv")


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("prove") / "prove.yaml"
    p.write_text(SCHEMA, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def generated(schema_file, tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("prove-out")
    return {fmt: datagen.generate(str(schema_file), format=fmt, out=base / fmt, workers=1).output_dir
            for fmt in FORMATS}


def copy_of(generated: dict[str, Path], fmt: str, tmp_path: Path, *, contract: bool) -> Path:
    """A private copy of the generated output; ``contract``: without ``manifest.json``."""
    out = tmp_path / fmt
    shutil.copytree(generated[fmt], out)
    if contract:
        (out / "manifest.json").unlink()
    return out


def edit(schema_file: Path, fmt: str, out: Path, table: str, change: Callable[[pa.Table], pa.Table]) -> None:
    """Read ``table`` back through the format, apply ``change``, write it with the format's writer."""
    schema = datagen.load_schema(str(schema_file))
    f = datagen.get_format(fmt)
    t = schema.table(table)
    from shared.schema_dsl.engine import arrow_schema

    data = f.read_table(out, t, arrow_schema(t))
    rewrite_table(f, out, schema, table, change(data))


def set_cells(column: str, rows: dict[int, object]) -> Callable[[pa.Table], pa.Table]:
    """A change that sets ``column`` at the given row indexes (``None``: null)."""

    def change(data: pa.Table) -> pa.Table:
        values = data.column(column).to_pylist()
        for i, v in rows.items():
            values[i] = v
        i = data.schema.get_field_index(column)
        field = data.schema.field(column)
        if None in rows.values():
            field = field.with_nullable(True)  # the writer refuses nulls in a field declared not null
        return data.set_column(i, field, pa.array(values, field.type))

    return change


def merge_first_into_second(column: str) -> Callable[[pa.Table], pa.Table]:
    """A change that replaces every occurrence of row 0's value by row 1's: one key fewer."""

    def change(data: pa.Table) -> pa.Table:
        values = data.column(column).to_pylist()
        gone, keep = values[0], values[1]
        i = data.schema.get_field_index(column)
        field = data.schema.field(column)
        return data.set_column(i, field, pa.array([keep if v == gone else v for v in values], field.type))

    return change


def entries(report: dict, kind: str) -> list[dict]:
    return [c for c in report["checks"] if c["kind"] == kind]


def the_only_failure(report: dict, kind: str) -> dict:
    """The one failing check of the report, which must be of ``kind``."""
    bad = [c for c in report["checks"] if c["status"] not in ("pass", "skipped")]
    assert [c["kind"] for c in bad] == [kind], [(c["kind"], c["table"], c["column"], c["message"]) for c in bad]
    assert report["status"] == "fail" and report["summary"]["failed"] == 1
    return bad[0]


def contract_report(schema_file: Path, fmt: str, out: Path) -> dict:
    report = datagen.validate(str(schema_file), out=out, format=fmt)
    assert not report["produced_by_datagen"]
    assert {c["status"] for c in entries(report, "deterministic_replay")} == {"skipped"}
    return report


# --- the value checks (CHECKS), one case each ------------------------------------------------------------

#: kind -> (table, column in the report, the edit, the exact unexpected_count, element_count)
VALUE_CASES: dict[str, tuple[str, str, Callable[[pa.Table], pa.Table], int, int]] = {
    "not_null": ("customers", "name", set_cells("name", {2: None, 11: None}), 2, 20),
    # rows 4, 5 and 6 repeat row 3's email: 3 rows repeat an earlier key
    "unique": ("customers", "email", set_cells("email", {4: "c3@example.org", 5: "c3@example.org",
                                                         6: "c3@example.org"}), 3, 20),
    # order_id is referenced by nothing, so duplicating it fails the key alone
    "primary_key": ("orders", "order_id", set_cells("order_id", {8: 1, 9: 2}), 2, 30),
    "range": ("customers", "age", set_cells("age", {0: 17, 7: -5, 19: 91}), 3, 20),
    "allowed": ("customers", "tier", set_cells("tier", {1: "gold", 2: "Free"}), 2, 20),
    "pattern": ("customers", "code", set_cells("code", {3: "ab123", 4: "AB12", 5: "AB1234"}), 3, 20),
    "max_length": ("customers", "nick", set_cells("nick", {6: "abcdefghi", 8: "x" * 30}), 2, 20),
    "foreign_key": ("orders", "customer_id", set_cells("customer_id", {0: 10**6, 29: -1}), 2, 30),
    # one customer no longer visits: 1 of the 20 customers uncovered
    "coverage": ("visits", "customer_id", merge_first_into_second("customer_id"), 1, 20),
    # an empty list and one of four items where 1 to 3 are allowed
    "list_length": ("customers", "tags", set_cells("tags", {0: [], 4: ["a", "b", "c", "d"]}), 2, 20),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", sorted(VALUE_CASES))
def test_value_check_fails_alone_with_its_count(kind, fmt, schema_file, generated, tmp_path):
    table, column, change, count, total = VALUE_CASES[kind]
    out = copy_of(generated, fmt, tmp_path, contract=True)
    edit(schema_file, fmt, out, table, change)
    report = contract_report(schema_file, fmt, out)
    bad = the_only_failure(report, kind)
    assert (bad["table"], bad["column"]) == (table, column)
    assert bad["unexpected_count"] == count
    assert bad["element_count"] == total
    assert bad["unexpected_percent"] == round(100.0 * count / total, 4)
    assert 1 <= len(bad["sample"]) <= min(count, 5)


def test_unique_group_fails_alone_with_its_count(schema_file, generated, tmp_path):
    """A table-level ``unique`` group: rows 10 and 11 repeat row 9's (customer_id, line)."""
    out = copy_of(generated, "parquet", tmp_path, contract=True)

    def change(data: pa.Table) -> pa.Table:
        cid, line = data.column("customer_id").to_pylist(), data.column("line").to_pylist()
        data = set_cells("customer_id", {10: cid[9], 11: cid[9]})(data)
        return set_cells("line", {10: line[9], 11: line[9]})(data)

    edit(schema_file, "parquet", out, "orders", change)
    bad = the_only_failure(contract_report(schema_file, "parquet", out), "unique")
    assert (bad["table"], bad["column"]) == ("orders", "customer_id,line")
    assert bad["unexpected_count"] == 2


def test_primary_key_counts_nulls(schema_file, generated, tmp_path):
    """A null key is a key violation (and a not_null one: the key column is not nullable)."""
    out = copy_of(generated, "parquet", tmp_path, contract=True)
    edit(schema_file, "parquet", out, "orders", set_cells("order_id", {3: None, 4: 1}))
    report = contract_report(schema_file, "parquet", out)
    (pk,) = [c for c in entries(report, "primary_key") if c["status"] == "fail"]
    assert pk["unexpected_count"] == 2 and pk["message"] == "1 duplicated and 1 null key values"
    (nn,) = [c for c in entries(report, "not_null") if c["status"] == "fail"]
    assert (nn["column"], nn["unexpected_count"]) == ("order_id", 1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_untouched_data_passes_every_check(fmt, schema_file, generated, tmp_path):
    """The baseline the cases above depart from: the same copies, unedited, fail nothing."""
    for contract in (False, True):
        out = copy_of(generated, fmt, tmp_path / str(contract), contract=contract)
        report = datagen.validate(str(schema_file), out=out, format=fmt)
        assert report["status"] == "pass" and report["summary"]["failed"] == 0, \
            [c for c in report["checks"] if c["status"] == "fail"]
        assert {c["kind"] for c in report["checks"]} >= set(CHECKS)


# --- the runner's kinds -------------------------------------------------------------------------------


def test_checksum_fails_alone_when_only_the_bytes_change(schema_file, generated, tmp_path):
    """The same rows written with another compression: every value equal, the bytes not."""
    out = copy_of(generated, "parquet", tmp_path, contract=False)
    (part,) = sorted((out / "customers").glob("part-*.parquet"))
    pq.write_table(pq.read_table(part), part, compression="gzip")
    report = datagen.validate(str(schema_file), out=out)
    bad = the_only_failure(report, "checksum")
    assert bad["table"] == "customers" and bad["file"] == "customers/part-00000.parquet"
    assert bad["message"].startswith("customers/part-00000.parquet: differs from the manifest (")
    assert bad["message"].endswith(") — the file was changed")
    assert {c["status"] for c in entries(report, "deterministic_replay")} == {"pass"}


def test_row_count_fails_alone_when_a_row_is_missing(schema_file, generated, tmp_path):
    out = copy_of(generated, "parquet", tmp_path, contract=False)
    edit(schema_file, "parquet", out, "orders", lambda t: t.slice(0, 29))
    reseal(out)
    report = datagen.validate(str(schema_file), out=out)
    bad = the_only_failure(report, "row_count")
    assert (bad["table"], bad["expected"], bad["observed"]) == ("orders", 30, 29)
    assert bad["message"] == "expected 30 rows, found 29"
    (replay,) = [c for c in entries(report, "deterministic_replay") if c["table"] == "orders"]
    assert replay["status"] == "skipped"


def test_deterministic_replay_fails_alone_with_its_count(schema_file, generated, tmp_path):
    """Valid values that are not the seed's: 3 ages moved inside [18, 90], manifest resealed."""
    out = copy_of(generated, "parquet", tmp_path, contract=False)
    schema = datagen.load_schema(str(schema_file))
    ages = datagen.to_arrow(schema, "customers")["customers"].column("age").to_pylist()
    moved = {i: 18 + (ages[i] - 18 + 1) % 73 for i in (2, 5, 13)}  # another value, still in range
    edit(schema_file, "parquet", out, "customers", set_cells("age", moved))
    reseal(out)
    report = datagen.validate(str(schema_file), out=out)
    bad = the_only_failure(report, "deterministic_replay")
    assert bad["table"] == "customers"
    assert (bad["unexpected_count"], bad["element_count"]) == (3, 20)
    assert bad["sample"] == ["row 2", "row 5", "row 13"]


def test_artifact_exists_fails_alone_when_a_table_is_missing(schema_file, generated, tmp_path):
    out = copy_of(generated, "parquet", tmp_path, contract=True)
    shutil.rmtree(out / "orders")
    bad = the_only_failure(contract_report(schema_file, "parquet", out), "artifact_exists")
    assert (bad["table"], bad["message"]) == ("orders", "no artifact for table orders")


def test_artifact_exists_fails_for_a_file_the_manifest_lists(schema_file, generated, tmp_path):
    out = copy_of(generated, "csv", tmp_path, contract=False)
    (out / "orders.csv").unlink()
    report = datagen.validate(str(schema_file), out=out)
    bad = [c for c in report["checks"] if c["status"] == "fail"]
    assert {c["kind"] for c in bad} == {"artifact_exists"}
    assert sorted(c["message"] for c in bad) == [f"missing {out / 'orders.csv'}", "orders.csv is missing"]


def test_parseable_fails_alone_when_a_file_does_not_read(schema_file, generated, tmp_path):
    out = copy_of(generated, "csv", tmp_path, contract=True)
    p = out / "orders.csv"
    p.write_text(p.read_text(encoding="utf-8") + "1,2\n", encoding="utf-8")  # a row with too few fields
    bad = the_only_failure(contract_report(schema_file, "csv", out), "parseable")
    assert bad["table"] == "orders" and bad["message"].startswith("cannot read orders: ")


def test_columns_fails_alone_for_an_extra_column(schema_file, generated, tmp_path):
    out = copy_of(generated, "parquet", tmp_path, contract=True)
    edit(schema_file, "parquet", out, "orders",
         lambda t: t.append_column("bonus", pa.array([1.5] * t.num_rows, pa.float64())))
    bad = the_only_failure(contract_report(schema_file, "parquet", out), "columns")
    assert bad["table"] == "orders" and bad["message"] == "unexpected bonus"


def test_columns_fails_for_a_wrong_type(schema_file, generated, tmp_path):
    out = copy_of(generated, "parquet", tmp_path, contract=True)

    def change(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index("line")
        return t.set_column(i, pa.field("line", pa.string()), t.column("line").cast(pa.string()))

    edit(schema_file, "parquet", out, "orders", change)
    bad = the_only_failure(contract_report(schema_file, "parquet", out), "columns")
    assert bad["message"] == "wrong type line: string (expected int64)"


def test_manifest_fails_alone_when_unreadable(schema_file, generated, tmp_path):
    out = copy_of(generated, "parquet", tmp_path, contract=False)
    (out / "manifest.json").write_text("{not json", encoding="utf-8")
    report = datagen.validate(str(schema_file), out=out, format="parquet")
    bad = the_only_failure(report, "manifest")
    assert bad["message"] == "manifest.json is not readable JSON"
    assert not report["produced_by_datagen"]  # then checked as a data contract


def test_manifest_fails_alone_for_a_path_leaving_out(schema_file, generated, tmp_path):
    out = copy_of(generated, "parquet", tmp_path, contract=False)
    m = json.loads((out / "manifest.json").read_text())
    m["files"].append({"path": "../secret", "table": None, "bytes": 1, "sha256": "0" * 64})
    (out / "manifest.json").write_text(json.dumps(m))
    bad = the_only_failure(datagen.validate(str(schema_file), out=out), "manifest")
    assert bad["message"] == "'../secret': a manifest path must stay inside --out; not read"


def test_format_match_fails_alone(schema_file, generated, tmp_path):
    out = copy_of(generated, "parquet", tmp_path, contract=False)
    m = json.loads((out / "manifest.json").read_text())
    m["format"] = "csv"
    (out / "manifest.json").write_text(json.dumps(m))
    bad = the_only_failure(datagen.validate(str(schema_file), out=out, format="parquet"), "format_match")
    assert bad["message"] == "the output was written as csv, not parquet"


def test_run_match_fails_alone(schema_file, generated, tmp_path):
    out = copy_of(generated, "parquet", tmp_path, contract=False)
    bad = the_only_failure(datagen.validate(str(schema_file), out=out, seed=6), "run_match")
    assert bad["message"] == "seed 6 was given, the output was generated with 5"
    ok = datagen.validate(str(schema_file), out=out, seed=5)
    assert [c["status"] for c in entries(ok, "run_match")] == ["pass"]


def test_schema_match_warns_for_another_schema_file(schema_file, generated, tmp_path, write_schema):
    """Another version of the schema file (a comment added): a warning, not a failure."""
    out = copy_of(generated, "parquet", tmp_path, contract=False)
    other = write_schema(SCHEMA + "# edited\n", "prove.yaml")
    report = datagen.validate(str(other), out=out)
    (sm,) = entries(report, "schema_match")
    assert sm["status"] == "warning"
    assert sm["message"] == "the manifest was written for a different version of the schema file"
    assert report["status"] == "pass" and report["summary"]["warnings"] == 1
    assert [c["kind"] for c in report["checks"] if c["status"] != "pass"] == ["schema_match"]


def test_format_extra_is_skipped_when_a_link_is_inside_out(schema_file, generated, tmp_path):
    """A link inside --out: ``artifact_exists`` fails, nothing is read, and the format's own
    checks are reported as not run (``format_extra`` skipped) rather than silently missing."""
    out = copy_of(generated, "parquet", tmp_path, contract=True)
    (out / "elsewhere").symlink_to(tmp_path)
    report = datagen.validate(str(schema_file), out=out, format="parquet")
    bad = the_only_failure(report, "artifact_exists")
    assert bad["message"].startswith("elsewhere is a symbolic link")
    (extra,) = entries(report, "format_extra")
    assert extra["status"] == "skipped"


def test_format_extra_fails_when_the_format_checks_crash(schema_file, generated, tmp_path, monkeypatch):
    out = copy_of(generated, "parquet", tmp_path, contract=True)
    fmt = datagen.get_format("parquet")

    def boom(*_a, **_k):
        raise OSError("disk gone")

    monkeypatch.setattr(type(fmt), "extra_checks", boom)
    bad = the_only_failure(datagen.validate(str(schema_file), out=out, format="parquet"), "format_extra")
    assert bad["message"] == "format check failed: OSError: disk gone"


# --- every registered kind has a case here ---------------------------------------------------------------

#: runner kinds -> the test above that makes it fail (or warn)
RUNNER_CASES = {
    "checksum": test_checksum_fails_alone_when_only_the_bytes_change,
    "row_count": test_row_count_fails_alone_when_a_row_is_missing,
    "deterministic_replay": test_deterministic_replay_fails_alone_with_its_count,
    "artifact_exists": test_artifact_exists_fails_alone_when_a_table_is_missing,
    "parseable": test_parseable_fails_alone_when_a_file_does_not_read,
    "columns": test_columns_fails_alone_for_an_extra_column,
    "manifest": test_manifest_fails_alone_when_unreadable,
    "format_match": test_format_match_fails_alone,
    "run_match": test_run_match_fails_alone,
    "schema_match": test_schema_match_warns_for_another_schema_file,
    "format_extra": test_format_extra_fails_when_the_format_checks_crash,
}


def test_every_registered_check_kind_has_a_violation_case():
    """A check kind added to the registry without a case above fails here."""
    assert set(CHECKS) == set(VALUE_CASES), "add a violation case for each data check kind"
    assert set(RUNNER_KINDS) == set(RUNNER_CASES), "add a violation case for each runner check kind"
