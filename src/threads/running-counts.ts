/**
 * How many invocations (whole, or parts of a body) run on each accepting codec thread
 * (`SLUICE_ACCEPT=every-thread`), in memory every thread shares, so that a thread cutting a body sees
 * which threads are idle.
 *
 * Each count is kept by the thread that starts the invocation (+1 as it starts it, −1 once it is over),
 * not by the thread that runs it, so the next part, started before the first one's message arrives, sees
 * it. A thread that dies can no longer take back what it counted, so the counts are kept apart by who
 * started them: one row per starting thread, one column per running thread. The main thread clears a
 * dead thread's row as it replaces it; counts others kept on it go back as they learn of its death and
 * fail what they had started there. (With one count per running thread, a dead starter's parts on other
 * threads stayed counted for good, and a count reset by the main thread went below zero when a starter
 * gave back its part afterwards: either way a thread never looked idle again, and no body was cut.)
 */
export class RunningCounts {
  readonly #counts: Int32Array;
  readonly #threads: number;

  /** Counts for `threads` threads, all zero. */
  static create(threads: number): RunningCounts {
    return new RunningCounts(new SharedArrayBuffer(threads * threads * Int32Array.BYTES_PER_ELEMENT));
  }

  /** Counts in `buffer`, as made by {@link RunningCounts.create} on another thread. */
  constructor(readonly buffer: SharedArrayBuffer) {
    this.#counts = new Int32Array(buffer);
    this.#threads = Math.round(Math.sqrt(this.#counts.length));
  }

  /** Counts an invocation that the thread at `starter` started on the thread at `runner` starting (1) or over (−1). */
  add(starter: number, runner: number, change: 1 | -1): void {
    Atomics.add(this.#counts, starter * this.#threads + runner, change);
  }

  /** Invocations running on the thread at `runner`, whoever started them. */
  on(runner: number): number {
    let running = 0;
    for (let starter = 0; starter < this.#threads; starter++) {
      running += Atomics.load(this.#counts, starter * this.#threads + runner);
    }
    return running;
  }

  /** Drops what the thread at `starter` counted: it died, and what it started has failed or been stopped. */
  forget(starter: number): void {
    for (let runner = 0; runner < this.#threads; runner++)
      Atomics.store(this.#counts, starter * this.#threads + runner, 0);
  }
}
