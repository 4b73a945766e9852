"""Nested data: struct and list columns (docs/dsl.md#nested-data).

Every format writes them and ``validate`` reads them back and passes; the bytes do not depend on
the block size or the worker count; each field and each list item is addressable (a block of
rows computed alone equals the same rows of a bigger block); list lengths stay inside their
bounds and follow their distribution; optional keys are present at their rate and left out of
JSON where absent; the value checks run on fields and items; bad nested specs fail with exit 2.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datagen.cli import app
from generators.common.nested_text import from_text, layout_of, to_text
from shared.api import load_schema, resolve_plan
from shared.distributions.nested import element_rows
from shared.schema_dsl.engine import Engine
from tests.helpers import generate_three_ways, make_runner

SCHEMA = """\
version: 1
name: nest
seed: 11
tables:
  - name: people
    rows: 400
    primary_key: id
    columns:
      - {name: id, type: int64, generator: sequence}
      - name: address
        type: struct
        nullable: true
        null_rate: 0.1
        fields:
          - {name: street, type: string, generator: {type: faker, params: {provider: street_address}}}
          - {name: city, type: string, generator: {type: choice, params: {values: [Oslo, Paris, "Zürich \\"Z\\""]}}}
          - {name: zip, type: string, present: 0.7, generator: {type: regex, params: {pattern: '[0-9]{5}'}}}
          - name: geo
            type: struct
            fields:
              - {name: lat, type: float64, min: -90, max: 90}
              - {name: lon, type: 'decimal(9,6)', min: -180, max: 180}
          - {name: phones, type: list, length: {min: 0, max: 2}, items: {type: string, pattern: '[0-9]{8}'}}
      - name: tags
        type: list
        length: {min: 0, max: 4}
        items: {type: string, generator: {type: choice, params: {values: [a, b, c]}}}
      - name: orders
        type: list
        nullable: true
        null_rate: 0.2
        length: {max: 5, distribution: {type: poisson, params: {lam: 1.5}}}
        items:
          type: struct
          fields:
            - {name: sku, type: string, generator: {type: regex, params: {pattern: 'SKU-[0-9]{4}'}}}
            - {name: qty, type: int32, min: 1, max: 9}
            - {name: at, type: date, nullable: true, null_rate: 0.25}
            - {name: paid, type: timestamp}
      - {name: label, type: string, generator: {type: template, params: {template: "{id}-{address.city}"}}}
      - {name: in_oslo, type: bool, generator: {type: expr, params: {expr: 'address.city == "Oslo"'}}}
  - name: visits
    rows: 300
    events: {time: ts, key: person_id, type: visit, late_rate: 0.05}
    columns:
      - {name: ts, type: timestamp, generator: {type: time_series, params: {start: "2024-01-01", step: 30s, jitter: 10s}}}
      - {name: person_id, type: int64, generator: {type: fk, params: {table: people, column: id}}}
      - name: page
        type: struct
        fields:
          - {name: path, type: string, generator: {type: choice, params: {values: [/, /cart, /help]}}}
          - {name: referrer, type: string, present: 0.4, generator: {type: faker, params: {provider: url}}}
      - {name: clicks, type: list, length: {min: 1, max: 3}, items: {type: int32, min: 0, max: 2000}}
