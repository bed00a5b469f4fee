// kubestate explorer: plain JavaScript, no build step. Talks to /api/v1/explorer/*.
"use strict";

const API = "/api/v1/explorer";
const main = document.getElementById("main");
const WINDOW = 3600;
const PHASES = ["Running", "Pending", "Succeeded", "Failed", "Unknown"];
const PALETTE = ["#2f6fde", "#12875b", "#dc6803", "#d92d20", "#7a5af8", "#0e9384", "#c11574",
  "#667085", "#4e5ba6", "#b54708", "#099250", "#6172f3"];
const PHASE_COLOR = { Running: "#12875b", Pending: "#dc6803", Succeeded: "#2f6fde", Failed: "#d92d20", Unknown: "#667085" };

// ---- helpers ---------------------------------------------------------------

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

async function api(path, opts) {
  const r = await fetch(API + path, opts);
  let body = null;
  try { body = await r.json(); } catch (e) { body = { error: r.statusText }; }
  if (!r.ok) { const err = new Error(body.error || r.statusText); err.body = body; err.status = r.status; throw err; }
  return body;
}

const nf = new Intl.NumberFormat("en-US");
function num(v) {
  if (v === null || v === undefined) return "–";
  if (!isFinite(v)) return String(v);
  if (Number.isInteger(v)) return nf.format(v);
  return nf.format(Math.round(v * 100) / 100);
}
function bytes(v) {
  if (v === null || v === undefined) return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return (i ? v.toFixed(v < 10 ? 2 : 1) : v) + " " + u[i];
}
function q(s) { return encodeURIComponent(s); }
function objectHref(resource, namespace, name) {
  return "#/object/" + q(resource) + "/" + q(namespace || "_") + "/" + q(name);
}
function queryHref(query) { return "#/query?q=" + q(query); }
function labelChips(labels) {
  return h("div", { class: "chips" }, labels.map(([k, v]) =>
    h("span", { class: "chip k", title: k + "=" + JSON.stringify(v) }, k, "=", h("b", {}, v))));
}
// Replaces the page's content (null, undefined and false children are left out).
function show(...kids) {
  main.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}
function card(label, value, sub, id) {
  return h("div", { class: "card" }, h("div", { class: "label" }, label),
    h("div", { class: "value", id }, value), sub ? h("div", { class: "sub" }, sub) : null);
}

// ---- live history (ring buffer mirror, fed by server-sent events) -----------

const hist = { times: [], series: {} };
const listeners = new Set();
let lastTick = 0;

async function loadHistory() {
  const d = await api("/history");
  hist.times = d.times;
  hist.series = d.series;
  lastTick = d.times.length ? d.times[d.times.length - 1] : 0;
}

function addTick(t) {
  if (t.time <= lastTick) return;
  lastTick = t.time;
  const n = hist.times.length;
  hist.times.push(t.time);
  for (const [id, col] of Object.entries(hist.series)) col.push(id in t.values ? t.values[id] : null);
  for (const [id, v] of Object.entries(t.values)) {
    if (!(id in hist.series)) { hist.series[id] = new Array(n).fill(null); hist.series[id].push(v); }
  }
  let drop = 0;
  while (drop < hist.times.length && hist.times[drop] < t.time - WINDOW) drop++;
  if (drop) {
    hist.times.splice(0, drop);
    for (const col of Object.values(hist.series)) col.splice(0, drop);
  }
  for (const f of listeners) f();
}

function connect() {
  const live = document.getElementById("live");
  const es = new EventSource(API + "/events");
  es.addEventListener("open", () => { live.textContent = "live"; live.className = "live on"; });
  es.addEventListener("error", () => { live.textContent = "reconnecting"; live.className = "live off"; });
  es.addEventListener("tick", (e) => {
    try { addTick(JSON.parse(e.data)); } catch (err) { console.error(err); }
  });
}

// ---- charts ----------------------------------------------------------------

function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

