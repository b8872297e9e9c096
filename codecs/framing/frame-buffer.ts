import { copyBytes, FramingError } from "../../src/index.js";

/**
 * The largest record a framer holds. Far above any real feature vector (a 224×224×3 image as CSV text is
 * about 1 MB), it keeps a body without record boundaries (with `SAGEMAKER_MAX_PAYLOAD_IN_MB=0`) from
 * growing one record without bound.
 */
export const MAX_RECORD_BYTES = 64 * 2 ** 20;

/** The error for a record beyond {@link MAX_RECORD_BYTES}. */
export function recordTooLarge(): FramingError {
  return new FramingError(
    "RECORD_TOO_LARGE",
    `a record is longer than ${MAX_RECORD_BYTES / 2 ** 20} MiB (is a record separator missing, or the Content-Type wrong?)`,
  );
}

const NO_BYTES = new Uint8Array(0);
/** What a frame buffer first takes once it holds a byte. */
const INITIAL_BYTES = 4096;

/**
 * The bytes of an unfinished frame, kept between chunks. Grows by doubling and is reused, so a framer
 * copies only the frames that straddle a chunk boundary.
 */
export class FrameBuffer {
  /**
   * Empty until a frame straddles a chunk: a small body holds whole frames, and one-record invocations made
   * (and the collector freed) a 4 KiB array for each of their framers.
   */
  #bytes = NO_BYTES;
  #length = 0;

  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  /** Appends `source[start, end)`; throws a `RECORD_TOO_LARGE` `FramingError` past {@link MAX_RECORD_BYTES}. */
  append(source: Uint8Array, start = 0, end = source.length): void {
    const needed = this.#length + (end - start);
    if (needed > MAX_RECORD_BYTES) throw recordTooLarge();
    if (needed > this.#bytes.length) {
      let size = Math.max(this.#bytes.length * 2, INITIAL_BYTES);
      while (size < needed) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
    }
    copyBytes(this.#bytes, this.#length, source.subarray(start, end));
    this.#length = needed;
  }

  /** A view of the held bytes, valid until the next `append` or `clear`. */
  view(start = 0, end = this.#length): Uint8Array {
    return this.#bytes.subarray(start, end);
  }

  /** Drops the first `count` held bytes. */
  discardFront(count: number): void {
    this.#bytes.copyWithin(0, count, this.#length);
    this.#length -= count;
  }

  /** Forgets the held bytes (keeps the memory unless it grew past 1 MiB). */
  clear(): void {
    this.#length = 0;
    if (this.#bytes.length > 1 << 20) this.#bytes = NO_BYTES;
  }
}
