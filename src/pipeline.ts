/**
 * The pipeline of one invocation: body chunks → frames → records → batches → backend → encoder →
 * output chunks. At most `maxPendingBatches` batches run (or wait to run) on the backend at once; the
 * body is fed to the framer in slices of at most {@link SLICE_BYTES}, and no further slice is framed
 * while a full set of batches is in flight, so memory depends on the batch size, not on the body or
 * chunk size, and it stops reading while the consumer stops pulling. After every {@link TURN_BUDGET_MS} of
 * its own work it lets its thread's event loop turn, so that a body does not hold back the thread's other
 * work (a `/ping` on a thread that accepts connections) for as long as it takes to decode a batch.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { AbortControllerPool } from "./abort-controller-pool.js";
import type { Backend } from "./backends/backend.js";
import type { BatchBufferPool } from "./batch-buffer-pool.js";
import { Batcher, type InputBatch } from "./batcher.js";
import type { CodecContext, InputFormat, OutputFormat } from "./codec/codec.js";
import type { Frame } from "./codec/framing.js";
import type { OutputBatch } from "./codec/record-codec.js";
import type { NegotiatedFormat } from "./codec/registry.js";
import { FramingError, PayloadTooLargeError, RecordError, type RecordLocation } from "./errors.js";
import type { ModelSignature } from "./model/signature.js";

/** What to do with a record that cannot be decoded. */
export type RecordErrorPolicy = "fail" | "placeholder";

/** Everything one invocation needs. */
export interface PipelineOptions {
  readonly backend: Backend;
  /** The signature codecs see (the backend's, inputs possibly renamed); defaults to the backend's. */
  readonly signature?: ModelSignature;
  readonly input: NegotiatedFormat<InputFormat>;
  readonly output: NegotiatedFormat<OutputFormat>;
  readonly batchRows: number;
  /** Largest body accepted, in bytes; `undefined` for no limit. */
  readonly maxBodyBytes: number | undefined;
  readonly recordErrorPolicy: RecordErrorPolicy;
  readonly singleRecord: boolean;
  /** Batches that may wait for or run on the backend while the next one fills. */
  readonly maxPendingBatches: number;
  /** Aborts the invocation (client gone, server stopping). */
  readonly signal?: AbortSignal;
  /** Where batch staging arrays come from; a private pool when absent. */
  readonly buffers?: BatchBufferPool;
}

/** Milliseconds an invocation spent in each stage. */
export interface StageTimes {
  /** Framing and decoding records into batches. */
  decode: number;
  /** Blocked, with decoding done as far as allowed, until the model answered a batch. */
  modelWait: number;
  /** From handing a batch to the backend to its answer, summed over batches (they may overlap). */
  model: number;
  /** Encoding answers. */
  encode: number;
}

/**
 * The first record of an invocation answered with a placeholder, and why: with CSV's bare `ERROR`
 * marker, the request log is the only place the reason shows.
 */
export interface RecordFailure extends RecordLocation {
  readonly recordIndex: number;
  readonly code: string;
  readonly message: string;
}

/** Counters of one invocation, updated as it runs (read them for the request log). */
export class PipelineStats {
  bytesIn = 0;
  bytesOut = 0;
  records = 0;
  failedRecords = 0;
  /** The failed record with the lowest index (decoding and the model fail records out of order). */
  firstFailure: RecordFailure | undefined = undefined;
  batches = 0;
  readonly stageMs: StageTimes = { decode: 0, modelWait: 0, model: 0, encode: 0 };
  /** Records in each batch answered (the first {@link MAX_BATCHES_LISTED}). */
  readonly batchRows: number[] = [];
  /** The body's line feeds, once framed to its end, when its framer counts them. */
  lineFeeds: number | undefined = undefined;

  /** Counts a record answered with a placeholder for `error` (located at its record). */
  recordFailed(error: RecordError): void {
    this.failedRecords++;
    const recordIndex = error.location.recordIndex ?? 0;
    if (this.firstFailure !== undefined && this.firstFailure.recordIndex <= recordIndex) return;
    this.firstFailure = { ...error.location, recordIndex, code: error.code, message: error.message };
  }
}

/** Batches one invocation keeps in flight while it decodes the next, on whichever thread it runs. */
export const PENDING_BATCHES_PER_INVOCATION = 2;

/** Batches whose sizes an invocation lists (for the batch-size histogram). */
const MAX_BATCHES_LISTED = 10_000;

