"""Typed configuration objects (issue 13, item 1): the DSL as Python objects — built in code,
loaded from YAML/JSON, overridden, validated with every error at once — one definition with the
files: the same documents, the same messages at the same paths, lossless round trips."""

from __future__ import annotations

import inspect
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datagen
from datagen import Column, ConfigValidationError, RowsOf, RowsPer, Schema, Table, gen
from datagen.config import Generator
from shared.errors import SchemaError
from tests.helpers import EXAMPLES


def _read(path):
    """A schema file's document as datagen reads it (YAML 1.2 scalars: ``on`` is a key, not True)."""
    from shared.schema_dsl.source import read_document

    return read_document(str(path))[0]


def _shop() -> Schema:
    return Schema(name="shop", seed=3, tables=[
        Table(name="customers", rows=200, primary_key="id", columns=[
            Column(name="id", type="int64", generator=gen.sequence()),
            Column(name="first", type="string", generator=gen.faker("first_name")),
            Column(name="age", type="int32", generator=gen.normal(40, 12), min=18, max=90),
        ]),
        Table(name="orders", rows=RowsPer(per="customers", distribution=gen.poisson(2), max=9), columns=[
            Column(name="customer_id", type="int64", generator=gen.fk("customers", skew=gen.zipf(1.2))),
            Column(name="amount", type="decimal(10,2)", generator=gen.lognormal(mean=3, sigma=1)),
        ]),
    ])


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_round_trips_exactly(example):
    raw = _read(example)
    obj = Schema.load(example)
    assert obj.to_dict() == raw
    again = Schema.from_yaml(obj.to_yaml())
    assert again == obj and again.to_dict() == raw
    assert Schema.from_json(obj.to_json()).to_dict() == raw
    # the objects load to the same model the file does (same tables, columns, generators)
    a, b = datagen.load_schema(str(example)), datagen.load_schema(obj)
    assert [(t.name, t.rows, [(c.name, c.dtype, c.generator.type, dict(c.generator.params)) for c in t.columns])
            for t in a.tables] == \
        [(t.name, t.rows, [(c.name, c.dtype, c.generator.type, dict(c.generator.params)) for c in t.columns])
         for t in b.tables]


def test_objects_built_in_code_generate_what_the_same_yaml_generates(tmp_path):
    shop = _shop()
    path = tmp_path / "shop.yaml"
    path.write_text(shop.to_yaml())
    from_file, from_objects = datagen.to_arrow(str(path)), datagen.to_arrow(shop)
    assert from_file.keys() == from_objects.keys() == {"customers", "orders"}
    for name in from_file:
        assert from_file[name].equals(from_objects[name]), name
    a = datagen.generate(shop, format="csv", out=tmp_path / "a")
    b = datagen.generate(str(path), format="csv", out=tmp_path / "b")
    digest = {f["path"]: f["sha256"] for f in a.manifest["files"] if f["table"]}
    assert digest == {f["path"]: f["sha256"] for f in b.manifest["files"] if f["table"]}


def test_gen_constructors_follow_each_generators_parameters():
    assert gen.normal(40, 12).to_dict() == {"type": "normal", "params": {"mean": 40, "std": 12}}
    assert gen.faker("first_name").to_dict() == {"type": "faker", "params": {"provider": "first_name"}}
    assert gen.fk("customers", skew=gen.zipf(1.2)).to_dict() == \
        {"type": "fk", "params": {"table": "customers", "skew": {"type": "zipf", "params": {"a": 1.2}}}}
    assert gen.sequence().to_dict() == {"type": "sequence"}
    assert repr(gen.uniform_int(min=1, max=6)) == "gen.uniform_int(min=1, max=6)"
    sig = inspect.signature(gen.time_series)
    assert list(sig.parameters)[:2] == ["start", "step"]
    assert sig.parameters["start"].default is inspect.Parameter.empty and sig.parameters["jitter"].default is None
    assert set(gen.names()) >= {"normal", "faker", "fk", "switch", "random_walk"}
    assert all(isinstance(getattr(gen, n)(), Generator) for n in gen.names() if not
               inspect.signature(getattr(gen, n)).parameters or all(
                   p.default is None for p in inspect.signature(getattr(gen, n)).parameters.values()))
    with pytest.raises(TypeError, match=r"gen.normal\(\) got an unexpected parameter 'sd' \(did you mean 'std'\?\)"):
        gen.normal(sd=3)
    with pytest.raises(TypeError, match=r"takes at most 2 positional"):
        gen.normal(1, 2, 3)
    with pytest.raises(TypeError, match="got parameter 'mean' twice"):
        gen.normal(1, mean=2)
    with pytest.raises(AttributeError, match=r"no generator 'normall' \(did you mean 'normal'\?\)"):
        gen.normall  # noqa: B018


