// vaekit serve: the lecture's code space, made touchable. Plain JavaScript, no library, no build step;
// every request goes to this page's own server (the HTTP API in docs: /api/info, points, decode, encode,
// score, interpolate, neighbors).
"use strict";

(() => {

// ---------------------------------------------------------------- small helpers

const $ = (sel, root = document) => root.querySelector(sel);
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const GREY = "#8a8f98";
const SVGNS = "http://www.w3.org/2000/svg";

function esc(s) {
  return String(s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function fmt(x, digits = 2) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return x.toFixed(digits);
}
function clampInt(v, lo, hi, dflt) {
  const n = Math.round(Number(v));
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : dflt;
}
function fnv(bytes) {            // FNV-1a over bytes or a string: a cheap content tag for tests (data-hash)
  let h = 0x811c9dc5;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    h ^= typeof bytes === "string" ? bytes.charCodeAt(i) : bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}

// Seeded PRNG (mulberry32) and standard normals by Box-Muller: e ~ N(0, I) drawn here, not on the server.
function mulberry32(seed) {
  let a = (seed >>> 0) || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function normals(seed, rows, cols) {
  const rand = mulberry32(seed);
  const out = [];
  for (let r = 0; r < rows; r++) {
    const row = [];
    while (row.length < cols) {
      const u1 = 1 - rand(), u2 = rand();             // u1 in (0, 1]
      const rad = Math.sqrt(-2 * Math.log(u1));
      row.push(rad * Math.cos(2 * Math.PI * u2));
      if (row.length < cols) row.push(rad * Math.sin(2 * Math.PI * u2));
    }
    out.push(row);
  }
  return out;
}

// ---------------------------------------------------------------- status line

const status = {
  set(text, kind = "ok") {
    const el = $("#status");
    el.textContent = text;
    el.className = "status " + kind;
    el.dataset.kind = kind;
  },
  error(err) {
    const msg = err && err.message ? err.message : String(err);
    status.set(msg, "error");
  },
};

// ---------------------------------------------------------------- requests

class ApiError extends Error {
  constructor(message, code) { super(message); this.code = code; }
}

let inflight = 0;
function busy(delta) {
  inflight += delta;
  document.body.dataset.busy = String(inflight);
}

// POST json (or a raw body) to the page's own server; JSON errors become ApiError with the server's one line.
// A JSON answer comes back parsed; an image answer as {blob, hash, headers}.
async function api(path, body, {raw = null, contentType = "application/json"} = {}) {
  const init = (body === undefined && raw === null) ? {} : {
    method: "POST",
    headers: {"Content-Type": contentType},
    body: raw !== null ? raw : JSON.stringify(body),
  };
  busy(+1);
  try {
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(`no answer from the server (${path.split("?")[0]})`, 0);
    }
    if (!res.ok) {
      let msg = `${res.status} ${res.statusText || "error"} (${path.split("?")[0]})`;
      try {
        const j = await res.json();
        if (j && j.error) msg = j.error;
      } catch (e) { /* not JSON: keep the status line */ }
      throw new ApiError(msg, res.status);
    }
    if ((res.headers.get("Content-Type") || "").startsWith("application/json")) return await res.json();
    const blob = await res.blob();
    const bytes = new Uint8Array(await blob.arrayBuffer());
    return {blob, hash: fnv(bytes), headers: res.headers};
  } finally {
    busy(-1);
  }
}

// Request coalescing: at most one request in flight per control; while one is in flight only the latest
// pending call is kept, and it is sent when the one in flight returns (the latest wins).
class Latest {
  constructor(run, onError = status.error) {
    this.run = run;
    this.onError = onError;
    this.busy = false;
    this.pending = null;          // the arguments of the latest call made while busy, or null
  }
  request(...args) {
    if (this.busy) { this.pending = args; return; }
    this._go(args);
  }
  async _go(args) {
    this.busy = true;
    try {
      await this.run(...args);
    } catch (e) {
      try { this.onError(e); } catch (e2) { /* the error display must never throw */ }
    } finally {
      this.busy = false;
      const next = this.pending;
      this.pending = null;
      if (next) this._go(next);
    }
  }
}

// Show an image and tag it for tests: data-hash (content), data-version (bumped once it has loaded).
function setImage(img, src, hash, cellPx = null, n = 1) {
  const old = img.dataset.objectUrl;
  const bump = () => { img.dataset.version = String(Number(img.dataset.version || 0) + 1); };
  if (cellPx) img.style.width = `${cellPx * n}px`;
  img.dataset.hash = hash;
  img.dataset.n = String(n);
  if (img.parentElement && img.parentElement.classList.contains("cells")) img.parentElement.style.setProperty("--n", String(n));
  if (img.getAttribute("src") === src) { bump(); return; }
  img.onload = img.onerror = () => {
    if (old && old !== src) URL.revokeObjectURL(old);
    img.onload = img.onerror = null;
    bump();
  };
  if (src.startsWith("blob:")) img.dataset.objectUrl = src; else delete img.dataset.objectUrl;
  img.src = src;
}
function setBlobImage(img, r, cellPx, n = 1) {
  setImage(img, URL.createObjectURL(r.blob), r.hash, cellPx, n);
}
function setDataImage(img, dataUrl, cellPx) {
  setImage(img, dataUrl, fnv(dataUrl), cellPx, 1);
}

// ---------------------------------------------------------------- state

const state = {
  info: null,
  models: [],                     // one per model: see makeModel
  image: {index: 0, name: null},  // the current image: a test index, or an upload (name set, index null)
  noiseSeed: 1,
  sampleSeed: 0,
};

const CELL = 84;          // px of one decoded image beside the plane
const STRIP = 52;         // px of one image in a strip
const MAX_SLIDERS = 32;

function makeModel(info, i) {
  const L = info.latent_dim;
  const M = {
    i, info, L,
    isVae: info.kind === "vae",
    z: info.start.slice(),
    points: null,          // the /api/points answer plus bounds
    hover: null,           // plane point under the pointer (px, py) or null
    drag: null,            // {x, y, moved}
    enc: null,             // the /api/encode answer for the current image
    src: {index: 0},       // how to name the current image to this model: {index} or {image: dataURL}
    score: null,
    el: {},
  };
  M.zAt = (px, py) => moveOnPlane(M, M.z, px, py);
  M.decodeCurrent = new Latest(async z => {
    const r = await api("/api/decode", {model: i, z});
    setBlobImage(M.el.decoded, r, CELL);
  });
  M.decodePreview = new Latest(async z => {
    const r = await api("/api/decode", {model: i, z});
    setBlobImage(M.el.preview, r, CELL);
  });
  M.loadPoints = new Latest(async query => {
    const p = await api(`/api/points?${query}`);
    M.points = withBounds(p);
    renderPlaneLayer(M);
    drawPlane(M);
    M.el.axes.textContent = `x: ${p.axes[0]} · y: ${p.axes[1]}`;
  });
  M.encode = new Latest(async src => {
    try {
      await encodeImage(M, src);
    } catch (e) {                       // a refused upload is said beside the upload control
      if (src.file) showUploadError(e.message || String(e)); else status.error(e);
    }
  });
  M.scoreReq = new Latest(async src => {
    const r = await api("/api/score", {model: i, ...src, k: state.info.limits.default_k});
    if (src !== M.src) return;         // the image changed meanwhile: its own score request is pending
    M.score = r;
    renderScore(M);
    renderBars(M);
  });
  M.noiseReq = new Latest(async (m, logVar, seed) => {
    const e = normals(seed, 8, L);
    const codes = e.map(row => row.map((ed, d) => m[d] + Math.exp(logVar[d] / 2) * ed));
    const r = await api("/api/decode", {model: i, z: codes});
    setBlobImage(M.el.noise, r, STRIP, 8);
  });
  M.interpReq = new Latest(async body => {
    const r = await api("/api/interpolate", body);
    // up to 10 steps at the strips' size; more get narrower (down to 24 px) and then scroll
    setBlobImage(M.el.interp, r, Math.max(24, Math.min(STRIP, Math.floor(540 / body.steps))), body.steps);
    const code = r.headers.get("X-Code");
    M.el.interpNote.textContent = body.code === "sample" && code === "mean"
      ? "AE: no noise, so the path runs between the codes m"
      : `${body.method}, between ${code === "sample" ? "sampled codes c" : "means m"}, ${body.steps} steps`;
  });
  M.sampleReq = new Latest(async seed => {
    const codes = normals(seed, 8, L);
    const r = await api("/api/decode", {model: i, z: codes});
    setBlobImage(M.el.samples, r, STRIP, 8);
  });
  M.neighborsReq = new Latest(async z => {
    const r = await api("/api/neighbors", {model: i, z});
    renderNeighbors(M, r);
  });
  return M;
}

// ---------------------------------------------------------------- the code plane

// Plane coordinates of z: p = basis @ (z - center).
function project(P, z) {
  const out = [0, 0];
  for (let k = 0; k < 2; k++) {
    let s = 0;
    for (let d = 0; d < z.length; d++) s += P.basis[k][d] * (z[d] - P.center[d]);
    out[k] = s;
  }
  return out;
}
// Move z to plane point (px, py), keeping the other directions: z' = z + basis^T ((px, py) - basis @ (z - center)).
function moveOnPlane(M, z, px, py) {
  const P = M.points;
  const p = project(P, z);
  const dx = px - p[0], dy = py - p[1];
  return z.map((v, d) => v + P.basis[0][d] * dx + P.basis[1][d] * dy);
}
function withBounds(p) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let k = 0; k < p.n; k++) {
    x0 = Math.min(x0, p.x[k]); x1 = Math.max(x1, p.x[k]);
    y0 = Math.min(y0, p.y[k]); y1 = Math.max(y1, p.y[k]);
  }
  if (!Number.isFinite(x0)) { x0 = -3; x1 = 3; y0 = -3; y1 = 3; }
  const padX = Math.max((x1 - x0) * 0.1, 1e-3), padY = Math.max((y1 - y0) * 0.1, 1e-3);
  return {...p, x0: x0 - padX, x1: x1 + padX, y0: y0 - padY, y1: y1 + padY};
}
const PLANE = 300;       // css px
function toCanvas(P, px, py) {
  return [(px - P.x0) / (P.x1 - P.x0) * PLANE, PLANE - (py - P.y0) / (P.y1 - P.y0) * PLANE];
}
function fromCanvas(P, cx, cy) {
  return [P.x0 + cx / PLANE * (P.x1 - P.x0), P.y0 + (PLANE - cy) / PLANE * (P.y1 - P.y0)];
}

function renderPlaneLayer(M) {          // the dots, drawn once per projection into an offscreen canvas
  const P = M.points;
  const dpr = window.devicePixelRatio || 1;
  const layer = document.createElement("canvas");
  layer.width = layer.height = Math.round(PLANE * dpr);
  const g = layer.getContext("2d");
  g.scale(dpr, dpr);
  g.fillStyle = "#fbfbfd";
  g.fillRect(0, 0, PLANE, PLANE);
  // zero lines when they are on the plane
  g.strokeStyle = "#e3e5ea";
  g.lineWidth = 1;
  const [zx, zy] = toCanvas(P, 0, 0);
  g.beginPath();
  if (zx > 0 && zx < PLANE) { g.moveTo(zx, 0); g.lineTo(zx, PLANE); }
  if (zy > 0 && zy < PLANE) { g.moveTo(0, zy); g.lineTo(PLANE, zy); }
  g.stroke();
  g.globalAlpha = 0.75;
  const r = P.n > 3000 ? 1.2 : 2.2;
  for (let k = 0; k < P.n; k++) {
    const [cx, cy] = toCanvas(P, P.x[k], P.y[k]);
    g.fillStyle = P.labels ? PALETTE[((P.labels[k] % 10) + 10) % 10] : GREY;
    g.beginPath();
    g.arc(cx, cy, r, 0, 2 * Math.PI);
    g.fill();
  }
  g.globalAlpha = 1;
  M.layer = layer;
}

function drawPlane(M) {
  const cv = M.el.plane;
  const g = cv.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, PLANE, PLANE);
  const P = M.points;
  if (!P || !M.layer) return;
  g.drawImage(M.layer, 0, 0, PLANE, PLANE);
  // the picked test image
  if (state.image.index !== null && state.image.index < P.n) {
    const [cx, cy] = toCanvas(P, P.x[state.image.index], P.y[state.image.index]);
    g.strokeStyle = "#111";
    g.lineWidth = 1.5;
    g.beginPath(); g.arc(cx, cy, 5, 0, 2 * Math.PI); g.stroke();
  }
  // the pointer (preview)
  if (M.hover && !M.drag) {
    const [cx, cy] = toCanvas(P, M.hover[0], M.hover[1]);
    g.strokeStyle = "rgba(0,0,0,0.35)";
    g.lineWidth = 1;
    g.beginPath(); g.moveTo(cx - 7, cy); g.lineTo(cx + 7, cy); g.moveTo(cx, cy - 7); g.lineTo(cx, cy + 7); g.stroke();
  }
  // the current code c: a ring, clamped to the edge when it is off the plane
  const p = project(P, M.z);
  let [mx, my] = toCanvas(P, p[0], p[1]);
  const off = mx < 0 || mx > PLANE || my < 0 || my > PLANE;
  mx = Math.min(PLANE - 3, Math.max(3, mx));
  my = Math.min(PLANE - 3, Math.max(3, my));
  g.lineWidth = 3;
  g.strokeStyle = "#fff";
  g.beginPath(); g.arc(mx, my, 8, 0, 2 * Math.PI); g.stroke();
  g.lineWidth = 2;
  g.strokeStyle = off ? "#d62728" : "#111";
  g.beginPath(); g.arc(mx, my, 8, 0, 2 * Math.PI); g.stroke();
  g.fillStyle = g.strokeStyle;
  g.beginPath(); g.arc(mx, my, 1.8, 0, 2 * Math.PI); g.fill();
  cv.dataset.marker = `${mx.toFixed(1)},${my.toFixed(1)}`;
}

