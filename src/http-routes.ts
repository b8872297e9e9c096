/**
 * The HTTP surface (hono): `/ping`, `/execution-parameters`, `/invocations`. This is the only file that
 * knows about HTTP; it maps every error to a status and JSON body in one place (`errorAnswer`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { Hono } from "hono";
import { abortCause, disconnectSignal } from "./client-disconnect.js";
import { MethodNotAllowedError, OverloadedError, RouteNotFoundError, SluiceError } from "./errors.js";
import type { ExecutionParameters } from "./execution-parameters.js";
import { InvocationReport } from "./invocation-report.js";
import type { Invocation, InvocationRequest } from "./invocation-service.js";
import type { Logger } from "./log.js";
import type { MetricsEndpoint } from "./metrics.js";
import { drainRequest } from "./request-drain.js";
import { holdOutput, streamOutput } from "./response-hold.js";

/**
 * What the routes serve from: the main thread's `InvocationService`, or a codec thread's `ThreadFront`
 * when codec threads accept connections too.
 */
export interface InvocationFront {
  /** Answer bytes held back before the status is committed (`SLUICE_RESPONSE_HOLD_MB`). */
  readonly responseHoldBytes: number;
  /** Throws `ModelUnavailableError` (503) unless the model is loaded. */
  ready(): unknown;
  executionParameters(): ExecutionParameters;
  /** Checks, admits and starts one invocation. */
  invoke(request: InvocationRequest): Promise<Invocation>;
  /**
   * Told of each `/invocations` exchange as it begins: a codec thread's front keeps the ones in flight, to
   * answer them itself if its thread dies (`ThreadFront.answerAsThreadEnds`).
   */
  opened?(report: InvocationReport, outgoing: ServerResponse): void;
}

/** The JSON body of every non-2xx answer. */
export interface ErrorBody {
  error: string;
  code: string;
  [detail: string]: unknown;
}

/** The status, headers and JSON text of the answer to an error. */
export interface ErrorAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
}

/** Maps any error to its status, headers and JSON body. */
export function errorAnswer(error: unknown): ErrorAnswer {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (error instanceof SluiceError) {
    if (error instanceof OverloadedError) headers["retry-after"] = String(error.retryAfterSeconds);
    if (error instanceof MethodNotAllowedError) headers.allow = error.allowed.join(", ");
    const body: ErrorBody = { error: error.message, code: error.code, ...error.details() };
    return { status: error.status, headers, text: JSON.stringify(body) };
  }
  const message = error instanceof Error ? error.message : String(error);
  const body: ErrorBody = { error: `internal error: ${message}`, code: "INTERNAL" };
  return { status: 500, headers, text: JSON.stringify(body) };
}

/** {@link errorAnswer} as a web response. */
export function errorResponse(error: unknown): Response {
  const { status, headers, text } = errorAnswer(error);
  return new Response(text, { status, headers });
}

function contentLengthOf(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

const EMPTY_BODY: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

/** The response header that carries the inference id (the platform's, or one Sluice made up). */
export const INFERENCE_ID_HEADER = "x-amzn-sagemaker-inference-id";

/**
 * A whole answer, its length known. Through Node's response it goes as one gathered write of the chunks
 * the codec thread sent: joining them first cost the main thread a fresh buffer and a copy of the answer
 * per body, which for 200 000-row tabular bodies (8 MB answers) was about a quarter of its CPU.
 */
function answerWhole(chunks: readonly Uint8Array[], headers: Record<string, string>, outgoing?: ServerResponse) {
  if (!outgoing || chunks.length === 1) {
    return new Response(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), { status: 200, headers });
  }
  let length = 0;
  for (const chunk of chunks) length += chunk.byteLength;
  outgoing.writeHead(200, { ...headers, "content-length": length });
  // Corked, the writes leave as one `writev` when `end` uncorks.
  outgoing.cork();
  for (const chunk of chunks) outgoing.write(chunk);
  outgoing.end();
  return RESPONSE_ALREADY_SENT;
}