"""

FORMATS = ("parquet", "json", "ndjson", "csv", "sqlite", "event_stream")


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("nested") / "nest.yaml"
    p.write_text(SCHEMA, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def table(schema_file) -> pa.Table:
    return Engine(resolve_plan(load_schema(str(schema_file)))).to_arrow("people")


def _validate(out, fmt, schema_file, *extra):
    res = make_runner().invoke(app, ["validate", "--format", fmt, "--schema", str(schema_file), "--out", str(out),
                                     "--json", *extra], env={"COLUMNS": "250"})
    report = json.loads((out / "validation_report.json").read_text())
    return res, report


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_writes_the_same_bytes_and_validates(fmt, schema_file, tmp_path):
    out = generate_three_ways(app, fmt, schema_file, tmp_path)
    res, report = _validate(out, fmt, schema_file)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert res.exit_code == 0 and report["status"] == "pass", failed[:3]
    kinds = {(c["table"], c["kind"], c["column"]) for c in report["checks"]}
    assert {("people", "range", "orders[].qty"), ("people", "not_null", "address.city"),
            ("people", "list_length", "tags"), ("people", "list_length", "address.phones"),
            ("people", "pattern", "address.phones[]"), ("visits", "range", "clicks[]"),
            ("visits", "not_null", "page.path")} <= kinds
    replayed = {c["table"] for c in report["checks"] if c["kind"] == "deterministic_replay" and c["status"] == "pass"}
    assert replayed == {"people", "visits"}


@pytest.mark.parametrize("fmt", ["csv", "sqlite"])
def test_flatten_layout(fmt, schema_file, tmp_path):
    """``--option nested=flatten``: a column per struct field, lists as JSON text; the same bytes
    for any block size and worker count; validate reads it back (a null struct included)."""
    import sqlite3

    runner = make_runner()
    digests = []
    for i, extra in enumerate(((), ("--block-rows", "7", "--workers", "2"))):
        out = tmp_path / f"o{i}"
        res = runner.invoke(app, ["generate", "--format", fmt, "--schema", str(schema_file), "--out", str(out),
                                  "-q", "--option", "nested=flatten", *extra])
        assert res.exit_code == 0, res.output
        digests.append({f["path"]: f["sha256"] for f in json.loads((out / "manifest.json").read_text())["files"]})
    assert digests[0] == digests[1]
    if fmt == "csv":
        names = (tmp_path / "o0" / "people.csv").read_text().split("\n", 1)[0].replace('"', "").split(",")
    else:
        with sqlite3.connect(tmp_path / "o0" / "nest.sqlite") as conn:
            names = [r[1] for r in conn.execute("PRAGMA table_info(people)")]
    assert names[:6] == ["id", "address.street", "address.city", "address.zip", "address.geo.lat", "address.geo.lon"]
    assert names[6:9] == ["address.phones", "tags", "orders"]
    res, report = _validate(tmp_path / "o0", fmt, schema_file)
    assert res.exit_code == 0 and report["status"] == "pass", [c for c in report["checks"] if c["status"] == "fail"]
    assert ("range", "address.geo.lat") in {(c["kind"], c["column"]) for c in report["checks"]}


def test_bad_nested_option_is_refused_before_writing(schema_file, tmp_path):
    out = tmp_path / "o"
    res = make_runner().invoke(app, ["generate", "--format", "csv", "--schema", str(schema_file), "--out", str(out),
                                     "--option", "nested=xml"])
    assert res.exit_code == 2 and "nested=xml" in res.output and not out.exists()


def test_parquet_holds_native_struct_and_list(schema_file, tmp_path):
    out = tmp_path / "o"
    res = make_runner().invoke(app, ["generate", "--format", "parquet", "--schema", str(schema_file), "--out",
                                     str(out), "-q"])
    assert res.exit_code == 0, res.output
    schema = pq.read_schema(next((out / "people").glob("*.parquet")))
    assert pa.types.is_struct(schema.field("address").type)
    assert pa.types.is_list(schema.field("orders").type)
    assert pa.types.is_struct(schema.field("orders").type.value_type)
    assert schema.field("address").type.field("geo").type.field("lon").type == pa.decimal128(9, 6)


def test_struct_fields_are_addressable(schema_file):
    """Rows computed alone (any subset, any order) equal the same rows of the whole table."""
    engine = Engine(resolve_plan(load_schema(str(schema_file))))
    whole = engine.batch("people", 0, 400)
    rows = np.array([399, 0, 17, 18, 250, 3], dtype=np.int64)
    part = engine.rows_batch("people", rows)
    assert part.column(1).equals(whole.column(1).take(pa.array(rows)))  # address
    assert engine.batch("people", 17, 19).column(1).equals(whole.column(1).slice(17, 2))


def test_list_items_are_addressable(schema_file):
    engine = Engine(resolve_plan(load_schema(str(schema_file))))
    whole = engine.batch("people", 0, 400)
    for name in ("tags", "orders"):
        i = whole.schema.get_field_index(name)
        for start, stop in ((0, 1), (5, 12), (399, 400), (123, 300)):
            assert engine.batch("people", start, stop).column(i).equals(whole.column(i).slice(start, stop - start))
        rows = np.array([250, 3, 3, 77], dtype=np.int64)
        assert engine.rows_batch("people", rows).column(i).equals(whole.column(i).take(pa.array(rows)))


def test_a_new_field_leaves_the_others_unchanged(schema_file, tmp_path, table):
    text = SCHEMA.replace("          - {name: street,", "          - {name: floor, type: int8}\n"
                                                       "          - {name: street,")
    p = tmp_path / "more.yaml"
    p.write_text(text, encoding="utf-8")
    more = Engine(resolve_plan(load_schema(str(p)))).to_arrow("people")
    a, b = table.column("address").combine_chunks(), more.column("address").combine_chunks()
    for name in ("street", "city", "zip", "geo", "phones"):
        assert pc.struct_field(a, name).equals(pc.struct_field(b, name)), name
    assert table.column("orders").equals(more.column("orders"))


def test_list_lengths_inside_bounds_and_distributed(table):
    tags = pc.list_value_length(table.column("tags")).to_numpy()
    assert tags.min() >= 0 and tags.max() <= 4
    counts = np.bincount(tags, minlength=5) / len(tags)
    assert np.all(np.abs(counts - 0.2) < 0.08), counts  # uniform in [0, 4]
    orders = table.column("orders").combine_chunks()
    valid = orders.is_valid().to_numpy(zero_copy_only=False)
    assert abs(1 - valid.mean() - 0.2) < 0.08  # null_rate 0.2
    n = pc.list_value_length(orders).to_numpy(zero_copy_only=False)[valid].astype(int)
    assert n.min() >= 0 and n.max() <= 5
    assert abs(n.mean() - 1.5) < 0.3  # poisson(1.5), clipped at 5
    assert abs((n == 0).mean() - np.exp(-1.5)) < 0.08


def test_optional_keys_present_at_their_rate_and_absent_from_json(table, schema_file, tmp_path):
    address = table.column("address").combine_chunks()
    valid = address.is_valid().to_numpy(zero_copy_only=False)
    zip_ok = pc.struct_field(address, "zip").is_valid().to_numpy(zero_copy_only=False)[valid]
    assert abs(zip_ok.mean() - 0.7) < 0.08
    out = tmp_path / "o"
    res = make_runner().invoke(app, ["generate", "--format", "ndjson", "--schema", str(schema_file), "--out",
                                     str(out), "-q"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in (out / "people.ndjson").read_text().splitlines()]
    has_zip = [r["address"] is not None and "zip" in r["address"] for r in lines]
    # struct_field is null where the struct is: the key is there exactly where the value is
    assert has_zip == pc.is_valid(pc.struct_field(address, "zip")).to_pylist()
    assert all(r["address"]["zip"] is not None for r in lines if r["address"] and "zip" in r["address"])
    # a field that is not optional is always there, null or not
    assert all("street" in r["address"] for r in lines if r["address"] is not None)
    assert all(set(o) == {"sku", "qty", "at", "paid"} for r in lines if r["orders"] for o in r["orders"])


def test_struct_fields_can_be_referenced(table):
    city = pc.struct_field(table.column("address").combine_chunks(), "city")
    ids = table.column("id").to_pylist()
    # a reference reads the field's value before the struct's own nulls
    oslo = table.column("in_oslo").to_pylist()
    for i, label, c, o in zip(ids, table.column("label").to_pylist(), city.to_pylist(), oslo, strict=True):
        if c is not None:
            assert label == f"{i}-{c}" and o == (c == "Oslo")


def test_validate_checks_fields_and_items(schema_file, tmp_path):
    out = tmp_path / "o"
    res = make_runner().invoke(app, ["generate", "--format", "parquet", "--schema", str(schema_file), "--out",
                                     str(out), "-q"])
    assert res.exit_code == 0, res.output
    tighter = tmp_path / "tight.yaml"
    tighter.write_text(SCHEMA.replace("{name: qty, type: int32, min: 1, max: 9}", "{name: qty, type: int32, min: 1, "
                                      "max: 4}").replace("length: {min: 0, max: 4}", "length: {min: 0, max: 2}"))
    res, report = _validate(out, "parquet", tighter)
    assert res.exit_code == 1
    failed = {(c["kind"], c["column"]) for c in report["checks"] if c["status"] == "fail"}
    assert {("range", "orders[].qty"), ("list_length", "tags")} <= failed
    qty = next(c for c in report["checks"] if c["kind"] == "range" and c["column"] == "orders[].qty")
    assert 0 < qty["unexpected_count"] < qty["element_count"] and all(5 <= v <= 9 for v in qty["sample"])


def test_dirty_profile_keeps_nested_columns_valid(schema_file, tmp_path):
    out = tmp_path / "o"
    res = make_runner().invoke(app, ["generate", "--format", "json", "--schema", str(schema_file), "--out",
                                     str(out), "-q", "--profile", "dirty"])
    assert res.exit_code == 0, res.output
    res, report = _validate(out, "json", schema_file)
    replay = [c for c in report["checks"] if c["kind"] == "deterministic_replay"]
    assert replay and all(c["status"] == "pass" for c in replay)


def test_list_addresses_past_int64_are_infeasible(schema_file, tmp_path):
    p = tmp_path / "huge.yaml"
    p.write_text(SCHEMA.replace("rows: 400", "rows: 4000000000000000000"))
    res = make_runner().invoke(app, ["describe", "--format", "parquet", "--schema", str(p), "--allow-huge"])
    assert res.exit_code == 2
    assert "element addresses" in res.output and "tables[0].columns[2].length" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("body, message", [
    ("- {name: s, type: struct}", "the struct column 's' needs fields"),
    ("- {name: s, type: list, length: 2}", "the list column 's' needs items"),
    ("- {name: s, type: list, items: {type: string}, length: {min: 3, max: 2}}", "length.max 2 is less than"),
    ("- {name: s, type: list, items: {type: string}, length: {max: 2000000}}", "more than datagen keeps"),
    ("- {name: s, type: string, present: 0.5}", "present applies to the fields of a struct column"),
    ("- {name: s, type: struct, fields: [{name: a, type: int8}], min: 1}", "min does not apply to a struct"),
    ("- {name: s, type: struct, unique: true, fields: [{name: a, type: int8}]}", "unique does not apply"),
    ("- {name: s, type: list, length: 2, items: {type: int8, generator: {type: expr, params: {expr: 'id + 1'}}}}",
     "whose generators cannot read other columns"),
    ("- {name: s, type: list, length: 2, items: {type: string}}\n- {name: t, type: string, generator: "
     "{type: template, params: {template: '{s[]}'}}}", "s[]"),
    ("- {name: s, type: struct, fields: [{name: a, type: int8, hidden: true}]}", "cannot be hidden on its own"),
    ("- {name: s, type: struct, fields: [{name: a, type: string, generator: {type: template, params: "
     "{template: '{s.b}'}}}, {name: b, type: string, generator: {type: template, params: {template: '{s.a}'}}}]}",
     "column references form a cycle: s.a → s.b → s.a"),
])
def test_bad_nested_specs(body, message, write_schema):
    text = ("version: 1\nname: bad\ntables:\n  - name: t\n    rows: 10\n    columns:\n"
            "      - {name: id, type: int64, generator: sequence}\n" + textwrap.indent(body, "      ") + "\n")
    p = write_schema(text)
    res = make_runner().invoke(app, ["describe", "--format", "parquet", "--schema", str(p)])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=40), st.integers(0, 10**6), st.data())
def test_element_addresses_are_distinct_and_per_row(lengths, first, data):
    """Addresses are row · stride + position: distinct, inside the row's span, and the same for a
    row whatever other rows are computed with it."""
    stride = max(lengths) or 1
    rows = np.arange(first, first + len(lengths), dtype=np.int64)
    n = np.asarray(lengths, dtype=np.int64)
    addr = element_rows(rows, n, stride)
    assert len(addr) == n.sum() and len(np.unique(addr)) == len(addr)
    owner = np.repeat(rows, n)
    assert np.all(addr // stride == owner) and np.all(addr % stride < np.repeat(n, n))
    pick = np.asarray(sorted(set(data.draw(st.lists(st.integers(0, len(lengths) - 1), min_size=1)))))
    sub = element_rows(rows[pick], n[pick], stride)
    assert np.array_equal(sub, addr[np.isin(owner, rows[pick])])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 399), st.integers(1, 60), st.sampled_from(["json", "flatten"]))
def test_text_layouts_read_back_what_was_written(table, start, size, layout):
    """CSV/SQLite cells (JSON text, or flattened fields) parse back to the same nested values; a
    flattened null struct comes back as a struct of nulls' equivalent: null."""
    batch = table.slice(start, size).combine_chunks().to_batches()[0]
    text = to_text(batch, layout)
    assert all(not pa.types.is_struct(t) and not pa.types.is_list(t) for t in text.schema.types)
    back = from_text(text, batch.schema, layout_of(text.schema.names, batch.schema))
    for name in ("tags", "orders", "label"):
        assert back.column(name).equals(batch.column(name)), name
    if layout == "json":
        assert back.column("address").equals(batch.column("address"))


