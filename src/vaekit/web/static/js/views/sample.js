// Sampling from the prior (#sec-sample): 8 codes drawn by the server from the model's own prior p(z) (N(0, I),
// the VampPrior, the learned mixture, or z2 then z1 for two stochastic layers; an AE: N(0, I)) from a seed,
// decoded (with the picker's class y for a conditional model).

import * as api from "../api.js";
import {$, col, setBlobImage} from "../dom.js";
import {state, STRIP} from "../state.js";
import {clampInt} from "../util.js";

export function drawSamples() {
  state.sampleSeed = clampInt($("#sample-seed").value, 0, 2 ** 31 - 1, 0);
  $("#sample-seed").value = String(state.sampleSeed);
  for (const M of state.models) M.sampleReq.request(state.sampleSeed);
}

// Run by the model's Latest control.
export async function sample(M, seed) {
  setBlobImage(M.el.samples, await api.sample(M.i, 8, seed, M.label), STRIP, 8);
}

export function showClass(M) {
  if (M.conditional) M.el.samplesNote.textContent = `decoded as class y = ${M.label} (the class picker, in the code plane)`;
}

export function build(M) {
  const i = M.i;
  col($("#sample-cols"), M, `
    <span class="cells"><img id="samples-${i}" class="px strip" alt="" data-version="0"></span>
    ${M.conditional ? `<p class="note" id="samples-note-${i}"></p>` : ""}
    ${M.isVae ? "" : `<p class="ae-note">AE: the prior N(0, I) was not part of training.</p>`}`);
  M.el.samples = document.getElementById(`samples-${i}`);
  M.el.samplesNote = document.getElementById(`samples-note-${i}`);
  showClass(M);
}

export function wire() {
  $("#sample-seed").addEventListener("change", drawSamples);
  $("#sample-go").addEventListener("click", () => {
    $("#sample-seed").value = String(Number($("#sample-seed").value || 0) + 1);
    drawSamples();
  });
}
