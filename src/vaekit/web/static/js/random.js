// Seeded PRNG (mulberry32) and standard normals by Box-Muller: e ~ N(0, I) drawn here, not on the server.

export function mulberry32(seed) {
  let a = (seed >>> 0) || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// rows × cols draws of N(0, 1) from one seed: the same seed gives the same codes.
export function normals(seed, rows, cols) {
  const rand = mulberry32(seed);
  const out = [];
  for (let r = 0; r < rows; r++) {
    const row = [];
    while (row.length < cols) {
      const u1 = 1 - rand(), u2 = rand();             // u1 in (0, 1]
      const rad = Math.sqrt(-2 * Math.log(u1));
      row.push(rad * Math.cos(2 * Math.PI * u2));
      if (row.length < cols) row.push(rad * Math.sin(2 * Math.PI * u2));
    }
    out.push(row);
  }
  return out;
}
