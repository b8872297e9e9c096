/**
 * The signal an /invocations request's work listens on: it aborts when the client goes before its answer
 * is complete, or when the body's framing breaks before anything reads it. Hono's Node adapter gives each
 * request such a signal (`request.signal`) by making an `AbortController` per request; Node 20 then makes
 * a signal with three new hidden classes each time (they showed in V8's map log on every request) for
 * what is, nearly always, a request that ends well. Here a controller whose request ended without a
 * listener left on it serves a later request.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { AbortControllerPool } from "./abort-controller-pool.js";
import { ClientClosedRequestError, MalformedBodyError } from "./errors.js";

const spare = new AbortControllerPool();

/**
 * A signal that aborts (with {@link ClientClosedRequestError}) when `outgoing` closes before it finished,
 * or after `incoming` failed; otherwise its controller goes back for a later request. It aborts with the
 * {@link MalformedBodyError} itself when the body's framing breaks while nothing reads the body yet (its
 * invocation waits for admission): once a reader listens, the fault reaches the reader instead.
 */
export function disconnectSignal(incoming: IncomingMessage, outgoing: ServerResponse): AbortSignal {
  const controller = spare.take();
  const onBodyFault = (error: Error) => {
    if (error instanceof MalformedBodyError && incoming.listenerCount("error") === 1) controller.abort(error);
  };
  incoming.on("error", onBodyFault);
  outgoing.once("close", () => {
    incoming.off("error", onBodyFault);
    if (!outgoing.writableFinished || incoming.errored) controller.abort(new ClientClosedRequestError());
    else spare.giveBack(controller);
  });
  return controller.signal;
}

/** What an invocation whose signal aborted failed of: its malformed body, or else its client's leaving. */
export function abortCause(signal: AbortSignal): MalformedBodyError | ClientClosedRequestError {
  return signal.reason instanceof MalformedBodyError ? signal.reason : new ClientClosedRequestError();
}
