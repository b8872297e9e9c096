/**
 * The backend interface: the only part of Sluice that knows which runtime and execution provider run
 * the model. The pipeline hands it batches and gets output tensors back.
 */
import type { InputBatch } from "../batcher.js";
import type { OutputTensor } from "../codec/record-codec.js";
import type { ModelSignature } from "../model/signature.js";

/** Tuning a backend recommends for itself (the configuration may override it). */
export interface BackendTuning {
  /** Default maximum records per batch. */
  readonly batchRows: number;
  /** The `MaxConcurrentTransforms` it suggests to the platform. */
  readonly suggestedConcurrentTransforms: number;
  /** The `MaxPayloadInMB` it prefers (within the platform's budget): larger for devices that like big batches. */
  readonly preferredPayloadMB: number;
}

/** What one batch's run gave. */
export interface BatchAnswer {
  /** One tensor per model output, each with `batch.rows` records. */
  readonly outputs: OutputTensor[];
  /**
   * The rows the model failed on alone, and why: only for a batch with `isolateFailures`, whose other
   * rows were answered; the failed rows' outputs hold zeros.
   */
  readonly failedRows?: ReadonlyMap<number, string>;
}

/** A loaded model, ready to run batches. */
export interface Backend {
  /** `cpu` or `webgpu`. */
  readonly kind: string;
  /** Human description for logs: provider, adapter, threads. */
  readonly description: string;
  readonly signature: ModelSignature;
  readonly tuning: BackendTuning;
  /** Threads one run uses on the CPU (ONNX Runtime's intra-op pool); unset for a device. */
  readonly intraOpThreads?: number;
  /**
   * A record's share of a batch timed on one intra-op thread when loading, for a model that keeps one
   * thread (see `intra-op-threads.ts`); unset when no batch was timed.
   */
  readonly recordMicroseconds?: number;
  /**
   * Runs one batch. When the model fails on it, rejects with a `ModelExecutionError` naming the first
   * record it fails on alone, or, for a batch with `isolateFailures`, answers the other records (see
   * {@link BatchAnswer.failedRows}). A batch still queued when `signal` aborts is never run (the promise
   * rejects with the abort reason); a backend may also reject a running one at once, leaving it to
   * finish unseen (the inference thread's does: a cancelled invocation must not wait for a slow model).
   * The inference thread passes an unaborted `signal` on to a later batch once this run has settled, so a
   * listener added to it must be removed by then.
   */
  run(batch: InputBatch, signal?: AbortSignal): Promise<BatchAnswer>;
  /** Releases the model. */
  close(): Promise<void>;
}
