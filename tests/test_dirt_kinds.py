"""More kinds of dirt (issue 12 item 11): opt-in kinds, each selectable alone, labelled in the
sidecar, byte-identical for every block size and worker count, explained by ``validate``."""

from __future__ import annotations

import csv
import json
import textwrap

import numpy as np
import pyarrow as pa
import pytest

import datagen
from datagen.cli import app
from shared import corruption
from shared.corruption.kinds import _QWERTY, _QWERTY_SHIFTED, DateFormats, NumberFormats, keyboard_typo
from shared.errors import UsageError
from tests.helpers import make_runner, output_text

SCHEMA = textwrap.dedent("""
    version: 1
    name: dirt
    seed: 11
    tables:
      - name: customers
        rows: 400
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: name, type: string, generator: {type: faker, params: {provider: name, pool_size: 300}}}
          - {name: tier, type: string, allowed: [free, plus, pro],
             generator: {type: choice, params: {values: [free, plus, pro]}}}
          - {name: code, type: string, pattern: '[A-Z]{3}-[0-9]{3}',
             generator: {type: regex, params: {pattern: '[A-Z]{3}-[0-9]{3}'}}}
          - {name: age, type: int32, min: 18, max: 90, generator: {type: uniform_int, params: {min: 18, max: 90}}}
          - {name: score, type: float64, nullable: true, null_rate: 0.1,
             generator: {type: normal, params: {mean: 1000, std: 900}}}
          - {name: balance, type: "decimal(12,2)", generator: {type: uniform_float, params: {min: -5000, max: 100000}}}
          - {name: vip, type: bool, generator: {type: bernoulli, params: {p: 0.2}}}
          - {name: born, type: date, generator: {type: uniform_date, params: {start: "1950-01-01", end: "2000-12-31"}}}
          - {name: seen, type: timestamp,
             generator: {type: uniform_timestamp, params: {start: "2024-01-01", end: "2024-12-31"}}}
      - name: visits
        rows: 700
        primary_key: visit_id
        events: {time: ts, key: customer_id, type: visit}
        columns:
          - {name: visit_id, type: int64, generator: sequence}
          - {name: customer_id, type: int64, generator: {type: fk, params: {table: customers}}}
          - {name: ts, type: timestamp, generator: {type: time_series, params: {start: "2024-01-01", step: 1m}}}
          - {name: page, type: string, generator: {type: choice, params: {values: [home, cart, checkout]}}}
          - {name: amount, type: float64, generator: {type: uniform_float, params: {min: 1, max: 5000}}}
""")

NEW_KINDS = ("keyboard_typos", "bom", "extra_duplicates", "near_duplicates")
TEXT_KINDS = ("type_noise", "date_formats", "number_formats")
TEXT_FORMATS = ("csv", "json", "ndjson", "event_stream")
FORMATS = ("csv", "json", "ndjson", "parquet", "sqlite", "event_stream")


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("dirt") / "dirt.yaml"
    p.write_text(SCHEMA)
    return p


def _generate(schema_file, out, fmt, *extra):
    res = make_runner().invoke(app, ["generate", "--format", fmt, "--schema", str(schema_file), "--out", str(out),
                                     "-q", *extra])
    assert res.exit_code == 0, output_text(res)
    return json.loads((out / "manifest.json").read_text())


def _validate(schema_file, out, fmt, *extra):
    res = make_runner().invoke(app, ["validate", "--format", fmt, "--schema", str(schema_file), "--out", str(out),
                                     "-q", *extra], env={"COLUMNS": "250"})
    return res.exit_code, json.loads((out / "validation_report.json").read_text())


