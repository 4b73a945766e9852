// The datagen page: plain JavaScript over the /api/v1 endpoints (docs/service.md, "The page").
// Views are hash routes: #/ (a run's form and the recent runs), #/runs/ID, #/streams, #/streams/ID.
// Text from the service is always set with textContent (the el() helper), never parsed as HTML.
"use strict";

const API = "/api/v1";
const KEY_STORE = "datagen.apiKey";
const FILE_KINDS = ["parquet", "csv", "json", "ndjson", "event_stream", "sqlite"];
const RUN_ACTIVE = ["pending", "running"];
const STREAM_LIVE = ["waiting", "running", "paused"];
const LAST_EVENTS = 20;
const NUM = new Intl.NumberFormat("en-US");

// --- small helpers -----------------------------------------------------------------------------

// el("td", {class: "num"}, "text", child...): an element; strings become text nodes, functions
// given as on* attributes become listeners, null/false attributes and children are left out.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function $(id) { return document.getElementById(id); }

// A wide table scrolls sideways inside its card rather than overflowing it.
function scroll(table) { return el("div", {class: "scroll"}, table); }

// A table's head: the columns named in `numeric` are right-aligned, as their cells are.
function thead(columns, numeric = []) {
  return el("thead", {}, el("tr", {}, columns.map((h) => el("th", {class: numeric.includes(h) ? "num" : null}, h))));
}
function num(n) { return n === null || n === undefined ? "—" : NUM.format(n); }
function secs(s) { return s === null || s === undefined ? "—" : `${Number(s).toFixed(s < 10 ? 3 : 1)} s`; }
function when(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "—"; }
function badge(status) { return el("span", {class: `badge status-${status}`, "data-status": status}, status); }
function sum(obj) { return Object.values(obj || {}).reduce((a, b) => a + b, 0); }

function targetText(t) {
  if (!t) return "—";
  const what = t.format || t.kind || "?";
  const where = t.path || t.database || t.dsn || t.target || "";
  return where ? `${what} → ${where}` : what;
}

// --- the API -----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, problems) {
    super(message);
    this.status = status;
    this.problems = problems || [];
  }
}

function apiKey() { return sessionStorage.getItem(KEY_STORE) || ""; }

async function api(path, options = {}) {
  const headers = {Accept: "application/json"};
  if (apiKey()) headers["X-API-Key"] = apiKey();
  const init = {method: options.method || "GET", headers};
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch (exc) {
    throw new ApiError(0, `the service does not answer (${exc.message})`);
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (exc) { data = null; }
  if (response.ok) {
    hideNotice("key");
    return data;
  }
  let message = `${response.status} ${response.statusText}`;
  let problems = [];
  if (data && data.error) {
    message = data.error.message;
    problems = data.error.problems || [];
  } else if (data && Array.isArray(data.detail)) {  // FastAPI's validation errors
    message = data.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  }
  if (response.status === 401 || response.status === 403) {
    showNotice("key", response.status === 401 ? "This service needs an API key: enter it above."
      : "The API key is not valid: enter the right one above.");
  }
  throw new ApiError(response.status, message, problems);
}

function showNotice(kind, message) {
  const n = $("notice");
  n.dataset.kind = kind;
  fill(n, message);
  n.hidden = false;
}

function hideNotice(kind) {
  const n = $("notice");
  if (!n.hidden && n.dataset.kind === kind) n.hidden = true;
}

function errorBox(node, exc) {
  node.hidden = false;
  const problems = (exc.problems || []).map((p) =>
    el("li", {}, p.path ? el("code", {}, p.path) : null, p.path ? " " : null, p.message, p.hint ? ` (${p.hint})` : null));
  fill(node, el("strong", {}, exc.status ? `${exc.status}: ` : ""), exc.message,
    problems.length ? el("ul", {}, problems) : null);
}

// --- the views ---------------------------------------------------------------------------------

let cleanup = () => {};
let generation = 0;  // a view's callbacks check it: a view left behind stops updating

function route() {
  cleanup();
  cleanup = () => {};
  generation += 1;
  const hash = location.hash.replace(/^#/, "") || "/";
  const parts = hash.split("/").filter(Boolean).map(decodeURIComponent);
  const view = $("view");
  view.replaceChildren();
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.classList.toggle("active", a.dataset.nav === (parts[0] === "streams" ? "streams" : "runs"));
  }
  if (parts[0] === "runs" && parts[1]) cleanup = runView(view, parts[1]);
  else if (parts[0] === "streams" && parts[1]) cleanup = streamView(view, parts[1]);
  else if (parts[0] === "streams") cleanup = streamsView(view);
  else cleanup = homeView(view);
}

// A repeating refresh: fn() answers the delay before the next call (null: stop).
function every(fn) {
  const mine = generation;
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (stopped || mine !== generation) return;
    let delay = null;
    try { delay = await fn(); } catch (exc) { delay = 3000; }
    if (!stopped && mine === generation && delay !== null) timer = setTimeout(tick, delay);
  };
  tick();
  return {
    stop() { stopped = true; clearTimeout(timer); },
    now() { clearTimeout(timer); tick(); },
  };
}

