"""The conformance suite every output format runs (subclass ``FormatConformance``).

A format's test module is a few lines::

    class TestParquet(FormatConformance):
        FORMAT = "parquet"
        MODULE = "generators.parquet_generator"

It checks, on a small relational schema with every column type, nulls, keys, a per-parent table,
a composite key and a self-reference: the round trip (read back equals the engine's batches),
determinism across runs, block sizes and worker counts, the atomic replace of ``--out`` (a failing
run leaves the previous contents), refusal of a foreign ``--out``, exit codes, ``describe``, a
passing ``validate`` whose report follows ``schemas/validation_report.schema.json``, and tamper
detection: a deleted row, a duplicated key, an orphaned foreign key, a truncated file, a broken
line and a changed type each make ``validate`` exit 1 naming the check that failed.

Tampering rewrites a table through the format's own writer (``rewrite_table``), so the damage is
in the data, not just in a checksum; subclasses override the byte-level hooks where needed.
"""

from __future__ import annotations

import importlib
import json
import shutil
import textwrap
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shared.api import Engine, load_schema, resolve_plan
from shared.formats import FORMATS
from shared.schema_dsl.engine import arrow_schema
from tests.helpers import ROOT, make_runner

REPORT_SCHEMA = json.loads((ROOT / "schemas" / "validation_report.schema.json").read_text())

CONFORMANCE_SCHEMA = textwrap.dedent("""
    version: 1
    name: conf
    seed: 11
    tables:
      - name: people
        rows: 300
        primary_key: person_id
        columns:
          - {name: person_id, type: int64, generator: sequence}
          - {name: name, type: string, max_length: 40, generator: {type: faker, params: {provider: name, pool_size: 500}}}
          - {name: email, type: string, unique: true,
             generator: {type: template, params: {template: "user.{person_id}@example.com"}}}
          - {name: age, type: int16, min: 18, max: 90, generator: {type: normal, params: {mean: 40, std: 12}}}
          - {name: score, type: float64, nullable: true, null_rate: 0.1,
             generator: {type: uniform_float, params: {min: 0, max: 1}}}
          - {name: balance, type: "decimal(12,2)", min: 0, generator: {type: lognormal, params: {mean: 5, sigma: 1}}}
          - {name: active, type: bool, generator: {type: bernoulli, params: {p: 0.7}}}
          - {name: born, type: date, generator: {type: uniform_date, params: {start: "1950-01-01", end: "2005-12-31"}}}
          - {name: seen_at, type: timestamp,
             generator: {type: uniform_timestamp, params: {start: "2024-01-01T00:00:00", end: "2024-12-31T23:59:59"}}}
          - {name: uid, type: uuid, generator: uuid4}
          - {name: tier, type: string, allowed: [free, plus, "pro, \\"max\\""],
             generator: {type: choice, params: {values: [free, plus, "pro, \\"max\\""]}}}
          - {name: code, type: string, pattern: "[A-Z]{3}-[0-9]{4}", unique: true,
             generator: {type: regex, params: {pattern: "[A-Z]{3}-[0-9]{4}"}}}
          - {name: mentor_id, type: int64, nullable: true, generator: {type: fk, params: {table: people}}}
      - name: orders
        rows: {per: people, distribution: {type: poisson, params: {lam: 2}}, min: 0, max: 6}
        primary_key: order_id
        columns:
          - {name: order_id, type: int64, generator: sequence}
          - {name: person_id, type: int64, generator: {type: fk, params: {table: people}}}
          - {name: amount, type: "decimal(10,2)", min: 1, max: 5000, generator: {type: gamma, params: {shape: 2, scale: 40}}}
          - {name: note, type: string, nullable: true, null_rate: 0.3, generator: {type: words, params: {min: 1, max: 4}}}
          - {name: created_at, type: timestamp,
             generator: {type: expr, params: {expr: "person_id.seen_at + days(uniform(0, 30))"}}}
      - name: follows
        rows: 400
        primary_key: [src, dst]
        columns:
          - {name: src, type: int64, generator: {type: fk, params: {table: people}}}
          - {name: dst, type: int64, generator: {type: fk, params: {table: people}}}
""")