def _records(out) -> list[dict]:
    with open(out / "corruptions.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --- keyboard typos ---------------------------------------------------------------------------


def _neighbours() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for layout in (_QWERTY, _QWERTY_SHIFTED):
        for r, row in enumerate(layout):
            for c, ch in enumerate(row):
                near = {layout[rr][cc] for rr, cc in [(r, c - 1), (r, c + 1), (r - 1, c), (r - 1, c + 1),
                                                      (r + 1, c - 1), (r + 1, c)]
                        if 0 <= rr < len(layout) and 0 <= cc < len(layout[rr])}
                out[ch] = near
    return out


def test_keyboard_typo_replaces_one_character_by_a_neighbouring_key():
    words = ["hello", "World", "Zürich 8001", "a", "x-1", "Ünïcödé", "QWERTY", "---", ""]
    values = pa.array(words * 50 + [None], pa.string())
    u = np.linspace(0, 0.999, len(values))
    out = keyboard_typo(values, u).to_pylist()
    nb = _neighbours()
    assert out[-1] is None  # a null stays null
    for before, after in zip(values.to_pylist()[:-1], out[:-1], strict=True):
        assert after != before
        if not any(ch.isascii() and ch.isalnum() for ch in before):
            assert after == before + "x"
            continue
        assert len(after) == len(before)
        diff = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        assert len(diff) == 1, (before, after)
        a, b = diff[0]
        assert b in nb[a] and b.isalnum(), (before, after)
        assert a.isupper() == b.isupper() or not (a.isalpha() and b.isalpha())


# --- selection ---------------------------------------------------------------------------------


def test_rates_only_and_run_selection(schema_file):
    schema = datagen.load_schema(str(schema_file))
    t = schema.table("customers")
    name = t.column("name")
    assert corruption.rate(schema, t, name, "keyboard_typos") == 0.0  # opt-in: off by default
    assert corruption.rate(schema, t, name, "typos") == corruption.DEFAULT_RATES["typos"]
    sel = {"keyboard_typos": None, "typos": 0.2}
    assert corruption.rate(schema, t, name, "keyboard_typos", sel) == corruption.OPT_IN_RATES["keyboard_typos"]
    assert corruption.rate(schema, t, name, "typos", sel) == 0.2
    assert corruption.rate(schema, t, name, "casing", sel) == 0.0
    only = datagen.load_schema(SCHEMA.replace("seed: 11", "seed: 11\ncorruption: {only: [bom], typos: 0.3}"))
    t2 = only.table("customers")
    assert corruption.rate(only, t2, t2.column("name"), "bom") == corruption.OPT_IN_RATES["bom"]
    assert corruption.rate(only, t2, t2.column("name"), "typos") == 0.3  # named in the same block
    assert corruption.rate(only, t2, t2.column("name"), "casing") == 0.0
    assert corruption.rate(only, t2, None, "duplicates") == 0.0


def test_default_dirty_output_has_no_opt_in_kind(schema_file, tmp_path):
    m = _generate(schema_file, tmp_path / "o", "csv", "--profile", "dirty")
    kinds = {k for cols in m["corruption"]["counts"].values() for ks in cols.values() for k in ks}
    assert kinds and not kinds & set(corruption.OPT_IN_RATES)
    assert "selected" not in m["corruption"] and "added_rows" not in m["corruption"]


@pytest.mark.parametrize("kind", NEW_KINDS)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_each_kind_alone(schema_file, tmp_path, kind, fmt):
    out = tmp_path / "o"
    m = _generate(schema_file, out, fmt, "--corrupt", f"{kind}=0.05")
    assert m["profile"] == "dirty"
    assert m["corruption"]["selected"] == {kind: 0.05}
    recs = _records(out)
    assert recs and {r["kind"] for r in recs} == {kind}
    counts = m["corruption"]["counts"]
    assert sum(n for cols in counts.values() for ks in cols.values() for n in ks.values()) == len(recs)
    for t in ("customers", "visits"):
        rows = sum(1 for r in recs if r["table"] == t and r["column"] == "*")
        if kind in corruption.ADDS_ROWS:
            assert m["corruption"].get("added_rows", {}).get(t, 0) == rows
            if kind == "near_duplicates" or t == "customers":
                assert rows > 0
        else:
            assert rows == 0
            assert not any(r["column"] in ("id", "visit_id", "customer_id") for r in recs)  # never keys
    code, rep = _validate(schema_file, out, fmt)
    assert code == 0, [c for c in rep["checks"] if c["status"] == "fail"]
    warned = {c["kind"] for c in rep["checks"] if c["status"] == "warning"}
    assert warned
    if kind in corruption.ADDS_ROWS:
        assert {"row_count", "primary_key"} <= warned
        rc = next(c for c in rep["checks"] if c["kind"] == "row_count" and c["table"] == "customers")
        assert rc["observed"] == rc["expected"] == 400 + m["corruption"]["added_rows"]["customers"]
        assert rc["planned"] == 400 and rc["expected_corruption"] == [kind]
    assert all(c["status"] == "pass" for c in rep["checks"] if c["kind"] == "deterministic_replay")
    code, rep = _validate(schema_file, out, fmt, "--strict")
    assert code == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_added_rows_in_every_format(schema_file, tmp_path, fmt):
    out = tmp_path / "o"
    m = _generate(schema_file, out, fmt, "--corrupt", "extra_duplicates=0.03", "--corrupt", "near_duplicates=0.03",
                  "--corrupt", "keyboard_typos=0.02", "--workers", "1")
    added = m["corruption"]["added_rows"]
    assert added["customers"] > 0 and added["visits"] > 0
    from shared.formats import get_format
    from shared.schema_dsl.engine import arrow_schema

    f = get_format(fmt)
    schema = datagen.load_schema(str(schema_file))
    for t in ("customers", "visits"):
        table = schema.table(t)
        got = f.read_table(out, table, arrow_schema(table, dirty=True))
        assert got.num_rows == (400 if t == "customers" else 700) + added[t]
    code, rep = _validate(schema_file, out, fmt)
    assert code == 0, [c for c in rep["checks"] if c["status"] == "fail"]
    assert any(c["kind"] == "row_count" and c["status"] == "warning" for c in rep["checks"])
    assert _validate(schema_file, out, fmt, "--strict")[0] == 1


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json", "event_stream"])
def test_same_bytes_whatever_the_blocks_and_workers(schema_file, tmp_path, fmt):
    sel = ["--corrupt", "extra_duplicates=0.04", "--corrupt", "near_duplicates=0.04", "--corrupt", "duplicates=0.02",
           "--corrupt", "keyboard_typos=0.03", "--corrupt", "bom=0.02", "--corrupt", "nulls=0.01",
           "--corrupt", "type_noise=0.03", "--corrupt", "date_formats=0.03", "--corrupt", "number_formats=0.03"]
    a = _generate(schema_file, tmp_path / "a", fmt, *sel, "--workers", "1")
    b = _generate(schema_file, tmp_path / "b", fmt, *sel, "--workers", "2", "--block-rows", "37")
    c = _generate(schema_file, tmp_path / "c", fmt, *sel, "--workers", "1", "--block-rows", "101",
                  *(["--option", "max_rows_per_file=150", "--option", "row_group_rows=64"] if fmt == "parquet" else []))
    digests = [{f["path"]: f["sha256"] for f in m["files"]} for m in (a, b)]
    assert digests[0] == digests[1]
    assert (tmp_path / "a" / "corruptions.csv").read_bytes() == (tmp_path / "c" / "corruptions.csv").read_bytes()
    assert a["corruption"]["counts"] == c["corruption"]["counts"]


def test_the_sidecar_points_at_the_written_rows(schema_file, tmp_path):
    out = tmp_path / "o"
    _generate(schema_file, out, "csv", "--corrupt", "extra_duplicates=0.05", "--corrupt", "near_duplicates=0.05",
              "--corrupt", "duplicates=0.03", "--corrupt", "bom=0.03", "--block-rows", "50")
    recs = _records(out)
    for t in ("customers", "visits"):
        with open(out / f"{t}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        header, rows = rows[0], rows[1:]
        mine = [r for r in recs if r["table"] == t]
        cells = {(int(r["row"]), r["column"]) for r in mine if r["column"] != "*"}
        for r in mine:
            i = int(r["row"])
            if r["column"] == "*":
                assert r["original"].startswith(corruption.COPY_OF)
                src = int(r["original"][len(corruption.COPY_OF):])
                differ = {header[j] for j in range(len(header)) if rows[i][j] != rows[src][j]}
                if r["kind"] == "extra_duplicates":
                    assert src == i - 1 and not differ
                elif r["kind"] == "near_duplicates":
                    assert src in (i - 1, i - 2)
                    assert differ and differ <= {c for (row, c) in cells if row == i}
                    assert not differ & {"id", "visit_id", "customer_id"}
            else:
                assert rows[i][header.index(r["column"])] != r["original"]
                alone = sum(1 for x in mine if x["row"] == r["row"] and x["column"] == r["column"]) == 1
                if r["kind"] == "bom" and alone:  # (a near duplicate may mistype a copied cell too)
                    assert rows[i][header.index(r["column"])] == "\ufeff" + r["original"]


def test_python_api_takes_the_selection(schema_file, tmp_path):
    res = datagen.generate(str(schema_file), format="csv", out=tmp_path / "o", corrupt={"bom": 0.1}, workers=1)
    assert res.manifest["corruption"]["selected"] == {"bom": 0.1}
    assert {r["kind"] for r in _records(tmp_path / "o")} == {"bom"}
    plan = datagen.resolve_plan(str(schema_file), corrupt=["near_duplicates"])
    assert plan.profile == "dirty" and dict(plan.corrupt) == {"near_duplicates": None}
    assert corruption.written_rows(plan, "customers") > 400


# --- text-only kinds ---------------------------------------------------------------------------


def test_number_formats_always_change_the_text():
    values = pa.array([0, 7, 18, -5, 999, 1000, 1234567, -98765], pa.int64())
    plain = [str(v) for v in values.to_pylist()]
    for u in (0.05, 0.25, 0.45, 0.65, 0.85, 0.99):
        got = NumberFormats().render(values, None, np.full(len(values), u), None, None, None).to_pylist()
        assert all(g != p for g, p in zip(got, plain, strict=True)), (u, got)
        parsed, bad = corruption.parse_text(pa.array(got), pa.int64())
        assert bad.all() and parsed.null_count == len(values)  # no form reads back as an int
    fl = NumberFormats().render(pa.array([1234.5, -0.25]), None, np.array([0.1, 0.3]), None, None, None).to_pylist()
    assert fl == ["1,234.5", "-0,25"]


def test_date_formats_write_the_same_day_another_way():
    class Col:
        class dtype:
            kind = "date"

    day = pa.array([20524], pa.date32())  # 2026-03-12
    forms = [DateFormats().render(day, None, np.array([(i + 0.5) / 7]), Col, None, None)[0].as_py() for i in range(7)]
    assert forms == ["03/12/2026", "12/03/2026", "12.03.2026", "12 Mar 2026", "20260312", "Mar 12, 2026",
                     "2026/03/12"]


def test_parse_text_reads_the_written_forms_and_nulls_the_rest():
    got, bad = corruption.parse_text(pa.array(["12", "N/A", None, "1,234", " 7", ""]), pa.int32())
    assert got.to_pylist() == [12, None, None, None, None, None]
    assert bad.tolist() == [False, True, False, True, True, True]
    ts, bad = corruption.parse_text(pa.array(["2024-01-02 03:04:05.000006Z", "2024-01-02T03:04:05Z",
                                              "2024-01-02 03:04:05", "1704164645"]), pa.timestamp("us", tz="UTC"))
    assert ts.null_count == 2 and bad.tolist() == [False, False, True, True]


@pytest.mark.parametrize("kind", TEXT_KINDS)
@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_text_kinds_alone_in_text_formats(schema_file, tmp_path, kind, fmt):
    out = tmp_path / "o"
    m = _generate(schema_file, out, fmt, "--corrupt", f"{kind}=0.08")
    recs = _records(out)
    assert recs and {r["kind"] for r in recs} == {kind}
    cols = {r["column"] for r in recs}
    typed = {"age", "score", "balance", "vip", "born", "seen", "amount"}
    assert cols <= typed and "ts" not in cols  # never keys, never an event's time
    if kind == "date_formats":
        assert cols <= {"born", "seen"}
    if kind == "number_formats":
        assert cols <= {"age", "score", "balance", "amount"}
    counts = m["corruption"]["counts"]
    assert sum(n for cs in counts.values() for ks in cs.values() for n in ks.values()) == len(recs)
    code, rep = _validate(schema_file, out, fmt)
    assert code == 0, [c for c in rep["checks"] if c["status"] == "fail"]
    parse = [c for c in rep["checks"] if c["kind"] == "parseable" and c["column"] is not None]
    warned = [c for c in parse if c["status"] == "warning"]
    assert warned and all(c["expected_corruption"] == [kind] for c in warned)
    # every recorded cell of a non-float column is unreadable as its type (a float may be written
    # in scientific notation, which reads back as the float)
    strict_cols = {c for c in cols if c != "score" and c != "amount"}
    for c in strict_cols:
        n_rec = sum(1 for r in recs if r["column"] == c)
        res = next(x for x in parse if x["column"] == c)
        assert res["unexpected_count"] == n_rec, (c, res)
    assert all(c["status"] == "pass" for c in rep["checks"] if c["kind"] == "deterministic_replay")
    assert _validate(schema_file, out, fmt, "--strict")[0] == 1


@pytest.mark.parametrize("fmt", ["parquet", "sqlite"])
def test_text_kinds_are_not_applicable_in_typed_formats(schema_file, tmp_path, fmt):
    out = tmp_path / "o"
    m = _generate(schema_file, out, fmt, "--corrupt", "type_noise=0.1", "--corrupt", "number_formats")
    assert set(m["corruption"]["not_applicable"]) == {"type_noise", "number_formats"}
    assert not _records(out) and not m["corruption"]["counts"]
    code, rep = _validate(schema_file, out, fmt)
    assert code == 0 and not [c for c in rep["checks"] if c["status"] in ("warning", "fail")]


def test_text_cells_in_the_files(schema_file, tmp_path):
    _generate(schema_file, tmp_path / "c", "csv", "--corrupt", "type_noise=0.2")
    _generate(schema_file, tmp_path / "j", "ndjson", "--corrupt", "type_noise=0.2")
    recs = [r for r in _records(tmp_path / "c") if r["table"] == "customers" and r["column"] == "age"]
    assert recs
    with open(tmp_path / "c" / "customers.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    lines = (tmp_path / "j" / "customers.ndjson").read_text(encoding="utf-8").splitlines()
    for r in recs:
        i = int(r["row"])
        text = rows[i]["age"]
        assert text in kinds_tokens() and text != r["original"]
        assert json.loads(lines[i])["age"] == text  # a JSON string where the number belongs
    clean = next(i for i in range(len(rows)) if i not in {int(r["row"]) for r in recs})
    assert isinstance(json.loads(lines[clean])["age"], int)


def kinds_tokens() -> tuple[str, ...]:
    from shared.corruption.kinds import TYPE_NOISE_TOKENS

    return TYPE_NOISE_TOKENS


def test_csv_with_a_byte_order_mark_validates(schema_file, tmp_path):
    out = tmp_path / "o"
    _generate(schema_file, out, "csv", "--corrupt", "bom=0.05", "--corrupt", "type_noise=0.05",
              "--option", "encoding=utf-8-sig")
    assert (out / "customers.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    code, rep = _validate(schema_file, out, "csv")
    assert code == 0, [c for c in rep["checks"] if c["status"] == "fail"]


# --- the documented example ---------------------------------------------------------------------


def _doc_example() -> str:
    from tests.helpers import ROOT

    text = (ROOT / "docs" / "profiles.md").read_text(encoding="utf-8")
    block = text.split("<!-- example: dirty_contacts -->", 1)[1]
    return block.split("```yaml\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_documented_example_generates_and_validates(tmp_path, fmt):
    schema = tmp_path / "dirty_contacts.yaml"
    schema.write_text(_doc_example())
    out = tmp_path / "o"
    m = _generate(schema, out, fmt, "--workers", "1")
    kinds = {k for cols in m["corruption"]["counts"].values() for ks in cols.values() for k in ks}
    text_kinds = set(TEXT_KINDS)
    if fmt in TEXT_FORMATS:
        assert kinds == set(corruption.OPT_IN_RATES)  # every opt-in kind, nothing else
    else:
        assert kinds == set(corruption.OPT_IN_RATES) - text_kinds
        assert set(m["corruption"]["not_applicable"]) == text_kinds
    assert m["corruption"]["rates"]["contacts"]["*"]["near_duplicates"] == 0.03
    logins = m["corruption"]["rates"]["logins"]
    if fmt in TEXT_FORMATS:
        assert logins["seconds"] == {"type_noise": 0.02, "number_formats": 0.01}
    else:
        assert "seconds" not in logins  # no text kind in a typed format
    code, rep = _validate(schema, out, fmt)
    assert code == 0, [c for c in rep["checks"] if c["status"] == "fail"]
    assert _validate(schema, out, fmt, "--strict")[0] == 1


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_forged_row_count_costs_no_hashing(schema_file, tmp_path, monkeypatch, fmt):
    """A manifest claiming 10^12 rows of a table with kinds that add rows: the added rows are
    counted only when the artifacts hold about that many, so nothing near 10^12 rows is hashed."""
    out = tmp_path / "o"
    _generate(schema_file, out, fmt, "--corrupt", "extra_duplicates=0.05")
    m = json.loads((out / "manifest.json").read_text())
    m.update(rows_overrides={"customers": 10**12}, allow_huge=True)
    (out / "manifest.json").write_text(json.dumps(m))
    hashed = []
    real = corruption.added_rows

    def counting(plan, table, start=0, stop=None):
        hashed.append((plan.rows(table) if stop is None else stop) - start)
        return real(plan, table, start, stop)

    monkeypatch.setattr(corruption, "added_rows", counting)
    rep = datagen.validate(str(schema_file), out=out, format=fmt)
    assert rep["status"] == "fail"
    rc = next(c for c in rep["checks"] if c["kind"] == "row_count" and c["table"] == "customers")
    assert rc["status"] == "fail" and rc["expected"] == 10**12
    from shared.validation.runner import REPLAY_PIECE_ROWS

    # at most the first replay piece beyond the rows really there (the replay starts before the
    # rows are counted), never anything near the forged count
    assert sum(hashed) <= REPLAY_PIECE_ROWS + 10_000, hashed


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["--corrupt", "keybord_typos"], "did you mean 'keyboard_typos'?"),
    (["--corrupt", "typos=2"], "the rate must be a number from 0 to 1"),
    (["--corrupt", "typos=lots"], "the rate must be a number from 0 to 1"),
    (["--corrupt", "bom", "--corrupt", "bom=0.1"], "given more than once"),
    (["--corrupt", "bom", "--profile", "realistic"], "not --profile realistic"),
])
def test_bad_selection_is_exit_2(schema_file, tmp_path, args, message):
    res = make_runner().invoke(app, ["generate", "--format", "csv", "--schema", str(schema_file),
                                     "--out", str(tmp_path / "o"), *args], env={"COLUMNS": "250"})
    assert res.exit_code == 2, output_text(res)
    assert message in output_text(res)
    assert not (tmp_path / "o").exists()


def test_api_refuses_an_unknown_kind(schema_file):
    with pytest.raises(UsageError, match="did you mean 'bom'"):
        datagen.resolve_plan(str(schema_file), corrupt={"boom": None})


def test_a_forged_selection_fails_the_manifest_check(schema_file, tmp_path):
    out = tmp_path / "o"
    _generate(schema_file, out, "csv", "--corrupt", "bom=0.05")
    m = json.loads((out / "manifest.json").read_text())
    m["corruption"]["selected"] = {"boom": 0.1}
    (out / "manifest.json").write_text(json.dumps(m))
    code, rep = _validate(schema_file, out, "csv")
    assert code == 1
    assert any(c["kind"] == "manifest" and c["status"] == "fail" and "boom" in c["message"] for c in rep["checks"])
    m["corruption"]["selected"] = ["bom"]
    (out / "manifest.json").write_text(json.dumps(m))
    code, rep = _validate(schema_file, out, "csv")
    assert code == 1
    assert any(c["kind"] == "manifest" and "corruption.selected" in c["message"] for c in rep["checks"])
