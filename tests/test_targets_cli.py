"""``datagen targets list|show|validate|test``: named targets from ``targets/*.yaml``, passwords
from the environment and never printed."""

from __future__ import annotations

import json
import socket
import sqlite3

import pytest

from datagen.cli import app
from tests.helpers import make_runner, output_text


def run(*args, env=None):
    res = make_runner().invoke(app, [str(a) for a in args], env={"COLUMNS": "250", **(env or {})})
    return res.exit_code, output_text(res)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    d = tmp_path / "targets"
    d.mkdir()
    monkeypatch.setenv("DATAGEN_TARGETS_DIR", str(d))
    return d


def test_list_and_show_redact_passwords(folder):
    (folder / "a.yaml").write_text("id: prod\nname: Production\nkind: postgres\n"
                                   "dsn: postgresql://app:PlainS3cret@db:5432/shop\nschema: sales\n")
    (folder / "b.yaml").write_text("id: local\nkind: sqlite\ndsn: ./app.db\noptions: {mode: append}\n")
    code, text = run("targets", "list")
    assert code == 0 and "prod" in text and "local" in text and "PlainS3cret" not in text, text
    code, text = run("targets", "list", "--json")
    infos = json.loads(text)
    assert [i["id"] for i in infos] == ["local", "prod"]
    assert infos[1]["dsn"] == "postgresql://app:***@db:5432/shop" and infos[0]["options"] == {"mode": "append"}
    code, text = run("targets", "show", "prod")
    assert code == 0 and "schema: sales" in text and "PlainS3cret" not in text, text
    code, text = run("targets", "show", "prd")
    assert code == 2 and "no such target" in text and "did you mean 'prod'" in text, text


def test_validate_reports_each_problem(folder):
    (folder / "bad.yaml").write_text("id: bad\nkind: postgress\ndsn: x\ncolour: blue\n")
    code, text = run("targets", "validate")
    assert code == 2 and "unknown field 'colour'" in text and "did you mean 'postgres'" in text, text
    (folder / "bad.yaml").unlink()
    (folder / "env.yaml").write_text("id: env\nkind: postgres\ndsn: postgresql://u:${DG_NOT_SET_PW}@h/db\n")
    code, text = run("targets", "validate")
    assert code == 2 and "DG_NOT_SET_PW" in text and "not set" in text, text
    code, text = run("targets", "validate", env={"DG_NOT_SET_PW": "x"})
    assert code == 0 and "env: ok" in text, text
    (folder / "dup.yaml").write_text("id: env\nkind: sqlite\ndsn: a.db\n")
    code, text = run("targets", "validate")
    assert code == 2 and "defined twice" in text, text


def test_test_reports_reachability_version_and_rights(folder, pg_server, write_schema):
    dsn = pg_server.create_database("t_probe")
    templated = dsn.replace(pg_server.password, "${DG_PROBE_PW}")
    (folder / "p.yaml").write_text(f"id: pg\nkind: postgres\ndsn: {templated}\n")
    env = {"DG_PROBE_PW": pg_server.password}
    code, text = run("targets", "test", "pg", "--json", env=env)
    assert code == 0, text
    rep = json.loads(text)
    with pg_server.connect() as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    assert rep["reachable"] is True and rep["server_version"] == version and rep["database"] == "t_probe"
    assert rep["can_create"] is True and rep["latency_ms"] >= 0 and rep["user"] == "postgres"
    assert pg_server.password not in text
    with pg_server.connect("t_probe") as conn:
        conn.execute("CREATE TABLE customers (id bigint)")
    schema = write_schema("version: 1\nname: s\ntables:\n  - name: customers\n    rows: 1\n    columns:\n"
                          "      - {name: id, type: int64, generator: sequence}\n  - name: orders\n    rows: 1\n"
                          "    columns:\n      - {name: id, type: int64, generator: sequence}\n")
    code, text = run("targets", "test", "pg", "--schema", schema, env=env)
    assert code == 0 and "customers: insert yes, truncate yes" in text and "missing_tables: ['orders']" in text, text


def test_test_unreachable_is_exit_3(folder):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (folder / "x.yaml").write_text(f"id: down\nkind: postgres\ndsn: postgresql://u:Hidden9@127.0.0.1:{port}/db\n")
    code, text = run("targets", "test", "down")
    assert code == 3 and "reachable: False" in text and "cannot connect" in text and "Hidden9" not in text, text


def test_test_sqlite_target(folder, tmp_path):
    db = tmp_path / "x.db"
    sqlite3.connect(db).execute("CREATE TABLE t (a)").connection.close()
    (folder / "s.yaml").write_text(f"id: lite\nkind: sqlite\ndsn: {db}\n")
    code, text = run("targets", "test", "lite", "--json")
    rep = json.loads(text)
    assert code == 0 and rep["reachable"] and rep["tables"] == {"t": {"insert": True, "truncate": True}}
    (folder / "s.yaml").write_text(f"id: lite\nkind: sqlite\ndsn: {tmp_path / 'nope.db'}\n")
    code, text = run("targets", "test", "lite")
    assert code == 3 and "no such file" in text, text
