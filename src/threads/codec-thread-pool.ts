/**
 * The codec threads, seen from the main thread: one worker per core by default, each running whole
 * invocations. A new invocation goes to the thread running the fewest; a thread that dies fails only
 * its own invocations (500) and is replaced at once. So is a thread that does not end an invocation it
 * was asked to stop (a plugin's decoder in an endless loop): it would never run anything again.
 */
import type { Server } from "node:net";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { ConfigError, WorkerCrashedError } from "../errors.js";
import type { InvocationGate } from "../invocation-gate.js";
import type { Logger } from "../log.js";
import type { MetricsEndpoint } from "../metrics.js";
import type { ModelSignature } from "../model/signature.js";
import { BodyRingPool } from "./body-ring-pool.js";
import type { CodecThreadData } from "./codec-thread.js";
import { fromWire, toWire } from "./error-transport.js";
import { listeningSocketCopies, type SocketHandle } from "./listening-socket-copies.js";
import type { FromCodecThread, FrontState, InvocationJob, ToCodecThread } from "./messages.js";
import { turnOffOnStackReplacement } from "./on-stack-replacement.js";
import { type FedBody, RemoteInvocation, UNRESPONSIVE_AFTER_MS } from "./remote-invocation.js";
import { RunningCounts } from "./running-counts.js";
import type { PartThreads } from "./split-invocation.js";
import { CODEC_THREAD_RESOURCE_LIMITS, settleWorkerHeapSizing } from "./worker-heap.js";

const CODEC_THREAD = new URL("./codec-thread.js", import.meta.url);

/** How the pool reaches the model: its signature, and for each thread a new port to the session serving its slot. */
export interface ModelLink {
  readonly signature: ModelSignature;
  /** A new port to the model for the thread in `slot`. */
  connect(slot: number): MessagePort;
}

/**
 * What codec threads need to accept connections of their own (`SLUICE_ACCEPT=every-thread`): the main
 * thread's listening socket, its gate, its metrics, and the service's state as it changes.
 */
export interface AcceptLink {
  readonly listening: Server;
  readonly responseHoldBytes: number;
  readonly metrics: MetricsEndpoint | undefined;
  /** The gate, once the model has loaded (queued admissions wait for it). */
  gate(): InvocationGate | undefined;
  state(): FrontState;
  /** A codec thread has begun accepting: the main thread may stop. */
  onAccepting(): void;
}

/** Messages about the connections a codec thread accepts, for the pool. */
type FrontMessage = Extract<
  FromCodecThread,
  {
    type:
      | "accepting"
      | "admit"
      | "admit-cancelled"
      | "slot-freed"
      | "served"
      | "metrics-wanted"
      | "stopped-accepting"
      | "peer-stuck";
  }
>;

/** What the choice of a thread for an invocation looks at. */
export interface ThreadLoad {
  /** The invocations it runs; `stopping` when asked to stop one. */
  readonly active: ReadonlyMap<number, { readonly stopping: boolean }>;
  /** Whether it has started (loaded its modules and codecs). */
  readonly started: boolean;
}

/**
 * The least busy of `threads`, passing over threads slow to stop an invocation (perhaps stuck) while
 * another is free of them; of threads equally busy, one that has started before one still starting
 * (replacing a thread that crashed or was ended). A cold thread loads its modules and codecs first, which
 * on a busy machine took more than a second: a one-record body sent to it right after a stuck thread was
 * replaced timed out while the other thread stood idle.
 */
export function threadForInvocation<Thread extends ThreadLoad>(threads: readonly Thread[]): Thread {
  const suspect = (candidate: Thread) => [...candidate.active.values()].some((running) => running.stopping);
  const healthy = threads.filter((candidate) => !suspect(candidate));
  const candidates = healthy.length > 0 ? healthy : threads;
  let thread = candidates[0];
  for (const candidate of candidates) {
    const fewer = candidate.active.size - thread.active.size;
    if (fewer < 0 || (fewer === 0 && candidate.started && !thread.started)) thread = candidate;
  }
  return thread;
}

/** One codec thread and the invocations it runs. */
class CodecThread {
  readonly worker: Worker;
  readonly active = new Map<number, RemoteInvocation>();
  readonly ready: Promise<void>;
  /** Admissions the thread asked the main thread's gate for and may still cancel, by request. */
  readonly queuedAdmissions = new Map<number, AbortController>();
  /** Whether the thread accepts connections (its heartbeat is then watched). */
  accepting = false;
  /** Resolves when the thread has stopped accepting (or has died), once it was asked to. */
  stoppedAccepting: (() => void) | undefined;
  /** The thread's kernel id, once it has started (undefined without `/proc`). */
  tid: number | undefined;
  /** Whether the thread has started (loaded its modules and codecs) and can take work at once. */
  started = false;
  stopping = false;
  /** Why the thread is ending, when Sluice ends it or it reported an error before exiting. */
  failure = "";

