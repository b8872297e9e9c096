/**
 * A codec thread's own HTTP server (`SLUICE_ACCEPT=every-thread`). With it, the connections a codec thread
 * accepts are served end to end on that thread: the same routes as the main thread's (`http-routes.ts`),
 * each body read off the socket and run through the same pipeline as a body handed over by the main
 * thread, its answer written straight back. No one thread receives every body, so records/s can grow
 * with the cores past what one thread can take in.
 *
 * What must stay global stays on the main thread: the gate (a free slot is taken here atomically; a full
 * gate queues the invocation there, in arrival order with every other), the metrics (each invocation's
 * counts are posted there, and a `/metrics` scrape is answered from there), the log (posted, as every
 * thread's lines are) and the service's state (`/ping` answers from the state the main thread last sent).
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import type { Backend } from "../backends/backend.js";
import { MAIN_THREAD_STALL_MS, openMainThreadSession } from "../backends/main-thread-session.js";
import type { CodecRegistry } from "../codec/registry.js";
import { SluiceError, WorkerCrashedError } from "../errors.js";
import type { ExecutionParameters } from "../execution-parameters.js";
import { createApp, errorAnswer, INFERENCE_ID_HEADER, type InvocationFront } from "../http-routes.js";
import { createHttpServer, type HttpServer } from "../http-server.js";
import { SharedAdmission } from "../invocation-gate.js";
import type { InvocationReport } from "../invocation-report.js";
import {
  bodyPartsScanner,
  checkRequest,
  type Invocation,
  type InvocationRequest,
  modelUnavailable,
} from "../invocation-service.js";
import { type LogFields, Logger, type LogLevel } from "../log.js";
import { runOnMainThread } from "../main-thread-invocation.js";
import type { InvocationOutcome, MetricsEndpoint } from "../metrics.js";
import { PENDING_BATCHES_PER_INVOCATION, PipelineStats } from "../pipeline.js";
import { streamedBody } from "../streamed-body.js";
import { fromWire, toWire } from "./error-transport.js";
import { runJob, type ThreadModel } from "./job-pipeline.js";
import type {
  FromCodecThread,
  FrontSettings,
  FrontState,
  InvocationJob,
  LogMessage,
  ToCodecThread,
} from "./messages.js";
import type { PeerThreads } from "./peer-threads.js";
import { invokeInParts, type SplitInvocation } from "./split-invocation.js";

/** The messages from the main thread that concern the front. */
export type ToThreadFront = Extract<
  ToCodecThread,
  { type: "front-state" | "admitted" | "admission-refused" | "metrics-text" }
>;

/** The longest a served invocation's log line and metrics wait to be posted with others'. */
const SERVED_FLUSH_MS = 10;

/**
 * The log lines and metrics of the invocations this thread serves, posted to the main thread a few at a
 * time: one message per invocation would wake the main thread for each (tens of microseconds on both
 * sides, as much as a one-record invocation's own work). A line's time is when the main thread writes it,
 * up to {@link SERVED_FLUSH_MS} later; its `ms` fields are measured here.
 */
class ServedOutbox {
  #lines: LogMessage[] = [];
  #outcomes: InvocationOutcome[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly post: (message: FromCodecThread) => void) {}

  line(line: LogMessage): void {
    this.#lines.push(line);
    this.#timer ??= setTimeout(() => this.flush(), SERVED_FLUSH_MS);
  }

