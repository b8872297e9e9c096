/**
 * `sluice transform`: a whole batch-transform job on local files, as the platform runs one — split each
 * input (SplitType), pack records into bodies (BatchStrategy, MaxPayloadInMB), send up to
 * MaxConcurrentTransforms at once (to the service in this process, or to a container over HTTP), apply
 * DataProcessing, and write `<input>.out` in input order (AssembleWith). An input that fails leaves no
 * `.out`; the job goes on with the others and ends with a summary of what failed, where and why. An
 * output that cannot be written (a full disk, a closed pipe) or a model server that cannot be reached
 * stops the job instead.
 */
import { setMaxListeners } from "node:events";
import { createReadStream } from "node:fs";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import { parseMediaType } from "../codec/media-type.js";
import { DECOMPRESSED_CHUNK_BYTES } from "../content-encoding.js";
import type { Logger } from "../log.js";
import { DataProcessing, DataProcessingError, splitAnswer } from "./data-processing.js";
import { FileOutput, OutputError } from "./file-output.js";
import type { InputFile } from "./input-files.js";
import { type Answer, type BodyTypes, EndpointUnreachable, InvocationFailure, type Invoker } from "./invoker.js";
import type { JobOptions } from "./job-options.js";
import { type JobCounters, JobProgress } from "./job-progress.js";
import { type BatchStrategy, type MiniBatch, miniBatches } from "./mini-batches.js";
import { RecordTooLargeError, SplitError } from "./record-splitter.js";

/** The job's parameters once the platform's precedence has been applied (job, then the container's, then defaults). */
export interface ResolvedParameters {
  readonly maxConcurrent: number;
  readonly batchStrategy: BatchStrategy;
  readonly maxPayloadMB: number;
}

/** Why one input failed. */
export interface InputFailure {
  readonly file: string;
  readonly code: string;
  readonly reason: string;
  /** The HTTP status the model server answered with, when it answered. */
  readonly status?: number;
  readonly recordIndex?: number;
  readonly byteOffset?: number;
}

/** What a finished job did. */
export interface JobSummary {
  readonly files: number;
  readonly filesDone: number;
  readonly failures: readonly InputFailure[];
  /** Records answered, a failed input's included. */
  readonly records: number;
  /** Records in the outputs written (a failed input's output is discarded). */
  readonly recordsWritten: number;
  readonly failedRecords: number;
  /** For each input with records answered with a placeholder, the first of them (in-process runs only). */
  readonly firstFailedRecords: readonly InputFailure[];
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly seconds: number;
  /** Milliseconds per stage summed over invocations (in-process runs only). */
  readonly stageMs: Readonly<Record<string, number>>;
  readonly interrupted: boolean;
  /**
   * Why the job stopped before its last input: the output could not be written, or the model server
   * could not be reached (the failure is listed too).
   */
  readonly stopped?: string;
}

const NEWLINE = new Uint8Array([0x0a]);
/**
 * Bytes read from an input file at a time. Node's 64 KiB made each megabyte of input 16 reads, each a
 * callback, a stream step and a piece of a body to hand on: 1 MiB reads took a local job of 32-feature
 * rows from 1.07–1.18 to 1.23–1.43 M records/s, for 6–11% less CPU.
 */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Node's own read size, the least read at a time. */
const DEFAULT_READ_BYTES = 64 * 1024;

/** A counting semaphore for the invocations in flight. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

/** Applies the platform's precedence to the job's parameters. */
export function resolveParameters(
  options: JobOptions,
  suggested: Partial<Record<string, unknown>>,
): ResolvedParameters {
  const strategy = String(suggested.BatchStrategy ?? "")
    .replace(/_/g, "")
    .toLowerCase();
  return {
    maxConcurrent: options.maxConcurrent ?? (Number(suggested.MaxConcurrentTransforms) || 1),
    batchStrategy: options.batchStrategy ?? (strategy === "singlerecord" ? "SingleRecord" : "MultiRecord"),
    maxPayloadMB:
      options.maxPayloadMB ??
      (Number.isFinite(Number(suggested.MaxPayloadInMB)) ? Number(suggested.MaxPayloadInMB) : 6),
  };
}

