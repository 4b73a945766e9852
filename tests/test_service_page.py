"""The page at ``/`` (issue 17), driven in headless Chromium against a real ``datagen serve``
process: pick a schema, preview the plan, start a run to Parquet and watch it succeed in the
recent runs, open its page (rows, timings, log); a failing run shows its error; a running one is
cancelled from its page; a stream page
shows events arriving and pause, resume and stop work; with an API key the page asks for it.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``tests/servers/ensure_chromium.sh``),
driven by Playwright's Python package (``playwright install`` cannot download browsers here).
The tests skip when either is missing. Every wait is Playwright's auto-waiting ``expect`` with
generous timeouts; nothing asserts a wall-clock time. Screenshots of each step go to a temporary
folder, or to ``$DATAGEN_PAGE_SCREENSHOTS`` when set (to look at them)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the service extra's test dependency
    pytest.skip("Playwright's Python package is not installed (requirements-service.txt)", allow_module_level=True)

from tests.helpers import EXAMPLES_DIR  # noqa: E402
from tests.service_server import serve  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
#: generous: a loaded machine may take long; none of these is a time asserted
WAIT_MS = 90_000
KEY = "page-k3y-for-tests-only"
API = "/api/v1"


def _skip_without_chromium() -> None:
    if os.environ.get("DATAGEN_TEST_CHROMIUM", "").lower() == "skip":
        pytest.skip("DATAGEN_TEST_CHROMIUM=skip")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (tests/servers/ensure_chromium.sh installs it: "
                    f"apt-get install chromium)")


def _folders(tmp: Path) -> list[str]:
    """A schemas folder (shop, iot, big), a named SQLite target (an empty database), the output folder
    and the run store: ``datagen serve``'s arguments."""
    schemas = tmp / "schemas"
    schemas.mkdir()
    for name in ("shop", "iot"):
        shutil.copy(EXAMPLES_DIR / f"{name}.yaml", schemas / f"{name}.yaml")
    (schemas / "big.json").write_text(json.dumps({"version": 1, "name": "big", "seed": 1, "tables": [
        {"name": "numbers", "rows": 1_000_000_000, "columns": [  # still going when it is cancelled
            {"name": "n", "type": "int64", "generator": {"type": "sequence"}}]}]}))
    targets = tmp / "targets"
    targets.mkdir()
    sqlite3.connect(tmp / "empty.sqlite").close()
    (targets / "lite.yaml").write_text(f"id: lite\nkind: sqlite\ndsn: {tmp / 'empty.sqlite'}\n")
    return ["--schemas-dir", str(schemas), "--targets-dir", str(targets), "--output-dir", str(tmp / "out"),
            "--runs-db", str(tmp / "runs.sqlite")]


