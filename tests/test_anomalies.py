"""Labelled anomalies (issue 13, item 5): a share of a table's rows reshaped by rule — amount
spikes, off-hours times, duplicated transactions, bursts from one key — each labelled in a column
and recorded in the ground-truth sidecar; deterministic and addressable like every value."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

import datagen
from datagen.cli import app
from shared.errors import SchemaError
from tests.helpers import file_formats, generate_three_ways, make_runner

SCHEMA = textwrap.dedent("""\
    version: 1
    name: fraud
    seed: 3
    tables:
      - name: accounts
        rows: 200
        primary_key: account_id
        columns:
          - {name: account_id, type: int64}
      - name: transactions
        rows: 6000
        primary_key: tx_id
        anomalies:
          rate: 0.05
          label: anomaly
          kinds:
            spike: {column: amount, factor: [5, 20], weight: 2}
            off_hours: {column: booked_at, hours: [1, 4]}
            duplicate: {within: 8}
            burst: {key: account_id, time: booked_at, size: 6, within: 5m}
        columns:
          - {name: tx_id, type: int64}
          - {name: account_id, type: int64, generator: {type: fk, params: {table: accounts}}}
          - {name: booked_at, type: timestamp, min: "2025-01-01T00:00:00Z", max: "2025-12-31T23:59:59Z"}
          - {name: amount, type: "decimal(12,2)", min: 0, max: 50000, generator: {type: lognormal, params: {mean: 3, sigma: 1}}}
          - {name: merchant, type: string, generator: {type: choice, params: {values: [a, b, c]}}}
    """)


def _schema(tmp_path, text=SCHEMA, name="fraud.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _clean(path):
    """The same schema without anomalies: the values every normal row keeps."""
    return datagen.to_pandas(datagen.Schema.load(path).override(tables={"transactions": {"anomalies": None}}))


def test_anomalies_are_labelled_and_shaped_as_their_kind(tmp_path):
    path = _schema(tmp_path)
    t = datagen.to_pandas(str(path))["transactions"]
    c = _clean(path)["transactions"]
    counts = t["anomaly"].value_counts().to_dict()
    assert set(counts) == {"spike", "off_hours", "duplicate", "burst"}
    assert 0.03 * 6000 < sum(counts.values()) < 0.07 * 6000
    assert counts["spike"] > counts["off_hours"]  # weight 2
    normal = t["anomaly"].isna()
    cols = ["tx_id", "account_id", "booked_at", "amount", "merchant"]
    assert t.loc[normal, cols].equals(c.loc[normal, cols])  # normal rows untouched
    assert (t["tx_id"] == c["tx_id"]).all()  # keys are never rewritten
    s = t["anomaly"] == "spike"
    ratio = t.loc[s, "amount"].astype(float) / c.loc[s, "amount"].astype(float)
    assert ((ratio > 4.9) & (ratio < 20.1) | (t.loc[s, "amount"].astype(float) == 50000)).all()
    o = t["anomaly"] == "off_hours"
    assert (t.loc[o, "booked_at"].dt.hour.between(1, 3)).all()
    assert (t.loc[o, "booked_at"].dt.date == c.loc[o, "booked_at"].dt.date).all()
    d = np.flatnonzero(t["anomaly"] == "duplicate")
    for i in d:
        earlier = c.iloc[max(0, i - 8):i]
        match = (earlier["account_id"] == t.at[i, "account_id"]) & (earlier["booked_at"] == t.at[i, "booked_at"]) \
            & (earlier["amount"] == t.at[i, "amount"]) & (earlier["merchant"] == t.at[i, "merchant"])
        assert match.any(), i
    b = np.flatnonzero(t["anomaly"] == "burst")
    assert len(b) % 6 == 0 and (b[::6] % 6 == 0).all()
    for start in b[::6]:
        burst = t.iloc[start:start + 6]
        assert burst["account_id"].nunique() == 1
        gaps = burst["booked_at"].diff().dropna().dt.total_seconds()
        assert (gaps == 50).all()  # 5 minutes over 6 rows


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_same_bytes_for_every_block_size_and_worker_count(tmp_path, fmt):
    out = generate_three_ways(app, fmt, _schema(tmp_path), tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    rows = manifest["anomalies"]["tables"]["transactions"]["rows"]
    assert sum(rows.values()) > 0 and manifest["anomalies"]["sidecar"] == "corruptions.csv"
    assert "corruptions.csv" in {f["path"] for f in manifest["files"]}


@pytest.mark.parametrize("fmt", file_formats())
def test_every_format_generates_and_validates(tmp_path, fmt):
    path = _schema(tmp_path)
    out = tmp_path / "o"
    runner = make_runner()
    r = runner.invoke(app, ["generate", "--schema", str(path), "--format", fmt, "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["validate", "--schema", str(path), "--format", fmt, "--out", str(out), "--json"])
    report = json.loads(r.stdout)
    assert r.exit_code == 0, [c for c in report["checks"] if c["status"] == "fail"][:3]
    allowed = [c for c in report["checks"] if c["kind"] == "allowed" and c.get("column") == "anomaly"]
    assert allowed and allowed[0]["status"] == "pass"


def test_the_sidecar_holds_every_changed_cell(tmp_path):
    path = _schema(tmp_path)
    res = datagen.generate(str(path), format="csv", out=tmp_path / "o", workers=1)
    import pandas as pd

    side = pd.read_csv(tmp_path / "o" / "corruptions.csv", keep_default_na=False)
    t = res.tables["transactions"]
    c = _clean(path)["transactions"]
    labelled = side[side["column"] == "anomaly"]
    assert sorted(labelled["row"]) == sorted(np.flatnonzero(t["anomaly"].notna()))
    assert set(labelled["kind"]) == {"anomaly:spike", "anomaly:off_hours", "anomaly:duplicate", "anomaly:burst"}
    spikes = side[(side["kind"] == "anomaly:spike") & (side["column"] == "amount")]
    assert [float(x) for x in spikes["original"]] == [float(c.at[r, "amount"]) for r in spikes["row"]]
    assert res.manifest["anomalies"]["tables"]["transactions"]["rows"] == \
        {k.split(":")[1]: n for k, n in labelled["kind"].value_counts().items()} | \
        {k: 0 for k in ("spike", "off_hours", "duplicate", "burst") if f"anomaly:{k}" not in set(labelled["kind"])}


def test_dirty_data_keeps_its_anomalies_and_validates(tmp_path):
    path = _schema(tmp_path)
    import pandas as pd

    datagen.generate(str(path), format="csv", out=tmp_path / "o", profile="dirty", workers=1,
                     corrupt=["typos=0.05", "extra_duplicates=0.02"])
    kinds = set(pd.read_csv(tmp_path / "o" / "corruptions.csv")["kind"])
    assert {"typos", "extra_duplicates", "anomaly:spike"} <= kinds
    report = datagen.validate(str(path), out=tmp_path / "o")
    assert report["status"] == "pass", [c for c in report["checks"] if c["status"] == "fail"][:3]
    mem = datagen.generate(str(path), output="memory", workers=1)
    assert set(mem.corruptions["kind"]) >= {"anomaly:spike", "anomaly:burst"}
    assert mem.manifest["anomalies"]["tables"]["transactions"]["rate"] == 0.05


def test_with_anomalies_sets_the_rate_of_declared_blocks(tmp_path):
    base = datagen.Schema.load(_schema(tmp_path))
    none = base.with_anomalies(0)
    assert datagen.to_pandas(none)["transactions"]["anomaly"].isna().all()
    more = base.with_anomalies(0.2)
    share = datagen.to_pandas(more)["transactions"]["anomaly"].notna().mean()
    assert 0.15 < share < 0.25


_BAD = [
    ("spike: {column: merchant}", "transactions.anomalies.kinds.spike.column", "is string, not int or float or decimal"),
    ("spike: {column: tx_id}", "kinds.spike.column", "'tx_id' is a key"),
    ("spike: {column: amout}", "kinds.spike.column", "names no written column 'amout'"),
    ("spike: {column: amount, factor: [9, 2]}", "kinds.spike.factor", "the low end is above the high"),
    ("off_hours: {column: booked_at, hours: [5, 5]}", "kinds.off_hours.hours", "the start is not before the end"),
    ("burst: {key: tx_id, time: booked_at}", "kinds.burst.key", "burst key 'tx_id' is unique"),
    ("burst: {key: account_id, time: booked_at, within: soon}", "kinds.burst.within", "burst within 'soon'"),
    ("explode: {}", "kinds.explode", None),
]


@pytest.mark.parametrize(("kind", "where", "message"), _BAD)
def test_bad_anomalies_exit_2_with_path_and_message(tmp_path, kind, where, message):
    lines = SCHEMA.splitlines(keepends=True)
    first = lines.index("      kinds:\n") + 1
    last = next(i for i in range(first, len(lines)) if lines[i].startswith("    columns:"))
    text = "".join(lines[:first] + [f"        {kind}\n"] + lines[last:])
    assert kind in text
    path = _schema(tmp_path, text)
    with pytest.raises(SchemaError) as exc:
        datagen.load_schema(str(path))
    probs = [p for p in exc.value.problems if where.split(".", 1)[-1] in p.path]
    assert probs, [(p.path, p.message) for p in exc.value.problems]
    if message:
        assert message in probs[0].message
    r = make_runner().invoke(app, ["describe", "--schema", str(path), "--format", "csv"])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_anomalies_cannot_reorder_an_ordered_time_column(tmp_path):
    text = SCHEMA.replace('{name: booked_at, type: timestamp, min: "2025-01-01T00:00:00Z", max: "2025-12-31T23:59:59Z"}',
                          '{name: booked_at, type: timestamp, generator: {type: time_series, '
                          'params: {start: "2025-01-01T00:00:00Z", step: 1m}}}')
    with pytest.raises(SchemaError) as exc:
        datagen.load_schema(str(_schema(tmp_path, text)))
    msgs = " ".join(p.message for p in exc.value.problems)
    assert "off_hours would break the order time_series promises" in msgs
    assert "a burst would break the order time_series promises" in msgs


def test_a_label_that_names_a_column_is_refused(tmp_path):
    text = SCHEMA.replace("label: anomaly", "label: merchant")
    with pytest.raises(SchemaError) as exc:
        datagen.load_schema(str(_schema(tmp_path, text)))
    assert any("label column 'merchant' is already a column" in p.message for p in exc.value.problems)