def test_unknown_keys_in_constructors_and_immutability():
    with pytest.raises(TypeError, match=r"Column\(\) got an unexpected keyword 'nulable' \(did you mean 'nullable'\?\)"):
        Column(name="a", type="int32", nulable=True)
    c = Column(name="a", type="int32", min=1)
    assert c.min == 1 and c.max is None and c.name == "a"
    with pytest.raises(AttributeError, match="immutable"):
        c.min = 3  # type: ignore[misc]
    assert c.replace(min=None, max=9).to_dict() == {"name": "a", "type": "int32", "max": 9}
    assert c.to_dict() == {"name": "a", "type": "int32", "min": 1}
    with pytest.raises(AttributeError, match=r"no key 'mni' \(did you mean 'min'\?\)"):
        c.mni  # noqa: B018


def test_override_merges_deeply_by_name_and_leaves_the_base_alone():
    base = _shop()
    before = base.to_dict()
    new = base.override(
        seed=9,
        tables={
            "customers": {"rows": 50, "columns": {"age": {"max": 70}, "first": None,
                                                  "email": Column(type="string", generator=gen.faker("email"))}},
            "orders": {"rows": {"max": 3}},
            "notes": Table(rows=5, columns=[Column(name="n", type="int32", generator=gen.sequence())]),
        },
    )
    assert base.to_dict() == before
    d = new.to_dict()
    assert d["seed"] == 9
    cust = new.table("customers").to_dict()
    assert cust["rows"] == 50
    assert [c["name"] for c in cust["columns"]] == ["id", "age", "email"]
    assert cust["columns"][1] == {"name": "age", "type": "int32", "generator": {"type": "normal", "params":
                                  {"mean": 40, "std": 12}}, "min": 18, "max": 70}
    assert new.table("orders").rows.to_dict() == {"per": "customers", "distribution": {"type": "poisson", "params":
                                                  {"lam": 2}}, "max": 3}
    assert new.table("notes").to_dict()["name"] == "notes"
    assert [t["name"] for t in new.override(tables={"notes": None}).to_dict()["tables"]] == ["customers", "orders"]
    # a list replaces what was there
    assert new.override(tables={"customers": {"primary_key": ["id", "age"]}}).table("customers").primary_key == \
        ["id", "age"]
    new.validate()
    assert datagen.to_arrow(new)["customers"].column_names == ["id", "age", "email"]


def test_validate_lists_every_problem_with_its_path_and_value():
    bad = _shop().override(tables={"customers": {"colums": [], "columns": {
        "age": {"nullable": "yes"}, "first": {"generator": {"type": "faker", "params": {"provider": "first_name",
                                                                                          "sizee": 3}}}}}})
    with pytest.raises(ConfigValidationError) as exc:
        bad.validate()
    err = exc.value
    assert isinstance(err, SchemaError) and err.exit_code == 2
    by_path = {e["path"]: e for e in err.errors}
    assert by_path["tables[0].columns[2].nullable"]["value"] == "yes"
    assert by_path["tables[0].columns[1].generator.params.sizee"] == {
        "path": "tables[0].columns[1].generator.params.sizee", "message": "unknown key 'sizee'", "value": 3,
        "hint": "allowed keys: provider, locale, pool_size, args"}
    assert by_path["tables[0].colums"]["value"] == []
    assert str(err) == "the configuration has 3 problems"
    assert "<shop>: tables[0].colums" in err.render()  # no line numbers: the objects have none
    # a later stage's problem, once the document's shape is right
    with pytest.raises(ConfigValidationError) as exc:
        _shop().override(tables={"customers": {"columns": {"age": {"type": "int33"}}}}).validate()
    assert exc.value.errors[0]["path"] == "tables[0].columns[2].type" and exc.value.errors[0]["value"] == "int33"
    # the planner's feasibility analysis is part of validate()
    infeasible = _shop().override(tables={"customers": {"columns": {
        "first": {"unique": True, "generator": gen.choice(values=["a", "b"])}}}})
    with pytest.raises(ConfigValidationError) as exc:
        infeasible.validate()
    assert exc.value.errors[0]["path"].startswith("tables[0].columns[1]")
    infeasible.validate(plan=False)  # the document itself is valid