@pytest.fixture(scope="module")
def browser():
    _skip_without_chromium()
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("page")
    with serve(tmp, *_folders(tmp)) as base:
        yield base, tmp


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    where = os.environ.get("DATAGEN_PAGE_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        return Path(where)
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def page(browser, shots, request):
    """A new browser page; JavaScript errors on it fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield p
    finally:
        p.screenshot(path=shots / f"{request.node.name}-last.png", full_page=True)
        context.close()
    assert not errors, errors


def _start_run(page) -> str:
    """Click Start; the new run's id, from the link the form shows."""
    page.click("#start")
    link = page.locator("#form-ok a")
    expect(link).to_have_text(re.compile(r"^\d{8}T"))
    return link.inner_text()


def test_plan_a_run_watch_it_succeed_and_open_its_page(server, page, shots):
    base, tmp = server
    page.goto(f"{base}/")
    expect(page.locator("#dataset option[value='schema:shop']")).to_have_count(1)
    page.select_option("#dataset", "schema:shop")
    page.select_option("#target", "kind:parquet")
    expect(page.locator("#mode")).to_be_disabled()  # a file target has no mode

    # a message from the service is text, never markup
    page.fill("#rows", "<b>bold</b>=5")
    page.click("#preview")
    expect(page.locator("#form-error")).to_contain_text("<b>bold</b>")
    expect(page.locator("#form-error b")).to_have_count(0)

    page.fill("#seed", "7")
    page.fill("#rows", "customers=100\norders=300")
    page.click("#preview")
    expect(page.locator("#form-error")).to_be_hidden()
    plan = page.locator("#plan-tables")
    expect(plan.locator("tr[data-table='customers'] td").nth(1)).to_have_text("100")
    expect(plan.locator("tr[data-table='orders'] td").nth(1)).to_have_text("300")
    expect(plan.locator("tr[data-table='products'] td").nth(1)).to_have_text("500")  # the schema's own
    expect(page.locator("#plan-seed")).to_have_text("7")
    page.screenshot(path=shots / "1-plan.png", full_page=True)

    page.fill("#path", "shop-7")
    run_id = _start_run(page)
    row = page.locator(f"#runs tr[data-run='{run_id}']")
    expect(row.locator(".badge")).to_have_text("success")
    expect(row.locator(".badge")).to_have_class(re.compile(r"\bstatus-success\b"))
    page.screenshot(path=shots / "2-runs.png", full_page=True)
    assert (tmp / "out" / "shop-7" / "manifest.json").is_file()

    row.locator("a").click()
    expect(page).to_have_url(re.compile(rf"#/runs/{re.escape(run_id)}$"))
    expect(page.locator("#run-status .badge")).to_have_text("success")
    expect(page.locator("[data-fact='seed']")).to_have_text("7")
    expect(page.locator("[data-fact='config-hash']")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    tables = page.locator("#run-tables")
    orders = tables.locator("tr[data-table='orders'] td")
    expect(orders.nth(1)).to_have_text("300")
    expect(orders.nth(2)).to_have_text("300")
    for name in ("customers", "products", "orders", "order_items"):
        expect(tables.locator(f"tr[data-table='{name}'] td").nth(3)).to_have_text(re.compile(r"^\d+\.\d+ s$"))
    expect(page.locator("#run-progress-text")).to_contain_text("4 of 4 tables")
    expect(page.locator("#run-logs")).to_contain_text("success")
    expect(page.locator("#cancel")).to_be_hidden()
    expect(page.locator("#run-error")).to_be_hidden()
    page.screenshot(path=shots / "3-run.png", full_page=True)


def test_a_failing_run_shows_its_error(server, page, shots):
    base, _tmp = server
    page.goto(f"{base}/")
    expect(page.locator("#target option[value='id:lite']")).to_have_count(1)
    page.select_option("#dataset", "schema:shop")
    page.select_option("#target", "id:lite")
    expect(page.locator("#mode")).to_be_enabled()
    page.select_option("#mode", "append")  # into an empty database: the tables are missing
    run_id = _start_run(page)
    row = page.locator(f"#runs tr[data-run='{run_id}']")
    expect(row.locator(".badge")).to_have_text("failed")
    row.locator("a").click()
    expect(page.locator("#run-status .badge")).to_have_text("failed")
    expect(page.locator("#run-error")).to_be_visible()
    expect(page.locator("#run-error")).to_contain_text("table 'customers' does not exist in the database")
    expect(page.locator("#run-logs")).to_contain_text("failed")
    page.screenshot(path=shots / "4-failed.png", full_page=True)


def test_cancel_a_running_run_from_its_page(server, page, shots):
    base, tmp = server
    page.goto(f"{base}/")
    expect(page.locator("#dataset option[value='schema:big']")).to_have_count(1)
    page.select_option("#dataset", "schema:big")
    page.select_option("#target", "kind:csv")
    page.fill("#path", "big")
    run_id = _start_run(page)
    row = page.locator(f"#runs tr[data-run='{run_id}']")
    expect(row.locator(".badge")).to_have_text("running")
    expect(page.locator("#runs-refresh")).to_contain_text("every second")
    row.locator("a").click()
    expect(page.locator("#run-status .badge")).to_have_text("running")
    expect(page.locator("#run-progress-text")).to_contain_text("now numbers")
    page.screenshot(path=shots / "5-running.png", full_page=True)
    page.click("#cancel")
    expect(page.locator("#run-status .badge")).to_have_text("interrupted")
    expect(page.locator("#cancel")).to_be_hidden()
    expect(page.locator("#run-error")).to_contain_text("interrupted")
    expect(page.locator("#run-logs")).to_contain_text("cancel requested")
    assert not (tmp / "out" / "big").exists()  # files are never half-written
    page.screenshot(path=shots / "6-interrupted.png", full_page=True)


def _count(page, selector: str) -> int:
    return int(page.locator(selector).inner_text().replace(",", "") or 0)


def _wait_received(page, n: int) -> None:
    """Until the page has counted at least ``n`` events (a function, not a string: the page's
    Content-Security-Policy forbids evaluating strings)."""
    page.wait_for_function("(n) => Number(document.getElementById('received').textContent.replace(/,/g, '')) >= n",
                           arg=n, timeout=WAIT_MS)


def test_a_stream_shows_events_arriving_and_stops(server, page, shots):
    import httpx

    base, _tmp = server
    page.goto(f"{base}/#/streams")
    expect(page.locator("#stream-dataset")).to_have_value("schema:iot")  # an event schema, picked for you
    page.fill("#eps", "100")
    page.fill("#max-events", "1000000")
    page.click("#stream-start")
    expect(page).to_have_url(re.compile(r"#/streams/[0-9a-f]+$"))
    stream_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#stream-status .badge")).to_have_text("running")
    expect(page.locator("#ws-state")).to_contain_text("connected")
    _wait_received(page, 50)
    expect(page.locator("#events tbody tr")).to_have_count(20)
    expect(page.locator("#events tbody tr").first.locator("td").nth(1)).to_have_text("reading")
    expect(page.locator("#rate")).to_have_text(re.compile(r"^\d"))
    page.screenshot(path=shots / "7-stream.png", full_page=True)

    page.click("#pause")
    expect(page.locator("#stream-status .badge")).to_have_text("paused")
    expect(page.locator("#resume")).to_be_enabled()
    page.click("#resume")
    expect(page.locator("#stream-status .badge")).to_have_text("running")
    _wait_received(page, _count(page, "#received") + 1)

    page.click("#stop")
    expect(page.locator("#stream-status .badge")).to_have_text("stopped")
    expect(page.locator("#ws-state")).to_contain_text("stopped")
    expect(page.locator("#stop")).to_be_disabled()
    assert httpx.get(f"{base}{API}/streams/{stream_id}", timeout=30).json()["status"] == "stopped"
    page.screenshot(path=shots / "8-stopped.png", full_page=True)

    page.goto(f"{base}/#/streams")
    row = page.locator(f"#streams tr[data-stream='{stream_id}']")
    expect(row.locator(".badge")).to_have_text("stopped")


def test_with_an_api_key_the_page_asks_for_it(browser, page, shots, tmp_path):
    with serve(tmp_path, *_folders(tmp_path), "--api-key-env", "DATAGEN_PAGE_TEST_KEY",
               env={"DATAGEN_PAGE_TEST_KEY": KEY}) as base:
        page.goto(f"{base}/")  # the page itself needs no key
        expect(page.locator("#notice")).to_contain_text("needs an API key")
        page.screenshot(path=shots / "9-key-asked.png", full_page=True)
        page.fill("#api-key", "wrong")
        page.click("#key-form button")
        expect(page.locator("#notice")).to_contain_text("not valid")
        page.fill("#api-key", KEY)
        page.click("#key-form button")
        expect(page.locator("#notice")).to_be_hidden()
        expect(page.locator("#dataset option[value='schema:shop']")).to_have_count(1)
        expect(page.locator("#runs tbody")).to_contain_text("No runs yet")
        # the WebSocket takes the key too (?api_key=, as browsers cannot set headers)
        page.goto(f"{base}/#/streams")
        expect(page.locator("#stream-dataset")).to_have_value("schema:iot")
        page.fill("#eps", "")  # as fast as the page takes them
        page.fill("#max-events", "300")
        page.click("#stream-start")
        expect(page.locator("#received")).to_have_text("300")
        expect(page.locator("#stream-status .badge")).to_have_text("ended")
        expect(page.locator("#ws-state")).to_contain_text("max_events reached")
        page.screenshot(path=shots / "10-key-stream.png", full_page=True)
        stored = json.loads(page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))"))
        assert stored.get("datagen.apiKey") == KEY  # this tab's session only
