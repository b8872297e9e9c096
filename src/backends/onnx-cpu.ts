/**
 * The CPU backend: ONNX Runtime's CPU execution provider with one session, so the model's weights are in
 * memory once however many invocations run. ONNX Runtime parallelises each run over its intra-op thread
 * pool; batches from concurrent invocations run one after another on it.
 */
import type { ModelSignature } from "../model/signature.js";
import type { Backend, BackendTuning } from "./backend.js";
import { OnnxSessionPool } from "./onnx-session-pool.js";

/** Input bytes a CPU batch aims at: large enough that per-batch costs (a message each way, a run) fade. */
const BATCH_BYTES = 4 * 2 ** 20;

/**
 * Records per CPU batch: as many as make {@link BATCH_BYTES} of input (measured: 8192 rows of 32 floats
 * cost ~15% less CPU per record than 512), at least 16, at most 8192.
 */
export function cpuBatchRows(signature: ModelSignature): number {
  let recordBytes = 0;
  for (const input of signature.inputs)
    recordBytes += input.width * (input.type === "float64" || input.type === "int64" ? 8 : 4);
  return Math.max(16, Math.min(8192, Math.floor(BATCH_BYTES / Math.max(1, recordBytes))));
}

/** Options for {@link createCpuBackend}. */
export interface CpuBackendOptions {
  readonly modelPath: string;
  /** Threads one run may use (the intra-op pool, the calling thread included). */
  readonly intraOpThreads: number;
  /** Cores available to the container (cgroup quota included): the concurrency suggested to the platform. */
  readonly cpus: number;
}

/** Loads the model on the CPU execution provider. */
export async function createCpuBackend(options: CpuBackendOptions): Promise<Backend> {
  const intraOpNumThreads = Math.max(1, options.intraOpThreads);
  const pool = await OnnxSessionPool.create({
    modelPath: options.modelPath,
    sessions: 1,
    sessionOptions: {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      intraOpNumThreads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      // Idle pool threads sleep instead of spinning, leaving their cores to the codec threads.
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    },
  });
  const tuning: BackendTuning = {
    batchRows: cpuBatchRows(pool.signature),
    suggestedConcurrentTransforms: Math.max(1, options.cpus),
    preferredPayloadMB: 16,
  };
  return {
    kind: "cpu",
    description: `onnxruntime-node CPU provider, 1 session × ${intraOpNumThreads} intra-op thread(s); model: ${pool.format}`,
    signature: pool.signature,
    tuning,
    run: (batch, signal) => pool.run(batch, signal),
    close: () => pool.release(),
  };
}
