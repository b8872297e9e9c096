/**
 * Amazon `Record` protobuf (package `aialgs.data`), the payload of SageMaker's RecordIO-protobuf format.
 * Decoding walks the wire format by hand and writes tensor values straight into the batch; encoding
 * writes float tensors by hand too, and anything else through protobufjs with the message definitions
 * below.
 */
import protobuf from "protobufjs";
import {
  type CodecContext,
  excerpt,
  type Frame,
  type OutputBatch,
  type OutputTensor,
  type RecordEncoder,
  RecordError,
  type RecordSink,
  UnsupportedMediaTypeError,
} from "../../src/index.js";
import { encodeRecordIOFrame, RECORDIO_MAGIC, RECORDIO_MAX_PAYLOAD } from "../framing/recordio-framer.js";
import { FeatureRecordDecoder } from "./feature-record-decoder.js";
import type { FeatureTable } from "./feature-table.js";
import { type ByteRange, type ElementEncoding, RepeatedField } from "./protobuf-wire.js";
import type { ValueDestination } from "./value-destination.js";
import { lengthDelimited, lengthDelimitedHeader, mapEntryHead, varint, WireWriter } from "./wire-writer.js";

const AMAZON_RECORD_PROTO = `
syntax = "proto2";
package aialgs.data;
message Float32Tensor { repeated float values = 1 [packed = true]; repeated uint64 keys = 2 [packed = true]; repeated uint64 shape = 3 [packed = true]; }
message Float64Tensor { repeated double values = 1 [packed = true]; repeated uint64 keys = 2 [packed = true]; repeated uint64 shape = 3 [packed = true]; }
message Int32Tensor { repeated int32 values = 1 [packed = true]; repeated uint64 keys = 2 [packed = true]; repeated uint64 shape = 3 [packed = true]; }
message Bytes { repeated bytes value = 1; optional string content_type = 2; }
message Value { oneof value { Float32Tensor float32_tensor = 2; Float64Tensor float64_tensor = 3; Int32Tensor int32_tensor = 7; Bytes bytes = 9; } }
message Record { map<string, Value> features = 1; map<string, Value> label = 2; optional string uid = 3; optional string metadata = 4; optional string configuration = 5; }
`;

/** The `aialgs.data.Record` message type (protobufjs reflection, field names as in the .proto). */
export const AmazonRecord = protobuf
  .parse(AMAZON_RECORD_PROTO, { keepCase: true })
  .root.lookupType("aialgs.data.Record");

const FEATURES_FIELD = 1;
const HIGHEST_RECORD_FIELD = 5;
/** `Value` fields that hold a numeric tensor, with their element encodings. */
const TENSOR_FIELDS: readonly [number, ElementEncoding][] = [
  [2, "float32"],
  [3, "float64"],
  [7, "varint"],
];
const BYTES_VALUE_FIELD = 9;
/** `Bytes.value`: the entries of a bytes feature. */
const BYTES_ENTRY_FIELD = 1;
const VALUES_FIELD = 1;
const KEYS_FIELD = 2;
const SHAPE_FIELD = 3;

const valueFields: Record<ElementEncoding, RepeatedField> = {
  float32: new RepeatedField(VALUES_FIELD, "float32"),
  float64: new RepeatedField(VALUES_FIELD, "float64"),
  varint: new RepeatedField(VALUES_FIELD, "varint"),
};

/** True when `bytes` is laid out as a `Record`: only its five fields, each length-delimited, and whole. */
function looksLikeRecord(bytes: Uint8Array): boolean {
  try {
    const reader = protobuf.Reader.create(bytes);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 < 1 || tag >>> 3 > HIGHEST_RECORD_FIELD || (tag & 7) !== 2) return false;
      reader.skipType(2);
    }
    return reader.pos === reader.len;
  } catch {
    return false;
  }
}

/** Options of {@link AmazonRecordDecoder}. */
export interface AmazonRecordDecoderOptions {
  /**
   * The media type read when payloads are opaque (`application/x-recordio`): a payload that is not a
   * `Record` is then a 415 pointing to codec plugins, not a malformed record.
   */
  readonly opaqueMediaType?: string;
}

/** Decodes one Amazon `Record` per frame into the model's inputs. */
export class AmazonRecordDecoder extends FeatureRecordDecoder {
  readonly #tensor: ByteRange = { start: 0, end: 0 };
  readonly #keys: ByteRange = { start: 0, end: 0 };
  readonly #shape: ByteRange = { start: 0, end: 0 };
  readonly #packedValues = { encoding: "float32" as ElementEncoding, start: 0, end: 0 };
  readonly #opaqueMediaType: string | undefined;

  constructor(context: CodecContext, options: AmazonRecordDecoderOptions = {}) {
    super(context);
    this.#opaqueMediaType = options.opaqueMediaType;
  }

