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

/** A loaded model, ready to run batches. */
export interface Backend {
  /** `cpu` or `webgpu`. */
  readonly kind: string;
  /** Human description for logs: provider, adapter, threads. */
  readonly description: string;
  readonly signature: ModelSignature;
  readonly tuning: BackendTuning;
  /**
   * Runs one batch; resolves with one tensor per model output, each with `batch.rows` records.
   * A batch still queued when `signal` aborts is never run (the promise rejects with the abort reason).
   */
  run(batch: InputBatch, signal?: AbortSignal): Promise<OutputTensor[]>;
  /** Releases the model. */
  close(): Promise<void>;
}
