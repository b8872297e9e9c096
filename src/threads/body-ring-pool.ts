/**
 * Body rings kept for the next invocations. A ring is up to 4 MiB of shared memory (the pages its bodies
 * reached); V8 frees one only when both threads that held it have collected its last view, and the main
 * thread collects its old generation seldom (see `worker-heap.ts`). With a fresh ring per invocation, a
 * server under load held rings of finished invocations by the thousand: its resident memory grew by
 * ~25 MB/s, to 1.9–2.5 GB on 2 cores. Reused, the rings in memory are as many as the invocations that ran
 * at once.
 */
import { createBodyRing, resetBodyRing } from "./body-ring.js";

/** Idle rings kept at most (up to 256 MiB); more idle than that are left to the collector. */
const MAX_IDLE_RINGS = 64;

/**
 * A thread's rings (the main thread's, or an accepting codec thread's for the parts it starts): one lent
 * to each running invocation, returned when both threads are done with it.
 */
export class BodyRingPool {
  readonly #idle: SharedArrayBuffer[] = [];
  #created = 0;

  /** @param onCreate Called for each ring made (not for one reused). */
  constructor(private readonly onCreate: () => void = () => {}) {}

  /** Rings made so far (reused ones not counted again). */
  get created(): number {
    return this.#created;
  }

  /** A ring no thread uses, its counters at zero. */
  acquire(): SharedArrayBuffer {
    const ring = this.#idle.pop();
    if (ring) {
      resetBodyRing(ring);
      return ring;
    }
    this.#created++;
    this.onCreate();
    return createBodyRing();
  }

  /**
   * Takes back a ring that neither thread will touch again: the codec thread has said its invocation
   * is over (it closes its reader first), and the main thread writes nothing into a settled invocation's ring.
   */
  release(ring: SharedArrayBuffer): void {
    if (this.#idle.length < MAX_IDLE_RINGS) this.#idle.push(ring);
  }
}
