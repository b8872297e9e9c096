/**
 * Runs ONNX Runtime directly (no Sluice code in between) to get the outputs a transform must match.
 */

/** Runs the model at `modelPath` on named feeds and returns every output's flat data (the kit's runner). */
export { runOnnxRuntime as runReference } from "../../src/testing/index.js";

/** Parses a CSV answer into rows of numbers. */
export const parseCsvNumbers = (text: string): number[][] =>
  text
    .trim()
    .split("\n")
    .map((line) => line.split(",").map(Number));

/** Asserts two flat sequences agree to within `tolerance`, naming the first index that does not. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-6): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance)) {
      throw new Error(`value ${i}: ${actual[i]} differs from expected ${expected[i]} by more than ${tolerance}`);
    }
  }
}