// The dataset picker: schemas of the service's folder, then the blueprints.
async function datasetOptions(select, hint) {
  const [schemas, blueprints] = await Promise.all([api("/schemas"), api("/blueprints")]);
  const bps = {};
  fill(select,
    el("optgroup", {label: "Schemas"}, schemas.schemas.map((s) => el("option", {value: `schema:${s.id}`}, s.id))),
    el("optgroup", {label: "Blueprints"}, blueprints.blueprints.map((b) => {
      bps[b.name] = b;
      return el("option", {value: `blueprint:${b.name}`, title: b.description || ""}, b.name);
    })));
  if (hint) {
    const wanted = [...select.options].find((o) => o.value.endsWith(`/${hint}`) || o.value.endsWith(`:${hint}`));
    if (wanted) select.value = wanted.value;
  }
  return bps;
}

// name=value lines → an object ({} when empty); throws on a malformed line.
function keyValues(text, what, asNumber) {
  const out = {};
  for (const [i, raw] of text.split(/[\n,]/).entries()) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([^=\s]+)\s*=\s*(.+)$/.exec(line);
    if (!m) throw new ApiError(0, `${what}, line ${i + 1}: "${line}" is not NAME=VALUE`);
    if (asNumber) {
      if (!/^\d+$/.test(m[2].trim())) throw new ApiError(0, `${what}: ${m[1]}=${m[2]}: a whole number of rows`);
      out[m[1]] = Number(m[2].trim());
    } else {
      out[m[1]] = m[2].trim();
    }
  }
  return out;
}

function datasetBody(select, paramsText) {
  const [kind, ...rest] = select.value.split(":");
  const name = rest.join(":");
  if (!name) throw new ApiError(0, "pick a schema or a blueprint");
  if (kind === "blueprint") {
    const params = keyValues(paramsText, "parameters", false);
    return Object.keys(params).length ? {blueprint: name, params} : {blueprint: name};
  }
  return {schema_id: name};
}

// --- #/ : a run's form, its plan, the recent runs ------------------------------------------------

