/**
 * Codec throughput on one core, in process: a body split into 64 KiB chunks (as HTTP delivers it) is
 * framed, decoded and packed into batches by the real `Batcher`; outputs are encoded from batches of
 * 10-class probabilities.
 */
import builtinCodecs from "../codecs/index.js";
import { BatchBufferPool } from "../src/batch-buffer-pool.js";
import { Batcher } from "../src/batcher.js";
import type { Frame } from "../src/codec/framing.js";
import { parseMediaType } from "../src/codec/media-type.js";
import type { OutputBatch } from "../src/codec/record-codec.js";
import type { Codec, CodecContext, ModelSignature } from "../src/index.js";
import { WIDTH } from "./bodies.js";

const CHUNK = 64 * 1024;

/**
 * A model taking `width` float32 features, as one input or split evenly over `inputs` (as skl2onnx
 * converts a pipeline over a DataFrame: an input per column), and answering 10 probabilities.
 */
const signatureOf = (width: number, inputs = 1): ModelSignature => ({
  inputs: Array.from({ length: inputs }, (_, i) => ({
    name: inputs === 1 ? "features" : `feature_${i}`,
    type: "float32",
    recordShape: [width / inputs],
    width: width / inputs,
  })),
  outputs: [{ name: "probabilities", type: "float32", recordShape: [10], width: 10 }],
  maxBatchRows: Number.POSITIVE_INFINITY,
});
const signature = signatureOf(WIDTH);

const codecFor = (mediaType: string): Codec => {
  const codec = builtinCodecs.find((c) => c.mediaTypes.includes(mediaType));
  if (!codec) throw new Error(`no codec for ${mediaType}`);
  return codec;
};

const contextFor = (mediaType: string, modelSignature = signature): CodecContext => ({
  signature: modelSignature,
  mediaType: parseMediaType(mediaType) ?? { essence: mediaType, params: {} },
  singleRecord: false,
  settings: {},
});

/**
 * `rows` rows of `width` probabilities as a softmax computes them in float32 (7–9 significant digits):
 * tidy decimals such as 0.919 print by another path, and no model answers with them.
 */
function softmaxRows(rows: number, width: number): Float32Array {
  const data = new Float32Array(rows * width);
  for (let row = 0; row < rows; row++) {
    let total = 0;
    for (let k = 0; k < width; k++) {
      const weight = Math.exp(((row * 7919 + k * 104729) % 4096) / 512);
      data[row * width + k] = weight;
      total += weight;
    }
    for (let k = 0; k < width; k++) data[row * width + k] /= total;
  }
  return data;
}

/** A throughput figure. */
export interface Throughput {
  readonly mbPerSecond: number;
  readonly recordsPerSecond: number;
}

/**
 * Decodes `block` (records of `width` features, for a model of `inputs` inputs) repeated to about
 * `totalBytes`, best of `runs`.
 */
export function decodeThroughput(
  mediaType: string,
  block: Uint8Array,
  totalBytes: number,
  runs = 3,
  width = WIDTH,
  inputs = 1,
): Throughput {
  const modelSignature = width === WIDTH && inputs === 1 ? signature : signatureOf(width, inputs);
  return decodeThroughputFor(modelSignature, mediaType, block, totalBytes, runs);
}

/** A sequence model's inputs: `input_ids` and `attention_mask`, int64 [N, 128] each. */
export const TOKEN_ID_SIGNATURE: ModelSignature = {
  inputs: ["input_ids", "attention_mask"].map((name) => ({ name, type: "int64", recordShape: [128], width: 128 })),
  outputs: [{ name: "logits", type: "float32", recordShape: [2], width: 2 }],
  maxBatchRows: Number.POSITIVE_INFINITY,
};

/** A model of 32 float features whose input is named as skl2onnx names it, `float_input` (not `features`). */
export const FLOAT_INPUT_SIGNATURE: ModelSignature = {
  inputs: [{ name: "float_input", type: "float32", recordShape: [32], width: 32 }],
  outputs: [{ name: "probabilities", type: "float32", recordShape: [10], width: 10 }],
  maxBatchRows: Number.POSITIVE_INFINITY,
};

/** A model of 32 float64 features, as skl2onnx converts one given a `DoubleTensorType`. */
export const FLOAT64_INPUT_SIGNATURE: ModelSignature = {
  inputs: [{ name: "features", type: "float64", recordShape: [32], width: 32 }],
  outputs: [{ name: "probabilities", type: "float32", recordShape: [10], width: 10 }],
  maxBatchRows: Number.POSITIVE_INFINITY,
};

/** A model of 32 float features that takes missing values (NaN), as a tree ensemble does. */
export const MISSING_VALUES_SIGNATURE: ModelSignature = {
  inputs: [{ name: "features", type: "float32", recordShape: [32], width: 32, acceptsMissing: true }],
  outputs: [{ name: "probabilities", type: "float32", recordShape: [10], width: 10 }],
  maxBatchRows: Number.POSITIVE_INFINITY,
};

