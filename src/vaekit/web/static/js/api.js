// The client of this page's own server: one function per /api/ route the page calls (the routes are in
// the README's "Exploring a model in the browser" and vaekit/web/app.py).
//
// A JSON answer comes back parsed; an image answer as {blob, hash, headers} (hash: a content tag for
// tests). Any failure becomes an ApiError carrying one line: the server's {"error": ...} when it sent
// one, else the status, else "no answer from the server". body[data-busy] counts requests in flight.
//
// label: the class y of a conditional model (info's condition "label"), 0..C-1; null for an
// unconditional one, and then not sent (the server refuses a label it has no use for).

import {fnv} from "./util.js";

export class ApiError extends Error {
  constructor(message, code) { super(message); this.code = code; }
}

let inflight = 0;
function busy(delta) {
  inflight += delta;
  document.body.dataset.busy = String(inflight);
}

// GET path, or POST json (or a raw body) to it.
async function request(path, body, {raw = null, contentType = "application/json"} = {}) {
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

// Each model's kind, sizes, start code and dims by activity; the server's limits.
export function info() {
  return request("/api/info");
}

// The test set's codes on a plane: projection "dims" (dims: [x, y], optional) or "pca".
export function points({model, projection, dims = null}) {
  let q = `model=${model}&projection=${projection}`;
  if (dims) q += `&dims=${dims[0]},${dims[1]}`;
  return request(`/api/points?${q}`);
}

// {...body, label} when there is a label to send, else body itself.
function labelled(body, label) {
  return label === null || label === undefined ? body : {...body, label};
}

// z: one code (a PNG of one image) or a list of codes (a PNG strip), decoded with class label.
export function decode(model, z, label = null) {
  return request("/api/decode", labelled({model, z}, label));
}

// n codes drawn on the server from the model's own prior (seeded), decoded with class label: a PNG strip.
export function sample(model, n, seed, label = null) {
  return request("/api/sample", labelled({model, n, seed}, label));
}

// A test image by index: its m, log_var, var, label, image and reconstruction (data URLs); a conditional
// model encodes it with its own label (y in the answer).
export function encode(model, index) {
  return request("/api/encode", {model, index});
}

// An uploaded file, answered like encode. PNG and JPEG go as the raw file; anything else as base64 JSON,
// so the server's answer is about the file ("not a PNG or JPEG image") rather than about the request's
// Content-Type. label: the class a conditional model encodes it with (an upload has no label of its own).
export async function encodeFile(model, file, label = null) {
  const type = file.type;
  const q = label === null || label === undefined ? "" : `&label=${label}`;
  return (type === "image/png" || type === "image/jpeg")
    ? request(`/api/encode?model=${model}${q}`, undefined, {raw: file, contentType: type})
    : request("/api/encode", labelled({model, image: await readDataUrl(file)}, label));
}

// src: {index} or {image: dataURL} (with its label for a conditional model); ELBO, recon, KL (per dim too)
// and log p(x) with k importance samples.
export function score(model, src, k) {
  return request("/api/score", {model, ...src, k});
}

// body: {model, a, b, steps, method, code, seed} (and label, the path's class, for a conditional model);
// a PNG strip, and the code it used in X-Code.
export function interpolate(body) {
  return request("/api/interpolate", body);
}

// The decode of z (with class label), its nearest training image, and how far test images are from theirs.
export function neighbors(model, z, label = null) {
  return request("/api/neighbors", labelled({model, z}, label));
}

function readDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
}
