// The status line under the title (#status): "ready · ...", or the latest error in one line.

import {$} from "./dom.js";

export const status = {
  set(text, kind = "ok") {
    const el = $("#status");
    el.textContent = text;
    el.className = "status " + kind;
    el.dataset.kind = kind;
  },
  error(err) {
    const msg = err && err.message ? err.message : String(err);
    status.set(msg, "error");
  },
};
