/**
 * Line framing on bytes: a frame per line (LF or CRLF), blank lines skipped. Linear in the body: each
 * byte is looked at once (by `LineFeedFinder`), and only a line that straddles chunks is copied.
 * Lines stay bytes, so offsets are exact and invalid UTF-8 reaches the decoder as it was sent.
 */
import { Frame, type Framer, type FrameSink, type FramingError } from "../../src/index.js";
import { ByteOrderMarkSkipper } from "./byte-order-mark.js";
import { FrameBuffer } from "./frame-buffer.js";
import { LineFeedFinder } from "./line-feed-finder.js";

const CR = 0x0d;

/** True when `buffer[start, end)` holds only spaces and tabs. */
export function isBlank(buffer: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buffer[i];
    if (b !== 0x20 && b !== 0x09) return false;
  }
  return true;
}

/** Splits text into one frame per non-blank line. */
export class LineFramer implements Framer {
  readonly #pending = new FrameBuffer();
  readonly #frame = new Frame();
  readonly #byteOrderMark = new ByteOrderMarkSkipper();
  readonly #lineFeeds = new LineFeedFinder();
  /** Body offset of the first byte of the pending line. */
  #offset = 0;
  /** Line number of the pending line. */
  #line = 1;

  push(received: Uint8Array, emit: FrameSink): void {
    const chunk = this.#byteOrderMark.done ? received : this.#withoutByteOrderMark(received);
    const lineFeeds = this.#lineFeeds;
    lineFeeds.begin(chunk);
    // The chunk is lent to the decoder (see `LineFeedFinder`) until `end`, which must come even on a throw.
    try {
      let start = 0;
      for (let newline = lineFeeds.next(0); newline !== -1; newline = lineFeeds.next(start)) {
        if (this.#pending.length > 0) {
          this.#hold(chunk, start, newline);
          this.#emit(this.#pending.view(), 0, this.#pending.length, true, emit);
        } else {
          this.#emit(chunk, start, newline, true, emit);
        }
        start = newline + 1;
      }
      if (start < chunk.length) this.#hold(chunk, start, chunk.length);
    } finally {
      lineFeeds.end();
    }
  }

  /** The chunk without a leading byte-order mark (the body offset counts the mark's bytes). */
  #withoutByteOrderMark(chunk: Uint8Array): Uint8Array {
    const { rest, offsetShift } = this.#byteOrderMark.strip(chunk, this.#pending);
    this.#offset += offsetShift;
    return rest;
  }

  end(emit: FrameSink): void {
    if (this.#pending.length > 0) this.#emit(this.#pending.view(), 0, this.#pending.length, false, emit);
  }

  lineFeedCount(): number {
    return this.#line - 1;
  }

  #hold(chunk: Uint8Array, start: number, end: number): void {
    try {
      this.#pending.append(chunk, start, end);
    } catch (error) {
      const tooLarge = error as FramingError;
      tooLarge.location.line = this.#line;
      tooLarge.location.byteOffset = this.#offset;
      throw tooLarge;
    }
  }

  #emit(buffer: Uint8Array, start: number, end: number, terminated: boolean, emit: FrameSink): void {
    const contentEnd = end > start && buffer[end - 1] === CR ? end - 1 : end;
    if (!isBlank(buffer, start, contentEnd)) emit(this.#frame.set(buffer, start, contentEnd, this.#offset, this.#line));
    this.#offset += end - start + (terminated ? 1 : 0);
    if (terminated) this.#line++;
    this.#pending.clear();
  }
}
