/**
 * The codec threads, seen from the main thread: one worker per core by default, each running whole
 * invocations. A new invocation goes to the thread running the fewest; a thread that dies fails only
 * its own invocations (500) and is replaced at once. So is a thread that does not end an invocation it
 * was asked to stop (a plugin's decoder in an endless loop): it would never run anything again.
 */
import { type MessagePort, Worker } from "node:worker_threads";
import type { RecordBoundaryScanner } from "../codec/framing.js";
import { ConfigError, WorkerCrashedError } from "../errors.js";
import type { Logger } from "../log.js";
import type { ModelSignature } from "../model/signature.js";
import { BodyRingPool } from "./body-ring-pool.js";
import type { CodecThreadData } from "./codec-thread.js";
import { fromWire } from "./error-transport.js";
import type { FromCodecThread, InvocationJob, ToCodecThread } from "./messages.js";
import { turnOffOnStackReplacement } from "./on-stack-replacement.js";
import { type FedBody, RemoteInvocation, UNRESPONSIVE_AFTER_MS } from "./remote-invocation.js";
import { SplitInvocation } from "./split-invocation.js";
import { useDefaultHeapSizingForWorkers } from "./worker-heap.js";

const CODEC_THREAD = new URL("./codec-thread.js", import.meta.url);

/** How the pool reaches the model: its signature, and a new port to the inference thread per thread. */
export interface ModelLink {
  readonly signature: ModelSignature;
  connect(): MessagePort;
}

/** One codec thread and the invocations it runs. */
class CodecThread {
  readonly worker: Worker;
  readonly active = new Map<number, RemoteInvocation>();
  readonly ready: Promise<void>;
  /** The thread's kernel id, once it has started (undefined without `/proc`). */
  tid: number | undefined;
  stopping = false;
  /** Why the thread is ending, when Sluice ends it or it reported an error before exiting. */
  failure = "";

  constructor(data: CodecThreadData, log: Logger, onExit: (thread: CodecThread, reason: string) => void) {
    useDefaultHeapSizingForWorkers();
    turnOffOnStackReplacement();
    this.worker = new Worker(CODEC_THREAD, { workerData: data, env: process.env });
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on("message", (message: FromCodecThread) => {
        switch (message.type) {
          case "ready":
            this.tid = message.tid;
            resolve();
            return;
          case "startup-failed":
            reject(new ConfigError(fromWire(message.error).message));
            return;
          case "log":
            log.write(message.level, message.message, message.fields);
            return;
          default: {
            const invocation = this.active.get(message.id);
            invocation?.receive(message);
            if (invocation?.settled) this.active.delete(message.id);
          }
        }
      });
    });
    // Startup failures are reported through `ready`; keep Node from calling them unhandled.
    this.ready.catch(() => {});
    this.worker.on("error", (error) => {
      this.failure = error.message;
      log.error("a codec thread failed", { reason: error.message, stack: error.stack });
    });
    this.worker.on("exit", (code) => {
      if (this.stopping) return;
      const reason = this.failure || `it exited with code ${code}`;
      for (const invocation of this.active.values()) invocation.threadGone(new WorkerCrashedError(reason));
      this.active.clear();
      onExit(this, reason);
    });
  }

  post(message: ToCodecThread, transfer: MessagePort[] = []): void {
    this.worker.postMessage(message, transfer);
  }
}

/** The pool of codec threads. */
export class CodecThreadPool {
  readonly #threads: CodecThread[] = [];
  readonly #rings = new BodyRingPool();
  readonly #data: CodecThreadData;
  readonly #log: Logger;
  #model: ModelLink | undefined;
  #nextId = 0;

  private constructor(data: CodecThreadData, log: Logger) {
    this.#data = data;
    this.#log = log;
  }

