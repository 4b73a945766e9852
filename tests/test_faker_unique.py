"""Unique faker values that look real (issue 12, item 13): distinct by construction, addressable,
bounded by a capacity the planner checks, ``max_length`` kept whole; provider ``args``; the
generated list of providers (docs/faker-providers.md)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import datagen  # noqa: F401  (registers the built-in formats)
from generators import BUILTIN_FORMATS
from shared.api import Engine, load_schema, resolve_plan
from shared.distributions import faker_unique as fu
from shared.distributions.base import GENERATORS, load_builtins
from shared.distributions.pools import faker_pool
from shared.docs_gen import FAKER_DOC_FILE, render_faker_providers
from shared.errors import InfeasibleSchema, SchemaError
from shared.model.schema import Table
from shared.schema_dsl.context import ColumnContext
from tests.gen_helpers import make_column
from tests.helpers import file_formats

load_builtins()

CODE = re.compile(r"#[0-9a-z]{6}")
#: what each family's values look like (a number only where real data has one)
SHAPES = {
    "email": re.compile(r"[^@\s]+@[^@\s]+"),
    "user_name": re.compile(r"[a-z._]+([2-9]|[1-9][0-9]+)?"),
    "name": re.compile(r"[^\s\d]+ [^\s\d]+"),
    "city": re.compile(r"\D+( ([2-9]|[1-9][0-9]+))?"),
    "first_name": re.compile(r"[^\s\d]+"),
}


def unique_values(provider, rows, *, seed=3, pool_size=None, max_length=None, n_total=None, locale="en_US"):
    params = {"provider": provider, **({"pool_size": pool_size} if pool_size else {})}
    column = make_column(type="string", generator="faker", params=params, unique=True, max_length=max_length)
    idx = np.asarray(rows, dtype=np.int64)
    table = Table(name="t", rows=1, columns=(column,), path="tables[0]")
    ctx = ColumnContext(seed=seed, table=table, column=column, params=column.generator.params, rows=idx,
                        n_total=n_total or int(idx.max(initial=0)) + 1, profile="fast", locale=locale, unique=True)
    return GENERATORS["faker"].generate(ctx).to_pylist()


def capacity_of(provider, pool_size, seed=3, max_length=None, rows=0):
    return fu.domain_for(provider, "en_US", pool_size, seed, None, max_length, rows if max_length else 0).capacity


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**40), provider=st.sampled_from(sorted(SHAPES)), pool_size=st.integers(8, 60),
       fill=st.floats(0.05, 1.0), cut=st.integers(1, 500))
def test_unique_by_construction_block_independent_and_real(seed, provider, pool_size, fill, cut):
    """Rows up to the capacity (at most 4,000) are distinct, the same computed in two blocks or
    one row at a time, look like the provider's values and never carry a ``#xxxxxx`` code."""
    cap = capacity_of(provider, pool_size, seed)
    assert cap >= 1
    n = max(1, min(4_000, int(cap * fill)))
    whole = unique_values(provider, np.arange(n), seed=seed, pool_size=pool_size, n_total=n)
    assert len(set(whole)) == n
    k = cut % n
    parts = (unique_values(provider, np.arange(k), seed=seed, pool_size=pool_size, n_total=n) if k else []) + \
        unique_values(provider, np.arange(k, n), seed=seed, pool_size=pool_size, n_total=n)
    assert parts == whole
    pick = np.random.default_rng(seed).permutation(n)[:50]
    assert unique_values(provider, pick, seed=seed, pool_size=pool_size, n_total=n) == [whole[i] for i in pick]
    assert not any(CODE.search(v) for v in whole)
    assert all(SHAPES[provider].fullmatch(v) for v in whole), [v for v in whole if not SHAPES[provider].fullmatch(v)]


def test_capacity_per_family():
    """exact: the distinct pool values; person: first × last; the numbered families × 9,999."""
    first = set(faker_pool("first_name", "en_US", 40, 3).to_pylist())
    last = set(faker_pool("last_name", "en_US", 40, 3).to_pylist())
    assert capacity_of("first_name", 40) == len(first)
    assert capacity_of("name", 40) == len({f for f in first if " " not in f}) * len({v for v in last if " " not in v})
    users = {u.rstrip("0123456789") for u in faker_pool("user_name", "en_US", 40, 3).to_pylist()}
    assert capacity_of("user_name", 40) == len(users) * fu.LAYERS
    assert fu.family_of("free_email") == "email" and fu.family_of("name", has_args=True) == "exact"


def test_numbers_appear_only_after_every_plain_value():
    """Layer 0 holds each base once (no number); a number shows only beyond the base count, from 2."""
    d = len(fu.domain_for("user_name", "en_US", 30, 3, None, None, 0).bases)
    v = unique_values("user_name", np.arange(3 * d), pool_size=30)
    assert not any(re.search(r"\d$", s) for s in v[:d])
    assert all(s.endswith("2") for s in v[d:2 * d]) and all(s.endswith("3") for s in v[2 * d:])
    emails = unique_values("email", np.arange(2 * d), pool_size=30)
    assert all(re.fullmatch(r"[^@]*\D@.+", e) for e in emails[:d]) and all("2@" in e for e in emails[d:])


@pytest.mark.parametrize("provider, max_length", [("email", 22), ("user_name", 8), ("name", 11), ("city", 11),
                                                  ("sentence", 12)])
def test_max_length_keeps_values_whole_and_distinct(provider, max_length):
    n = 150
    assert capacity_of(provider, 200, max_length=max_length, rows=n) >= n
    v = unique_values(provider, np.arange(n), pool_size=200, max_length=max_length, n_total=n)
    assert len(set(v)) == n and max(map(len, v)) <= max_length
    if provider != "sentence":  # other text is cut, then deduplicated; these are never cut
        assert all(SHAPES[provider].fullmatch(s) for s in v)