/** Builds the routes over the invocation service; `metrics` adds `GET /metrics`. */
export function createApp(service: InvocationFront, log: Logger, metrics?: MetricsEndpoint): Hono {
  const app = new Hono();

  app.get("/ping", () => {
    try {
      service.ready();
      return new Response(null, { status: 200 });
    } catch (error) {
      return errorResponse(error);
    }
  });

  app.get("/execution-parameters", (c) => c.json(service.executionParameters()));

  if (metrics) {
    app.get("/metrics", async () => {
      const { text, contentType } = await metrics.exposition();
      return new Response(text, { headers: { "content-type": contentType } });
    });
  }

  app.post("/invocations", async (c) => {
    const request = c.req.raw;
    const report = new InvocationReport(
      {
        inferenceId: c.req.header(INFERENCE_ID_HEADER),
        customAttributes: c.req.header("x-amzn-sagemaker-custom-attributes"),
        contentType: c.req.header("content-type"),
        accept: c.req.header("accept"),
      },
      log,
      metrics,
    );
    let invocation: Invocation | undefined;
    // Read the body straight from Node's request (not through a web stream): fewer copies and promises.
    const node = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
    const incoming = node?.incoming;
    if (node?.outgoing) service.opened?.(report, node.outgoing);
    const signal = incoming && node?.outgoing ? disconnectSignal(incoming, node.outgoing) : request.signal;
    /** Reports the invocation once its answer has gone, or failed to. */
    const reportWhenSent = (status: number, error?: unknown) => {
      const outgoing = node?.outgoing;
      if (!outgoing || outgoing.writableFinished || outgoing.destroyed) {
        report.finish(status, error, outgoing ? outgoing.writableFinished : undefined);
        return;
      }
      outgoing.once("close", () => report.finish(status, error, outgoing.writableFinished));
    };
    try {
      invocation = await service.invoke({
        body: incoming ?? request.body ?? EMPTY_BODY,
        contentType: c.req.header("content-type"),
        accept: c.req.header("accept"),
        contentLength: contentLengthOf(c.req.header("content-length")),
        contentEncoding: c.req.header("content-encoding"),
        signal,
      });
      report.admitted(invocation);
      const held = await holdOutput(invocation.output, service.responseHoldBytes);
      const headers = { "content-type": invocation.contentType, [INFERENCE_ID_HEADER]: report.inferenceId };
      report.answering();
      if (!held.committed) {
        invocation.release();
        reportWhenSent(200);
        return answerWhole(held.chunks, headers, node?.outgoing);
      }
      const current = invocation;
      const body = streamOutput(held, {
        onEnd(error) {
          current.release();
          reportWhenSent(200, error);
        },
      });
      return new Response(body, { status: 200, headers });
    } catch (cause) {
      invocation?.release();
      await invocation?.output.return(undefined);
      const error = signal.aborted ? abortCause(signal) : cause;
      const response = errorResponse(error);
      response.headers.set(INFERENCE_ID_HEADER, report.inferenceId);
      report.answering();
      reportWhenSent(response.status, error);
      // Let the client finish sending (and so read this answer); the connection stays usable after it.
      if (incoming) drainRequest(incoming);
      else if (request.body && !request.bodyUsed) response.headers.set("connection", "close");
      return response;
    }
  });

  const methodsByPath = new Map<string, string[]>();
  for (const { method, path } of app.routes) {
    // Hono answers HEAD with a route's GET handler.
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), ...(method === "GET" ? ["GET", "HEAD"] : [method])]);
  }
  const routes = app.routes.map(({ method, path }) => `${method} ${path}`);
  app.notFound((c) => {
    const allowed = methodsByPath.get(c.req.path);
    return errorResponse(
      allowed
        ? new MethodNotAllowedError(c.req.method, c.req.path, allowed)
        : new RouteNotFoundError(c.req.method, c.req.path, routes),
    );
  });
  app.onError((error) => {
    log.error("unhandled error", { reason: error.message, stack: error.stack });
    return errorResponse(error);
  });
  return app;
}
