/**
 * The request body as a codec thread receives it: chunks are views into the invocation's shared ring
 * ({@link BodyRingReader}), read in place (no copy, no allocation). A chunk's bytes are released when the
 * pipeline asks for the next one (framers keep no views past a push). Messages from the main thread only
 * wake the reader up; the bytes and their count travel through shared memory.
 */
import { BodyRingReader } from "./body-ring.js";

/** An async iterable of body chunks that are views into a shared ring. */
export class ChunkQueue implements AsyncIterable<Uint8Array> {
  readonly #ring: BodyRingReader;
  #ended = false;
  /** Set once the invocation is over: the ring may already carry another body. */
  #closed = false;
  #failure: unknown;
  #wake: (() => void) | undefined;

  /** @param wakeWriter Called when the main thread waits for room that a release has just made. */
  constructor(
    ring: SharedArrayBuffer,
    private readonly wakeWriter: () => void,
  ) {
    this.#ring = new BodyRingReader(ring);
  }

  /** More bytes may have been published. */
  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Marks the end of the body (sent after its last bytes were published). */
  end(): void {
    this.#ended = true;
    this.wake();
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
      const chunk = this.#ring.take();
      if (chunk) {
        held = chunk.byteLength;
        yield chunk;
        continue;
      }
      if (this.#ended) return;
      if (!this.#ring.waitForBytes()) continue;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}
