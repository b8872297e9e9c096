/**
 * Admission control for /invocations: at most `maxRunning` run at once (the platform's
 * MaxConcurrentTransforms); up to `maxQueued` more wait, in arrival order (but see below); beyond that an
 * invocation is refused at once with 503 and Retry-After, so the platform backs off instead of timing
 * out. A waiter whose client leaves is dropped from the queue at once, so it never holds a place (p-limit,
 * used here before, cannot remove one waiter from its queue).
 *
 * The counts live in shared memory, so that codec threads accepting connections of their own
 * (`SLUICE_ACCEPT=every-thread`) take a free slot themselves, with one atomic step and no message
 * ({@link SharedAdmission}); the queue stays here, on the main thread. Each such thread's slots are also
 * counted apart, so that a thread that dies gives its slots back, and so that a freed slot goes to a
 * waiter on the thread running the fewest invocations (in arrival order among those): an invocation runs
 * on the thread that accepted its connection, and two admitted on one thread while another has only
 * queued ones would leave a core idle.
 */
import { OverloadedError } from "./errors.js";

/** A held slot; call it exactly once when the invocation's response is finished. */
export type Release = () => void;

interface Waiter {
  /** The codec thread that asked, if one did. */
  readonly threadSlot: number | undefined;
  grant(): void;
}

/** Indexes into the shared counts; a thread's own held slots follow them. */
const RUNNING = 0;
const QUEUED = 1;
const THREADS = 2;

/**
 * Takes a slot when one is free and nobody is queued (the queue goes first), in one atomic step; false
 * when the caller must queue.
 */
function tryTake(counts: Int32Array, maxRunning: number): boolean {
  if (Atomics.load(counts, QUEUED) > 0) return false;
  for (;;) {
    const running = Atomics.load(counts, RUNNING);
    if (running >= maxRunning) return false;
    if (Atomics.compareExchange(counts, RUNNING, running, running + 1) === running) return true;
  }
}

/** Bounded concurrency with a bounded, abortable queue. */
export class InvocationGate {
  readonly #waiting: Waiter[] = [];
  readonly #counts: Int32Array;

  /** `threadSlots`: how many codec threads may admit invocations themselves (see {@link SharedAdmission}). */
  constructor(
    readonly maxRunning: number,
    readonly maxQueued: number,
    readonly retryAfterSeconds = 1,
    threadSlots = 0,
  ) {
    this.#counts = new Int32Array(new SharedArrayBuffer((THREADS + threadSlots) * Int32Array.BYTES_PER_ELEMENT));
  }

  /** The shared counts, for codec threads' {@link SharedAdmission}. */
  get counts(): SharedArrayBuffer {
    return this.#counts.buffer as SharedArrayBuffer;
  }

  /** Invocations running now, on every thread. */
  get running(): number {
    return Atomics.load(this.#counts, RUNNING);
  }

  /** Invocations waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Waits for a slot; throws `OverloadedError` when the queue is full, the abort reason when `signal`
   * aborts. `threadSlot`: the codec thread the slot is for, when one asked for it.
   */
  acquire(signal?: AbortSignal, threadSlot?: number): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (tryTake(this.#counts, this.maxRunning)) return Promise.resolve(this.#granted(threadSlot));
    if (this.#waiting.length >= this.maxQueued) return Promise.reject(new OverloadedError(this.retryAfterSeconds));
    const granted = new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        Atomics.store(this.#counts, QUEUED, this.#waiting.length);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        threadSlot,
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.#granted(threadSlot));
        },
      };
      this.#waiting.push(waiter);
      Atomics.store(this.#counts, QUEUED, this.#waiting.length);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    // A thread may have released its slot between the full count and the queue's growing.
    this.admitWaiting();
    return granted;
  }

  /** Grants slots freed since the queue last moved (a codec thread releasing one says so). */
  admitWaiting(): void {
    while (this.#waiting.length > 0) {
      const running = Atomics.load(this.#counts, RUNNING);
      if (running >= this.maxRunning) return;
      if (Atomics.compareExchange(this.#counts, RUNNING, running, running + 1) !== running) continue;
      const [waiter] = this.#waiting.splice(this.#nextWaiter(), 1);
      Atomics.store(this.#counts, QUEUED, this.#waiting.length);
      waiter.grant();
    }
  }

  /**
   * The first waiter among those whose thread runs the fewest invocations. The main thread's waiters
   * count as running none: with the main thread accepting, the queue is in plain arrival order.
   */
  #nextWaiter(): number {
    let chosen = 0;
    let fewest = Number.POSITIVE_INFINITY;
    for (let index = 0; index < this.#waiting.length && fewest > 0; index++) {
      const slot = this.#waiting[index].threadSlot;
      const running = slot === undefined ? 0 : Atomics.load(this.#counts, THREADS + slot);
      if (running < fewest) {
        fewest = running;
        chosen = index;
      }
    }
    return chosen;
  }

  /** Gives back the slots a codec thread held when it died. */
  reclaim(threadSlot: number): void {
    const held = Atomics.exchange(this.#counts, THREADS + threadSlot, 0);
    if (held === 0) return;
    Atomics.sub(this.#counts, RUNNING, held);
    this.admitWaiting();
  }

  /** A slot taken (the running count already includes it), counted for its thread when it has one. */
  #granted(threadSlot: number | undefined): Release {
    if (threadSlot !== undefined) {
      Atomics.add(this.#counts, THREADS + threadSlot, 1);
      // The thread releases it, through its SharedAdmission.
      return () => {};
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      Atomics.sub(this.#counts, RUNNING, 1);
      this.admitWaiting();
    };
  }
}

/**
 * A codec thread's side of the gate: a free slot is taken here, atomically; otherwise `queue` asks the
 * main thread's gate, which queues the invocation with everyone else's.
 */
export class SharedAdmission {
  readonly #counts: Int32Array;

  constructor(
    counts: SharedArrayBuffer,
    readonly maxRunning: number,
    readonly threadSlot: number,
    /** Asks the main thread for a slot (resolving once it is counted for this thread). */
    private readonly queue: (signal: AbortSignal | undefined) => Promise<void>,
    /** Tells the main thread that a slot came free while invocations were queued. */
    private readonly freed: () => void,
  ) {
    this.#counts = new Int32Array(counts);
  }

  /** Waits for a slot (as {@link InvocationGate.acquire}). */
  async acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) throw signal.reason;
    if (tryTake(this.#counts, this.maxRunning)) Atomics.add(this.#counts, THREADS + this.threadSlot, 1);
    else await this.queue(signal);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.give();
    };
  }

  /** Gives one of this thread's slots back. */
  give(): void {
    Atomics.sub(this.#counts, THREADS + this.threadSlot, 1);
    Atomics.sub(this.#counts, RUNNING, 1);
    if (Atomics.load(this.#counts, QUEUED) > 0) this.freed();
  }
}
