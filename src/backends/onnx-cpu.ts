/**
 * The CPU backend: ONNX Runtime's CPU execution provider, one session per parallel run, the cores
 * shared out between the sessions' intra-op thread pools.
 */
import type { Backend, BackendTuning } from "./backend.js";
import { OnnxSessionPool } from "./onnx-session-pool.js";

/** Options for {@link createCpuBackend}. */
export interface CpuBackendOptions {
  readonly modelPath: string;
  /** Cores available to the container (cgroup quota included). */
  readonly cpus: number;
  /** Sessions to load; defaults to one per core. */
  readonly parallelRuns?: number;
}

/** Loads the model on the CPU execution provider. */
export async function createCpuBackend(options: CpuBackendOptions): Promise<Backend> {
  const parallelRuns = Math.max(1, options.parallelRuns ?? options.cpus);
  const intraOpNumThreads = Math.max(1, Math.floor(options.cpus / parallelRuns));
  const pool = await OnnxSessionPool.create({
    modelPath: options.modelPath,
    sessions: parallelRuns,
    sessionOptions: {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      intraOpNumThreads,
      interOpNumThreads: 1,
      executionMode: "sequential",
    },
  });
  const tuning: BackendTuning = {
    batchRows: 512,
    parallelRuns,
    suggestedConcurrentTransforms: Math.max(1, options.cpus),
    preferredPayloadMB: 16,
  };
  return {
    kind: "cpu",
    description: `onnxruntime-node CPU provider, ${parallelRuns} session(s) × ${intraOpNumThreads} intra-op thread(s)`,
    signature: pool.signature,
    tuning,
    run: (batch, signal) => pool.run(batch, signal),
    close: () => pool.release(),
  };
}
