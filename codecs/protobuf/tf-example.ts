/**
 * `tf.train.Example` protobuf, the payload of TFRecord files. Decoding walks the wire format by hand and
 * writes `float_list` / `int64_list` values straight into the batch; encoding writes float features by
 * hand too, and anything else through protobufjs with the message definitions below.
 */
import protobuf from "protobufjs";
import {
  excerpt,
  isInt32RangeArray,
  type OutputBatch,
  type OutputTensor,
  type RecordEncoder,
  RecordError,
} from "../../src/index.js";
import { encodeTfRecordFrame, tfRecordHeader } from "../framing/tfrecord-framer.js";
import { FeatureRecordDecoder } from "./feature-record-decoder.js";
import type { FeatureTable } from "./feature-table.js";
import { type ByteRange, RepeatedField } from "./protobuf-wire.js";
import type { ValueDestination } from "./value-destination.js";
import { lengthDelimitedHeader, mapEntryHead, varint64Length, WireWriter } from "./wire-writer.js";

const TF_EXAMPLE_PROTO = `
syntax = "proto3";
package tensorflow;
message BytesList { repeated bytes value = 1; }
message FloatList { repeated float value = 1 [packed = true]; }
message Int64List { repeated int64 value = 1 [packed = true]; }
message Feature { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
message Features { map<string, Feature> feature = 1; }
message Example { Features features = 1; }
`;

/** The `tensorflow.Example` message type (protobufjs reflection, field names as in the .proto). */
export const TfExample = protobuf.parse(TF_EXAMPLE_PROTO, { keepCase: true }).root.lookupType("tensorflow.Example");

const FEATURES_FIELD = 1;
const FEATURE_MAP_FIELD = 1;
const BYTES_LIST_FIELD = 1;
/** `BytesList.value`. */
const BYTES_ENTRY_FIELD = 1;
const FLOAT_LIST_FIELD = 2;
const INT64_LIST_FIELD = 3;
const floatValues = new RepeatedField(1, "float32");
const int64Values = new RepeatedField(1, "varint");

/** Decodes one `tf.train.Example` per frame into the model's inputs. */
export class TfExampleDecoder extends FeatureRecordDecoder {
  readonly #featuresMessage: ByteRange = { start: 0, end: 0 };
  readonly #list: ByteRange = { start: 0, end: 0 };

  protected listFeatures(bytes: Uint8Array, start: number, end: number, features: FeatureTable): void {
    const message = this.#featuresMessage;
    if (this.wire.findLengthDelimited(bytes, start, end, FEATURES_FIELD, message)) {
      this.wire.readMapEntries(bytes, message.start, message.end, FEATURE_MAP_FIELD, features);
    }
  }

  protected invalid(cause: Error): RecordError {
    return new RecordError("EXAMPLE_PROTOBUF_INVALID", `record is not a valid tf.train.Example: ${cause.message}`);
  }

  /** Writes a `float_list` or `int64_list`, or a `bytes_list` for a string input. */
  protected writeFeature(bytes: Uint8Array, start: number, end: number, destination: ValueDestination): void {
    const wire = this.wire;
    const list = this.#list;
    if (destination.takesText) {
      if (!wire.findLengthDelimited(bytes, start, end, BYTES_LIST_FIELD, list)) destination.refuseNumbers();
      destination.putTexts(wire.readTexts(bytes, list.start, list.end, BYTES_ENTRY_FIELD));
      return;
    }
    let values: RepeatedField;
    if (wire.findLengthDelimited(bytes, start, end, FLOAT_LIST_FIELD, list)) values = floatValues;
    else if (wire.findLengthDelimited(bytes, start, end, INT64_LIST_FIELD, list)) values = int64Values;
    else {
      const holdsBytes = wire.findLengthDelimited(bytes, start, end, BYTES_LIST_FIELD, list);
      throw new RecordError(
        "FEATURE_NOT_NUMERIC",
        `feature ${excerpt(destination.feature)} ${holdsBytes ? "is a bytes_list" : "is empty"}; the model takes numbers`,
      );
    }
    destination.expectDense(wire.countRepeated(values, bytes, list.start, list.end));
    wire.writeRepeated(values, bytes, list.start, list.end, destination);
  }
}

