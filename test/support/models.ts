/**
 * Test models, written with the repository's ONNX writer into temporary model directories.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { temporaryDirectory } from "../../src/temporary-directory.js";
import { mlpClassifier, randomWeights, writeModel } from "../../src/testing/onnx-model-writer.js";
import { seededRandom } from "../../src/testing/seeded-random.js";

/** Writes `model` as `<new temp dir>/<name>` and returns the directory. */
export function modelDir(model: Uint8Array, name = "model.onnx"): string {
  const dir = temporaryDirectory("sluice-model");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name), model);
  return dir;
}

/** A small classifier: 4 float features → 3 class probabilities. */
export const smallMlp = () => mlpClassifier({ inputWidth: 4, hidden: 8, classes: 3, seed: 7 });

/** Two inputs `a` [N,2] and `b` [N,3] (float32) → `sum` [N,1] (sum of all values) and `scaled` [N,3] (b × 2). */
export function twoInputTwoOutput(): Uint8Array {
  return writeModel({
    name: "two_in_two_out",
    inputs: [
      { name: "a", type: "float32", shape: ["N", 2] },
      { name: "b", type: "float32", shape: ["N", 3] },
    ],
    outputs: [
      { name: "sum", type: "float32", shape: ["N", 1] },
      { name: "scaled", type: "float32", shape: ["N", 3] },
    ],
    initializers: [{ name: "two", dims: [], data: new Float32Array([2]) }],
    nodes: [
      { op: "Concat", inputs: ["a", "b"], outputs: ["ab"], attributes: { axis: 1 } },
      { op: "ReduceSum", inputs: ["ab"], outputs: ["sum"], attributes: { keepdims: 1, axes: [1] } },
      { op: "Mul", inputs: ["b", "two"], outputs: ["scaled"] },
    ],
    opset: 12,
  });
}

/** One int64 input `ids` [N,3] → float32 `doubled` [N,3] (ids × 2 as floats) and int64 `ids_out` (ids + 1). */
export function int64Model(): Uint8Array {
  return writeModel({
    name: "int64_model",
    inputs: [{ name: "ids", type: "int64", shape: ["N", 3] }],
    outputs: [
      { name: "doubled", type: "float32", shape: ["N", 3] },
      { name: "ids_out", type: "int64", shape: ["N", 3] },
    ],
    initializers: [
      { name: "two", dims: [], data: new Float32Array([2]) },
      { name: "one", dims: [], data: new BigInt64Array([1n]) },
    ],
    nodes: [
      { op: "Cast", inputs: ["ids"], outputs: ["ids_f"], attributes: { to: 1 } },
      { op: "Mul", inputs: ["ids_f", "two"], outputs: ["doubled"] },
      { op: "Add", inputs: ["ids", "one"], outputs: ["ids_out"] },
    ],
  });
}

/** One float64 input `x` [N,3] answered unchanged as float64 `y` [N,3] (ONNX Runtime's `Identity`). */
export function float64IdentityModel(): Uint8Array {
  return writeModel({
    name: "float64_identity",
    inputs: [{ name: "x", type: "float64", shape: ["N", 3] }],
    outputs: [{ name: "y", type: "float64", shape: ["N", 3] }],
    nodes: [{ op: "Identity", inputs: ["x"], outputs: ["y"] }],
    opset: 13,
  });
}

/**
 * A model with a dynamic dimension besides the batch axis, as sequence models are exported:
 * `input_ids` and `attention_mask` (int64 [batch, sequence]) give `masked_sum` (float32 [batch], the sum
 * of the ids the mask keeps) and `ids_out` (int64 [batch, sequence], the ids).
 */
