"""Labelled anomalies: rule-shaped unusual rows — amount spikes, off-hours times, duplicated
transactions, bursts from one key — in a share of a table's rows, each labelled.

A table's ``anomalies: {rate, label, kinds}`` picks rows with its own keyed stream
(``stream_key(seed, table, "__anomaly__", "select")`` read at the row index, so a row's fate
is a pure function of the row like every value), gives each a kind by the kinds' weights
(stream ``"kind"``), and lets the kind rewrite the row's cells — vectorised over the block. The
label column (added to the table by the loader, null on normal rows) holds the kind's name; every
changed cell is recorded, as the dirty profile's corruption is, in ``corruptions.csv`` with the
kind ``anomaly:<name>``. Anomalies are part of the data — the realistic profile has them too, and
the dirty profile corrupts on top of them — so ``deterministic_replay`` regenerates them and the
constraints hold: a kind keeps every value within its column's type and declared bounds.

A kind is one class registered in ``ANOMALIES`` (``shared/anomalies/kinds.py``): ``check``
(load-time problems of its parameters against the table) and ``apply``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from shared.registry import Registry, import_submodules

#: the prefix of the anomalies' kinds in the sidecar (``anomaly:spike``)
PREFIX = "anomaly:"


class Anomaly:
    """Base of an anomaly kind."""

    name = ""
    #: the JSON Schema of the kind's parameters (``weight`` is added for every kind)
    params_schema: dict = {"type": "object", "additionalProperties": False, "properties": {}}
    #: rows come in clusters (``burst``): ``cluster(params)`` rows at once, selected together
    clustered = False

    def check(self, params, table, path: tuple) -> list[tuple[tuple, str, str | None]]:
        """Problems as (path, message, hint)."""
        return []

    def cluster(self, params) -> int:
        return 1

    #: the kind never picks a table's first row (``duplicate``: nothing before it to repeat)
    first_row_excluded = False

    def columns(self, params, table) -> tuple[str, ...]:
        """The columns the kind rewrites."""
        return ()

    def apply(self, engine, table, rows: np.ndarray, idx: np.ndarray, u: np.ndarray, params,
              arrays: dict[str, pa.Array]) -> None:
        """Rewrite the cells of rows ``rows[idx]`` in ``arrays`` (name → column of the block)."""
        raise NotImplementedError


ANOMALIES: Registry[Anomaly] = Registry("anomaly kind")


def register(name: str):
    def deco(cls):
        cls.name = name
        ANOMALIES.add(name, cls())
        return cls

    return deco


def load() -> None:
    import_submodules("shared.anomalies")


def _key(engine, table: str, what: str) -> int:
    from shared.io import rng

    return rng.stream_key(engine.plan.seed, table, "__anomaly__", what)


def chosen(engine, table, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of the block: whether it is anomalous and the index of its kind (-1: none).
    Clustered kinds choose whole clusters of consecutive rows (by the cluster's first row)."""
    from shared.io import rng

    spec = table.anomalies
    weights = np.array([k.weight for k in spec.kinds], dtype=np.float64)
    cum = np.cumsum(weights) / weights.sum()
    kind = np.full(len(rows), -1, dtype=np.int64)
    if spec.rate <= 0 or not len(rows):
        return kind >= 0, kind
    u = rng.uniform(_key(engine, table.name, "select"), rows)
    k = np.minimum(np.searchsorted(cum, rng.uniform(_key(engine, table.name, "kind"), rows), side="right"),
                   len(weights) - 1)
    plain = [i for i, kd in enumerate(spec.kinds) if not ANOMALIES[kd.name].clustered]
    single = (u < spec.rate) & np.isin(k, plain)
    kind[single] = k[single]
    for i, kd in enumerate(spec.kinds):
        if ANOMALIES[kd.name].first_row_excluded:
            kind[(kind == i) & (rows == 0)] = -1
    for i, kd in enumerate(spec.kinds):
        a = ANOMALIES[kd.name]
        if not a.clustered:
            continue
        size = a.cluster(kd.params)
        first = rows - rows % size  # each cluster's first row decides for the whole cluster
        share = weights[i] / weights.sum()
        hit = rng.uniform(_key(engine, table.name, f"cluster/{kd.name}"), first // size) < spec.rate * share
        kind[hit] = i
    return kind >= 0, kind


def apply(engine, table_name: str, rows: np.ndarray, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    """The block with its anomalies, and the records of the changed cells (``row`` = plan row)."""
    from shared.corruption import RECORD_SCHEMA, _as_text, _records
    from shared.io import rng

    load()
    table = engine.schema.written.table(table_name)
    spec = table.anomalies
    rows = np.asarray(rows, dtype=np.int64)
    any_, kind = chosen(engine, table, rows)
    any_ = kind >= 0
    if not any_.any():
        return batch, pa.RecordBatch.from_pylist([], schema=RECORD_SCHEMA)
    names = batch.schema.names
    arrays = dict(zip(names, batch.columns, strict=True))
    before = dict(arrays)
    records = []
    for i, kd in enumerate(spec.kinds):
        idx = np.flatnonzero(kind == i)
        if not len(idx):
            continue
        a = ANOMALIES[kd.name]
        u = rng.uniform(_key(engine, table_name, f"how/{kd.name}"), rows[idx])
        touched = a.columns(kd.params, table)
        changed_before = {c: arrays[c] for c in touched}
        a.apply(engine, table, rows, idx, u, kd.params, arrays)
        label = f"{PREFIX}{kd.name}"
        for c in touched:
            records.append(_records(table_name, c, rows[idx], label, _as_text(changed_before[c].take(pa.array(idx)))))
    # one take over the kinds' names (index 0: null for normal rows), no Python object per row
    names_by_index = pa.array([None] + [k.name for k in spec.kinds], pa.string())
    arrays[spec.label] = names_by_index.take(pa.array(kind + 1))
    for i, kd in enumerate(spec.kinds):  # the label of each anomalous row, under its kind
        idx = np.flatnonzero(kind == i)
        if len(idx):
            records.append(_records(table_name, spec.label, rows[idx], PREFIX + kd.name,
                                    _as_text(before[spec.label].take(pa.array(idx)))))
    out = pa.RecordBatch.from_arrays([arrays[n] for n in names], schema=batch.schema)
    rec = pa.Table.from_batches(records, schema=RECORD_SCHEMA).combine_chunks()
    import pyarrow.compute as pc

    order = np.lexsort((pc.index_in(rec.column("column"), value_set=pa.array(names)).to_numpy(zero_copy_only=False),
                        rec.column("row").to_numpy()))
    rec = pc.take(rec, pa.array(order))
    return out, rec.to_batches()[0]


def summary(schema, counts: dict) -> dict:
    """The manifest's ``anomalies``: per table with anomalies, its rate and the anomalous rows
    by kind (from the sidecar's counts of the label column)."""
    out = {}
    for t in schema.tables:
        if t.anomalies is None:
            continue
        by_kind = counts.get(t.name, {}).get(t.anomalies.label, {})
        out[t.name] = {"rate": t.anomalies.rate, "label": t.anomalies.label,
                       "rows": {k.name: int(by_kind.get(PREFIX + k.name, 0)) for k in t.anomalies.kinds}}
    return out


def param_schema() -> dict:
    """The JSON Schema of a table's ``anomalies`` block, from the registered kinds."""
    load()
    kinds = {}
    for name in sorted(ANOMALIES):
        s = ANOMALIES[name].params_schema
        props = dict(s.get("properties", {}))
        props["weight"] = {"type": "number", "exclusiveMinimum": 0}
        kinds[name] = {**s, "properties": props}
    return {
        "type": "object",
        "required": ["rate", "kinds"],
        "additionalProperties": False,
        "properties": {
            "rate": {"type": "number", "minimum": 0, "maximum": 1},
            "label": {"$ref": "#/$defs/identifier"},
            "kinds": {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": kinds},
        },
    }
