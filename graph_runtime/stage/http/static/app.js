// hambajuba web control surface. Plain JS, no build step, no network beyond this server.
// Controls come from GET /api/controls on load; moves go out over one WebSocket as
// small JSON messages (graph_runtime/control/web.py); status comes back at 10 Hz.
"use strict";
const $ = (id) => document.getElementById(id);
const state = { ws: null, controls: null, rev: -1, touched: {}, picked: null, rec: false,
                lastBeat: -1, retry: 500, pending: {}, raf: 0,
                knobs: localStorage.getItem("hambajuba.knobs") === "1" };

// ---- the connection -------------------------------------------------------------------
function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => { state.retry = 500; online(true); };
  ws.onmessage = (ev) => { try { onStatus(JSON.parse(ev.data)); } catch (e) { /* ignore */ } };
  ws.onclose = () => { online(false); setTimeout(connect, state.retry);
                       state.retry = Math.min(state.retry * 2, 5000); };
  ws.onerror = () => ws.close();
}
function online(on) {
  $("conn").textContent = on ? "live" : "offline";
  $("conn").className = "conn " + (on ? "on" : "off");
  $("offline").hidden = on;
  if (on) reloadPreview();
}
function send(msg) {
  if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify(msg));
}
// fader moves: the newest position per control, at most once per animation frame
function sendSet(node, param, x) {
  state.pending[node + "\u0000" + param] = { op: "set", node, param, x };
  if (!state.raf) state.raf = requestAnimationFrame(flush);
}
function flush() {
  state.raf = 0;
  for (const k in state.pending) send(state.pending[k]);
  state.pending = {};
}
function reloadPreview() {
  const img = $("preview");
  img.src = "/stream.mjpg?" + Date.now();
}

// ---- controls (plain HTTP) ------------------------------------------------------------
async function loadControls() {
  const r = await fetch("/api/controls", { cache: "no-store", credentials: "same-origin" });
  if (!r.ok) { $("faders").textContent = `controls unavailable (${r.status})`; return; }
  const c = await r.json();
  state.controls = c; state.rev = c.rev;
  buildFaders(c.faders); buildScenes(c.scenes); buildXY(c.xy); buildSinks(c.sinks, c.blocks);
  buildViews(c.views);
}
const shape = (curve, x) => curve === "log" ? Math.log10(1 + 9 * x)
                          : curve === "exp" ? (Math.pow(10, x) - 1) / 9 : x;