function pointsQuery(M) {
  const proj = M.el.proj.value;
  let q = `model=${M.i}&projection=${proj}`;
  if (proj === "dims" && M.L >= 2) q += `&dims=${M.el.dimx.value},${M.el.dimy.value}`;
  return q;
}

function canvasPos(M, ev) {
  const r = M.el.plane.getBoundingClientRect();
  return [(ev.clientX - r.left) * PLANE / r.width, (ev.clientY - r.top) * PLANE / r.height];
}

function nearestPoint(M, cx, cy, within) {
  const P = M.points;
  let best = -1, bestD = within * within;
  for (let k = 0; k < P.n; k++) {
    const [x, y] = toCanvas(P, P.x[k], P.y[k]);
    const d = (x - cx) ** 2 + (y - cy) ** 2;
    if (d <= bestD) { bestD = d; best = k; }
  }
  return best;
}

function wirePlane(M) {
  const cv = M.el.plane;
  cv.addEventListener("pointerdown", ev => {
    if (!M.points || ev.button !== 0) return;
    cv.setPointerCapture(ev.pointerId);
    const [x, y] = canvasPos(M, ev);
    M.drag = {x, y, moved: false};
    ev.preventDefault();
  });
  cv.addEventListener("pointermove", ev => {
    if (!M.points) return;
    const [x, y] = canvasPos(M, ev);
    const [px, py] = fromCanvas(M.points, x, y);
    if (M.drag) {
      if (!M.drag.moved && Math.hypot(x - M.drag.x, y - M.drag.y) > 3) M.drag.moved = true;
      if (M.drag.moved) setCode(M, M.zAt(px, py), "plane");
      return;
    }
    M.hover = [px, py];
    M.decodePreview.request(M.zAt(px, py));
    M.el.previewCap.textContent = "under the pointer";
    drawPlane(M);
  });
  const end = ev => {
    if (!M.drag) return;
    const d = M.drag;
    M.drag = null;
    if (ev.type === "pointerup" && !d.moved && M.points) {
      const k = nearestPoint(M, d.x, d.y, 6);
      if (k >= 0) { pickIndex(k); return; }
      const [px, py] = fromCanvas(M.points, d.x, d.y);
      setCode(M, M.zAt(px, py), "plane");
    }
    drawPlane(M);
  };
  cv.addEventListener("pointerup", end);
  cv.addEventListener("pointercancel", end);
  cv.addEventListener("pointerleave", () => { M.hover = null; drawPlane(M); });
  M.el.proj.addEventListener("change", () => {
    M.el.dims.hidden = M.el.proj.value !== "dims" || M.L < 2;
    M.loadPoints.request(pointsQuery(M));
  });
  const dimChange = (changed, other) => () => {
    if (changed.value === other.value) other.value = changed.dataset.prev;   // one dim on both axes: swap them
    M.el.dimx.dataset.prev = M.el.dimx.value;
    M.el.dimy.dataset.prev = M.el.dimy.value;
    M.loadPoints.request(pointsQuery(M));
  };
  M.el.dimx.addEventListener("change", dimChange(M.el.dimx, M.el.dimy));
  M.el.dimy.addEventListener("change", dimChange(M.el.dimy, M.el.dimx));
}

