/**
 * Reads an ONNX model's graph at the protobuf wire level: its nodes (operator, domain, inputs, outputs,
 * the attributes Sluice needs) and its outputs' types, without decoding the weights. Sluice edits a model
 * by splicing fields, so everything it does not touch (initializers, metadata, fields newer than this
 * code) goes through byte for byte.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import protobuf from "protobufjs";

const LENGTH_DELIMITED = 2;
const VARINT = 0;

/** One field of a message: where it lies in the bytes (tag included) and where its value lies. */
export interface WireField {
  readonly field: number;
  readonly wireType: number;
  /** Where the field (its tag) starts. */
  readonly start: number;
  /** Where the field ends. */
  readonly end: number;
  /** Where a length-delimited value starts (after its length), or the varint's position. */
  readonly valueStart: number;
}

/**
 * The fields of the message at `[start, end)` of a source, in order, reading only each field's tag and
 * length through `read` (bytes in memory, or a file read piecewise).
 */
function fieldsOf(read: (start: number, end: number) => Uint8Array, start: number, end: number): WireField[] {
  const fields: WireField[] = [];
  for (let pos = start; pos < end; ) {
    // A tag and a length are two varints: 20 bytes hold both.
    const reader = protobuf.Reader.create(read(pos, Math.min(end, pos + 20)));
    const tag = reader.uint32();
    const wireType = tag & 7;
    let valueStart = pos + reader.pos;
    let fieldEnd: number;
    if (wireType === LENGTH_DELIMITED) {
      const length = reader.uint32();
      valueStart = pos + reader.pos;
      fieldEnd = valueStart + length;
    } else {
      reader.skipType(wireType);
      fieldEnd = pos + reader.pos;
    }
    if (fieldEnd > end) throw new Error(`a field at byte ${pos} runs past its message`);
    fields.push({ field: tag >>> 3, wireType, start: pos, end: fieldEnd, valueStart });
    pos = fieldEnd;
  }
  return fields;
}

/** The fields of the message in `bytes[start, end)`, in order. */
export function wireFields(bytes: Uint8Array, start = 0, end = bytes.length): WireField[] {
  return fieldsOf((from, to) => bytes.subarray(from, to), start, end);
}

const utf8 = new TextDecoder();

/** The UTF-8 string value of a length-delimited field. */
export function wireString(bytes: Uint8Array, field: WireField): string {
  return utf8.decode(bytes.subarray(field.valueStart, field.end));
}

/** The integers of a repeated int64 field, packed or not (decimal strings, exact beyond 2^53). */
function wireIntegers(bytes: Uint8Array, field: WireField, into: string[]): void {
  const reader = protobuf.Reader.create(bytes.subarray(field.valueStart, field.end));
  if (field.wireType === VARINT) {
    into.push(reader.int64().toString());
    return;
  }
  while (reader.pos < reader.len) into.push(reader.int64().toString());
}

/** An attribute of a node, as far as Sluice reads them. */
export interface NodeAttribute {
  readonly name: string;
  /** INTS values, as decimal strings. */
  readonly ints: readonly string[];
  /** STRINGS values. */
  readonly strings: readonly string[];
}

/** A node of the main graph. */
export interface GraphNode {
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  /** Where its attributes lie (read with {@link readNodeAttribute}: a tree ensemble's are large). */
  readonly attributeFields: readonly WireField[];
  /** Where the node lies in the model bytes. */
  readonly wire: WireField;
}

/** A graph output: its name and what kind of value it is (`tensor`, `sequence of map`, …). */
export interface GraphOutput {
  readonly name: string;
  readonly kind: string;
  readonly wire: WireField;
}

/** The main graph of a model, located in its bytes. */
export interface GraphLayout {
  /** The `graph` field of the ModelProto. */
  readonly wire: WireField;
  readonly nodes: readonly GraphNode[];
  readonly outputs: readonly GraphOutput[];
}

const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_OUTPUT = 12;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_NAME = 3;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
const ATTRIBUTE_NAME = 1;
const ATTRIBUTE_INTS = 8;
const ATTRIBUTE_STRINGS = 9;
const VALUE_INFO_NAME = 1;
const VALUE_INFO_TYPE = 2;

const TYPE_KINDS: Readonly<Record<number, string>> = {
  1: "tensor",
  4: "sequence",
  5: "map",
  8: "sparse tensor",
  9: "optional",
};

/** Describes a TypeProto: `tensor`, `sequence of map`, `optional of tensor`, … */
function typeKind(bytes: Uint8Array, start: number, end: number): string {
  for (const field of wireFields(bytes, start, end)) {
    const kind = TYPE_KINDS[field.field];
    if (kind === undefined) continue;
    if (kind === "tensor" || kind === "sparse tensor") return kind;
    // Sequence and optional hold an element type (field 1); a map holds its value type (field 2).
    const inner = wireFields(bytes, field.valueStart, field.end).find((f) => f.field === (kind === "map" ? 2 : 1));
    return inner ? `${kind} of ${typeKind(bytes, inner.valueStart, inner.end)}` : kind;
  }
  return "unknown type";
}

/** The attribute of `node` called `name`, read from the model `bytes`; undefined when it has none. */
export function readNodeAttribute(bytes: Uint8Array, node: GraphNode, name: string): NodeAttribute | undefined {
  for (const wire of node.attributeFields) {
    const fields = wireFields(bytes, wire.valueStart, wire.end);
    const nameField = fields.find((field) => field.field === ATTRIBUTE_NAME);
    if (nameField === undefined || wireString(bytes, nameField) !== name) continue;
    const ints: string[] = [];
    const strings: string[] = [];
    for (const field of fields) {
      if (field.field === ATTRIBUTE_INTS) wireIntegers(bytes, field, ints);
      else if (field.field === ATTRIBUTE_STRINGS) strings.push(wireString(bytes, field));
    }
    return { name, ints, strings };
  }
  return undefined;
}