// A chart over the series whose ids `pick` returns; rebuilt when that set changes.
function chart(container, pick, opts) {
  let u = null, ids = [];
  const el = h("div", { class: "plot" });
  const legend = h("div", { class: "glegend" });
  container.append(el, legend);
  function data() {
    return [hist.times, ...ids.map((id) => hist.series[id] || [])];
  }
  function color(id, i) { return opts.color ? opts.color(id, i) : PALETTE[i % PALETTE.length]; }
  function build() {
    if (u) u.destroy();
    const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--line"), width: 1 }, ticks: { stroke: cssVar("--line") },
      font: "11px system-ui, sans-serif" };
    const width = Math.max(280, el.clientWidth || container.clientWidth - 24);
    u = new uPlot({
      width, height: 190,
      cursor: { points: { size: 6 } },
      legend: { show: false },
      scales: { x: { time: true }, y: { range: (self, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 1) * 1.1)] } },
      axes: [Object.assign({ values: (self, splits) => {
          const secs = splits.length > 1 && splits[splits.length - 1] - splits[0] < 600;
          return splits.map((t) => clock(t, secs));
        } }, axis),
        Object.assign({ size: opts.fmt ? 74 : 60, values: (self, splits) => splits.map(opts.fmt || num) }, axis)],
      series: [{}, ...ids.map((id, i) => ({
        label: opts.label ? opts.label(id) : id, stroke: color(id, i), width: 1.6, points: { show: false },
      }))],
    }, data(), el);
  }
  function drawLegend() {
    legend.replaceChildren(...ids.map((id, i) => {
      const c = hist.series[id] || [];
      const v = c.length ? c[c.length - 1] : null;
      return h("span", { class: "item", title: id }, h("i", { style: `background:${color(id, i)}` }),
        opts.label ? opts.label(id) : id, " ", h("b", {}, v === null ? "–" : (opts.fmt || num)(v)));
    }));
  }
  function update() {
    const next = pick();
    if (next.join("\n") !== ids.join("\n") || !u) { ids = next; build(); } else { u.setData(data()); }
    el.dataset.points = String(hist.times.length);
    drawLegend();
    if (opts.now) {
      const last = ids.map((id) => { const c = hist.series[id] || []; return c[c.length - 1]; });
      opts.now(last, ids);
    }
  }
  function resize() { if (u) u.setSize({ width: Math.max(280, el.clientWidth), height: 190 }); }
  return { update, resize, destroy() { if (u) u.destroy(); } };
}

