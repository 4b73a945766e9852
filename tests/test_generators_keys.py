"""Keys, constants and categories: const, sequence, uuid4 and choice."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest

from shared.distributions.base import GENERATORS, load_builtins
from shared.model.schema import Table
from shared.model.timeutil import parse_date, parse_timestamp
from shared.schema_dsl.context import ColumnContext
from tests.gen_helpers import make_column, run

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def ctx_for(name, params, *, type="string", rows=1000, seed=7, unique=False, **col):
    load_builtins()
    column = make_column(type=type, generator=name, params=params, unique=unique, **col)
    table = Table(name="t", rows=1, columns=(column,), path="tables[0]")
    idx = np.arange(rows, dtype=np.int64) if isinstance(rows, int) else np.asarray(rows, np.int64)
    return ColumnContext(seed=seed, table=table, column=column, params=column.generator.params, rows=idx,
                         n_total=int(idx.max(initial=0)) + 1, unique=unique)


def problems(name, params, type="string", **col):
    load_builtins()
    column = make_column(type=type, generator=name, params=params, **col)
    return GENERATORS[name].check(column, None, None)


def paths(ps):
    return [p[1] for p in ps]


def as_list(x):
    return x.to_pylist() if isinstance(x, (pa.Array, pa.ChunkedArray)) else np.asarray(x).tolist()


def concat(a, b):
    return pa.concat_arrays([a, b]) if isinstance(a, pa.Array) else np.concatenate([a, b])


# --- const ---------------------------------------------------------------------------------------


def test_const_values_per_kind():
    s = run("const", {"value": "USD"}, type="string", rows=5)
    assert isinstance(s, pa.Array) and s.type == pa.string() and s.to_pylist() == ["USD"] * 5
    i = run("const", {"value": 14}, type="int16", rows=3)
    assert i.dtype == np.int64 and i.tolist() == [14, 14, 14]
    d = run("const", {"value": "2024-06-01"}, type="date", rows=2)
    assert d.tolist() == [parse_date("2024-06-01")] * 2
    b = run("const", {"value": True}, type="bool", rows=2)
    assert b.dtype == np.bool_ and b.all()


def test_const_check():
    assert paths(problems("const", {"value": 5}, type="string")) == ["params.value"]
    assert problems("const", {"value": "x"}, type="int32")
    assert problems("const", {"value": 1.5}, type="int32")
    assert problems("const", {"value": 300}, type="int8")
    assert problems("const", {"value": "gold"}, type="string", allowed=("free", "pro"))
    assert problems("const", {"value": "not-a-date"}, type="date")
    assert problems("const", {"value": 5}, type="int32", min=10)
    assert problems("const", {"value": "USD"}, type="string", allowed=("USD", "EUR")) == []
    assert GENERATORS["const"].capacity(None, {"value": 1}, None) == 1


# --- sequence ------------------------------------------------------------------------------------


def test_sequence_values():
    assert run("sequence", {}, type="int64", rows=4).tolist() == [1, 2, 3, 4]
    assert run("sequence", {"start": 10, "step": 10}, type="int32", rows=3, start=5).tolist() == [60, 70, 80]
    s = run("sequence", {"start": 100}, type="string", rows=3)
    assert s.type == pa.string() and s.to_pylist() == ["100", "101", "102"]
    f = run("sequence", {"start": 0.5, "step": 0.25}, type="float64", rows=3)
    assert f.tolist() == [0.5, 0.75, 1.0]
    assert GENERATORS["sequence"].unique_strategy == "native"


def test_sequence_capacity_and_check():
    load_builtins()
    g = GENERATORS["sequence"]
    assert g.capacity(make_column(type="int8", generator="sequence"), {}, None) == 127
    assert g.capacity(make_column(type="int32", generator="sequence", max=100), {"start": 10, "step": 10}, None) == 10
    assert g.capacity(make_column(type="int16", generator="sequence"), {"start": 0, "step": -1}, None) == 32769
    assert "params.step" in paths(problems("sequence", {"step": 0}, type="int64"))
    assert "params.step" in paths(problems("sequence", {"step": 0.5}, type="int64"))
    assert "params.start" in paths(problems("sequence", {"start": 1000}, type="int8"))
    assert problems("sequence", {"start": 0.5, "step": 0.5}, type="float64") == []


# --- uuid4 ---------------------------------------------------------------------------------------


def test_uuid4_format_and_distinct():
    u = run("uuid4", {}, type="uuid", rows=100_000)
    assert isinstance(u, pa.Array) and u.type == pa.string() and len(u) == 100_000
    values = u.to_pylist()
    assert all(UUID4.match(v) for v in values)
    assert len(set(values)) == 100_000
    nibbles = np.array([v[19] for v in values])
    assert set(nibbles) == set("89ab")  # every variant nibble occurs
    import uuid

    assert all(uuid.UUID(v).version == 4 for v in values[:1000])


def test_uuid4_known_bits():
    from shared.distributions.keys import uuid_strings

    hi = np.array([0x0123456789ABCDEF], dtype=np.uint64)
    lo = np.array([0xFEDCBA9876543210], dtype=np.uint64)
    assert uuid_strings(hi, lo).to_pylist() == ["01234567-89ab-4def-bedc-ba9876543210"]
    assert uuid_strings(hi[:0], lo[:0]).to_pylist() == []


def test_uuid4_string_kind_and_seeds():
    a = run("uuid4", {}, type="string", rows=1000)
    b = run("uuid4", {}, type="string", rows=1000, seed=8)
    assert not set(a.to_pylist()) & set(b.to_pylist())


# --- choice --------------------------------------------------------------------------------------


def test_choice_frequencies_strings():
    values, weights = ["free", "plus", "pro"], [70, 20, 10]
    x = run("choice", {"values": values, "weights": weights}, type="string", rows=200_000)
    assert isinstance(x, pa.Array) and x.type == pa.string()
    counts = x.value_counts().to_pylist()
    freq = {c["values"]: c["counts"] / 200_000 for c in counts}
    for v, w in zip(values, weights, strict=True):
        assert abs(freq[v] - w / 100) < 0.004


def test_choice_zero_weight_never_and_unweighted():
    x = run("choice", {"values": [1, 2, 3], "weights": [0, 1, 0]}, type="int32", rows=10_000)
    assert x.dtype == np.int64 and set(x.tolist()) == {2}
    y = run("choice", {"values": [1.5, 2.5]}, type="float64", rows=100_000)
    assert abs(np.mean(y == 1.5) - 0.5) < 0.005


def test_choice_temporal_and_bool_values():
    d = run("choice", {"values": ["2024-01-01", "2024-02-01"]}, type="date", rows=1000)
    assert set(d.tolist()) == {parse_date("2024-01-01"), parse_date("2024-02-01")}
    t = run("choice", {"values": ["2024-01-01T12:00:00Z"]}, type="timestamp", rows=10)
    assert set(t.tolist()) == {parse_timestamp("2024-01-01T12:00:00Z")}
    b = run("choice", {"values": [True, False], "weights": [9, 1]}, type="bool", rows=100_000)
    assert b.dtype == np.bool_ and abs(b.mean() - 0.9) < 0.005


def test_choice_unique_by_index():
    load_builtins()
    g = GENERATORS["choice"]
    params = {"values": [f"v{i}" for i in range(500)] + ["v0"], "weights": [1] * 499 + [0, 1]}
    column = make_column(type="string", generator="choice", params=params, unique=True)
    cap = g.capacity(column, params, None)
    assert cap == 499  # distinct values of positive weight
    ctx = ctx_for("choice", params, rows=499, unique=True)
    out = g.from_index(ctx.permute(cap), ctx).to_pylist()
    assert len(set(out)) == 499 and "v499" not in out


def test_choice_check():
    assert "params.values[1]" in paths(problems("choice", {"values": ["free", "gold"]}, allowed=("free", "pro")))
    assert "params.weights" in paths(problems("choice", {"values": ["a", "b"], "weights": [1]}))
    assert "params.weights" in paths(problems("choice", {"values": ["a", "b"], "weights": [0, 0]}))
    assert "params.values[0]" in paths(problems("choice", {"values": [1, 2]}, type="string"))
    assert "params.values[1]" in paths(problems("choice", {"values": [1, "x"]}, type="int32"))
    assert "params.values[0]" in paths(problems("choice", {"values": ["2024-13-01"]}, type="date"))
    allowed_days = (parse_date("2024-01-01"),)
    assert problems("choice", {"values": ["2024-01-01"]}, type="date", allowed=allowed_days) == []
    assert problems("choice", {"values": ["a", "b"], "weights": [1, 2]}) == []


# --- addressability ------------------------------------------------------------------------------

CASES = [
    ("uuid4", {}, "uuid"),
    ("choice", {"values": ["a", "b", "c"], "weights": [1, 2, 3]}, "string"),
    ("choice", {"values": [10, 20, 30]}, "int64"),
    ("sequence", {"start": 5, "step": 3}, "int64"),
    ("sequence", {}, "string"),
    ("const", {"value": "x"}, "string"),
]


@pytest.mark.parametrize("name,params,type", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_addressable(name, params, type):
    full = run(name, params, type=type, rows=10_000)
    parts = concat(run(name, params, type=type, rows=3000), run(name, params, type=type, rows=7000, start=3000))
    assert as_list(full) == as_list(parts)
    perm = np.random.default_rng(3).permutation(10_000)
    shuffled = as_list(run(name, params, type=type, rows=perm))
    out = [None] * 10_000
    for pos, value in zip(perm.tolist(), shuffled, strict=True):
        out[pos] = value
    assert out == as_list(full)
    if name in ("uuid4", "choice"):
        assert as_list(full) != as_list(run(name, params, type=type, rows=10_000, seed=8))