/** Runs the job on `files`; never throws for an input's failure (it is in the summary). */
export async function runTransformJob(
  options: JobOptions,
  files: readonly InputFile[],
  invoker: Invoker,
  parameters: ResolvedParameters,
  io: { readonly stdout: Writable; readonly signal: AbortSignal; readonly log: Logger; readonly progress: boolean },
): Promise<JobSummary> {
  const started = performance.now();
  const counters: JobCounters = { filesDone: 0, filesFailed: 0, records: 0, bytesIn: 0 };
  const failures: InputFailure[] = [];
  const stageMs: Record<string, number> = {};
  let failedRecords = 0;
  const firstFailedRecords = new Map<string, InputFailure>();
  let bytesOut = 0;
  let recordsWritten = 0;
  const slots = new Slots(parameters.maxConcurrent);
  const maxBodyBytes = parameters.maxPayloadMB * 2 ** 20;
  // Progress is counted in the bytes sent; a compressed file's size says nothing of those.
  const totalBytes =
    options.compressionType === "None" && files.every((file) => file.size !== undefined)
      ? files.reduce((sum, file) => sum + (file.size ?? 0), 0)
      : undefined;
  const progress = io.progress ? new JobProgress(counters, files.length, totalBytes) : undefined;
  const toStdout = options.output === "-";
  // A failed output (a full disk, a closed pipe) or an unreachable model server stops the whole job.
  const stop = new AbortController();
  const jobSignal = AbortSignal.any([io.signal, stop.signal]);
  let stopped: string | undefined;

  /**
   * One invocation, its answer read to the end, within `--invocations-timeout-s`; past it the invocation
   * is cancelled and fails with `INVOCATION_TIMEOUT`, which is retried like a server error.
   */
  const withinTimeout = async <T>(signal: AbortSignal, run: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const attempt = new AbortController();
    const onAbort = () => attempt.abort(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort(new Error("invocation timeout"));
    }, options.invocationsTimeoutS * 1000);
    try {
      return await run(attempt.signal);
    } catch (error) {
      if (timedOut && !signal.aborted) {
        throw new InvocationFailure(
          0,
          "INVOCATION_TIMEOUT",
          `no complete answer within ${options.invocationsTimeoutS} s (--invocations-timeout-s)`,
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  };
  /**
   * Runs `send` (one invocation, its answer read) until it succeeds, retried as the platform retries: a
   * server error, a broken connection, a timeout, up to `--invocations-max-retries` times. A busy server
   * (503 with Retry-After) is waited for, within the invocation timeout, without spending a retry: it is
   * backpressure (more bodies in flight than it takes), not a failure. `beforeRetry` makes ready to send
   * again, or says (false) that it cannot; the last failure is then thrown.
   */
  const retried = async <T>(
    signal: AbortSignal,
    send: (attemptSignal: AbortSignal) => Promise<T>,
    beforeRetry: () => Promise<boolean> = async () => true,
  ): Promise<T> => {
    const busyUntil = Date.now() + options.invocationsTimeoutS * 1000;
    for (let attempt = 0; ; ) {
      try {
        return await withinTimeout(signal, send);
      } catch (error) {
        // The output's own failure is no server's, and stops the job.
        if (error instanceof OutputError) throw error;
        const failure =
          error instanceof InvocationFailure ? error : new InvocationFailure(0, "CONNECTION_FAILED", String(error));
        const busy = failure.busyFor;
        const waitsOut = busy !== undefined && !signal.aborted && Date.now() + busy * 1000 < busyUntil;
        if (!waitsOut && (!failure.retryable || attempt >= options.invocationsMaxRetries || signal.aborted)) {
          throw failure;
        }
        if (!(await beforeRetry())) throw failure;
        if (!waitsOut) attempt++;
        await new Promise((resolve) => setTimeout(resolve, waitsOut ? (busy as number) * 1000 : 250 * 2 ** attempt));
      }
    }
  };
  /** Sends a body held in memory and reads its answer, retried (see {@link retried}). */
  const exchange = (body: readonly Uint8Array[], types: BodyTypes, signal: AbortSignal) =>
    retried(signal, async (attemptSignal) => {
      const answer = await invoker.invoke(body, types, attemptSignal);
      return { answer, chunks: await read(answer) };
    });
  /** Adds an answer's counters (read to its end) to the job's; `batch` is the body's place in `file`. */
  const account = (answer: Answer, file: InputFile, batch?: MiniBatch) => {
    const stats = answer.stats();
    if (!stats) return;
    failedRecords += stats.failedRecords;
    for (const [stage, ms] of Object.entries(stats.stageMs)) stageMs[stage] = (stageMs[stage] ?? 0) + ms;
    const first = stats.firstFailure;
    if (!first) return;
    const name = nameOf(file);
    const recordIndex = (batch?.firstRecordIndex ?? 0) + first.recordIndex;
    const known = firstFailedRecords.get(name);
    if (known && (known.recordIndex ?? 0) <= recordIndex) return;
    firstFailedRecords.set(name, {
      file: name,
      code: first.code,
      reason: first.message,
      recordIndex,
      byteOffset: batch ? batch.locate(first.recordIndex) : first.byteOffset,
    });
  };
  /** An answer's chunks, read to its end (written as they are: joined only to be split into records). */
  const read = async (answer: Answer): Promise<Uint8Array[]> => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of answer.chunks) chunks.push(chunk);
    return chunks;
  };

  const transformFile = async (file: InputFile): Promise<void> => {
    const accept = options.accept;
    const types: BodyTypes = { contentType: file.contentType, accept };
    const outputType = (accept && parseMediaType(accept)?.essence) || file.contentType;
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, jobSignal]);
    // Each body in flight listens on it: as many as --max-concurrent, legitimately.
    setMaxListeners(parameters.maxConcurrent + 10, signal);
    let output: FileOutput | undefined;
    let failure: InputFailure | undefined;
    let fileRecords = 0;
    const answered = (records: number) => {
      counters.records += records;
      fileRecords += records;
    };
    const fail = (error: unknown, batch?: MiniBatch) => {
      abort.abort();
      // Once the job stops, what fails in the other inputs is the stop itself, not theirs to report.
      if (failure || (jobSignal.aborted && !stopsTheJob(error))) return;
      failure = describeFailure(file, error, batch);
      if (stopsTheJob(error)) {
        stopped ??= error.message;
        stop.abort();
      }
    };
    const open = (): AsyncIterable<Uint8Array> => {
      // Read in pieces as large as the file, up to READ_CHUNK_BYTES: a buffer of that size for each small file
      // would be mostly unused.
      const highWaterMark = Math.min(READ_CHUNK_BYTES, Math.max(DEFAULT_READ_BYTES, file.size ?? READ_CHUNK_BYTES));
      const raw = file.path === "-" ? process.stdin : createReadStream(file.path, { highWaterMark });
      if (options.compressionType === "None") return raw;
      // The platform decompresses CompressionType=Gzip inputs itself: the container never sees gzip.
      // pipeline, not pipe: a read error (a file gone) must reach the reader, not leave it waiting.
      // In pieces as large as the server's decompressor writes (see DECOMPRESSED_CHUNK_BYTES).
      const gunzip = createGunzip({ chunkSize: DECOMPRESSED_CHUNK_BYTES });
      pipeline(raw, gunzip, () => {});
      return gunzip;
    };
    try {
      const out = toStdout
        ? new FileOutput(undefined, io.stdout)
        : new FileOutput(path.join(options.output, `${file.relative}.out`));
      output = out;
      const processing = new DataProcessing(options.dataProcessing, file.contentType, outputType);
      if (options.splitType === "None") {
        await sendWhole(file, processing, out);
      } else {
        const running = new Set<Promise<void>>();
        const packing = {
          splitType: options.splitType,
          strategy: parameters.batchStrategy,
          maxBodyBytes,
          processing: processing.active ? processing : undefined,
        };
        for await (const batch of miniBatches(open(), packing)) {
          if (signal.aborted) break;
          await slots.acquire();
          const task = (async () => {
            try {
              if (signal.aborted) return;
              const { answer, chunks } = await exchange(batch.parts, types, signal);
              account(answer, file, batch);
              await out.deliver(batch.sequence, answerParts(chunks, answer.contentType, batch, processing));
              answered(batch.count);
              counters.bytesIn += batch.byteLength;
            } catch (error) {
              fail(error, batch);
            } finally {
              slots.release();
            }
          })();
          running.add(task);
          task.finally(() => running.delete(task));
        }
        await Promise.all(running);
      }
      if (!failure && !jobSignal.aborted) {
        await out.finish();
        bytesOut += out.bytesWritten;
        recordsWritten += fileRecords;
        counters.filesDone++;
        return;
      }
    } catch (error) {
      fail(error);
    }
    await output?.discard();
    if (failure && !io.signal.aborted) {
      failures.push(failure);
      counters.filesFailed++;
    }

    async function sendWhole(input: InputFile, processing: DataProcessing, output: FileOutput): Promise<void> {
      // A compressed file's size is not its body's: the server's own limit applies as it streams.
      if (
        options.compressionType === "None" &&
        maxBodyBytes > 0 &&
        input.size !== undefined &&
        input.size > maxBodyBytes
      ) {
        throw new RecordTooLargeError(0, 0, input.size, maxBodyBytes);
      }
      await slots.acquire();
      try {
        if (processing.active) {
          // The whole input is one record: filter it, join its answer to it.
          const pieces: Uint8Array[] = [];
          for await (const chunk of open()) pieces.push(chunk);
          // A text file's last line ends with a line feed, which is no part of its record (a CSV row's last field).
          const original = withoutFinalLineEnd(Buffer.concat(pieces));
          const body = processing.modelInput(original);
          const { answer, chunks } = await exchange([body], types, signal);
          account(answer, input);
          const batch: MiniBatch = {
            sequence: 0,
            firstRecordIndex: 0,
            count: 1,
            parts: [body],
            byteLength: body.byteLength,
            locate: () => 0,
            inputs: [original],
          };
          await output.deliver(0, answerParts(chunks, answer.contentType, batch, processing, true));
          answered(1);
          counters.bytesIn += original.byteLength;
          return;
        }
        // Streamed both ways: the input and its answer are never held whole. Sent again from the file's
        // start, its output rewritten, when the server fails it, as the platform sends an object again;
        // standard input cannot be read again.
        let readError: unknown;
        let source: AsyncIterable<Uint8Array> | undefined;
        let sent = 0;
        const counted = async function* (body: AsyncIterable<Uint8Array>) {
          try {
            for await (const chunk of body) {
              sent += chunk.byteLength;
              counters.bytesIn += chunk.byteLength;
              yield chunk as Uint8Array;
            }
          } catch (error) {
            readError = error;
            throw error;
          }
        };
        const answer = await retried(
          signal,
          async (attemptSignal) => {
            source = open();
            const streaming = await invoker.invoke(counted(source), types, attemptSignal);
            for await (const chunk of streaming.chunks) await output.write(chunk);
            return streaming;
          },
          async () => {
            (source as Readable | undefined)?.destroy();
            counters.bytesIn -= sent;
            sent = 0;
            return readError === undefined && file.path !== "-" && (await output.restart());
          },
        ).catch((error: unknown) => {
          // The server saw only a body that broke off; why it did is the input's error.
          throw readError ?? error;
        });
        account(answer, input);
        const stats = answer.stats();
        answered(stats?.records ?? 1);
        if (options.assembleWith === "Line") await output.write(NEWLINE);
      } finally {
        slots.release();
      }
    }
  };

  /** The bytes written for one answer: as it is (AssembleWith), or one processed line per record. */
  const answerParts = (
    answer: Uint8Array[],
    answerType: string,
    batch: MiniBatch,
    processing: DataProcessing,
    wholeInput = false,
  ): Uint8Array[] => {
    if (!processing.active) return options.assembleWith === "Line" ? [...answer, NEWLINE] : answer;
    const outputs = splitAnswer(Buffer.concat(answer), answerType, batch.count, wholeInput);
    const inputs = batch.inputs ?? [];
    return outputs.flatMap((output, i) => [processing.outputRecord(inputs[i], output), NEWLINE]);
  };

  // Inputs run side by side (sharing the invocation slots), except into standard output, which takes them in order.
  const parallelFiles = toStdout ? 1 : parameters.maxConcurrent;
  let nextFile = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallelFiles, files.length) }, async () => {
      while (nextFile < files.length && !jobSignal.aborted) await transformFile(files[nextFile++]);
    }),
  );
  progress?.stop();
  return {
    files: files.length,
    filesDone: counters.filesDone,
    failures,
    records: counters.records,
    recordsWritten,
    failedRecords,
    firstFailedRecords: [...firstFailedRecords.values()],
    bytesIn: counters.bytesIn,
    bytesOut,
    seconds: (performance.now() - started) / 1000,
    stageMs,
    interrupted: io.signal.aborted,
    stopped,
  };
}

