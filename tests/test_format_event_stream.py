"""event_stream (alias events): the conformance suite plus the stream's own contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pytest

from generators.event_stream_generator import merge as es_merge
from generators.event_stream_generator.envelope import ENVELOPE_KEYS
from generators.event_stream_generator.reader import EVENTS_FILE
from shared.api import load_schema
from shared.model.timeutil import parse_timestamp
from tests.conformance import ROOT, FormatConformance

# people: the non-event parent (reference data); orders: seasonal arrivals, late events, the event
# type from a column; follows: a time series with a constant event type.
EVENT_SCHEMA = textwrap.dedent("""
    version: 1
    name: conf_events
    seed: 11
    tables:
      - name: people
        rows: 300
        primary_key: person_id
        columns:
          - {name: person_id, type: int64, generator: sequence}
          - {name: name, type: string, max_length: 40, generator: {type: faker, params: {provider: name, pool_size: 200}}}
          - {name: email, type: string, unique: true,
             generator: {type: template, params: {template: "user.{person_id}@example.com"}}}
          - {name: age, type: int16, min: 18, max: 90, generator: {type: normal, params: {mean: 40, std: 12}}}
          - {name: score, type: float64, nullable: true, null_rate: 0.1,
             generator: {type: uniform_float, params: {min: 0, max: 1}}}
          - {name: balance, type: "decimal(12,2)", min: 0, generator: {type: lognormal, params: {mean: 5, sigma: 1}}}
          - {name: born, type: date, generator: {type: uniform_date, params: {start: "1950-01-01", end: "2005-12-31"}}}
          - {name: uid, type: uuid, generator: uuid4}
          - {name: tier, type: string, allowed: [free, plus, "pro, \\"max\\""],
             generator: {type: choice, params: {values: [free, plus, "pro, \\"max\\""]}}}
          - {name: code, type: string, pattern: "[A-Z]{3}-[0-9]{4}", unique: true,
             generator: {type: regex, params: {pattern: "[A-Z]{3}-[0-9]{4}"}}}
      - name: orders
        rows: 1500
        primary_key: order_id
        events: {time: created_at, key: person_id, type: status, late_rate: 0.05}
        columns:
          - {name: order_id, type: int64, generator: sequence}
          - {name: person_id, type: int64, generator: {type: fk, params: {table: people}}}
          - {name: created_at, type: timestamp,
             generator: {type: arrivals, params: {start: "2024-06-01T00:00:00", end: "2024-06-04T00:00:00",
                         daily: [1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 10, 11, 12, 12, 11, 9, 7, 5, 4, 3, 2, 1],
                         weekly: [10, 10, 10, 10, 9, 5, 4]}}}
          - {name: status, type: string, allowed: [placed, paid, shipped],
             generator: {type: choice, params: {values: [placed, paid, shipped], weights: [5, 3, 2]}}}
          - {name: amount, type: "decimal(10,2)", min: 1, max: 5000, generator: {type: gamma, params: {shape: 2, scale: 40}}}
          - {name: note, type: string, nullable: true, null_rate: 0.3, generator: {type: words, params: {min: 1, max: 4}}}
          - {name: due, type: date, nullable: true, null_rate: 0.2,
             generator: {type: uniform_date, params: {start: "2024-06-05", end: "2024-07-05"}}}
          - {name: ref, type: uuid, generator: uuid4}
      - name: follows
        rows: 400
        primary_key: follow_id
        events: {time: at, key: src, type: follow}
        columns:
          - {name: follow_id, type: int64, generator: sequence}
          - {name: src, type: int64, generator: {type: fk, params: {table: people}}}
          - {name: dst, type: int64, nullable: true, null_rate: 0.1, generator: {type: fk, params: {table: people}}}
          - {name: at, type: timestamp,
             generator: {type: time_series, params: {start: "2024-06-01T00:00:00", step: "10m", jitter: "2m"}}}
          - {name: weight, type: float32, generator: {type: uniform_float, params: {min: 0, max: 1}}}
