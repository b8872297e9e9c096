/**
 * A small writer for ONNX models, used to generate the bundled default model and the models the tests run.
 * It encodes the subset of `onnx.proto` (ModelProto and what it contains) that a feed-forward graph needs,
 * with protobufjs, so no Python toolchain is required to rebuild any model in this repository.
 */
import protobuf from "protobufjs";

const ONNX_PROTO = `
syntax = "proto3";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  string name = 1; float f = 2; int64 i = 3; bytes s = 4; TensorProto t = 5;
  repeated float floats = 7; repeated int64 ints = 8; AttributeType type = 20;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message NodeProto {
  repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4;
  repeated AttributeProto attribute = 5; string domain = 7;
}
message ModelProto {
  int64 ir_version = 1; repeated OperatorSetIdProto opset_import = 8; string producer_name = 2;
  string producer_version = 3; string doc_string = 6; GraphProto graph = 7;
}
message GraphProto {
  repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12;
}
message TensorProto {
  repeated int64 dims = 1; int32 data_type = 2; string name = 8; bytes raw_data = 9;
}
message TensorShapeProto { message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } } repeated Dimension dim = 1; }
message TypeProto { message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; } oneof value { Tensor tensor_type = 1; } }
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
`;

const ModelProto = protobuf.parse(ONNX_PROTO).root.lookupType("onnx.ModelProto");

/** ONNX element types this writer can declare, with their `TensorProto.DataType` numbers. */
export const ElementType = { float32: 1, int32: 6, int64: 7, float64: 11 } as const;
/** An element type name understood by {@link ElementType}. */
export type ElementTypeName = keyof typeof ElementType;

/** A graph input or output: a name, an element type and a shape (`"N"` marks the dynamic batch axis). */
export interface ValueSpec {
  name: string;
  type: ElementTypeName;
  shape: readonly (number | string)[];
}

/** A constant tensor stored in the model. */
export interface Initializer {
  name: string;
  dims: readonly number[];
  data: Float32Array | Int32Array | BigInt64Array | Float64Array;
}

/** One operator node; attributes are plain numbers (INT), number arrays (INTS) or floats tagged `{ f }`. */
export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Record<string, number | readonly number[] | { f: number }>;
}

/** Everything needed to write a model. */
export interface GraphSpec {
  name: string;
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
  initializers?: readonly Initializer[];
  nodes: readonly NodeSpec[];
  opset?: number;
}

const dataTypeOf = (data: Initializer["data"]): number =>
  data instanceof Float32Array
    ? ElementType.float32
    : data instanceof Int32Array
      ? ElementType.int32
      : data instanceof BigInt64Array
        ? ElementType.int64
        : ElementType.float64;

const valueInfo = (spec: ValueSpec) => ({
  name: spec.name,
  type: {
    tensorType: {
      elemType: ElementType[spec.type],
      shape: { dim: spec.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
    },
  },
});

const attribute = (name: string, value: number | readonly number[] | { f: number }) => {
  if (typeof value === "number") return { name, type: 2, i: value };
  if (Array.isArray(value)) return { name, type: 7, ints: value };
  return { name, type: 1, f: (value as { f: number }).f };
};

/** Encodes a graph as ONNX model bytes (IR version 8, default opset 17). */
export function writeModel(spec: GraphSpec): Uint8Array {
  const message = ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: "", version: spec.opset ?? 17 }],
    producerName: "sluice-model-writer",
    graph: {
      name: spec.name,
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map((init) => ({
        name: init.name,
        dims: init.dims,
        dataType: dataTypeOf(init.data),
        rawData: new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength),
      })),
      node: spec.nodes.map((node, i) => ({
        name: `${node.op}_${i}`,
        opType: node.op,
        input: node.inputs,
        output: node.outputs,
        attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => attribute(name, value)),
      })),
    },
  });
  return ModelProto.encode(message).finish();
}

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
