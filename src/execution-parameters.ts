/**
 * The answer to `GET /execution-parameters`: the platform uses these values for whatever the
 * transform job request left unset.
 */
import type { BackendTuning } from "./backends/backend.js";
import type { BatchStrategy } from "./config.js";
import type { ContainerResources } from "./container-resources.js";

/** The JSON body of `/execution-parameters`. */
export interface ExecutionParameters {
  MaxConcurrentTransforms: number;
  BatchStrategy: BatchStrategy | "MultiRecord" | "SingleRecord";
  MaxPayloadInMB: number;
}

/** Platform limits: MaxPayloadInMB ≤ 100 and MaxConcurrentTransforms × MaxPayloadInMB ≤ 100. */
const PLATFORM_PAYLOAD_BUDGET_MB = 100;
/** Memory one concurrent invocation may need: response hold, batches in flight, runtime buffers. */
const MEMORY_PER_INVOCATION_BYTES = 256 * 1024 * 1024;

/**
 * Tunes the parameters to the backend (its suggested concurrency and preferred payload: a CPU takes 16 MB,
 * above which a retried request repeats much work and its output outgrows the response hold; a GPU takes
 * fewer, larger payloads) and to the CPUs and memory the container has.
 */
export function executionParameters(
  resources: ContainerResources,
  tuning: BackendTuning,
  spelling: "platform" | "api",
): ExecutionParameters {
  const byMemory = Math.max(1, Math.floor((resources.memoryBytes * 0.75) / MEMORY_PER_INVOCATION_BYTES));
  const concurrency = Math.max(1, Math.min(tuning.suggestedConcurrentTransforms, byMemory, PLATFORM_PAYLOAD_BUDGET_MB));
  const payload = Math.max(
    1,
    Math.min(tuning.preferredPayloadMB, Math.floor(PLATFORM_PAYLOAD_BUDGET_MB / concurrency)),
  );
  return {
    MaxConcurrentTransforms: concurrency,
    BatchStrategy: spelling === "api" ? "MultiRecord" : "MULTI_RECORD",
    MaxPayloadInMB: payload,
  };
}