/**
 * Milliseconds of framing, decoding and encoding after which an invocation lets its thread's event loop
 * turn before it frames on. Between answers from the model an invocation decodes up to two batches; with
 * several invocations on a thread, their turns added up to 80–215 ms with `SLUICE_ACCEPT=every-thread`,
 * and a thread busy for that long also waits that long again for a core. Measured on 2 cores (three 34 MB
 * MNIST bodies at once, 15 times over, pinged every 10 ms), `/ping` p99 went 53–79 → 22–29 ms there, and
 * records/s were within the runs' spread at c = 2 in both modes. A turn costs a few microseconds.
 */
const TURN_BUDGET_MS = 5;

/** The largest piece of a chunk framed at once: a bound on the batches one framing step can start. */
export const SLICE_BYTES = 64 * 1024;

/** Cancellers of invocations that ended with nothing left to cancel, for later ones. */
const spareCancels = new AbortControllerPool();

const encoder = new TextEncoder();
const toBytes = (chunk: string | Uint8Array): Uint8Array => (typeof chunk === "string" ? encoder.encode(chunk) : chunk);

function locate(error: RecordError, recordIndex: number, frame: Frame | undefined): RecordError {
  const location = error.location;
  location.recordIndex ??= recordIndex;
  if (frame) {
    location.byteOffset ??= frame.byteOffset;
    if (frame.line > 0) location.line ??= frame.line;
  }
  return error;
}

/**
 * Runs one invocation and yields the encoded response in chunks, in record order. Throws a
 * `SluiceError` subclass on bad input or a failed model; the caller maps it to a status.
 */