const CHARTS = [
  { title: "Pods by phase", pick: () => PHASES.map((p) => "pods.phase." + p).filter((id) => id in hist.series),
    label: (id) => id.slice("pods.phase.".length), color: (id) => PHASE_COLOR[id.slice("pods.phase.".length)] },
  { title: "Missing replicas", sub: "deployments, statefulsets, daemonsets", pick: () => ["workloads.missing_replicas"], label: () => "missing" },
  { title: "Container restarts", sub: "per minute", pick: () => ["pods.restarts_per_minute"].filter((id) => id in hist.series), label: () => "restarts/min" },
  { title: "Not-ready nodes", pick: () => ["nodes.not_ready"], label: () => "not ready", color: () => "#d92d20" },
  { title: "Objects per kind", sub: "top 8", pick: () => Object.keys(hist.series).filter((id) => id.startsWith("objects."))
      .sort((a, b) => lastOf(b) - lastOf(a)).slice(0, 8), label: (id) => id.slice("objects.".length) },
  { title: "Watch events", sub: "per second", pick: () => ["exporter.events_per_second"], label: () => "events/s" },
  { title: "Exporter memory", sub: "resident set", pick: () => ["exporter.rss_bytes"].filter((id) => id in hist.series), label: () => "RSS", fmt: bytes },
];
function clock(t, secs) {
  const d = new Date(t * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return p(d.getHours()) + ":" + p(d.getMinutes()) + (secs ? ":" + p(d.getSeconds()) : "");
}
function lastOf(id) { const c = hist.series[id] || []; for (let i = c.length - 1; i >= 0; i--) if (c[i] !== null) return c[i]; return 0; }

// ---- views -----------------------------------------------------------------

let cleanup = [];
function onCleanup(f) { cleanup.push(f); }

async function viewOverview() {
  const o = await api("/overview");
  document.getElementById("version").textContent = "v" + o.version;
  const synced = o.resources.filter((r) => r.stores > 0 && r.synced === r.stores).length;
  const watched = o.resources.filter((r) => r.stores > 0).length;
  const errors = o.resources.reduce((a, r) => a + r.list_errors + r.watch_errors, 0);
  const phases = o.pods_by_phase || {};
  const podTotal = Object.values(phases).reduce((a, b) => a + b, 0);
  const probs = o.problems.map((p) => {
    const cls = !p.available ? "problem na" : p.count > 0 ? "problem bad" : "problem";
    return h("a", { class: cls, href: "#/problems/" + p.id, "data-problem": p.id },
      h("div", { class: "count" }, p.available ? num(p.count) : "n/a"),
      h("div", { class: "title" }, p.title),
      h("div", { class: "chips" }, p.by.slice(0, 4).map(([r, n]) => h("span", { class: "chip" }, r, " ", h("b", {}, num(n))))));
  });
  const bar = h("div", { class: "phasebar" }, PHASES.filter((p) => phases[p]).map((p) =>
    h("span", { style: `width:${(100 * phases[p] / podTotal).toFixed(3)}%;background:${PHASE_COLOR[p]}`, title: `${p}: ${phases[p]}` })));
  const legend = h("div", { class: "legend" }, PHASES.filter((p) => phases[p]).map((p) =>
    h("a", { href: queryHref(`kube_pod_status_phase{phase="${p}"} == 1`), class: "muted" },
      h("i", { style: `background:${PHASE_COLOR[p]}` }), p, " ", h("b", { "data-phase": p }, num(phases[p])))));
  const rows = o.resources.map((r) => h("tr", { "data-resource": r.resource },
    h("td", {}, h("a", { href: "#/objects/" + q(r.resource) }, r.resource)),
    h("td", { class: "num", "data-col": "objects" }, num(r.objects)),
    h("td", { class: "num", "data-col": "series" }, num(r.series)),
    h("td", {}, r.stores === 0 ? h("span", { class: "muted" }, "custom")
      : r.synced === r.stores ? h("span", { class: "ok" }, "synced", r.sync_seconds !== null ? h("span", { class: "muted" }, ` in ${r.sync_seconds.toFixed(2)} s`) : "")
      : h("span", { class: "warn" }, `syncing ${r.synced}/${r.stores}`)),
    h("td", { class: "num" }, num(r.events_per_second)),
    h("td", { class: "num" }, r.list_errors + r.watch_errors ? h("span", { class: "bad" }, num(r.list_errors + r.watch_errors)) : "0"),
    h("td", { class: "num" }, r.malformed ? h("span", { class: "bad" }, num(r.malformed)) : "0")));
  show(
    h("h1", {}, "Cluster overview"),
    h("div", { class: "cards" },
      card("Objects", num(o.objects), `${o.resources.length} resources`, "stat-objects"),
      card("Series", num(o.series), "in /metrics", "stat-series"),
      card("Pods", num(podTotal), `${num(phases.Running || 0)} running`, "stat-pods"),
      card("Watch events", num(o.events_per_second) + "/s", `${num(errors)} request errors`, "stat-events"),
      card("Sync", `${synced}/${watched}`, o.synced ? "all stores synced" : "initial sync running", "stat-sync"),
      card("Exporter memory", bytes(o.memory.rss_bytes), `graphs hold ${bytes(o.memory.history_bytes)}`, "stat-memory")),
    podTotal ? h("div", {}, bar, legend) : null,
    h("h2", {}, "Problems at a glance"),
    h("div", { class: "problems" }, probs),
    h("h2", {}, "Resources"),
    h("div", { class: "tablewrap" }, h("table", { id: "resources" },
      h("thead", {}, h("tr", {}, h("th", {}, "Resource"), h("th", { class: "num" }, "Objects"), h("th", { class: "num" }, "Series"),
        h("th", {}, "Watch"), h("th", { class: "num" }, "Events/s"), h("th", { class: "num" }, "Errors"), h("th", { class: "num" }, "Malformed"))),
      h("tbody", {}, rows))),
    h("p", { class: "muted", style: "font-size:12px;margin-top:12px" },
      o.sampled ? `Sampled ${new Date(o.time * 1000).toLocaleTimeString()} in ${o.sample_ms.toFixed(0)} ms, every ${o.interval_seconds} s.` : "Waiting for the first sample…"));
}

async function viewGraphs() {
  const pins = await api("/pins");
  const grid = h("div", { class: "graphs" });
  const charts = [];
  function addChart(def, extra) {
    const nowEl = h("span", { class: "now" });
    const box = h("div", { class: "graph", "data-chart": def.title },
      h("div", { class: "head" }, h("span", { class: "title", title: def.title }, def.title), def.sub ? h("span", { class: "muted" }, def.sub) : null, nowEl, extra || null),
      def.note ? h("div", { class: "note" }, def.note) : null);
    grid.append(box);
    charts.push({ box, def, nowEl });
  }
  for (const def of CHARTS) addChart(def);
  for (const p of pins) {
    const prefix = `pin.${p.id}.`;
    addChart({ title: p.query, sub: "since " + clock(p.since), note: p.error,
      pick: () => Object.keys(hist.series).filter((id) => id.startsWith(prefix)).sort(),
      label: (id) => id.slice(prefix.length) || "value" },
      h("button", { class: "small", onclick: async () => { await api("/pins/" + p.id, { method: "DELETE" }); route(); } }, "Unpin"));
  }
  show(h("h1", {}, "Live graphs ", h("span", { class: "muted", style: "font-size:13px;font-weight:400" },
    `last hour, a point every few seconds; pin a query on the Query page to graph it here`)), grid);
  for (const c of charts) {
    c.chart = chart(c.box, c.def.pick, { label: c.def.label, color: c.def.color, fmt: c.def.fmt,
      now: (vals) => { c.nowEl.textContent = vals.length === 1 ? (c.def.fmt || num)(vals[0]) : ""; } });
    c.chart.update();
  }
  const upd = () => charts.forEach((c) => c.chart.update());
  const rs = () => charts.forEach((c) => c.chart.resize());
  listeners.add(upd);
  window.addEventListener("resize", rs);
  onCleanup(() => { listeners.delete(upd); window.removeEventListener("resize", rs); charts.forEach((c) => c.chart.destroy()); });
}

const EXAMPLES = [
  'sum by (phase) (kube_pod_status_phase == 1)',
  'kube_deployment_status_replicas_unavailable > 0',
  'count by (namespace) (kube_pod_info)',
  'max by (namespace) (kube_pod_container_status_restarts_total)',
  'kube_node_status_condition{condition="Ready",status="true"}',
];

async function viewQuery(params) {
  const text = params.get("q") || "";
  const offset = parseInt(params.get("offset") || "0", 10) || 0;
  const limit = 100;
  const input = h("input", { type: "text", class: "q", id: "query-input", value: text, spellcheck: "false", autocomplete: "off",
    placeholder: 'kube_pod_info{namespace="default"}   or   sum by (phase) (kube_pod_status_phase == 1)' });
  const run = () => { location.hash = queryHref(input.value.trim()); };
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") run(); });
  const out = h("div", { id: "query-out" });
  show(
    h("h1", {}, "Query"),
    h("div", { class: "row" }, input, h("button", { class: "primary", id: "query-run", onclick: run }, "Run")),
    h("div", { class: "examples" }, "Try: ", EXAMPLES.map((e) => h("a", { href: queryHref(e) }, e))),
    out);
  input.focus();
  if (!text) {
    out.append(h("p", { class: "muted", style: "margin-top:16px" },
      "A Prometheus-style selector over the current state: family{label=\"v\", label=~\"re\", label!=\"x\", label!~\"re\"}, ",
      "an optional filter (== != > < >= <= number), and sum / count / min / max / avg by (labels) or without (labels)."));
    return;
  }
  let r;
  try {
    r = await api(`/query?q=${q(text)}&offset=${offset}&limit=${limit}`);
  } catch (e) {
    const pos = e.body && typeof e.body.pos === "number" ? e.body.pos : null;
    out.append(h("div", { class: "error", id: "query-error" }, pos !== null ? `${text}\n${" ".repeat(pos)}^\n` : "", e.message));
    return;
  }
  const pinBtn = h("button", { class: "small", id: "query-pin", onclick: async () => {
    try { await api(`/pins?q=${q(text)}`, { method: "POST" }); location.hash = "#/graphs"; }
    catch (e) { pinBtn.after(h("span", { class: "bad" }, " " + e.message)); }
  } }, "Pin as live graph");
  const groups = r.kind === "groups";
  const head = groups ? ["Group", "Value"] : ["Series", "Value"];
  const rows = r.rows.map((row) => {
    const name = row.labels.find(([k]) => ["pod", "node", "deployment", "replicaset", "statefulset", "daemonset", "job", "namespace"].includes(k));
    return h("tr", {},
      h("td", { class: "labels" }, row.family ? h("span", { class: "mono" }, row.family) : null,
        row.labels.length ? labelChips(row.labels) : h("span", { class: "muted" }, "{}"),
        groups ? null : objectLink(row)),
      h("td", { class: "num mono" }, num(row.value)));
  });
  const pages = Math.max(1, Math.ceil(r.total_rows / limit));
  const page = Math.floor(offset / limit) + 1;
  const go = (o) => { location.hash = `#/query?q=${q(text)}&offset=${o}`; };
  out.append(...[
    h("div", { class: "meta" },
      h("span", { id: "query-count" }, `${num(r.total_rows)} ${groups ? "groups" : "series"}`),
      h("span", {}, `${num(r.matched)} matched of ${num(r.scanned)} read`),
      h("span", {}, `${r.elapsed_ms.toFixed(1)} ms`),
      r.truncated ? h("span", { class: "notice" }, `capped at ${num(r.max_rows)} rows: narrow the selector`) : null,
      h("span", { style: "margin-left:auto" }, pinBtn)),
    r.rows.length ? h("div", { class: "tablewrap" }, h("table", { id: "query-rows" },
      h("thead", {}, h("tr", {}, h("th", {}, head[0]), h("th", { class: "num" }, head[1]))), h("tbody", {}, rows)))
      : h("div", { class: "tablewrap" }, h("div", { class: "empty" }, "No series match.")),
    pages > 1 ? h("div", { class: "pager" },
      h("button", { class: "small", disabled: page <= 1, onclick: () => go(offset - limit) }, "← Previous"),
      h("span", { class: "muted" }, `page ${page} of ${pages}`),
      h("button", { class: "small", disabled: page >= pages, onclick: () => go(offset + limit) }, "Next →")) : null,
  ].filter(Boolean));
}

const NAME_LABEL = { pods: "pod", nodes: "node", deployments: "deployment", replicasets: "replicaset", statefulsets: "statefulset",
  daemonsets: "daemonset", jobs: "job_name", cronjobs: "cronjob", services: "service", persistentvolumeclaims: "persistentvolumeclaim",
  namespaces: "namespace", persistentvolumes: "persistentvolume", configmaps: "configmap", secrets: "secret" };
function objectLink(row) {
  if (!row.family) return null;
  const m = /^kube_([a-z]+)_/.exec(row.family);
  if (!m) return null;
  const res = Object.keys(NAME_LABEL).find((r) => NAME_LABEL[r] === m[1] || r === m[1] + "s");
  if (!res) return null;
  const get = (k) => (row.labels.find(([n]) => n === k) || [])[1];
  const name = get(NAME_LABEL[res]);
  if (!name) return null;
  return h("a", { href: objectHref(res, get("namespace") || "", name), style: "font-size:12px" }, "object →");
}

async function viewObjects(resource, params) {
  const o = await api("/overview");
  const resources = o.resources.map((r) => r.resource);
  resource = resource || (resources.includes("pods") ? "pods" : resources[0] || "");
  const needle = params.get("q") || "";
  const sel = h("select", { id: "objects-resource" }, resources.map((r) => h("option", { value: r, selected: r === resource }, r)));
  const input = h("input", { type: "search", id: "objects-search", placeholder: "filter by namespace/name", value: needle });
  const go = () => { location.hash = "#/objects/" + q(sel.value) + (input.value ? "?q=" + q(input.value) : ""); };
  sel.addEventListener("change", go);
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
  const r = resource ? await api(`/objects?resource=${q(resource)}&q=${q(needle)}&limit=200`) : { objects: [], total: 0 };
  show(
    h("h1", {}, "Objects"),
    h("div", { class: "row" }, sel, input, h("button", { onclick: go }, "Filter")),
    h("div", { class: "meta" }, `${num(r.total)} ${resource}` + (r.total > r.objects.length ? `, first ${r.objects.length} shown` : "")),
    h("div", { class: "tablewrap" }, h("table", { id: "objects-list" },
      h("thead", {}, h("tr", {}, h("th", {}, "Namespace"), h("th", {}, "Name"))),
      h("tbody", {}, r.objects.map((x) => h("tr", {}, h("td", { class: "muted" }, x.namespace || "–"),
        h("td", {}, h("a", { href: objectHref(resource, x.namespace, x.name) }, x.name))))))));
  input.focus();
}

async function viewObject(resource, namespace, name) {
  const ns = namespace === "_" ? "" : namespace;
  let d;
  try {
    d = await api(`/object?resource=${q(resource)}&namespace=${q(ns)}&name=${q(name)}`);
  } catch (e) {
    show(h("h1", {}, name), h("div", { class: "error" }, e.message));
    return;
  }
  const chain = [h("span", { class: "node self" }, h("span", { class: "kind" }, resource), d.name)];
  for (const o of d.owners) {
    chain.push(h("span", { class: "arrow" }, "→"));
    chain.push(h("span", { class: "node", "data-owner": o.resource },
      h("span", { class: "kind" }, o.kind),
      o.found ? h("a", { href: objectHref(o.resource, o.namespace, o.name) }, o.name) : h("span", {}, o.name, h("span", { class: "muted" }, " (not watched)"))));
  }
  const filter = h("input", { type: "search", placeholder: "filter families", id: "family-filter" });
  const fams = h("div", {}, d.families.map((f) => h("div", { class: "family", "data-family": f.name },
    h("div", { class: "fname" }, h("a", { href: queryHref(`${f.name}{${d.identity.filter(([k]) => k !== "uid").map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}}`) }, f.name),
      h("span", { class: "muted", style: "font-weight:400" }, " " + f.type)),
    h("div", { class: "help" }, f.help),
    h("div", { class: "tablewrap" }, h("table", { class: "object-series" }, h("tbody", {}, f.series.map(([labels, v]) =>
      h("tr", {}, h("td", { class: "labels" }, labels.length ? labelChips(labels) : h("span", { class: "muted" }, "—")),
        h("td", { class: "num mono", style: "width:140px" }, num(v))))))))));
  filter.addEventListener("input", () => {
    const s = filter.value.toLowerCase();
    for (const el of fams.children) el.style.display = el.dataset.family.includes(s) ? "" : "none";
  });
  show(
    h("h1", {}, h("span", { class: "muted", style: "font-weight:400" }, resource + " "), d.namespace ? d.namespace + "/" : "", d.name),
    h("div", { class: "owners", id: "owners" }, chain),
    labelChips(d.identity),
    h("div", { class: "meta" }, h("span", { id: "object-count" }, `${num(d.series)} series in ${d.families.length} families`), filter),
    fams);
}

async function viewProblem(id) {
  const p = await api("/problems/" + q(id));
  show(
    h("h1", {}, p.title, " ", h("span", { class: p.count ? "bad" : "ok" }, num(p.count))),
    h("div", { class: "meta" }, p.by.map(([r, n]) => h("span", { class: "chip" }, r, " ", h("b", {}, num(n)))),
      p.query ? h("a", { href: queryHref(p.query), style: "margin-left:auto" }, "open as query →") : null),
    p.items.length ? h("div", { class: "tablewrap" }, h("table", { id: "problem-items" },
      h("thead", {}, h("tr", {}, h("th", {}, "Namespace"), h("th", {}, "Name"), h("th", {}, "Why"))),
      h("tbody", {}, p.items.map((it) => h("tr", {}, h("td", { class: "muted" }, it.namespace || "–"),
        h("td", {}, h("a", { href: objectHref(it.resource, it.namespace, it.name) }, it.name)), h("td", {}, it.detail))))))
      : h("div", { class: "tablewrap" }, h("div", { class: "empty" }, "Nothing here right now.")),
    p.count > p.items.length ? h("p", { class: "muted" }, `First ${p.items.length} of ${num(p.count)} shown.`) : null);
}

// ---- router ----------------------------------------------------------------

let routing = 0;
async function route(refresh) {
  const token = ++routing;
  const hash = location.hash || "#/overview";
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const view = parts[0] || "overview";
  for (const a of document.querySelectorAll("nav a")) {
    const v = a.dataset.view;
    a.classList.toggle("active", v === view || (v === "objects" && view === "object") || (v === "overview" && view === "problems"));
  }
  if (!refresh) { cleanup.forEach((f) => f()); cleanup = []; }
  try {
    if (view === "overview") await viewOverview();
    else if (view === "graphs") await viewGraphs();
    else if (view === "query") await viewQuery(params);
    else if (view === "objects") await viewObjects(parts[1], params);
    else if (view === "object") await viewObject(parts[1], parts[2], parts.slice(3).join("/"));
    else if (view === "problems") await viewProblem(parts[1]);
    else show(h("h1", {}, "Not found"));
  } catch (e) {
    if (token === routing) show(h("div", { class: "error" }, "Could not load: " + e.message));
  }
  document.body.dataset.view = view;
  document.body.dataset.ready = String(token);
}

window.addEventListener("hashchange", () => route());
// The overview and the problem lists follow the samples: redraw them after each tick.
listeners.add(() => {
  const v = document.body.dataset.view;
  if ((v === "overview" || v === "problems") && !document.hidden) route(true);
});
loadHistory().catch(() => {}).finally(() => { connect(); route(); });
