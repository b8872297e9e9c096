/**
 * Runs ONNX Runtime directly (no Sluice code in between) to get the outputs a transform must match.
 */
import ort from "onnxruntime-node";
import { runOnnxRuntime } from "../../src/testing/index.js";

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

/**
 * What a classifier from `mlpClassifier` (input `features`, output `probabilities`) answers, run by ONNX
 * Runtime on a CSV body of `width`-feature rows: the flat probabilities its answer must match.
 */
export async function referenceProbabilities(
  modelFile: string,
  body: Uint8Array,
  width: number,
): Promise<Float32Array> {
  const values = Float32Array.from(parseCsvNumbers(new TextDecoder().decode(body)).flat());
  const outputs = await runOnnxRuntime(modelFile, {
    features: new ort.Tensor("float32", values, [values.length / width, width]),
  });
  return outputs.probabilities as Float32Array;
}
