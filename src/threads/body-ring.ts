/**
 * The shared memory a request body crosses threads in: a ring of {@link BODY_RING_BYTES} followed by
 * five 32-bit counters and flags. The main thread copies body bytes in and advances `written`, and
 * raises `ended` after the last; the codec thread reads them in place and advances `released` once the
 * pipeline is done with them. Neither side posts a message per chunk, nor one for the end: a side that
 * finds nothing to do raises its waiting flag, looks at the counters once more, and only then sleeps; the
 * other side, after moving a counter, sends one wake-up message when it finds the flag raised. The flag
 * is raised before the second look and checked after the counter moved (both sequentially consistent),
 * so no wake-up is lost. A small body thus costs the codec thread one message (its start) or two.
 */

import { copyBytes } from "../codec/copy-bytes.js";

/**
 * Bytes of body a ring holds: sent ahead of what the pipeline has finished with. Only the pages a body
 * reaches are ever touched, so a small body costs no more than its own length.
 */
export const BODY_RING_BYTES = 2 ** 22;

/**
 * Room the reader makes before it wakes a writer waiting for some. Half the ring: the reader still has
 * 2 MiB (~8 ms of CSV) to work on while the main thread wakes up, on a machine whose cores the codec
 * threads keep busy, and refills. With 1 MiB rings woken at a quarter, the codec threads ran dry and slept
 * twice as often, and tabular bodies at c = 2 cost 3–4% more CPU per row (the main thread's share 0.22
 * against 0.20; 18 alternating runs).
 */
const WAKE_WRITER_ROOM = BODY_RING_BYTES / 2;

const WRITTEN = 0;
const RELEASED = 1;
const READER_WAITING = 2;
const WRITER_WAITING = 3;
const ENDED = 4;
const CONTROL_WORDS = 5;

/** A new ring, to be shared by the main thread (writer) and one codec thread (reader). */
export function createBodyRing(): SharedArrayBuffer {
  return new SharedArrayBuffer(BODY_RING_BYTES + CONTROL_WORDS * Int32Array.BYTES_PER_ELEMENT);
}

/** Makes a ring that neither side uses any more as good as new: counters at zero, no flag raised. */
export function resetBodyRing(ring: SharedArrayBuffer): void {
  const control = new Int32Array(ring, BODY_RING_BYTES, CONTROL_WORDS);
  for (let i = 0; i < control.length; i++) Atomics.store(control, i, 0);
}

/** Counters wrap at 2^32; differences stay exact because fewer than 2^31 bytes are ever in flight. */
const difference = (later: number, earlier: number) => (later - earlier) | 0;
/** Where a counter points in the ring (its size is a power of two dividing 2^32, so wrapping agrees). */
const ringPosition = (count: number) => count & (BODY_RING_BYTES - 1);

class RingView {
  protected readonly bytes: Uint8Array;
  protected readonly control: Int32Array;

  constructor(ring: SharedArrayBuffer) {
    this.bytes = new Uint8Array(ring, 0, BODY_RING_BYTES);
    this.control = new Int32Array(ring, BODY_RING_BYTES, CONTROL_WORDS);
  }

  /** Clears `flag` and says whether it was raised. */
  protected takeFlag(flag: number): boolean {
    return Atomics.compareExchange(this.control, flag, 1, 0) === 1;
  }

  /** Raises `flag`, then says whether `stillNothing()` holds; lowers it again when it does not. */
  protected raiseFlagUnless(flag: number, stillNothing: () => boolean): boolean {
    Atomics.store(this.control, flag, 1);
    if (stillNothing()) return true;
    Atomics.store(this.control, flag, 0);
    return false;
  }
}

/** The main thread's side: copies body bytes into the ring. */
export class BodyRingWriter extends RingView {
  #written = 0;

  /** Bytes that can be written now. */
  get room(): number {
    return BODY_RING_BYTES - difference(this.#written, Atomics.load(this.control, RELEASED));
  }

  /**
   * Copies as much of `source[offset…]` as fits (up to the ring's end) and publishes it. Returns how many
   * bytes were taken, and whether the reader is waiting for them (it must then be woken).
   */
  write(source: Uint8Array, offset: number): { readonly taken: number; readonly wakeReader: boolean } {
    const writeAt = ringPosition(this.#written);
    const taken = Math.min(source.byteLength - offset, this.room, BODY_RING_BYTES - writeAt);
    copyBytes(this.bytes, writeAt, source.subarray(offset, offset + taken));
    this.#written = (this.#written + taken) | 0;
    Atomics.store(this.control, WRITTEN, this.#written);
    return { taken, wakeReader: this.takeFlag(READER_WAITING) };
  }

  /** Publishes the end of the body (after its last bytes); true when the reader is waiting (wake it). */
  end(): boolean {
    Atomics.store(this.control, ENDED, 1);
    return this.takeFlag(READER_WAITING);
  }

  /** Before sleeping for room: true when the ring is still full (the reader will wake the writer). */
  waitForRoom(): boolean {
    return this.raiseFlagUnless(WRITER_WAITING, () => this.room === 0);
  }
}

/** The codec thread's side: reads body bytes in place and releases them. */
export class BodyRingReader extends RingView {
  #read = 0;
  #released = 0;

  /** The next published bytes (up to the ring's end) as a view into the ring, or undefined when none. */
  take(): Uint8Array | undefined {
    const available = difference(Atomics.load(this.control, WRITTEN), this.#read);
    if (available === 0) return undefined;
    const readAt = ringPosition(this.#read);
    const length = Math.min(available, BODY_RING_BYTES - readAt);
    const chunk = this.bytes.subarray(readAt, readAt + length);
    this.#read = (this.#read + length) | 0;
    return chunk;
  }

  /**
   * Gives `bytes` back to the writer; true when the writer is waiting for room and {@link WAKE_WRITER_ROOM}
   * is free (it must then be woken): waking it for every small release would cost a message each.
   */
  release(bytes: number): boolean {
    this.#released = (this.#released + bytes) | 0;
    Atomics.store(this.control, RELEASED, this.#released);
    const room = BODY_RING_BYTES - difference(Atomics.load(this.control, WRITTEN), this.#released);
    return room >= WAKE_WRITER_ROOM && this.takeFlag(WRITER_WAITING);
  }

  /** Whether the writer has published the end of the body (take() still returns what came before it). */
  get ended(): boolean {
    return Atomics.load(this.control, ENDED) === 1;
  }

  /**
   * Before sleeping for bytes: true when none arrived meanwhile and the body has not ended (the writer
   * will wake the reader).
   */
  waitForBytes(): boolean {
    return this.raiseFlagUnless(
      READER_WAITING,
      () => difference(Atomics.load(this.control, WRITTEN), this.#read) === 0 && !this.ended,
    );
  }
}
