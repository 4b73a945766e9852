"""Worker processes: identical output, and a failing or dying worker fails the run cleanly."""

from __future__ import annotations

import os
import textwrap

import pytest

from generators.parquet_generator.format import ParquetFormat
from shared.api import generate, load_schema, resolve_plan
from shared.errors import GenerationError
from shared.schema_dsl import engine as engine_mod

SCHEMA = textwrap.dedent("""
    version: 1
    name: par
    tables:
      - name: t
        rows: 5000
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: x, type: float64, generator: {type: normal, params: {mean: 0, std: 1}}}
""")


@pytest.fixture()
def plan(tmp_path):
    p = tmp_path / "par.yaml"
    p.write_text(SCHEMA)
    return resolve_plan(load_schema(str(p)), block_rows=500)


def _sabotage(monkeypatch, how):
    parent = os.getpid()
    real = engine_mod.Engine.batch_with_records

    def broken(self, table, start, stop, dirty=None):
        if os.getpid() != parent and stop > 2000:
            if how == "die":
                os._exit(7)
            raise ValueError("worker bug")
        return real(self, table, start, stop, dirty)

    monkeypatch.setattr(engine_mod.Engine, "batch_with_records", broken)


@pytest.mark.parametrize("how", ["die", "raise"])
def test_failing_worker_fails_the_run_cleanly(plan, tmp_path, monkeypatch, how):
    out = tmp_path / "out"
    generate(plan, ParquetFormat(), out, workers=1)
    before = (out / "manifest.json").read_bytes()
    _sabotage(monkeypatch, how)
    with pytest.raises(GenerationError) as ei:
        generate(plan, ParquetFormat(), out, workers=2)
    assert "worker" in str(ei.value)
    assert (out / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "par.yaml"]


def test_workers_give_identical_files(plan, tmp_path):
    a = generate(plan, ParquetFormat(), tmp_path / "a", workers=1)
    b = generate(plan, ParquetFormat(), tmp_path / "b", workers=2)
    assert [f["sha256"] for f in a["files"]] == [f["sha256"] for f in b["files"]]


def _csv():
    import generators.csv_generator.format  # noqa: F401 - registers csv
    from shared.formats import FORMATS

    return FORMATS["csv"]


@pytest.mark.parametrize("slot_bytes", [64 << 20, 100])
def test_rendered_text_through_shared_memory_or_the_pipe(plan, tmp_path, monkeypatch, slot_bytes):
    """CSV is rendered in the workers: the text comes back through a shared-memory slot, or
    through the pipe when it does not fit one; either way the file is the one-worker file."""
    from shared.schema_dsl import parallel

    monkeypatch.setattr(parallel, "SLOT_BYTES", slot_bytes)
    a = generate(plan, _csv(), tmp_path / "a", workers=1)
    b = generate(plan, _csv(), tmp_path / "b", workers=2)
    assert (tmp_path / "a" / "t.csv").read_bytes() == (tmp_path / "b" / "t.csv").read_bytes()
    assert [f["sha256"] for f in a["files"]] == [f["sha256"] for f in b["files"]]


def test_render_error_in_a_worker_is_the_formats_error(tmp_path):
    """A value quoting=none cannot write, met by a worker: the same OutputError (exit 3) as with
    one worker, naming the value, and nothing left behind."""
    from shared.errors import OutputError

    p = tmp_path / "q.yaml"
    p.write_text(textwrap.dedent("""
        version: 1
        name: q
        tables:
          - name: t
            rows: 3000
            columns:
              - {name: id, type: int64, generator: sequence}
              - {name: s, type: string, generator: {type: template, params: {template: "a,{id}"}}}
    """))
    plan = resolve_plan(load_schema(str(p)), block_rows=500)
    opts = _csv().check_options({"quoting": "none"})
    for workers in (1, 2):
        with pytest.raises(OutputError, match="quoting=none cannot write column s's value 'a,1'"):
            generate(plan, _csv(), tmp_path / "out", workers=workers, options=dict(opts))
        assert sorted(x.name for x in tmp_path.iterdir()) == ["q.yaml"]
