/**
 * A codec thread (a worker): it runs whole invocations — framing, decoding, batching, encoding — for the
 * main thread, which only moves bytes between the socket and here. Batches go to the inference thread
 * over the port the main thread hands over once the model is loaded. With `SLUICE_ACCEPT=every-thread` it
 * also accepts connections and serves them itself (`thread-front.ts`), and runs parts of the bodies other
 * accepting threads cut (`peer-threads.ts`).
 */
import { parentPort, workerData } from "node:worker_threads";
import { BatchBufferPool } from "../batch-buffer-pool.js";
import { createCodecRegistry, type PluginSources } from "../codec/plugin-loader.js";
import type { CodecRegistry } from "../codec/registry.js";
import type { HttpServer } from "../http-server.js";
import { toWire } from "./error-transport.js";
import { InvocationRunner } from "./invocation-runner.js";
import type { ThreadModel } from "./job-pipeline.js";
import type { FromCodecThread, ToCodecThread } from "./messages.js";
import { PeerThreads } from "./peer-threads.js";
import { RemoteBackend } from "./remote-backend.js";
import { kernelThreadId } from "./thread-cpu.js";
import type { ThreadFront } from "./thread-front.js";
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

if (!parentPort) throw new Error("codec-thread.js runs as a worker thread");
const main = parentPort;
const log = new ThreadLogger(main);
const post = (message: FromCodecThread, transfer: ArrayBuffer[] = []) => main.postMessage(message, transfer);

async function start(data: CodecThreadData): Promise<void> {
  // A thread that accepts connections answers `/ping` on them: it keeps the process's priority, beside
  // the model's threads (below them, a compute-bound model would hold its pings back).
  if (!data.acceptsConnections && !lowerThreadPriority(CODEC_THREAD_NICENESS) && process.platform === "linux") {
    log.warn("could not lower this codec thread's priority: /ping may answer slower while bodies run");
  }
  let registry: CodecRegistry;
  let frontModule: typeof import("./thread-front.js") | undefined;
  try {
    registry = await createCodecRegistry(data);
    // The HTTP front (the routes, hono, the metrics) only for a thread that will accept connections: in
    // a thread that never does, it was ~5 MB of its ~27 MB at rest.
    if (data.acceptsConnections) frontModule = await import("./thread-front.js");
  } catch (error) {
    post({ type: "startup-failed", error: toWire(error) });
    return;
  }
  let model: ThreadModel | undefined;
  const fromMain = new InvocationRunner(post, registry, () => model, log);
  let front: ThreadFront | undefined;
  let peers: PeerThreads | undefined;
  let server: HttpServer | undefined;
  main.on("message", (message: ToCodecThread) => {
    switch (message.type) {
      case "accept": {
        if (!frontModule) {
          post({
            type: "accepting",
            error: toWire(new Error("this codec thread was started not to accept connections")),
          });
          return;
        }
        const { serveOnThread, ThreadFront } = frontModule;
        let fatal: string | undefined;
        process.on("uncaughtExceptionMonitor", (error) => {
          fatal = error.message;
        });
        process.once("exit", (code) => front?.answerAsThreadEnds(fatal ?? `it exited with code ${code}`));
        const linked = new PeerThreads(
          message.slot,
          message.running,
          message.ringsMade,
          (reply) =>
            new InvocationRunner(
              (answer, transfer) => reply.postMessage(answer, transfer),
              registry,
              () => model,
              log,
            ),
          (slot) => post({ type: "peer-stuck", slot }),
        );
        peers = linked;
        front = new ThreadFront(
          message.state,
          message.responseHoldBytes,
          message.slot,
          registry,
          () => model,
          post,
          log,
          linked,
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
      case "peer":
        peers?.add(message.slot, message.port);
        return;
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
      case "start":
      case "wake":
      case "abort":
      case "ack":
        fromMain.receive(message);
        return;
    }
  });
  post({ type: "ready", tid: kernelThreadId() });
}

await start(workerData as CodecThreadData);
