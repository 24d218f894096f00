// Request coalescing: at most one request in flight per control; while one is in flight only the latest
// pending call is kept, and it is sent when the one in flight returns (the latest wins).

import {status} from "./status.js";

export class Latest {
  constructor(run, onError = status.error) {
    this.run = run;
    this.onError = onError;
    this.busy = false;
    this.pending = null;          // the arguments of the latest call made while busy, or null
  }
  request(...args) {
    if (this.busy) { this.pending = args; return; }
    this._go(args);
  }
  async _go(args) {
    this.busy = true;
    try {
      await this.run(...args);
    } catch (e) {
      try { this.onError(e); } catch (e2) { /* the error display must never throw */ }
    } finally {
      this.busy = false;
      const next = this.pending;
      this.pending = null;
      if (next) this._go(next);
    }
  }
}