function readNode(bytes: Uint8Array, wire: WireField): GraphNode {
  let opType = "";
  let domain = "";
  let name = "";
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributeFields: WireField[] = [];
  for (const field of wireFields(bytes, wire.valueStart, wire.end)) {
    if (field.field === NODE_INPUT) inputs.push(wireString(bytes, field));
    else if (field.field === NODE_OUTPUT) outputs.push(wireString(bytes, field));
    else if (field.field === NODE_NAME) name = wireString(bytes, field);
    else if (field.field === NODE_OP_TYPE) opType = wireString(bytes, field);
    else if (field.field === NODE_DOMAIN) domain = wireString(bytes, field);
    else if (field.field === NODE_ATTRIBUTE) attributeFields.push(field);
  }
  return { opType, domain, inputs, outputs, name, attributeFields, wire };
}

function readOutput(bytes: Uint8Array, wire: WireField): GraphOutput {
  let name = "";
  let kind = "unknown type";
  for (const field of wireFields(bytes, wire.valueStart, wire.end)) {
    if (field.field === VALUE_INFO_NAME) name = wireString(bytes, field);
    else if (field.field === VALUE_INFO_TYPE) kind = typeKind(bytes, field.valueStart, field.end);
  }
  return { name, kind, wire };
}

/** Locates the main graph of the ONNX model in `bytes` and reads its nodes and outputs; undefined without one. */
export function readGraphLayout(bytes: Uint8Array): GraphLayout | undefined {
  const graph = wireFields(bytes).find((field) => field.field === MODEL_GRAPH && field.wireType === LENGTH_DELIMITED);
  if (graph === undefined) return undefined;
  const nodes: GraphNode[] = [];
  const outputs: GraphOutput[] = [];
  for (const field of wireFields(bytes, graph.valueStart, graph.end)) {
    if (field.field === GRAPH_NODE) nodes.push(readNode(bytes, field));
    else if (field.field === GRAPH_OUTPUT) outputs.push(readOutput(bytes, field));
  }
  return { wire: graph, nodes, outputs };
}

/** A model's operators and outputs, read from its file without loading its weights. */
export interface GraphSummary {
  readonly nodes: readonly Pick<GraphNode, "opType" | "domain" | "outputs">[];
  readonly outputs: readonly Pick<GraphOutput, "name" | "kind">[];
}

/** Reads bytes `[start, end)` of an open file. */
function readAt(fd: number, start: number, end: number): Uint8Array {
  const bytes = new Uint8Array(end - start);
  let done = 0;
  while (done < bytes.length) {
    const read = readSync(fd, bytes, done, bytes.length - done, start + done);
    if (read === 0) throw new Error(`the model file ends at byte ${start + done}, inside a field`);
    done += read;
  }
  return bytes;
}

/** The fields of the message at `[start, end)` of an open file, reading only their tags and lengths. */
function fileFields(fd: number, start: number, end: number): WireField[] {
  return fieldsOf((from, to) => readAt(fd, from, to), start, end);
}

/**
 * The operators and outputs of the ONNX model in `file`, reading only the graph's node and output
 * fields: a model of gigabytes of weights is summarised by reading kilobytes.
 */
export function summarizeModelFile(file: string): GraphSummary | undefined {
  const fd = openSync(file, "r");
  try {
    const graph = fileFields(fd, 0, fstatSync(fd).size).find(
      (field) => field.field === MODEL_GRAPH && field.wireType === LENGTH_DELIMITED,
    );
    if (graph === undefined) return undefined;
    const nodes: GraphNode[] = [];
    const outputs: GraphOutput[] = [];
    for (const field of fileFields(fd, graph.valueStart, graph.end)) {
      if (field.field !== GRAPH_NODE && field.field !== GRAPH_OUTPUT) continue;
      const bytes = readAt(fd, field.start, field.end);
      const local = { ...field, start: 0, end: bytes.length, valueStart: field.valueStart - field.start };
      if (field.field === GRAPH_NODE) nodes.push(readNode(bytes, local));
      else outputs.push(readOutput(bytes, local));
    }
    return { nodes, outputs };
  } finally {
    closeSync(fd);
  }
}

/**
 * The model bytes with some fields of the main graph replaced: `replacements` maps a field's start (as in
 * {@link GraphNode.wire}) to the complete bytes (tag included) that take its place.
 */
export function spliceGraph(
  bytes: Uint8Array,
  layout: GraphLayout,
  replacements: ReadonlyMap<number, Uint8Array>,
): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const field of wireFields(bytes, layout.wire.valueStart, layout.wire.end)) {
    parts.push(replacements.get(field.start) ?? bytes.subarray(field.start, field.end));
  }
  const graph = Buffer.concat(parts);
  const header = protobuf.Writer.create()
    .uint32((MODEL_GRAPH << 3) | LENGTH_DELIMITED)
    .uint32(graph.length)
    .finish();
  return Buffer.concat([bytes.subarray(0, layout.wire.start), header, graph, bytes.subarray(layout.wire.end)]);
}

/** A length-delimited field: its tag, its length, `value`. */
export function lengthDelimited(field: number, value: Uint8Array | string): Uint8Array {
  const writer = protobuf.Writer.create().uint32((field << 3) | LENGTH_DELIMITED);
  return (typeof value === "string" ? writer.string(value) : writer.bytes(value)).finish();
}

/** Graph field numbers Sluice splices. */
export const GraphFields = { node: GRAPH_NODE, output: GRAPH_OUTPUT } as const;
