/**
 * What is left of a refused request's body. HTTP clients (the platform's among them) write the whole body
 * before they read the answer: a server that refuses early and closes the connection makes them fail
 * with EPIPE instead of reading the refusal, and the platform then retries a request that can never
 * succeed. So the rest of the body is read and discarded — up to a bound, past which the connection is
 * destroyed — and the connection, its request complete, can serve the next one.
 */
import type { IncomingMessage } from "node:http";

/** Body bytes discarded after a refusal before the connection is cut. */
export const DRAIN_LIMIT_BYTES = 256 * 2 ** 20;
/** How long a refused body may keep arriving before the connection is cut. */
export const DRAIN_LIMIT_MS = 60_000;

/** Starts discarding the rest of `incoming`'s body (no-op when it has been read to the end). */
export function drainRequest(incoming: IncomingMessage, maxBytes = DRAIN_LIMIT_BYTES, maxMs = DRAIN_LIMIT_MS): void {
  if (incoming.readableEnded || incoming.destroyed) return;
  let discarded = 0;
  const cut = () => {
    stop();
    incoming.socket?.destroy();
  };
  const timer = setTimeout(cut, maxMs);
  timer.unref();
  const onData = (chunk: Buffer) => {
    discarded += chunk.byteLength;
    if (discarded > maxBytes) cut();
  };
  const stop = () => {
    clearTimeout(timer);
    incoming.off("data", onData);
    incoming.off("end", stop);
    incoming.off("error", stop);
  };
  incoming.on("data", onData);
  incoming.once("end", stop);
  incoming.once("error", stop);
  // A reader that stopped early through the stream's async iterator would still listen for 'readable',
  // and while anything does, resume() does not make the stream flow: the rest of the body went unread,
  // the client's upload stalled, and the keep-alive timeout reset the connection before it read the
  // answer. (Sluice's own pump listens for 'data' and lets go when the invocation settles.)
  incoming.removeAllListeners("readable");
  incoming.resume();
}
