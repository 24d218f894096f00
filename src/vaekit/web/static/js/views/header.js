// The header's list of models (#models): one line per model, its run, kind, code size (and classes, for a
// conditional model) and data.

import {$} from "../dom.js";
import {esc} from "../util.js";

export function renderHeader(info) {
  $("#models").innerHTML = info.models.map(m => `
    <div class="model m${m.index}"><span class="tag m${m.index}">model ${m.index}</span>
      <b>${esc(m.run)}</b> <span class="kind ${esc(m.kind)}">${esc(m.kind.toUpperCase())}</span>
      <span>latent_dim ${m.latent_dim}</span>${m.latent2 ? ` · <span class="layers">z1 of two stochastic layers (z2: ${m.latent2})</span>` : ""}${m.condition === "label" ? ` · <span class="cond">given the class y, ${m.classes} classes</span>` : ""} · <span>${esc(m.dataset)}</span>
      <span class="muted">${m.image_shape.join("×")}, ${esc(m.likelihood)}, test ${m.test_size}, train ${m.train_size}</span></div>`).join("");
}
