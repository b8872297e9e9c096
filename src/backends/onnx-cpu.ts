/**
 * The CPU backend: ONNX Runtime's CPU execution provider with one session, so the model's weights are in
 * memory once however many invocations run. ONNX Runtime parallelises each run over its intra-op thread
 * pool; batches from concurrent invocations run one after another on it.
 */
import type ort from "onnxruntime-node";
import type { ModelSignature } from "../model/signature.js";
import type { Backend } from "./backend.js";
import { cpuBatchRows, cpuTuning } from "./cpu-tuning.js";
import { chooseIntraOpThreads } from "./intra-op-threads.js";
import { type ModelFile, OnnxModelSession } from "./onnx-model-session.js";

/** Options for {@link createCpuBackend}. */
export interface CpuBackendOptions extends ModelFile {
  /** Threads one run may use (the intra-op pool, the calling thread included). */
  readonly intraOpThreads: number;
  /**
   * Whether `intraOpThreads` is only the most the model may use: a model that a timed batch shows no
   * faster on them gets one (see `intra-op-threads.ts`). False when the operator chose the number.
   */
  readonly chooseIntraOpThreads?: boolean;
  /**
   * The sessions side by side the model would run in on one intra-op thread each, a record taking
   * `recordMicroseconds` there, which the trial weighs every thread against (see `intra-op-threads.ts`).
   * Unset, one.
   */
  readonly sessionsOnOneThread?: (recordMicroseconds: number, signature: ModelSignature) => number;
  /** Cores available to the container (cgroup quota included): the concurrency suggested to the platform. */
  readonly cpus: number;
}

/** The CPU backend's session options with `intraOpNumThreads` intra-op threads. */
export function cpuSessionOptions(intraOpNumThreads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    // Idle pool threads sleep instead of spinning, leaving their cores to the codec threads.
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };
}

/** Loads the model on the CPU execution provider. */
export async function createCpuBackend(options: CpuBackendOptions): Promise<Backend> {
  const { modelPath, dimensions } = options;
  const most = Math.max(1, options.intraOpThreads);
  const loaded = await OnnxModelSession.create({ modelPath, dimensions, sessionOptions: cpuSessionOptions(most) });
  const batchRows = cpuBatchRows(loaded.signature);
  // The trial batch is as long as the model's batches will be (a fixed batch axis included).
  const trialRows = Math.min(batchRows, loaded.signature.maxBatchRows);
  const { session, threads, reason, timed } = options.chooseIntraOpThreads
    ? await chooseIntraOpThreads(
        modelPath,
        loaded,
        most,
        trialRows,
        () => OnnxModelSession.create({ modelPath, dimensions, sessionOptions: cpuSessionOptions(1) }),
        (recordMicroseconds) => options.sessionsOnOneThread?.(recordMicroseconds, loaded.signature) ?? 1,
      )
    : { session: loaded, threads: most, reason: "SLUICE_INFERENCE_THREADS" };
  const tuning = cpuTuning(options.cpus, batchRows);
  return {
    kind: "cpu",
    description: `onnxruntime-node CPU provider, 1 session × ${threads} intra-op thread(s) (${reason}); model: ${session.format}`,
    signature: session.signature,
    tuning,
    intraOpThreads: threads,
    recordMicroseconds: threads === 1 ? timed?.oneThreadRecordMicroseconds : undefined,
    run: (batch, signal) => session.run(batch, signal),
    close: () => session.release(),
  };
}
