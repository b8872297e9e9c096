/**
 * Starts the server: loads the codecs, starts listening at once (so /ping answers while the model
 * loads in the background) and stops gracefully.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer, type ServerType } from "@hono/node-server";
import { createCodecRegistry } from "./codec/plugin-loader.js";
import { type Config, describeConfiguration } from "./config.js";
import { ConfigError } from "./errors.js";
import { createApp } from "./http-routes.js";
import { InvocationService } from "./invocation-service.js";
import type { Logger } from "./log.js";
import { Metrics } from "./metrics.js";
import { answerProtocolErrorsInJson, trackResponses } from "./protocol-errors.js";

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
      },
      state.gate,
    );
  };
  const app = createApp(service, log, metrics);
  const server = createAdaptorServer({
    fetch: app.fetch,
    // HTTP/1.0 clients may leave Host out; the routes do not depend on it.
    hostname: "localhost",
    // Node cuts a request whose body has not fully arrived 300 s after it began (`requestTimeout`). A body
    // streams at the pace the model answers it, so a large or slow one legitimately takes longer (the
    // platform waits up to InvocationsTimeoutInSeconds, 3600 s at most); stalled uploads are cut by
    // SLUICE_BODY_IDLE_TIMEOUT_S instead, which measures silence, not length.
    serverOptions: { requireHostHeader: false, requestTimeout: 0 },
    // Sluice drains refused bodies itself, with a larger bound (see request-drain.ts).
    autoCleanupIncoming: false,
  }) as Server;
  const inFlight = trackResponses(server);
  answerProtocolErrorsInJson(server, inFlight, log);
  let stopping = false;
  server.on("request", (_request: IncomingMessage, response: ServerResponse) => {
    // While stopping, every answer closes its connection, so no idle keep-alive socket delays the exit.
    if (stopping) response.setHeader("connection", "close");
  });
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
  log.info("configuration", {
    settings: describeConfiguration(config),
    measured: {
      cpus: service.resources.cpus,
      memory_mb: Math.round(service.resources.memoryBytes / 2 ** 20),
      codec_threads: service.threads.codecThreads,
      inference_threads: service.threads.inferenceThreads,
    },
  });
  const modelLoaded = service.load().then(() => undefined);
  // Failures are reported through `modelLoaded` and the 503 answers; keep Node from calling them unhandled.
  modelLoaded.catch(() => {});
  return {
    service,
    server,
    port,
    modelLoaded,
    async close() {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections would otherwise wait out their timeout; close them now and as
      // in-flight answers finish.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      await closed;
      clearInterval(sweep);
      await modelLoaded.catch(() => {});
      await service.close();
    },
  };
}
