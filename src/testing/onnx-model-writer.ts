/**
 * Models for tests and benchmarks, written with Sluice's ONNX writer: small perceptrons with fixed
 * pseudo-random weights, so no Python toolchain is needed to rebuild any model in this repository.
 */
import { type Initializer, type NodeSpec, writeModel } from "../model/onnx-writer.js";
import { seededRandom } from "./seeded-random.js";

export { type GraphSpec, type Initializer, type NodeSpec, type ValueSpec, writeModel } from "../model/onnx-writer.js";

/** A float32 weight matrix with entries uniform in [-scale, scale). */
export function randomWeights(random: () => number, count: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (random() * 2 - 1) * scale;
  return out;
}

/**
 * A two-layer perceptron classifier: `input [N, inputWidth]` → Gemm → Relu → Gemm → Softmax →
 * `output [N, classes]`, with fixed pseudo-random weights drawn from `seed`.
 */
export function mlpClassifier(options: {
  inputWidth: number;
  hidden: number;
  classes: number;
  seed: number;
  inputName?: string;
  outputName?: string;
}): Uint8Array {
  const { inputWidth, hidden, classes, seed } = options;
  const random = seededRandom(seed);
  const inputName = options.inputName ?? "features";
  const outputName = options.outputName ?? "probabilities";
  return writeModel({
    name: "mlp_classifier",
    inputs: [{ name: inputName, type: "float32", shape: ["N", inputWidth] }],
    outputs: [{ name: outputName, type: "float32", shape: ["N", classes] }],
    initializers: [
      {
        name: "W1",
        dims: [inputWidth, hidden],
        data: randomWeights(random, inputWidth * hidden, 1 / Math.sqrt(inputWidth)),
      },
      { name: "B1", dims: [hidden], data: randomWeights(random, hidden, 0.1) },
      { name: "W2", dims: [hidden, classes], data: randomWeights(random, hidden * classes, 1 / Math.sqrt(hidden)) },
      { name: "B2", dims: [classes], data: randomWeights(random, classes, 0.1) },
    ],
    nodes: [
      { op: "Gemm", inputs: [inputName, "W1", "B1"], outputs: ["hidden_pre"] },
      { op: "Relu", inputs: ["hidden_pre"], outputs: ["hidden"] },
      { op: "Gemm", inputs: ["hidden", "W2", "B2"], outputs: ["logits"] },
      { op: "Softmax", inputs: ["logits"], outputs: [outputName], attributes: { axis: -1 } },
    ],
  });
}

/**
 * A wide, deep perceptron for compute- and memory-heavy benchmarks: `input [N, width]` → `layers` ×
 * (Gemm `width×width` → Relu) → Gemm → Softmax → `output [N, classes]`; `layers × width² × 4` bytes of
 * weights (8 layers of 2048 make 128 MiB).
 */
export function wideMlp(options: { width: number; layers: number; classes: number; seed: number }): Uint8Array {
  const { width, layers, classes, seed } = options;
  const random = seededRandom(seed);
  const initializers: Initializer[] = [];
  const nodes: NodeSpec[] = [];
  let previous = "features";
  for (let layer = 0; layer < layers; layer++) {
    initializers.push(
      { name: `W${layer}`, dims: [width, width], data: randomWeights(random, width * width, 1 / Math.sqrt(width)) },
      { name: `B${layer}`, dims: [width], data: randomWeights(random, width, 0.1) },
    );
    nodes.push(
      { op: "Gemm", inputs: [previous, `W${layer}`, `B${layer}`], outputs: [`pre${layer}`] },
      { op: "Relu", inputs: [`pre${layer}`], outputs: [`act${layer}`] },
    );
    previous = `act${layer}`;
  }
  initializers.push(
    { name: "Wout", dims: [width, classes], data: randomWeights(random, width * classes, 1 / Math.sqrt(width)) },
    { name: "Bout", dims: [classes], data: randomWeights(random, classes, 0.1) },
  );
  nodes.push(
    { op: "Gemm", inputs: [previous, "Wout", "Bout"], outputs: ["logits"] },
    { op: "Softmax", inputs: ["logits"], outputs: ["probabilities"], attributes: { axis: -1 } },
  );
  return writeModel({
    name: "wide_mlp",
    inputs: [{ name: "features", type: "float32", shape: ["N", width] }],
    outputs: [{ name: "probabilities", type: "float32", shape: ["N", classes] }],
    initializers,
    nodes,
  });
}