@pytest.mark.parametrize("example", EXAMPLES[:3], ids=lambda p: p.stem)
def test_broken_documents_give_the_files_messages_at_the_files_paths(example, tmp_path):
    raw = _read(example)
    raw["tables"][0]["columns"][0]["type"] = "int33"
    raw["tables"][-1]["rows"] = -4
    raw["tables"][0]["colums"] = []
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(SchemaError) as from_file:
        datagen.load_schema(str(path))
    with pytest.raises(ConfigValidationError) as from_objects:
        Schema.load(path).validate(plan=False)
    assert [(p.path, p.message, p.hint) for p in from_file.value.problems] == \
        [(e["path"], e["message"], e["hint"]) for e in from_objects.value.errors]


def test_a_loaded_model_is_a_schema_and_the_model_class_stays_exported():
    model = datagen.load_schema(str(EXAMPLES[0]))
    assert isinstance(model, datagen.Schema) and isinstance(model, datagen.SchemaModel)
    assert not isinstance(_shop(), datagen.SchemaModel)
    assert isinstance(_shop(), datagen.Schema)
    assert isinstance(RowsOf(of="a", coverage=0.5), datagen.RowsOf)


_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False,
                                                                                      allow_infinity=False),
                    st.text(max_size=8))
_JSON = st.recursive(_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                     max_leaves=12)
_GEN = st.one_of(st.sampled_from(["sequence", "uuid4", "nope"]),
                 st.fixed_dictionaries({"type": st.sampled_from(["normal", "fk", "x"])},
                                       optional={"params": st.dictionaries(st.text(max_size=5), _JSON, max_size=3)}))
_COLUMN = st.fixed_dictionaries({"name": st.text(max_size=5)}, optional={
    "type": st.sampled_from(["int32", "string", "varchar(9)", "bad"]), "generator": _GEN, "min": _JSON,
    "extra": _JSON})
_TABLE = st.fixed_dictionaries({"name": st.text(max_size=5)}, optional={
    "rows": st.one_of(st.integers(-3, 50), st.fixed_dictionaries({"per": st.text(max_size=3)},
                                                                 optional={"distribution": _GEN, "max": _JSON}),
                      st.fixed_dictionaries({"of": st.text(max_size=3), "coverage": _SCALAR}), _JSON),
    "columns": st.one_of(st.lists(st.one_of(_COLUMN, _JSON), max_size=3), _JSON),
    "events": st.one_of(st.fixed_dictionaries({"time": st.text(max_size=3)}), _JSON),
    "indexes": st.lists(st.one_of(st.fixed_dictionaries({"columns": _JSON}), _JSON), max_size=2)})
_DOC = st.fixed_dictionaries({}, optional={
    "version": _SCALAR, "name": _SCALAR, "seed": _SCALAR, "tables": st.one_of(st.lists(st.one_of(_TABLE, _JSON),
                                                                                       max_size=3), _JSON),
    "unknown": _JSON})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_DOC)
def test_any_document_round_trips_through_the_objects(doc):
    obj = Schema.from_dict(doc)
    assert obj.to_dict() == doc
    assert json.loads(obj.to_json()) == json.loads(json.dumps(doc))
    assert Schema.from_yaml(obj.to_yaml()).to_dict() == doc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_DOC)
def test_objects_and_documents_are_refused_alike(doc):
    try:
        datagen.load_schema(doc, name="<x>")
        file_problems = None
    except SchemaError as exc:
        file_problems = [(p.path, p.message) for p in exc.problems]
    try:
        Schema.from_dict(doc).validate(plan=False)
        obj_problems = None
    except ConfigValidationError as exc:
        obj_problems = [(e["path"], e["message"]) for e in exc.errors]
    if file_problems is None or obj_problems is None:
        assert file_problems == obj_problems
    else:
        assert obj_problems == file_problems or (not file_problems and len(obj_problems) == 1)
