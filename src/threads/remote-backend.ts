/**
 * The backend as a codec thread sees it: batches go to the inference thread over a port (their typed
 * arrays transferred, not copied) and come back with the model's outputs and the input arrays, which
 * return to the batch-buffer pool for the next batch.
 */
import type { MessagePort } from "node:worker_threads";
import type { Backend, BackendTuning, BatchAnswer } from "../backends/backend.js";
import type { BatchBufferPool } from "../batch-buffer-pool.js";
import type { InputBatch } from "../batcher.js";
import { ModelUnavailableError, WorkerCrashedError } from "../errors.js";
import type { ModelSignature } from "../model/signature.js";
import { fromWire } from "./error-transport.js";
import { type FromInferenceThread, type ToInferenceThread, transferList } from "./messages.js";

interface PendingRun {
  resolve(answer: BatchAnswer): void;
  reject(error: unknown): void;
}

/** A {@link Backend} whose runs happen on the inference thread. */
export class RemoteBackend implements Backend {
  readonly kind = "remote";
  readonly description = "the inference thread";
  readonly tuning: BackendTuning = { batchRows: 0, suggestedConcurrentTransforms: 1, preferredPayloadMB: 0 };
  readonly #pending = new Map<number, PendingRun>();
  #nextBatch = 0;
  #closed = false;
  #port: MessagePort;

  constructor(
    port: MessagePort,
    readonly signature: ModelSignature,
    /** Where each batch's input arrays go once the inference thread hands them back. */
    readonly buffers: BatchBufferPool,
  ) {
    this.#port = port;
    this.#listen(port);
  }

  #listen(port: MessagePort): void {
    port.on("message", (message: FromInferenceThread) => this.#settle(message));
    // The inference thread went away: nothing pending will be answered.
    port.on("close", () => {
      if (port === this.#port) this.#failAll();
    });
  }

  /**
   * Runs later batches over `port`, to a session loaded in place of one whose thread ended: what was
   * pending on the old port has failed.
   */
  reconnect(port: MessagePort): void {
    const old = this.#port;
    this.#port = port;
    this.#failAll();
    old.close();
    this.#closed = false;
    this.#listen(port);
  }

  run(batch: InputBatch, signal?: AbortSignal): Promise<BatchAnswer> {
    if (this.#closed) return Promise.reject(new ModelUnavailableError("the inference thread has stopped"));
    signal?.throwIfAborted();
    const id = this.#nextBatch++;
    const message: ToInferenceThread = {
      type: "run",
      batch: id,
      rows: batch.rows,
      firstRecordIndex: batch.firstRecordIndex,
      inputs: batch.inputs,
      isolateFailures: batch.isolateFailures === true,
    };
    return new Promise<BatchAnswer>((resolve, reject) => {
      const onAbort = () => {
        this.#port.postMessage({ type: "cancel", batch: id } satisfies ToInferenceThread);
        // Settle now, not when the run ends: a slow model's batch may take minutes, and the invocation
        // must end as soon as it is cancelled (a thread that does not is taken for stuck). The reply
        // still returns the batch's arrays to the pool when it comes.
        this.#pending.delete(id);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (answer) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(answer);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      });
      this.#port.postMessage(message, transferList(batch.inputs));
    });
  }

  #settle(message: FromInferenceThread): void {
    const pending = this.#pending.get(message.batch);
    this.buffers.give(message.inputs);
    if (!pending) return;
    this.#pending.delete(message.batch);
    if (message.type === "failed") {
      pending.reject(fromWire(message.error));
      return;
    }
    const specs = this.signature.outputs;
    pending.resolve({
      outputs: message.outputs.map((output, i) => ({ spec: specs[i], width: output.width, data: output.data })),
      failedRows: message.failedRows,
    });
  }

  #failAll(): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      pending.reject(new WorkerCrashedError("it ended while a batch was running", "inference"));
    }
    this.#pending.clear();
  }

  async close(): Promise<void> {
    this.#port.close();
  }
}
