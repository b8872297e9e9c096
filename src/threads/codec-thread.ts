/**
 * A codec thread (a worker): it runs whole invocations — framing, decoding, batching, encoding — for the
 * main thread, which only moves bytes between the socket and here. Batches go to the inference thread
 * over the port the main thread hands over once the model is loaded.
 */
import { parentPort, workerData } from "node:worker_threads";
import { BatchBufferPool } from "../batch-buffer-pool.js";
import { createCodecRegistry, type PluginSources } from "../codec/plugin-loader.js";
import type { CodecRegistry } from "../codec/registry.js";
import { SluiceError } from "../errors.js";
import type { HttpServer } from "../http-server.js";
import { PipelineStats } from "../pipeline.js";
import { ChunkQueue } from "./chunk-queue.js";
import { fromWire, toWire } from "./error-transport.js";
import { runJob, type ThreadModel } from "./job-pipeline.js";
import type { FromCodecThread, InvocationJob, StatsSnapshot, ToCodecThread } from "./messages.js";
import { RemoteBackend } from "./remote-backend.js";
import { kernelThreadId } from "./thread-cpu.js";
import { serveOnThread, ThreadFront } from "./thread-front.js";
import { ThreadLogger } from "./thread-logger.js";
import { CODEC_THREAD_NICENESS, lowerThreadPriority } from "./thread-priority.js";

/**
 * What the main thread passes when it starts a codec thread: where its codecs come from, and whether it
 * will accept connections (`SLUICE_ACCEPT=every-thread`).
 */
export interface CodecThreadData extends PluginSources {
  readonly acceptsConnections: boolean;
}

/** How often a thread that accepts connections shows the main thread's watchdog that its event loop turns. */
const HEARTBEAT_MS = 1000;

/** Answer bytes a codec thread may have sent ahead of what the main thread has passed on. */
export const OUTPUT_WINDOW_BYTES = 2 * 2 ** 20;

if (!parentPort) throw new Error("codec-thread.js runs as a worker thread");
const main = parentPort;
const log = new ThreadLogger(main);
const post = (message: FromCodecThread, transfer: ArrayBuffer[] = []) => main.postMessage(message, transfer);

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

/** Bytes that can be transferred (moved) rather than copied to the main thread. */
function ownedBytes(chunk: Uint8Array): Uint8Array {
  return chunk.byteOffset === 0 &&
    chunk.byteLength === chunk.buffer.byteLength &&
    !(chunk.buffer instanceof SharedArrayBuffer)
    ? chunk
    : chunk.slice();
}

async function run(
  id: number,
  job: InvocationJob,
  invocation: ActiveInvocation,
  registry: CodecRegistry,
  model: ThreadModel,
): Promise<void> {
  const stats = new PipelineStats();
  try {
    const answer = runJob(job, invocation.body, registry, model, invocation.abort.signal, stats);
    const send = async (chunk: Uint8Array) => {
      await invocation.credit.spend(chunk.byteLength);
      const bytes = ownedBytes(chunk);
      post({ type: "output", id, bytes, stats: snapshot(stats) }, [bytes.buffer as ArrayBuffer]);
    };
    // Once the whole body is in, the answer's chunks come without waiting on the client: each is held
    // until the next, so the last travels with "done" (one message fewer for the main thread to wake
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
      log.error("invocation failed unexpectedly", { reason: wire.message, stack: wire.stack });
    }
    post({ type: "failed", id, error: wire, stats: snapshot(stats, true) });
  }
}

async function start(data: CodecThreadData): Promise<void> {
  // A thread that accepts connections answers `/ping` on them: it keeps the process's priority, beside
  // the model's threads (below them, a compute-bound model would hold its pings back).
  if (!data.acceptsConnections && !lowerThreadPriority(CODEC_THREAD_NICENESS) && process.platform === "linux") {
    log.warn("could not lower this codec thread's priority: /ping may answer slower while bodies run");
  }
  let registry: CodecRegistry;
  try {
    registry = await createCodecRegistry(data);
  } catch (error) {
    post({ type: "startup-failed", error: toWire(error) });
    return;
  }
  let model: ThreadModel | undefined;
  const invocations = new Map<number, ActiveInvocation>();
  let front: ThreadFront | undefined;
  let server: HttpServer | undefined;
  main.on("message", (message: ToCodecThread) => {
    switch (message.type) {
      case "accept": {
        let fatal: string | undefined;
        process.on("uncaughtExceptionMonitor", (error) => {
          fatal = error.message;
        });
        process.once("exit", (code) => front?.answerAsThreadEnds(fatal ?? `it exited with code ${code}`));
        front = new ThreadFront(
          message.state,
          message.responseHoldBytes,
          message.slot,
          registry,
          () => model,
          post,
          log,
        );
        serveOnThread(message.fd, front, message.metrics, message.connections, message.slot).then(
          (listening) => {
            server = listening;
            const heartbeats = new Int32Array(message.heartbeats);
            setInterval(() => Atomics.add(heartbeats, message.slot, 1), HEARTBEAT_MS).unref();
            post({ type: "accepting" });
          },
          (error: unknown) => post({ type: "accepting", error: toWire(error) }),
        );
        return;
      }
      case "stop-accepting": {
        const stopping = server;
        server = undefined;
        (stopping?.stop() ?? Promise.resolve())
          .then(() => front?.closeSessions())
          .finally(() => {
            front?.flush();
            post({ type: "stopped-accepting" });
          });
        return;
      }
      case "front-state":
      case "admitted":
      case "admission-refused":
      case "metrics-text":
        front?.receive(message);
        return;
      case "model": {
        model?.backend.close();
        const buffers = new BatchBufferPool(message.signature);
        const port = message.inference;
        model = { signature: message.signature, backend: new RemoteBackend(port, message.signature, buffers), buffers };
        return;
      }
      case "start": {
        const invocation: ActiveInvocation = {
          body: new ChunkQueue(message.ring, () => post({ type: "room", id: message.id })),
          abort: new AbortController(),
          credit: new OutputCredit(),
        };
        invocations.set(message.id, invocation);
        if (!model) {
          post({
            type: "failed",
            id: message.id,
            error: toWire(new Error("no model attached to this codec thread")),
            stats: snapshot(new PipelineStats()),
          });
          invocations.delete(message.id);
          return;
        }
        run(message.id, message.job, invocation, registry, model).finally(() => invocations.delete(message.id));
        return;
      }
      case "wake":
        invocations.get(message.id)?.body.wake();
        return;
      case "abort": {
        const invocation = invocations.get(message.id);
        if (!invocation) return;
        const error = fromWire(message.error);
        invocation.abort.abort(error);
        invocation.body.fail(error);
        invocation.credit.refund(Number.POSITIVE_INFINITY);
        return;
      }
      case "ack":
        invocations.get(message.id)?.credit.refund(message.bytes);
        return;
    }
  });
  post({ type: "ready", tid: kernelThreadId() });
}

await start(workerData as CodecThreadData);
