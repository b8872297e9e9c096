/**
 * How many intra-op threads the CPU backend gives a model when `SLUICE_INFERENCE_THREADS` is not set:
 * one per core, unless a timed batch shows that more than one does not make this model faster.
 *
 * Why: ONNX Runtime splits each operator of a run across its pool, and for a small model that costs
 * more than it saves. On the 2-core development machine the tabular model (32 → 64 → 4) ran a batch only
 * 1.08–1.20× faster on two threads than on one (MNIST's 784 → 32 → 10: 0.86–1.29×), while the second
 * thread took cores that the codec threads needed: with one thread, tabular bodies at one per core
 * served 9% more records/s for 9% less CPU per record (six alternating pairs). Models of one and two
 * layers of 2048 ran a batch 1.65–2.0× faster on two threads and keep both; larger ones are not tried.
 *
 * The timed batch measures a batch's latency on a quiet machine; what a busy one needs is throughput. A
 * model on one intra-op thread may instead run as several sessions side by side, each on its own core
 * (`threads/model-sessions.ts`), which scale with the cores where splitting each operator across them
 * does not: on 64 cores a small model whose batch ran 3× faster on all 64 would have kept them, and
 * then run every codec thread's batches in one session at 3 cores' worth. So every core is kept only
 * where the sessions one thread would get do not run {@link SESSIONS_MARGIN} times the batches the model
 * runs on every core. The margin favours the cores: they hold the weights once and speed up a lone small
 * body too, which runs in one session; and on 2 cores a model of one layer of 2048, whose batch ran 1.85×
 * faster on both, served 1–6% fewer records/s as two one-thread sessions (c = 1 and 2, 10 MB bodies).
 */
import { statSync } from "node:fs";
import { stagingArray } from "../batch-buffer-pool.js";
import type { InputBatch } from "../batcher.js";
import type { OnnxModelSession } from "./onnx-model-session.js";

/** Models larger than this keep one thread per core unprobed: the probe holds two sessions for a moment. */
export const PROBED_MODEL_BYTES = 64 * 2 ** 20;
/** A batch slower than this on every core is compute-bound: no need to try one thread. */
const COMPUTE_BOUND_BATCH_MS = 50;
/** The speed-up every core must bring a batch for the model to keep them. */
export const WORTHWHILE_SPEEDUP = 1.3;
/** How many times the batches of every core the sessions one thread would get must run to be chosen instead. */
export const SESSIONS_MARGIN = 1.5;
/** Timed runs per session (alternating between the two, the fastest of each counts). */
const TIMED_RUNS = 5;

/** What the probe decided, for the start-up log. */
export interface IntraOpChoice {
  /** The session to keep (the other is released). */
  readonly session: OnnxModelSession;
  readonly threads: number;
  /** Why: the measurement, or why none was made. */
  readonly reason: string;
  /** The fastest timed batch on each, when both were timed, and a record's share of the one-thread batch. */
  readonly timed?: {
    readonly oneThreadMs: number;
    readonly manyThreadsMs: number;
    readonly oneThreadRecordMicroseconds: number;
  };
}

/**
 * Whether a batch that ran in `oneThreadMs` on one thread and `manyThreadsMs` on all is worth all of them,
 * where the model on one thread would run in `oneThreadSessions` sessions side by side.
 */
export function keepsEveryThread(oneThreadMs: number, manyThreadsMs: number, oneThreadSessions = 1): boolean {
  return oneThreadMs >= Math.max(WORTHWHILE_SPEEDUP, oneThreadSessions / SESSIONS_MARGIN) * manyThreadsMs;
}

/** A batch of `rows` zero records for the session's model, or undefined when an input is not numeric. */
export function zeroBatch(session: OnnxModelSession, rows: number): InputBatch | undefined {
  const inputs = [];
  for (const input of session.signature.inputs) {
    if (input.type === "string") return undefined;
    inputs.push(stagingArray(input.type, rows * input.width));
  }
  return { rows, firstRecordIndex: 0, inputs, recordErrors: new Map() };
}

