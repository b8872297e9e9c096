/**
 * How the CPU backend likes to be fed: records per batch and what it suggests to the platform. Kept
 * apart from the backend so that the main thread can answer `/execution-parameters` before (and
 * without) loading ONNX Runtime.
 */
import type { ModelSignature } from "../model/signature.js";
import type { BackendTuning } from "./backend.js";

/** Input bytes a CPU batch aims at: large enough that per-batch costs (a message each way, a run) fade. */
const BATCH_BYTES = 4 * 2 ** 20;

/**
 * Records per CPU batch: as many as make {@link BATCH_BYTES} of input (measured: 8192 rows of 32 floats
 * cost ~15% less CPU per record than 512), at least 16, at most 8192.
 */
export function cpuBatchRows(signature: ModelSignature): number {
  let recordBytes = 0;
  for (const input of signature.inputs)
    recordBytes +=
      input.width * (input.type === "float64" || input.type === "int64" || input.type === "uint64" ? 8 : 4);
  return Math.max(16, Math.min(8192, Math.floor(BATCH_BYTES / Math.max(1, recordBytes))));
}

/**
 * The CPU backend's tuning on `cpus` cores: one invocation per core, 16 MB payloads. Before a model is
 * loaded (`batchRows` unknown, 0) it is also what `/execution-parameters` answers.
 */
export function cpuTuning(cpus: number, batchRows = 0): BackendTuning {
  return { batchRows, suggestedConcurrentTransforms: Math.max(1, cpus), preferredPayloadMB: 16 };
}