export async function* runPipeline(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: PipelineOptions,
  stats: PipelineStats = new PipelineStats(),
): AsyncGenerator<Uint8Array> {
  const { backend, input, output } = options;
  const signature = options.signature ?? backend.signature;
  const inputContext: CodecContext = {
    signature,
    mediaType: input.mediaType,
    singleRecord: options.singleRecord,
    settings: input.settings,
  };
  const framer = input.format.createFramer(inputContext);
  const decoder = input.format.createDecoder(inputContext);
  const recordEncoder = output.format.createEncoder({
    ...inputContext,
    mediaType: output.mediaType,
    settings: output.settings,
  });

  // Runs listen to `cancel`, which the caller's signal aborts too. (Not `AbortSignal.any`: it costs
  // twice as much, a tenth of a one-record invocation's work on its codec thread.)
  const cancel = spareCancels.take();
  const signal = cancel.signal;
  const callerAborted = () => cancel.abort(options.signal?.reason);
  if (options.signal?.aborted) callerAborted();
  else options.signal?.addEventListener("abort", callerAborted, { once: true });
  const stages = stats.stageMs;
  /** Batches decoded but not yet handed to the backend, and those handed over, in record order. */
  const waiting: InputBatch[] = [];
  const running: Promise<OutputBatch>[] = [];
  const isolateFailures = options.recordErrorPolicy === "placeholder";
  const runBatch = async (batch: InputBatch): Promise<OutputBatch> => {
    const started = performance.now();
    const { outputs, failedRows } = await backend.run(isolateFailures ? { ...batch, isolateFailures } : batch, signal);
    stages.model += performance.now() - started;
    let recordErrors = batch.recordErrors;
    if (failedRows && failedRows.size > 0) {
      const merged = new Map(recordErrors);
      for (const [row, reason] of failedRows) {
        // A row already answered with a placeholder held no record: the model ran on filler.
        if (merged.has(row)) continue;
        const recordIndex = batch.firstRecordIndex + row;
        const error = new RecordError("MODEL_EXECUTION_FAILED", `the model failed on this record: ${reason}`, {
          recordIndex,
        });
        merged.set(row, error);
        stats.recordFailed(error);
      }
      recordErrors = merged;
    }
    return { rows: batch.rows, firstRecordIndex: batch.firstRecordIndex, outputs, recordErrors };
  };
  const startRuns = () => {
    while (waiting.length > 0 && running.length < options.maxPendingBatches) {
      const result = runBatch(waiting.shift() as InputBatch);
      // Abandoned when the invocation fails early; the failure that matters is reported elsewhere.
      result.catch(() => {});
      running.push(result);
    }
  };
  const batcher = new Batcher(
    signature,
    options.batchRows,
    (batch) => waiting.push(batch),
    options.buffers,
    decoder.fillsEveryValue !== true,
  );

  /** Decodes still running (a decoder that returned a promise), awaited before framing goes on. */
  const decoding: Promise<void>[] = [];
  const onFrame = (frame: Frame) => {
    const first = batcher.nextRecordIndex;
    try {
      const pending = decoder.decode(frame, batcher);
      if (pending) {
        const where = { byteOffset: frame.byteOffset, line: frame.line };
        decoding.push(
          pending.catch((cause: unknown) => {
            if (cause instanceof RecordError) {
              cause.location.recordIndex ??= Math.max(first, batcher.nextRecordIndex - 1);
              cause.location.byteOffset ??= where.byteOffset;
            }
            throw cause;
          }),
        );
      }
    } catch (cause) {
      // Only a RecordError is about the record. Another SluiceError refuses the whole body with its own
      // status (e.g. 415 for payloads a decoder cannot read); anything else is a bug in the decoder: a 500,
      // its stack logged on the server, never a placeholder.
      if (!(cause instanceof RecordError)) throw cause;
      if (cause instanceof FramingError || options.recordErrorPolicy === "fail") {
        throw locate(cause, Math.max(first, batcher.nextRecordIndex - 1), frame);
      }
      if (batcher.nextRecordIndex === first) batcher.beginRecord();
      const error = locate(cause, batcher.nextRecordIndex - 1, frame);
      batcher.markLastRecordFailed(error);
      stats.recordFailed(error);
    }
  };
  /** Milliseconds of this invocation's own work since it last let the event loop turn. */
  let workSinceTurn = 0;
  const frameAll = (push: () => void) => {
    const started = performance.now();
    try {
      push();
    } catch (cause) {
      if (cause instanceof FramingError) throw locate(cause, batcher.nextRecordIndex, undefined);
      throw cause;
    } finally {
      const spent = performance.now() - started;
      stages.decode += spent;
      workSinceTurn += spent;
    }
    startRuns();
  };
  const emit = (batch: OutputBatch): Uint8Array => {
    stats.records += batch.rows;
    stats.batches++;
    if (stats.batchRows.length < MAX_BATCHES_LISTED) stats.batchRows.push(batch.rows);
    const started = performance.now();
    const bytes = toBytes(recordEncoder.encode(batch));
    const spent = performance.now() - started;
    stages.encode += spent;
    workSinceTurn += spent;
    stats.bytesOut += bytes.byteLength;
    return bytes;
  };
  /** The next answered batch, in order, with the time spent waiting for it. */
  const nextAnswer = async (): Promise<OutputBatch> => {
    const started = performance.now();
    const answer = await (running.shift() as Promise<OutputBatch>);
    stages.modelWait += performance.now() - started;
    startRuns();
    return answer;
  };

  try {
    const head = toBytes(recordEncoder.begin());
    stats.bytesOut += head.byteLength;
    if (head.byteLength > 0) yield head;
    for await (const chunk of body) {
      stats.bytesIn += chunk.byteLength;
      if (options.maxBodyBytes !== undefined && stats.bytesIn > options.maxBodyBytes) {
        throw new PayloadTooLargeError(options.maxBodyBytes);
      }
      for (let offset = 0; offset < chunk.byteLength; offset += SLICE_BYTES) {
        const slice =
          offset === 0 && chunk.byteLength <= SLICE_BYTES ? chunk : chunk.subarray(offset, offset + SLICE_BYTES);
        frameAll(() => framer.push(slice, onFrame));
        if (decoding.length > 0) {
          await Promise.all(decoding.splice(0));
          startRuns();
        }
        // Backpressure from the backend into decoding: frame no more while a full set of batches is in flight.
        while (waiting.length > 0 || running.length >= options.maxPendingBatches) yield emit(await nextAnswer());
        if (workSinceTurn > TURN_BUDGET_MS) {
          workSinceTurn = 0;
          await nextTurn();
        }
      }
    }
    frameAll(() => framer.end(onFrame));
    stats.lineFeeds = framer.lineFeedCount?.();
    if (decoding.length > 0) await Promise.all(decoding.splice(0));
    batcher.flush();
    startRuns();
    while (running.length > 0) yield emit(await nextAnswer());
    const tail = toBytes(recordEncoder.end({ records: stats.records }));
    stats.bytesOut += tail.byteLength;
    if (tail.byteLength > 0) yield tail;
  } finally {
    options.signal?.removeEventListener("abort", callerAborted);
    // Runs still in flight belong to an invocation that failed or was abandoned. (Aborting without them
    // would only cost an AbortError with its stack, for every invocation.)
    if (running.length > 0) cancel.abort();
    else spareCancels.giveBack(cancel);
  }
}
