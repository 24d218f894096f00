// vaekit serve: the lecture's code space, made touchable. The page's entry module: asks the server for its
// models, builds every view's column for each, wires the controls, and draws the first image.
//
// Plain JavaScript modules, no library, no build step; every request goes to this page's own server
// (api.js). The views, one module each under views/, match index.html's sections: plane (code plane and
// sliders), image (an image and its noise), interp, sample, copy; header fills the list of models.

import * as api from "./api.js";
import {Latest} from "./latest.js";
import {buildModel, makeModel} from "./model.js";
import {normals} from "./random.js";
import {state} from "./state.js";
import {status} from "./status.js";
import {renderHeader} from "./views/header.js";
import * as image from "./views/image.js";
import * as interp from "./views/interp.js";
import * as plane from "./views/plane.js";
import * as sample from "./views/sample.js";

async function start() {
  window.addEventListener("unhandledrejection", ev => { ev.preventDefault(); status.error(ev.reason); });
  window.addEventListener("error", ev => { status.error(ev.error || ev.message); });
  let info;
  try {
    info = await api.info();
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
  image.wire();
  interp.wire();
  sample.wire();
  for (const M of state.models) {
    M.loadPoints.request(plane.pointsQuery(M));
    plane.syncSliders(M, "image");
  }
  image.pickIndex(0);
  sample.drawSamples();
  status.set(`ready · ${n === 2 ? "two models side by side" : "one model"} · ${info.models[0].dataset}, ${info.models[0].test_size} test images`);
  document.body.dataset.ready = "1";
}

// for tests and the curious: the coalescing helper and the page state
window.vaekitPage = {
  Latest, state, normals,
  planeXY: (i, k) => { const P = state.models[i].points; return plane.toCanvas(P, P.x[k], P.y[k]); },
};

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