// ---------------------------------------------------------------- sliders and the current code

function sliderRange(M, d) {
  const s = 3 * Math.max(1, M.info.m_std[d] || 0);
  return [-s, s];
}

function buildSliders(M) {
  const box = M.el.sliders;
  box.innerHTML = "";
  M.sliders = [];
  const dims = M.info.order.slice(0, MAX_SLIDERS);
  for (const d of dims) {
    const [lo, hi] = sliderRange(M, d);
    const row = document.createElement("label");
    row.className = "slider";
    row.innerHTML = `<span class="dim">z${d}</span><input type="range" data-dim="${d}" min="${lo}" max="${hi}" step="${(hi - lo) / 300}"><output></output>`;
    const input = row.querySelector("input"), out = row.querySelector("output");
    input.addEventListener("input", () => {
      const z = M.z.slice();
      z[d] = Number(input.value);
      setCode(M, z, "slider");
    });
    box.appendChild(row);
    M.sliders.push({d, input, out});
  }
  if (M.L > MAX_SLIDERS) {
    const more = document.createElement("p");
    more.className = "note";
    more.textContent = `showing the ${MAX_SLIDERS} most active of ${M.L} dims`;
    box.appendChild(more);
  }
}

function syncSliders(M, source) {
  for (const s of M.sliders) {
    const v = M.z[s.d];
    if (source !== "slider") {
      // a code from the plane or an image may lie outside the slider's range: widen it
      if (v < Number(s.input.min)) s.input.min = String(Math.floor(v));
      if (v > Number(s.input.max)) s.input.max = String(Math.ceil(v));
      s.input.value = String(v);
    }
    s.out.textContent = (v >= 0 ? "+" : "") + v.toFixed(2);
  }
}