""")

MAIN = [sys.executable, "-m", "generators.event_stream_generator"]


def stream(out: Path) -> list[dict]:
    return [orjson.loads(line) for line in (out / EVENTS_FILE).read_bytes().splitlines()]


def us(text: str) -> int:
    return parse_timestamp(text)


class TestEventStreamConformance(FormatConformance):
    FORMAT = "event_stream"
    MODULE = "generators.event_stream_generator"
    SCHEMA_TEXT = EVENT_SCHEMA

    def rewrite_table(self, fmt, out: Path, schema, table: str, data: pa.Table) -> None:
        """An event table: re-encode the whole stream with ``data`` in place of that table's rows
        (the other tables read back), so only the tampered table's events change."""
        if schema.table(table).events is None:
            return super().rewrite_table(fmt, out, schema, table, data)
        f = self.variant(fmt)
        opts = f.check_options({})
        seed = json.loads((out / "manifest.json").read_text())["seed"]
        tables = {t.name: (data if t.name == table else self.read(fmt, out, schema, t.name))
                  for t in schema.tables if t.events is not None}
        windows = es_merge.merged_stream(schema, lambda name: tables[name].to_batches(max_chunksize=97), seed,
                                         opts["late_max_delay_us"], opts["max_sort_rows"])
        with open(out / EVENTS_FILE, "wb") as fh:
            for w in windows:
                es_merge.write_lines(fh, w)

    # --- the stream ---------------------------------------------------------------------------

    def test_artifacts(self, generated, schema_file):
        names = sorted(p.name for p in generated.iterdir())
        assert names == ["events.ndjson", "manifest.json", "people.ndjson"]  # no spill left behind
        m = json.loads((generated / "manifest.json").read_text())
        assert {f["path"] for f in m["files"]} == {"events.ndjson", "people.ndjson"}
        people = [orjson.loads(x) for x in (generated / "people.ndjson").read_bytes().splitlines()]
        assert len(people) == 300 and set(people[0]) == set(load_schema(str(schema_file)).table("people").column_names)

    def test_envelope(self, generated, schema_file):
        events = stream(generated)
        assert len(events) == 1900
        for e in events:
            assert list(e) == list(ENVELOPE_KEYS)
        by = {}
        for e in events:
            by.setdefault(e["table"], []).append(e)
        assert {k: len(v) for k, v in by.items()} == {"orders": 1500, "follows": 400}
        o = by["orders"][0]
        assert o["event_type"] == o["data"]["status"] and o["key"] == o["data"]["person_id"]
        assert o["ts"] == o["data"]["created_at"] and o["ts"].endswith("Z") and len(o["ts"]) == 27
        assert isinstance(o["data"]["amount"], str) and len(o["data"]["amount"].split(".")[1]) == 2
        assert {e["event_type"] for e in by["follows"]} == {"follow"}
        assert all(e["key"] == e["data"]["src"] for e in by["follows"])
        # float32 in its shortest float32 form (0.1, not 0.10000000149011612)
        assert all(np.float32(e["data"]["weight"]) == e["data"]["weight"] or len(repr(e["data"]["weight"])) <= 15
                   for e in by["follows"])
        assert max(len(repr(e["data"]["weight"])) for e in by["follows"]) <= 15
        assert any(e["data"]["note"] is None for e in by["orders"]) and any(e["data"]["due"] is None for e in by["orders"])
        assert sorted(e["seq"] for e in by["orders"]) == list(range(1500))
        assert set(by["orders"][0]["data"]) == set(load_schema(str(schema_file)).table("orders").column_names)

    def test_lines_parse_with_the_stdlib(self, generated):
        """Every line (and every reference row) is one compact JSON object that the stdlib parser
        reads to the same values as orjson, keys in envelope order."""
        for line in (generated / EVENTS_FILE).read_bytes().split(b"\n")[:-1]:
            e = json.loads(line)
            assert list(e) == list(ENVELOPE_KEYS) and e == orjson.loads(line)
            assert line.startswith(b'{"event_id":"') and line.endswith(b"}}")
        for line in (generated / "people.ndjson").read_bytes().split(b"\n")[:-1]:
            assert json.loads(line) == orjson.loads(line)

    def test_ordering_except_late(self, generated):
        events = stream(generated)
        high = None
        for e in events:
            t = us(e["ts"])
            if not e["late"]:
                assert high is None or t >= high, e
            high = t if high is None else max(high, t)
        assert not any(e["late"] for e in events if e["table"] == "follows")  # no late_rate

    def test_late_fraction_and_delivery(self, generated):
        events = stream(generated)
        orders = [e for e in events if e["table"] == "orders"]
        late = [e for e in orders if e["late"]]
        assert abs(len(late) / len(orders) - 0.05) < 0.02, len(late)
        # a late event comes after an event at most 5 minutes (late_max_delay) past its own time,
        # and before any on-time event later than that
        pos = {e["event_id"]: i for i, e in enumerate(events)}
        for e in late:
            i, t = pos[e["event_id"]], us(e["ts"])
            after = [us(x["ts"]) for x in events[i + 1:] if not x["late"]][:1]
            assert not after or after[0] >= t
            before = [us(x["ts"]) for x in events[:i] if not x["late"]]
            assert not before or max(before) <= t + 5 * 60 * 10**6

    def test_late_events_out_of_order_with_a_longer_delay(self, app, schema_file, tmp_path):
        out = tmp_path / "o"
        res = self.generate(app, schema_file, out, "--option", "late_max_delay=3h")
        assert res.exit_code == 0, res.output
        events = stream(out)
        high, behind = None, 0
        for e in events:
            t = us(e["ts"])
            if high is not None and t < high:
                assert e["late"]
                behind += 1
            high = t if high is None else max(high, t)
        assert behind > 10
        assert self.validate(app, schema_file, out).exit_code == 0

    def test_event_ids_unique_and_stable(self, app, schema_file, generated, tmp_path):
        ids = [e["event_id"] for e in stream(generated)]
        assert len(set(ids)) == len(ids) and all(len(i) == 36 for i in ids)
        out = tmp_path / "again"
        assert self.generate(app, schema_file, out, "--workers", "1").exit_code == 0
        assert [e["event_id"] for e in stream(out)] == ids
        out2 = tmp_path / "other_seed"
        assert self.generate(app, schema_file, out2, "--seed", "12").exit_code == 0
        assert not set(ids) & {e["event_id"] for e in stream(out2)}

    def test_alias_events(self, app, schema_file, tmp_path):
        out = tmp_path / "alias"
        res = self.cli(app, "generate", "--format", "events", "--schema", schema_file, "--out", out, "--quiet")
        assert res.exit_code == 0, res.output
        assert json.loads((out / "manifest.json").read_text())["format"] == "event_stream"
        res = self.cli(app, "validate", "--format", "events", "--schema", schema_file, "--out", out)
        assert res.exit_code == 0, res.output
        res = self.cli(app, "describe", "--format", "events", "--schema", schema_file, "--json")
        assert res.exit_code == 0 and json.loads(res.stdout)["format"] == "event_stream"

    def test_validate_reports_stream_checks(self, app, schema_file, generated, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        assert self.validate(app, schema_file, out).exit_code == 0
        checks = self.report(out)["checks"]
        kinds = {c["kind"] for c in checks}
        assert {"ordering", "required_keys", "unique_event_id", "event_count", "late_events"} <= kinds
        late = [c for c in checks if c["kind"] == "late_events" and c["table"] == "orders"]
        assert late[0]["status"] == "pass" and late[0]["observed"] > 0

    def _swap_on_time(self, out: Path) -> None:
        lines = (out / EVENTS_FILE).read_bytes().splitlines(keepends=True)
        for i in range(len(lines) - 1):
            a, b = orjson.loads(lines[i]), orjson.loads(lines[i + 1])
            if not a["late"] and not b["late"] and a["ts"] < b["ts"]:
                lines[i], lines[i + 1] = lines[i + 1], lines[i]
                break
        (out / EVENTS_FILE).write_bytes(b"".join(lines))

    def test_validate_fails_on_swapped_lines(self, app, schema_file, generated, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        self._swap_on_time(out)
        res = self.validate(app, schema_file, out)
        assert res.exit_code == 1
        assert "ordering" in self.failed_kinds(out)
        assert "ordering" in res.stdout

    def test_validate_fails_on_missing_key_and_duplicate_id(self, app, schema_file, generated, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        lines = (out / EVENTS_FILE).read_bytes().splitlines(keepends=True)
        e = orjson.loads(lines[3])
        del e["key"]
        lines[3] = orjson.dumps(e) + b"\n"
        e = orjson.loads(lines[5])
        e["event_id"] = orjson.loads(lines[4])["event_id"]
        del e["data"]["weight" if e["table"] == "follows" else "note"]
        lines[5] = orjson.dumps(e) + b"\n"
        (out / EVENTS_FILE).write_bytes(b"".join(lines))
        assert self.validate(app, schema_file, out).exit_code == 1
        failed = self.failed_kinds(out)
        assert {"required_keys", "unique_event_id"} <= failed, failed
        rk = [c for c in self.report(out)["checks"] if c["kind"] == "required_keys" and c["status"] == "fail"]
        assert any("line 4: missing key" in s for c in rk for s in c["sample"]), rk

    def test_string_values_cannot_fake_keys(self, app, schema_file, generated, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        lines = (out / EVENTS_FILE).read_bytes().splitlines(keepends=True)
        i = next(i for i, x in enumerate(lines) if orjson.loads(x)["table"] == "orders")
        e = orjson.loads(lines[i])
        del e["key"]
        e["data"]["note"] = '","key":1,"x":"'
        lines[i] = orjson.dumps(e) + b"\n"
        (out / EVENTS_FILE).write_bytes(b"".join(lines))
        self.validate(app, schema_file, out)
        rk = [c for c in self.report(out)["checks"] if c["kind"] == "required_keys" and c["table"] is None]
        assert rk[0]["status"] == "fail" and rk[0]["unexpected_count"] == 1

    def test_bad_options(self, app, schema_file, tmp_path):
        assert self.generate(app, schema_file, tmp_path / "a", "--option", "late_max_delay=soon").exit_code == 2
        assert self.generate(app, schema_file, tmp_path / "b", "--option", "nope=1").exit_code == 2
        assert self.generate(app, schema_file, tmp_path / "c", "--rate", "0").exit_code == 2
        res = self.cli(app, "generate", "--format", "event_stream", "--schema", schema_file, "--rate", "10",
                       "--out", tmp_path / "d")
        assert res.exit_code == 2 and not (tmp_path / "d").exists()

    def test_unordered_time_column_is_sorted_or_refused(self, app, tmp_path):
        text = textwrap.dedent("""
            version: 1
            name: unordered
            seed: 3
            tables:
              - name: clicks
                rows: 500
                events: {time: at, type: click, late_rate: 0.1}
                columns:
                  - {name: id, type: int64, generator: sequence}
                  - {name: at, type: timestamp,
                     generator: {type: uniform_timestamp, params: {start: "2024-01-01", end: "2024-01-02"}}}
              - name: views
                rows: 300
                events: {time: at, type: view}
                columns:
                  - {name: at, type: timestamp, generator: {type: time_series, params: {start: "2024-01-01", step: "5m"}}}
        """)
        schema = tmp_path / "u.yaml"
        schema.write_text(text)
        out = tmp_path / "o"
        res = self.cli(app, "generate", "--schema", schema, "--out", out, "--quiet", "--block-rows", "64")
        assert res.exit_code == 0, res.output
        events = stream(out)
        assert len(events) == 800 and all(e["key"] is None for e in events)
        ok = self.cli(app, "validate", "--schema", schema, "--out", out)
        assert ok.exit_code == 0, ok.output
        same = tmp_path / "same"
        assert self.cli(app, "generate", "--schema", schema, "--out", same, "--quiet").exit_code == 0
        assert (same / EVENTS_FILE).read_bytes() == (out / EVENTS_FILE).read_bytes()
        streamed = self.cli(app, "generate", "--schema", schema, "--rate", "1000000", "--quiet")
        assert streamed.exit_code == 0 and streamed.stdout_bytes == (out / EVENTS_FILE).read_bytes()
        res = self.cli(app, "generate", "--schema", schema, "--out", tmp_path / "x", "--option", "max_sort_rows=100")
        assert res.exit_code == 2 and "max_sort_rows" in res.stderr and "clicks" in res.stderr
        assert not (tmp_path / "x").exists()
        res = self.cli(app, "generate", "--schema", schema, "--rate", "1000", "--option", "max_sort_rows=100")
        assert res.exit_code == 2 and "max_sort_rows" in res.stderr

    def test_reference_table_named_events_is_refused(self, app, tmp_path):
        schema = tmp_path / "clash.yaml"
        schema.write_text(textwrap.dedent("""
            version: 1
            name: clash
            tables:
              - name: events
                rows: 5
                columns: [{name: id, type: int64, generator: sequence}]
        """))
        res = self.cli(app, "generate", "--schema", schema, "--out", tmp_path / "o")
        assert res.exit_code == 2 and "events.ndjson" in res.stderr and not (tmp_path / "o").exists()

    # --- --rate -------------------------------------------------------------------------------

    def test_rate_streams_to_stdout(self, app, schema_file, tmp_path, monkeypatch):
        """The pace is checked on a fake clock (no wall-clock bound): line i is written no
        earlier than i / rate, and the schedule is kept, not just bounded."""
        from generators.event_stream_generator import rate as rate_mod

        clock = {"t": 0.0}
        written: list[float] = []  # the clock at each line written

        def sleep(s):
            # a real sleep overshoots a little; an exact one can land a float rounding short of
            # the scheduled time (k / 200 * 200 < k) and pace would ask again for ~0 s forever
            clock["t"] += s + 1e-9

        class Timed:
            def __init__(self, out):
                self.out = out

            def write(self, b):
                written.extend([clock["t"]] * bytes(b).count(b"\n"))
                return self.out.write(b)

            def flush(self):
                self.out.flush()

        real_pace = rate_mod.pace
        monkeypatch.setattr(rate_mod, "pace", lambda out, windows, rate: real_pace(
            Timed(out), windows, rate, clock=lambda: clock["t"], sleep=sleep))
        monkeypatch.chdir(tmp_path)
        res = self.cli(app, "generate", "--format", "events", "--schema", schema_file, "--rate", "200",
                       "--rows", "orders=50", "--rows", "follows=50")
        assert res.exit_code == 0, res.output
        lines = res.stdout_bytes.splitlines()
        assert len(lines) == 100
        events = [orjson.loads(x) for x in lines]
        assert {e["table"] for e in events} == {"orders", "follows"}
        assert len(written) == 100
        assert all(t >= i / 200 - 1e-9 for i, t in enumerate(written)), written  # never ahead of the pace
        assert written[-1] == pytest.approx(99 / 200, abs=1e-6)  # 100 events at 200/s: the last one at 0.495 s
        assert list(tmp_path.iterdir()) == []  # no files at all

    def test_rate_stream_equals_the_file(self, app, schema_file, generated, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        res = self.cli(app, "generate", "--format", "event_stream", "--schema", schema_file, "--rate", "1000000",
                       "--quiet")
        assert res.exit_code == 0
        assert res.stdout_bytes == (generated / EVENTS_FILE).read_bytes()

    def test_pace_is_bounded(self):
        clock = {"t": 0.0}
        sleeps = []

        def sleep(s):
            sleeps.append(s)
            clock["t"] += s

        class Sink:
            def __init__(self):
                self.writes = []

            def write(self, b):
                self.writes.append((clock["t"], bytes(b).count(b"\n")))

            def flush(self):
                pass

        from generators.event_stream_generator.rate import MAX_SLEEP_S, pace

        sink = Sink()
        lines = pa.array([b"x\n"] * 50, pa.large_binary())
        assert pace(sink, [lines.slice(0, 20), lines.slice(20)], 10.0, clock=lambda: clock["t"], sleep=sleep) == 50
        assert sum(n for _, n in sink.writes) == 50
        assert max(sleeps) <= MAX_SLEEP_S
        assert abs(sink.writes[-1][0] - 4.9) < 1e-6  # the 50th line at (50 - 1) / 10 s

    def _subprocess_env(self):
        return {**os.environ, "PYTHONPATH": str(ROOT)}

    def test_rate_into_a_closed_pipe_exits_cleanly(self, schema_file):
        p = subprocess.Popen([*MAIN, "generate", "--format", "events", "--schema", str(schema_file), "--rate", "2000"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=self._subprocess_env())
        first = p.stdout.readline()
        assert orjson.loads(first)["table"] in {"orders", "follows"}
        p.stdout.close()
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert b"Traceback" not in err and b"Error" not in err, err

    def test_rate_piped_into_head(self, schema_file, tmp_path):
        cmd = " ".join([*MAIN, "generate", "--format", "events", "--schema", str(schema_file), "--rate", "5000"])
        res = subprocess.run(["bash", "-o", "pipefail", "-c", f"{cmd} 2>{tmp_path / 'err'} | head -1"],
                             capture_output=True, cwd=ROOT, env=self._subprocess_env(), timeout=60)
        assert res.returncode == 0, res.stderr
        assert len(res.stdout.splitlines()) == 1
        assert b"Traceback" not in (tmp_path / "err").read_bytes()


def test_merge_windows_match_a_full_sort():
    """The windowed k-way merge equals one global sort by (emit, table, seq), whatever the chunking."""
    rng = np.random.default_rng(5)
    sources, everything = [], []
    for tidx, n in ((0, 500), (2, 300), (5, 1)):
        emit = np.sort(rng.integers(0, 200, n))
        seq = np.arange(n)
        lines = pa.array([f"{tidx}:{s}:{e}\n".encode() for s, e in zip(seq, emit, strict=True)], pa.large_binary())
        cuts = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, 7), replace=False)) if n > 1 else []
        bounds = [0, *map(int, cuts), n]
        chunks = [(emit[a:b], seq[a:b], lines.slice(a, b - a)) for a, b in zip(bounds, bounds[1:], strict=False)]
        sources.append((tidx, chunks))
        everything += [(int(e), tidx, int(s)) for s, e in zip(seq, emit, strict=True)]
    out = b"".join(b"".join(w.to_pylist()) for w in es_merge.merge(sources))
    want = b"".join(f"{t}:{s}:{e}\n".encode() for e, t, s in sorted(everything))
    assert out == want


@pytest.mark.parametrize("example", ["iot.yaml"])
def test_example_schema_round_trips(example, tmp_path):
    app = __import__("generators.event_stream_generator.__main__", fromlist=["app"]).app
    from tests.helpers import make_runner

    out = tmp_path / "o"
    schema = str(ROOT / "schemas" / "examples" / example)
    res = make_runner().invoke(app, ["generate", "--format", "events", "--schema", schema, "--out", str(out), "--quiet",
                                 "--rows", "readings=3000", "--rows", "devices=100"])
    assert res.exit_code == 0, res.output
    res = make_runner().invoke(app, ["validate", "--format", "events", "--schema", schema, "--out", str(out)])
    assert res.exit_code == 0, res.output


AWKWARD = ["plain", 'a "quoted" word', "back\\slash \\\" \\n", "new\nline", "cr\r tab\t ff\f bs\b",
           "ctl \x00 \x01 \x1f del \x7f", "uni é ü 中文 😀 \u2028 \u2029 \ufeff", "", '","key":1,"x":"', None]


def test_awkward_strings_round_trip(tmp_path, monkeypatch):
    """Quotes, backslashes, newlines, control characters and unicode in data (and in the event type
    and key taken from columns) come back unchanged through the stdlib json module, whatever the
    slicing of the vectorised encoder; the other value forms are the documented ones."""
    from generators.event_stream_generator import envelope

    path = tmp_path / "awk.yaml"
    path.write_text(textwrap.dedent("""
        version: 1
        name: awk
        tables:
          - name: ev
            rows: 10
            events: {time: at, key: who, type: kind, late_rate: 0.5}
            columns:
              - {name: who, type: string, nullable: true, generator: {type: words, params: {min: 1, max: 2}}}
              - {name: kind, type: string, nullable: true, generator: {type: words, params: {min: 1, max: 2}}}
              - {name: at, type: timestamp, nullable: true,
                 generator: {type: time_series, params: {start: "2024-06-01T00:00:00", step: "1s"}}}
              - {name: note, type: string, nullable: true, generator: {type: words, params: {min: 1, max: 2}}}
              - {name: amount, type: "decimal(10,2)", nullable: true,
                 generator: {type: uniform_float, params: {min: 0, max: 1}}}
              - {name: day, type: date, nullable: true,
                 generator: {type: uniform_date, params: {start: "2024-01-01", end: "2024-12-31"}}}
              - {name: x, type: float64, nullable: true, generator: {type: uniform_float, params: {min: 0, max: 1}}}
              - {name: y, type: float32, generator: {type: uniform_float, params: {min: 0, max: 1}}}
    """))
    table = load_schema(str(path)).table("ev")
    n = len(AWKWARD)
    rev = AWKWARD[::-1]
    at = [1_717_200_000_123_456 + i for i in range(n - 1)] + [None]
    batch = pa.record_batch({
        "who": pa.array(rev, pa.string()), "kind": pa.array(AWKWARD, pa.string()),
        "at": pa.array(at, pa.timestamp("us", tz="UTC")), "note": pa.array(AWKWARD, pa.string()),
        "amount": pa.array([None, *(Decimal(i) for i in range(n - 1))], pa.decimal128(10, 2)),
        "day": pa.array([19875 + i for i in range(n - 1)] + [None], pa.date32()),
        "x": pa.array([2.0, 0.1, 1e-7, -0.0, None, 1.5e300, 3.25, 5e-324, 1e21, 7.0]),
        "y": pa.array([0.1] * n, pa.float32()),
    })
    lines = envelope.encode(table, batch, 100, 7, 10**6).lines.to_pylist()
    monkeypatch.setattr(envelope, "ENCODE_ROWS", 3)  # several joins per batch: the same bytes
    assert envelope.encode(table, batch, 100, 7, 10**6).lines.to_pylist() == lines
    assert len(lines) == n and all(x.endswith(b"}\n") and x.count(b"\n") == 1 for x in lines)
    for i, line in enumerate(lines):
        e = json.loads(line)
        assert e == orjson.loads(line) and list(e) == list(ENVELOPE_KEYS)
        d = e["data"]
        assert d["note"] == AWKWARD[i] and d["who"] == rev[i] and d["kind"] == AWKWARD[i]
        assert e["event_type"] == AWKWARD[i] and e["key"] == rev[i]
        assert e["table"] == "ev" and e["seq"] == 100 + i and isinstance(e["late"], bool)
        assert e["ts"] == d["at"]
        if at[i] is None:
            assert e["ts"] is None and not e["late"]
        else:
            assert e["ts"] == f"2024-06-01T00:00:00.{123456 + i:06d}Z"
        assert d["amount"] == (None if i == 0 else f"{i - 1}.00")
        assert d["day"] == (None if i == n - 1 else f"2024-06-{1 + i:02d}")
        assert d["x"] == batch.column("x")[i].as_py() and d["y"] == 0.1
    assert b'"x":2,' in lines[0] and b'"x":null' in lines[4] and b'"y":0.1}' in lines[0]
    ref = b"".join(b"".join(x.encode() for x in r.to_pylist()) for r in envelope.rows_text(batch))
    rows = [json.loads(x) for x in ref.split(b"\n")[:-1]]
    assert [r["note"] for r in rows] == AWKWARD and [list(r) for r in rows] == [batch.schema.names] * n
