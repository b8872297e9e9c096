/**
 * Writes ONNX models: the subset of `onnx.proto` (ModelProto and what it contains) that Sluice's own
 * graphs need: the models it converts at load (XGBoost boosters), the parts it splices into a model
 * (ZipMap unwrapping), the bundled default model and the models the tests run.
 */
import protobuf from "protobufjs";

const ONNX_PROTO = `
syntax = "proto3";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  string name = 1; float f = 2; int64 i = 3; bytes s = 4; TensorProto t = 5;
  repeated float floats = 7; repeated int64 ints = 8; repeated bytes strings = 9; AttributeType type = 20;
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

const onnx = protobuf.parse(ONNX_PROTO).root;
const ModelProto = onnx.lookupType("onnx.ModelProto");
const NodeProto = onnx.lookupType("onnx.NodeProto");
const ValueInfoProto = onnx.lookupType("onnx.ValueInfoProto");

/** ONNX element types this writer can declare, with their `TensorProto.DataType` numbers. */
export const ElementType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  complex64: 14,
  bfloat16: 16,
} as const;
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

/**
 * An attribute value: a plain number (INT), a number array (INTS), a string (STRING), or tagged:
 * `{ f }` (FLOAT), `{ floats }` (FLOATS), `{ strings }` (STRINGS).
 */
export type AttributeValue =
  | number
  | string
  | readonly number[]
  | { f: number }
  | { floats: readonly number[] }
  | { strings: readonly string[] };

/** One operator node. */
export interface NodeSpec {
  op: string;
  /** The operator's domain: `""` (the default) or `ai.onnx.ml`. */
  domain?: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Record<string, AttributeValue>;
}

/** Everything needed to write a model. */
export interface GraphSpec {
  name: string;
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
  initializers?: readonly Initializer[];
  nodes: readonly NodeSpec[];
  /** The default domain's opset (17 when absent). */
  opset?: number;
  /** Opsets of other domains (`{ "ai.onnx.ml": 3 }`). */
  domainOpsets?: Readonly<Record<string, number>>;
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

const utf8 = new TextEncoder();

const attribute = (name: string, value: AttributeValue) => {
  if (typeof value === "number") return { name, type: 2, i: value };
  if (typeof value === "string") return { name, type: 3, s: utf8.encode(value) };
  if (Array.isArray(value)) return { name, type: 7, ints: value };
  if ("floats" in value) return { name, type: 6, floats: value.floats };
  if ("strings" in value) return { name, type: 8, strings: value.strings.map((text) => utf8.encode(text)) };
  return { name, type: 1, f: (value as { f: number }).f };
};

const node = (spec: NodeSpec, index: number) => ({
  name: `${spec.op}_${index}`,
  opType: spec.op,
  domain: spec.domain ?? "",
  input: spec.inputs,
  output: spec.outputs,
  attribute: Object.entries(spec.attributes ?? {}).map(([name, value]) => attribute(name, value)),
});

/** One NodeProto's bytes (without a field tag), named `name`. */
export function encodeNode(spec: NodeSpec, name: string): Uint8Array {
  return NodeProto.encode(NodeProto.fromObject({ ...node(spec, 0), name })).finish();
}

/** One ValueInfoProto's bytes (without a field tag). */
export function encodeValueInfo(spec: ValueSpec): Uint8Array {
  return ValueInfoProto.encode(ValueInfoProto.fromObject(valueInfo(spec))).finish();
}

/** Encodes a graph as ONNX model bytes (IR version 8, default opset 17). */
export function writeModel(spec: GraphSpec): Uint8Array {
  const message = ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [
      { domain: "", version: spec.opset ?? 17 },
      ...Object.entries(spec.domainOpsets ?? {}).map(([domain, version]) => ({ domain, version })),
    ],
    producerName: "sluice",
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
      node: spec.nodes.map(node),
    },
  });
  return ModelProto.encode(message).finish();
}
