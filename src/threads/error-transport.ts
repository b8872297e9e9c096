/**
 * Errors crossing threads: a `SluiceError` keeps its status, code, message and details; anything else
 * (a bug in Sluice or in a plugin) becomes a 500 whose stack goes to the server log, never to the client.
 */
import { SluiceError } from "../errors.js";
import type { WireError } from "./messages.js";

/** Flattens an error for `postMessage`. */
export function toWire(error: unknown): WireError {
  if (error instanceof SluiceError) {
    return { status: error.status, code: error.code, message: error.message, details: error.details() };
  }
  const failure = error instanceof Error ? error : new Error(String(error));
  return {
    status: 500,
    code: "INTERNAL",
    message: `internal error: ${failure.message}`,
    details: {},
    stack: failure.stack,
  };
}

/** An error reported by another thread, answered with the status and code it was raised with. */
export class ForwardedError extends SluiceError {
  readonly status: number;
  readonly #details: Record<string, unknown>;
  /** The original stack of an unexpected error, for the server log. */
  readonly originStack: string | undefined;

  constructor(wire: WireError) {
    super(wire.code, wire.message);
    this.status = wire.status;
    this.#details = wire.details;
    this.originStack = wire.stack;
  }

  override details(): Record<string, unknown> {
    return this.#details;
  }
}

/** Rebuilds a thrown error from its wire form. */
export const fromWire = (wire: WireError): ForwardedError => new ForwardedError(wire);