const utf8 = new TextEncoder();

/**
 * The protobufjs `Feature` object holding one record's values of one output (a map output's values in
 * key order); strings as a `bytes_list`.
 */
function featureOf(output: OutputTensor, row: number): Record<string, unknown> {
  const data = output.data;
  if (Array.isArray(data)) {
    const texts = (data as readonly string[]).slice(row * output.width, (row + 1) * output.width);
    return { bytes_list: { value: texts.map((text) => utf8.encode(text)) } };
  }
  const values = (data as Exclude<typeof data, readonly string[]>).subarray(
    row * output.width,
    (row + 1) * output.width,
  );
  if (values instanceof Float32Array || values instanceof Float64Array) return { float_list: { value: values } };
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    return { int64_list: { value: Array.from(values, (v) => v.toString()) } };
  }
  return { int64_list: { value: values } };
}

/** The `Example` of a record that could not be decoded: a single `error` feature holding the error as JSON. */
const failedExample = (error: RecordError) =>
  TfExample.encode({
    features: {
      feature: {
        error: { bytes_list: { value: [utf8.encode(JSON.stringify({ error: error.message, code: error.code }))] } },
      },
    },
  }).finish();

/** Frames of one `Example` per record through protobufjs: the general path, for any output type. */
function encodeExamples(batch: OutputBatch): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let row = 0; row < batch.rows; row++) {
    const error = batch.recordErrors.get(row);
    const example = error
      ? failedExample(error)
      : TfExample.encode({
          features: {
            feature: Object.fromEntries(batch.outputs.map((output) => [output.spec.name, featureOf(output, row)])),
          },
        }).finish();
    frames.push(encodeTfRecordFrame(example));
  }
  return Buffer.concat(frames);
}

const FLOAT_LIST_VALUES_FIELD = 1;
const INT64_LIST_VALUES_FIELD = 1;

/**
 * One float output's feature entry, the same for every record but its values: the bytes before them (entry,
 * key, `Feature`, `FloatList` and values headers), as protobufjs lays them out.
 */
interface FloatFeature {
  readonly prefix: Uint8Array;
  readonly width: number;
  /** float32 values by their IEEE bits, or float64 values (written rounded, as `float_list` holds float32s). */
  readonly values: Uint32Array | Float64Array;
}

function floatFeature(output: OutputTensor): FloatFeature | undefined {
  const { data, width } = output;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return undefined;
  const valuesHeader = width > 0 ? lengthDelimitedHeader(FLOAT_LIST_VALUES_FIELD, 4 * width) : [];
  const listLength = valuesHeader.length + 4 * width;
  const listHeader = lengthDelimitedHeader(FLOAT_LIST_FIELD, listLength);
  return {
    prefix: Uint8Array.from([
      ...mapEntryHead(FEATURE_MAP_FIELD, output.spec.name, listHeader.length + listLength),
      ...listHeader,
      ...valuesHeader,
    ]),
    width,
    values: data instanceof Float64Array ? data : new Uint32Array(data.buffer, data.byteOffset, data.length),
  };
}

/**
 * One integer output's feature entry: its values as 64-bit halves (`int64_list` holds varints, so the
 * bytes around them are made per record, for the length of that record's varints).
 */
interface Int64Feature {
  readonly name: string;
  readonly width: number;
  /** Each value's low and high 32 bits. */
  readonly halves: Uint32Array;
}

function int64Feature(output: OutputTensor): Int64Feature | undefined {
  const { data, width } = output;
  const name = output.spec.name;
  if (data instanceof BigInt64Array) {
    return { name, width, halves: new Uint32Array(data.buffer, data.byteOffset, 2 * data.length) };
  }
  if (!isInt32RangeArray(data)) return undefined;
  const halves = new Uint32Array(2 * data.length);
  for (let i = 0; i < data.length; i++) {
    halves[2 * i] = data[i] >>> 0;
    halves[2 * i + 1] = data[i] < 0 ? 0xffffffff : 0;
  }
  return { name, width, halves };
}

