/**
 * Reproducible randomness for tests, benchmarks and generated models: the same seed gives the same
 * numbers on every run and machine.
 */

/** A deterministic pseudo-random generator (mulberry32), so generated weights are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
