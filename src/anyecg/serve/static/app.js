// anyecg web page: upload ECGs, draw them on ECG paper, chat about them, highlight localized intervals, scan.
// Plain JS, no dependencies. Everything goes through the same HTTP API as any client.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  ecgs: [],          // {id, filename, ecg: {duration_s, leads, fs, start_time}, checked}
  active: null,      // the ECG drawn
  view: {start: 0, len: 10},
  signal: null,      // last signal JSON for the view
  highlights: {},    // file id -> [{source, what, abs_start_s, abs_end_s, clock_start, clock_end}]
  messages: [],      // OpenAI messages sent so far
  transcript: [],    // {role, text, intervals} for the answer download
  scanJob: null,
};

// ---- API -----------------------------------------------------------------------------------------------
function headers(extra = {}) {
  const key = $("api-key").value.trim();
  return key ? {...extra, Authorization: `Bearer ${key}`} : extra;
}

async function api(path, options = {}) {
  const resp = await fetch(path, {...options, headers: headers(options.headers || {})});
  if (!resp.ok) {
    let message = `${resp.status} ${resp.statusText}`;
    try { message = (await resp.json()).error.message || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return resp;
}

function status(text) { $("status").textContent = text; }

// ---- upload ------------------------------------------------------------------------------------------------
function groupFiles(files) {
  // WFDB: NAME.hea + NAME.dat (+ NAME.atr ...) travel together; every other file alone.
  const byStem = {};
  const singles = [];
  for (const f of files) {
    const dot = f.name.lastIndexOf(".");
    const stem = dot > 0 ? f.name.slice(0, dot) : f.name;
    const ext = dot > 0 ? f.name.slice(dot + 1).toLowerCase() : "";
    if (["hea", "dat", "atr", "qrs", "ecg"].includes(ext)) (byStem[stem] = byStem[stem] || []).push(f);
    else singles.push([f]);
  }
  return [...Object.values(byStem), ...singles];
}

async function upload(files) {
  for (const group of groupFiles(files)) {
    const form = new FormData();
    group.forEach((f) => form.append("file", f, f.name));
    status(`uploading ${group.map((f) => f.name).join(" + ")} …`);
    try {
      const entry = await (await api("/v1/files", {method: "POST", body: form})).json();
      entry.checked = true;
      state.ecgs.push(entry);
      state.highlights[entry.id] = [];
      renderList();
      await select(entry);
      status(`${entry.filename}: ${entry.ecg.duration_s.toFixed(1)} s, leads ${entry.ecg.leads.join(", ")}`);
    } catch (err) {
      status(`upload failed: ${err.message}`);
    }
  }
}

function renderList() {
  const ul = $("ecg-list");
  ul.innerHTML = "";
  state.ecgs.forEach((e, k) => {
    const li = document.createElement("li");
    li.className = e === state.active ? "active" : "";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = e.checked;
    box.title = "include in the next question";
    box.onclick = (ev) => { ev.stopPropagation(); e.checked = box.checked; };
    const label = document.createElement("span");
    label.textContent = `ECG ${k + 1}: ${e.filename} — ${e.ecg.duration_s.toFixed(1)} s, ${e.ecg.leads.join(" ")}`;
    li.append(box, label);
    li.onclick = () => select(e);
    ul.append(li);
  });
}

// ---- viewer ------------------------------------------------------------------------------------------------
async function select(entry) {
  state.active = entry;
  $("viewer").hidden = false;
  $("view-title").textContent = entry.filename;
  state.view.start = 0;
  renderList();
  await loadView();
}

function clampView() {
  const total = state.active.ecg.duration_s;
  state.view.len = Math.min(parseFloat($("zoom").value), total);
  state.view.start = Math.max(0, Math.min(state.view.start, total - state.view.len));
  const scroll = $("scroll");
  scroll.max = Math.max(0, total - state.view.len).toFixed(1);
  scroll.value = state.view.start.toFixed(1);
}

let loadSeq = 0;
async function loadView() {
  if (!state.active) return;
  clampView();
  const seq = ++loadSeq;
  const {start, len} = state.view;
  const canvas = $("ecg-canvas");
  const points = Math.max(200, Math.round(canvas.clientWidth * 2));
  try {
    const url = `/v1/files/${state.active.id}/signal?start_s=${start.toFixed(3)}&end_s=${(start + len).toFixed(3)}&points=${points}`;
    const sig = await (await api(url)).json();
    if (seq !== loadSeq) return;  // a newer view was asked for meanwhile
    state.signal = sig;
    draw();
  } catch (err) {
    status(`cannot draw: ${err.message}`);
  }
}

function clock(abs) {
  const t = state.active && state.active.ecg.start_time ? new Date(state.active.ecg.start_time) : null;
  if (t) return new Date(t.getTime() + abs * 1000).toTimeString().slice(0, 8);
  const h = Math.floor(abs / 3600), m = Math.floor((abs % 3600) / 60), s = (abs % 60).toFixed(1);
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${s.padStart(4, "0")}`;
}

function draw() {
  const sig = state.signal;
  const canvas = $("ecg-canvas");
  const width = canvas.clientWidth;
  const len = sig.end_s - sig.start_s;
  const pxPerS = width / len;
  const pxPerMv = Math.max(20, Math.min(80, pxPerS * 0.4));  // 25 mm/s and 10 mm/mV: 0.4 mm/mV per mm/s
  const rowH = Math.round(3 * pxPerMv);
  canvas.width = width;
  canvas.height = rowH * sig.leads.length + 18;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  // grid: 0.04 s / 0.1 mV (when at least 3 px apart), 0.2 s / 0.5 mV
  for (const [dt, dv, color] of [[0.04, 0.1, "#f6d4d4"], [0.2, 0.5, "#e89a9a"]]) {
    if (dt * pxPerS < 3) continue;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let t = Math.ceil(sig.start_s / dt) * dt; t <= sig.end_s; t += dt) {
      const x = Math.round((t - sig.start_s) * pxPerS) + 0.5;
      ctx.moveTo(x, 0); ctx.lineTo(x, canvas.height - 18);
    }
    for (let y = 0; y <= canvas.height - 18; y += dv * pxPerMv) {
      ctx.moveTo(0, Math.round(y) + 0.5); ctx.lineTo(width, Math.round(y) + 0.5);
    }
    ctx.stroke();
  }
  // highlights (absolute seconds → view pixels)
  let shown = 0;
  for (const h of state.highlights[state.active.id] || []) {
    const a = Math.max(h.abs_start_s, sig.start_s), b = Math.min(h.abs_end_s, sig.end_s);
    if (b <= a) continue;
    shown += 1;
    const x0 = (a - sig.start_s) * pxPerS, x1 = (b - sig.start_s) * pxPerS;
    ctx.fillStyle = "rgba(255, 200, 0, 0.38)";
    ctx.fillRect(x0, 0, Math.max(2, x1 - x0), canvas.height - 18);
    ctx.strokeStyle = "#c98a00";
    ctx.strokeRect(x0 + 0.5, 0.5, Math.max(2, x1 - x0) - 1, canvas.height - 19);
  }
  canvas.dataset.highlights = String(shown);
  // traces: each lead centred on its median
  sig.leads.forEach((lead, row) => {
    const values = sig.values[row].filter((v) => v !== null).sort((p, q) => p - q);
    const mid = values.length ? values[Math.floor(values.length / 2)] : 0;
    const y0 = row * rowH + rowH / 2;
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 1.1;
    ctx.beginPath();
    let pen = false;
    sig.values[row].forEach((v, i) => {
      if (v === null) { pen = false; return; }
      const x = i * sig.dt * pxPerS, y = y0 - (v - mid) * pxPerMv;
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
    });
    ctx.stroke();
    ctx.fillStyle = "#000";
    ctx.font = "bold 12px sans-serif";
    ctx.fillText(lead, 4, row * rowH + 14);
  });
  // time axis
  ctx.fillStyle = "#555";
  ctx.font = "11px sans-serif";
  const tick = len <= 12 ? 1 : len <= 60 ? 5 : len <= 600 ? 60 : 300;
  for (let t = Math.ceil(sig.start_s / tick) * tick; t <= sig.end_s; t += tick) {
    ctx.fillText(`${+t.toFixed(1)} s`, (t - sig.start_s) * pxPerS + 2, canvas.height - 4);
  }
  $("view-time").textContent = `${clock(sig.start_s)} – ${clock(sig.end_s)}`;
  renderIntervals();
}

function renderIntervals() {
  const body = $("intervals").querySelector("tbody");
  body.innerHTML = "";
  for (const h of state.highlights[state.active.id] || []) {
    const tr = document.createElement("tr");
    for (const text of [h.source, h.what, h.clock_start, h.clock_end, (h.abs_end_s - h.abs_start_s).toFixed(1)]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    tr.onclick = () => {  // bring the interval into view
      state.view.start = Math.max(0, h.abs_start_s - state.view.len / 4);
      loadView();
    };
    body.append(tr);
  }
}

function addHighlights(entry, source, what, intervals) {
  const list = state.highlights[entry.id];
  for (const f of intervals) {
    list.push({source, what, abs_start_s: f.abs_start_s, abs_end_s: f.abs_end_s,
               clock_start: f.clock_start || clock(f.abs_start_s), clock_end: f.clock_end || clock(f.abs_end_s)});
  }
  if (intervals.length && entry === state.active) {
    const first = intervals[0].abs_start_s;
    if (first < state.view.start || first > state.view.start + state.view.len) {
      state.view.start = Math.max(0, first - state.view.len / 4);
    }
    loadView();
  }
}

// ---- chat --------------------------------------------------------------------------------------------------
function scopeWindow(entry) {
  const whole = document.querySelector("input[name=scope]:checked").value === "whole";
  if (whole || entry !== state.active) return {};
  return {start_s: +state.view.start.toFixed(3), end_s: +(state.view.start + state.view.len).toFixed(3)};
}

function addMessage(role, text) {
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  div.textContent = text;
  $("chat").append(div);
  $("chat").scrollTop = $("chat").scrollHeight;
  return div;
}

async function ask(question) {
  let content = question;
  let asked = [];
  if (!state.messages.length) {  // the ECGs go with the first question
    asked = state.ecgs.filter((e) => e.checked);
    content = [...asked.map((e) => ({type: "ecg_file", ecg_file: {file_id: e.id, ...scopeWindow(e)}})),
               {type: "text", text: question}];
    state.asked = asked;
  }
  const messages = [...state.messages, {role: "user", content}];
  addMessage("user", question);
  const out = addMessage("assistant", "…");
  $("send").disabled = true;
  let text = "", loc = null, checks = [], replaced = null;
  try {
    const resp = await api("/v1/chat/completions", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({model: "anyecg", messages, stream: true}),
    });
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const line = buffer.slice(0, cut).replace(/^data: /, "");
        buffer = buffer.slice(cut + 2);
        if (line === "[DONE]") continue;
        const chunk = JSON.parse(line);
        if (chunk.error) throw new Error(chunk.error.message);
        const choice = chunk.choices[0];
        if (choice.delta && choice.delta.content) { text += choice.delta.content; out.textContent = text; }
        if (choice.localization) loc = choice.localization;
        if (choice.checks) checks = choice.checks;
        if (choice.replaced) replaced = choice.replaced;
      }
    }
    state.messages = [...messages, {role: "assistant", content: text.trim()}];
    state.transcript.push({role: "user", text: question}, {role: "assistant", text: text.trim(), intervals: loc});
    if (loc) showLocalization(out, loc, "answer", question);
    showChecks(out, checks, replaced);
  } catch (err) {
    out.className = "msg error";
    out.textContent = `error: ${err.message}`;
  } finally {
    $("send").disabled = false;
  }
}

function showChecks(div, checks, replaced) {
  // Claims of the answer that the machine read of the signal contradicts, one line each; and the model's first
  // answer when the signal contradicted it and one of the model's alternatives that agrees is shown instead.
  const flagged = checks.filter((c) => !c.agrees);
  div.dataset.flags = String(flagged.length);
  if (replaced) {
    const note = document.createElement("div");
    note.className = "replaced";
    note.textContent = `✓ checked against the signal: the model's first answer ("${replaced}") disagreed with it; ` +
      "this is its best answer that agrees";
    div.append(note);
  }
  for (const c of flagged) {
    const note = document.createElement("div");
    note.className = "flag";
    note.textContent = `⚠ answer says ${c.stated}; the signal reads ${c.measured}`;
    div.append(note);
  }
}

function showLocalization(div, loc, source, what) {
  const entry = (state.asked || [])[loc.ecg_index] || state.active;
  const note = document.createElement("div");
  note.className = "found";
  note.textContent = loc.intervals.length
    ? `highlighted: ${loc.intervals.map((f) => `${f.clock_start}–${f.clock_end}`).join(", ")}`
    : "no interval found";
  div.append(note);
  addHighlights(entry, source, what, loc.intervals);
}

async function markText(text) {
  // An answer pasted from elsewhere: the server reads it exactly as it reads the model's answers.
  const entry = state.active;
  if (!entry) { status("upload an ECG first"); return; }
  try {
    const body = {text, ecg: {file_id: entry.id, ...scopeWindow(entry)}};
    const loc = await (await api("/v1/ecg/localization", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})).json();
    const div = addMessage("assistant", text);
    showLocalization(div, loc, "pasted", "pasted answer");
  } catch (err) {
    status(`cannot mark: ${err.message}`);
  }
}

