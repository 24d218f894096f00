// Page helpers: the query shorthand, images tagged for tests, and one model's column in a view.

import {esc, fnv} from "./util.js";

export const $ = (sel, root = document) => root.querySelector(sel);

// Show an image and tag it for tests: data-hash (content), data-version (bumped once it has loaded).
export function setImage(img, src, hash, cellPx = null, n = 1) {
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
// r: an image answer of api.js, {blob, hash}
export function setBlobImage(img, r, cellPx, n = 1) {
  setImage(img, URL.createObjectURL(r.blob), r.hash, cellPx, n);
}
export function setDataImage(img, dataUrl, cellPx) {
  setImage(img, dataUrl, fnv(dataUrl), cellPx, 1);
}

// ---------------------------------------------------------------- one model's column in a view

function modelHead(M) {
  const m = M.info;
  return `<div class="colhead"><span class="tag m${M.i}">model ${M.i}</span> <b>${esc(m.run)}</b>
    <span class="kind ${esc(m.kind)}">${esc(m.kind.toUpperCase())}</span> <span class="muted">L = ${m.latent_dim}${m.latent2 ? ` (z1, the code the decoder reads; z2: ${m.latent2})` : ""}</span></div>`;
}

export function col(container, M, html) {
  const div = document.createElement("div");
  div.className = "col";
  div.dataset.model = String(M.i);
  div.innerHTML = modelHead(M) + html;
  container.appendChild(div);
  return div;
}

export function figure(id, caption, extra = "") {
  return `<figure><img id="${id}" class="px" alt="" data-version="0" ${extra}><figcaption>${caption}</figcaption></figure>`;
}
