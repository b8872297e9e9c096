/**
 * Admission control for /invocations: at most `maxRunning` run at once (the platform's
 * MaxConcurrentTransforms); up to `maxQueued` more wait in arrival order; beyond that an invocation is
 * refused at once with 503 and Retry-After, so the platform backs off instead of timing out.
 */
import pLimit, { type LimitFunction } from "p-limit";
import { OverloadedError } from "./errors.js";

/** A held slot; call it exactly once when the invocation's response is finished. */
export type Release = () => void;

/** Bounded concurrency with a bounded queue. */
export class InvocationGate {
  readonly #limit: LimitFunction;

  constructor(
    readonly maxRunning: number,
    readonly maxQueued: number,
    readonly retryAfterSeconds = 1,
  ) {
    this.#limit = pLimit(maxRunning);
  }

  /** Invocations running now. */
  get running(): number {
    return this.#limit.activeCount;
  }

  /** Invocations waiting for a slot. */
  get queued(): number {
    return this.#limit.pendingCount;
  }

  /** Waits for a slot; throws `OverloadedError` when the queue is full. */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (this.#limit.activeCount >= this.maxRunning && this.#limit.pendingCount >= this.maxQueued) {
      return Promise.reject(new OverloadedError(this.retryAfterSeconds));
    }
    return new Promise<Release>((resolveSlot, rejectSlot) => {
      this.#limit(() => {
        if (signal?.aborted) {
          rejectSlot(signal.reason);
          return;
        }
        return new Promise<void>((done) => {
          let released = false;
          resolveSlot(() => {
            if (!released) {
              released = true;
              done();
            }
          });
        });
      });
    });
  }
}