def test_describe_lists_the_parts(schema_file):
    res = make_runner().invoke(app, ["describe", "--format", "parquet", "--schema", str(schema_file), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    cols = {c["name"]: c for c in info["tables"][0]["columns"]}
    assert cols["address.zip"]["part_of"] == "address" and cols["address.zip"]["present"] == 0.7
    assert cols["orders[].qty"]["part_of"] == "orders[]" and cols["orders[]"]["part_of"] == "orders"
    assert cols["orders"]["length"] == {"min": 0, "max": 5, "distribution": "poisson(lam=1.5)"}
    assert cols["address"]["generator_default"] == "a struct column"
    checks = {(f["column"], f["check"]): f for f in info["feasibility"]}
    assert checks[("tags", "list_items")]["ok"] and checks[("tags", "list_items")]["needed"] == 400 * 4
    assert checks[("address.phones", "list_items")]["needed"] == 400 * 2
    res = make_runner().invoke(app, ["describe", "--format", "parquet", "--schema", str(schema_file)],
                               env={"COLUMNS": "250"})
    assert "present in 70%" in res.stdout and "0..5 items (poisson(lam=1.5))" in res.stdout


def test_a_hidden_struct_is_a_helper(write_schema):
    """A hidden struct is computed and its fields read by other columns, never written."""
    p = write_schema("""\
        version: 1
        name: h
        tables:
          - name: p
            rows: 20
            columns:
              - {name: id, type: int64, generator: sequence}
              - name: person
                type: struct
                hidden: true
                fields:
                  - {name: first, type: string, generator: {type: faker, params: {provider: first_name}}}
                  - {name: last, type: string, generator: {type: faker, params: {provider: last_name}}}
              - {name: full, type: string, generator: {type: template, params: {template: "{person.first} {person.last}"}}}
        """)
    schema = load_schema(str(p))
    data = Engine(resolve_plan(schema)).to_arrow("p")
    assert data.column_names == ["id", "full"]
    assert all(len(v.split(" ")) >= 2 for v in data.column("full").to_pylist())


def test_a_sequence_inside_items_is_checked_over_element_addresses(write_schema):
    """Items are computed at row × length.max + position: the planner checks a sequence there
    over every address, not over the rows."""
    p = write_schema("""\
        version: 1
        name: s
        tables:
          - name: p
            rows: 100
            columns:
              - {name: id, type: int64, generator: sequence}
              - {name: l, type: list, length: 3, items: {type: int8, generator: sequence}}
        """)
    res = make_runner().invoke(app, ["describe", "--format", "parquet", "--schema", str(p)])
    assert res.exit_code == 2 and "sequence 1..300" in res.output and "tables[0].columns[1].items" in res.output


@pytest.mark.parametrize(("fmt", "options"), [("csv", ()), ("csv", ("--option", "nested=flatten")), ("json", ()),
                                              ("parquet", ())])
def test_nested_tables_with_text_dirt_and_added_rows_validate(tmp_path, fmt, options):
    """A text-dirt column travels to a text format as a (value, text) struct of its own: the
    nested layouts convert only the table's struct and list columns, never that one."""
    from datagen.cli import app
    from tests.helpers import EXAMPLES_DIR, make_runner

    runner = make_runner()
    schema = str(EXAMPLES_DIR / "catalog.yaml")
    out = tmp_path / "o"
    res = runner.invoke(app, ["generate", "--schema", schema, "--format", fmt, "--out", str(out), "-q", *options,
                              "--corrupt", "type_noise=0.05", "--corrupt", "date_formats=0.05",
                              "--corrupt", "near_duplicates=0.05", "--workers", "2", "--block-rows", "333"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["validate", "--schema", schema, "--format", fmt, "--out", str(out), "--json"])
    report = json.loads(res.stdout)
    assert res.exit_code == 0, [c for c in report["checks"] if c["status"] == "fail"][:3]