function homeView(view) {
  const form = el("form", {id: "run-form", class: "form", autocomplete: "off"},
    el("label", {for: "dataset"}, "Dataset"),
    el("select", {id: "dataset", required: true}, el("option", {value: ""}, "loading…")),
    el("label", {for: "params", class: "for-blueprint"}, "Parameters"),
    el("textarea", {id: "params", class: "for-blueprint", rows: 3, placeholder: "name=value, one a line"}),
    el("label", {for: "target"}, "Target"),
    el("select", {id: "target"},
      el("optgroup", {label: "Files, under the service's output folder"},
        FILE_KINDS.map((k) => el("option", {value: `kind:${k}`}, k))),
      el("optgroup", {id: "named-targets", label: "Named targets"})),
    el("label", {for: "path", class: "for-file"}, "Folder"),
    el("input", {id: "path", class: "for-file", placeholder: "default: <schema>/<format>", spellcheck: "false"}),
    el("label", {for: "mode"}, "Mode"),
    el("select", {id: "mode"},
      el("option", {value: ""}, "create (default)"), el("option", {value: "truncate"}, "truncate"),
      el("option", {value: "append"}, "append")),
    el("label", {for: "seed"}, "Seed"),
    el("input", {id: "seed", type: "number", min: 0, step: 1, placeholder: "the schema's"}),
    el("label", {for: "rows"}, "Rows"),
    el("textarea", {id: "rows", rows: 3, placeholder: "table=N, one a line (default: the schema's)",
      spellcheck: "false"}),
    el("div", {class: "buttons"},
      el("button", {id: "preview", type: "button"}, "Preview plan"),
      el("button", {id: "start", type: "submit", class: "primary"}, "Start run")),
    el("div", {id: "form-error", class: "error", hidden: true}),
    el("div", {id: "form-ok", class: "ok", hidden: true}));
  const planCard = el("section", {class: "card", id: "plan-card"}, el("h2", {}, "Plan"),
    el("div", {id: "plan"}, el("p", {class: "muted"},
      "Preview plan shows the tables, rows, seed and config hash a run would use — nothing is written.")));
  const runsCard = el("section", {class: "card wide"},
    el("h2", {}, "Recent runs ", el("span", {id: "runs-refresh", class: "muted small"})),
    scroll(el("table", {id: "runs", class: "grid"},
      thead(["Run", "Dataset", "Status", "Rows", "Target", "Started", "Seconds"], ["Rows", "Seconds"]),
      el("tbody", {}, el("tr", {}, el("td", {colspan: 7, class: "muted"}, "loading…"))))));
  view.append(el("div", {class: "columns"}, el("section", {class: "card"}, el("h2", {}, "New run"), form), planCard),
    runsCard);

  const dataset = $("dataset");
  const target = $("target");
  let blueprints = {};
  let targets = {};

  function sync() {
    const isBlueprint = dataset.value.startsWith("blueprint:");
    for (const n of form.querySelectorAll(".for-blueprint")) n.hidden = !isBlueprint;
    if (isBlueprint) {
      const bp = blueprints[dataset.value.slice("blueprint:".length)];
      $("params").placeholder = bp ? bp.parameters.map((p) => `${p.name}=${p.default}`).join("\n") : "";
    }
    const [kind, name] = target.value.split(":");
    const isDatabase = kind === "id" || name === "sqlite";
    for (const n of form.querySelectorAll(".for-file")) n.hidden = !(kind === "kind");
    $("mode").disabled = !isDatabase;
    if (!isDatabase) $("mode").value = "";
    $("mode").title = isDatabase ? "" : "a database target only (sqlite, a named target)";
  }

  function body() {
    const out = datasetBody(dataset, $("params").value);
    const [kind, name] = target.value.split(":");
    if (kind === "id") {
      out.target_id = name;
    } else {
      out.target = {kind: name};
      const path = $("path").value.trim();
      if (path) out.target.path = path;
    }
    if ($("mode").value && !$("mode").disabled) out.mode = $("mode").value;
    const seed = $("seed").value.trim();
    if (seed) {
      if (!/^\d+$/.test(seed)) throw new ApiError(0, "the seed is a whole number, 0 or more");
      out.seed = Number(seed);
    }
    const rows = keyValues($("rows").value, "rows", true);
    if (Object.keys(rows).length) out.rows = rows;
    return out;
  }

  function showError(exc) {
    $("form-ok").hidden = true;
    errorBox($("form-error"), exc);
  }

  function clearMessages() {
    $("form-error").hidden = true;
    $("form-ok").hidden = true;
  }

  async function preview() {
    clearMessages();
    try {
      const plan = await api("/runs/plan", {method: "POST", body: body()});
      renderPlan(plan);
    } catch (exc) {
      showError(exc);
    }
  }

  function renderPlan(plan) {
    const info = {};
    for (const t of (plan.plan && plan.plan.tables) || []) info[t.name] = t;
    const names = Object.keys(plan.rows);
    fill($("plan"),
      el("dl", {class: "facts"},
        el("dt", {}, "Schema"), el("dd", {}, plan.schema_name),
        el("dt", {}, "Seed"), el("dd", {id: "plan-seed"}, String(plan.seed)),
        el("dt", {}, "Rows"), el("dd", {id: "plan-total"}, num(plan.total_rows)),
        el("dt", {}, "Target"), el("dd", {}, targetText(plan.target)),
        el("dt", {}, "Config hash"), el("dd", {class: "mono", title: plan.config_hash}, plan.config_hash.slice(0, 16) + "…")),
      scroll(el("table", {id: "plan-tables", class: "grid"},
        thead(["Table", "Rows", "Columns", "Depends on"], ["Rows", "Columns"]),
        el("tbody", {}, names.map((n) => el("tr", {"data-table": n},
          el("td", {}, n), el("td", {class: "num"}, num(plan.rows[n])),
          el("td", {class: "num"}, info[n] ? String(info[n].columns.length) : "—"),
          el("td", {}, info[n] && info[n].depends_on.length ? info[n].depends_on.join(", ") : "—")))))));
  }

  async function start(event) {
    event.preventDefault();
    clearMessages();
    const button = $("start");
    button.disabled = true;
    try {
      const run = await api("/runs", {method: "POST", body: body()});
      const ok = $("form-ok");
      fill(ok, "Started ", el("a", {href: `#/runs/${encodeURIComponent(run.id)}`}, run.id), ".");
      ok.hidden = false;
      refresh.now();
    } catch (exc) {
      showError(exc);
    } finally {
      button.disabled = false;
    }
  }

  dataset.addEventListener("change", sync);
  target.addEventListener("change", sync);
  $("preview").addEventListener("click", preview);
  form.addEventListener("submit", start);

  (async () => {
    try {
      blueprints = await datasetOptions(dataset);
      const named = await api("/targets");
      if (!form.isConnected) return;  // the page went to another view meanwhile
      for (const t of named.targets) targets[t.id] = t;
      fill($("named-targets"), named.targets.map((t) => el("option", {value: `id:${t.id}`}, `${t.id} (${t.kind})`)));
    } catch (exc) {
      if (!form.isConnected) return;
      if (exc.status !== 401 && exc.status !== 403) showError(exc);  // the notice asks for the key
    }
    sync();
  })();
  sync();

  const refresh = every(async () => {
    let data;
    try {
      data = await api("/runs?limit=20");
    } catch (exc) {
      fill($("runs").tBodies[0], el("tr", {}, el("td", {colspan: 7, class: "muted"}, `Cannot list the runs: ${exc.message}`)));
      return 5000;
    }
    renderRuns(data.runs);
    const active = data.runs.some((r) => RUN_ACTIVE.includes(r.status));
    fill($("runs-refresh"), active ? "— refreshing every second while a run is going" : "");
    return active ? 1000 : 5000;
  });
  return () => refresh.stop();
}

