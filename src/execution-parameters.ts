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

/** What the container was configured with (SAGEMAKER_* variables); each, when set, is answered as is. */
export interface ConfiguredParameters {
  readonly maxConcurrentTransforms?: number;
  readonly maxPayloadInMB?: number;
  readonly batchStrategy?: BatchStrategy;
}

/** Platform limits: MaxPayloadInMB ≤ 100 and MaxConcurrentTransforms × MaxPayloadInMB ≤ 100. */
const PLATFORM_PAYLOAD_BUDGET_MB = 100;
/** Memory one concurrent invocation may need: response hold, batches in flight, runtime buffers. */
const MEMORY_PER_INVOCATION_BYTES = 256 * 1024 * 1024;

/**
 * Tunes the parameters to the backend (its suggested concurrency and preferred payload: a CPU takes 16 MB,
 * above which a retried request repeats much work and its output outgrows the response hold; a GPU takes
 * up to 32 MB) and to the CPUs and memory the container has. A value the container was
 * configured with is answered as configured: the job already chose it.
 */
export function executionParameters(
  resources: ContainerResources,
  tuning: BackendTuning,
  spelling: "platform" | "api",
  configured: ConfiguredParameters = {},
): ExecutionParameters {
  const byMemory = Math.max(1, Math.floor((resources.memoryBytes * 0.75) / MEMORY_PER_INVOCATION_BYTES));
  const concurrency =
    configured.maxConcurrentTransforms ??
    Math.max(1, Math.min(tuning.suggestedConcurrentTransforms, byMemory, PLATFORM_PAYLOAD_BUDGET_MB));
  const payload =
    configured.maxPayloadInMB ??
    Math.max(1, Math.min(tuning.preferredPayloadMB, Math.floor(PLATFORM_PAYLOAD_BUDGET_MB / concurrency)));
  const strategy = configured.batchStrategy ?? "MULTI_RECORD";
  const spelled = spelling === "platform" ? strategy : strategy === "SINGLE_RECORD" ? "SingleRecord" : "MultiRecord";
  return { MaxConcurrentTransforms: concurrency, BatchStrategy: spelled, MaxPayloadInMB: payload };
}
