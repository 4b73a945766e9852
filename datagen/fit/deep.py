"""The learned backend of ``fit`` (``--deep TABLE``): a CTGAN model of a table's drawn columns.

For a table whose pair trends a Gaussian copula cannot express (a non-monotone relation, a
category that changes how a number is distributed), ``fit(…, deep=["flights"])`` trains a CTGAN
(the ``ctgan`` package on the CPU build of torch: the optional ``fit-deep`` extra) on the
sampled rows of the columns the copula would take — never a key, a foreign key, a unique column,
free text or a PII column handled by a strategy (only ``keep`` lets a PII column in) — saves it
with ctgan's own ``save`` as ``models/<table>.ctgan.pkl`` beside the written schema, and writes
those columns as ``learned`` generators (``shared.distributions.learned``). Reproducible: the
training is seeded from the table's name through ``shared.io.rng`` and runs on one torch thread
(ctgan sets numpy's and torch's global states for the call and restores them after).

The report compares both: the copula fit and the CTGAN fit of the table each generate
``COMPARE_ROWS`` rows through the engine (the very path ``datagen generate`` takes), scored
against the same real rows with ``datagen.report``'s Column Shapes and Column Pair Trends.

Not differentially private (refused with ``epsilon``), and k-anonymity cannot be enforced inside
a neural model: rows holding a category the k-anonymous fit withheld are left out of the
training, but the model may still reproduce rare combinations of the rest (docs/privacy.md).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.errors import UsageError

#: CTGAN's training epochs by default (ctgan's own default is 300; 100 is a modest CPU budget)
DEFAULT_EPOCHS = 100
#: rows each model generates for the comparison, and real rows it is scored against (at most)
COMPARE_ROWS = 2000
MODELS_FOLDER = "models"
#: the root of the training seeds (with the table's name; the written schema's seed is 1 too)
_SEED = 1


def model_name(table: str) -> str:
    """The model file of ``table``, relative to the schema's folder."""
    return f"{MODELS_FOLDER}/{table}.ctgan.pkl"


def null_column(name: str) -> str:
    """The model's companion column saying where a continuous column is null (``learned`` reads it)."""
    from shared.distributions.learned import null_column as named

    return named(name)


def require_backend() -> None:
    """Raise a ``UsageError`` (exit 2) naming the extra when ctgan or torch cannot be imported."""
    from shared.distributions.learned import INSTALL_HINT, backend_missing

    missing = backend_missing()
    if missing:
        raise UsageError(f"--deep: {missing}; the copula fit needs neither (hint: {INSTALL_HINT})")


def check_options(deep: list[str] | tuple[str, ...] | None, epochs: Any, epsilon: float | None) -> list[str]:
    """The ``deep`` table names, checked against the other options (not yet against the data)."""
    names = [str(t) for t in (deep or [])]
    if not names:
        return []
    if epsilon is not None:
        raise UsageError("--deep with --epsilon: the CTGAN backend is not differentially private (hint: fit "
                         "the table with the copula under --epsilon, or drop --epsilon to use --deep)")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise UsageError(f"--epochs {epochs}: must be an integer ≥ 1")
    if len(set(names)) != len(names):
        raise UsageError(f"--deep {next(n for n in names if names.count(n) > 1)}: given twice")
    require_backend()
    return names


def check_tables(names: list[str], known: list[str]) -> None:
    from shared.registry import did_you_mean

    for n in names:
        if n not in known:
            hint = did_you_mean(n, known)
            raise UsageError(f"--deep {n}: no such table" + (f" ({hint})" if hint else "")
                             + f"; tables: {', '.join(known)}")


