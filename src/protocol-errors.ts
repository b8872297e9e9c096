/**
 * Refusals that happen before a request reaches the routes — a malformed request line or header (400),
 * headers too large (431), a request that did not arrive in time (408) — answered with the same JSON body
 * as every other refusal instead of Node's bare status line. When the bad bytes follow a request whose
 * answer is still being written (a body longer than its Content-Length, say), that answer is finished
 * first, so the client never loses a valid answer to the refusal of what came after it. A body whose own
 * framing breaks mid-way (a malformed chunk) fails its invocation with `400` instead (`failBody`).
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { MalformedBodyError } from "./errors.js";
import type { Logger } from "./log.js";

/** A request being served and its response. */
interface Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
}

/** The exchange in progress on each socket, if any. */
export type ResponsesInFlight = WeakMap<Duplex, Exchange>;

/** Keeps track of which socket is serving which request. */
export function trackResponses(server: Server): ResponsesInFlight {
  const inFlight: ResponsesInFlight = new WeakMap();
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    const exchange = { request, response };
    inFlight.set(socket, exchange);
    const forget = () => {
      if (inFlight.get(socket) === exchange) inFlight.delete(socket);
    };
    // A body refused early is still read after its answer, until it ends or the client breaks it off: the
    // exchange is kept until then, so that the break is not taken for a malformed request of its own.
    response.once("close", () => {
      if (request.complete) forget();
      else request.once("close", forget);
    });
  });
  return inFlight;
}

const REFUSALS: Readonly<Record<string, [status: number, reason: string, code: string]>> = {
  HPE_HEADER_OVERFLOW: [431, "Request Header Fields Too Large", "HEADERS_TOO_LARGE"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", "REQUEST_TIMEOUT"],
};

/** Answers protocol-level errors with a JSON body (see the module comment). */
export function answerProtocolErrorsInJson(server: Server, inFlight: ResponsesInFlight, log: Logger): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    const [status, reason, code] = REFUSALS[error.code ?? ""] ?? [400, "Bad Request", "MALFORMED_REQUEST"];
    const refuse = () => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const body = JSON.stringify({ error: `the request could not be read: ${error.message}`, code });
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `connection: close\r\n\r\n${body}`,
      );
    };
    const exchange = inFlight.get(socket);
    if (exchange && !exchange.request.complete && failBody(exchange, error)) return;
    if (error.code === "ECONNRESET" || (exchange && !exchange.request.complete)) {
      // The client left, or broke off the body of the request being served: that request's invocation
      // sees the connection close; there is nobody to answer.
      socket.destroy();
      return;
    }
    log.warn("request refused before routing", { status, code, reason: error.message, parser: error.code });
    if (exchange && !exchange.response.writableFinished) exchange.response.once("close", refuse);
    else refuse();
  });
}

/** Sockets whose request body has been failed as malformed: the parser repeats its error for every read. */
const malformedBodies = new WeakSet<Duplex>();

/**
 * Fails the body of the request being served when its framing broke mid-way (a malformed chunk), for
 * its invocation to answer `400` and log it as such: the client is still there to read that answer, and
 * the bytes before the fault were read. Returns false where there is nothing to fail: the client left
 * (the connection reset, or ended mid-body), or nothing reads the body any more and its answer has gone.
 */
function failBody(exchange: Exchange, error: NodeJS.ErrnoException): boolean {
  const { request, response } = exchange;
  const socket = request.socket;
  if (malformedBodies.has(socket)) return true;
  if (!error.code?.startsWith("HPE_") || error.code === "HPE_INVALID_EOF_STATE") return false;
  if (response.writableFinished || request.listenerCount("error") === 0) return false;
  malformedBodies.add(socket);
  // Nothing after the fault can be parsed, so no later request can arrive on this connection.
  if (!response.headersSent) response.setHeader("connection", "close");
  response.once("close", () => socket.end());
  // The readers of a body take an error event as its failure (`stream.finished`); destroying the request
  // instead would destroy the socket, and the answer with it.
  request.emit("error", new MalformedBodyError(error.message, error.code));
  return true;
}
