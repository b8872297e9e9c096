/**
 * `sluice/testing`: the conformance kit for codecs, built in and third party alike. It decodes bodies
 * split at every byte and fed one byte at a time, checks that garbage, truncated and mutated bodies
 * only ever yield records or Sluice's typed errors, encodes batches, and starts a real in-process server
 * (codec threads, inference thread, HTTP on a loopback port) with a plugin loaded, to compare answers
 * with ONNX Runtime run directly. Assertions throw `node:assert` errors: any test runner works.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import ort from "onnxruntime-node";
import { BatchBufferPool, stagingArray } from "../batch-buffer-pool.js";
import { Batcher, type InputBatch } from "../batcher.js";
import type { Codec, CodecContext } from "../codec/codec.js";
import type { Frame } from "../codec/framing.js";
import { parseMediaType } from "../codec/media-type.js";
import type { OutputBatch, OutputTensor } from "../codec/record-codec.js";
import { loadConfig } from "../config.js";
import { RecordError, SluiceError } from "../errors.js";
import type { ElementType, ModelSignature, OutputValues, TensorSpec } from "../model/signature.js";
import { type RunningServer, startServer } from "../start-server.js";
import { prettyLine, StreamLogger } from "../stream-logger.js";
import { temporaryDirectory } from "../temporary-directory.js";
import { seededRandom } from "./seeded-random.js";

/** A tensor for {@link signatureOf}: element type, width, and optionally what else the spec says. */
export type TensorSketch =
  | [ElementType, number]
  | [ElementType, number, Pick<TensorSpec, "acceptsMissing" | "absentIsMissing" | "mapKeys">];

/**
 * A signature with the given inputs (name → [type, width, extras?]) and outputs (default: one float32
 * `out`).
 */
export function signatureOf(
  inputs: Record<string, TensorSketch>,
  outputs: Record<string, TensorSketch> = { out: ["float32", 1] },
): ModelSignature {
  const specs = (entries: Record<string, TensorSketch>): TensorSpec[] =>
    Object.entries(entries).map(([name, [type, width, extras]]) => ({
      name,
      type,
      width,
      recordShape: [width],
      ...extras,
    }));
  return { inputs: specs(inputs), outputs: specs(outputs), maxBatchRows: Number.POSITIVE_INFINITY };
}

/** A codec context for `contentType`, with the codec's settings (`{}` unless given). */
export function contextFor(
  signature: ModelSignature,
  contentType: string,
  extra: Partial<Omit<CodecContext, "signature" | "mediaType">> = {},
): CodecContext {
  const mediaType = parseMediaType(contentType);
  if (!mediaType) throw new Error(`not a media type: ${contentType}`);
  return { signature, mediaType, singleRecord: false, settings: {}, ...extra };
}

/** One decoded record: per model input, its values (numbers, or strings for a string input). */
export type DecodedRecord = (number[] | string[])[];

/** Batches of 3 records in {@link decodeBody}, so that batch boundaries are crossed. */
const TEST_BATCH_ROWS = 3;

/**
 * A pool whose first arrays hold garbage (NaN, or 90 in integer arrays), as reused arrays hold a
 * previous batch's values: a decoder that declares `fillsEveryValue` and leaves a value unwritten shows.
 */
function dirtyPool(signature: ModelSignature): BatchBufferPool {
  const pool = new BatchBufferPool(signature);
  for (let batch = 0; batch < 16; batch++) {
    pool.give(
      signature.inputs.map((spec) =>
        spec.type === "string"
          ? []
          : stagingArray(spec.type, TEST_BATCH_ROWS * spec.width).fill(spec.type.startsWith("float") ? Number.NaN : 90),
      ),
    );
  }
  return pool;
}

/**
 * Frames and decodes `chunks` with the codec's own framer and decoder into batches (of 3 records, so
 * batch boundaries are crossed) and returns every record's values per input. A decoder that declares
 * `fillsEveryValue` gets arrays that start dirty, as reused ones do.
 */
