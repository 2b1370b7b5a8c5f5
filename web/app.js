// The dashboard: reads the JSON API of the server that serves this page.
"use strict";

const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const num = (x) => (typeof x === "number" ? x.toFixed(4) : "—");
const when = (t) => (t ? esc(String(t).replace("T", " ").replace(/\.\d+Z$/, "")) : "—");

// With API tokens configured, the API needs one: asked once, kept in this browser.
function authHeaders(extra = {}) {
  const token = localStorage.getItem("boucle-token");
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

function askToken() {
  const box = $("#token");
  box.hidden = false;
  box.querySelector("input").focus();
}

async function get(path) {
  const r = await fetch(path, { headers: authHeaders() });
  if (r.status === 401) askToken();
  return { status: r.status, body: await r.json() };
}

function rows(table, items, cells) {
  $(`#${table} tbody`).innerHTML = items.map((it) => `<tr>${cells(it).map((c) => `<td>${c}</td>`).join("")}</tr>`).join("");
}

async function refresh() {
  const ready = await get("/readyz");
  const health = $("#health");
  health.textContent = ready.status === 200 ? "ready" : "not ready";
  health.className = "pill " + (ready.status === 200 ? "ok" : "bad");
  const tasks = Object.entries(ready.body.tasks || {});
  $("#tasks").innerHTML = tasks.map(([name, t]) =>
    `<div class="card" data-task="${esc(name)}"><div>${esc(name)} <small>(${esc(t.type)})</small></div>` +
    `<div>serving <b>${t.model_version ? "v" + esc(t.model_version) : "no model yet"}</b></div></div>`).join("");
  const select = $("#try-task");
  if (!select.options.length) select.innerHTML = tasks.map(([n]) => `<option>${esc(n)}</option>`).join("");

  const models = [];
  for (const [name] of tasks) {
    const m = await get(`/v1/tasks/${encodeURIComponent(name)}/models`);
    for (const v of m.body.models || []) models.push({ task: name, ...v });
  }
  rows("models", models, (m) => [esc(m.task), esc(m.version), esc((m.aliases || []).join(", ")),
    num(m.metrics && m.metrics.accuracy), num(m.metrics && m.metrics.f1_macro),
    `<code>${esc((m.dataset_hash || "").slice(0, 12))}</code>`, when(m.created_at)]);
  const runs = await get("/v1/runs?limit=20");
  rows("runs", runs.body.runs || [], (r) => [`<code>${esc(r.id.slice(0, 8))}</code>`, esc(r.task), esc(r.kind),
    esc(r.status), when(r.started_at), when(r.ended_at)]);
  const ds = await get("/v1/datasets");
  rows("datasets", ds.body.datasets || [], (d) => [esc(d.id), esc(d.task), esc(d.rows), esc(d.train_rows),
    esc(d.test_rows), `<code>${esc((d.hash || "").slice(0, 12))}</code>`, esc(d.source)]);
}

$("#try").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const task = $("#try-task").value;
  const r = await fetch(`/v1/tasks/${encodeURIComponent(task)}/predict`, {
    method: "POST", headers: authHeaders({ "Content-Type": "application/json" }),
    body: JSON.stringify({ text: $("#try-text").value }),
  });
  const body = await r.json();
  const out = $("#try-result");
  if (!r.ok) { out.textContent = body.error ? body.error.message : "error"; return; }
  out.innerHTML = `<div><b class="label">${esc(body.label)}</b> (model v${esc(body.model_version)})</div>` +
    Object.entries(body.probabilities).map(([k, p]) =>
      `<div><span class="bar" style="width:${Math.round(p * 200)}px"></span>${esc(k)} ${p.toFixed(3)}</div>`).join("");
});

$("#token").addEventListener("submit", (ev) => {
  ev.preventDefault();
  localStorage.setItem("boucle-token", $("#token input").value.trim());
  $("#token").hidden = true;
  refresh();
});

refresh();
setInterval(refresh, 5000);
