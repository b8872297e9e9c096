/**
 * The running side of invocations that another thread started on this codec thread: the main thread's,
 * when it hands a body over, and (with `SLUICE_ACCEPT=every-thread`) another codec thread's, when it cuts
 * a body it accepted into parts. The body arrives in a ring of shared memory; the answer goes back chunk
 * by chunk, within a window of unacknowledged bytes, over the port the invocation came in on.
 */
import type { CodecRegistry } from "../codec/registry.js";
import { SluiceError } from "../errors.js";
import type { Logger } from "../log.js";
import { PipelineStats } from "../pipeline.js";
import { ChunkQueue } from "./chunk-queue.js";
import { fromWire, toWire } from "./error-transport.js";
import { runJob, type ThreadModel } from "./job-pipeline.js";
import type { FromCodecThread, InvocationJob, StatsSnapshot, ToCodecThread } from "./messages.js";

/** The messages that start and steer an invocation on a codec thread. */
export type ToRunner = Extract<ToCodecThread, { type: "start" | "wake" | "abort" | "ack" }>;
/** The messages a codec thread sends about an invocation it runs. */
export type FromRunner = Extract<FromCodecThread, { type: "room" | "output" | "done" | "failed" }>;

/** Answer bytes a codec thread may have sent ahead of what the other side has passed on. */
const OUTPUT_WINDOW_BYTES = 2 * 2 ** 20;

/** Waits while more than the window of answer bytes is unacknowledged. */
class OutputCredit {
  #unacknowledged = 0;
  #wake: (() => void) | undefined;

  async spend(bytes: number): Promise<void> {
    while (this.#unacknowledged > OUTPUT_WINDOW_BYTES) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    this.#unacknowledged += bytes;
  }

  refund(bytes: number): void {
    this.#unacknowledged -= bytes;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

interface ActiveInvocation {
  readonly body: ChunkQueue;
  readonly abort: AbortController;
  readonly credit: OutputCredit;
}

const snapshot = (stats: PipelineStats, final = false): StatsSnapshot => ({
  bytesIn: stats.bytesIn,
  bytesOut: stats.bytesOut,
  records: stats.records,
  failedRecords: stats.failedRecords,
  firstFailure: final ? stats.firstFailure : undefined,
  batches: stats.batches,
  stageMs: { ...stats.stageMs },
  batchRows: final ? stats.batchRows : undefined,
  lineFeeds: final ? stats.lineFeeds : undefined,
});

/** Bytes that can be transferred (moved) rather than copied to the other thread. */
function ownedBytes(chunk: Uint8Array): Uint8Array {
  return chunk.byteOffset === 0 &&
    chunk.byteLength === chunk.buffer.byteLength &&
    !(chunk.buffer instanceof SharedArrayBuffer)
    ? chunk
    : chunk.slice();
}

/** Runs the invocations one other thread starts here, answering over `post`. */
export class InvocationRunner {
  readonly #invocations = new Map<number, ActiveInvocation>();

  constructor(
    private readonly post: (message: FromRunner, transfer?: ArrayBuffer[]) => void,
    private readonly registry: CodecRegistry,
    private readonly model: () => ThreadModel | undefined,
    private readonly log: Logger,
    /** Called as an invocation starts and as it ends (for the threads' shared counts of busy threads). */
    private readonly onRunning: (change: 1 | -1) => void = () => {},
  ) {}

  /** Takes a message from the thread that started the invocation. */
  receive(message: ToRunner): void {
    switch (message.type) {
      case "start":
        this.#start(message);
        return;
      case "wake":
        this.#invocations.get(message.id)?.body.wake();
        return;
      case "abort": {
        const invocation = this.#invocations.get(message.id);
        if (invocation) this.#abort(invocation, fromWire(message.error));
        return;
      }
      case "ack":
        this.#invocations.get(message.id)?.credit.refund(message.bytes);
        return;
    }
  }

  /** Stops every invocation running here: the thread that started them is gone, and will send no more. */
  stopAll(error: SluiceError): void {
    for (const invocation of this.#invocations.values()) this.#abort(invocation, error);
  }

  #abort(invocation: ActiveInvocation, error: Error): void {
    invocation.abort.abort(error);
    invocation.body.fail(error);
    invocation.credit.refund(Number.POSITIVE_INFINITY);
  }

  #start({ id, job, ring }: Extract<ToRunner, { type: "start" }>): void {
    const model = this.model();
    if (!model) {
      const error = toWire(new Error("no model attached to this codec thread"));
      this.post({ type: "failed", id, error, stats: snapshot(new PipelineStats()) });
      return;
    }
    const invocation: ActiveInvocation = {
      body: new ChunkQueue(ring, () => this.post({ type: "room", id })),
      abort: new AbortController(),
      credit: new OutputCredit(),
    };
    this.#invocations.set(id, invocation);
    this.onRunning(1);
    this.#run(id, job, invocation, model).finally(() => {
      this.#invocations.delete(id);
      this.onRunning(-1);
    });
  }

  async #run(id: number, job: InvocationJob, invocation: ActiveInvocation, model: ThreadModel): Promise<void> {
    const stats = new PipelineStats();
    const post = this.post;
    try {
      const answer = runJob(job, invocation.body, this.registry, model, invocation.abort.signal, stats);
      const send = async (chunk: Uint8Array) => {
        await invocation.credit.spend(chunk.byteLength);
        const bytes = ownedBytes(chunk);
        post({ type: "output", id, bytes, stats: snapshot(stats) }, [bytes.buffer as ArrayBuffer]);
      };
      // Once the whole body is in, the answer's chunks come without waiting on the client: each is held
      // until the next, so the last travels with "done" (one message fewer for the other thread to wake
      // for, and no acknowledgement back: for a one-record body, a fifth of the messages it cost).
      let held: Uint8Array | undefined;
      for await (const chunk of answer) {
        if (chunk.byteLength === 0) continue;
        if (held) await send(held);
        held = undefined;
        if (invocation.body.drained) held = chunk;
        else await send(chunk);
      }
      invocation.body.close();
      const last = held && ownedBytes(held);
      post({ type: "done", id, bytes: last, stats: snapshot(stats, true) }, last ? [last.buffer as ArrayBuffer] : []);
    } catch (cause) {
      invocation.body.close();
      const error = invocation.abort.signal.aborted ? invocation.abort.signal.reason : cause;
      const wire = toWire(error);
      if (!(error instanceof SluiceError)) {
        this.log.error("invocation failed unexpectedly", { reason: wire.message, stack: wire.stack });
      }
      post({ type: "failed", id, error: wire, stats: snapshot(stats, true) });
    }
  }
}
