/**
 * One invocation as the thread that started it (the main thread, or a codec thread that cut a body it
 * accepted into parts) sees it while a codec thread runs it: the request body is copied into a ring of
 * shared memory ({@link BodyPump}; the ring is reused as the pipeline releases it, and lent back to the
 * next invocation once the codec thread is done with it); the answer comes back as an async generator
 * that acknowledges each chunk it hands out. A client that stops reading thus stops the codec thread,
 * which stops releasing the ring, which stops the starting thread reading the body.
 */
import { BodyIdleTimeoutError, ClientClosedRequestError, type SluiceError } from "../errors.js";
import { BodyPump } from "./body-pump.js";
import { fromWire, toWire } from "./error-transport.js";
import type { FromRunner, ToRunner } from "./invocation-runner.js";
import type { InvocationJob, StatsSnapshot } from "./messages.js";

/** Counters of an invocation, as last reported by its codec thread. */
export interface InvocationStats extends StatsSnapshot {
  /** Parts the body was run as, when it was cut into several (`split-invocation.ts`). */
  readonly parts?: number;
}

type Settlement = { readonly type: "done" } | { readonly type: "failed"; readonly error: SluiceError };

/**
 * A body some other pump writes into the invocation's ring (one part of a body cut into parts): it is
 * woken, as the invocation's own pump would be, when the ring has room and when the invocation settles.
 */
export interface FedBody {
  wake(): void;
}

const isFed = (body: AsyncIterable<Uint8Array> | FedBody): body is FedBody => !(Symbol.asyncIterator in body);

/**
 * How long a codec thread may take to end an invocation it was asked to stop. Every step of an
 * invocation is bounded (64 KiB of body, one batch), so a thread that has not answered by then is stuck
 * (a decoder in an endless loop) and will never run anything again.
 */
export const UNRESPONSIVE_AFTER_MS = 10_000;

/** Where an invocation's messages go: the codec thread's `Worker`, or a port to it. */
export interface RunnerPort {
  postMessage(message: ToRunner, transfer?: readonly ArrayBuffer[]): void;
}

/** The starting thread's handle on an invocation running in a codec thread. */
export class RemoteInvocation {
  stats: InvocationStats = {
    bytesIn: 0,
    bytesOut: 0,
    records: 0,
    failedRecords: 0,
    batches: 0,
    stageMs: {},
  };
  /** The answer, chunk by chunk; throws the invocation's error. */
  readonly output: AsyncGenerator<Uint8Array>;
  readonly #answers: Uint8Array[] = [];
  #settlement: Settlement | undefined;
  #wakeReader: (() => void) | undefined;
  readonly #ring: SharedArrayBuffer;
  /** Called with the ring once the codec thread has said the invocation is over; cleared once called. */
  #returnRing: ((ring: SharedArrayBuffer) => void) | undefined;
  readonly #bodyPump: BodyPump | FedBody;
  /** Removes the listener on the caller's abort signal. */
  #forgetSignal: (() => void) | undefined;
  /** Set once the codec thread has reported the invocation over (done or failed). */
  #threadFinished = false;
  /** Armed when the invocation is aborted; cleared when the codec thread reports it over. */
  #unresponsive: NodeJS.Timeout | undefined;

