"""Helper columns marked ``hidden: true`` (issue 12, item 7): computed and referenceable — by
templates and expressions of the same row and through foreign keys — never written, in any
format, by any number of workers; the values that read them are the ones a visible helper gives."""

from __future__ import annotations

import textwrap

import pyarrow.parquet as pq
import pytest

import datagen
from shared import api
from shared.errors import SchemaError

SCHEMA = textwrap.dedent("""\
    version: 1
    name: hid
    seed: 4
    tables:
      - name: users
        rows: 300
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: first, type: string, hidden: true, generator: {type: faker, params: {provider: first_name}}}
          - {name: last, type: string, hidden: true, generator: {type: faker, params: {provider: last_name}}}
          - {name: full, type: string, generator: {type: template, params: {template: "{first} {last}"}}}
          - {name: base, type: float64, hidden: true, generator: {type: uniform_float, params: {min: 1, max: 2}}}
          - {name: doubled, type: float64, generator: {type: expr, params: {expr: "base * 2"}}}
      - name: orders
        rows: 2000
        columns:
          - {name: user_id, type: int64, generator: {type: fk, params: {table: users, column: id}}}
          - {name: who, type: string, generator: {type: template, params: {template: "{user_id.first}"}}}
          - {name: secret, type: int64, hidden: true, generator: {type: uniform_int, params: {min: 1, max: 9}}}
          - {name: n, type: int64, generator: {type: expr, params: {expr: "secret + 1"}}}
    """)


def _write(tmp_path, text: str, name: str = "hid.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_hidden_columns_are_computed_but_never_in_memory_output(tmp_path):
    hidden = datagen.to_arrow(str(_write(tmp_path, SCHEMA)))
    visible = datagen.to_arrow(str(_write(tmp_path, SCHEMA.replace("hidden: true", "hidden: false"), "vis.yaml")))
    assert hidden["users"].column_names == ["id", "full", "doubled"]
    assert hidden["orders"].column_names == ["user_id", "who", "n"]
    for t in ("users", "orders"):  # the same values as when the helpers are written
        assert hidden[t].equals(visible[t].select(hidden[t].column_names)), t
    users = visible["users"].to_pydict()
    assert users["full"][:5] == [f"{a} {b}" for a, b in zip(users["first"][:5], users["last"][:5], strict=True)]
    first = dict(zip(users["id"], users["first"], strict=True))
    orders = visible["orders"].to_pydict()
    assert all(w == first[u] for u, w in zip(orders["user_id"], orders["who"], strict=True))
    assert all(n == s + 1 for n, s in zip(orders["n"], orders["secret"], strict=True))


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "parquet", "sqlite", "event_stream"])
def test_hidden_columns_are_never_written_and_validate_passes(tmp_path, runner, fmt):
    from datagen.cli import app

    path = _write(tmp_path, SCHEMA)
    out = tmp_path / "out"
    for extra in ([], ["--profile", "dirty"]):
        result = runner.invoke(app, ["generate", "--format", fmt, "--schema", str(path), "--out", str(out), "-q",
                                     "--force", *extra])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["validate", "--format", fmt, "--schema", str(path), "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        blob = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != "validation_report.json"
                        and p.name != "manifest.json")
        for name in (b"first", b"last", b"base", b"secret"):
            assert b'"' + name + b'"' not in blob and b"," + name + b"," not in blob, (fmt, name)


def test_workers_and_block_sizes_give_the_same_bytes(tmp_path):
    path = _write(tmp_path, SCHEMA)
    a, b = tmp_path / "a", tmp_path / "b"
    datagen.generate(str(path), format="parquet", out=a, workers=1)
    datagen.generate(str(path), format="parquet", out=b, workers=2, block_rows=97)
    for t in ("users", "orders"):
        assert pq.read_table(a / t).equals(pq.read_table(b / t))


def test_describe_shows_hidden_columns(tmp_path, runner):
    from datagen.cli import app

    result = runner.invoke(app, ["describe", "--format", "csv", "--schema", str(_write(tmp_path, SCHEMA))],
                           env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert result.output.count("hidden (not written)") == 4
    info = api.describe(api.resolve_plan(api.load_schema(str(_write(tmp_path, SCHEMA)))))
    assert [c["hidden"] for c in info["tables"][0]["columns"]] == [False, True, True, False, True, False]


@pytest.mark.parametrize("change, path, message", [
    ("{name: id, type: int64, generator: sequence}", "tables[0].columns[0].hidden",
     "a primary key column is written: 'id' cannot be hidden"),
    ("{name: user_id, type: int64, generator: {type: fk, params: {table: users, column: id}}}",
     "tables[1].columns[0].hidden", None),
])
def test_what_the_output_is_keyed_by_cannot_be_hidden(tmp_path, change, path, message):
    text = SCHEMA.replace(change, change[:-1] + ", hidden: true}")
    if message is None:  # hiding an fk that is not an owner is allowed: the link is simply not written
        api.load_schema(str(_write(tmp_path, text)))
        return
    with pytest.raises(SchemaError) as exc:
        api.load_schema(str(_write(tmp_path, text)))
    assert any(p.path == path and message in p.message for p in exc.value.problems), exc.value.render()


def test_meaningless_settings_on_hidden_columns_are_refused(tmp_path):
    text = SCHEMA.replace("{name: secret, type: int64, hidden: true,",
                          "{name: secret, type: int64, hidden: true, nullable: true, null_rate: 0.1,")
    with pytest.raises(SchemaError) as exc:
        api.load_schema(str(_write(tmp_path, text)))
    assert "so null_rate has no effect" in exc.value.render()
    every = SCHEMA.replace("{name: user_id, type: int64, generator:", "{name: user_id, type: int64, hidden: true, generator:")
    every = every.replace("{name: who, type: string, generator:", "{name: who, type: string, hidden: true, generator:")
    every = every.replace("{name: n, type: int64, generator:", "{name: n, type: int64, hidden: true, generator:")
    with pytest.raises(SchemaError) as exc:
        api.load_schema(str(_write(tmp_path, every)))
    assert "every column of table 'orders' is hidden: nothing would be written" in exc.value.render()


def test_a_foreign_key_to_a_hidden_column_is_refused(tmp_path):
    text = SCHEMA.replace("{name: base, type: float64, hidden: true,",
                          "{name: code, type: int64, unique: true, hidden: true, generator: sequence}\n"
                          "      - {name: base, type: float64, hidden: true,")
    text += ("      - {name: by_code, type: int64, generator: {type: fk, params: {table: users, column: code}}}\n")
    with pytest.raises(SchemaError) as exc:
        api.load_schema(str(_write(tmp_path, text)))
    assert "foreign key orders.by_code references users.code, which is hidden (never written)" in exc.value.render()
