/**
 * The request body as a codec thread receives it: chunks are views into the invocation's shared ring
 * ({@link BodyRingReader}), read in place (no copy, no allocation). A chunk's bytes are released when the
 * pipeline asks for the next one (framers keep no views past a push). Messages from the main thread only
 * wake the reader up; the bytes, their count and the body's end travel through shared memory.
 */
import { BodyRingReader } from "./body-ring.js";

/** An async iterable of body chunks that are views into a shared ring. */
export class ChunkQueue implements AsyncIterable<Uint8Array> {
  readonly #ring: BodyRingReader;
  /** Set once the invocation is over: the ring may already carry another body. */
  #closed = false;
  #failure: unknown;
  #wake: (() => void) | undefined;
  #drained = false;

  /** @param wakeWriter Called when the main thread waits for room that a release has just made. */
  constructor(
    ring: SharedArrayBuffer,
    private readonly wakeWriter: () => void,
  ) {
    this.#ring = new BodyRingReader(ring);
  }

  /** True once the reader has had every byte of the body, up to its end: what is left to do needs no more of it. */
  get drained(): boolean {
    return this.#drained;
  }

  /** More bytes may have been published. */
  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * Lets go of the ring for good, before the main thread is told the invocation is over (it then lends
   * the ring to another): a reader still pulling (a decompressor reading ahead) ends without touching it.
   */
  close(): void {
    this.#closed = true;
    this.wake();
  }

  /** Makes the reader throw `error` (the invocation was aborted). */
  fail(error: unknown): void {
    this.#failure ??= error;
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    let held = 0;
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#closed) return;
      if (held > 0 && this.#ring.release(held)) this.wakeWriter();
      held = 0;
      // Read before taking: an end seen then comes after every byte that take() can see.
      const ended = this.#ring.ended;
      const chunk = this.#ring.take();
      if (chunk) {
        held = chunk.byteLength;
        yield chunk;
        continue;
      }
      if (ended) {
        this.#drained = true;
        return;
      }
      if (!this.#ring.waitForBytes()) continue;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}