function renderRuns(runs) {
  const body = $("runs").tBodies[0];
  if (!runs.length) {
    fill(body, el("tr", {}, el("td", {colspan: 7, class: "muted"}, "No runs yet.")));
    return;
  }
  fill(body, runs.map((r) => el("tr", {"data-run": r.id},
    el("td", {class: "mono"}, el("a", {href: `#/runs/${encodeURIComponent(r.id)}`}, r.id)),
    el("td", {}, r.schema_name || "—"),
    el("td", {}, badge(r.status), r.progress && RUN_ACTIVE.includes(r.status) && r.progress.rows_total
      ? el("span", {class: "muted small"}, ` ${Math.floor(100 * r.progress.rows_done / r.progress.rows_total)}%`) : null),
    el("td", {class: "num"}, num(r.rows ? sum(r.rows) : null)),
    el("td", {class: "clip", title: targetText(r.target)}, targetText(r.target)),
    el("td", {}, when(r.started_at)),
    el("td", {class: "num"}, secs(r.seconds)))));
}

// --- #/runs/ID : one run ----------------------------------------------------------------------------

function runView(view, id) {
  view.append(el("p", {class: "back"}, el("a", {href: "#/"}, "← runs")),
    el("section", {class: "card wide"},
      el("h2", {}, "Run ", el("span", {class: "mono", id: "run-id"}, id), " ", el("span", {id: "run-status"}),
        el("button", {id: "cancel", type: "button", class: "danger right", hidden: true}, "Cancel")),
      el("div", {id: "run-problem", class: "error", hidden: true}),
      el("div", {id: "run-error", class: "error", hidden: true}),
      el("div", {class: "columns"},
        el("dl", {id: "run-facts", class: "facts"}),
        el("div", {},
          el("h3", {}, "Progress"),
          el("progress", {id: "run-progress", max: 1, value: 0}),
          el("p", {id: "run-progress-text", class: "muted small"}),
          el("h3", {}, "Tables"),
          scroll(el("table", {id: "run-tables", class: "grid"},
            thead(["Table", "Rows", "Done", "Seconds"], ["Rows", "Done", "Seconds"]),
            el("tbody", {}))))),
      el("div", {id: "run-warnings"}),
      el("h3", {}, "Log"),
      el("pre", {id: "run-logs", class: "log"})));

  $("cancel").addEventListener("click", async () => {
    $("cancel").disabled = true;
    try {
      await api(`/runs/${encodeURIComponent(id)}/cancel`, {method: "POST"});
    } catch (exc) {
      errorBox($("run-problem"), exc);
    }
    refresh.now();
  });

  let ended = 0;
  const refresh = every(async () => {
    let run;
    try {
      run = await api(`/runs/${encodeURIComponent(id)}`);
      $("run-problem").hidden = true;
    } catch (exc) {
      errorBox($("run-problem"), exc);
      return exc.status === 404 ? null : 3000;
    }
    const logs = await api(`/runs/${encodeURIComponent(id)}/logs`).catch(() => ({lines: []}));
    renderRun(run, logs.lines);
    if (RUN_ACTIVE.includes(run.status)) return 1000;
    ended += 1;
    return ended < 2 ? 1000 : null;  // once more after the end: the last log lines
  });
  return () => refresh.stop();
}

