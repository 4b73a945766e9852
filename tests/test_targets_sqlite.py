"""An existing SQLite file as a target: ``--target PATH --mode create|truncate|append`` (sdgen's
names too), every example schema in each mode, validated with ``--target``; named SQLite targets
from ``targets/*.yaml``."""

from __future__ import annotations

import json
import sqlite3

import pytest

from datagen.cli import app
from shared.api import load_schema
from tests.helpers import EXAMPLES, make_runner, output_text


def run(*args, env=None):
    res = make_runner().invoke(app, [str(a) for a in args], env={"COLUMNS": "250", **(env or {})})
    return res.exit_code, output_text(res)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_into_an_existing_file_in_each_mode(example, tmp_path):
    db = tmp_path / "app.db"
    sqlite3.connect(db).close()  # an existing, empty database
    out = tmp_path / "out"
    base = ("--format", "sqlite", "--schema", example, "--out", out, "--target", db)
    tables = [t.name for t in load_schema(str(example)).tables]
    for mode in ("create_if_missing", "truncate", "append_only"):
        if mode == "append_only":  # into the existing, emptied tables
            conn = sqlite3.connect(db)
            conn.executescript("".join(f'DELETE FROM "{t}";' for t in reversed(tables)))
            conn.close()
        code, text = run("generate", *base, "--mode", mode, "-q", "--workers", "1", "--force")
        assert code == 0, (mode, text)
        code, text = run("validate", *base, "--json")
        report = json.loads((out / "validation_report.json").read_text())
        failed = [c for c in report["checks"] if c["status"] == "fail"]
        assert code == 0 and report["status"] == "pass", (mode, failed[:5])
        assert json.loads((out / "manifest.json").read_text())["sqlite"]["mode"] == mode.split("_")[0]


def test_create_into_a_mismatched_table_names_it_and_changes_nothing(tmp_path):
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE customers (customer_id TEXT PRIMARY KEY)")
    conn.close()
    before = db.read_bytes()
    code, text = run("generate", "--format", "sqlite", "--target", db, "--mode", "create", "--out", tmp_path / "o")
    assert code == 2 and "does not fit the schema; nothing was changed" in text and "customers" in text, text
    assert db.read_bytes() == before and not (tmp_path / "o").exists()


def test_named_sqlite_target(tmp_path):
    db = tmp_path / "dev.db"
    sqlite3.connect(db).close()
    folder = tmp_path / "targets"
    folder.mkdir()
    (folder / "devdb.yaml").write_text(f"id: devdb\nkind: sqlite\ndsn: {db}\n")
    env = {"DATAGEN_TARGETS_DIR": str(folder)}
    code, text = run("generate", "--format", "sqlite", "--target", "devdb", "--out", tmp_path / "o", "-q", env=env)
    assert code == 0, text
    assert sqlite3.connect(db).execute("SELECT count(*) FROM customers").fetchone()[0] > 0
    code, text = run("generate", "--format", "sqlite", "--target", "devbd", "--out", tmp_path / "o", env=env)
    assert code == 2 and "did you mean 'devdb'" in text, text


def test_mode_flag_and_option_must_agree(tmp_path):
    code, text = run("generate", "--format", "sqlite", "--mode", "append", "--option", "mode=create", "--out",
                     tmp_path / "o")
    assert code == 2 and "--mode append and --option mode=create disagree" in text, text
