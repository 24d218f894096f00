// An image and its noise (#sec-image): the current image (a test image or an upload), its
// reconstruction, the encoder's m, exp(σ) and KL per dim as bars, 8 decodes of c = m + exp(σ/2)·e, and
// the score (ELBO, log p(x)). Picking an image here moves every view to it. A conditional model encodes
// a test image with its own label and an upload with the picker's class at the time, and decodes its
// reconstruction and noise with that same class (the answer's y).

import * as api from "../api.js";
import {$, col, figure, setBlobImage, setDataImage} from "../dom.js";
import {normals} from "../random.js";
import {CELL, MAX_SLIDERS, state, STRIP} from "../state.js";
import {status} from "../status.js";
import {clampInt, esc, fmt, SVGNS} from "../util.js";
import {requestInterp} from "./interp.js";
import {setCode} from "./plane.js";

function showUploadError(msg) {
  const el = $("#upload-error");
  el.textContent = `upload: ${msg}`;
  el.hidden = false;
  el.dataset.count = String(Number(el.dataset.count || 0) + 1);
}

// src: {index} (a test image) or {file} (an upload).
async function encodeImage(M, src) {
  let r;
  if (src.file) {
    r = await api.encodeFile(M.i, src.file, M.label);
    if (M.i === 0) $("#upload-error").hidden = true;
    // the image as this model sees it (and the class it was encoded with): what score and interpolate get
    M.src = M.conditional ? {image: r.image, label: r.y} : {image: r.image};
  } else {
    r = await api.encode(M.i, src.index);
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
  if (M.conditional) M.el.reconCap.textContent = `decode of m, class y = ${r.y}`;
  setDataImage(M.el.picked, r.image, CELL);
  setCode(M, r.m.slice(), "image");
  renderBars(M);
  renderScore(M);
  if (M.isVae && r.log_var) M.noiseReq.request(r.m, r.log_var, state.noiseSeed, r.y);
  M.scoreReq.request(M.src);
  requestInterp(M);
}

export function pickIndex(i) {
  const n = state.info.models[0].test_size;
  i = clampInt(i, 0, n - 1, 0);
  $("#index").value = String(i);
  for (const M of state.models) M.encode.request({index: i});
}

function pickUpload(file) {
  $("#upload-error").hidden = true;
  for (const M of state.models) M.encode.request({file});
}

// ---------------------------------------------------------------- the bars and the score

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
    // N(0, I) over the code shown: a variance of 1 per dimension to compare exp(σ) with (not for the VampPrior,
    // the learned mixture, or z1 of two stochastic layers, whose prior p(z1|z2) is no fixed Gaussian); a KL per
    // dimension only where it has a closed form (a diagonal q too: the IAF's KL is one estimate)
    const standard = M.info.prior === "standard" && (M.info.stochastic_layers || 1) === 1;
    rows.push(standard ? {name: "exp(σ)", values: r.var, color: "#e08a1e", ref: 1, refName: "prior 1"}
                       : {name: "exp(σ)", values: r.var, color: "#e08a1e"});
    if (standard && M.info.posterior === "diag") {
      rows.push({name: "KL (nats)", values: M.score && M.score.kl_per_dim, color: "#7a5ab8", empty: "computing…"});
    }
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

// ---------------------------------------------------------------- requests (run by the model's Latest controls)

export async function encode(M, src) {
  try {
    await encodeImage(M, src);
  } catch (e) {                       // a refused upload is said beside the upload control
    if (src.file) showUploadError(e.message || String(e)); else status.error(e);
  }
}

export async function score(M, src) {
  const r = await api.score(M.i, src, state.info.limits.default_k);
  if (src !== M.src) return;         // the image changed meanwhile: its own score request is pending
  M.score = r;
  renderScore(M);
  renderBars(M);
}

// 8 decodes of c = m + exp(σ/2)·e, e drawn here from the seed; y: the class the image was encoded with (or null).
export async function drawNoise(M, m, logVar, seed, y) {
  const e = normals(seed, 8, M.L);
  const codes = e.map(row => row.map((ed, d) => m[d] + Math.exp(logVar[d] / 2) * ed));
  setBlobImage(M.el.noise, await api.decode(M.i, codes, y), STRIP, 8);
}

// ---------------------------------------------------------------- building

export function build(M) {
  const i = M.i;
  col($("#image-cols"), M, `
    <div class="imgrow">
      ${figure(`input-${i}`, "x (input)")}
      ${figure(`recon-${i}`, M.conditional ? `<span id="recon-cap-${i}">decode of m</span>` : "decode of m")}
      <div class="barbox" id="bars-${i}"></div>
    </div>
    <div class="noise" id="noise-box-${i}">
      ${M.isVae ? `<div class="striplabel">8 decodes of c = m + exp(σ/2)·e</div><span class="cells"><img id="noise-${i}" class="px strip" alt="" data-version="0"></span>`
                : `<p class="ae-note" id="noise-${i}-none">AE: no noise. Its code is m itself (no σ, no e), so there is no noise region to show.</p>`}
    </div>
    <div class="score" id="score-${i}"></div>`);
  const g = id => document.getElementById(id);
  Object.assign(M.el, {input: g(`input-${i}`), recon: g(`recon-${i}`), bars: g(`bars-${i}`), noise: g(`noise-${i}`),
                       score: g(`score-${i}`), reconCap: g(`recon-cap-${i}`)});
}

// The section's own controls: the test image, random, upload, the noise seed.
export function wire() {
  const n = () => state.info.models[0].test_size;
  $("#index").max = String(n() - 1);
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
      if (M.isVae && M.enc && M.enc.log_var) M.noiseReq.request(M.enc.m, M.enc.log_var, state.noiseSeed, M.enc.y);
      if ($("#interp-code").value === "sample") requestInterp(M);   // the sampled path uses the same seed
    }
  };
  $("#noise-seed").addEventListener("change", noise);
  $("#noise-redraw").addEventListener("click", () => {
    $("#noise-seed").value = String(Number($("#noise-seed").value || 0) + 1);
    noise();
  });
}