// Everything that follows the current code c: its decode, the ring on the plane, the sliders, the copy check.
function setCode(M, z, source) {
  M.z = z;
  syncSliders(M, source);
  drawPlane(M);
  M.decodeCurrent.request(z.slice());
  M.neighborsReq.request(z.slice());
}

// ---------------------------------------------------------------- an image and its noise

function showUploadError(msg) {
  const el = $("#upload-error");
  el.textContent = `upload: ${msg}`;
  el.hidden = false;
  el.dataset.count = String(Number(el.dataset.count || 0) + 1);
}

async function encodeImage(M, src) {
  let r;
  if (src.file) {
    // PNG and JPEG go as the raw file; anything else as base64 JSON, so the server's answer is about the file
    // ("not a PNG or JPEG image") rather than about the request's Content-Type.
    const type = src.file.type;
    r = (type === "image/png" || type === "image/jpeg")
      ? await api(`/api/encode?model=${M.i}`, undefined, {raw: src.file, contentType: type})
      : await api("/api/encode", {model: M.i, image: await readDataUrl(src.file)});
    if (M.i === 0) $("#upload-error").hidden = true;
    M.src = {image: r.image};             // the image as this model sees it: what score and interpolate get
  } else {
    r = await api("/api/encode", {model: M.i, index: src.index});
    M.src = {index: src.index};
  }
  M.enc = r;
  M.score = null;
  state.image = src.file ? {index: null, name: src.file.name} : {index: src.index, name: null};
  setDataImage(M.el.input, r.image, CELL);
  setDataImage(M.el.recon, r.reconstruction, CELL);
  if (M.i === 0) {
    $("#image-label").textContent = src.file
      ? `upload “${src.file.name}”`
      : `test image ${src.index}${r.label !== null && r.label !== undefined ? ` (label ${r.label})` : ""}`;
  }
  M.el.pickedCap.textContent = src.file ? "uploaded x" : `test image ${src.index}`;
  setDataImage(M.el.picked, r.image, CELL);
  setCode(M, r.m.slice(), "image");
  renderBars(M);
  renderScore(M);
  if (M.isVae && r.log_var) M.noiseReq.request(r.m, r.log_var, state.noiseSeed);
  M.scoreReq.request(M.src);
  requestInterp(M);
}

function readDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

function pickIndex(i) {
  const n = state.info.models[0].test_size;
  i = clampInt(i, 0, n - 1, 0);
  $("#index").value = String(i);
  for (const M of state.models) M.encode.request({index: i});
}

function pickUpload(file) {
  $("#upload-error").hidden = true;
  for (const M of state.models) M.encode.request({file});
}

function barChart(rows, dims) {
  const n = dims.length;
  const left = 74, right = 40, bw = Math.max(7, Math.min(26, 380 / n)), rowH = 38, gap = 8;
  const W = left + n * bw + right, H = rows.length * (rowH + gap) + 14;
  const parts = [];
  rows.forEach((row, ri) => {
    const top = ri * (rowH + gap);
    const vals = dims.map(d => row.values ? row.values[d] : null);
    const finite = vals.filter(v => Number.isFinite(v));
    parts.push(`<text x="0" y="${top + rowH / 2 + 4}" class="rowname">${esc(row.name)}</text>`);
    if (!finite.length) {
      parts.push(`<text x="${left}" y="${top + rowH / 2 + 4}" class="muted">${esc(row.empty || "–")}</text>`);
      return;
    }
    let scale = Math.max(...finite.map(Math.abs), row.ref || 0, 1e-9);
    const base = row.signed ? top + rowH / 2 : top + rowH;
    const unit = row.signed ? rowH / 2 / scale : rowH / scale;
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${base}" y2="${base}" class="axis"/>`);
    vals.forEach((v, k) => {
      if (!Number.isFinite(v)) return;
      const h = Math.abs(v) * unit;
      const y = v >= 0 ? base - h : base;
      const x = left + k * bw + 1;
      parts.push(`<rect x="${x}" y="${y}" width="${bw - 2}" height="${Math.max(h, 0.5)}" fill="${row.color}"><title>z${dims[k]}: ${esc(row.name)} = ${v.toFixed(3)}</title></rect>`);
    });
    if (row.ref) {
      const y = base - row.ref * unit;
      parts.push(`<line x1="${left}" x2="${W - right + 3}" y1="${y}" y2="${y}" class="ref"/><text x="${W - right + 5}" y="${y + 3}" class="reflabel">${esc(row.refName)}</text>`);
    }
    parts.push(`<text x="${left - 6}" y="${top + 9}" class="scale" text-anchor="end">${row.signed ? "±" : ""}${scale.toFixed(scale < 10 ? 2 : 0)}</text>`);
  });
  if (n <= 32) {
    const y = rows.length * (rowH + gap) + 6;
    dims.forEach((d, k) => {
      if (n <= 16 || k % 2 === 0) parts.push(`<text x="${left + k * bw + bw / 2}" y="${y}" class="dimlabel" text-anchor="middle">z${d}</text>`);
    });
  }
  return `<svg xmlns="${SVGNS}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" class="bars">${parts.join("")}</svg>`;
}

function renderBars(M) {
  const r = M.enc;
  const box = M.el.bars;
  if (!r) { box.innerHTML = ""; return; }
  const dims = M.info.order.slice(0, MAX_SLIDERS);
  const rows = [{name: "m", values: r.m, signed: true, color: "#3b6fb6"}];
  if (M.isVae && r.var) {
    const standard = M.info.prior !== "vamp";   // the VampPrior has no per-dimension variance 1 and no KL per dim
    rows.push(standard ? {name: "exp(σ)", values: r.var, color: "#e08a1e", ref: 1, refName: "prior 1"}
                       : {name: "exp(σ)", values: r.var, color: "#e08a1e"});
    if (standard) rows.push({name: "KL (nats)", values: M.score && M.score.kl_per_dim, color: "#7a5ab8", empty: "computing…"});
  }
  box.innerHTML = barChart(rows, dims);
  box.dataset.dims = String(dims.length);
}

