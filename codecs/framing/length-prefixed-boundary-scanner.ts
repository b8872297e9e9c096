/**
 * Record ends for length-prefixed frames (RecordIO, TFRecord): each header is read with the format's own
 * {@link FrameLayout}, and the payload and trailer it announces are skipped unread (no checksum), so a
 * chunk costs one header read per frame. A record ends after a frame that ends one (RecordIO's records of
 * several frames end with their last). A header the layout refuses stops the scanner for good: the body is
 * cut no more, and the codec thread that frames those bytes reports the error.
 */
import type { RecordBoundaryScanner } from "../../src/index.js";
import type { FrameHeader, FrameLayout } from "./length-prefixed-framer.js";

/** Cuts length-prefixed bodies after a frame that ends a record. */
export class LengthPrefixedBoundaryScanner implements RecordBoundaryScanner {
  readonly #header: Uint8Array;
  readonly #view: DataView;
  /** Header bytes gathered so far. */
  #gathered = 0;
  /** Payload and trailer bytes of the current frame still to pass. */
  #remaining = 0;
  readonly #frame: FrameHeader = { payloadBytes: 0, trailerBytes: 0, startsRecord: true, endsRecord: true };
  /** Body offset of the next byte, for the layout's errors (which are not kept). */
  #offset = 0;
  #lost = false;

  constructor(private readonly layout: FrameLayout) {
    this.#header = new Uint8Array(layout.headerBytes);
    this.#view = new DataView(this.#header.buffer);
  }

  skip(bytes: Uint8Array): void {
    this.#advance(bytes, false);
  }

  findEnd(bytes: Uint8Array): number {
    return this.#advance(bytes, true);
  }

  /** Passes over `bytes`; with `stopAtEnd`, returns how many take it past the first record end (else -1). */
  #advance(bytes: Uint8Array, stopAtEnd: boolean): number {
    const length = bytes.byteLength;
    let i = 0;
    while (i < length && !this.#lost) {
      if (this.#remaining > 0) {
        const passed = Math.min(this.#remaining, length - i);
        this.#remaining -= passed;
        i += passed;
        if (this.#remaining === 0 && stopAtEnd && this.#frame.endsRecord) return this.#passed(i);
        continue;
      }
      const taken = Math.min(this.#header.length - this.#gathered, length - i);
      this.#header.set(bytes.subarray(i, i + taken), this.#gathered);
      this.#gathered += taken;
      i += taken;
      if (this.#gathered < this.#header.length) break;
      this.#gathered = 0;
      try {
        this.layout.readHeader(this.#header, this.#view, this.#offset + i - this.#header.length, false, this.#frame, 0);
      } catch {
        this.#lost = true;
        break;
      }
      this.#remaining = this.#frame.payloadBytes + this.#frame.trailerBytes;
      if (this.#remaining === 0 && stopAtEnd && this.#frame.endsRecord) return this.#passed(i);
    }
    this.#offset += length;
    return -1;
  }

  #passed(consumed: number): number {
    this.#offset += consumed;
    return consumed;
  }
}
