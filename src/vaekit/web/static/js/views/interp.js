// Interpolation (#sec-interp): decodes along a path from the current image's code (A) to test image B's; a
// conditional model encodes each end with its own class and decodes the path with the picker's class y.

import * as api from "../api.js";
import {$, col, setBlobImage} from "../dom.js";
import {state, STRIP} from "../state.js";
import {clampInt} from "../util.js";

// Ask for M's strip with the section's controls (clamped in place to what the server accepts).
export function requestInterp(M) {
  const lim = state.info.limits;
  const steps = clampInt($("#interp-steps").value, 2, lim.max_steps, 10);
  $("#interp-steps").value = String(steps);
  const n = state.info.models[0].test_size;
  const b = clampInt($("#interp-b").value, 0, n - 1, 1);
  $("#interp-b").value = String(b);
  M.interpReq.request({
    model: M.i, a: M.src, b: {index: b}, steps,
    method: $("#interp-method").value, code: $("#interp-code").value, seed: state.noiseSeed,
    ...(M.conditional ? {label: M.label} : {}),
  });
}

// Run by the model's Latest control: body as api.interpolate takes it.
export async function interpolate(M, body) {
  const r = await api.interpolate(body);
  // up to 10 steps at the strips' size; more get narrower (down to 24 px) and then scroll
  setBlobImage(M.el.interp, r, Math.max(24, Math.min(STRIP, Math.floor(540 / body.steps))), body.steps);
  const code = r.headers.get("X-Code");
  M.el.interpNote.textContent = body.code === "sample" && code === "mean"
    ? "AE: no noise, so the path runs between the codes m"
    : `${body.method}, between ${code === "sample" ? "sampled codes c" : "means m"}, ${body.steps} steps`
      + (body.label !== undefined ? `, decoded as class y = ${body.label}` : "");
}

export function build(M) {
  const i = M.i;
  col($("#interp-cols"), M, `
    <div class="striprow"><span class="end">A</span><span class="cells"><img id="interp-strip-${i}" class="px strip" alt="" data-version="0"></span><span class="end">B</span></div>
    <p class="note" id="interp-note-${i}"></p>`);
  M.el.interp = document.getElementById(`interp-strip-${i}`);
  M.el.interpNote = document.getElementById(`interp-note-${i}`);
}

export function wire() {
  $("#interp-b").max = String(state.info.models[0].test_size - 1);
  $("#interp-steps").max = String(state.info.limits.max_steps);
  const interp = () => { for (const M of state.models) requestInterp(M); };
  for (const id of ["#interp-b", "#interp-method", "#interp-code", "#interp-steps"]) $(id).addEventListener("change", interp);
  $("#interp-go").addEventListener("click", interp);
}