  constructor(
    readonly slot: number,
    data: CodecThreadData,
    log: Logger,
    onExit: (thread: CodecThread, reason: string) => void,
    onFrontMessage: (thread: CodecThread, message: FrontMessage) => void,
  ) {
    settleWorkerHeapSizing(data.acceptsConnections);
    turnOffOnStackReplacement();
    this.worker = new Worker(CODEC_THREAD, {
      workerData: data,
      env: process.env,
      resourceLimits: CODEC_THREAD_RESOURCE_LIMITS,
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on("message", (message: FromCodecThread) => {
        switch (message.type) {
          case "ready":
            this.tid = message.tid;
            this.started = true;
            resolve();
            return;
          case "startup-failed":
            reject(new ConfigError(fromWire(message.error).message));
            return;
          case "log":
            log.write(message.level, message.message, message.fields);
            return;
          case "accepting":
          case "admit":
          case "admit-cancelled":
          case "slot-freed":
          case "served":
          case "metrics-wanted":
          case "stopped-accepting":
          case "peer-stuck":
            onFrontMessage(this, message);
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
      for (const admission of this.queuedAdmissions.values()) admission.abort();
      this.queuedAdmissions.clear();
      this.stoppedAccepting?.();
      onExit(this, reason);
    });
  }

  post(message: ToCodecThread, transfer: MessagePort[] = []): void {
    this.worker.postMessage(message, transfer);
  }
}

/** The pool of codec threads. */
export class CodecThreadPool implements PartThreads {
  readonly #threads: CodecThread[] = [];
  readonly #rings = new BodyRingPool();
  readonly #data: CodecThreadData;
  readonly #log: Logger;
  #model: ModelLink | undefined;
  /** Set once codec threads accept connections; kept while they finish after they stop. */
  #acceptLink: AcceptLink | undefined;
  /** Whether new and replaced threads are to accept connections. */
  #accepting = false;
  /** Whether a thread has begun accepting (the main thread then stops). */
  #someAccepted = false;
  #acceptingStarted: Promise<void> | undefined;
  /** A descriptor of the listening socket that no thread listens on, to make new threads' from. */
  #socketReserve: SocketHandle | undefined;
  /** Each thread's open connections (-1 while it does not accept), shared with the threads. */
  #connections: Int32Array | undefined;
  /** Invocations running on each accepting thread, shared with the threads (see `running-counts.ts`). */
  #running: RunningCounts | undefined;
  /** The body rings each accepting thread has made, shared with the threads; kept over replacements. */
  #ringsMade: Int32Array | undefined;
  /** The threads told to accept, each linked to every other (see `peer-threads.ts`). */
  #peered: CodecThread[] = [];
  /** Each accepting thread's heartbeat count, and the counts seen at the last check. */
  #heartbeats: Int32Array | undefined;
  #heartbeatsSeen: number[] = [];
  #watchdog: NodeJS.Timeout | undefined;
  #nextId = 0;

  private constructor(data: CodecThreadData, log: Logger) {
    this.#data = data;
    this.#log = log;
  }

  /** Starts `size` threads and waits until each has loaded the codecs (a plugin that fails is a ConfigError). */
  static async start(size: number, data: CodecThreadData, log: Logger): Promise<CodecThreadPool> {
    const pool = new CodecThreadPool(data, log);
    for (let i = 0; i < size; i++) pool.#threads.push(pool.#spawn(i));
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

  /**
   * Body rings made so far, by the main thread and by accepting threads for the parts they start: for each
   * of these pools, as many as its invocations that ever ran at once, however many ran in all.
   */
  get ringsCreated(): number {
    let made = this.#rings.created;
    for (const count of this.#ringsMade ?? []) made += count;
    return made;
  }

  /** The kernel ids of the threads now running (for CPU time by thread). */
  threadIds(): number[] {
    return this.#threads.flatMap((thread) => (thread.tid === undefined ? [] : [thread.tid]));
  }

  #replace(dead: CodecThread, reason: string): void {
    const index = this.#threads.indexOf(dead);
    if (index < 0) return;
    this.#log.warn("replacing a codec thread", { reason });
    // The invocations it admitted itself died with it; so did the connections it accepted.
    this.#acceptLink?.gate()?.reclaim(dead.slot);
    if (this.#connections) Atomics.store(this.#connections, dead.slot, -1);
    this.#running?.forget(dead.slot);
    this.#peered = this.#peered.filter((thread) => thread !== dead);
    const thread = this.#spawn(dead.slot);
    this.#threads[index] = thread;
    if (this.#accepting && this.#acceptLink) void this.#acceptOn(thread, this.#acceptLink);
  }

  /** Ends a stuck thread; its exit fails what it was running and replaces it. */
  #endUnresponsive(
    thread: CodecThread,
    failure = `it did not stop an invocation within ${UNRESPONSIVE_AFTER_MS / 1000} s of being asked (a decoder or encoder in an endless loop?)`,
  ): void {
    if (thread.failure || thread.stopping) return;
    thread.failure = failure;
    this.#log.error("a codec thread is stuck; ending it", { reason: thread.failure, invocations: thread.active.size });
    void thread.worker.terminate();
  }

  /** A new thread, linked to the model when one is attached. */
  #spawn(slot: number): CodecThread {
    const thread = new CodecThread(
      slot,
      this.#data,
      this.#log,
      (dead, reason) => this.#replace(dead, reason),
      (from, message) => this.#frontMessage(from, message),
    );
    this.#link(thread);
    return thread;
  }

  /**
   * Has every thread (and every later replacement) accept connections on a descriptor of its own for
   * `link.listening`'s socket, and serve them as the main thread would.
   */
  acceptConnections(link: AcceptLink): Promise<void> {
    this.#acceptLink = link;
    this.#accepting = true;
    const perThread = () => new Int32Array(new SharedArrayBuffer(this.#threads.length * Int32Array.BYTES_PER_ELEMENT));
    this.#connections = perThread().fill(-1);
    this.#running = RunningCounts.create(this.#threads.length);
    this.#ringsMade = perThread();
    this.#heartbeats = perThread();
    this.#watchdog = setInterval(() => this.#checkHeartbeats(), UNRESPONSIVE_AFTER_MS);
    this.#watchdog.unref();
    this.#acceptingStarted = (async () => {
      // One helper process makes the descriptors for every thread, and one kept here to make later
      // threads' from (the main thread's own closes when it stops accepting).
      const threads = [...this.#threads];
      const copies = await this.#socketCopies(link.listening, threads.length + 1);
      if (!copies) return;
      this.#socketReserve = copies[0];
      await Promise.all(threads.map((thread, i) => this.#acceptOn(thread, link, copies[i + 1])));
    })();
    return this.#acceptingStarted;
  }

  async #socketCopies(source: Server | SocketHandle, count: number): Promise<SocketHandle[] | undefined> {
    try {
      return await listeningSocketCopies(source, count);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#log.warn("a codec thread cannot accept connections; the main thread takes them", { reason });
      return undefined;
    }
  }

  async #acceptOn(thread: CodecThread, link: AcceptLink, given?: SocketHandle): Promise<void> {
    const reserve = this.#socketReserve;
    const copy = given ?? (reserve && (await this.#socketCopies(reserve, 1))?.[0]);
    if (!copy) return;
    const started = await thread.ready.then(
      () => true,
      () => false,
    );
    // Stopped meanwhile, or the thread could not start: nobody will listen on the copy.
    if (!this.#accepting || !started || thread.worker.threadId < 0) {
      copy.close();
      return;
    }
    thread.post({
      type: "accept",
      fd: copy.fd,
      slot: thread.slot,
      connections: (this.#connections as Int32Array).buffer as SharedArrayBuffer,
      heartbeats: (this.#heartbeats as Int32Array).buffer as SharedArrayBuffer,
      ringsMade: (this.#ringsMade as Int32Array).buffer as SharedArrayBuffer,
      responseHoldBytes: link.responseHoldBytes,
      metrics: link.metrics !== undefined,
      state: link.state(),
      running: (this.#running as RunningCounts).buffer,
    });
    for (const peer of this.#peered) {
      const { port1, port2 } = new MessageChannel();
      peer.post({ type: "peer", slot: thread.slot, port: port1 }, [port1]);
      thread.post({ type: "peer", slot: peer.slot, port: port2 }, [port2]);
    }
    this.#peered.push(thread);
  }

  /**
   * Ends an accepting thread whose event loop has not turned since the last check: no one else watches the
   * invocations it admitted itself, and a thread stuck for good (a plugin's decoder in an endless loop)
   * would hold its connections, and the `/ping`s on them, forever. Its replacement accepts in its place.
   */
  #checkHeartbeats(): void {
    const beats = this.#heartbeats;
    if (!beats) return;
    for (const thread of this.#threads) {
      const beat = Atomics.load(beats, thread.slot);
      if (thread.accepting && beat === this.#heartbeatsSeen[thread.slot]) {
        this.#endUnresponsive(
          thread,
          `its event loop did not turn for ${UNRESPONSIVE_AFTER_MS / 1000} s while it served connections (a decoder or encoder in an endless loop?)`,
        );
      }
      this.#heartbeatsSeen[thread.slot] = beat;
    }
  }

  /** Tells every accepting thread that the service's state changed (the model loaded, failed, reloads). */
  frontStateChanged(): void {
    if (!this.#acceptLink) return;
    const state = this.#acceptLink.state();
    for (const thread of this.#threads) thread.post({ type: "front-state", state });
  }

  /** Stops the threads accepting; resolves when each has finished its connections' answers. */
  async stopAccepting(): Promise<void> {
    if (!this.#accepting) return;
    await this.#acceptingStarted;
    this.#accepting = false;
    clearInterval(this.#watchdog);
    // Once the threads have closed theirs, no descriptor of the socket is left: it refuses connections.
    this.#socketReserve?.close();
    this.#socketReserve = undefined;
    await Promise.all(
      this.#threads.map(
        (thread) =>
          new Promise<void>((resolve) => {
            thread.stoppedAccepting = resolve;
            thread.post({ type: "stop-accepting" });
          }),
      ),
    );
  }

  #frontMessage(thread: CodecThread, message: FrontMessage): void {
    switch (message.type) {
      case "accepting":
        if (message.error) {
          this.#log.warn("a codec thread could not accept connections", { reason: fromWire(message.error).message });
          return;
        }
        thread.accepting = true;
        this.#heartbeatsSeen[thread.slot] = Number.NaN;
        if (!this.#someAccepted) {
          this.#someAccepted = true;
          this.#log.info("codec threads accept connections; the main thread stops", { threads: this.#threads.length });
          this.#acceptLink?.onAccepting();
        }
        return;
      case "admit": {
        const gate = this.#acceptLink?.gate();
        const cancel = new AbortController();
        thread.queuedAdmissions.set(message.request, cancel);
        const request = message.request;
        const admitted = gate
          ? gate.acquire(cancel.signal, thread.slot)
          : Promise.reject(new Error("the model is not loaded"));
        admitted.then(
          () => {
            thread.queuedAdmissions.delete(request);
            thread.post({ type: "admitted", request });
          },
          (error: unknown) => {
            thread.queuedAdmissions.delete(request);
            if (!cancel.signal.aborted) thread.post({ type: "admission-refused", request, error: toWire(error) });
          },
        );
        return;
      }
      case "admit-cancelled":
        thread.queuedAdmissions.get(message.request)?.abort();
        return;
      case "slot-freed":
        this.#acceptLink?.gate()?.admitWaiting();
        return;
      case "served":
        for (const line of message.lines) this.#log.write(line.level, line.message, line.fields);
        for (const outcome of message.outcomes) this.#acceptLink?.metrics?.invocation(outcome);
        return;
      case "metrics-wanted": {
        const metrics = this.#acceptLink?.metrics;
        const request = message.request;
        metrics?.exposition().then(
          ({ text, contentType }) => thread.post({ type: "metrics-text", request, text, contentType }),
          (error: unknown) =>
            thread.post({ type: "metrics-text", request, text: `# ${String(error)}\n`, contentType: "text/plain" }),
        );
        return;
      }
      case "stopped-accepting":
        thread.accepting = false;
        thread.stoppedAccepting?.();
        return;
      case "peer-stuck": {
        const stuck = this.#threads.find((candidate) => candidate.slot === message.slot);
        if (stuck) this.#endUnresponsive(stuck);
        return;
      }
    }
  }

  #link(thread: CodecThread): void {
    if (!this.#model) return;
    const port = this.#model.connect(thread.slot);
    thread.post({ type: "model", signature: this.#model.signature, inference: port }, [port]);
  }

  /** Connects the threads whose slots `reconnects` picks to the model again (their session was replaced). */
  relink(reconnects: (slot: number) => boolean): void {
    for (const thread of this.#threads) if (reconnects(thread.slot)) this.#link(thread);
  }

  /** Connects every thread (and every later replacement) to a loaded model. */
  attachModel(model: ModelLink): void {
    this.#model = model;
    for (const thread of this.#threads) this.#link(thread);
  }

  /** Starts an invocation on the thread {@link threadForInvocation} picks. */
  invoke(
    job: InvocationJob,
    body: AsyncIterable<Uint8Array> | FedBody,
    signal: AbortSignal | undefined,
    bodyIdleTimeoutMs: number,
  ): RemoteInvocation {
    const thread = threadForInvocation(this.#threads);
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
  spareThreads(ownParts: number): number {
    let running = 0;
    for (const thread of this.#threads) running += thread.active.size;
    return this.#threads.length - (running - ownParts);
  }

  /** Stops every thread. */
  async close(): Promise<void> {
    clearInterval(this.#watchdog);
    await Promise.all(
      this.#threads.map((thread) => {
        thread.stopping = true;
        return thread.worker.terminate();
      }),
    );
  }
}