/** Milliseconds one quiet run of `batch` takes on `session`. */
export async function timeRun(session: OnnxModelSession, batch: InputBatch): Promise<number> {
  const started = performance.now();
  await session.runQuietly(batch);
  return performance.now() - started;
}

/**
 * Keeps `manyThreads` (a session with `threads` intra-op threads) or a session with one thread, made by
 * `createOneThread`, whichever the timed batches of `rows` records favour, given the sessions side by side
 * that `sessionsOnOneThread` says the model would have on one thread, a record taking `recordMicroseconds`.
 */
export async function chooseIntraOpThreads(
  modelPath: string,
  manyThreads: OnnxModelSession,
  threads: number,
  rows: number,
  createOneThread: () => Promise<OnnxModelSession>,
  sessionsOnOneThread: (recordMicroseconds: number) => number = () => 1,
): Promise<IntraOpChoice> {
  const keepMany = (reason: string): IntraOpChoice => ({ session: manyThreads, threads, reason });
  if (threads <= 1) return keepMany("one core");
  if (statSync(modelPath).size > PROBED_MODEL_BYTES) return keepMany("a large model: one per core");
  const batch = zeroBatch(manyThreads, rows);
  if (!batch) return keepMany("text inputs: one per core");
  let firstMs: number;
  try {
    firstMs = await timeRun(manyThreads, batch);
    // A first run is slow on its own (buffers allocated, pages faulted), and the codec threads start
    // beside it: a slow one is run again before the model counts as compute-bound. (On 2 cores, six codec
    // threads starting made a one-layer model's first batch 72 ms where it then ran in 14.)
    if (firstMs > COMPUTE_BOUND_BATCH_MS) firstMs = Math.min(firstMs, await timeRun(manyThreads, batch));
  } catch {
    // Zeros are no valid record for every model (a lookup, a reshape that needs a multiple of 3).
    return keepMany("a batch of zeros failed: one per core");
  }
  if (firstMs > COMPUTE_BOUND_BATCH_MS)
    return keepMany(`a batch took ${firstMs.toFixed(0)} ms on ${threads} threads: one per core`);
  let oneThread: OnnxModelSession | undefined;
  let manyMs = Number.POSITIVE_INFINITY;
  let oneMs = Number.POSITIVE_INFINITY;
  try {
    oneThread = await createOneThread();
    await timeRun(oneThread, batch);
    for (let run = 0; run < TIMED_RUNS; run++) {
      manyMs = Math.min(manyMs, await timeRun(manyThreads, batch));
      oneMs = Math.min(oneMs, await timeRun(oneThread, batch));
    }
  } catch (cause) {
    // The model is loaded and ran a batch: a failed trial must not fail the start-up.
    await oneThread?.release();
    return keepMany(
      `the one-thread trial failed (${cause instanceof Error ? cause.message : String(cause)}): one per core`,
    );
  }
  const oneThreadRecordMicroseconds = (oneMs * 1000) / rows;
  const sessions = sessionsOnOneThread(oneThreadRecordMicroseconds);
  const timings = `a ${rows}-record batch ran in ${oneMs.toFixed(2)} ms on one thread, ${manyMs.toFixed(2)} ms on ${threads}`;
  const reason =
    sessions > 1 && keepsEveryThread(oneMs, manyMs) && !keepsEveryThread(oneMs, manyMs, sessions)
      ? `${timings}; ${sessions} one-thread sessions side by side would run more`
      : timings;
  const timed = { oneThreadMs: oneMs, manyThreadsMs: manyMs, oneThreadRecordMicroseconds };
  if (keepsEveryThread(oneMs, manyMs, sessions)) {
    await oneThread.release();
    return { session: manyThreads, threads, reason, timed };
  }
  await manyThreads.release();
  return { session: oneThread, threads: 1, reason, timed };
}