function renderRun(run, lines) {
  fill($("run-status"), badge(run.status), run.cancelling ? el("span", {class: "muted small"}, " cancelling…") : null);
  const cancel = $("cancel");
  cancel.hidden = !RUN_ACTIVE.includes(run.status);
  if (run.cancelling) cancel.disabled = true;
  const facts = [
    ["Dataset", run.schema_name || "—"], ["Seed", run.seed === null ? "—" : String(run.seed)],
    ["Config hash", run.config_hash || "—"], ["Target", targetText(run.target)],
    ["Started", when(run.started_at)], ["Finished", when(run.finished_at)], ["Seconds", secs(run.seconds)],
    ["Rows", num(run.rows ? sum(run.rows) : null)],
  ];
  fill($("run-facts"), facts.map(([k, v]) => [el("dt", {}, k),
    el("dd", {class: k === "Config hash" ? "mono" : null, "data-fact": k.toLowerCase().replace(" ", "-")}, v)]));
  const p = run.progress;
  const bar = $("run-progress");
  if (p && p.rows_total) {
    bar.max = p.rows_total;
    bar.value = p.rows_done;
    fill($("run-progress-text"), `${num(p.rows_done)} of ${num(p.rows_total)} rows, ${p.tables_done} of ` +
      `${p.tables_total} tables` + (p.current_table ? `, now ${p.current_table}` : ""));
  } else {
    bar.removeAttribute("value");
    fill($("run-progress-text"), p ? "" : "no progress known (a run of another process)");
  }
  const tables = run.tables || {};
  fill($("run-tables").tBodies[0], Object.entries(tables).map(([name, t]) => el("tr", {"data-table": name},
    el("td", {}, name), el("td", {class: "num"}, num(t.rows)), el("td", {class: "num"}, num(t.rows_done)),
    el("td", {class: "num"}, secs(t.seconds)))));
  const error = $("run-error");
  error.hidden = !run.error;
  error.classList.toggle("warn", run.status === "interrupted");
  if (run.error) {
    fill(error, el("strong", {}, run.status === "interrupted" ? "The run was interrupted:" : "The run failed:"),
      el("pre", {}, run.error));
  }
  fill($("run-warnings"), run.warnings.length
    ? [el("h3", {}, "Warnings"), el("ul", {class: "warnings"}, run.warnings.map((w) => el("li", {}, w)))] : []);
  fill($("run-logs"), lines.map((l) => `${when(l.at)}  ${l.message}\n`).join("") || "(no log lines)");
}

// --- #/streams : start a stream, the streams of this service ------------------------------------