export function sequenceModel(): Uint8Array {
  return writeModel({
    name: "sequence_model",
    inputs: [
      { name: "input_ids", type: "int64", shape: ["batch", "sequence"] },
      { name: "attention_mask", type: "int64", shape: ["batch", "sequence"] },
    ],
    outputs: [
      { name: "masked_sum", type: "float32", shape: ["batch"] },
      { name: "ids_out", type: "int64", shape: ["batch", "sequence"] },
    ],
    initializers: [{ name: "axes", dims: [1], data: new BigInt64Array([1n]) }],
    nodes: [
      { op: "Mul", inputs: ["input_ids", "attention_mask"], outputs: ["masked"] },
      { op: "Cast", inputs: ["masked"], outputs: ["masked_float"], attributes: { to: 1 } },
      { op: "ReduceSum", inputs: ["masked_float", "axes"], outputs: ["masked_sum"], attributes: { keepdims: 0 } },
      { op: "Identity", inputs: ["input_ids"], outputs: ["ids_out"] },
    ],
  });
}

/**
 * Unsigned integers: `small` (uint32 [N,2]) and `big` (uint64 [N,2]) come back as `small_out` and
 * `big_out` (Identity, same types), and `small_plus_big` is their sum in uint64 (Cast, then Add), so the
 * model reads each value as the type it is.
 */
export function unsignedModel(): Uint8Array {
  return writeModel({
    name: "unsigned_model",
    inputs: [
      { name: "small", type: "uint32", shape: ["N", 2] },
      { name: "big", type: "uint64", shape: ["N", 2] },
    ],
    outputs: [
      { name: "small_out", type: "uint32", shape: ["N", 2] },
      { name: "big_out", type: "uint64", shape: ["N", 2] },
      { name: "small_plus_big", type: "uint64", shape: ["N", 2] },
    ],
    nodes: [
      { op: "Identity", inputs: ["small"], outputs: ["small_out"] },
      { op: "Identity", inputs: ["big"], outputs: ["big_out"] },
      { op: "Cast", inputs: ["small"], outputs: ["small_wide"], attributes: { to: 13 } },
      { op: "Add", inputs: ["small_wide", "big"], outputs: ["small_plus_big"] },
    ],
  });
}

/**
 * Fails at run time on valid input: `x` [N,2] is reshaped to [N,3], which ONNX Runtime refuses
 * (6 values cannot fill that shape for N=… unless N is a multiple of 3: use batches of 1 or 2 records).
 */
export function failingModel(): Uint8Array {
  return writeModel({
    name: "failing",
    inputs: [{ name: "x", type: "float32", shape: ["N", 2] }],
    outputs: [{ name: "y", type: "float32", shape: ["N", 3] }],
    initializers: [{ name: "shape", dims: [2], data: new BigInt64Array([-1n, 3n]) }],
    nodes: [{ op: "Reshape", inputs: ["x", "shape"], outputs: ["y"] }],
  });
}

/**
 * A model that fails on some records only: `ids [N, 2]` (float32) index a 4 × 3 table (Gather), so a row
 * holding an id outside 0–3 makes ONNX Runtime fail the run. `y [N, 2, 3]` is the looked-up rows.
 */
export function lookupModel(): Uint8Array {
  return writeModel({
    name: "lookup",
    inputs: [{ name: "ids", type: "float32", shape: ["N", 2] }],
    outputs: [{ name: "y", type: "float32", shape: ["N", 2, 3] }],
    initializers: [{ name: "table", dims: [4, 3], data: new Float32Array(12).map((_, i) => i) }],
    nodes: [
      { op: "Cast", inputs: ["ids"], outputs: ["indices"], attributes: { to: 7 } },
      { op: "Gather", inputs: ["table", "indices"], outputs: ["y"], attributes: { axis: 0 } },
    ],
  });
}

/** Deterministic feature rows: `rows × width` floats in [-1, 1), rounded to float32. */
export function randomRows(rows: number, width: number, seed: number): Float32Array {
  return randomWeights(seededRandom(seed), rows * width, 1);
}

/**
 * A model whose run time depends on its data, as a trial on zeros cannot see: `x` [N,1] (float32) is
 * answered unchanged as `y`, after multiplying two k × k matrices of ones, k being the batch's largest
 * value (k³ multiply-adds: nothing for zeros, ~64 G for a record of 4000).
 */