  /**
   * @param ring The body's ring, unused by any thread, counters at zero.
   * @param returnRing Takes the ring back once the codec thread reports the invocation over (after it has
   *   closed its reader), which a failure on this side (an idle body) waits for. Never called for a codec
   *   thread that crashed: its rings are left to the collector.
   * @param onUnresponsive Called when the codec thread has not ended the invocation
   *   {@link UNRESPONSIVE_AFTER_MS} after being asked to: the thread is stuck.
   */
  constructor(
    private readonly runner: RunnerPort,
    readonly id: number,
    job: InvocationJob,
    body: AsyncIterable<Uint8Array> | FedBody,
    signal: AbortSignal | undefined,
    bodyIdleTimeoutMs: number,
    ring: SharedArrayBuffer,
    returnRing: (ring: SharedArrayBuffer) => void,
    private readonly onUnresponsive: () => void,
  ) {
    this.#ring = ring;
    this.#returnRing = returnRing;
    this.#post({ type: "start", id, job, ring });
    this.output = this.#read();
    this.#bodyPump = isFed(body)
      ? body
      : new BodyPump(
          ring,
          body,
          {
            settled: () => this.settled,
            wakeReader: () => this.wakeReader(),
            bodyIdle: () => {
              const error = new BodyIdleTimeoutError(bodyIdleTimeoutMs / 1000);
              this.abort(error);
              // The slot is freed now; the client gets the 408 if it is still listening.
              this.fail(error);
            },
            bodyBroken: (reason) => {
              this.abort(reason);
              // A client that went away is reported by the abort signal too; one whose body broke is
              // still there to read the refusal.
              if (!(reason instanceof ClientClosedRequestError)) this.fail(reason);
            },
          },
          bodyIdleTimeoutMs,
        );
    if (signal) {
      const onAbort = () => this.abort(new ClientClosedRequestError());
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        // A signal may outlive the invocation (a transform job's, shared by a file's mini-batches): a
        // listener left behind would keep the invocation alive until the signal goes.
        this.#forgetSignal = () => signal.removeEventListener("abort", onAbort);
      }
    }
  }

  /** True while the codec thread has been asked to stop the invocation and has not yet reported it over. */
  get stopping(): boolean {
    return this.#unresponsive !== undefined && !this.#threadFinished;
  }

  /** True once the codec thread has finished (or failed) the invocation. */
  get settled(): boolean {
    return this.#settlement !== undefined;
  }

  /** The shared memory the invocation's body arrives in. */
  get ring(): SharedArrayBuffer {
    return this.#ring;
  }

  /** True once the invocation has failed. */
  get failed(): boolean {
    return this.#settlement?.type === "failed";
  }

  /** Body bytes (or the body's end) are in the ring, and the codec thread said it was waiting for them. */
  wakeReader(): void {
    this.#post({ type: "wake", id: this.id });
  }

  #post(message: ToRunner): void {
    this.runner.postMessage(message);
  }

  /** Handles a message the codec thread sent about this invocation. */
  receive(message: FromRunner): void {
    switch (message.type) {
      case "room":
        this.#wakeUp();
        return;
      case "output":
        this.stats = message.stats;
        this.#answers.push(message.bytes);
        this.#wakeUp();
        return;
      case "done":
        this.stats = message.stats;
        if (message.bytes) this.#answers.push(message.bytes);
        this.#settle({ type: "done" });
        this.#threadDone();
        return;
      case "failed":
        this.stats = message.stats;
        this.#settle({ type: "failed", error: fromWire(message.error) });
        this.#threadDone();
        return;
    }
  }

  #threadDone(): void {
    this.#threadFinished = true;
    clearTimeout(this.#unresponsive);
    this.#giveBackRing();
  }

  /**
   * The codec thread has closed its reader; the pump, woken by the settlement, writes no more. The ring
   * may serve another invocation.
   */
  #giveBackRing(): void {
    const returnRing = this.#returnRing;
    this.#returnRing = undefined;
    returnRing?.(this.#ring);
  }

  /** Fails the invocation from this side (client gone, codec thread died). */
  fail(error: SluiceError): void {
    this.#settle({ type: "failed", error });
  }

  /** The codec thread is gone: it will report nothing more. */
  threadGone(error: SluiceError): void {
    this.#threadFinished = true;
    clearTimeout(this.#unresponsive);
    this.fail(error);
  }

  /** Asks the codec thread to stop the invocation with `error`, and watches that it does. */
  abort(error: SluiceError): void {
    if (this.#threadFinished || this.#unresponsive) return;
    this.#post({ type: "abort", id: this.id, error: toWire(error) });
    this.#unresponsive = setTimeout(() => {
      if (!this.#threadFinished) this.onUnresponsive();
    }, UNRESPONSIVE_AFTER_MS);
    this.#unresponsive.unref();
  }

  #settle(settlement: Settlement): void {
    this.#settlement ??= settlement;
    this.#forgetSignal?.();
    this.#forgetSignal = undefined;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const reader = this.#wakeReader;
    this.#wakeReader = undefined;
    reader?.();
    this.#bodyPump.wake();
  }

  async *#read(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const answer = this.#answers.shift();
        if (answer) {
          // A thread that has finished produces no more: it needs no credit back.
          if (!this.#threadFinished) this.#post({ type: "ack", id: this.id, bytes: answer.byteLength });
          yield answer;
          continue;
        }
        const settlement = this.#settlement;
        if (settlement?.type === "done") return;
        if (settlement?.type === "failed") throw settlement.error;
        await new Promise<void>((resolve) => {
          this.#wakeReader = resolve;
        });
      }
    } finally {
      // The reader stopped early (a failure on this side, or the client left): stop the codec thread.
      // (Checked first: the error's stack is not free, and most answers end with the thread done.)
      if (!this.#threadFinished) this.abort(new ClientClosedRequestError());
    }
  }
}
