"""The one command line: every verb takes the shared options, describe --out, validate's run
settings, --json for scripts, and the per-format aliases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from datagen.cli import app

ROOT = Path(__file__).resolve().parents[1]
SHOP = str(ROOT / "schemas" / "examples" / "shop.yaml")
SHARED = ("--format", "--schema", "--out", "--seed", "--rows", "--scale", "--profile", "--workers", "--block-rows",
          "--force", "--option", "--quiet", "--json", "--debug")


def _invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


#: the verbs that run a dataset (describe, generate, validate …); command groups such as
#: ``blueprints list|show`` browse a catalogue and take no dataset options
#: ``query`` reads a folder generate wrote (``--out`` and the SQL only), ``export-ddl`` renders a
#: schema's DDL (``--schema`` alone), ``fit`` reads real data, ``report`` compares real and synthetic
#: data, ``serve`` runs the HTTP API: none runs a dataset
OTHER_VERBS = {"query", "export-ddl", "fit", "report", "serve"}
DATASET_VERBS = sorted(n for n, c in typer.main.get_command(app).commands.items()
                       if not hasattr(c, "commands") and n not in OTHER_VERBS)


def test_the_dataset_verbs_and_the_groups():
    assert {"describe", "generate", "validate"} <= set(DATASET_VERBS)
    assert "blueprints" in typer.main.get_command(app).commands and "blueprints" not in DATASET_VERBS


@pytest.mark.parametrize("verb", DATASET_VERBS)
def test_every_verb_takes_the_shared_options(verb):
    cmd = typer.main.get_command(app).commands[verb]
    flags = {o for p in cmd.params for o in p.opts}
    assert set(SHARED) <= flags, set(SHARED) - flags


def test_a_makefile_can_pass_the_same_flags_to_every_verb(tmp_path):
    flags = ["--format", "csv", "--schema", SHOP, "--out", tmp_path / "o", "--seed", "7", "--rows", "customers=300",
             "--scale", "0.05", "--profile", "realistic", "--workers", "1", "--block-rows", "1000",
             "--option", "delimiter=;", "--quiet"]
    for verb in ("describe", "generate", "validate"):
        r = _invoke(verb, *flags)
        assert r.exit_code == 0, (verb, r.output)
    report = json.loads((tmp_path / "o" / "validation_report.json").read_text())
    assert report["status"] == "pass"
    assert [c["status"] for c in report["checks"] if c["kind"] == "run_match"] == ["pass"]


def test_describe_shows_where_generate_would_write(tmp_path):
    r = _invoke("describe", "--format", "parquet", "--schema", SHOP, "--out", tmp_path / "x", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["out"] == str(tmp_path / "x")
    assert not (tmp_path / "x").exists()
    r = _invoke("describe", "--format", "parquet", "--schema", SHOP)
    assert "output folder: out/shop/parquet" in r.stdout
    r = _invoke("describe", "--format", "parquet", "--schema", SHOP, "--out", "")
    assert r.exit_code == 2 and "--out '': an empty path" in r.output


def test_validate_fails_run_match_when_the_settings_differ(tmp_path):
    out = tmp_path / "o"
    assert _invoke("generate", "--format", "csv", "--schema", SHOP, "--out", out, "--seed", "7", "--scale", "0.02",
                   "-q").exit_code == 0
    r = _invoke("validate", "--format", "csv", "--schema", SHOP, "--out", out, "--seed", "8", "--json")
    assert r.exit_code == 1
    check = next(c for c in json.loads(r.stdout)["checks"] if c["kind"] == "run_match")
    assert check["status"] == "fail" and "seed 8 was given, the output was generated with 7" in check["message"]
    r = _invoke("validate", "--format", "csv", "--schema", SHOP, "--out", out, "--seed", "7", "--scale", "0.02", "-q")
    assert r.exit_code == 0 and r.stdout == ""


def test_generate_json_prints_the_manifest(tmp_path):
    r = _invoke("generate", "--format", "ndjson", "--schema", SHOP, "--out", tmp_path / "o", "--scale", "0.01",
                "--workers", "1", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["out"] == str(tmp_path / "o") and data["format"] == "ndjson" and data["rows"]["customers"] >= 1


def test_bad_format_and_option_are_exit_2_before_any_work(tmp_path):
    r = _invoke("generate", "--format", "parquett", "--schema", SHOP, "--out", tmp_path / "o")
    assert r.exit_code == 2 and "--format parquett: unknown format (did you mean 'parquet'?)" in r.output
    r = _invoke("describe", "--format", "csv", "--option", "delimiterr=;")
    assert r.exit_code == 2 and "delimiterr" in r.output
    r = _invoke("generate", "--format", "csv", "--schema", SHOP, "--out", tmp_path / "o", "--rate", "5")
    assert r.exit_code == 2 and "--rate applies to --format event_stream / events, not csv" in r.output
    assert not (tmp_path / "o").exists()


def test_the_format_aliases_keep_their_own_format():
    from generators.json_generator.__main__ import app as json_app

    r = CliRunner().invoke(json_app, ["describe", "--format", "csv"])
    assert r.exit_code == 2 and "this frontend writes json, ndjson" in r.output
    r = CliRunner().invoke(json_app, ["describe", "--format", "ndjson", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["format"] == "ndjson"


def test_python_validate_takes_the_format_from_the_manifest_or_says_what_it_needs(tmp_path):
    import datagen

    res = datagen.generate(SHOP, format="ndjson", out=tmp_path / "o", scale=0.01, workers=1)
    assert datagen.validate(SHOP, out=res.output_dir)["format"] == "ndjson"
    with pytest.raises(datagen.UsageError, match="validate needs --format or --out"):
        datagen.validate(SHOP)
    (tmp_path / "bare").mkdir()
    with pytest.raises(datagen.UsageError, match="no manifest names the format"):
        datagen.validate(SHOP, out=tmp_path / "bare")
    with pytest.raises(datagen.UsageError, match="no such folder to validate"):
        datagen.validate(SHOP, out=tmp_path / "missing")
    with pytest.raises(datagen.UsageError, match="no table 'custmers'"):
        datagen.to_arrow(SHOP, "custmers")
