"""``datagen serve``: the HTTP API in-process (its real app through ``TestClient``), a real
uvicorn process (start, run, SIGTERM during a run), and schemathesis over its OpenAPI document.

Every test polls with generous timeouts; none asserts a wall-clock time."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from fastapi.testclient import TestClient  # noqa: E402

from datagen.runs import RunStore  # noqa: E402
from datagen.service import Settings, create_app  # noqa: E402
from tests.helpers import EXAMPLES_DIR, ROOT  # noqa: E402

API = "/api/v1"
KEY = "k3y-for-tests-only"
SECRET = "s3cr3t-pw-never-shown"


def small(rows: int = 50, name: str = "small") -> dict:
    """A tiny two-table schema (a reference, so plans and runs cover keys)."""
    return {"version": 1, "name": name, "seed": 3, "tables": [
        {"name": "customers", "rows": rows, "primary_key": "id", "columns": [
            {"name": "id", "type": "int64", "generator": {"type": "sequence"}},
            {"name": "score", "type": "int32", "generator": {"type": "uniform_int", "params": {"min": 1, "max": 9}}}]},
        {"name": "orders", "rows": rows * 2, "primary_key": "order_id", "columns": [
            {"name": "order_id", "type": "int64", "generator": {"type": "sequence"}},
            {"name": "customer_id", "type": "int64",
             "generator": {"type": "fk", "params": {"table": "customers", "column": "id"}}}]}]}


def big() -> dict:
    """One table with enough rows that a run is still going when it is cancelled."""
    return {"version": 1, "name": "big", "seed": 1, "tables": [
        {"name": "numbers", "rows": 200_000_000, "columns": [
            {"name": "n", "type": "int64", "generator": {"type": "sequence"}}]}]}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    schemas = tmp_path / "schemas"
    (schemas / "examples").mkdir(parents=True)
    shutil.copy(EXAMPLES_DIR / "shop.yaml", schemas / "examples" / "shop.yaml")
    (schemas / "small.json").write_text(json.dumps(small()))
    (tmp_path / "outside.yaml").write_text(json.dumps(small(name="outside")))
    targets = tmp_path / "targets"
    targets.mkdir()
    import sqlite3

    sqlite3.connect(tmp_path / "lite.sqlite").close()  # a named SQLite target is an existing database
    (targets / "lite.yaml").write_text(f"id: lite\nkind: sqlite\ndsn: {tmp_path / 'lite.sqlite'}\n")
    (targets / "pg.yaml").write_text("id: pg\nkind: postgres\n"
                                     "dsn: postgresql://loader:${SVC_TEST_PGPASSWORD}@127.0.0.1:1/none\n")
    return Settings(schemas_dir=schemas, targets_dir=targets, output_dir=tmp_path / "out",
                    runs_db=tmp_path / "runs.sqlite", max_runs=2, max_body_bytes=64 << 10,
                    max_schema_bytes=16 << 10)


@pytest.fixture
def client(settings, monkeypatch):
    monkeypatch.setenv("SVC_TEST_PGPASSWORD", SECRET)
    with TestClient(create_app(settings)) as c:
        yield c


def wait_done(c, run_id: str, timeout: float = 120.0, prefix: str = API) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = c.get(f"{prefix}/runs/{run_id}").json()
        if run["status"] not in ("pending", "running") or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def wait_rows(c, run_id: str, timeout: float = 120.0) -> dict:
    """Until the run has written some rows (it is under way)."""
    deadline = time.monotonic() + timeout
    while True:
        run = c.get(f"{API}/runs/{run_id}").json()
        if (run.get("progress") or {}).get("rows_done", 0) > 0 or run["status"] != "running" \
                or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


# --- the minimal contract -----------------------------------------------------------------------


def test_the_minimal_contract(client, settings, tmp_path):
    assert client.get(f"{API}/health").status_code == 200
    r = client.post(f"{API}/runs", json={"schema": small(), "target": {"kind": "parquet", "path": "c/small"},
                                         "seed": 7, "rows": {"orders": 1000}})
    assert r.status_code == 202, r.text
    body = r.json()
    assert set(body) >= {"id", "status"}
    run = wait_done(client, body["id"])
    assert {"id", "status", "seed", "config_hash", "rows"} <= set(run)
    assert run["status"] == "success", run
    assert run["seed"] == 7 and run["rows"] == {"customers": 50, "orders": 1000}
    assert run["progress"] == {"rows_done": 1050, "rows_total": 1050, "tables_done": 2, "tables_total": 2,
                               "current_table": None}
    assert (settings.output_dir / "c" / "small" / "manifest.json").is_file()
    # by id too
    r = client.post(f"{API}/runs", json={"schema_id": "small", "target": {"kind": "csv"}, "seed": 7})
    assert wait_done(client, r.json()["id"])["status"] == "success"
    assert (settings.output_dir / "small" / "csv" / "manifest.json").is_file()


def test_a_run_answers_each_table_rows_done_and_seconds(client):
    r = client.post(f"{API}/runs", json={"schema": small(), "target": {"kind": "parquet", "path": "t/small"},
                                         "seed": 7, "rows": {"orders": 300}})
    run = wait_done(client, r.json()["id"])
    assert run["status"] == "success", run
    assert list(run["tables"]) == ["customers", "orders"]  # the plan's order
    assert {n: (t["rows"], t["rows_done"]) for n, t in run["tables"].items()} == {"customers": (50, 50),
                                                                                    "orders": (300, 300)}
    assert all(t["seconds"] is not None and t["seconds"] >= 0 for t in run["tables"].values())
    listed = next(x for x in client.get(f"{API}/runs").json()["runs"] if x["id"] == run["id"])
    assert listed["tables"] == run["tables"]
    # a run that fails before writing: its tables, none of them done, no seconds
    r = client.post(f"{API}/runs", json={"schema": small(), "target_id": "lite", "mode": "append"})
    failed = wait_done(client, r.json()["id"])
    assert failed["status"] == "failed" and "does not exist" in failed["error"]
    assert {n: (t["rows_done"], t["seconds"]) for n, t in failed["tables"].items()} == {"customers": (0, None),
                                                                                      "orders": (0, None)}


def test_a_run_over_http_is_in_the_cli_run_store(client, settings):
    from typer.testing import CliRunner

    from datagen.cli import app

    run_id = client.post(f"{API}/runs", json={"schema_id": "examples/shop", "seed": 11,
                                              "rows": {"customers": 20}}).json()["id"]
    run = wait_done(client, run_id)
    assert run["status"] == "success"
    stored = RunStore.at(settings.runs_db).get(run_id)
    assert stored["status"] == "success" and stored["seed"] == 11 and stored["config_hash"] == run["config_hash"]
    out = CliRunner().invoke(app, ["runs", "list", "--json", "--runs-db", str(settings.runs_db)])
    assert out.exit_code == 0, out.output
    assert run_id in [r["id"] for r in json.loads(out.output)]
    listed = client.get(f"{API}/runs").json()["runs"]
    assert run_id in [r["id"] for r in listed]
    logs = client.get(f"{API}/runs/{run_id}/logs").json()["lines"]
    assert any("success" in line["message"] for line in logs)
    assert any("customers" in line["message"] for line in logs)


def test_plan_resolves_without_running(client, settings):
    r = client.post(f"{API}/runs/plan", json={"schema": small(), "seed": 5, "rows": {"customers": 10}})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["seed"] == 5 and plan["rows"] == {"customers": 10, "orders": 100} and plan["total_rows"] == 110
    assert plan["target"]["kind"] == "files" and len(plan["config_hash"]) == 64
    assert RunStore.at(settings.runs_db).list() == []
    assert not settings.output_dir.exists()
    # the same config hash as the run it plans
    run_id = client.post(f"{API}/runs", json={"schema": small(), "seed": 5, "rows": {"customers": 10}}).json()["id"]
    assert wait_done(client, run_id)["config_hash"] == plan["config_hash"]


def test_cancel_a_long_run(client, settings):
    r = client.post(f"{API}/runs", json={"schema": big(), "target": {"kind": "csv", "path": "big"}})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    assert wait_rows(client, run_id)["progress"]["current_table"] == "numbers"
    c = client.post(f"{API}/runs/{run_id}/cancel")
    assert c.status_code == 202 and c.json()["status"] == "cancelling"
    run = wait_done(client, run_id)
    assert run["status"] == "interrupted", run
    assert not (settings.output_dir / "big").exists()  # no partial output, no temporary folder left
    assert [p.name for p in settings.output_dir.iterdir()] == []
    assert RunStore.at(settings.runs_db).get(run_id)["status"] == "interrupted"
    assert client.post(f"{API}/runs/{run_id}/cancel").status_code == 409  # it has ended
    assert "interrupted" in client.get(f"{API}/runs/{run_id}/logs").text
    assert 'datagen_runs_total{status="interrupted"} 1' in client.get(f"{API}/metrics").text


def test_a_run_executes_in_its_own_process_and_reports_progress(client, settings):
    r = client.post(f"{API}/runs", json={"schema": big(), "target": {"kind": "csv", "path": "big"}})
    run_id = r.json()["id"]
    run = wait_rows(client, run_id)
    assert run["status"] == "running" and run["progress"]["rows_done"] > 0, run
    assert run["progress"]["rows_total"] == 200_000_000 and run["progress"]["current_table"] == "numbers"
    assert run["tables"]["numbers"]["rows_done"] > 0
    stored = RunStore.at(settings.runs_db).get(run_id)
    assert stored["status"] == "running" and stored["pid"] != os.getpid()  # not the service's process
    assert client.post(f"{API}/runs/{run_id}/cancel").status_code == 202
    assert wait_done(client, run_id)["status"] == "interrupted"
    # a run that completes: every row counted, on record as the command line records it
    ok = client.post(f"{API}/runs", json={"schema": small(), "seed": 3}).json()["id"]
    run = wait_done(client, ok)
    assert run["status"] == "success" and run["progress"]["rows_done"] == run["progress"]["rows_total"] == 150
    assert RunStore.at(settings.runs_db).get(ok)["pid"] != os.getpid()
    lines = [x["message"] for x in client.get(f"{API}/runs/{ok}/logs").json()["lines"]]
    assert any(m.startswith("table orders: started") for m in lines) and lines[-1].startswith("success: 150 rows")


def test_a_run_refused_in_its_process_answers_the_error(client, settings):
    """A run its process refuses before it is on record (another run writes the same target)
    answers that error: it crossed the pipe as the exception it is (409)."""
    first = client.post(f"{API}/runs", json={"schema": big(), "target": {"kind": "csv", "path": "same"}}).json()["id"]
    assert wait_rows(client, first)["status"] == "running"
    r = client.post(f"{API}/runs", json={"schema": small(), "target": {"kind": "csv", "path": "same"}})
    assert r.status_code == 409 and r.json()["error"]["type"] == "OutputError", r.text
    assert "another datagen run" in r.json()["error"]["message"] and first in r.json()["error"]["message"]
    client.post(f"{API}/runs/{first}/cancel")
    assert wait_done(client, first)["status"] == "interrupted"
    assert client.post(f"{API}/runs", json={"schema": small(), "target": {"kind": "csv", "path": "same"}}).status_code \
        == 202


def test_a_killed_run_process_fails_the_run_and_the_service_goes_on(client, settings):
    r = client.post(f"{API}/runs", json={"schema": big(), "target": {"kind": "csv", "path": "big"}})
    run_id = r.json()["id"]
    assert wait_rows(client, run_id)["status"] == "running"
    os.kill(RunStore.at(settings.runs_db).get(run_id)["pid"], signal.SIGKILL)
    run = wait_done(client, run_id)
    assert run["status"] == "failed", run
    assert "SIGKILL" in run["error"] and run["progress"]["current_table"] is None
    assert RunStore.at(settings.runs_db).get(run_id)["status"] == "failed"
    assert client.post(f"{API}/runs/{run_id}/cancel").status_code == 409
    assert client.get(f"{API}/health").status_code == 200
    assert 'datagen_runs_total{status="failed"} 1' in client.get(f"{API}/metrics").text
    assert client.get(f"{API}/metrics").text.count("datagen_runs_active 0") == 1
    assert wait_done(client, client.post(f"{API}/runs", json={"schema": small()}).json()["id"])["status"] == "success"


def test_a_schema_file_changed_is_read_again(client, settings):
    """Loaded schemas are kept, but a file that changes is loaded again (its size or time changed)."""
    assert client.get(f"{API}/schemas/small").json()["name"] == "small"
    plan = client.post(f"{API}/runs/plan", json={"schema_id": "small"}).json()
    assert plan["schema_name"] == "small" and plan["rows"] == {"customers": 50, "orders": 100}
    (settings.schemas_dir / "small.json").write_text(json.dumps(small(rows=7, name="smaller")))
    assert client.get(f"{API}/schemas/small").json()["name"] == "smaller"
    plan = client.post(f"{API}/runs/plan", json={"schema_id": "small"}).json()
    assert plan["schema_name"] == "smaller" and plan["rows"] == {"customers": 7, "orders": 14}


def test_429_past_max_runs(client):
    ids = []
    for i in range(2):
        r = client.post(f"{API}/runs", json={"schema": big(), "target": {"kind": "csv", "path": f"b{i}"}})
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    r = client.post(f"{API}/runs", json={"schema": small()})
    assert r.status_code == 429 and r.json()["error"]["type"] == "TooManyRuns"
    for run_id in ids:
        client.post(f"{API}/runs/{run_id}/cancel")
    assert all(wait_done(client, i)["status"] == "interrupted" for i in ids)
    r = client.post(f"{API}/runs", json={"schema": small()})
    assert r.status_code == 202


def test_size_caps(client):
    r = client.post(f"{API}/runs", content=b'{"schema": "' + b"x" * (70 << 10) + b'"}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["type"] == "TooLarge"
    wide = small()
    wide["description"] = "y" * (20 << 10)  # under the body cap, over the inline schema's
    r = client.post(f"{API}/runs", json={"schema": wide})
    assert r.status_code == 413
    r = client.post(f"{API}/generate", json={"schema": small(rows=100_000)})
    assert r.status_code == 413 and "max-generate-rows" in r.json()["error"]["message"]


@pytest.mark.parametrize("schema_id", ["../outside", "..%2Foutside", "examples/../../outside", ".hidden",
                                       "/etc/passwd", "examples/shop/../../../outside"])
def test_schema_ids_stay_in_their_folder(client, schema_id):
    assert client.get(f"{API}/schemas/{schema_id}").status_code == 404
    r = client.post(f"{API}/runs", json={"schema_id": schema_id})
    assert r.status_code in (404, 422), r.text


def test_a_link_out_of_the_schemas_folder_is_refused(client, settings, tmp_path):
    (settings.schemas_dir / "sneaky.yaml").symlink_to(tmp_path / "outside.yaml")
    assert "sneaky" not in [s["id"] for s in client.get(f"{API}/schemas").json()["schemas"]]
    assert client.get(f"{API}/schemas/sneaky").status_code == 404


@pytest.mark.parametrize("path", ["../escape", "/tmp/escape", "a/../../escape", "~/escape", ".", ""])
def test_output_paths_stay_in_the_output_folder(client, settings, path):
    r = client.post(f"{API}/runs", json={"schema": small(), "target": {"kind": "csv", "path": path}})
    assert r.status_code == 400, r.text
    r = client.post(f"{API}/runs/plan", json={"schema": small(), "target": {"kind": "csv", "path": path}})
    assert r.status_code == 400


def test_target_ids_resolve_only_in_their_folder(client):
    for bad in ("../lite", "nope", "lite.yaml", "..", "%2e%2e"):
        assert client.get(f"{API}/targets/{bad}").status_code == 404, bad
        assert client.post(f"{API}/runs", json={"schema": small(), "target_id": bad}).status_code == 404, bad


def test_a_named_sqlite_target(client, tmp_path):
    r = client.post(f"{API}/runs", json={"schema": small(), "target_id": "lite", "mode": "create"})
    assert r.status_code == 202, r.text
    run = wait_done(client, r.json()["id"])
    assert run["status"] == "success", run
    import sqlite3

    with sqlite3.connect(tmp_path / "lite.sqlite") as con:
        assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 100


def test_credentials_never_answered(client):
    bodies = [client.get(f"{API}/targets").text, client.get(f"{API}/targets/pg").text,
              client.post(f"{API}/targets/pg/test").text]
    r = client.post(f"{API}/runs", json={"schema": small(), "target_id": "pg"})
    bodies.append(r.text)
    if r.status_code == 202:
        wait_done(client, r.json()["id"])
        bodies += [client.get(f"{API}/runs/{r.json()['id']}").text, client.get(f"{API}/runs").text,
                   client.get(f"{API}/runs/{r.json()['id']}/logs").text]
    bodies.append(client.post(f"{API}/runs/plan", json={"schema": small(), "target_id": "pg"}).text)
    inline = {"kind": "postgres", "dsn": f"postgresql://u:{SECRET}@127.0.0.1:1/db"}
    bodies.append(client.post(f"{API}/runs/plan", json={"schema": small(), "target": inline}).text)
    r = client.post(f"{API}/runs", json={"schema": small(), "target": inline})
    bodies.append(r.text)
    if r.status_code == 202:
        wait_done(client, r.json()["id"])
        bodies.append(client.get(f"{API}/runs").text)
    assert client.get(f"{API}/targets/pg").json()["kind"] == "postgres"
    for text in bodies:
        assert SECRET not in text


def test_api_key(settings, monkeypatch):
    keyed = Settings(**{**settings.model_dump(), "api_key": KEY})
    with TestClient(create_app(keyed)) as c:
        assert c.get(f"{API}/health").status_code == 200  # health and ready stay open
        assert c.get(f"{API}/schemas").status_code == 401
        assert c.get(f"{API}/schemas", headers={"X-API-Key": "wrong"}).status_code == 403
        assert c.get(f"{API}/runs", headers={"X-API-Key": KEY}).status_code == 200
        assert c.get(f"{API}/metrics").status_code == 401
        assert KEY not in c.get("/openapi.json").text
        for path in ("/", "/page/app.js", "/page/style.css"):  # the page holds no data: no key
            assert c.get(path).status_code == 200, path
        assert c.get("/page/secrets.txt").status_code == 404
        assert c.get("/page/..%2Fapp.py").status_code == 404


def test_a_public_host_needs_a_key(settings):
    from shared.errors import UsageError

    with pytest.raises(UsageError, match="API key"):
        create_app(Settings(**{**settings.model_dump(), "host": "0.0.0.0"}))
    create_app(Settings(**{**settings.model_dump(), "host": "0.0.0.0", "api_key": KEY}))


def test_schemas_and_blueprints(client):
    ids = [s["id"] for s in client.get(f"{API}/schemas").json()["schemas"]]
    assert ids == ["examples/shop", "small"]
    shop = client.get(f"{API}/schemas/examples/shop").json()
    assert shop["name"] == "shop" and "tables" in shop["text"] and shop["plan"]["order"][0] == "customers"
    ok = client.post(f"{API}/schemas/validate", json={"schema": small()}).json()
    assert ok == {"valid": True, "name": "small", "tables": ["customers", "orders"], "error": None, "problems": []}
    bad = small()
    bad["tables"][1]["columns"][1]["generator"]["params"]["table"] = "custmers"
    report = client.post(f"{API}/schemas/validate", json={"schema": bad}).json()
    assert report["valid"] is False and report["problems"]
    assert any(p["path"].startswith("tables[1]") for p in report["problems"]), report
    text = client.post(f"{API}/schemas/validate", json={"schema": "version: 1\nname: t\ntables: []\n"}).json()
    assert text["valid"] is False
    r = client.post(f"{API}/runs", json={"schema": bad})
    assert r.status_code == 422 and r.json()["error"]["type"] == "SchemaError"
    assert r.json()["error"]["problems"][0]["path"]
    names = [b["name"] for b in client.get(f"{API}/blueprints").json()["blueprints"]]
    assert names and client.get(f"{API}/blueprints/{names[0]}").json()["name"] == names[0]
    assert client.get(f"{API}/blueprints/nope").status_code == 404


def test_errors_are_messages_not_tracebacks(client):
    r = client.post(f"{API}/runs", json={"schema": small(), "rows": {"nosuch": 3}})
    assert r.status_code in (400, 422) and "nosuch" in r.json()["error"]["message"]
    r = client.post(f"{API}/runs", json={})
    assert r.status_code == 400 and "exactly one" in r.json()["error"]["message"]
    assert client.get(f"{API}/runs/nope").status_code == 404
    for text in (r.text,):
        assert "Traceback" not in text


def test_import_sql(client):
    ddl = "CREATE TABLE a (id int PRIMARY KEY, name text NOT NULL);\nCREATE TABLE b (id int PRIMARY KEY, " \
          "a_id int REFERENCES a(id));"
    r = client.post(f"{API}/import/sql", json={"ddl": ddl, "rows": 30})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [t["name"] for t in out["schema"]["tables"]] == ["a", "b"] and "tables:" in out["yaml"]
    plan = client.post(f"{API}/runs/plan", json={"schema": out["schema"]}).json()
    assert plan["rows"] == {"a": 30, "b": 30}
    assert client.post(f"{API}/import/sql", json={"ddl": "SELECT 1"}).status_code == 400


def test_generate_json_and_arrow(client, settings):
    r = client.post(f"{API}/generate", json={"schema": small(rows=5), "seed": 2})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["rows"] == {"customers": 5, "orders": 10}
    assert [row["id"] for row in data["tables"]["customers"]] == [1, 2, 3, 4, 5]
    assert RunStore.at(settings.runs_db).get(data["run_id"])["target"]["kind"] == "memory"
    import pyarrow as pa

    import datagen

    r = client.post(f"{API}/generate", json={"schema": small(rows=5), "seed": 2, "tables": ["orders"],
                                             "output": "arrow"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(io.BytesIO(r.content)).read_all()
    assert table.equals(datagen.to_arrow(small(rows=5), "orders", seed=2)["orders"])
    assert client.post(f"{API}/generate", json={"schema": small(), "output": "arrow"}).status_code == 400


def _boom(*a, **k):
    raise RuntimeError("boom")


def _main_with_a_crashing_engine(*args):
    """A run's process whose engine raises (the run's process imports this by name)."""
    from datagen.service import child
    from shared import api

    api.generate = _boom
    child.main(*args)


def test_a_run_crash_does_not_take_the_service_down(client, monkeypatch):
    from datagen.service import child

    monkeypatch.setattr(child, "main", _main_with_a_crashing_engine)
    run_id = client.post(f"{API}/runs", json={"schema": small()}).json()["id"]
    run = wait_done(client, run_id)
    assert run["status"] == "failed" and "boom" in run["error"]
    assert "RuntimeError: boom" in client.get(f"{API}/runs/{run_id}/logs").text
    monkeypatch.undo()
    assert client.get(f"{API}/health").status_code == 200
    assert wait_done(client, client.post(f"{API}/runs", json={"schema": small()}).json()["id"])["status"] == "success"


def test_shutdown_marks_running_runs_interrupted(settings):
    with TestClient(create_app(settings)) as c:
        run_id = c.post(f"{API}/runs", json={"schema": big(), "target": {"kind": "csv", "path": "big"}}).json()["id"]
        wait_rows(c, run_id)
    assert RunStore.at(settings.runs_db).get(run_id)["status"] == "interrupted"
    assert not (settings.output_dir / "big").exists()


def test_metrics(client):
    client.get(f"{API}/health")
    text = client.get(f"{API}/metrics").text
    for name in ("datagen_runs_total", "datagen_runs_active", "datagen_rows_written_total",
                 "datagen_stream_events_sent_total", "datagen_http_request_duration_seconds_bucket"):
        assert name in text
    assert 'route="/api/v1/health"' in text


def test_root_is_the_page_and_the_docs_stay(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'href="/docs"' in r.text and "/page/app.js" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/v1/runs", "/api/v1/runs/{run_id}", "/api/v1/runs/{run_id}/cancel", "/api/v1/runs/plan",
              "/api/v1/generate", "/api/v1/import/sql", "/api/v1/health", "/api/v1/metrics"):
        assert p in paths


# --- PostgreSQL -----------------------------------------------------------------------------------


def test_a_run_over_http_loads_postgres(client, settings, pg_dsn):
    import psycopg

    r = client.post(f"{API}/runs", json={"schema": small(), "target": {"kind": "postgres", "dsn": pg_dsn},
                                         "seed": 4})
    assert r.status_code == 202, r.text
    run = wait_done(client, r.json()["id"])
    assert run["status"] == "success", run
    assert run["target"]["kind"] == "postgres"
    with psycopg.connect(pg_dsn) as con:
        assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 100
    assert r.json()["id"] in [x["id"] for x in RunStore.at(settings.runs_db).list()]


# --- a real uvicorn process ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_server(tmp_path):
    import httpx

    port = _free_port()
    runs_db = tmp_path / "runs.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-P", "-m", "datagen", "serve", "--port", str(port), "--runs-db",
                             str(runs_db), "--output-dir", str(tmp_path / "out"), "--schemas-dir",
                             str(EXAMPLES_DIR)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}{API}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode() \
                if proc.poll() is not None else "no answer"
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=60) as c:
            run_id = c.post("/runs", json={"schema_id": "shop", "rows": {"customers": 30}, "seed": 1}).json()["id"]
            assert wait_done(c, run_id, prefix="")["status"] == "success"
            long_id = c.post("/runs", json={"schema": big(), "target": {"kind": "csv", "path": "big"}}).json()["id"]
            deadline = time.monotonic() + 120
            while c.get(f"/runs/{long_id}").json()["progress"]["rows_done"] == 0:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        assert RunStore.at(runs_db).get(long_id)["status"] == "interrupted"
        assert RunStore.at(runs_db).get(run_id)["status"] == "success"
        assert not (tmp_path / "out" / "big").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_refuses_a_public_host_without_a_key():
    from typer.testing import CliRunner

    from datagen.cli import app

    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "API key" in r.output
    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--api-key-env", "SVC_TEST_NO_SUCH_VAR"])
    assert r.exit_code == 2 and "SVC_TEST_NO_SUCH_VAR" in r.output


# --- schemathesis ----------------------------------------------------------------------------------


def test_the_openapi_contract_holds(settings):
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings

    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = []
    with TestClient(app):
        for op in schema.get_all_operations():
            operation = op.ok()

            @given(case=operation.as_strategy())
            @hsettings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def check(case):
                response = case.call()
                if response.status_code >= 500:
                    failures.append((case.method, case.path, response.status_code, response.text[:300]))

            check()
    assert not failures, failures