/** The bytes before an integer feature's values, for `valuesLength` bytes of varints, as protobufjs lays them out. */
function int64FeatureHead(name: string, width: number, valuesLength: number): Uint8Array {
  const valuesHeader = width > 0 ? lengthDelimitedHeader(INT64_LIST_VALUES_FIELD, valuesLength) : [];
  const listLength = valuesHeader.length + valuesLength;
  const listHeader = lengthDelimitedHeader(INT64_LIST_FIELD, listLength);
  return Uint8Array.from([
    ...mapEntryHead(FEATURE_MAP_FIELD, name, listHeader.length + listLength),
    ...listHeader,
    ...valuesHeader,
  ]);
}

/**
 * Writes one TFRecord-framed `Example` per input record, each output as a feature named after it
 * (`float_list` for floats, `int64_list` for integers). A record that could not be decoded gets a single
 * `error` feature: a `bytes_list` holding the error as JSON. When every output is float32, float64 or an
 * integer type (the commonest models, a classifier's label included), each record is written straight
 * into one buffer, the bytes around float values made once per batch; the bytes are protobufjs's.
 */
export class TfExampleEncoder implements RecordEncoder {
  readonly #writer = new WireWriter();

  begin(): Uint8Array {
    return new Uint8Array(0);
  }

  encode(batch: OutputBatch): Uint8Array {
    const features = batch.outputs.map((output) => floatFeature(output) ?? int64Feature(output));
    if (!features.every((feature) => feature !== undefined)) return encodeExamples(batch);
    const writer = this.#writer;
    // Every record's float features take the same bytes; integer ones as many as their varints.
    const fixedLength = features.reduce(
      (sum, feature) => sum + ("prefix" in feature ? feature.prefix.length + 4 * feature.width : 0),
      0,
    );
    // The bytes before an integer feature's values, by their length (labels take one or two lengths).
    const headsByLength = features.map(() => new Map<number, Uint8Array>());
    const heads: (Uint8Array | undefined)[] = features.map(() => undefined);
    let frameHeader: Uint8Array | undefined;
    let exampleHeader: Uint8Array | undefined;
    let lastLength = -1;
    for (let row = 0; row < batch.rows; row++) {
      const error = batch.recordErrors.get(row);
      if (error) {
        writer.append(encodeTfRecordFrame(failedExample(error)));
        continue;
      }
      let featuresLength = fixedLength;
      for (let f = 0; f < features.length; f++) {
        const feature = features[f];
        if ("prefix" in feature) continue;
        const { halves, width } = feature;
        let valuesLength = 0;
        for (let i = row * width; i < (row + 1) * width; i++)
          valuesLength += varint64Length(halves[2 * i], halves[2 * i + 1]);
        let head = headsByLength[f].get(valuesLength);
        if (head === undefined) {
          head = int64FeatureHead(feature.name, width, valuesLength);
          headsByLength[f].set(valuesLength, head);
        }
        heads[f] = head;
        featuresLength += head.length + valuesLength;
      }
      if (featuresLength !== lastLength) {
        exampleHeader = Uint8Array.from(lengthDelimitedHeader(FEATURES_FIELD, featuresLength));
        // The TFRecord header (length, checksum) of an Example this long.
        frameHeader = tfRecordHeader(exampleHeader.length + featuresLength);
        lastLength = featuresLength;
      }
      writer.piece(frameHeader as Uint8Array);
      const exampleStart = writer.length;
      writer.piece(exampleHeader as Uint8Array);
      for (let f = 0; f < features.length; f++) {
        const feature = features[f];
        if ("prefix" in feature) {
          const { prefix, width, values } = feature;
          writer.piece(prefix);
          if (values instanceof Float64Array) writer.roundedFloat32s(values, row * width, (row + 1) * width);
          else writer.float32Bits(values, row * width, (row + 1) * width);
        } else {
          writer.piece(heads[f] as Uint8Array);
          writer.varints64(feature.halves, row * feature.width, (row + 1) * feature.width);
        }
      }
      writer.maskedCrc32cSince(exampleStart);
    }
    return writer.take();
  }

  end(): Uint8Array {
    return new Uint8Array(0);
  }
}
