"""``fit --deep TABLE``: the optional CTGAN backend (the fit-deep extra) and its ``learned`` generator.

One small fit (a parent table and a child whose ``y`` depends on ``x`` differently per category —
a relation no single Gaussian copula holds), few epochs, one torch thread, shared by the module:
the schema generates and validates, the bytes depend on the seed only (not on block size nor
worker count), the model's digest is part of the schema's identity, and the errors (no extra,
``--epsilon``, an unknown table) are one message with exit 2.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from datagen.cli import app
from tests.helpers import make_runner

torch = pytest.importorskip("torch", reason="the fit-deep extra (requirements-fit-deep.txt) is not installed")
pytest.importorskip("ctgan", reason="the fit-deep extra (requirements-fit-deep.txt) is not installed")
torch.set_num_threads(1)

EPOCHS = 3
ROWS = 900


def _write_source(folder: Path) -> None:
    rng = np.random.default_rng(16)
    groups = pd.DataFrame({"group_id": np.arange(1, 41), "region": rng.choice(["north", "south"], 40)})
    cat = rng.choice(["a", "b", "c"], ROWS)
    x = rng.normal(0, 1, ROWS)
    y = np.where(cat == "a", x ** 2, np.where(cat == "b", -x, np.sin(3 * x))) + rng.normal(0, 0.1, ROWS)
    y[rng.random(ROWS) < 0.05] = np.nan
    items = pd.DataFrame({"item_id": np.arange(1, ROWS + 1), "group_id": rng.integers(1, 41, ROWS), "cat": cat,
                          "x": x.round(4), "y": y.round(4), "flag": rng.random(ROWS) < 0.3,
                          "day": (pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, ROWS), "D"))
                          .strftime("%Y-%m-%d")})
    folder.mkdir()
    groups.to_csv(folder / "groups.csv", index=False)
    items.to_csv(folder / "items.csv", index=False)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    base = tmp_path_factory.mktemp("deep")
    _write_source(base / "src")
    out = base / "fit"
    out.mkdir()
    res = make_runner().invoke(app, ["fit", "--source", str(base / "src"), "--out", str(out / "schema.yaml"),
                                     "--report", str(out / "report.json"), "--deep", "items",
                                     "--epochs", str(EPOCHS)])
    assert res.exit_code == 0, res.output
    return {"base": base, "src": base / "src", "schema": out / "schema.yaml", "out": out,
            "report": json.loads((out / "report.json").read_text()), "stdout": res.stdout}


def _generate(fitted, name: str, *extra: str) -> dict[str, str]:
    out = fitted["base"] / name
    res = make_runner().invoke(app, ["generate", "--format", "csv", "--schema", str(fitted["schema"]),
                                     "--out", str(out), "--rows", "groups=100", "-q", *extra])
    assert res.exit_code == 0, res.output
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*.csv"))}


def test_the_drawn_columns_come_from_the_model_and_keys_stay_with_the_engine(fitted):
    import datagen
    from shared.distributions.base import GENERATORS

    assert (fitted["out"] / "models" / "items.ctgan.pkl").is_file()
    schema = datagen.load_schema(fitted["schema"])
    items = schema.table("items")
    reads_model = {c.name for c in items.columns if GENERATORS[c.generator.type].files(c.generator.params)}
    assert reads_model == {"cat", "x", "y", "flag", "day"}
    assert items.column("group_id").references is not None  # the fk stays a reference
    assert items.primary_key == ("item_id",)
    assert not items.correlations  # the copula block is replaced by the model
    assert not any(GENERATORS[c.generator.type].files(c.generator.params) for c in schema.table("groups").columns)
    text = fitted["schema"].read_text()
    assert "k-anonymity cannot be enforced inside a neural model" in text
    assert "CTGAN trained in" in fitted["stdout"]


def test_the_report_compares_the_copula_and_ctgan_fits_on_the_same_rows(fitted):
    deep = fitted["report"]["tables"]["items"]["deep"]
    assert deep["kind"] == "ctgan" and deep["epochs"] == EPOCHS and deep["model"] == "models/items.ctgan.pkl"
    cmp = deep["comparison"]
    assert cmp["rows"]["real"] == ROWS and cmp["rows"]["synthetic"] > ROWS // 2  # children per parent vary
    for label in ("copula", "ctgan"):
        assert 0 <= cmp[label]["column_shapes"] <= 1
        assert 0 <= cmp[label]["all_pairs"] <= 1
        assert set(cmp[label]["columns"]) == {"cat", "x", "y", "flag", "day"}
    assert deep["copula_correlations"]["kind"] == "gaussian_copula"


def test_it_generates_and_validates(fitted):
    out = fitted["base"] / "valid"
    runner = make_runner()
    res = runner.invoke(app, ["generate", "--format", "csv", "--schema", str(fitted["schema"]), "--out", str(out),
                              "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["validate", "--format", "csv", "--schema", str(fitted["schema"]), "--out", str(out)])
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(out / "items.csv")
    assert len(frame) > ROWS // 2 and set(frame["cat"].dropna()) <= {"a", "b", "c"}
    assert frame["y"].isna().any() and not frame["x"].isna().any()


def test_the_bytes_depend_on_the_seed_not_on_blocks_or_workers(fitted):
    first = _generate(fitted, "g1")
    assert _generate(fitted, "g2") == first
    assert _generate(fitted, "g3", "--block-rows", "300", "--workers", "2") == first
    assert _generate(fitted, "g4", "--block-rows", "2049") == first
    other = _generate(fitted, "g5", "--seed", "7")
    assert other["items.csv"] != first["items.csv"]


def test_the_model_file_is_part_of_the_schema_identity(fitted, tmp_path):
    from ctgan import CTGAN

    import datagen

    schema = datagen.load_schema(fitted["schema"])
    model = fitted["out"] / "models" / "items.ctgan.pkl"
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert schema.source.files == (("models/items.ctgan.pkl", digest),)
    assert schema.source.sha256 != hashlib.sha256(fitted["schema"].read_bytes()).hexdigest()
    copy = tmp_path / "copy"
    shutil.copytree(fitted["out"], copy)
    again = CTGAN.load(str(copy / "models" / "items.ctgan.pkl"))
    again.set_random_state(12345)  # the same network, other bytes
    again.save(str(copy / "models" / "items.ctgan.pkl"))
    changed = datagen.load_schema(copy / "schema.yaml")
    assert changed.source.raw == schema.source.raw
    assert changed.source.sha256 != schema.source.sha256


def test_a_missing_model_file_is_refused_at_load(fitted, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(fitted["out"], copy)
    (copy / "models" / "items.ctgan.pkl").unlink()
    res = make_runner().invoke(app, ["describe", "--format", "csv", "--schema", str(copy / "schema.yaml")])
    assert res.exit_code == 2, res.output
    assert "no model file 'models/items.ctgan.pkl'" in res.output and "schema.yaml:" in res.output
    assert "Traceback" not in res.output


def _without_extra(monkeypatch):
    """ctgan (and torch) cannot be imported: what a venv without the fit-deep extra sees."""
    monkeypatch.setitem(sys.modules, "ctgan", None)
    monkeypatch.setitem(sys.modules, "torch", None)


def test_without_the_extra_deep_fails_with_one_message_and_the_fit_still_works(fitted, tmp_path, monkeypatch):
    _without_extra(monkeypatch)
    runner = make_runner()
    res = runner.invoke(app, ["fit", "--source", str(fitted["src"]), "--out", str(tmp_path / "s.yaml"),
                              "--deep", "items"])
    assert res.exit_code == 2, res.output
    assert "--deep: the learned backend needs ctgan and torch, which are not installed" in res.output
    assert "requirements-fit-deep.txt" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "s.yaml").exists()
    res = runner.invoke(app, ["fit", "--source", str(fitted["src"]), "--out", str(tmp_path / "s.yaml"), "-q"])
    assert res.exit_code == 0, res.output
    # a schema with a learned column names the extra too (a schema problem, with its location)
    res = runner.invoke(app, ["describe", "--format", "csv", "--schema", str(fitted["schema"])])
    assert res.exit_code == 2, res.output
    assert "requirements-fit-deep.txt" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize(("args", "message"), [
    (["--deep", "items", "--epsilon", "1"], "--deep with --epsilon: the CTGAN backend is not differentially private"),
    (["--deep", "itemz"], "--deep itemz: no such table (did you mean 'items'?)"),
    (["--epochs", "3"], "--epochs needs --deep"),
    (["--deep", "items", "--epochs", "0"], "--epochs 0: must be an integer ≥ 1"),
    (["--deep", "groups"], "--deep groups: 1 column(s) a model can learn (region)"),
])
def test_usage_errors(fitted, tmp_path, args, message):
    res = make_runner().invoke(app, ["fit", "--source", str(fitted["src"]), "--out", str(tmp_path / "s.yaml"),
                                     *args])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "s.yaml").exists()
