// The page's state, shared by the views, and the sizes they draw at.

export const state = {
  info: null,                     // the /api/info answer
  models: [],                     // one per model: see model.js
  image: {index: 0, name: null},  // the current image: a test index, or an upload (name set, index null)
  noiseSeed: 1,
  sampleSeed: 0,
};

export const CELL = 84;           // px of one decoded image beside the plane
export const STRIP = 52;          // px of one image in a strip
export const MAX_SLIDERS = 32;
