// Small pure helpers: escaping, number formats, the label colours, a content tag.

export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
export const GREY = "#8a8f98";
export const SVGNS = "http://www.w3.org/2000/svg";

export function esc(s) {
  return String(s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
export function fmt(x, digits = 2) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return x.toFixed(digits);
}
export function clampInt(v, lo, hi, dflt) {
  const n = Math.round(Number(v));
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : dflt;
}
export function fnv(bytes) {     // FNV-1a over bytes or a string: a cheap content tag for tests (data-hash)
  let h = 0x811c9dc5;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    h ^= typeof bytes === "string" ? bytes.charCodeAt(i) : bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}