function renderScore(M) {
  const box = M.el.score;
  const s = M.score;
  if (!M.isVae) {
    box.innerHTML = s ? `<table class="nums"><tr><th>log p(x | m)</th><td class="recon">${fmt(s.recon)}</td><td>nats per image; without σ there is no KL, no ELBO and no log p(x)</td></tr></table>` : "";
    box.dataset.ready = s ? "1" : "0";
    return;
  }
  if (!s) { box.innerHTML = `<p class="muted">scoring…</p>`; box.dataset.ready = "0"; return; }
  box.innerHTML = `<table class="nums">
    <tr><th>ELBO</th><td class="elbo">${fmt(s.elbo)}</td><td>= recon ${fmt(s.recon)} − KL ${fmt(s.kl)}</td></tr>
    <tr><th>log p(x)</th><td class="logpx">${fmt(s.log_px)}</td><td>importance-sampled, k = ${esc(s.k)}</td></tr>
    <tr><th>gap</th><td>${fmt(s.log_px - s.elbo)}</td><td>log p(x) − ELBO ≥ 0 (up to sampling error)</td></tr>
  </table><p class="units">${esc(s.units || "nats per example")}</p>`;
  box.dataset.ready = "1";
}

// ---------------------------------------------------------------- interpolation and sampling

function requestInterp(M) {
  const lim = state.info.limits;
  const steps = clampInt($("#interp-steps").value, 2, lim.max_steps, 10);
  $("#interp-steps").value = String(steps);
  const n = state.info.models[0].test_size;
  const b = clampInt($("#interp-b").value, 0, n - 1, 1);
  $("#interp-b").value = String(b);
  M.interpReq.request({
    model: M.i, a: M.src, b: {index: b}, steps,
    method: $("#interp-method").value, code: $("#interp-code").value, seed: state.noiseSeed,
  });
}

function drawSamples() {
  state.sampleSeed = clampInt($("#sample-seed").value, 0, 2 ** 31 - 1, 0);
  $("#sample-seed").value = String(state.sampleSeed);
  for (const M of state.models) M.sampleReq.request(state.sampleSeed);
}

// ---------------------------------------------------------------- copy check

function histogram(ref, d) {
  const W = 280, H = 74, pad = 4, base = H - 16;
  const edges = ref.edges, counts = ref.counts;
  const lo = edges[0], hi = Math.max(edges[edges.length - 1], d * 1.02);
  const X = v => pad + (v - lo) / (hi - lo || 1) * (W - 2 * pad);
  const top = Math.max(...counts, 1);
  const parts = [];
  counts.forEach((c, k) => {
    const x0 = X(edges[k]), x1 = X(edges[k + 1]);
    const h = c / top * (base - 6);
    parts.push(`<rect x="${x0}" y="${base - h}" width="${Math.max(x1 - x0 - 0.5, 0.5)}" height="${h}" class="hbar"><title>${c} test images at ${edges[k].toFixed(3)}–${edges[k + 1].toFixed(3)}</title></rect>`);
  });
  parts.push(`<line x1="${pad}" x2="${W - pad}" y1="${base}" y2="${base}" class="axis"/>`);
  const xd = Math.max(X(Math.max(d, lo)), pad);
  parts.push(`<line x1="${xd}" x2="${xd}" y1="2" y2="${base}" class="here"/>`);
  parts.push(`<text x="${pad}" y="${H - 3}" class="tick">${lo.toFixed(2)}</text>`);
  parts.push(`<text x="${X(ref.median)}" y="${H - 3}" class="tick" text-anchor="middle">median ${ref.median.toFixed(2)}</text>`);
  parts.push(`<text x="${W - pad}" y="${H - 3}" class="tick" text-anchor="end">${hi.toFixed(2)}</text>`);
  return `<svg xmlns="${SVGNS}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" class="hist">${parts.join("")}</svg>`;
}

function renderNeighbors(M, r) {
  const box = M.el.neighbors;
  setDataImage(M.el.nbQuery, r.query, 72);
  setDataImage(M.el.nbImage, r.image, 72);
  M.el.nbImageCap.textContent = `nearest training image #${r.index}${r.label !== null && r.label !== undefined ? ` (label ${r.label})` : ""}`;
  const f = r.reference.fraction_closer;
  const pct = 100 * f;
  const pctText = pct < 1 && pct > 0 ? pct.toFixed(1) : pct.toFixed(0);
  const n = r.reference.n;
  const sentence = f <= 0.05
    ? `Only <b>${pctText}%</b> of real test images (n = ${n}) are this close to a training image: unusually close, it may be a copy of training image #${r.index}.`
    : f <= 0.25
    ? `<b>${pctText}%</b> of real test images (n = ${n}) are this close or closer to a training image: closer than most, but not unusually so.`
    : `<b>${pctText}%</b> of real test images (n = ${n}) are this close or closer to a training image: no sign of copying.`;
  M.el.nbText.innerHTML = `<p><b>distance ${r.distance.toFixed(3)}</b> <span class="muted">${esc(r.units)}</span></p>
    <p class="sentence">${sentence}</p>`;
  M.el.nbHist.innerHTML = histogram(r.reference, r.distance);
  box.dataset.distance = String(r.distance);
  box.dataset.fraction = String(f);
  box.dataset.version = String(Number(box.dataset.version || 0) + 1);
}

