"""Blueprints (issue 13, item 4): a registry of named scenarios that return ordinary schemas —
listed, shown and run from Python and the command line, composable with modifiers, and every
one generating and validating in every format."""

from __future__ import annotations

import json

import pytest

import datagen
from datagen import blueprints
from datagen.cli import app
from tests.helpers import file_formats, make_runner

REQUIRED = {"retail_small", "banking_medium", "saas_subscription", "iot_telemetry", "finance", "hr", "ecommerce",
            "web_events"}


def _run(*args):
    return make_runner().invoke(app, list(map(str, args)), env={"COLUMNS": "250"})


def test_the_registry_lists_every_blueprint_with_its_parameters():
    infos = {b["name"]: b for b in blueprints.list()}
    assert REQUIRED <= set(infos)
    for info in infos.values():
        assert info["description"] and info["parameters"]
        names = {p["name"] for p in info["parameters"]}
        assert {"locale", "seed", "dirty_rate"} <= names, info["name"]
    retail = {p["name"]: p for p in infos["retail_small"]["parameters"]}
    assert retail["companies"] == {"name": "companies", "default": 3, "type": "int"}
    assert retail["transactions"]["default"] == 5000
    assert blueprints.get("hr") is blueprints.hr
    with pytest.raises(datagen.UsageError, match=r"unknown blueprint 'retail_smal' \(did you mean 'retail_small'\?\)"):
        blueprints.get("retail_smal")
    with pytest.raises(AttributeError, match="unknown blueprint 'nope'"):
        blueprints.nope  # noqa: B018
    with pytest.raises(datagen.UsageError, match=r"unknown parameter 'company' \(did you mean 'companies'\?\)"):
        blueprints.retail_small(company=3)


def test_a_blueprint_is_an_ordinary_schema_and_its_parameters_count():
    s = blueprints.retail_small(companies=5, transactions=700, locale="de_DE", seed=3)
    assert isinstance(s, datagen.Schema) and s.name == "retail_small"
    assert s.table("companies").rows == 5 and s.table("transactions").rows == 700
    assert s.locale == "de_DE" and s.seed == 3
    plan = datagen.resolve_plan(s)
    assert plan.rows("transactions") == 700
    assert datagen.Schema.from_yaml(s.to_yaml()) == s


@pytest.mark.parametrize("fmt", file_formats())
@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_blueprint_generates_and_validates_in_every_format(name, fmt, tmp_path):
    schema = getattr(blueprints, name)().with_scale(0.05)
    out = tmp_path / "o"
    datagen.generate(schema, format=fmt, out=out, workers=1)
    report = datagen.validate(schema, out=out)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert report["status"] == "pass", failed[:3]


def test_the_exported_yaml_runs_to_the_same_bytes(tmp_path):
    res = _run("blueprints", "show", "web_events", "--yaml", "--param", "users=150", "--param", "late_rate=0.1")
    assert res.exit_code == 0, res.output
    path = tmp_path / "web.yaml"
    path.write_text(res.stdout)
    a = _run("generate", "--schema", path, "--format", "csv", "--out", tmp_path / "a", "-q", "--workers", "1")
    b = _run("generate", "--blueprint", "web_events", "--param", "users=150", "--param", "late_rate=0.1",
             "--format", "csv", "--out", tmp_path / "b", "-q", "--workers", "1")
    assert a.exit_code == 0 and b.exit_code == 0, (a.output, b.output)
    digests = [{f["path"]: f["sha256"] for f in json.loads((tmp_path / d / "manifest.json").read_text())["files"]
                if f["table"]} for d in "ab"]
    assert digests[0] == digests[1] and len(digests[0]) == 3
    res = _run("validate", "--blueprint", "web_events", "--param", "users=150", "--param", "late_rate=0.1",
               "--out", tmp_path / "b", "--format", "csv", "-q")
    assert res.exit_code == 0, res.output
    # another parameter value is another schema: the manifest says so
    res = _run("validate", "--blueprint", "web_events", "--param", "users=151", "--out", tmp_path / "b",
               "--format", "csv", "--json")
    assert res.exit_code == 1


