// Copy check (#sec-copy): the decode of the current code c beside its nearest training image, and how far
// real test images are from theirs (a histogram; the red line is this image).

import * as api from "../api.js";
import {$, col, figure, setDataImage} from "../dom.js";
import {esc, SVGNS} from "../util.js";

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

// Run by the model's Latest control: the copy check of code z.
export async function checkCopy(M, z) {
  renderNeighbors(M, await api.neighbors(M.i, z, M.label));
}

export function build(M) {
  const i = M.i;
  col($("#copy-cols"), M, `
    <div class="copy" id="neighbors-${i}" data-version="0">
      ${figure(`nb-query-${i}`, "on screen (decode of c)")}
      ${figure(`nb-image-${i}`, `<span id="nb-image-cap-${i}">nearest training image</span>`)}
      <div class="nbtext"><div id="nb-text-${i}"></div><div id="nb-hist-${i}"></div></div>
    </div>`);
  const g = id => document.getElementById(id);
  Object.assign(M.el, {neighbors: g(`neighbors-${i}`), nbQuery: g(`nb-query-${i}`), nbImage: g(`nb-image-${i}`),
                       nbImageCap: g(`nb-image-cap-${i}`), nbText: g(`nb-text-${i}`), nbHist: g(`nb-hist-${i}`)});
}