function streamsView(view) {
  const form = el("form", {id: "stream-form", class: "form", autocomplete: "off"},
    el("label", {for: "stream-dataset"}, "Dataset"),
    el("select", {id: "stream-dataset"}, el("option", {value: ""}, "loading…")),
    el("label", {for: "stream-params", class: "for-blueprint"}, "Parameters"),
    el("textarea", {id: "stream-params", class: "for-blueprint", rows: 2, placeholder: "name=value, one a line"}),
    el("label", {for: "eps"}, "Events per second"),
    el("input", {id: "eps", type: "number", min: 0, step: "any", value: 50, placeholder: "empty: as fast as possible"}),
    el("label", {for: "max-events"}, "Max events"),
    el("input", {id: "max-events", type: "number", min: 0, step: 1, value: 1000, placeholder: "empty: until the events run out"}),
    el("label", {for: "stream-seed"}, "Seed"),
    el("input", {id: "stream-seed", type: "number", min: 0, step: 1, placeholder: "the schema's"}),
    el("div", {class: "buttons"}, el("button", {id: "stream-start", type: "submit", class: "primary"}, "Start stream")),
    el("div", {id: "stream-error", class: "error", hidden: true}));
  view.append(el("div", {class: "columns"},
    el("section", {class: "card"}, el("h2", {}, "New stream"),
      el("p", {class: "muted small"}, "A schema with an event table; its events come over a WebSocket."), form),
    el("section", {class: "card"}, el("h2", {}, "Streams of this service"),
      scroll(el("table", {id: "streams", class: "grid"},
        thead(["Stream", "Dataset", "Status", "Events", "Rate"], ["Events", "Rate"]),
        el("tbody", {}))))));

  const dataset = $("stream-dataset");
  const sync = () => {
    for (const n of form.querySelectorAll(".for-blueprint")) n.hidden = !dataset.value.startsWith("blueprint:");
  };
  dataset.addEventListener("change", sync);
  datasetOptions(dataset, "iot").then(sync, (exc) => { if (form.isConnected) errorBox($("stream-error"), exc); });
  sync();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("stream-error").hidden = true;
    try {
      const body = datasetBody(dataset, $("stream-params").value);
      const eps = $("eps").value.trim();
      body.events_per_second = eps && Number(eps) > 0 ? Number(eps) : null;
      const max = $("max-events").value.trim();
      if (max) body.max_events = Number(max);
      const seed = $("stream-seed").value.trim();
      if (seed) body.seed = Number(seed);
      const created = await api("/streams", {method: "POST", body});
      location.hash = `#/streams/${encodeURIComponent(created.id)}`;
    } catch (exc) {
      errorBox($("stream-error"), exc);
    }
  });

  const refresh = every(async () => {
    const data = await api("/streams");
    const body = $("streams").tBodies[0];
    if (!data.streams.length) fill(body, el("tr", {}, el("td", {colspan: 5, class: "muted"}, "No streams yet.")));
    else fill(body, data.streams.map((s) => el("tr", {"data-stream": s.id},
      el("td", {class: "mono"}, el("a", {href: `#/streams/${encodeURIComponent(s.id)}`}, s.id)),
      el("td", {}, s.schema_name), el("td", {}, badge(s.status)), el("td", {class: "num"}, num(s.events_produced)),
      el("td", {class: "num"}, s.rate_measured === null ? "—" : `${num(Math.round(s.rate_measured))}/s`))));
    return data.streams.some((s) => STREAM_LIVE.includes(s.status)) ? 1000 : 5000;
  });
  return () => refresh.stop();
}

// --- #/streams/ID : one stream, live --------------------------------------------------------------