/**
 * Failures of the job's own means rather than of an input: its output cannot be written, or its model
 * server cannot be reached (after the retries). Every other input would meet them too.
 */
function stopsTheJob(error: unknown): error is Error {
  return error instanceof OutputError || error instanceof EndpointUnreachable;
}

/** How the summary names an input. */
const nameOf = (file: InputFile): string => (file.path === "-" ? "-" : file.relative);

/** `bytes` without one final line feed (LF or CRLF). */
function withoutFinalLineEnd(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && end < bytes.length && bytes[end - 1] === 0x0d) end--;
  return bytes.subarray(0, end);
}

function describeFailure(file: InputFile, error: unknown, batch: MiniBatch | undefined): InputFailure {
  const where = { file: nameOf(file) };
  if (error instanceof RecordTooLargeError) {
    return {
      ...where,
      code: "RECORD_EXCEEDS_PAYLOAD",
      reason: error.message,
      recordIndex: error.recordIndex,
      byteOffset: error.byteOffset,
    };
  }
  if (error instanceof SplitError)
    return { ...where, code: "SPLIT_FAILED", reason: error.message, byteOffset: error.byteOffset };
  if (error instanceof DataProcessingError) {
    return { ...where, code: "DATA_PROCESSING_FAILED", reason: error.message, recordIndex: batch?.firstRecordIndex };
  }
  if (error instanceof InvocationFailure) {
    const inBody = typeof error.details.recordIndex === "number" ? error.details.recordIndex : undefined;
    const offsetInBody = typeof error.details.byteOffset === "number" ? error.details.byteOffset : undefined;
    // A whole input sent as one body: the server's indexes and offsets are the input's own.
    if (!batch)
      return {
        ...where,
        code: error.code,
        reason: error.message,
        status: error.status || undefined,
        recordIndex: inBody,
        byteOffset: offsetInBody,
      };
    return {
      ...where,
      code: error.code,
      reason: error.message,
      status: error.status || undefined,
      recordIndex: inBody !== undefined ? batch.firstRecordIndex + inBody : batch.firstRecordIndex,
      byteOffset: batch.locate(inBody ?? 0),
    };
  }
  const code = (error as { code?: unknown }).code;
  // zlib's own codes (Z_DATA_ERROR: incorrect header check) say nothing of where the gzip came in.
  if (typeof code === "string" && code.startsWith("Z_")) {
    const reason = `the input is not valid gzip (--compression-type Gzip): ${(error as Error).message} (${code})`;
    return { ...where, code: "CONTENT_DECODING_FAILED", reason };
  }
  return {
    ...where,
    code: typeof code === "string" ? code : "FAILED",
    reason: (error as Error).message ?? String(error),
  };
}