function shown(f, x) {
  if (f.kind === "bool") return x >= 0.5 ? "on" : "off";
  if (f.kind === "choice") return f.choices[Math.min(Math.floor(x * f.choices.length), f.choices.length - 1)];
  const v = f.lo + (f.hi - f.lo) * shape(f.curve, x);
  return f.kind === "int" ? String(Math.round(v)) : v.toPrecision(3);
}
// a knob: drag up or down (150 px = the whole range); shows its value as an arc
function knob(f, key, val) {
  const k = document.createElement("div"); k.className = "knob"; k.id = `knob-${key}`;
  k.tabIndex = 0; k.setAttribute("role", "slider"); k.setAttribute("aria-label", key);
  k.dataset.key = key; k.dataset.x = 0;
  let y0 = 0, x0 = 0;
  const set = (x) => { x = Math.min(Math.max(x, 0), 1); k.dataset.x = x;
    k.style.setProperty("--x", x); val.textContent = shown(f, x); };
  k.setValue = set;
  k.addEventListener("pointerdown", (ev) => { k.setPointerCapture(ev.pointerId); y0 = ev.clientY; x0 = +k.dataset.x; });
  k.addEventListener("pointermove", (ev) => {
    if (!k.hasPointerCapture(ev.pointerId)) return;
    set(x0 + (y0 - ev.clientY) / 150); state.touched[key] = Date.now();
    sendSet(f.node, f.param, +k.dataset.x);
  });
  return k;
}
function buildFaders(faders) {
  const box = $("faders"); box.innerHTML = "";
  box.classList.toggle("as-knobs", state.knobs);
  if (!faders.length) { box.innerHTML = '<p class="dim">no params pinned: pin some in the perform panel</p>'; return; }
  for (const f of faders) {
    const key = `${f.node}.${f.param}`;
    const el = document.createElement("div"); el.className = "fader";
    el.innerHTML = `<span class="val"></span><span class="name">${esc(f.node)}<br>${esc(f.param)}</span>`;
    const val = el.querySelector(".val");
    if (f.kind === "bool" || f.kind === "choice") {
      const opts = f.kind === "bool" ? ["off", "on"] : f.choices;
      const col = document.createElement("div"); col.className = "choices";
      opts.forEach((name, i) => {
        const b = document.createElement("button"); b.textContent = name;
        b.dataset.key = key; b.dataset.i = i;
        b.onclick = () => { state.touched[key] = Date.now();
          sendSet(f.node, f.param, f.kind === "bool" ? i : (i + 0.5) / opts.length); };
        col.appendChild(b);
      });
      el.insertBefore(col, el.firstChild);
    } else if (state.knobs) {
      el.insertBefore(knob(f, key, val), el.firstChild);
    } else {
      const r = document.createElement("input");
      r.type = "range"; r.min = 0; r.max = 1; r.step = 0.001; r.value = 0;
      r.id = `fader-${key}`; r.dataset.key = key; r.setAttribute("aria-label", key);
      r.oninput = () => { state.touched[key] = Date.now(); val.textContent = shown(f, +r.value);
                          sendSet(f.node, f.param, +r.value); };
      el.insertBefore(r, el.firstChild);
    }
    el.dataset.key = key; box.appendChild(el);
  }
}
function buildScenes(scenes) {
  const box = $("scenes"); box.innerHTML = "";
  if (!scenes.length) box.innerHTML = '<p class="dim">no scenes stored</p>';
  scenes.forEach((name) => {
    const b = document.createElement("button"); b.textContent = name; b.className = "scene";
    b.dataset.scene = name;
    b.onclick = () => send({ op: "scene", name, when: $("when").value, beats: +$("fade").value || 0 });
    box.appendChild(b);
  });
}
function buildXY(params) {
  // default axes: the first two pinned numeric params, else the first two of the patch
  const pinned = state.controls.faders.filter((f) => f.kind === "float" || f.kind === "int")
    .map((f) => params.findIndex((p) => p.node === f.node && p.param === f.param))
    .filter((i) => i >= 0);
  const picks = [pinned[0] ?? 0, pinned[1] ?? (pinned[0] === 1 ? 0 : 1)];
  [["xy-x", 0], ["xy-y", 1]].forEach(([id, axis]) => {
    const sel = $(id), was = sel.value; sel.innerHTML = "";
    params.forEach((p, i) => sel.add(new Option(`${p.node}.${p.param}`, i)));
    if (params.length > picks[axis]) sel.value = was !== "" && +was < params.length ? was : picks[axis];
  });
}
function buildSinks(sinks, blocks) {
  const sel = $("sink"); sel.innerHTML = "";
  sinks.forEach((s) => sel.add(new Option(s, s)));
  const bl = $("block"); bl.length = 1;
  blocks.forEach((b) => bl.add(new Option(b, b)));
  $("assign").disabled = !(state.picked && sinks.length);
}
function buildViews(views) {
  const sel = $("view"); sel.innerHTML = "";
  views.forEach((v) => sel.add(new Option(`view: ${v}`, v)));
}

// ---- status from the show -------------------------------------------------------------
function onStatus(s) {
  if (s.t !== "status") return;
  if (s.rev !== state.rev) { state.rev = s.rev; loadControls(); }
  $("bpm").textContent = `${s.bpm.toFixed(1)} BPM`;
  $("fps").textContent = `${s.fps.toFixed(0)} fps`;
  const beat = Math.floor(s.beat);
  if (beat !== state.lastBeat) { state.lastBeat = beat; const b = $("beat");
    b.classList.add("flash"); setTimeout(() => b.classList.remove("flash"), 120); }
  state.rec = s.rec; $("rec").hidden = !s.rec;
  $("record").textContent = s.rec ? "Stop recording" : "Record";
  $("record").classList.toggle("on", s.rec);
  $("problems").textContent = s.problems.join(" · ");
  $("view").value = s.view;
  const now = Date.now();
  for (const key in s.x) {
    if (now - (state.touched[key] || 0) < 600) continue;  // the thumb under a finger wins
    const r = document.getElementById(`fader-${key}`);
    if (r) r.value = s.x[key];
    const k = document.getElementById(`knob-${key}`);
    if (k) k.setValue(s.x[key]);
    const el = document.querySelector(`.fader[data-key="${cssq(key)}"] .val`);
    const f = state.controls && state.controls.faders.find((f) => `${f.node}.${f.param}` === key);
    if (el && f) el.textContent = shown(f, s.x[key]);
  }
  if (state.picked) $("picked").textContent = pickedText();
}