export function decodeBody(codec: Codec, context: CodecContext, chunks: readonly Uint8Array[]): DecodedRecord[] {
  const input = codec.input;
  if (!input) throw new Error(`codec ${codec.name} reads nothing`);
  const framer = input.createFramer(context);
  const decoder = input.createDecoder(context);
  const batches: InputBatch[] = [];
  const fillsEveryValue = decoder.fillsEveryValue === true;
  const buffers = fillsEveryValue ? dirtyPool(context.signature) : new BatchBufferPool(context.signature);
  const batcher = new Batcher(
    context.signature,
    TEST_BATCH_ROWS,
    (batch) => batches.push(batch),
    buffers,
    !fillsEveryValue,
  );
  const onFrame = (frame: Frame) => decoder.decode(frame, batcher);
  for (const chunk of chunks) framer.push(chunk, onFrame);
  framer.end(onFrame);
  batcher.flush();
  const records: DecodedRecord[] = [];
  for (const batch of batches) {
    for (let row = 0; row < batch.rows; row++) {
      records.push(
        context.signature.inputs.map((spec, i) => {
          const staged = batch.inputs[i];
          return Array.isArray(staged)
            ? staged.slice(row * spec.width, (row + 1) * spec.width)
            : Array.from(staged.subarray(row * spec.width, (row + 1) * spec.width));
        }),
      );
    }
  }
  return records;
}

/** `body` cut into two pieces at every byte, into one-byte pieces, and whole. */
export function* chunkings(body: Uint8Array): Generator<Uint8Array[]> {
  yield [body];
  for (let at = 0; at <= body.length; at++) yield [body.subarray(0, at), body.subarray(at)];
  yield Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1));
}

/** What {@link checkDecoderConformance} checks a codec's input side against. */
export interface DecoderCase {
  readonly context: CodecContext;
  /** A valid body. */
  readonly body: Uint8Array;
  /** The records it holds (values per input); checked when given. */
  readonly expected?: readonly DecodedRecord[];
  /** Bodies that must be refused with a `RecordError` (bad values, truncated frames…). */
  readonly refused?: readonly Uint8Array[];
  /** Mutated copies of `body` to try (default 200): each must decode or be refused with a Sluice error. */
  readonly mutations?: number;
}

function decodeOrSluiceError(codec: Codec, context: CodecContext, chunks: readonly Uint8Array[], what: string) {
  try {
    return decodeBody(codec, context, chunks);
  } catch (error) {
    assert.ok(error instanceof SluiceError, `${what}: ${codec.name} threw a non-Sluice error: ${String(error)}`);
    return error;
  }
}

/**
 * The input side of the conformance suite: the same records wherever the body is cut (two pieces at
 * every byte, one byte at a time); the empty body holds no record; refused bodies throw `RecordError`
 * (with a code), and mutated bodies never throw anything but a Sluice error.
 */
export function checkDecoderConformance(codec: Codec, cases: DecoderCase): void {
  const whole = decodeBody(codec, cases.context, [cases.body]);
  if (cases.expected) assert.deepEqual(whole, cases.expected, `${codec.name}: the records of the valid body`);
  for (const pieces of chunkings(cases.body)) {
    assert.deepEqual(
      decodeBody(codec, cases.context, pieces),
      whole,
      `${codec.name}: cut into ${pieces.length} piece(s) at ${pieces.map((p) => p.length).join("/")}`,
    );
  }
  const empty = decodeOrSluiceError(codec, cases.context, [new Uint8Array(0)], "the empty body");
  if (Array.isArray(empty)) assert.equal(empty.length, 0, `${codec.name}: the empty body holds no record`);
  for (const [i, body] of (cases.refused ?? []).entries()) {
    assert.throws(
      () => decodeBody(codec, cases.context, [body]),
      (error: unknown) => error instanceof RecordError && typeof error.code === "string",
      `${codec.name}: refused body ${i} must throw a RecordError`,
    );
  }
  const random = seededRandom(codec.name.length * 7919);
  for (let i = 0; i < (cases.mutations ?? 200); i++) {
    const mutated = cases.body.slice(0, Math.max(1, Math.floor(random() * (cases.body.length + 1))));
    for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) {
      mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
    }
    decodeOrSluiceError(codec, cases.context, [mutated], `mutation ${i}`);
  }
}