  outcome(outcome: InvocationOutcome): void {
    this.#outcomes.push(outcome);
    this.#timer ??= setTimeout(() => this.flush(), SERVED_FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#lines.length === 0 && this.#outcomes.length === 0) return;
    this.post({ type: "served", lines: this.#lines, outcomes: this.#outcomes });
    this.#lines = [];
    this.#outcomes = [];
  }
}

/** The routes' logger on a codec thread: its lines go through the outbox. */
class OutboxLogger extends Logger {
  constructor(private readonly outbox: ServedOutbox) {
    super();
  }

  override write(level: LogLevel, message: string, fields: LogFields = {}): void {
    this.outbox.line({ type: "log", level, message, fields });
  }
}

interface Pending<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** The routes' service on a codec thread. */
export class ThreadFront implements InvocationFront {
  #state: FrontState;
  #admission: SharedAdmission | undefined;
  /** The model in a session of this thread's own, for small bodies (as the main thread runs them). */
  #ownSession: { readonly backend: Backend; readonly maxBytes: number } | undefined;
  #nextRequest = 0;
  readonly #outbox: ServedOutbox;
  /** The logger of the routes (the invocations' lines), through the outbox. */
  readonly routesLog: Logger;
  readonly #admissions = new Map<number, Pending<void>>();
  readonly #scrapes = new Map<number, Pending<{ text: string; contentType: string }>>();
  /** Sessions being opened or closed (see {@link closeSessions}). */
  readonly #sessionWork = new Set<Promise<unknown>>();
  #sessionsClosed = false;
  /** The `/invocations` exchanges in flight on this thread's connections, by their responses. */
  readonly #open = new Map<ServerResponse, InvocationReport>();

  constructor(
    state: FrontState,
    readonly responseHoldBytes: number,
    private readonly slot: number,
    private readonly registry: CodecRegistry,
    private readonly model: () => ThreadModel | undefined,
    private readonly post: (message: FromCodecThread) => void,
    private readonly log: Logger,
    /** The accepting threads, for large bodies run as parts and for counting what this thread runs. */
    private readonly peers: PeerThreads,
  ) {
    this.#state = state;
    this.#outbox = new ServedOutbox(post);
    this.routesLog = new OutboxLogger(this.#outbox);
    this.update(state);
  }

  opened(report: InvocationReport, outgoing: ServerResponse): void {
    this.#open.set(outgoing, report);
    outgoing.once("close", () => this.#open.delete(outgoing));
  }

  /**
   * The thread is ending: a plugin called `process.exit`, or threw where nothing caught it. This runs in
   * the thread's `exit` event, after which nothing asynchronous runs again, and the thread's sockets close
   * with it. So each request not yet answered gets its `500` written straight to its socket (Node tries a
   * socket write at once; the kernel sends those bytes before the close), and each answer already begun
   * is cut short, as on the main thread. Their log lines and metrics are posted before the thread goes.
   */
  answerAsThreadEnds(reason: string): void {
    const error = new WorkerCrashedError(reason);
    const { status, headers, text } = errorAnswer(error);
    for (const [outgoing, report] of this.#open) {
      const begun = outgoing.headersSent;
      if (!begun) {
        const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`];
        for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
        lines.push(`${INFERENCE_ID_HEADER}: ${report.inferenceId}`, `content-length: ${Buffer.byteLength(text)}`);
        lines.push("connection: close", "", text);
        outgoing.socket?.write(lines.join("\r\n"));
      }
      report.finish(begun ? 200 : status, error, begun ? false : undefined);
    }
    this.#open.clear();
    this.#outbox.flush();
  }

  /** Posts what the outbox holds now (before the thread stops accepting). */
  flush(): void {
    this.#outbox.flush();
  }

  /**
   * Closes this thread's own session, once any being opened is open, before the thread is ended: ONNX
   * Runtime aborts the whole process when a worker ends while one of its sessions is being created.
   */
  async closeSessions(): Promise<void> {
    this.#sessionsClosed = true;
    this.#closeOwnSession();
    while (this.#sessionWork.size > 0) await Promise.all(this.#sessionWork);
  }

  /** Keeps count of a session being opened or closed, until it is. */
  #track(work: Promise<unknown>): void {
    const tracked: Promise<unknown> = work.catch(() => {}).finally(() => this.#sessionWork.delete(tracked));
    this.#sessionWork.add(tracked);
  }

  #closeOwnSession(): void {
    const closing = this.#ownSession;
    this.#ownSession = undefined;
    if (closing) this.#track(closing.backend.close());
  }

  /** The service's state, as the main thread last sent it. */
  update(state: FrontState): void {
    this.#state = state;
    this.#closeOwnSession();
    if (state.model.status !== "ready") return;
    this.#openOwnSession(state.model.settings);
    const { counts, maxRunning } = state.model.settings.gate;
    this.#admission = new SharedAdmission(
      counts,
      maxRunning,
      this.slot,
      (signal) => this.#queue(signal),
      () => this.post({ type: "slot-freed" }),
    );
  }

  #openOwnSession(settings: FrontSettings): void {
    const model = this.model();
    const small = settings.smallBodies;
    if (!model || !small || this.#sessionsClosed) return;
    const opening = openMainThreadSession(small.modelFile, small.rows, model.buffers, {
      backend: model.backend,
      onRetired: (runMs) =>
        this.log.warn("a batch held a codec thread too long; small bodies' batches go to the inference thread", {
          run_ms: Math.round(runMs),
          limit_ms: MAIN_THREAD_STALL_MS,
        }),
    }).then(({ backend, reason }) => {
      this.log.debug("small bodies' batches", { own_session: backend ? "yes" : "no", reason });
      if (!backend) return;
      const current = this.#state.model.status === "ready" && this.#state.model.settings === settings;
      if (current && !this.#sessionsClosed) this.#ownSession = { backend, maxBytes: small.maxBytes };
      else return backend.close();
    });
    this.#track(opening);
  }

  ready(): FrontSettings {
    const { model } = this.#state;
    if (model.status === "ready" && this.model()) return model.settings;
    throw modelUnavailable(model.status === "failed" ? model.reason : undefined);
  }

  executionParameters(): ExecutionParameters {
    return this.#state.executionParameters;
  }

  /** Metrics that live on the main thread. */
  metrics(): MetricsEndpoint {
    return {
      invocation: (outcome: InvocationOutcome) => this.#outbox.outcome(outcome),
      exposition: () =>
        new Promise((resolve, reject) => {
          const request = this.#nextRequest++;
          this.#scrapes.set(request, { resolve, reject });
          this.post({ type: "metrics-wanted", request });
        }),
    };
  }

  /** Takes a message from the main thread. */
  receive(message: ToThreadFront): void {
    switch (message.type) {
      case "front-state":
        this.update(message.state);
        return;
      case "admitted":
        this.#settle(this.#admissions, message.request, undefined);
        return;
      case "admission-refused":
        this.#settle(this.#admissions, message.request, undefined, fromWire(message.error));
        return;
      case "metrics-text":
        this.#settle(this.#scrapes, message.request, { text: message.text, contentType: message.contentType });
        return;
    }
  }

  #settle<T>(pending: Map<number, Pending<T>>, request: number, value: T, error?: Error): void {
    const waiter = pending.get(request);
    if (!waiter) {
      // A slot granted after its client left: give it straight back.
      if (pending === this.#admissions && !error) this.#admission?.give();
      return;
    }
    pending.delete(request);
    if (error) waiter.reject(error);
    else waiter.resolve(value);
  }

  /** Queues for a slot in the main thread's gate; resolves once it is counted for this thread. */
  #queue(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const request = this.#nextRequest++;
      const onAbort = () => {
        this.#admissions.delete(request);
        this.post({ type: "admit-cancelled", request });
        reject(signal?.reason);
      };
      this.#admissions.set(request, {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.post({ type: "admit", request });
    });
  }

  async invoke(request: InvocationRequest): Promise<Invocation> {
    const settings = this.ready();
    const model = this.model() as ThreadModel;
    const limit = settings.maxPayloadBytes;
    const checked = checkRequest(this.registry, request, settings.signature, settings.defaultAccept, limit);
    const { input, output, contentCodings, declared } = checked;
    const waitStarted = performance.now();
    const admitted = await (this.#admission as SharedAdmission).acquire(request.signal);
    const admissionMs = performance.now() - waitStarted;
    const job: InvocationJob = {
      contentCodings,
      maxDecompressionRatio: settings.maxDecompressionRatio,
      input: input.mediaType,
      output: output.mediaType,
      batchRows: settings.batchRows,
      maxBodyBytes: limit,
      recordErrorPolicy: settings.recordErrorPolicy,
      singleRecord: settings.singleRecord,
    };
    const described = (release: () => void) =>
      ({
        inputType: input.mediaType.essence,
        contentType: output.mediaType.essence,
        admissionMs,
        release,
        thread: "codec-accepted",
      }) as const;
    const scanner = bodyPartsScanner(
      this.registry,
      job,
      checked,
      settings.signature,
      settings.partBytes,
      this.peers.idleThreads(),
    );
    if (scanner && request.body instanceof Readable) {
      // Its parts are counted as running by this thread as it starts each, wherever that is.
      let split: SplitInvocation;
      try {
        split = invokeInParts(
          this.peers,
          job,
          request.body,
          request.signal,
          settings.bodyIdleTimeoutMs,
          scanner,
          settings.partBytes,
        );
      } catch (error) {
        admitted();
        throw error;
      }
      return {
        ...described(admitted),
        output: this.#reported(split.output, request.signal),
        get stats() {
          return split.stats;
        },
      };
    }
    this.peers.countRunning(1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.peers.countRunning(-1);
      admitted();
    };
    const own = this.#ownSession;
    if (
      own &&
      declared !== undefined &&
      declared <= own.maxBytes &&
      this.registry.isBuiltIn(input.codec) &&
      this.registry.isBuiltIn(output.codec)
    ) {
      // A small body, read whole and run in this thread's session, as the main thread runs one.
      const small = runOnMainThread(
        request.body,
        {
          signature: settings.signature,
          input,
          output,
          batchRows: job.batchRows,
          maxBodyBytes: limit,
          recordErrorPolicy: job.recordErrorPolicy,
          singleRecord: job.singleRecord,
          signal: request.signal,
          backend: own.backend,
          maxPendingBatches: PENDING_BATCHES_PER_INVOCATION,
          buffers: model.buffers,
        },
        settings.bodyIdleTimeoutMs,
        this.log,
      );
      return { ...described(release), ...small };
    }

    const stats = new PipelineStats();
    const body =
      request.body instanceof Readable ? streamedBody(request.body, settings.bodyIdleTimeoutMs) : request.body;
    const answer = runJob(job, body, this.registry, model, request.signal, stats);
    return { ...described(release), output: this.#reported(answer, request.signal), stats };
  }

  /** The answer, with an unexpected failure (a bug, not a refusal) logged with its stack. */
  async *#reported(answer: AsyncGenerator<Uint8Array>, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
    try {
      yield* answer;
    } catch (error) {
      if (!(error instanceof SluiceError) && !signal?.aborted) {
        const wire = toWire(error);
        this.log.error("invocation failed unexpectedly", { reason: wire.message, stack: wire.stack });
      }
      throw error;
    }
  }
}

/**
 * Whether the thread at `slot` holds more connections than it should: two or more, and at least two
 * more than another accepting thread. The kernel gives each new connection to whichever accepting thread
 * takes it first, and a keep-alive connection then stays with that thread for every request it carries:
 * two busy clients on one thread while another idles would each get half a core. Such a thread answers
 * with `Connection: close`, and the client's next connection goes to a thread that is free to accept it.
 */
function crowded(connections: Int32Array, slot: number): boolean {
  const own = Atomics.load(connections, slot);
  if (own < 2) return false;
  for (let other = 0; other < connections.length; other++) {
    const count = Atomics.load(connections, other);
    if (count >= 0 && count < own - 1) return true;
  }
  return false;
}

/**
 * Serves the routes over `front` on the listening socket `fd`, counting this thread's open connections
 * at `slot` in `connections` (see {@link crowded}).
 */
export async function serveOnThread(
  fd: number,
  front: ThreadFront,
  metrics: boolean,
  connectionCounts: SharedArrayBuffer,
  slot: number,
): Promise<HttpServer> {
  const log = front.routesLog;
  const http = createHttpServer(createApp(front, log, metrics ? front.metrics() : undefined), log);
  const connections = new Int32Array(connectionCounts);
  http.server.on("connection", (socket: Socket) => {
    Atomics.add(connections, slot, 1);
    socket.once("close", () => Atomics.sub(connections, slot, 1));
  });
  // Before the routes' listener, which may answer (a `/ping`) before a later listener runs.
  http.server.prependListener("request", (_request: IncomingMessage, response: ServerResponse) => {
    if (crowded(connections, slot)) response.setHeader("connection", "close");
  });
  await new Promise<void>((resolve, reject) => {
    http.server.once("error", reject);
    http.server.listen({ fd }, () => {
      http.server.off("error", reject);
      Atomics.store(connections, slot, 0);
      resolve();
    });
  });
  return http;
}