  /** Starts `size` threads and waits until each has loaded the codecs (a plugin that fails is a ConfigError). */
  static async start(size: number, data: CodecThreadData, log: Logger): Promise<CodecThreadPool> {
    const pool = new CodecThreadPool(data, log);
    for (let i = 0; i < size; i++) pool.#threads.push(pool.#spawn());
    try {
      await Promise.all(pool.#threads.map((thread) => thread.ready));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Threads in the pool. */
  get size(): number {
    return this.#threads.length;
  }

  /** Body rings made so far: as many as invocations ever ran at once, however many ran in all. */
  get ringsCreated(): number {
    return this.#rings.created;
  }

  /** The kernel ids of the threads now running (for CPU time by thread). */
  threadIds(): number[] {
    return this.#threads.flatMap((thread) => (thread.tid === undefined ? [] : [thread.tid]));
  }

  #replace(dead: CodecThread, reason: string): void {
    const index = this.#threads.indexOf(dead);
    if (index < 0) return;
    this.#log.warn("replacing a codec thread", { reason });
    this.#threads[index] = this.#spawn();
  }

  /** Ends a stuck thread; its exit fails what it was running and replaces it. */
  #endUnresponsive(thread: CodecThread): void {
    if (thread.failure || thread.stopping) return;
    thread.failure = `it did not stop an invocation within ${UNRESPONSIVE_AFTER_MS / 1000} s of being asked (a decoder or encoder in an endless loop?)`;
    this.#log.error("a codec thread is stuck; ending it", { reason: thread.failure, invocations: thread.active.size });
    void thread.worker.terminate();
  }

  /** A new thread, linked to the model when one is attached. */
  #spawn(): CodecThread {
    const thread = new CodecThread(this.#data, this.#log, (dead, reason) => this.#replace(dead, reason));
    this.#link(thread);
    return thread;
  }

  #link(thread: CodecThread): void {
    if (!this.#model) return;
    const port = this.#model.connect();
    thread.post({ type: "model", signature: this.#model.signature, inference: port }, [port]);
  }

  /** Connects every thread (and every later replacement) to a loaded model. */
  attachModel(model: ModelLink): void {
    this.#model = model;
    for (const thread of this.#threads) this.#link(thread);
  }

  /**
   * Starts an invocation on the least busy thread, passing over threads slow to stop an invocation
   * (perhaps stuck) while another is free of them.
   */
  invoke(
    job: InvocationJob,
    body: AsyncIterable<Uint8Array> | FedBody,
    signal: AbortSignal | undefined,
    bodyIdleTimeoutMs: number,
  ): RemoteInvocation {
    const suspect = (candidate: CodecThread) => [...candidate.active.values()].some((running) => running.stopping);
    const healthy = this.#threads.filter((candidate) => !suspect(candidate));
    const candidates = healthy.length > 0 ? healthy : this.#threads;
    let thread = candidates[0];
    for (const candidate of candidates) if (candidate.active.size < thread.active.size) thread = candidate;
    const rings = this.#rings;
    const invocation = new RemoteInvocation(
      thread.worker,
      this.#nextId++,
      job,
      body,
      signal,
      bodyIdleTimeoutMs,
      rings.acquire(),
      (ring) => rings.release(ring),
      () => this.#endUnresponsive(thread),
    );
    thread.active.set(invocation.id, invocation);
    return invocation;
  }

  /** How many threads run nothing at all. */
  idleThreads(): number {
    let idle = 0;
    for (const thread of this.#threads) if (thread.active.size === 0) idle++;
    return idle;
  }

  /** Threads the invocations other than a body's own `ownParts` (running) leave free. */
  #spareThreads(ownParts: number): number {
    let running = 0;
    for (const thread of this.#threads) running += thread.active.size;
    return this.#threads.length - (running - ownParts);
  }

  /**
   * Starts an invocation whose body is cut at record ends (found by `scanner`) into parts of about
   * `partBytes`, each run on the least busy thread, while threads are left to it (see `split-invocation.ts`).
   */
  invokeInParts(
    job: InvocationJob,
    body: AsyncIterable<Uint8Array>,
    signal: AbortSignal | undefined,
    bodyIdleTimeoutMs: number,
    scanner: RecordBoundaryScanner,
    partBytes: number,
  ): SplitInvocation {
    // The whole body's limit is kept by the split, which sees every byte; a part's would be its own.
    const partJob: InvocationJob = { ...job, maxBodyBytes: undefined };
    return new SplitInvocation(body, scanner, {
      partBytes,
      maxBodyBytes: job.maxBodyBytes,
      bodyIdleTimeoutMs,
      // Worth cutting while the other invocations leave at least two threads (the part's and another).
      mayCut: (running) => this.#spareThreads(running) >= 2,
      // Two parts for each spare thread keep them all busy while the body arrives faster than they decode
      // it; the next part waits (and the body with it) until one is read to its end. That bounds the body
      // bytes waiting in rings, and the answers waiting for a reader, to two parts per thread (a client
      // that stops reading stops the body), and keeps the last part as short as the others.
      mayStart: (running, unread) => unread < Math.max(1, 2 * this.#spareThreads(running)),
      startPart: (fed) => this.invoke(partJob, fed, signal, bodyIdleTimeoutMs),
    });
  }

  /** Stops every thread. */
  async close(): Promise<void> {
    await Promise.all(
      this.#threads.map((thread) => {
        thread.stopping = true;
        return thread.worker.terminate();
      }),
    );
  }
}
