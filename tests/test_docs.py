"""Tested docs: the docs name every generator, check kind, corruption kind and CLI option."""

from __future__ import annotations

import re

import pytest

from generators import BUILTIN_FORMATS
from shared.corruption import CORRUPTIONS, _load
from shared.distributions.base import load_builtins
from shared.docs_gen import DOC_FILE, render
from shared.schema_dsl import jsonschema_doc
from shared.validation.checks import CHECKS
from shared.validation.runner import RUNNER_KINDS
from tests.helpers import ROOT

DOCS = ROOT / "docs"


def test_generator_catalogue_is_current():
    assert DOC_FILE.read_text() == render(), "run `make docs`"


def test_json_schema_is_current():
    assert jsonschema_doc.SCHEMA_FILE.read_text() == jsonschema_doc.render(), "run `make schema`"


def test_every_generator_documented():
    text = DOC_FILE.read_text()
    for name in load_builtins():
        assert f"## {name}\n" in text, name


def test_every_table_key_documented():
    """Each key a table (and a correlation block) may hold appears in docs/dsl.md."""
    text = (DOCS / "dsl.md").read_text()
    defs = jsonschema_doc.build()["$defs"]
    for where in ("table", "correlation"):
        for key in defs[where]["properties"]:
            assert f"`{key}`" in text, (where, key)


def test_every_check_kind_documented():
    text = (DOCS / "validation.md").read_text()
    for kind in [*CHECKS, *RUNNER_KINDS, "foreign_key_cascade"]:
        assert f"`{kind}`" in text, kind


def test_every_corruption_kind_documented():
    _load()
    text = (DOCS / "profiles.md").read_text()
    for kind in CORRUPTIONS:
        assert f"`{kind}`" in text, kind


#: the frontend packages of the built-in formats, from the format registry's table
FRONTENDS = sorted({module.split(".")[1] for module in BUILTIN_FORMATS.values()})


@pytest.mark.parametrize("app_module", ["datagen.cli", *(f"generators.{f}.__main__" for f in FRONTENDS)])
@pytest.mark.parametrize("command", ["describe", "generate", "validate"])
def test_every_cli_option_documented(command, app_module):
    import importlib

    import typer.main

    app = importlib.import_module(app_module).app
    text = (DOCS / "cli.md").read_text()
    group = typer.main.get_command(app)
    cmd = group.commands[command]
    for param in cmd.params:
        for opt in param.opts:
            if opt.startswith("--"):
                assert f"`{opt}`" in text, (command, opt)


def test_every_fit_option_documented():
    """``fit``'s options too (--deep, --epochs …): each in docs/cli.md."""
    import typer.main

    from datagen.cli import app

    text = (DOCS / "cli.md").read_text()
    for param in typer.main.get_command(app).commands["fit"].params:
        for opt in param.opts:
            if opt.startswith("--"):
                assert f"`{opt}`" in text, ("fit", opt)


def test_every_format_option_documented():
    """Each format's ``--option`` keys (what ``--help`` lists) appear in its page under docs/formats."""
    import datagen
    from shared.formats import ALIASES

    pages = {"ndjson": "json", "event_stream": "event_stream"}
    for name in datagen.formats():
        if name in ALIASES:
            continue
        text = (DOCS / "formats" / f"{pages.get(name, name)}.md").read_text()
        for key in datagen.get_format(name).option_help:
            assert f"`{key}`" in text, (name, key)


def test_every_format_extra_check_documented():
    text = (DOCS / "validation.md").read_text()
    for kind in ("parquet_independent_reader", "sqlite_integrity", "sqlite_foreign_key_check", "sqlite_schema",
                 "required_keys", "ordering", "unique_event_id", "event_count", "late_events", "pg_schema", "pg_unique",
                 "pg_foreign_key", "pg_not_null", "pg_range", "pg_allowed", "pg_pattern", "pg_connect", "pg_sql"):
        assert f"`{kind}`" in text, kind


def test_readme_has_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text()
    assert "python3 all-in-one/datagen_bootstrap.py generate --format parquet" in readme
    assert re.search(r"^make test$", readme, re.M)


def test_the_synthohive_example_runs(tmp_path, monkeypatch):
    """docs/fit.md's "Coming from SynthoHive": its Python block runs as written (in a fresh folder,
    where it writes its report, saved synthesizer and Parquet files)."""
    pytest.importorskip("scipy")
    text = (DOCS / "fit.md").read_text(encoding="utf-8")
    section = text.split("## Coming from SynthoHive\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "fit.md: Coming from SynthoHive", "exec"), {})  # noqa: S102 - our own page
    assert (tmp_path / "validation_report.html").is_file()
    assert sorted(p.name for p in (tmp_path / "synthesizer").iterdir()) == ["schema.yaml", "synthesizer.json"]
    assert (tmp_path / "out" / "synthetic" / "orders").is_dir()