export function dataDependentModel(): Uint8Array {
  return writeModel({
    name: "data_dependent",
    inputs: [{ name: "x", type: "float32", shape: ["N", 1] }],
    outputs: [{ name: "y", type: "float32", shape: ["N", 1] }],
    initializers: [
      { name: "ones", dims: [1, 1], data: new Float32Array([1]) },
      { name: "first_axis", dims: [1], data: new BigInt64Array([0n]) },
      { name: "zero", dims: [], data: new Float32Array([0]) },
    ],
    nodes: [
      { op: "ReduceMax", inputs: ["x"], outputs: ["largest"], attributes: { keepdims: 0 } },
      { op: "Cast", inputs: ["largest"], outputs: ["k"], attributes: { to: 7 } },
      { op: "Unsqueeze", inputs: ["k", "first_axis"], outputs: ["k_1d"] },
      { op: "Concat", inputs: ["k_1d", "k_1d"], outputs: ["repeats"], attributes: { axis: 0 } },
      { op: "Tile", inputs: ["ones", "repeats"], outputs: ["square"] },
      { op: "MatMul", inputs: ["square", "square"], outputs: ["product"] },
      { op: "ReduceSum", inputs: ["product"], outputs: ["total"], attributes: { keepdims: 0 } },
      { op: "Mul", inputs: ["total", "zero"], outputs: ["nothing"] },
      { op: "Add", inputs: ["x", "nothing"], outputs: ["y"] },
    ],
  });
}

/**
 * Half precision in and out: `x` float16 [N,4] → `doubled` float16 [N,4] (2x, computed in float32 and cast
 * back) and `read` float32 [N,4] (x as the model received it).
 */
export function halfPrecisionModel(): Uint8Array {
  return writeModel({
    name: "half_precision",
    inputs: [{ name: "x", type: "float16", shape: ["N", 4] }],
    outputs: [
      { name: "doubled", type: "float16", shape: ["N", 4] },
      { name: "read", type: "float32", shape: ["N", 4] },
    ],
    initializers: [{ name: "two", dims: [], data: new Float32Array([2]) }],
    nodes: [
      { op: "Cast", inputs: ["x"], outputs: ["read"], attributes: { to: 1 } },
      { op: "Mul", inputs: ["read", "two"], outputs: ["doubled32"] },
      { op: "Cast", inputs: ["doubled32"], outputs: ["doubled"], attributes: { to: 10 } },
    ],
    opset: 13,
  });
}

/** ONNX Runtime's own conversion between float32 and float16: `Cast` of `x` [N] to the other type. */
export function castModel(from: "float32" | "float16"): Uint8Array {
  const to = from === "float32" ? "float16" : "float32";
  return writeModel({
    name: `cast_${from}_to_${to}`,
    inputs: [{ name: "x", type: from, shape: ["N"] }],
    outputs: [{ name: "y", type: to, shape: ["N"] }],
    nodes: [{ op: "Cast", inputs: ["x"], outputs: ["y"], attributes: { to: to === "float16" ? 10 : 1 } }],
    opset: 13,
  });
}

/**
 * Narrow integer inputs: `small` int8 [N,2], `wide` uint16 [N,1] and `flag` bool [N,1], cast to float32
 * and answered as `values` [N,4] (what the model read).
 */
export function narrowIntegerModel(): Uint8Array {
  return writeModel({
    name: "narrow_integers",
    inputs: [
      { name: "small", type: "int8", shape: ["N", 2] },
      { name: "wide", type: "uint16", shape: ["N", 1] },
      { name: "flag", type: "bool", shape: ["N", 1] },
    ],
    outputs: [{ name: "values", type: "float32", shape: ["N", 4] }],
    nodes: [
      { op: "Cast", inputs: ["small"], outputs: ["small_f"], attributes: { to: 1 } },
      { op: "Cast", inputs: ["wide"], outputs: ["wide_f"], attributes: { to: 1 } },
      { op: "Cast", inputs: ["flag"], outputs: ["flag_f"], attributes: { to: 1 } },
      { op: "Concat", inputs: ["small_f", "wide_f", "flag_f"], outputs: ["values"], attributes: { axis: 1 } },
    ],
    opset: 13,
  });
}