def _engine(tmp_path, text, **kw):
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text))
    return Engine(resolve_plan(load_schema(str(path)), **kw))


def test_planner_reports_capacity_and_refuses_more_rows(tmp_path):
    text = """
        version: 1
        name: u
        tables:
          - name: t
            rows: {rows}
            columns:
              - {{name: c, type: string, unique: true, generator: {{type: faker, params: {{provider: country}}}}}}
    """
    eng = _engine(tmp_path, text.format(rows=100))
    (feas,) = [f for f in eng.plan.feasibility if f.column == "c"]
    assert feas.ok and 150 < feas.capacity < 300  # the countries of the world, each once
    assert len(set(eng.to_arrow("t").column("c").to_pylist())) == 100
    with pytest.raises(InfeasibleSchema) as info:
        _engine(tmp_path, text.format(rows=1000))
    [p] = info.value.problems
    assert p.path == "tables[0].columns[0].generator" and "domain holds" in p.message and "1,000 rows" in p.message
    assert "pool_size" in p.hint


def test_provider_args_generate_and_key_the_pool(tmp_path):
    eng = _engine(tmp_path, """
        version: 1
        name: a
        tables:
          - name: t
            rows: 300
            columns:
              - name: young
                type: string
                generator: {type: faker, params: {provider: date_of_birth, args: {minimum_age: 18, maximum_age: 20}}}
              - name: old
                type: string
                generator: {type: faker, params: {provider: date_of_birth, args: {maximum_age: 90, minimum_age: 80}}}
              - {name: n, type: string, generator: {type: faker, params: {provider: pyint, args: {min_value: 5, max_value: 9}}}}
    """)
    t = eng.to_arrow("t")
    today = dt.date.today()
    young = [dt.date.fromisoformat(s) for s in t.column("young").to_pylist()]
    old = [dt.date.fromisoformat(s) for s in t.column("old").to_pylist()]
    assert all(17 <= (today - d).days / 365.25 <= 22 for d in young)
    assert all(79 <= (today - d).days / 365.25 <= 92 for d in old)
    assert set(t.column("n").to_pylist()) <= {"5", "6", "7", "8", "9"}
    # same args in any order: one pool key; other args: another pool
    from shared.distributions.pools import args_key
    assert args_key({"b": 1, "a": 2}) == args_key({"a": 2, "b": 1}) != args_key({"a": 3, "b": 1})
    assert args_key({}) is None


def test_provider_args_errors_at_load(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent("""
        version: 1
        name: a
        tables:
          - name: t
            rows: 3
            columns:
              - name: d
                type: string
                generator: {type: faker, params: {provider: date_of_birth, args: {minimum_agee: 18}}}
    """))
    with pytest.raises(SchemaError) as info:
        load_schema(str(path))
    [p] = info.value.problems
    assert p.path.endswith("generator.params.args.minimum_agee") and "did you mean 'minimum_age'" in p.hint


@pytest.mark.parametrize("fmt", file_formats())
def test_every_format_generates_and_validates_a_unique_email(fmt, tmp_path, runner):
    schema = tmp_path / "s.yaml"
    schema.write_text(textwrap.dedent("""
        version: 1
        name: mails
        seed: 5
        tables:
          - name: users
            rows: 400
            primary_key: id
            columns:
              - {name: id, type: int64, generator: sequence}
              - name: email
                type: string
                unique: true
                max_length: 40
                generator: {type: faker, params: {provider: email, pool_size: 100}}
              - {name: ts, type: timestamp, generator: {type: uniform_date, params: {start: "2024-01-01", end: "2024-12-31"}}}
    """))
    module = BUILTIN_FORMATS.get(fmt)
    app = importlib.import_module(f"{module.rsplit('.', 1)[0]}.__main__" if module else "datagen.cli").app
    out = tmp_path / "out"
    res = runner.invoke(app, ["generate", "--format", fmt, "--schema", str(schema), "--out", str(out), "-q",
                              "--workers", "1"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["validate", "--format", fmt, "--schema", str(schema), "--out", str(out), "--json"])
    report = json.loads((out / "validation_report.json").read_text())
    assert res.exit_code == 0 and report["status"] == "pass", [c for c in report["checks"] if c["status"] == "fail"]
    emails = Engine(resolve_plan(load_schema(str(schema)))).to_arrow("users").column("email").to_pylist()
    assert len(set(emails)) == 400 and any("2@" in e for e in emails) and not any(CODE.search(e) for e in emails)


def test_faker_provider_list_is_current():
    assert FAKER_DOC_FILE.read_text() == render_faker_providers(), "run `make docs`"
    text = FAKER_DOC_FILE.read_text()
    for provider in ("email", "user_name", "name", "date_of_birth", "city"):
        assert f"| `{provider}` |" in text
    assert "minimum_age=0, maximum_age=115`" in text


def test_person_names_follow_the_locale_order():
    """A unique name in ja_JP is family name first, as the locale's own format writes it."""
    ja = fu.domain_for("name", "ja_JP", 60, 3, None, None, 0)
    en = fu.domain_for("name", "en_US", 60, 3, None, None, 0)
    assert ja.last_first and not en.last_first
    v = unique_values("name", np.arange(200), pool_size=60, locale="ja_JP")
    lasts = set(faker_pool("last_name", "ja_JP", 60, 3).to_pylist())
    assert len(set(v)) == 200 and all(s.split(" ")[0] in lasts for s in v)