/**
 * A model of a string input (a category) and 31 float features, as one input or one input per column
 * (as skl2onnx converts a pipeline over a DataFrame with a categorical column).
 */
export function categoryModelSignature(inputPerColumn: boolean): ModelSignature {
  const category = { name: "colour", type: "string", recordShape: [1], width: 1 } as const;
  const numbers = inputPerColumn
    ? Array.from({ length: 31 }, (_, i) => ({ name: `x${i}`, type: "float32", recordShape: [1], width: 1 }) as const)
    : [{ name: "numbers", type: "float32", recordShape: [31], width: 31 } as const];
  return {
    inputs: [category, ...numbers],
    outputs: [{ name: "probabilities", type: "float32", recordShape: [10], width: 10 }],
    maxBatchRows: Number.POSITIVE_INFINITY,
  };
}

/** {@link decodeThroughput} for a model of `modelSignature`. */
export function decodeThroughputFor(
  modelSignature: ModelSignature,
  mediaType: string,
  block: Uint8Array,
  totalBytes: number,
  runs = 3,
): Throughput {
  const codec = codecFor(mediaType);
  const input = codec.input;
  if (!input) throw new Error(`${mediaType} cannot be read`);
  const repeats = Math.max(1, Math.round(totalBytes / block.length));
  let best = Number.POSITIVE_INFINITY;
  let records = 0;
  for (let run = 0; run < runs; run++) {
    const context = contextFor(mediaType, modelSignature);
    const framer = input.createFramer(context);
    const decoder = input.createDecoder(context);
    // As in the pipeline: a batch's arrays come back for reuse once it has run (here at once), and they
    // are not zero-filled for a decoder that writes every value.
    const buffers = new BatchBufferPool(modelSignature);
    const batcher = new Batcher(
      modelSignature,
      512,
      (batch) => buffers.give(batch.inputs),
      buffers,
      decoder.fillsEveryValue !== true,
    );
    const onFrame = (frame: Frame) => decoder.decode(frame, batcher);
    const started = performance.now();
    for (let r = 0; r < repeats; r++) {
      for (let at = 0; at < block.length; at += CHUNK) framer.push(block.subarray(at, at + CHUNK), onFrame);
    }
    framer.end(onFrame);
    batcher.flush();
    best = Math.min(best, performance.now() - started);
    records = batcher.nextRecordIndex;
  }
  const seconds = best / 1000;
  return { mbPerSecond: (repeats * block.length) / 2 ** 20 / seconds, recordsPerSecond: records / seconds };
}

/** A classifier's int64 `label` output (scikit-learn's, converted by skl2onnx), before its probabilities. */
const labelSpec = { name: "label", type: "int64", recordShape: [], width: 1 } as const;

/** What {@link encodeThroughput} answers with besides 10 float32 probabilities a record. */
export interface AnswerKind {
  /** An int64 label before the probabilities (a scikit-learn classifier's). */
  readonly labelled?: boolean;
  /** The probabilities as float64s (a model converted with doubles). */
  readonly float64?: boolean;
}

/**
 * Encodes `records` outputs (10 probabilities each, as `kind` says) in batches of 512, best of `runs`.
 */
export function encodeThroughput(mediaType: string, records: number, kind: AnswerKind = {}, runs = 3): Throughput {
  const codec = codecFor(mediaType);
  const output = codec.output;
  if (!output) throw new Error(`${mediaType} cannot be written`);
  const rows = 512;
  const data = kind.float64 ? Float64Array.from(softmaxRows(rows, 10)) : softmaxRows(rows, 10);
  const spec = kind.float64 ? { ...signature.outputs[0], type: "float64" as const } : signature.outputs[0];
  const probabilities = { spec, width: 10, data };
  const label = { spec: labelSpec, width: 1, data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i % 10)) };
  const batch: OutputBatch = {
    rows,
    firstRecordIndex: 0,
    outputs: kind.labelled ? [label, probabilities] : [probabilities],
    recordErrors: new Map(),
  };
  let best = Number.POSITIVE_INFINITY;
  let bytes = 0;
  for (let run = 0; run < runs; run++) {
    const encoder = output.createEncoder(contextFor(mediaType));
    bytes = 0;
    const size = (chunk: string | Uint8Array) => (typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length);
    const started = performance.now();
    bytes += size(encoder.begin());
    for (let done = 0; done < records; done += rows) bytes += size(encoder.encode(batch));
    bytes += size(encoder.end({ records }));
    best = Math.min(best, performance.now() - started);
  }
  const seconds = best / 1000;
  return { mbPerSecond: bytes / 2 ** 20 / seconds, recordsPerSecond: (Math.ceil(records / rows) * rows) / seconds };
}