// ---------------------------------------------------------------- building the page

function modelHead(M) {
  const m = M.info;
  return `<div class="colhead"><span class="tag m${M.i}">model ${M.i}</span> <b>${esc(m.run)}</b>
    <span class="kind ${esc(m.kind)}">${esc(m.kind.toUpperCase())}</span> <span class="muted">L = ${m.latent_dim}</span></div>`;
}

function col(container, M, html) {
  const div = document.createElement("div");
  div.className = "col";
  div.dataset.model = String(M.i);
  div.innerHTML = modelHead(M) + html;
  container.appendChild(div);
  return div;
}

function figure(id, caption, extra = "") {
  return `<figure><img id="${id}" class="px" alt="" data-version="0" ${extra}><figcaption>${caption}</figcaption></figure>`;
}

function buildModel(M) {
  const i = M.i;
  const info = M.info;
  const dimOptions = info.order.map(d => `<option value="${d}">z${d} (std ${fmt(info.m_std[d])})</option>`).join("");
  const legend = info.has_labels
    ? PALETTE.map((c, k) => `<span><i style="background:${c}"></i>${k}</span>`).join("")
    : `<span><i style="background:${GREY}"></i>no labels</span>`;
  col($("#plane-cols"), M, `
    <div class="controls small">
      <label>plane <select id="proj-${i}"><option value="dims">two most-varying dims</option><option value="pca">PCA</option></select></label>
      <span id="dims-${i}"><label>x <select id="dimx-${i}">${dimOptions}</select></label>
      <label>y <select id="dimy-${i}">${dimOptions}</select></label></span>
    </div>
    <div class="planebox">
      <div>
        <canvas id="plane-${i}" class="plane" width="${PLANE}" height="${PLANE}" data-model="${i}"></canvas>
        <div class="axes" id="axes-${i}"></div>
        <div class="legend">${legend}</div>
      </div>
      <div class="side">
        ${figure(`decoded-${i}`, "decode of c")}
        ${figure(`preview-${i}`, `<span id="preview-cap-${i}">hover the plane</span>`)}
        ${figure(`picked-${i}`, `<span id="picked-cap-${i}">picked x</span>`)}
      </div>
      <div class="sliders" id="sliders-${i}"></div>
    </div>`);
  col($("#image-cols"), M, `
    <div class="imgrow">
      ${figure(`input-${i}`, "x (input)")}
      ${figure(`recon-${i}`, "decode of m")}
      <div class="barbox" id="bars-${i}"></div>
    </div>
    <div class="noise" id="noise-box-${i}">
      ${M.isVae ? `<div class="striplabel">8 decodes of c = m + exp(σ/2)·e</div><span class="cells"><img id="noise-${i}" class="px strip" alt="" data-version="0"></span>`
                : `<p class="ae-note" id="noise-${i}-none">AE: no noise. Its code is m itself (no σ, no e), so there is no noise region to show.</p>`}
    </div>
    <div class="score" id="score-${i}"></div>`);
  col($("#interp-cols"), M, `
    <div class="striprow"><span class="end">A</span><span class="cells"><img id="interp-strip-${i}" class="px strip" alt="" data-version="0"></span><span class="end">B</span></div>
    <p class="note" id="interp-note-${i}"></p>`);
  col($("#sample-cols"), M, `
    <span class="cells"><img id="samples-${i}" class="px strip" alt="" data-version="0"></span>
    ${M.isVae ? (M.info.prior === "vamp" ? `<p class="ae-note">This model's prior is the VampPrior (a mixture of its posteriors at learned pseudo-inputs): these are N(0, I) codes, not draws from its prior.</p>` : "")
              : `<p class="ae-note">AE: the prior N(0, I) was not part of training.</p>`}`);
  col($("#copy-cols"), M, `
    <div class="copy" id="neighbors-${i}" data-version="0">
      ${figure(`nb-query-${i}`, "on screen (decode of c)")}
      ${figure(`nb-image-${i}`, `<span id="nb-image-cap-${i}">nearest training image</span>`)}
      <div class="nbtext"><div id="nb-text-${i}"></div><div id="nb-hist-${i}"></div></div>
    </div>`);
  const el = M.el;
  const g = id => document.getElementById(id);
  Object.assign(el, {
    plane: g(`plane-${i}`), proj: g(`proj-${i}`), dims: g(`dims-${i}`), dimx: g(`dimx-${i}`), dimy: g(`dimy-${i}`),
    axes: g(`axes-${i}`), decoded: g(`decoded-${i}`), preview: g(`preview-${i}`), previewCap: g(`preview-cap-${i}`),
    picked: g(`picked-${i}`), pickedCap: g(`picked-cap-${i}`), sliders: g(`sliders-${i}`),
    input: g(`input-${i}`), recon: g(`recon-${i}`), bars: g(`bars-${i}`), noise: g(`noise-${i}`), score: g(`score-${i}`),
    interp: g(`interp-strip-${i}`), interpNote: g(`interp-note-${i}`), samples: g(`samples-${i}`),
    neighbors: g(`neighbors-${i}`), nbQuery: g(`nb-query-${i}`), nbImage: g(`nb-image-${i}`),
    nbImageCap: g(`nb-image-cap-${i}`), nbText: g(`nb-text-${i}`), nbHist: g(`nb-hist-${i}`),
  });
  const dpr = window.devicePixelRatio || 1;
  el.plane.width = el.plane.height = Math.round(PLANE * dpr);
  el.dimx.value = String(info.order[0]);
  el.dimy.value = String(info.order.length > 1 ? info.order[1] : info.order[0]);
  el.dimx.dataset.prev = el.dimx.value;
  el.dimy.dataset.prev = el.dimy.value;
  if (info.latent_dim < 2) el.dims.hidden = true;     // a 1-d code: the server picks its plane
  buildSliders(M);
  wirePlane(M);
}

function renderHeader(info) {
  $("#models").innerHTML = info.models.map(m => `
    <div class="model m${m.index}"><span class="tag m${m.index}">model ${m.index}</span>
      <b>${esc(m.run)}</b> <span class="kind ${esc(m.kind)}">${esc(m.kind.toUpperCase())}</span>
      <span>latent_dim ${m.latent_dim}</span> · <span>${esc(m.dataset)}</span>
      <span class="muted">${m.image_shape.join("×")}, ${esc(m.likelihood)}, test ${m.test_size}, train ${m.train_size}</span></div>`).join("");
}

function wireControls() {
  const n = () => state.info.models[0].test_size;
  $("#index").max = String(n() - 1);
  $("#interp-b").max = String(n() - 1);
  $("#interp-steps").max = String(state.info.limits.max_steps);
  $("#index").addEventListener("change", () => pickIndex($("#index").value));
  $("#random").addEventListener("click", () => pickIndex(Math.floor(Math.random() * n())));
  $("#upload").addEventListener("change", () => {
    const file = $("#upload").files[0];
    if (file) pickUpload(file);
    $("#upload").value = "";             // choosing the same file again fires change again
  });
  const noise = () => {
    state.noiseSeed = clampInt($("#noise-seed").value, 0, 2 ** 31 - 1, 1);
    $("#noise-seed").value = String(state.noiseSeed);
    for (const M of state.models) {
      if (M.isVae && M.enc && M.enc.log_var) M.noiseReq.request(M.enc.m, M.enc.log_var, state.noiseSeed);
      if ($("#interp-code").value === "sample") requestInterp(M);
    }
  };
  $("#noise-seed").addEventListener("change", noise);
  $("#noise-redraw").addEventListener("click", () => {
    $("#noise-seed").value = String(Number($("#noise-seed").value || 0) + 1);
    noise();
  });
  const interp = () => { for (const M of state.models) requestInterp(M); };
  for (const id of ["#interp-b", "#interp-method", "#interp-code", "#interp-steps"]) $(id).addEventListener("change", interp);
  $("#interp-go").addEventListener("click", interp);
  $("#sample-seed").addEventListener("change", drawSamples);
  $("#sample-go").addEventListener("click", () => {
    $("#sample-seed").value = String(Number($("#sample-seed").value || 0) + 1);
    drawSamples();
  });
}

async function start() {
  window.addEventListener("unhandledrejection", ev => { ev.preventDefault(); status.error(ev.reason); });
  window.addEventListener("error", ev => { status.error(ev.error || ev.message); });
  let info;
  try {
    info = await api("/api/info");
  } catch (e) {
    status.error(e);
    return;
  }
  state.info = info;
  const n = info.models.length;
  document.body.dataset.models = String(n);
  document.body.classList.add(n === 2 ? "two" : "one");
  renderHeader(info);
  state.models = info.models.map((m, i) => makeModel(m, i));
  for (const M of state.models) buildModel(M);
  wireControls();
  for (const M of state.models) {
    M.loadPoints.request(pointsQuery(M));
    syncSliders(M, "image");
  }
  pickIndex(0);
  drawSamples();
  status.set(`ready · ${n === 2 ? "two models side by side" : "one model"} · ${info.models[0].dataset}, ${info.models[0].test_size} test images`);
  document.body.dataset.ready = "1";
}

// for tests and the curious: the coalescing helper and the page state
window.vaekitPage = {
  Latest, state, normals,
  planeXY: (i, k) => { const P = state.models[i].points; return toCanvas(P, P.x[k], P.y[k]); },
};

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();

})();
