/**
 * The HTTP surface (hono): `/ping`, `/execution-parameters`, `/invocations`. This is the only file that
 * knows about HTTP; it maps every error to a status and JSON body in one place (`errorResponse`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Hono } from "hono";
import type { Engine, Invocation } from "./engine.js";
import { ClientClosedRequestError, OverloadedError, RouteNotFoundError, SluiceError } from "./errors.js";
import type { Logger } from "./log.js";
import { drainRequest } from "./request-drain.js";
import { holdOutput, streamOutput } from "./response-hold.js";

/** The JSON body of every non-2xx answer. */
export interface ErrorBody {
  error: string;
  code: string;
  [detail: string]: unknown;
}

/** Maps any error to its status and JSON body. */
export function errorResponse(error: unknown): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (error instanceof SluiceError) {
    if (error instanceof OverloadedError) headers["retry-after"] = String(error.retryAfterSeconds);
    const body: ErrorBody = { error: error.message, code: error.code, ...error.details() };
    return new Response(JSON.stringify(body), { status: error.status, headers });
  }
  const message = error instanceof Error ? error.message : String(error);
  const body: ErrorBody = { error: `internal error: ${message}`, code: "INTERNAL" };
  return new Response(JSON.stringify(body), { status: 500, headers });
}

function contentLengthOf(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

const EMPTY_BODY: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

/** Builds the routes over an engine. */
export function createApp(engine: Engine, log: Logger): Hono {
  const app = new Hono();

  app.get("/ping", () => {
    try {
      engine.ready();
      return new Response(null, { status: 200 });
    } catch (error) {
      return errorResponse(error);
    }
  });

  app.get("/execution-parameters", (c) => c.json(engine.executionParameters()));

  app.post("/invocations", async (c) => {
    const started = performance.now();
    const request = c.req.raw;
    const fields = {
      inference_id: c.req.header("x-amzn-sagemaker-inference-id"),
      content_type: c.req.header("content-type"),
      accept: c.req.header("accept"),
    };
    let invocation: Invocation | undefined;
    // Read the body straight from Node's request (not through a web stream): fewer copies and promises.
    const node = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
    const incoming = node?.incoming;
    /**
     * One line per request, written once the answer has gone (or failed to): `error` with status 200 means
     * the answer failed after it was committed; `delivered: false`, that the client did not get all of it.
     */
    const logWhenSent = (status: number, error?: unknown) => {
      const outgoing = node?.outgoing;
      if (!outgoing || outgoing.writableFinished || outgoing.destroyed) {
        logLine(status, error, outgoing ? outgoing.writableFinished : undefined);
        return;
      }
      outgoing.once("close", () => logLine(status, error, outgoing.writableFinished));
    };
    const logLine = (status: number, error: unknown, delivered: boolean | undefined) => {
      const stats = invocation?.stats;
      const failure = error instanceof Error ? error : undefined;
      // Errors are Sluice's own failures; refusals (4xx, 503) and clients leaving are warnings.
      const clientLeft = failure instanceof ClientClosedRequestError;
      const level =
        status === 500 || (failure && status === 200 && !clientLeft)
          ? "error"
          : failure || status >= 400 || delivered === false
            ? "warn"
            : "info";
      log.write(level, "invocation", {
        status,
        aborted: status === 200 && error !== undefined ? true : undefined,
        delivered: delivered === false ? false : undefined,
        ...fields,
        bytes_in: stats?.bytesIn ?? 0,
        bytes_out: stats?.bytesOut ?? 0,
        records: stats?.records ?? 0,
        failed_records: stats?.failedRecords || undefined,
        ms: Math.round(performance.now() - started),
        code: failure instanceof SluiceError ? failure.code : failure ? "INTERNAL" : undefined,
        reason: failure?.message,
        record_index:
          failure instanceof SluiceError ? (failure.details().recordIndex as number | undefined) : undefined,
      });
    };
    try {
      invocation = await engine.invoke({
        body: incoming ?? request.body ?? EMPTY_BODY,
        contentType: fields.content_type,
        accept: fields.accept,
        contentLength: contentLengthOf(c.req.header("content-length")),
        contentEncoding: c.req.header("content-encoding"),
        signal: request.signal,
      });
      const held = await holdOutput(invocation.output, engine.config.responseHoldBytes);
      const headers = { "content-type": invocation.contentType };
      if (!held.committed) {
        invocation.release();
        logWhenSent(200);
        return new Response(Buffer.concat(held.chunks), { status: 200, headers });
      }
      const current = invocation;
      const body = streamOutput(held, {
        onEnd(error) {
          current.release();
          logWhenSent(200, error);
        },
      });
      return new Response(body, { status: 200, headers });
    } catch (cause) {
      invocation?.release();
      await invocation?.output.return(undefined);
      const error = request.signal.aborted ? new ClientClosedRequestError() : cause;
      const response = errorResponse(error);
      logWhenSent(response.status, error);
      // Let the client finish sending (and so read this answer); the connection stays usable after it.
      if (incoming) drainRequest(incoming);
      else if (request.body && !request.bodyUsed) response.headers.set("connection", "close");
      return response;
    }
  });

  app.notFound((c) => errorResponse(new RouteNotFoundError(c.req.method, c.req.path)));
  app.onError((error) => {
    log.error("unhandled error", { reason: error.message });
    return errorResponse(error);
  });
  return app;
}