def test_blueprint_commands_list_and_show():
    res = _run("blueprints", "list")
    assert res.exit_code == 0 and all(n in res.output for n in REQUIRED)
    listed = json.loads(_run("blueprints", "list", "--json").stdout)
    assert {b["name"] for b in listed} >= REQUIRED
    res = _run("blueprints", "show", "retail_small", "--param", "companies=5")
    assert res.exit_code == 0 and "--param companies=5  (int, set)" in res.output
    assert "--param transactions=5000  (int)" in res.output


@pytest.mark.parametrize(("args", "message"), [
    (("blueprints", "show", "retail_smal"), "unknown blueprint 'retail_smal' (did you mean 'retail_small'?)"),
    (("blueprints", "show", "retail_small", "--param", "companies=many"), "--param companies=many: not a int"),
    (("blueprints", "show", "retail_small", "--param", "compnies=2"),
     "--param compnies: blueprint retail_small has no parameter 'compnies' (did you mean 'companies'?)"),
    (("blueprints", "show", "retail_small", "--param", "companies"), "--param 'companies': expected KEY=VALUE"),
    (("generate", "--blueprint", "hr", "--schema", "x.yaml", "--format", "csv"),
     "--schema and --blueprint both name the dataset"),
    (("generate", "--param", "a=1", "--format", "csv"), "--param sets a blueprint's parameters"),
    (("blueprints", "show", "retail_small", "--yaml", "--param", "companies=0"), "tables[0].rows"),
])
def test_blueprint_errors_exit_2_with_a_message(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = _run(*args)
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output


def test_parameters_are_read_by_their_type():
    bp = blueprints.get("web_events")
    assert blueprints.parse_params(bp, ["users=1_000", "late_rate=0.5", "locale=fr_FR"]) == \
        {"users": 1000, "late_rate": 0.5, "locale": "fr_FR"}


def test_modifiers_compose():
    base = blueprints.hr(employees=300)
    dirty = base.with_dirty(0.03)
    assert dirty.profile == "dirty" and dirty.corruption["typos"] == 0.03 and base.profile is None
    assert dirty.with_dirty(0).profile == "realistic" and dirty.with_dirty(0).corruption is None
    scaled = base.with_scale(2)
    assert scaled.table("employees").rows.total == 600 and scaled.table("locations").rows == 16
    assert blueprints.with_locale(base, "ja_JP").locale == "ja_JP"
    names = datagen.generate(blueprints.with_locale(base, "ja_JP"), output="memory", workers=1).tables["employees"]
    assert names["last_name"].str.contains(r"[\u3040-\u30ff\u4e00-\u9fff]").mean() > 0.9
    with pytest.raises(datagen.UsageError, match=r"with_dirty\(2\): a rate between 0 and 1"):
        base.with_dirty(2)
    with pytest.raises(datagen.UsageError, match=r"with_scale\(0\): a factor above 0"):
        base.with_scale(0)
    with pytest.raises(datagen.UsageError, match="has no event table"):
        base.with_streaming(10)
    with pytest.raises(datagen.UsageError, match="has no table with anomalies"):
        base.with_anomalies(0.01)


def test_with_streaming_sets_the_rate_streams_use():
    s = blueprints.iot_telemetry(sites=2, devices_per_site=2, readings_per_device=5).with_streaming(250)
    assert s.to_dict()["stream"] == {"events_per_second": 250}
    st = datagen.stream(s, max_events=3)
    assert st.rate == 250
    assert datagen.stream(s, events_per_second=None).rate is None
    assert len(list(datagen.stream(s, events_per_second=None))) == 20
    assert datagen.load_schema(s).stream_rate == 250
