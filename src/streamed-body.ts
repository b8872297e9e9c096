/**
 * A request body read as it arrives, for a thread that runs the invocation on the same thread as the
 * connection (a codec thread that accepted it): a few chunks are buffered ahead of the pipeline, then the
 * socket is paused until it catches up. The body fails with 408 when no byte comes for
 * `SLUICE_BODY_IDLE_TIMEOUT_S` while the pipeline waits for one, with 499 when the client breaks off, and
 * with 400 when the body's framing breaks (`protocol-errors.ts`).
 */
import { finished, type Readable } from "node:stream";
import { BodyIdleTimeoutError, bodyReadFailure } from "./errors.js";

/** Chunks buffered ahead of the pipeline before the socket is paused. */
const CHUNKS_AHEAD = 4;

/** The chunks of `stream`, in order. */
export async function* streamedBody(stream: Readable, idleTimeoutMs: number): AsyncGenerator<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  const idle = setTimeout(function onIdle() {
    // Chunks waiting for the pipeline: it is the slow side, not the client.
    if (chunks.length > 0 || ended) {
      idle.refresh();
      return;
    }
    failure ??= new BodyIdleTimeoutError(idleTimeoutMs / 1000);
    // The rest is left unread, for the refusal's drain (request-drain.ts) to deal with.
    stream.pause();
    notify();
  }, idleTimeoutMs);
  const onData = (chunk: Uint8Array) => {
    idle.refresh();
    chunks.push(chunk);
    if (chunks.length >= CHUNKS_AHEAD) stream.pause();
    notify();
  };
  const stopWatching = finished(stream, { writable: false }, (error) => {
    if (error) failure ??= bodyReadFailure(error);
    else ended = true;
    notify();
  });
  stream.on("data", onData);
  try {
    for (;;) {
      const chunk = chunks.shift();
      if (chunk) {
        yield chunk;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      if (stream.isPaused()) stream.resume();
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    clearTimeout(idle);
    stream.off("data", onData);
    stopWatching();
  }
}
