/**
 * Runs ONNX Runtime directly (no Sluice code in between) to get the outputs a transform must match.
 */
import ort from "onnxruntime-node";

/** Runs the model at `modelPath` on named feeds and returns every output's flat data. */
export async function runReference(
  modelPath: string,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor["data"]>> {
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ["cpu"] });
  try {
    const results = await session.run(feeds);
    return Object.fromEntries(Object.entries(results).map(([name, tensor]) => [name, tensor.data]));
  } finally {
    await session.release();
  }
}

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
