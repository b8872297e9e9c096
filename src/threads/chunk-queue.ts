/**
 * The request body as a codec thread receives it: the main thread copies body bytes into a ring of
 * shared memory and posts where each chunk lies; the pipeline reads the chunks as an async iterable of
 * views into the ring (no copy, no allocation). A chunk's bytes are released when the pipeline asks for
 * the next one (framers keep no views past a push), and releases are reported back in batches of at
 * least {@link RELEASE_REPORT_BYTES} (or when the queue runs dry) so the main thread may fill the ring again.
 */

/** Released bytes are reported once at least this many have accumulated. */
export const RELEASE_REPORT_BYTES = 256 * 1024;

/** An async iterable of body chunks that are views into a shared ring. */
export class ChunkQueue implements AsyncIterable<Uint8Array> {
  readonly #ring: Uint8Array;
  readonly #chunks: Uint8Array[] = [];
  #ended = false;
  #failure: unknown;
  #wake: (() => void) | undefined;
  #unreported = 0;

  constructor(
    ring: SharedArrayBuffer,
    private readonly onReleased: (bytes: number) => void,
  ) {
    this.#ring = new Uint8Array(ring);
  }

  /** Adds the next chunk of the body: `length` bytes at `start` in the ring. */
  push(start: number, length: number): void {
    this.#chunks.push(this.#ring.subarray(start, start + length));
    this.#notify();
  }

  /** Marks the end of the body. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Makes the reader throw `error` (the invocation was aborted). */
  fail(error: unknown): void {
    this.#failure ??= error;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #release(bytes: number, force: boolean): void {
    this.#unreported += bytes;
    if (this.#unreported > 0 && (force || this.#unreported >= RELEASE_REPORT_BYTES)) {
      this.onReleased(this.#unreported);
      this.#unreported = 0;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    let held = 0;
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const chunk = this.#chunks.shift();
      this.#release(held, chunk === undefined);
      held = 0;
      if (chunk) {
        held = chunk.byteLength;
        yield chunk;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}