// ---- scan --------------------------------------------------------------------------------------------------
async function startScan() {
  const entry = state.active;
  $("scan-btn").disabled = true;
  $("scan-progress").hidden = false;
  $("scan-progress").value = 0;
  $("scan-cancel").hidden = false;
  try {
    let job = await (await api("/v1/ecg/scan", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({ecg: {file_id: entry.id}}),  // the server's default window
    })).json();
    state.scanJob = job.id;
    while (!["succeeded", "failed", "cancelled"].includes(job.status)) {
      await new Promise((r) => setTimeout(r, 500));
      job = await (await api(`/v1/ecg/scan/${job.id}`)).json();
      $("scan-progress").value = job.progress.fraction;
      $("scan-status").textContent = `${job.status}: ${job.progress.windows_done}/${job.progress.windows_total} windows`;
    }
    $("scan-status").textContent = job.status + (job.error ? `: ${job.error}` : "");
    if (job.status === "succeeded") showScan(entry, job.result);
  } catch (err) {
    $("scan-status").textContent = `scan failed: ${err.message}`;
  } finally {
    state.scanJob = null;
    $("scan-btn").disabled = false;
    $("scan-cancel").hidden = true;
  }
}

function showScan(entry, result) {
  addHighlights(entry, "scan", "", result.episodes.map((e) => ({abs_start_s: e.start_s, abs_end_s: e.end_s})));
  const list = state.highlights[entry.id];
  result.episodes.forEach((e, k) => { list[list.length - result.episodes.length + k].what = e.description; });
  const rows = result.summary.map((r) => `<tr><td>${r.target}</td><td>${r.description}</td><td>${r.episodes}</td>` +
                                         `<td>${r.total_s}</td><td>${r.burden_pct}</td></tr>`).join("");
  $("scan-summary").innerHTML = `<h3>Scan summary (engine ${result.engine}, ${result.elapsed_s} s)</h3>` +
    `<table><tr><th>type</th><th>description</th><th>episodes</th><th>total s</th><th>burden %</th></tr>${rows}</table>`;
  renderIntervals();
}