def _column_frame(sampled: pa.Table, specs: list[dict[str, Any]], discrete: set[str],
                  withheld: Mapping[str, list[Any]]) -> tuple[Any, int]:
    """The training frame (pandas, engine units: dates in days, timestamps in µs) and the rows
    left out because they hold a withheld (k-anonymous) category."""
    import pandas as pd

    keep = np.ones(sampled.num_rows, dtype=bool)
    data: dict[str, Any] = {}
    for spec in specs:
        name = spec["name"]
        col = sampled.column(name).combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = col.dictionary_decode()
        if name in withheld:
            kept = pa.array(withheld[name])
            inside = pc.fill_null(pc.or_(pc.is_in(col, value_set=kept.cast(col.type)), pc.is_null(col)), True)
            keep &= inside.to_numpy(zero_copy_only=False)
        if name in discrete:
            data[name] = pd.Series(col.to_pylist(), dtype=object)
            continue
        if pa.types.is_date(col.type):
            col = pc.cast(col, pa.date32()).view(pa.int32())
        elif pa.types.is_timestamp(col.type):
            col = pc.cast(col, pa.timestamp("us", tz=col.type.tz)).view(pa.int64())
        x = pd.Series(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        missing = x.isna()
        if missing.any():  # CTGAN takes no null in a continuous column: a companion says where
            data[null_column(name)] = pd.Series(missing.to_numpy(), dtype=object)
            x = x.fillna(float(x.median()) if (~missing).any() else 0.0)
        data[name] = x
    frame = pd.DataFrame(data)
    return frame[keep].reset_index(drop=True), int((~keep).sum())


def train(table: str, sampled: pa.Table, specs: list[dict[str, Any]], discrete: set[str],
          withheld: Mapping[str, list[Any]], epochs: int) -> tuple[Any, dict[str, Any]]:
    """A CTGAN model of ``specs``' columns of ``sampled`` and what to report about it."""
    from ctgan import CTGAN

    from shared.distributions.learned import one_thread
    from shared.io import rng

    frame, left_out = _column_frame(sampled, specs, discrete, withheld)
    names = {s["name"] for s in specs}
    if len(frame) < 10:
        raise UsageError(f"--deep {table}: {len(frame)} row(s) to learn from; CTGAN needs at least 10")
    seed = rng.stream_key(_SEED, table, "ctgan", "train") & 0xFFFFFFFF
    batch = max(10, min(500, (len(frame) // 10) * 10))
    started = time.monotonic()
    with one_thread():
        model = CTGAN(epochs=epochs, batch_size=batch, verbose=False, enable_gpu=False)
        model.set_random_state(int(seed))
        model.fit(frame, discrete_columns=[c for c in frame.columns if c in discrete or c not in names])
    seconds = time.monotonic() - started
    info = {"model": model_name(table), "kind": "ctgan", "columns": [s["name"] for s in specs],
            "discrete": sorted(discrete & {s["name"] for s in specs}), "rows": len(frame),
            "rows_withheld": left_out, "epochs": epochs, "batch_size": batch}
    return model, info | {"_seconds": seconds}


def save_models(models: Mapping[str, Any], folder: Path) -> list[Path]:
    """Each model with ctgan's own ``save`` under ``folder`` (names relative to it), atomically."""
    written = []
    for name, model in models.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        model.save(str(tmp))
        tmp.replace(path)
        written.append(path)
    return written


def sdtype(spec: dict[str, Any]) -> str:
    """The report's kind of a fitted column."""
    from shared.distributions.base import GENERATORS

    gen = GENERATORS[spec["generator"]["type"]]
    if spec["type"] == "bool":
        return "boolean"
    if gen.categorical or spec["type"] == "string":
        return "categorical"
    if spec["type"] in ("date", "timestamp"):
        return "datetime"
    return "numerical"


def compare(schema: dict[str, Any], table: str, copula_node: dict[str, Any], models: Mapping[str, Any],
            real: pa.Table, sdtypes: Mapping[str, str]) -> dict[str, Any]:
    """Generate the first ``COMPARE_ROWS`` rows of ``table`` with its copula fit and with its CTGAN
    fit (everything else as fitted, at the source's sizes; models saved to a temporary folder,
    read back by the engine as a written schema would be) and score both against up to as many
    real rows (a fixed-seed pick)."""
    from datagen.report import score_columns
    from shared.schema_dsl import engine as eng
    from shared.schema_dsl.loader import load_schema
    from shared.schema_dsl.planner import resolve_plan

    n = min(COMPARE_ROWS, max(real.num_rows, 1))
    if real.num_rows > n:
        from datagen.fit.marginals import rng_for

        real = real.take(pa.array(np.sort(rng_for("fit", "deep-compare", table).choice(real.num_rows, n,
                                                                                         replace=False))))
    copula_doc = dict(schema, tables=[copula_node if t["name"] == table else t for t in schema["tables"]])
    synthetic: dict[str, pa.Table] = {}
    with tempfile.TemporaryDirectory(prefix="datagen-deep-") as tmp:
        save_models(models, Path(tmp))
        for label, doc in (("copula", copula_doc), ("ctgan", schema)):
            loaded = load_schema(str(Path(tmp) / f"{label}.yaml"), json.dumps(doc).encode())
            plan = resolve_plan(loaded, allow_huge=True)  # the source's sizes (a per-parent table takes no --rows)
            stop = min(n, plan.tables[table].rows)
            synthetic[label] = pa.Table.from_batches([eng.Engine(plan).batch(table, 0, stop)])
    scores = score_columns(real, synthetic, sdtypes)
    return {"rows": {"real": real.num_rows, "synthetic": synthetic["ctgan"].num_rows}, **scores}