// ---- tempo, scenes, show buttons --------------------------------------------------------
$("tap").onclick = () => send({ op: "tap" });
document.querySelectorAll("button[data-op]").forEach((b) => {
  b.onclick = () => {
    const m = { op: b.dataset.op };
    if (b.dataset.factor) m.factor = +b.dataset.factor;
    if (b.dataset.dir) m.dir = +b.dataset.dir;
    if (b.dataset.what) m.what = b.dataset.what;
    send(m);
  };
});
$("record").onclick = () => send({ op: "record", on: !state.rec });
$("knobs").onclick = () => {
  state.knobs = !state.knobs; localStorage.setItem("hambajuba.knobs", state.knobs ? "1" : "0");
  $("knobs").textContent = state.knobs ? "faders" : "knobs";
  if (state.controls) buildFaders(state.controls.faders);
};
$("knobs").textContent = state.knobs ? "faders" : "knobs";
$("view").onchange = () => send({ op: "view", name: $("view").value });

// ---- the XY pad ----------------------------------------------------------------------------
(function xyPad() {
  const pad = $("xy"), dot = $("xy-dot");
  const move = (ev) => {
    const r = pad.getBoundingClientRect();
    const x = Math.min(Math.max((ev.clientX - r.left) / r.width, 0), 1);
    const y = Math.min(Math.max(1 - (ev.clientY - r.top) / r.height, 0), 1);
    dot.style.left = `${x * 100}%`; dot.style.top = `${(1 - y) * 100}%`;
    const xs = state.controls ? state.controls.xy : [];
    const px = xs[+$("xy-x").value], py = xs[+$("xy-y").value];
    if (px) sendSet(px.node, px.param, x);
    if (py) sendSet(py.node, py.param, y);
  };
  pad.addEventListener("pointerdown", (ev) => { pad.setPointerCapture(ev.pointerId); move(ev); });
  pad.addEventListener("pointermove", (ev) => { if (ev.buttons || ev.pointerType === "touch") move(ev); });
})();

// ---- features: search, select, then assign --------------------------------------------------
let searchTimer = 0;
$("search").oninput = () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 200); };
$("block").onchange = search;
async function search() {
  const q = $("search").value.trim();
  const block = $("block").value;
  const r = await fetch(`/api/features?q=${encodeURIComponent(q)}&block=${encodeURIComponent(block)}`,
                        { credentials: "same-origin" });
  if (!r.ok) return;
  const { rows, total } = await r.json();
  const ul = $("rows"); ul.innerHTML = "";
  rows.forEach((row) => {
    const li = document.createElement("li");
    li.innerHTML = `${esc(row.label)} <small>${esc(row.block)} #${row.id} · ${esc(row.category)}</small>`;
    li.dataset.block = row.block; li.dataset.id = row.id;
    li.onclick = () => {  // select only: a mis-tap after a scroll must not change the show
      ul.querySelectorAll("li.sel").forEach((x) => x.classList.remove("sel"));
      li.classList.add("sel"); state.picked = row;
      $("assign").disabled = !$("sink").value; $("picked").textContent = pickedText();
    };
    ul.appendChild(li);
  });
  if (total > rows.length) { const li = document.createElement("li"); li.className = "dim";
    li.textContent = `… ${total - rows.length} more: narrow the search`; ul.appendChild(li); }
}
function pickedText() {
  const p = state.picked;
  return p ? `selected ${p.block} #${p.id} "${p.label}" — Assign gives it to ${$("sink").value || "a sink"}` : "";
}
$("assign").onclick = () => {
  const p = state.picked, sink = $("sink").value;
  if (p && sink) send({ op: "assign", node: sink, block: p.block, feature: p.id });
};

function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }
function cssq(s) { return String(s).replace(/["\\]/g, "\\$&"); }

$("preview").onerror = () => setTimeout(reloadPreview, 2000);
loadControls().then(connect, connect);
if (location.search.indexOf("token=") >= 0) history.replaceState(null, "", "/");  // keep it out of history
