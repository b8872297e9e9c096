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
 */
import { statSync } from "node:fs";
import type { BatchBufferPool } from "../batch-buffer-pool.js";
import type { Backend } from "./backend.js";
import { timeRun, zeroBatch } from "./intra-op-threads.js";
import { cpuSessionOptions } from "./onnx-cpu.js";
import { OnnxModelSession } from "./onnx-model-session.js";

/** Model files larger than this keep their weights in memory once, on the inference thread. */
export const MAIN_THREAD_MODEL_BYTES = 4 * 2 ** 20;

/** A small body's largest batch must run within this (the fastest of the timed runs), in milliseconds. */
export const MAIN_THREAD_BATCH_MS = 1;

/** Timed runs of the trial batch, after one untimed. */
const TIMED_RUNS = 3;

/** The bounds a model must keep to get a main-thread session (tests narrow them). */
export interface MainThreadLimits {
  readonly maxModelBytes: number;
  readonly maxBatchMs: number;
}

const DEFAULT_LIMITS: MainThreadLimits = { maxModelBytes: MAIN_THREAD_MODEL_BYTES, maxBatchMs: MAIN_THREAD_BATCH_MS };

/** The main thread's session when the model qualifies, and why it does or does not (for the start-up log). */
export interface MainThreadSession {
  readonly backend: Backend | undefined;
  readonly reason: string;
}

/**
 * Opens the main thread's session for the CPU model at `modelPath` when it is within `limits` (by
 * default {@link MAIN_THREAD_MODEL_BYTES} and {@link MAIN_THREAD_BATCH_MS}), timing a batch of `rows`
 * records (the most a small body can hold). Each batch's input arrays go back to
 * `buffers` once it has run. Never throws: a model that cannot be trialled stays on the inference thread.
 */
export async function openMainThreadSession(
  modelPath: string,
  rows: number,
  buffers: BatchBufferPool,
  limits: MainThreadLimits = DEFAULT_LIMITS,
): Promise<MainThreadSession> {
  let session: OnnxModelSession | undefined;
  try {
    const bytes = statSync(modelPath).size;
    if (bytes > limits.maxModelBytes) {
      return { backend: undefined, reason: `the model file is ${(bytes / 2 ** 20).toFixed(1)} MiB` };
    }
    session = await OnnxModelSession.create({ modelPath, sessionOptions: cpuSessionOptions(1) });
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
    const opened = session;
    const backend: Backend = {
      kind: "cpu",
      description: "onnxruntime-node CPU provider, a second session on the main thread",
      signature: opened.signature,
      tuning: { batchRows: rows, suggestedConcurrentTransforms: 1, preferredPayloadMB: 0 },
      intraOpThreads: 1,
      async run(batch, signal) {
        try {
          return await opened.run(batch, signal);
        } finally {
          buffers.give(batch.inputs);
        }
      },
      close: () => opened.release(),
    };
    return { backend, reason: timing };
  } catch (cause) {
    // Zeros are no valid record for every model (a lookup, a reshape that needs a multiple of 3).
    await session?.release();
    return {
      backend: undefined,
      reason: `the trial batch failed (${cause instanceof Error ? cause.message : String(cause)})`,
    };
  }
}
