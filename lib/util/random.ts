/**
 * Seeded randomness for reproducible splits, shuffles and initialisation.
 * mulberry32: 32-bit state, fast, good enough statistically for shuffling and sampling.
 */

/** Returns a generator of uniform numbers in [0, 1) fully determined by `seed`. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of `arr` in place using `rng`; returns `arr`. */
export function shuffleInPlace<T extends { length: number; [i: number]: any }>(arr: T, rng: () => number): T {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = arr[i];
    arr[i] = arr[j];
    arr[j] = tmp;
  }
  return arr;
}
