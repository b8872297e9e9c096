/**
 * Admission control for /invocations: at most `maxRunning` run at once (the platform's
 * MaxConcurrentTransforms); up to `maxQueued` more wait in arrival order; beyond that an invocation is
 * refused at once with 503 and Retry-After, so the platform backs off instead of timing out. A waiter
 * whose client leaves is dropped from the queue at once, so it never holds a place (p-limit, used here
 * before, cannot remove one waiter from its queue).
 */
import { OverloadedError } from "./errors.js";

/** A held slot; call it exactly once when the invocation's response is finished. */
export type Release = () => void;

interface Waiter {
  grant(): void;
}

/** Bounded concurrency with a bounded, abortable queue. */
export class InvocationGate {
  #running = 0;
  readonly #waiting: Waiter[] = [];

  constructor(
    readonly maxRunning: number,
    readonly maxQueued: number,
    readonly retryAfterSeconds = 1,
  ) {}

  /** Invocations running now. */
  get running(): number {
    return this.#running;
  }

  /** Invocations waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Waits for a slot; throws `OverloadedError` when the queue is full, the abort reason when `signal` aborts. */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#running < this.maxRunning) {
      this.#running++;
      return Promise.resolve(this.#release());
    }
    if (this.#waiting.length >= this.maxQueued) return Promise.reject(new OverloadedError(this.retryAfterSeconds));
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          this.#running++;
          resolve(this.#release());
        },
      };
      this.#waiting.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #release(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#waiting.shift()?.grant();
    };
  }
}
