/**
 * The main thread's side of the inference thread: starts it, asks it to load the model, and hands each
 * codec thread a port to it. If the thread dies, whatever was running on it fails (the codec threads'
 * ports close) and `onExit` reports it.
 */
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { ensureRuntimeDir } from "../backends/webgpu-adapter.js";
import type { Logger } from "../log.js";
import { fromWire } from "./error-transport.js";
import type { FromInferenceHost, LoadedModel, LoadRequest, ToInferenceHost } from "./messages.js";
import { turnOffOnStackReplacement } from "./on-stack-replacement.js";
import { settleWorkerHeapSizing } from "./worker-heap.js";

const INFERENCE_THREAD = new URL("./inference-thread.js", import.meta.url);

/** A running inference thread. */
export class InferenceHost {
  readonly #worker: Worker;
  #closing = false;
  /** Set once the thread has ended, however: closing it then has nothing to wait for. */
  #exited = false;
  #threadId: number | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** The thread's kernel id (undefined without `/proc`). */
  get threadId(): number | undefined {
    return this.#threadId;
  }

  /**
   * Starts the thread and loads the model; rejects with the reason the model could not be loaded.
   * `onExit` is called if the thread ends other than by {@link close}.
   */
  static async load(
    request: LoadRequest,
    log: Logger,
    onExit: (reason: string) => void,
  ): Promise<{ host: InferenceHost; model: LoadedModel }> {
    settleWorkerHeapSizing(false);
    turnOffOnStackReplacement();
    if (request.backend !== "cpu") ensureRuntimeDir();
    const worker = new Worker(INFERENCE_THREAD, { env: process.env });
    const host = new InferenceHost(worker);
    const loading = new Promise<LoadedModel>((resolve, reject) => {
      worker.on("message", (message: FromInferenceHost) => {
        if (message.type === "log") log.write(message.level, message.message, message.fields);
        else if (message.type === "loaded") {
          host.#threadId = message.tid;
          resolve(message.model);
        } else if (message.type === "load-failed") reject(fromWire(message.error));
      });
      worker.on("error", (error) => {
        log.error("the inference thread failed", { reason: error.message, stack: error.stack });
        reject(error);
      });
      worker.on("exit", (code) => {
        host.#exited = true;
        reject(new Error(`the inference thread exited (code ${code}) before the model was loaded`));
        if (!host.#closing) onExit(`the inference thread exited with code ${code}`);
      });
      host.#post({ type: "load", request });
    });
    try {
      return { host, model: await loading };
    } catch (error) {
      host.#closing = true;
      await worker.terminate();
      throw error;
    }
  }

  #post(message: ToInferenceHost, transfer: MessagePort[] = []): void {
    this.#worker.postMessage(message, transfer);
  }

  /** A new port to the model, for one codec thread. */
  connect(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.#post({ type: "connect", port: port2 }, [port2]);
    return port1;
  }

  /** Releases the model and ends the thread. */
  async close(): Promise<void> {
    if (this.#closing || this.#exited) return;
    this.#closing = true;
    const exited = new Promise<void>((resolve) => this.#worker.once("exit", () => resolve()));
    this.#post({ type: "close" });
    const timeout = setTimeout(() => this.#worker.terminate(), 5000);
    await exited;
    clearTimeout(timeout);
  }
}
