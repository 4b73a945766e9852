"""Extension without editing the repository: a generator and a format from another package
(``tests/plugins/datagen_demo_plugin``), loaded by a dotted path (``DATAGEN_PLUGINS``) or by an
entry point, run through the command line and the Python API, and validated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_DIR = ROOT / "tests" / "plugins"

SCHEMA = """\
version: 1
name: plug
tables:
  - name: t
    rows: 40
    primary_key: id
    columns:
      - {name: id, type: int64, generator: {type: countdown, params: {start: 1000}}, unique: true}
      - {name: n, type: int32, min: 1, max: 6, generator: {type: uniform_int, params: {min: 1, max: 6}}}
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAGEN_PLUGINS")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(PLUGIN_DIR)])
    env.update(extra)
    return env


def _datagen(args, env, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-P", "-m", "datagen", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=300)


def test_plugin_by_dotted_path_runs_through_the_command_line(tmp_path):
    schema = tmp_path / "plug.yaml"
    schema.write_text(SCHEMA)
    env = _env(DATAGEN_PLUGINS="datagen_demo_plugin")
    r = _datagen(["describe", "--format", "pipes", "--schema", schema, "--json"], env, tmp_path)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["format"] == "pipes"
    assert info["tables"][0]["columns"][0]["generator_type"] == "countdown"
    r = _datagen(["generate", "--format", "pipes", "--schema", schema, "--out", tmp_path / "o", "--option", "note=x",
                  "-q"], env, tmp_path)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "o" / "t.psv").read_text().splitlines()
    assert lines[0] == '"id"|"n"' and lines[1].startswith("1000|") and lines[40].startswith("961|")
    r = _datagen(["validate", "--format", "pipes", "--schema", schema, "--out", tmp_path / "o", "--json"], env,
                 tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert json.loads(r.stdout)["status"] == "pass"
    r = _datagen(["generate", "--help"], env, tmp_path)
    assert "pipes: note" in r.stdout


def test_without_the_plugin_the_names_are_unknown(tmp_path):
    schema = tmp_path / "plug.yaml"
    schema.write_text(SCHEMA)
    r = _datagen(["describe", "--format", "parquet", "--schema", schema], _env(), tmp_path)
    assert r.returncode == 2
    assert "countdown" in r.stderr and "Traceback" not in r.stderr
    r = _datagen(["describe", "--format", "pipes"], _env(), tmp_path)
    assert r.returncode == 2 and "--format pipes: unknown format" in r.stderr


def test_a_plugin_that_cannot_be_imported_is_a_usage_error(tmp_path):
    r = _datagen(["describe", "--format", "parquet"], _env(DATAGEN_PLUGINS="no_such_plugin_pkg"), tmp_path)
    assert r.returncode == 2
    assert "plugin 'no_such_plugin_pkg' (from DATAGEN_PLUGINS) cannot be imported" in r.stderr


def test_plugin_by_entry_point_through_the_python_api(tmp_path):
    """An installed distribution's entry points (a dist-info folder on sys.path is what pip leaves)."""
    site = tmp_path / "site"
    info = site / "datagen_demo_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: datagen-demo-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[datagen.generators]\ncountdown = datagen_demo_plugin\n\n"
                                           "[datagen.formats]\npipes = datagen_demo_plugin:PipeFormat\n")
    code = f"""
import json, sys
sys.path[:0] = [{str(site)!r}, {str(PLUGIN_DIR)!r}]
import datagen
assert "pipes" in datagen.formats(), datagen.formats()
res = datagen.generate({SCHEMA!r}, format="pipes", out={str(tmp_path / "o")!r}, workers=1)
rep = datagen.validate({SCHEMA!r}, out=res.output_dir)
t = datagen.to_pandas({SCHEMA!r})["t"]
print(json.dumps({{"status": rep["status"], "first": int(t["id"][0]), "files": [f["path"] for f in res.files]}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAGEN_PLUGINS")}
    env["PYTHONPATH"] = str(ROOT)
    r = subprocess.run([sys.executable, "-P", "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                       check=False, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["status"] == "pass" and out["first"] == 1000
    assert "t.psv" in out["files"]


@pytest.mark.parametrize("doc", ["dict", "yaml", "json"])
def test_load_schema_takes_text_and_dicts(doc):
    import yaml

    import datagen

    data = yaml.safe_load(SCHEMA.replace("countdown, params: {start: 1000}", "sequence"))
    source = {"dict": data, "yaml": SCHEMA.replace("countdown, params: {start: 1000}", "sequence"),
              "json": json.dumps(data)}[doc]
    schema = datagen.load_schema(source)
    assert schema.name == "plug" and schema.table("t").rows == 40
    bad = dict(data, tables=[dict(data["tables"][0], rows="many")])
    with pytest.raises(datagen.SchemaError) as exc:
        datagen.load_schema(bad)
    assert "tables[0].rows" in exc.value.render()