def rewrite_table(fmt, out: Path, schema, table: str, data: pa.Table, options: dict | None = None) -> None:
    """Replace a table's artifacts in ``out`` with ``data`` written by the format's own writer
    (``options``: the format's settings; default ones when omitted)."""
    t = schema.table(table)
    for p in fmt.artifacts(out, t):
        Path(p).unlink()
    d = out / table
    if d.is_dir() and not any(d.iterdir()):
        d.rmdir()
    opts = options if options is not None else fmt.check_options({}) if hasattr(fmt, "check_options") else {}
    w = fmt.open_writer(out, t, data.schema, opts)
    for b in data.to_batches():
        w.write_batch(b)
    w.close()


def reseal(out: Path) -> None:
    """Record the current size and sha256 of every file in ``out``'s manifest, as a forger who
    edits the data and then fixes the manifest would: ``checksum`` passes again, so whatever
    still fails is caught by the data itself."""
    from shared.api import file_digest

    path = out / "manifest.json"
    m = json.loads(path.read_text())
    for f in m["files"]:
        p = out / f["path"]
        f["bytes"], f["sha256"] = p.stat().st_size, file_digest(p)
    path.write_text(json.dumps(m))



class FormatConformance:
    FORMAT: str = ""
    MODULE: str = ""
    SCHEMA_TEXT: str = CONFORMANCE_SCHEMA
    #: extra CLI arguments for generate (e.g. format options)
    GENERATE_ARGS: tuple[str, ...] = ()

    # --- fixtures and helpers ---------------------------------------------------------------

    @pytest.fixture(scope="class")
    @classmethod
    def schema_file(cls, tmp_path_factory) -> Path:
        p = tmp_path_factory.mktemp("conf") / "conf.yaml"
        p.write_text(cls.SCHEMA_TEXT)
        return p

    @pytest.fixture(scope="class")
    @classmethod
    def app(cls):
        return importlib.import_module(cls.MODULE + ".__main__").app

    @pytest.fixture(scope="class")
    @classmethod
    def fmt(cls, app):
        return FORMATS[cls.FORMAT] if cls.FORMAT in FORMATS else FORMATS[cls.BASE_FORMAT]

    BASE_FORMAT = ""

    def variant(self, fmt):
        return fmt.variant(self.FORMAT) if hasattr(fmt, "variant") else fmt

    def cli(self, app, *args: str):
        res = make_runner().invoke(app, [str(a) for a in args], catch_exceptions=False)
        return res

    def generate(self, app, schema_file, out, *extra):
        return self.cli(app, "generate", "--format", self.FORMAT, "--schema", schema_file, "--out", out, "--quiet",
                        *self.GENERATE_ARGS, *extra)

    def validate(self, app, schema_file, out, *extra):
        return self.cli(app, "validate", "--format", self.FORMAT, "--schema", schema_file, "--out", out, *extra)

    @pytest.fixture(scope="class")
    @classmethod
    def generated(cls, app, schema_file, tmp_path_factory) -> Path:
        out = tmp_path_factory.mktemp("gen") / "out"
        res = cls().generate(app, schema_file, out, "--workers", "1")
        assert res.exit_code == 0, res.output + (res.stderr if hasattr(res, "stderr") else "")
        return out

    def fresh_copy(self, generated: Path, tmp_path: Path) -> Path:
        dst = tmp_path / "copy"
        shutil.copytree(generated, dst)
        (dst / "validation_report.json").unlink(missing_ok=True)
        return dst

    def report(self, out: Path) -> dict:
        rep = json.loads((out / "validation_report.json").read_text())
        jsonschema.validate(rep, REPORT_SCHEMA)
        return rep

    def failed_kinds(self, out: Path, table: str | None = None) -> set[str]:
        rep = self.report(out)
        return {c["kind"] for c in rep["checks"] if c["status"] == "fail" and (table is None or c["table"] == table)}

    def read(self, fmt, out: Path, schema, table: str) -> pa.Table:
        t = schema.table(table)
        return self.variant(fmt).read_table(out, t, arrow_schema(t))

    def rewrite_table(self, fmt, out: Path, schema, table: str, data: pa.Table) -> None:
        """Replace a table's artifacts with ``data`` written by the format's own writer."""
        rewrite_table(self.variant(fmt), out, schema, table, data)

    def truncate_file(self, fmt, out: Path, schema, table: str) -> None:
        p = Path(self.variant(fmt).artifacts(out, schema.table(table))[0])
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2])

    def break_line(self, fmt, out: Path, schema, table: str) -> None:
        """Damage the middle of the file so it no longer parses (text formats: a garbage line)."""
        p = Path(self.variant(fmt).artifacts(out, schema.table(table))[0])
        data = bytearray(p.read_bytes())
        mid = len(data) // 2
        data[mid:mid + 16] = b"\x00\xff{{{{\"\n\x01,,,,\"\"\x7f"
        p.write_bytes(bytes(data))

    # --- the tests --------------------------------------------------------------------------

    def test_round_trip_equals_engine(self, fmt, generated, schema_file):
        schema = load_schema(str(schema_file))
        engine = Engine(resolve_plan(schema))
        for t in schema.tables:
            want = engine.to_arrow(t.name)
            got = self.read(fmt, generated, schema, t.name)
            got = got.select(want.column_names).cast(want.schema)
            assert got.equals(want), t.name

    def test_manifest(self, generated):
        m = json.loads((generated / "manifest.json").read_text())
        assert m["format"] == self.FORMAT and m["seed"] == 11
        assert set(m["rows"]) == {"people", "orders", "follows"}
        for f in m["files"]:
            assert (generated / f["path"]).is_file() and len(f["sha256"]) == 64

    def test_deterministic_across_runs_blocks_and_workers(self, app, schema_file, generated, tmp_path):
        base = {f["path"]: f["sha256"] for f in json.loads((generated / "manifest.json").read_text())["files"]}
        for i, extra in enumerate((("--workers", "1"), ("--workers", "2", "--block-rows", "37"))):
            out = tmp_path / f"o{i}"
            res = self.generate(app, schema_file, out, *extra)
            assert res.exit_code == 0, res.output
            got = {f["path"]: f["sha256"] for f in json.loads((out / "manifest.json").read_text())["files"]}
            assert got == base

    def test_validate_passes(self, app, schema_file, generated, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        res = self.validate(app, schema_file, out)
        assert res.exit_code == 0, res.output
        rep = self.report(out)
        assert rep["status"] == "pass" and rep["summary"]["failed"] == 0
        kinds = {c["kind"] for c in rep["checks"]}
        for k in ("artifact_exists", "parseable", "row_count", "columns", "not_null", "unique", "primary_key",
                  "range", "allowed", "pattern", "max_length", "foreign_key", "deterministic_replay"):
            assert k in kinds, k

    def test_validate_report_path_option(self, app, schema_file, generated, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        rp = tmp_path / "r.json"
        res = self.validate(app, schema_file, out, "--report", rp)
        assert res.exit_code == 0 and rp.is_file()

    def test_atomic_replace_keeps_previous_on_failure(self, app, schema_file, generated, tmp_path, monkeypatch):
        out = self.fresh_copy(generated, tmp_path)
        before = (out / "manifest.json").read_bytes()
        from shared.schema_dsl import engine as engine_mod

        calls = {"n": 0}
        real = engine_mod.Engine.batch_with_records

        def flaky(self_, table, start, stop, dirty=None):
            calls["n"] += 1
            if calls["n"] > 2:
                raise RuntimeError("disk on fire")
            return real(self_, table, start, stop, dirty)

        monkeypatch.setattr(engine_mod.Engine, "batch_with_records", flaky)
        res = self.generate(app, schema_file, out, "--workers", "1", "--block-rows", "50")
        assert res.exit_code == 3
        assert (out / "manifest.json").read_bytes() == before
        assert not [p for p in out.parent.iterdir() if ".tmp-" in p.name or p.name.endswith(".lock")]

    def test_refuses_foreign_out(self, app, schema_file, tmp_path):
        out = tmp_path / "mine"
        out.mkdir()
        (out / "thesis.docx").write_text("precious")
        res = self.generate(app, schema_file, out)
        assert res.exit_code == 2
        assert (out / "thesis.docx").read_text() == "precious"
        res = self.generate(app, schema_file, out, "--force")
        assert res.exit_code == 0 and not (out / "thesis.docx").exists()

    def test_exit_codes(self, app, schema_file, tmp_path):
        bad = tmp_path / "bad.yaml"
        bad.write_text("version: 1\nname: x\ntables: []\n")
        assert self.generate(app, bad, tmp_path / "o").exit_code == 2
        assert not (tmp_path / "o").exists()
        assert self.generate(app, schema_file, tmp_path / "o", "--rows", "nope=3").exit_code == 2
        assert self.validate(app, schema_file, tmp_path / "missing").exit_code == 2
        assert self.cli(app, "describe", "--format", "nosuch", "--schema", schema_file).exit_code == 2

    def test_describe(self, app, schema_file):
        res = self.cli(app, "describe", "--format", self.FORMAT, "--schema", schema_file, "--json")
        assert res.exit_code == 0
        info = json.loads(res.stdout)
        assert info["format"] == self.FORMAT and info["order"][0] == "people"
        assert info["estimated_bytes"] > 0
        res = self.cli(app, "describe", "--format", self.FORMAT, "--schema", schema_file)
        assert res.exit_code == 0 and "people" in res.stdout and "feasibility" in res.stdout

    # --- tampering --------------------------------------------------------------------------

    def _tampered(self, app, fmt, schema_file, generated, tmp_path, how) -> tuple[int, set[str]]:
        out = self.fresh_copy(generated, tmp_path)
        schema = load_schema(str(schema_file))
        how(out, schema)
        res = self.validate(app, schema_file, out)
        return res.exit_code, self.failed_kinds(out)

    def test_tamper_delete_row(self, app, fmt, schema_file, generated, tmp_path):
        def how(out, schema):
            t = self.read(fmt, out, schema, "orders")
            self.rewrite_table(fmt, out, schema, "orders", t.slice(1))

        code, failed = self._tampered(app, fmt, schema_file, generated, tmp_path, how)
        assert code == 1 and "row_count" in failed, failed

    def test_tamper_duplicate_key(self, app, fmt, schema_file, generated, tmp_path):
        def how(out, schema):
            t = self.read(fmt, out, schema, "people")
            ids = t.column("person_id").to_pylist()
            ids[5] = ids[4]
            t = t.set_column(t.schema.get_field_index("person_id"), t.schema.field("person_id"),
                             pa.array(ids, t.schema.field("person_id").type))
            self.rewrite_table(fmt, out, schema, "people", t)

        code, failed = self._tampered(app, fmt, schema_file, generated, tmp_path, how)
        assert code == 1 and "primary_key" in failed, failed

    def test_tamper_orphan_fk(self, app, fmt, schema_file, generated, tmp_path):
        def how(out, schema):
            t = self.read(fmt, out, schema, "orders")
            col = t.column("person_id")
            new = pc.if_else(pa.array([i == 3 for i in range(t.num_rows)]), pa.scalar(10**9, col.type), col)
            t = t.set_column(t.schema.get_field_index("person_id"), t.schema.field("person_id"), new)
            self.rewrite_table(fmt, out, schema, "orders", t)

        code, failed = self._tampered(app, fmt, schema_file, generated, tmp_path, how)
        assert code == 1 and "foreign_key" in failed, failed

    def test_tamper_truncate_file(self, app, fmt, schema_file, generated, tmp_path):
        code, failed = self._tampered(app, fmt, schema_file, generated, tmp_path,
                                      lambda out, schema: self.truncate_file(fmt, out, schema, "people"))
        assert code == 1 and failed & {"parseable", "row_count", "checksum"}, failed
        assert "checksum" in failed

    def test_tamper_break_line(self, app, fmt, schema_file, generated, tmp_path):
        code, failed = self._tampered(app, fmt, schema_file, generated, tmp_path,
                                      lambda out, schema: self.break_line(fmt, out, schema, "orders"))
        assert code == 1 and "checksum" in failed
        assert failed & {"parseable", "row_count", "deterministic_replay", "columns"}, failed

    def test_tamper_change_type(self, app, fmt, schema_file, generated, tmp_path):
        def how(out, schema):
            t = self.read(fmt, out, schema, "people")
            i = t.schema.get_field_index("age")
            t = t.set_column(i, pa.field("age", pa.string()), pc.cast(t.column("age"), pa.string()))
            t = t.set_column(i, pa.field("age", pa.string()),
                             pc.binary_join_element_wise(t.column("age"), pa.scalar("y"), ""))
            self.rewrite_table(fmt, out, schema, "people", t)

        code, failed = self._tampered(app, fmt, schema_file, generated, tmp_path, how)
        assert code == 1 and failed & {"columns", "parseable"}, failed

    def test_foreign_data_is_checked_as_a_contract(self, app, fmt, schema_file, generated, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        (out / "manifest.json").unlink()
        res = self.validate(app, schema_file, out)
        assert res.exit_code == 0, res.output
        rep = self.report(out)
        assert not rep["produced_by_datagen"]
        replay = [c for c in rep["checks"] if c["kind"] == "deterministic_replay"]
        assert replay and all(c["status"] == "skipped" for c in replay)
