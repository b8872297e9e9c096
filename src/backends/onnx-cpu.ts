/**
 * The CPU backend: ONNX Runtime's CPU execution provider with one session, so the model's weights are in
 * memory once however many invocations run. ONNX Runtime parallelises each run over its intra-op thread
 * pool; batches from concurrent invocations run one after another on it.
 */
import type { Backend } from "./backend.js";
import { cpuBatchRows, cpuTuning } from "./cpu-tuning.js";
import { OnnxSessionPool } from "./onnx-session-pool.js";

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
  const tuning = cpuTuning(options.cpus, cpuBatchRows(pool.signature));
  return {
    kind: "cpu",
    description: `onnxruntime-node CPU provider, 1 session × ${intraOpNumThreads} intra-op thread(s); model: ${pool.format}`,
    signature: pool.signature,
    tuning,
    run: (batch, signal) => pool.run(batch, signal),
    close: () => pool.release(),
  };
}
