/**
 * The pipeline of one invocation: body chunks → frames → records → batches → backend → encoder →
 * output chunks. It holds at most `maxPendingBatches` batches beyond the one being filled, so memory
 * depends on the batch size, not on the body size, and it stops reading while the consumer stops pulling.
 */
import type { Backend } from "./backends/backend.js";
import { Batcher, type InputBatch } from "./batcher.js";
import type { CodecContext, InputFormat, OutputFormat } from "./codec/codec.js";
import type { Frame } from "./codec/framing.js";
import type { OutputBatch } from "./codec/record-codec.js";
import type { Resolved } from "./codec/registry.js";
import { FramingError, PayloadTooLargeError, RecordError, SluiceError } from "./errors.js";
import type { ModelSignature } from "./model/signature.js";

/** What to do with a record that cannot be decoded. */
export type RecordErrorPolicy = "fail" | "placeholder";

/** Everything one invocation needs. */
export interface PipelineOptions {
  readonly backend: Backend;
  /** The signature codecs see (the backend's, inputs possibly renamed); defaults to the backend's. */
  readonly signature?: ModelSignature;
  readonly input: Resolved<InputFormat>;
  readonly output: Resolved<OutputFormat>;
  readonly batchRows: number;
  /** Largest body accepted, in bytes; `undefined` for no limit. */
  readonly maxBodyBytes: number | undefined;
  readonly recordErrorPolicy: RecordErrorPolicy;
  readonly singleRecord: boolean;
  readonly settings: Readonly<Record<string, string>>;
  /** Batches that may wait for or run on the backend while the next one fills. */
  readonly maxPendingBatches: number;
  /** Aborts the invocation (client gone, server stopping). */
  readonly signal?: AbortSignal;
}

/** Counters of one invocation, updated as it runs (read them for the request log). */
export class PipelineStats {
  bytesIn = 0;
  bytesOut = 0;
  records = 0;
  failedRecords = 0;
  batches = 0;
}

const encoder = new TextEncoder();
const toBytes = (chunk: string | Uint8Array): Uint8Array => (typeof chunk === "string" ? encoder.encode(chunk) : chunk);

/** How long decoding may hold the event loop before it lets other requests (and /ping) in. */
const MAX_BUSY_MS = 10;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function locate(error: RecordError, recordIndex: number, frame: Frame | undefined): RecordError {
  const location = error.location;
  location.recordIndex ??= recordIndex;
  if (frame) {
    location.byteOffset ??= frame.byteOffset;
    if (frame.line > 0) location.line ??= frame.line;
  }
  return error;
}

function asRecordError(cause: unknown): RecordError {
  if (cause instanceof RecordError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new RecordError("RECORD_INVALID", `record could not be decoded: ${message}`, {}, { cause });
}

/**
 * Runs one invocation and yields the encoded response in chunks, in record order. Throws a
 * `SluiceError` subclass on bad input or a failed model; the caller maps it to a status.
 */
export async function* runPipeline(
  body: AsyncIterable<Uint8Array>,
  options: PipelineOptions,
  stats: PipelineStats = new PipelineStats(),
): AsyncGenerator<Uint8Array> {
  const { backend, input, output } = options;
  const signature = options.signature ?? backend.signature;
  const inputContext: CodecContext = {
    signature,
    mediaType: input.mediaType,
    singleRecord: options.singleRecord,
    settings: options.settings,
  };
  const framer = input.format.createFramer(inputContext);
  const decoder = input.format.createDecoder(inputContext);
  const recordEncoder = output.format.createEncoder({ ...inputContext, mediaType: output.mediaType });

  const cancel = new AbortController();
  const signal = options.signal ? AbortSignal.any([cancel.signal, options.signal]) : cancel.signal;
  const pending: Promise<OutputBatch>[] = [];
  const runBatch = async (batch: InputBatch): Promise<OutputBatch> => {
    const outputs = await backend.run(batch, signal);
    return { rows: batch.rows, firstRecordIndex: batch.firstRecordIndex, outputs, recordErrors: batch.recordErrors };
  };
  const batcher = new Batcher(signature, options.batchRows, (batch) => {
    const result = runBatch(batch);
    // Abandoned when the invocation fails early; the failure that matters is reported elsewhere.
    result.catch(() => {});
    pending.push(result);
  });

  const onFrame = (frame: Frame) => {
    const first = batcher.nextRecordIndex;
    try {
      decoder.decode(frame, batcher);
    } catch (cause) {
      // A decoder may refuse the whole body with another status (e.g. 415 for payloads it cannot read).
      if (cause instanceof SluiceError && !(cause instanceof RecordError)) throw cause;
      if (cause instanceof FramingError || options.recordErrorPolicy === "fail") {
        throw locate(asRecordError(cause), Math.max(first, batcher.nextRecordIndex - 1), frame);
      }
      if (batcher.nextRecordIndex === first) batcher.beginRecord();
      const error = locate(asRecordError(cause), batcher.nextRecordIndex - 1, frame);
      batcher.markLastRecordFailed(error);
      stats.failedRecords++;
    }
  };
  const frameAll = (push: () => void) => {
    try {
      push();
    } catch (cause) {
      if (cause instanceof FramingError) throw locate(cause, batcher.nextRecordIndex, undefined);
      throw cause;
    }
  };
  const emit = (batch: OutputBatch): Uint8Array => {
    stats.records += batch.rows;
    stats.batches++;
    const bytes = toBytes(recordEncoder.encode(batch));
    stats.bytesOut += bytes.byteLength;
    return bytes;
  };

  try {
    const head = toBytes(recordEncoder.begin());
    stats.bytesOut += head.byteLength;
    if (head.byteLength > 0) yield head;
    let busySince = performance.now();
    for await (const chunk of body) {
      stats.bytesIn += chunk.byteLength;
      if (options.maxBodyBytes !== undefined && stats.bytesIn > options.maxBodyBytes) {
        throw new PayloadTooLargeError(options.maxBodyBytes);
      }
      frameAll(() => framer.push(chunk, onFrame));
      while (pending.length > options.maxPendingBatches) yield emit(await (pending.shift() as Promise<OutputBatch>));
      if (performance.now() - busySince > MAX_BUSY_MS) {
        await yieldToEventLoop();
        busySince = performance.now();
      }
    }
    frameAll(() => framer.end(onFrame));
    batcher.flush();
    while (pending.length > 0) yield emit(await (pending.shift() as Promise<OutputBatch>));
    const tail = toBytes(recordEncoder.end());
    stats.bytesOut += tail.byteLength;
    if (tail.byteLength > 0) yield tail;
  } finally {
    cancel.abort();
  }
}