function streamView(view, id) {
  const path = `/streams/${encodeURIComponent(id)}`;
  view.append(el("p", {class: "back"}, el("a", {href: "#/streams"}, "← streams")),
    el("section", {class: "card wide"},
      el("h2", {}, "Stream ", el("span", {class: "mono"}, id), " ", el("span", {id: "stream-status"}),
        el("span", {class: "right"},
          el("button", {id: "pause", type: "button"}, "Pause"), " ",
          el("button", {id: "resume", type: "button"}, "Resume"), " ",
          el("button", {id: "stop", type: "button", class: "danger"}, "Stop"))),
      el("div", {id: "stream-error", class: "error", hidden: true}),
      el("div", {class: "stats"},
        el("div", {}, el("span", {class: "stat", id: "received"}, "0"), el("span", {class: "muted"}, "events received")),
        el("div", {}, el("span", {class: "stat", id: "rate"}, "—"), el("span", {class: "muted"}, "events/s (last 5 s)")),
        el("div", {}, el("span", {class: "stat", id: "produced"}, "0"), el("span", {class: "muted"}, "produced by the service")),
        el("div", {}, el("span", {class: "stat", id: "dropped"}, "0"), el("span", {class: "muted"}, "dropped for this page"))),
      el("p", {class: "muted small"}, el("span", {id: "ws-state"}, "connecting…"), " ", el("span", {id: "stream-info"})),
      el("h3", {}, `Last ${LAST_EVENTS} events`),
      scroll(el("table", {id: "events", class: "grid events"},
        thead(["#", "Type", "Time", "Key", "Data"], ["#"]),
        el("tbody", {})))));

  let received = 0;
  let produced = 0;  // the most the service is known to have produced (never less than what arrived)
  let ended = false;
  const last = [];
  const arrivals = [];  // [time, received] samples for the rate
  let drawPending = false;

  function draw() {
    drawPending = false;
    fill($("received"), num(received));
    const now = performance.now();
    while (arrivals.length > 1 && now - arrivals[0][0] > 5000) arrivals.shift();
    if (arrivals.length > 1 && !ended) {
      const [t0, n0] = arrivals[0];
      const span = (now - t0) / 1000;
      fill($("rate"), span > 0.5 ? num(Math.round((received - n0) / span)) : "—");
    }
    fill($("events").tBodies[0], last.map(([seq, e]) => el("tr", {},
      el("td", {class: "num"}, String(seq)), el("td", {}, e.event_type ?? e.table ?? ""),
      el("td", {class: "mono"}, e.ts ?? ""), el("td", {class: "mono"}, e.key === undefined ? "" : JSON.stringify(e.key)),
      el("td", {class: "mono clip"}, JSON.stringify(e.data ?? e)))));
  }

  function later() {
    if (!drawPending) {
      drawPending = true;
      requestAnimationFrame(draw);
    }
  }

  function showProduced(n) {
    produced = Math.max(produced, n);
    fill($("produced"), num(produced));
  }

  function showStatus(status) {
    fill($("stream-status"), badge(status));
    const live = STREAM_LIVE.includes(status);
    $("pause").disabled = !live || status === "paused";
    $("resume").disabled = status !== "paused";
    $("stop").disabled = !live;
  }

  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = apiKey() ? `?batch=200&api_key=${encodeURIComponent(apiKey())}` : "?batch=200";
  const ws = new WebSocket(`${scheme}://${location.host}${API}/ws${path}${query}`);
  ws.addEventListener("open", () => fill($("ws-state"), "connected"));
  ws.addEventListener("message", (message) => {
    let m;
    try { m = JSON.parse(message.data); } catch (exc) { return; }
    if (m.type === "events") {
      received += m.events.length;
      arrivals.push([performance.now(), received]);
      m.events.forEach((e, k) => last.unshift([m.stream_seq + k, e]));
      showProduced(m.stream_seq + m.events.length);
      last.length = Math.min(last.length, LAST_EVENTS);
    } else if (m.type === "status" || m.type === "end" || m.type === "subscribed") {
      showStatus(m.status);
      if (m.dropped !== undefined) fill($("dropped"), num(m.dropped));
      if (m.events_produced !== undefined) showProduced(m.events_produced);
      if (m.type === "end") {
        ended = true;
        fill($("ws-state"), `ended: ${m.reason}`);
        fill($("rate"), "—");
      }
    }
    later();
  });
  ws.addEventListener("close", (event) => {
    const why = event.reason || (event.code === 1006 ? "the connection was lost" : "");
    if (!ended) fill($("ws-state"), `closed (${event.code}${why ? `: ${why}` : ""})`);
    ended = true;
    fill($("rate"), "—");
    refresh.now();
  });

  async function control(what) {
    $("stream-error").hidden = true;
    try {
      const s = await api(`${path}/${what}`, {method: "POST"});
      showStatus(s.status);
    } catch (exc) {
      errorBox($("stream-error"), exc);
    }
  }
  $("pause").addEventListener("click", () => control("pause"));
  $("resume").addEventListener("click", () => control("resume"));
  $("stop").addEventListener("click", () => control("stop"));

  const refresh = every(async () => {
    let s;
    try {
      s = await api(path);
    } catch (exc) {
      errorBox($("stream-error"), exc);
      return exc.status === 404 ? null : 3000;
    }
    showStatus(s.status);
    showProduced(s.events_produced);
    const pace = s.events_per_second === null ? "as fast as the subscribers take them" : `${num(s.events_per_second)}/s`;
    fill($("stream-info"), `— ${s.schema_name}, seed ${s.seed}, pace ${pace}` +
      (s.max_events === null ? "" : `, at most ${num(s.max_events)} events`));
    return STREAM_LIVE.includes(s.status) ? 1000 : null;
  });
  return () => {
    refresh.stop();
    ws.close(1000, "left the page");
  };
}

// --- start --------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  const key = $("api-key");
  key.value = apiKey();
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (key.value.trim()) sessionStorage.setItem(KEY_STORE, key.value.trim());
    else sessionStorage.removeItem(KEY_STORE);
    hideNotice("key");
    route();
  });
  window.addEventListener("hashchange", route);
  route();
});