/** An output batch of `rows` records with one float32 output of `width` values each. */
export function outputBatch(
  values: Float32Array | OutputValues,
  rows: number,
  spec: { name?: string; width: number; type?: ElementType } = { width: 1 },
  recordErrors: ReadonlyMap<number, RecordError> = new Map(),
): OutputBatch {
  const tensor: OutputTensor = {
    spec: { name: spec.name ?? "out", type: spec.type ?? "float32", recordShape: [spec.width], width: spec.width },
    width: spec.width,
    data: values,
  };
  return { rows, firstRecordIndex: 0, outputs: [tensor], recordErrors };
}

/** Everything an encoder writes for `batches`: its beginning, each batch, its end. */
export function encodeAll(codec: Codec, context: CodecContext, batches: readonly OutputBatch[]): Uint8Array {
  const output = codec.output;
  if (!output) throw new Error(`codec ${codec.name} writes nothing`);
  const encoder = output.createEncoder(context);
  const bytes = (part: string | Uint8Array) => (typeof part === "string" ? new TextEncoder().encode(part) : part);
  const parts = [bytes(encoder.begin())];
  let records = 0;
  for (const batch of batches) {
    parts.push(bytes(encoder.encode(batch)));
    records += batch.rows;
  }
  parts.push(bytes(encoder.end({ records })));
  return Buffer.concat(parts);
}

/** Runs the model at `modelPath` in ONNX Runtime directly; every output's data by name. */
export async function runOnnxRuntime(
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

/** A Sluice server for tests, in this process, on a free loopback port. */
export interface CodecTestServer {
  readonly url: string;
  readonly running: RunningServer;
  /** Its log lines, rendered `time level message key=value …`. */
  readonly logs: string[];
  /** POSTs a body to /invocations. */
  invoke(body: string | Uint8Array, headers: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Starts a server for `modelDir` with `plugins` loaded as `SLUICE_PLUGINS` would load them, and other
 * settings as environment variables (`SLUICE_ON_RECORD_ERROR=placeholder`…); waits for the model.
 */
export async function startCodecTestServer(
  modelDir: string,
  options: { plugins?: readonly string[]; env?: Record<string, string> } = {},
): Promise<CodecTestServer> {
  const env = { ...options.env, ...(options.plugins ? { SLUICE_PLUGINS: options.plugins.join(",") } : {}) };
  const config = loadConfig(env, { port: "0", modelDir });
  const logs: string[] = [];
  const running = await startServer(
    config,
    new StreamLogger({ sink: (line) => logs.push(prettyLine(line)), format: "json" }),
  );
  await running.modelLoaded;
  const url = `http://127.0.0.1:${running.port}`;
  return {
    url,
    running,
    logs,
    invoke: (body, headers) =>
      fetch(`${url}/invocations`, { method: "POST", body, headers, signal: AbortSignal.timeout(60_000) }),
    close: () => running.close(),
  };
}

export { removeTemporaryDirectory, temporaryDirectory } from "../temporary-directory.js";
export {
  type GraphSpec,
  mlpClassifier,
  randomWeights,
  wideMlp,
  writeModel,
} from "./onnx-model-writer.js";
export { seededRandom } from "./seeded-random.js";

/** A new temporary model directory holding `model` as `model.onnx`, removed when the process exits. */
export function modelDirectory(model: Uint8Array): string {
  const dir = temporaryDirectory("sluice-test-model");
  writeFileSync(path.join(dir, "model.onnx"), model);
  return dir;
}
