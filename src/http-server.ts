/**
 * Node's HTTP server around the routes, as every thread that accepts connections runs it: the main
 * thread, and with `SLUICE_ACCEPT=every-thread` each codec thread too.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Server as NetServer } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { Hono } from "hono";
import type { Logger } from "./log.js";
import { answerProtocolErrorsInJson, trackResponses } from "./protocol-errors.js";

/** A server and how to stop it. */
export interface HttpServer {
  readonly server: Server;
  /**
   * Stops accepting connections; each open one is closed after its next answer (so that the client opens
   * a new one, which another thread accepts), or when idle for Node's keep-alive timeout.
   */
  stopAccepting(): void;
  /**
   * Stops accepting connections; every answer from then on closes its connection, and idle keep-alive
   * ones are closed at once. Resolves when the last connection has closed.
   */
  stop(): Promise<void>;
}

/** The server for `app` (not yet listening). */
export function createHttpServer(app: Hono, log: Logger): HttpServer {
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
  // Before the routes' listener, which may answer (a `/ping`) before a later listener runs.
  server.prependListener("request", (_request: IncomingMessage, response: ServerResponse) => {
    // While stopping, every answer closes its connection, so no idle keep-alive socket delays the exit.
    if (stopping) response.setHeader("connection", "close");
  });
  let closed: Promise<void> | undefined;
  const stopAccepting = () => {
    stopping = true;
    // net.Server's close, not http.Server's: that one also closes idle keep-alive connections, which races
    // with a client sending its next request on one (it gets a hang-up instead of an answer).
    closed ??= new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  };
  return {
    server,
    stopAccepting,
    async stop() {
      stopAccepting();
      // Idle keep-alive connections would otherwise wait out their timeout; close them now and as
      // in-flight answers finish.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      await closed;
      clearInterval(sweep);
    },
  };
}