// ---- downloads ---------------------------------------------------------------------------------------------
function save(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function downloadAnswer() {
  const lines = state.transcript.map((t) => {
    let s = `${t.role === "user" ? "Q" : "A"}: ${t.text}`;
    if (t.intervals) s += "\n   intervals: " + t.intervals.intervals.map(
      (f) => `${f.abs_start_s.toFixed(1)}-${f.abs_end_s.toFixed(1)} s (${f.clock_start}-${f.clock_end})`).join(", ");
    return s;
  });
  save(new Blob([lines.join("\n") + "\n"], {type: "text/plain"}), "anyecg-answer.txt");
}

async function downloadPlot() {
  const {start, len} = state.view;
  const marks = (state.highlights[state.active.id] || [])
    .map((h) => [Math.max(h.abs_start_s, start) - start, Math.min(h.abs_end_s, start + len) - start])
    .filter(([a, b]) => b > a).map(([a, b]) => `${a.toFixed(2)}-${b.toFixed(2)}`).join(",");
  try {
    const url = `/v1/files/${state.active.id}/plot.png?start_s=${start}&end_s=${start + len}&highlight=${marks}`;
    save(await (await api(url)).blob(), `${state.active.filename}-${start.toFixed(0)}s.png`);
  } catch (err) {
    status(`cannot plot: ${err.message}`);
  }
}

// ---- wiring ------------------------------------------------------------------------------------------------
$("api-key").value = localStorage.getItem("anyecg-key") || "";
$("api-key").onchange = () => localStorage.setItem("anyecg-key", $("api-key").value);
$("file-input").onchange = (ev) => upload([...ev.target.files]);
const drop = $("drop");
drop.ondragover = (ev) => { ev.preventDefault(); drop.classList.add("over"); };
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (ev) => { ev.preventDefault(); drop.classList.remove("over"); upload([...ev.dataTransfer.files]); };
$("zoom").onchange = loadView;
$("scroll").oninput = () => { state.view.start = parseFloat($("scroll").value); loadView(); };
$("prev").onclick = () => { state.view.start -= state.view.len * 0.8; loadView(); };
$("next").onclick = () => { state.view.start += state.view.len * 0.8; loadView(); };
const canvas = $("ecg-canvas");
canvas.onwheel = (ev) => {
  if (!state.active) return;
  ev.preventDefault();
  state.view.start += (ev.deltaX || ev.deltaY) / canvas.clientWidth * state.view.len;
  loadView();
};
let dragFrom = null;
canvas.onmousedown = (ev) => { dragFrom = {x: ev.clientX, start: state.view.start}; };
window.onmouseup = () => { dragFrom = null; };
canvas.onmousemove = (ev) => {
  if (!dragFrom || !state.active) return;
  state.view.start = dragFrom.start - (ev.clientX - dragFrom.x) / canvas.clientWidth * state.view.len;
  loadView();
};
window.onresize = () => state.signal && draw();
$("ask-form").onsubmit = (ev) => {
  ev.preventDefault();
  const q = $("question").value.trim();
  if (!q) return;
  if (!state.messages.length && !state.ecgs.some((e) => e.checked)) { status("upload (and check) an ECG first"); return; }
  $("question").value = "";
  ask(q);
};
$("question").onkeydown = (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("ask-form").requestSubmit(); }
};
$("reset").onclick = () => { state.messages = []; state.transcript = []; $("chat").innerHTML = ""; };
$("answer-btn").onclick = downloadAnswer;
$("plot-btn").onclick = downloadPlot;
$("scan-btn").onclick = startScan;
$("scan-cancel").onclick = () => state.scanJob && api(`/v1/ecg/scan/${state.scanJob}`, {method: "DELETE"});
$("mark-form").onsubmit = (ev) => { ev.preventDefault(); markText($("mark-text").value.trim()); };
