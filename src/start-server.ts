/**
 * Starts the server: loads the codecs, starts listening at once (so /ping answers while the model
 * loads in the background) and stops gracefully.
 */
import type { AddressInfo } from "node:net";
import type { ServerType } from "@hono/node-server";
import { createCodecRegistry } from "./codec/plugin-loader.js";
import { acceptingThreads, type Config, describeConfiguration } from "./config.js";
import { ConfigError } from "./errors.js";
import { createApp } from "./http-routes.js";
import { createHttpServer } from "./http-server.js";
import { InvocationService } from "./invocation-service.js";
import type { LogFields, Logger } from "./log.js";
import { Metrics } from "./metrics.js";

/** A listening server. */
export interface RunningServer {
  readonly service: InvocationService;
  readonly server: ServerType;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Resolves when the model has loaded; rejects with the reason it could not. */
  readonly modelLoaded: Promise<void>;
  /** Stops accepting connections, waits for in-flight requests, releases the model. */
  close(): Promise<void>;
}

/**
 * Codec threads from which one-record bodies served by the main thread alone leave most of the instance
 * idle. On 2 cores the main thread's ceiling is about what the cores give anyway (codec threads serving
 * their own connections measured slower there: see the README's _Threads_).
 */
const SINGLE_RECORD_WARNING_THREADS = 4;

/**
 * Why one-record bodies will not use the cores the server has, as the fields of a start-up warning, or
 * undefined when they will. With `SAGEMAKER_BATCH_STRATEGY=SINGLE_RECORD` every body is small, and where
 * the main thread accepts connections it decodes, runs and encodes each small body itself: one thread's
 * worth of requests (4–7 k a second) on any instance, where the classic container's workers add up with
 * the cores.
 */
export function singleRecordCeiling(config: Config, codecThreads: number): LogFields | undefined {
  if (
    config.batchStrategy !== "SINGLE_RECORD" ||
    acceptingThreads(config, codecThreads) !== "main" ||
    config.smallBodyBytes === 0
  ) {
    return undefined;
  }
  if (codecThreads < SINGLE_RECORD_WARNING_THREADS) return undefined;
  return {
    reason:
      "SAGEMAKER_BATCH_STRATEGY=SINGLE_RECORD: each body up to SLUICE_SMALL_BODY_BYTES is decoded, run and encoded on the main thread, about 4-7 k requests a second however many cores",
    instead:
      "SLUICE_ACCEPT=every-thread serves them on every codec thread; BatchStrategy=MultiRecord sends many records a body",
    codec_threads: codecThreads,
  };
}

/** Loads codecs, binds the port and starts loading the model. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const registry = await createCodecRegistry({ plugins: config.plugins, env: config.codecEnv });
  const service = new InvocationService(config, registry, log);
  const metrics = config.metrics ? new Metrics() : undefined;
  metrics?.watchThreads(() => service.threadIds());
  service.onModelLoaded = (state, modelFile) => {
    const { inputs, outputs } = state.model.signature;
    metrics?.modelLoaded(
      {
        backend: state.model.kind,
        model: modelFile,
        inputs: inputs.map((t) => `${t.name}:${t.type}`).join(","),
        outputs: outputs.map((t) => `${t.name}:${t.type}`).join(","),
        sessions: String(state.sessions),
        intra_op_threads: String(state.model.intraOpThreads ?? ""),
      },
      state.gate,
    );
  };
  const app = createApp(service, log, metrics);
  const { server, stop, stopAccepting } = createHttpServer(app, log);
  await new Promise<void>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => {
      const reason = error.code === "EADDRINUSE" ? "is already in use" : `cannot be bound (${error.message})`;
      reject(new ConfigError(`port ${config.port} ${reason} (SAGEMAKER_BIND_TO_PORT / --port)`));
    };
    server.once("error", fail);
    server.listen(config.port, () => {
      server.off("error", fail);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info("listening", {
    port,
    codecs: registry.codecs.map((codec) => codec.name).join(","),
    metrics: metrics ? "/metrics" : "off",
  });
  const accept = acceptingThreads(config, service.threads.codecThreads);
  log.info("configuration", {
    settings: describeConfiguration(config),
    measured: {
      cpus: service.resources.cpus,
      memory_mb: Math.round(service.resources.memoryBytes / 2 ** 20),
      codec_threads: service.threads.codecThreads,
      inference_threads: service.threads.inferenceThreads,
      accepting_threads: accept,
    },
  });
  const ceiling = singleRecordCeiling(config, service.threads.codecThreads);
  if (ceiling) log.warn("one-record bodies will use one core of this instance", ceiling);
  // The codec threads then take the connections; the main thread keeps those it accepted before.
  if (accept === "every-thread") service.acceptOnCodecThreads(server, metrics, stopAccepting);
  const modelLoaded = service.load().then(() => undefined);
  // Failures are reported through `modelLoaded` and the 503 answers; keep Node from calling them unhandled.
  modelLoaded.catch(() => {});
  return {
    service,
    server,
    port,
    modelLoaded,
    async close() {
      await Promise.all([stop(), service.stopAccepting()]);
      await modelLoaded.catch(() => {});
      await service.close();
    },
  };
}