  override decode(frame: Frame, sink: RecordSink): void {
    if (this.#opaqueMediaType !== undefined && !looksLikeRecord(frame.bytes)) {
      throw new UnsupportedMediaTypeError(
        `record ${sink.nextRecordIndex} of this ${this.#opaqueMediaType} body is not an Amazon Record protobuf; ` +
          "its payloads are opaque to Sluice: send application/x-recordio-protobuf, or install a codec plugin " +
          "that decodes them (SLUICE_PLUGINS, see the README's 'Writing a codec plugin')",
        ["application/x-recordio-protobuf"],
        "RECORDIO_PAYLOAD_OPAQUE",
      );
    }
    super.decode(frame, sink);
  }

  protected listFeatures(bytes: Uint8Array, start: number, end: number, features: FeatureTable): void {
    this.wire.readMapEntries(bytes, start, end, FEATURES_FIELD, features);
  }

  protected invalid(cause: Error): RecordError {
    return new RecordError("RECORD_PROTOBUF_INVALID", `record is not a valid Amazon Record protobuf: ${cause.message}`);
  }

  /** Writes the tensor of a `Value` (dense or sparse), or its `bytes` for a string input. */
  protected writeFeature(bytes: Uint8Array, start: number, end: number, destination: ValueDestination): void {
    const wire = this.wire;
    const tensor = this.#tensor;
    if (destination.takesText) {
      if (!wire.findLengthDelimited(bytes, start, end, BYTES_VALUE_FIELD, tensor)) destination.refuseNumbers();
      destination.putTexts(wire.readTexts(bytes, tensor.start, tensor.end, BYTES_ENTRY_FIELD));
      return;
    }
    let encoding: ElementEncoding | undefined;
    for (const [field, fieldEncoding] of TENSOR_FIELDS) {
      if (wire.findLengthDelimited(bytes, start, end, field, tensor)) {
        encoding = fieldEncoding;
        break;
      }
    }
    if (encoding === undefined) {
      const holdsBytes = wire.findLengthDelimited(bytes, start, end, BYTES_VALUE_FIELD, tensor);
      throw new RecordError(
        "FEATURE_NOT_NUMERIC",
        `feature ${excerpt(destination.feature)} ${holdsBytes ? "holds bytes" : "holds no tensor"}; the model takes numbers`,
      );
    }
    const values = valueFields[encoding];
    if (!wire.findLengthDelimited(bytes, tensor.start, tensor.end, KEYS_FIELD, this.#keys)) {
      destination.expectDense(wire.countRepeated(values, bytes, tensor.start, tensor.end));
      wire.writeRepeated(values, bytes, tensor.start, tensor.end, destination);
      return;
    }
    if (wire.findLengthDelimited(bytes, tensor.start, tensor.end, SHAPE_FIELD, this.#shape)) {
      const size = wire.productOfVarints(bytes, this.#shape.start, this.#shape.end);
      if (size !== destination.width) {
        throw new RecordError(
          "SPARSE_SHAPE_MISMATCH",
          `sparse feature ${excerpt(destination.feature)} has shape of ${size} value(s); the model takes ${destination.width}`,
        );
      }
    }
    const packedValues = this.#packedValues;
    packedValues.encoding = encoding;
    destination.markAbsentMissing();
    if (wire.findLengthDelimited(bytes, tensor.start, tensor.end, VALUES_FIELD, packedValues)) {
      wire.writeSparse(bytes, packedValues, this.#keys, destination);
    } else if (this.#keys.end > this.#keys.start) {
      throw new RecordError(
        "SPARSE_LENGTH_MISMATCH",
        `sparse feature ${excerpt(destination.feature)} has keys but no values`,
      );
    }
  }
}

const utf8 = new TextEncoder();

/**
 * The protobufjs `Value` object holding one record's values of one output: a tensor of its element type
 * (a map output's values in key order), strings as a `bytes` value.
 */
function tensorValue(output: OutputTensor, row: number): Record<string, unknown> {
  const data = output.data;
  if (Array.isArray(data)) {
    const texts = (data as readonly string[]).slice(row * output.width, (row + 1) * output.width);
    return { bytes: { value: texts.map((text) => utf8.encode(text)), content_type: "text/plain; charset=utf-8" } };
  }
  const values = (data as Exclude<typeof data, readonly string[]>).subarray(
    row * output.width,
    (row + 1) * output.width,
  );
  const shape = output.spec.recordShape.length > 1 ? output.spec.recordShape : undefined;
  if (values instanceof Float32Array) return { float32_tensor: { values, shape } };
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    return { float64_tensor: { values: Array.from(values, Number), shape } };
  }
  if (values instanceof Float64Array) return { float64_tensor: { values, shape } };
  return { int32_tensor: { values, shape } };
}

/** The `Record` of a record that could not be decoded: an empty label, the error as JSON in `metadata`. */
const failedRecord = (error: RecordError) =>
  AmazonRecord.encode({ metadata: JSON.stringify({ error: error.message, code: error.code }) }).finish();

/** The `label` key of each output: `score` when the model has one (as SageMaker's built-in algorithms answer). */
const labelKeys = (batch: OutputBatch) =>
  batch.outputs.length === 1 ? ["score"] : batch.outputs.map((output) => output.spec.name);

/**
 * Writes one `Record` per input record, the outputs in its `label` map under {@link labelKeys}, through
 * protobufjs: the general path, for any output type. A record that could not be decoded gets an empty
 * label and the error as JSON in `metadata`.
 */
function encodeAmazonRecords(batch: OutputBatch): Uint8Array {
  const keys = labelKeys(batch);
  const frames: Uint8Array[] = [];
  for (let row = 0; row < batch.rows; row++) {
    const error = batch.recordErrors.get(row);
    const payload = error
      ? failedRecord(error)
      : AmazonRecord.encode({
          label: Object.fromEntries(batch.outputs.map((output, o) => [keys[o], tensorValue(output, row)])),
        }).finish();
    frames.push(encodeRecordIOFrame(payload));
  }
  return Buffer.concat(frames);
}

const LABEL_FIELD = 2;
const FLOAT32_TENSOR_FIELD = 2;
const FLOAT64_TENSOR_FIELD = 3;

/**
 * One float output's `label` entry, the same for every record but its values: the bytes before them
 * (entry, key, `Value`, tensor and values headers) and after them (the shape), as protobufjs lays them out.
 */
interface FloatEntry {
  readonly prefix: Uint8Array;
  readonly suffix: Uint8Array;
  readonly width: number;
  /** float32 values by their IEEE bits, or float64 values. */
  readonly values: Uint32Array | Float64Array;
}

/**
 * 64-bit integers as the doubles that `Number()` makes of them (a `float64_tensor`, as
 * {@link tensorValue} writes them), read as two 32-bit halves: one exact sum, rounded once, as `Number()`
 * rounds, without a `bigint` per value.
 */
function int64sAsDoubles(data: BigInt64Array | BigUint64Array): Float64Array {
  const halves = new Uint32Array(data.buffer, data.byteOffset, 2 * data.length);
  const signed = data instanceof BigInt64Array;
  const doubles = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const high = signed ? halves[2 * i + 1] | 0 : halves[2 * i + 1];
    doubles[i] = high * 2 ** 32 + halves[2 * i];
  }
  return doubles;
}

function floatEntry(key: string, output: OutputTensor): FloatEntry | undefined {
  const { width } = output;
  const shape = output.spec.recordShape;
  const data =
    output.data instanceof BigInt64Array || output.data instanceof BigUint64Array
      ? int64sAsDoubles(output.data)
      : output.data;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return undefined;
  if (!shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) return undefined;
  const double = data instanceof Float64Array;
  const valuesLength = width * (double ? 8 : 4);
  const valuesHeader = valuesLength > 0 ? lengthDelimitedHeader(VALUES_FIELD, valuesLength) : [];
  const shapeField = shape.length > 1 ? lengthDelimited(SHAPE_FIELD, shape.flatMap(varint)) : [];
  const tensorLength = valuesHeader.length + valuesLength + shapeField.length;
  const tensorHeader = lengthDelimitedHeader(double ? FLOAT64_TENSOR_FIELD : FLOAT32_TENSOR_FIELD, tensorLength);
  return {
    prefix: Uint8Array.from([
      ...mapEntryHead(LABEL_FIELD, key, tensorHeader.length + tensorLength),
      ...tensorHeader,
      ...valuesHeader,
    ]),
    suffix: Uint8Array.from(shapeField),
    width,
    values: double ? data : new Uint32Array(data.buffer, data.byteOffset, data.length),
  };
}

/**
 * Encodes outputs as RecordIO frames of Amazon Records. When every output is float32, float64 or int64
 * (the commonest models, a scikit-learn classifier's label included), each record is written straight into
 * one buffer from a layout made once per batch, ~6× the records/s of protobufjs, which builds an object
 * and a buffer per record (20× with an int64 label); the bytes are the same.
 */
export class AmazonRecordEncoder implements RecordEncoder {
  readonly #writer = new WireWriter();

  begin(): Uint8Array {
    return new Uint8Array(0);
  }

  encode(batch: OutputBatch): Uint8Array {
    const keys = labelKeys(batch);
    const entries = batch.outputs.map((output, o) => floatEntry(keys[o], output));
    if (!entries.every((entry) => entry !== undefined)) return encodeAmazonRecords(batch);
    const payloadLength = entries.reduce(
      (sum, entry) => sum + entry.prefix.length + entry.values.BYTES_PER_ELEMENT * entry.width + entry.suffix.length,
      0,
    );
    if (payloadLength > RECORDIO_MAX_PAYLOAD) return encodeAmazonRecords(batch);
    const padding = ((payloadLength + 3) & ~3) - payloadLength;
    const writer = this.#writer;
    for (let row = 0; row < batch.rows; row++) {
      const error = batch.recordErrors.get(row);
      if (error) {
        writer.append(encodeRecordIOFrame(failedRecord(error)));
        continue;
      }
      writer.uint32(RECORDIO_MAGIC);
      writer.uint32(payloadLength);
      for (const { prefix, suffix, width, values } of entries) {
        writer.piece(prefix);
        if (values instanceof Float64Array) writer.float64s(values, row * width, (row + 1) * width);
        else writer.float32Bits(values, row * width, (row + 1) * width);
        writer.piece(suffix);
      }
      writer.zeros(padding);
    }
    return writer.take();
  }

  end(): Uint8Array {
    return new Uint8Array(0);
  }
}
