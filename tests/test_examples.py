"""Every example schema generates to Parquet, and independent checks hold on what was written.

"Independent": these checks read the files with pyarrow/pandas and test the schema's promises
directly, without datagen's validator.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from generators.parquet_generator.format import ParquetFormat
from shared.api import describe, generate, load_schema, resolve_plan
from shared.distributions.base import GENERATORS
from tests.helpers import EXAMPLES


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda p: p.stem)
def generated(request, tmp_path_factory):
    schema = load_schema(str(request.param))
    plan = resolve_plan(schema)
    out = tmp_path_factory.mktemp(request.param.stem) / "out"
    generate(plan, ParquetFormat(), out, workers=1)
    frames = {t.name: _read(out, t) for t in schema.tables}
    return schema, plan, frames


def _read(out, table) -> pd.DataFrame:
    """A table as pandas: a partitioned one through Arrow's own Hive reading, back in row order by
    its sequence primary key (the folders hold each partition's rows, not the table's order);
    struct columns flattened (``_flat``)."""
    if not table.partition_by:
        return _flat(pq.read_table(out / table.name)).to_pandas()
    import pyarrow.dataset as ds

    fields = [pa.field(c, pa.date32() if table.column(c).dtype.kind == "date" else pa.string())
              for c in table.partition_by]
    data = ds.dataset(out / table.name, format="parquet",
                      partitioning=ds.HivePartitioning(pa.schema(fields), segment_encoding="uri")).to_table()
    assert len(table.primary_key) == 1, "a partitioned example keys its rows by a sequence"
    written = [c.name for c in table.columns if not c.hidden and c.part_of is None]
    return _flat(data.sort_by(table.primary_key[0]).select(written)).to_pandas()


def _flat(data):
    """Struct columns as one column per field (``address.city``; null where the struct is), so the
    fields are checked like columns; lists stay lists (their items are not checked here)."""
    while any(pa.types.is_struct(t) for t in data.schema.types):
        data = data.flatten()
    return data


def _optional(table, c) -> bool:
    """A struct field that may be null: nullable or optional itself, or inside a nullable struct."""
    while True:
        if c.nullable or c.present is not None:
            return True
        if c.part_of is None:
            return False
        c = table.column(c.part_of)


def test_examples_exist():
    assert {p.stem for p in EXAMPLES} >= {"default", "shop", "iot", "hr", "bank", "saas", "catalog"}


def test_row_counts(generated):
    schema, plan, frames = generated
    for t in schema.tables:
        assert len(frames[t.name]) == plan.rows(t.name), t.name


def test_column_constraints(generated):
    schema, plan, frames = generated
    for t in schema.tables:
        df = frames[t.name]
        for c in t.columns:
            if c.hidden or c.name not in df or c.dtype.is_nested:  # never written; list items, whole structs
                continue
            s = df[c.name]
            if not _optional(t, c):
                assert s.notna().all(), (t.name, c.name, "nulls")
            elif c.null_rate > 0 and len(s) >= 400:
                sd = (c.null_rate * (1 - c.null_rate) / len(s)) ** 0.5
                assert abs(s.isna().mean() - c.null_rate) < 5 * sd + 0.01, (t.name, c.name, s.isna().mean())
            v = s.dropna()
            if c.unique or t.primary_key == (c.name,):
                assert v.is_unique, (t.name, c.name, "unique")
            if c.dtype.kind in ("int", "float", "decimal") and (c.min is not None or c.max is not None):
                x = v.astype(float)
                if c.min is not None:
                    assert (x >= c.min - 1e-9).all(), (t.name, c.name, "min")
                if c.max is not None:
                    assert (x <= c.max + 1e-9).all(), (t.name, c.name, "max")
            if c.dtype.kind == "date" and (c.min is not None or c.max is not None):
                days = (pd.to_datetime(v) - pd.Timestamp("1970-01-01")).dt.days
                assert c.min is None or (days >= c.min).all(), (t.name, c.name)
                assert c.max is None or (days <= c.max).all(), (t.name, c.name)
            if c.dtype.kind == "timestamp" and (c.min is not None or c.max is not None):
                us = (v - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(microseconds=1)
                assert c.min is None or (us >= c.min).all(), (t.name, c.name)
                assert c.max is None or (us <= c.max).all(), (t.name, c.name)
            if c.allowed is not None and c.dtype.kind in ("string", "bool"):
                assert set(v) <= set(c.allowed), (t.name, c.name, set(v) - set(c.allowed))
            if c.pattern is not None:
                rx = re.compile(c.pattern)
                bad = [x for x in v if not rx.fullmatch(str(x))]
                assert not bad, (t.name, c.name, bad[:3])
            if c.max_length is not None:
                assert (v.str.len() <= c.max_length).all(), (t.name, c.name)


def test_keys_and_foreign_keys(generated):
    schema, plan, frames = generated
    for t in schema.tables:
        df = frames[t.name]
        if len(t.primary_key) > 1:
            assert not df.duplicated(list(t.primary_key)).any(), t.name
        for group in t.unique:
            assert not df.dropna(subset=list(group)).duplicated(list(group)).any(), (t.name, group)
        for c in t.columns:
            if c.generator.type != "fk":
                continue
            parent, pcol = GENERATORS["fk"].target(c.generator.params, schema)
            # the loader's ForeignKeyRef and the plan's graph say the same as the fk generator
            assert (c.references.parent, c.references.parent_column) == (parent, pcol), (t.name, c.name)
            assert c.references in plan.parents(t.name) and c.references in plan.children(parent)
            keys = set(frames[parent][pcol])
            vals = df[c.name].dropna()
            assert set(vals) <= keys, (t.name, c.name)
            if parent == t.name:  # self-reference: an earlier row
                pos = pd.Series(np.arange(len(df)), index=df[pcol])
                assert (pos.loc[vals.to_numpy()].to_numpy() < np.flatnonzero(df[c.name].notna())).all()


def test_per_parent_tables_are_grouped_and_bounded(generated):
    schema, plan, frames = generated
    from shared.model.schema import RowsPer

    for t in schema.tables:
        if not isinstance(t.rows, RowsPer):
            continue
        tp = plan.tables[t.name]
        owner = frames[t.name][tp.owner_column]
        parent = frames[t.rows.per]
        pk = parent.columns[0] if not schema.table(t.rows.per).primary_key else schema.table(t.rows.per).primary_key[0]
        pos = pd.Series(np.arange(len(parent)), index=parent[pk]).loc[owner.to_numpy()].to_numpy()
        assert (np.diff(pos) >= 0).all(), t.name  # children grouped by their parent, in parent order
        counts = pd.Series(pos).value_counts().reindex(range(len(parent)), fill_value=0)
        assert counts.min() >= t.rows.min, t.name
        if t.rows.max is not None:
            assert counts.max() <= t.rows.max, t.name


def test_event_tables_are_ordered(generated):
    schema, plan, frames = generated
    for t in schema.tables:
        if t.events is None:
            continue
        ts = frames[t.name][t.events.time]
        assert ts.is_monotonic_increasing, t.name


def test_default_example_expr_after_parent(generated):
    schema, plan, frames = generated
    if schema.name != "default":
        pytest.skip("default schema only")
    orders, customers = frames["orders"], frames["customers"]
    signup = customers.set_index("customer_id").signup_at.loc[orders.customer_id].to_numpy()
    assert (orders.created_at.to_numpy() >= signup).all()


def test_describe_size_estimate(generated):
    schema, plan, frames = generated
    info = describe(plan, ParquetFormat())
    assert info["estimated_bytes"] > 0 and info["order"] == list(plan.order)
    assert [t["rows"] for t in info["tables"]] == [plan.rows(n) for n in plan.order]
