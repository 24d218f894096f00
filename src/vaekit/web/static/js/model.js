// One model on the page: its /api/info entry, its current code, what its views show, and one coalescing
// control (Latest) per kind of request, each run by the view that shows the answer. A conditional model
// (info.condition "label") also has its class picker's class y, M.label, which every decode of a code
// uses (the plane, the sliders, samples, interpolation, copy check); the image section keeps the class
// its image was encoded with (a test image's own label; an upload's picked class).

import {Latest} from "./latest.js";
import {state} from "./state.js";
import * as copy from "./views/copy.js";
import * as image from "./views/image.js";
import * as interp from "./views/interp.js";
import * as plane from "./views/plane.js";
import * as sample from "./views/sample.js";

export function makeModel(info, i) {
  const M = {
    i, info,
    L: info.latent_dim,
    isVae: info.kind === "vae",
    conditional: info.condition === "label",
    label: info.condition === "label" ? (info.start_label ?? 0) : null,   // the picker's class y, or null
    z: info.start.slice(),
    points: null,          // the /api/points answer plus bounds
    hover: null,           // plane point under the pointer (px, py) or null
    drag: null,            // {x, y, moved}
    enc: null,             // the /api/encode answer for the current image
    src: {index: 0},       // how to name the current image to this model: {index} or {image: dataURL}
    score: null,
    el: {},                // its elements, filled in by each view's build
  };
  M.zAt = (px, py) => plane.moveOnPlane(M, M.z, px, py);
  M.decodeCurrent = new Latest(z => plane.showDecoded(M, z));
  M.decodePreview = new Latest(z => plane.showPreview(M, z));
  M.loadPoints = new Latest(query => plane.loadPoints(M, query));
  M.encode = new Latest(src => image.encode(M, src));
  M.scoreReq = new Latest(src => image.score(M, src));
  M.noiseReq = new Latest((m, logVar, seed, y) => image.drawNoise(M, m, logVar, seed, y));
  M.interpReq = new Latest(body => interp.interpolate(M, body));
  M.sampleReq = new Latest(seed => sample.sample(M, seed));
  M.neighborsReq = new Latest(z => copy.checkCopy(M, z));
  return M;
}

// The model's column in every view, top to bottom.
export function buildModel(M) {
  plane.build(M, image.pickIndex);
  image.build(M);
  interp.build(M);
  sample.build(M);
  copy.build(M);
  if (M.conditional) M.el.classPick.addEventListener("change", () => setClass(M, Number(M.el.classPick.value)));
}

// The picker chose class y: decode again, with y, everything the page shows from a code.
export function setClass(M, y) {
  M.label = y;
  plane.showClass(M);
  sample.showClass(M);
  M.decodeCurrent.request(M.z.slice());
  if (M.hover) M.decodePreview.request(M.zAt(M.hover[0], M.hover[1]));
  M.neighborsReq.request(M.z.slice());
  M.sampleReq.request(state.sampleSeed);
  interp.requestInterp(M);
}
