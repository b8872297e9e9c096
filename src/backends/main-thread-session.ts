/**
 * A second session of a small, fast model on the main thread, for the batches of small bodies (see
 * `main-thread-invocation.ts`).
 *
 * Why: a one-record body's batch went to the inference thread and its answer came back, two wake-ups
 * of a sleeping thread per request. On the 2-core development machine that hop cost more than the run
 * itself (a one-row run of the tabular model is ~16 µs). With the batch run on the main thread, in nine
 * alternating pairs of runs, one-row bodies one at a time served 23% more records/s for 21% less CPU per
 * record, and two at a time took 24% less CPU per record (medians; the README gives the ranges).
 *
 * The weights are then in memory twice, and a run blocks the event loop. So only a model whose file is
 * at most {@link MAIN_THREAD_MODEL_BYTES} and whose largest small-body batch runs within
 * {@link MAIN_THREAD_BATCH_MS} gets one; every other model, and every larger body, runs on the inference
 * thread's one session as before. The session runs on the calling thread alone (one intra-op thread).
 *
 * The trial runs zeros, and a model's run time may depend on its data (a `Loop` or a shape taken from
 * an input). So a run that keeps the main thread past {@link MAIN_THREAD_STALL_MS}, from the call to its
 * answer, retires the session: later batches go to the inference thread, and the session is released
 * once its last run has ended. The limit is far above what a run timed within 1 ms takes, and above the
 * event loop's own delays under load (tens of milliseconds), which the measurement includes.
 */
import { statSync } from "node:fs";
import type { BatchBufferPool } from "../batch-buffer-pool.js";
import type { InputBatch } from "../batcher.js";
import type { ModelSignature } from "../model/signature.js";
import { foldSetOf } from "../model/xgboost/fold-files.js";
import type { Backend, BackendTuning, BatchAnswer } from "./backend.js";
import { timeRun, zeroBatch } from "./intra-op-threads.js";
import { cpuSessionOptions } from "./onnx-cpu.js";
import { type ModelFile, OnnxModelSession } from "./onnx-model-session.js";

/** Model files larger than this keep their weights in memory once, on the inference thread. */
export const MAIN_THREAD_MODEL_BYTES = 4 * 2 ** 20;

/** A small body's largest batch must run within this (the fastest of the timed runs), in milliseconds. */
export const MAIN_THREAD_BATCH_MS = 1;

/**
 * A run that takes longer than this, in milliseconds, from the call to its answer (queued runs ahead of it
 * and the event loop's own delays included), retires the main-thread session.
 */
export const MAIN_THREAD_STALL_MS = 250;

/** Timed runs of the trial batch, after one untimed. */
const TIMED_RUNS = 3;

/** The bounds a model must keep to get a main-thread session (tests narrow them). */
export interface MainThreadLimits {
  readonly maxModelBytes: number;
  readonly maxBatchMs: number;
  readonly maxStallMs: number;
}

const DEFAULT_LIMITS: MainThreadLimits = {
  maxModelBytes: MAIN_THREAD_MODEL_BYTES,
  maxBatchMs: MAIN_THREAD_BATCH_MS,
  maxStallMs: MAIN_THREAD_STALL_MS,
};

/** Where a retired main-thread session's batches go, and who hears of its retirement. */
export interface MainThreadFallback {
  /** The backend later batches run on (the inference thread's). */
  readonly backend: Backend;
  /** Called once, with the run's duration in milliseconds, when a run retires the session. */
  onRetired(runMs: number): void;
}

/** The main thread's session when the model qualifies, and why it does or does not (for the start-up log). */
export interface MainThreadSession {
  readonly backend: Backend | undefined;
  readonly reason: string;
}

/**
 * Opens the main thread's session for the CPU model `model` when it is within `limits` (by
 * default {@link MAIN_THREAD_MODEL_BYTES} and {@link MAIN_THREAD_BATCH_MS}), timing a batch of `rows`
 * records (the most a small body can hold). Each batch's input arrays go back to `buffers` once it has
 * run. A run past `limits.maxStallMs` ({@link MAIN_THREAD_STALL_MS}) retires the session to `fallback`.
 * Never throws: a model that cannot be trialled stays on the inference thread.
 */
export async function openMainThreadSession(
  model: ModelFile,
  rows: number,
  buffers: BatchBufferPool,
  fallback: MainThreadFallback,
  limits: MainThreadLimits = DEFAULT_LIMITS,
): Promise<MainThreadSession> {
  let session: OnnxModelSession | undefined;
  try {
    // A k-fold training's boosters load together: their sizes add up.
    const files = foldSetOf(model.modelPath) ?? [model.modelPath];
    const bytes = files.reduce((total, file) => total + statSync(file).size, 0);
    if (bytes > limits.maxModelBytes) {
      const what = files.length > 1 ? `the ${files.length} fold files are` : "the model file is";
      return { backend: undefined, reason: `${what} ${(bytes / 2 ** 20).toFixed(1)} MiB` };
    }
    session = await OnnxModelSession.create({ ...model, sessionOptions: cpuSessionOptions(1) });
    const batch = zeroBatch(session, rows);
    if (!batch) {
      await session.release();
      return { backend: undefined, reason: "text inputs" };
    }
    await session.runQuietly(batch);
    let fastestMs = Number.POSITIVE_INFINITY;
    for (let run = 0; run < TIMED_RUNS; run++) fastestMs = Math.min(fastestMs, await timeRun(session, batch));
    const timing = `a ${rows}-record batch ran in ${fastestMs.toFixed(3)} ms`;
    if (fastestMs > limits.maxBatchMs) {
      await session.release();
      return { backend: undefined, reason: timing };
    }
    return { backend: new MainThreadBackend(session, rows, buffers, fallback, limits.maxStallMs), reason: timing };
  } catch (cause) {
    // Zeros are no valid record for every model (a lookup, a reshape that needs a multiple of 3).
    await session?.release();
    return {
      backend: undefined,
      reason: `the trial batch failed (${cause instanceof Error ? cause.message : String(cause)})`,
    };
  }
}

/** The main thread's session as a {@link Backend}, until a run stalls the event loop; then its fallback. */
class MainThreadBackend implements Backend {
  readonly kind = "cpu";
  readonly description = "onnxruntime-node CPU provider, a second session on the main thread";
  readonly signature: ModelSignature;
  readonly tuning: BackendTuning;
  readonly intraOpThreads = 1;
  /** Runs asked of the session and not yet answered. */
  #running = 0;
  #retired = false;
  #released: Promise<void> | undefined;

  constructor(
    private readonly session: OnnxModelSession,
    rows: number,
    private readonly buffers: BatchBufferPool,
    private readonly fallback: MainThreadFallback,
    private readonly maxStallMs: number,
  ) {
    this.signature = session.signature;
    this.tuning = { batchRows: rows, suggestedConcurrentTransforms: 1, preferredPayloadMB: 0 };
  }

  async run(batch: InputBatch, signal?: AbortSignal): Promise<BatchAnswer> {
    if (this.#retired) return this.fallback.backend.run(batch, signal);
    this.#running++;
    const started = performance.now();
    try {
      return await this.session.run(batch, signal);
    } finally {
      this.#running--;
      this.buffers.give(batch.inputs);
      const runMs = performance.now() - started;
      if (!this.#retired && runMs > this.maxStallMs) {
        this.#retired = true;
        this.fallback.onRetired(runMs);
      }
      if (this.#retired && this.#running === 0) this.close().catch(() => {});
    }
  }

  /** Releases the session (once, however often asked). */
  close(): Promise<void> {
    this.#released ??= this.session.release();
    return this.#released;
  }
}
