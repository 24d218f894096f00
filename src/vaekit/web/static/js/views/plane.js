// The code plane (#sec-plane): the test set's codes m on a plane, the current code c as a ring, the decode
// of c and of the point under the pointer, and one slider per latent dimension. A conditional model's
// column also holds its class picker (#class-<i>): the class y every decode of a code is made with.

import * as api from "../api.js";
import {$, col, figure, setBlobImage} from "../dom.js";
import {CELL, MAX_SLIDERS, state} from "../state.js";
import {fmt, GREY, PALETTE} from "../util.js";

export const PLANE = 300;       // css px

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
export function moveOnPlane(M, z, px, py) {
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
export function toCanvas(P, px, py) {
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

// What to ask /api/points for: the plane chosen in this model's selects.
export function pointsQuery(M) {
  const projection = M.el.proj.value;
  const q = {model: M.i, projection};
  if (projection === "dims" && M.L >= 2) q.dims = [M.el.dimx.value, M.el.dimy.value];
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

// pickIndex(k): a click on test image k's dot picks that image (the image view's doing, for every model).
function wirePlane(M, pickIndex) {
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

export function syncSliders(M, source) {
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
export function setCode(M, z, source) {
  M.z = z;
  syncSliders(M, source);
  drawPlane(M);
  M.decodeCurrent.request(z.slice());
  M.neighborsReq.request(z.slice());
}

// ---------------------------------------------------------------- requests (run by the model's Latest controls)

export async function showDecoded(M, z) {
  setBlobImage(M.el.decoded, await api.decode(M.i, z, M.label), CELL);
}

export async function showPreview(M, z) {
  setBlobImage(M.el.preview, await api.decode(M.i, z, M.label), CELL);
}

// The picker's class, shown: its colour on the plane's legend beside the select.
export function showClass(M) {
  if (!M.conditional) return;
  M.el.classPick.value = String(M.label);
  M.el.classSwatch.style.background = PALETTE[M.label % PALETTE.length];
}

function classPicker(M) {
  const options = Array.from({length: M.info.classes}, (_, k) => `<option value="${k}">${k}</option>`).join("");
  return `<span class="sep"></span><label class="classpick" title="the class y the decoder is given: p(x | z, y)">class y
    <i id="class-swatch-${M.i}"></i><select id="class-${M.i}">${options}</select></label>`;
}

export async function loadPoints(M, query) {
  const p = await api.points(query);
  M.points = withBounds(p);
  renderPlaneLayer(M);
  drawPlane(M);
  M.el.axes.textContent = `x: ${p.axes[0]} · y: ${p.axes[1]}`;
}

// ---------------------------------------------------------------- building

export function build(M, pickIndex) {
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
      ${M.conditional ? classPicker(M) : ""}
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
  const g = id => document.getElementById(id);
  const el = Object.assign(M.el, {
    plane: g(`plane-${i}`), proj: g(`proj-${i}`), dims: g(`dims-${i}`), dimx: g(`dimx-${i}`), dimy: g(`dimy-${i}`),
    axes: g(`axes-${i}`), decoded: g(`decoded-${i}`), preview: g(`preview-${i}`), previewCap: g(`preview-cap-${i}`),
    picked: g(`picked-${i}`), pickedCap: g(`picked-cap-${i}`), sliders: g(`sliders-${i}`),
    classPick: g(`class-${i}`), classSwatch: g(`class-swatch-${i}`),
  });
  showClass(M);
  const dpr = window.devicePixelRatio || 1;
  el.plane.width = el.plane.height = Math.round(PLANE * dpr);
  el.dimx.value = String(info.order[0]);
  el.dimy.value = String(info.order.length > 1 ? info.order[1] : info.order[0]);
  el.dimx.dataset.prev = el.dimx.value;
  el.dimy.dataset.prev = el.dimy.value;
  if (info.latent_dim < 2) el.dims.hidden = true;     // a 1-d code: the server picks its plane
  buildSliders(M);
  wirePlane(M, pickIndex);
}
