/**
 * RFC 4180 framing: a record ends at a line break outside double quotes, so quoted fields may hold
 * commas, quotes (doubled) and line breaks. CRLF and LF both end records; blank lines are skipped.
 */
import { Frame, type Framer, type FrameSink, FramingError } from "../../src/index.js";
import { ByteOrderMarkSkipper } from "./byte-order-mark.js";
import { indexOfByte } from "./byte-search.js";
import { FrameBuffer } from "./frame-buffer.js";
import { LineFeedFinder } from "./line-feed-finder.js";
import { isBlank } from "./line-framer.js";

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** Splits CSV text into one frame per record (without its line break). */
export class CsvFramer implements Framer {
  readonly #pending = new FrameBuffer();
  readonly #frame = new Frame();
  readonly #byteOrderMark = new ByteOrderMarkSkipper();
  #inQuotes = false;
  /** Body offset of the first byte of the pending record. */
  #offset = 0;
  /** Line of the first byte of the pending record. */
  #line = 1;
  /** Line breaks inside quotes in the pending record. */
  #quotedBreaks = 0;
  /** Where the open quote started (for the error when it never closes). */
  #quoteOffset = 0;
  #quoteLine = 0;
  readonly #lineFeeds = new LineFeedFinder();

  push(received: Uint8Array, emit: FrameSink): void {
    const chunk = this.#byteOrderMark.done ? received : this.#withoutByteOrderMark(received);
    const n = chunk.length;
    let start = 0;
    let i = 0;
    // Next quote / line feed at or after i; recomputed only once passed, so each byte is scanned O(1) times.
    let quote = -2;
    let newline = -2;
    const lineFeeds = this.#lineFeeds;
    lineFeeds.begin(chunk);
    // The chunk is lent to the decoder (see `LineFeedFinder`) until `end`, which must come even on a throw.
    try {
      while (i < n) {
        if (quote !== -1 && quote < i) quote = indexOfByte(chunk, QUOTE, i);
        if (this.#inQuotes) {
          const end = quote === -1 ? n : quote;
          for (let j = i; j < end; j++) if (chunk[j] === LF) this.#quotedBreaks++;
          if (quote === -1) break;
          this.#inQuotes = false;
          i = quote + 1;
          continue;
        }
        if (newline !== -1 && newline < i) newline = lineFeeds.next(i);
        if (quote !== -1 && (newline === -1 || quote < newline)) {
          // A record with quotes (as Athena writes every field): its end found at once, by the SIMD scanner
          // or else by walking its bytes, rather than by a search for each quote.
          let lineFeed = lineFeeds.nextOutsideQuotes(quote);
          if (lineFeed !== -1) this.#quotedBreaks += lineFeeds.quotedBreaks;
          else lineFeed = this.#quotedRecordEnd(chunk, quote, start);
          if (lineFeed === -1) break;
          this.#emitTo(chunk, start, lineFeed, emit);
          i = start = lineFeed + 1;
          continue;
        }
        if (newline === -1) break;
        this.#emitTo(chunk, start, newline, emit);
        i = start = newline + 1;
      }
      if (start < n) this.#pending.append(chunk, start, n);
    } finally {
      lineFeeds.end();
    }
  }

  /**
   * From `quote` (a quote opening, outside quotes) on, finds the line feed that ends the record begun at
   * `start`, counting the line breaks inside quotes; -1 when the chunk ends first (`#inQuotes` then says
   * whether it ended inside quotes).
   */
  #quotedRecordEnd(chunk: Uint8Array, quote: number, start: number): number {
    let inQuotes = false;
    let breaks = 0;
    let opened = quote;
    let breaksBeforeOpened = 0;
    for (let j = quote; j < chunk.length; j++) {
      const byte = chunk[j];
      if (byte === QUOTE) {
        inQuotes = !inQuotes;
        if (inQuotes) {
          opened = j;
          breaksBeforeOpened = breaks;
        }
      } else if (byte === LF) {
        if (!inQuotes) {
          this.#quotedBreaks += breaks;
          return j;
        }
        breaks++;
      }
    }
    if (inQuotes) {
      this.#quoteOffset = this.#offset + this.#pending.length + (opened - start);
      this.#quoteLine = this.#line + this.#quotedBreaks + breaksBeforeOpened;
    }
    this.#inQuotes = inQuotes;
    this.#quotedBreaks += breaks;
    return -1;
  }

  /** Emits the record that ends at `lineFeed` in `chunk`, begun at `start` (after any pending bytes). */
  #emitTo(chunk: Uint8Array, start: number, lineFeed: number, emit: FrameSink): void {
    if (this.#pending.length > 0) {
      this.#pending.append(chunk, start, lineFeed);
      this.#emit(this.#pending.view(), 0, this.#pending.length, true, emit);
    } else {
      this.#emit(chunk, start, lineFeed, true, emit);
    }
  }

  /** The chunk without a leading byte-order mark (the body offset counts the mark's bytes). */
  #withoutByteOrderMark(chunk: Uint8Array): Uint8Array {
    const { rest, offsetShift } = this.#byteOrderMark.strip(chunk, this.#pending);
    this.#offset += offsetShift;
    return rest;
  }

  end(emit: FrameSink): void {
    if (this.#inQuotes) {
      throw new FramingError("CSV_QUOTE_NOT_CLOSED", "a quoted field is not closed before the end of the body", {
        byteOffset: this.#quoteOffset,
        line: this.#quoteLine,
      });
    }
    if (this.#pending.length > 0) this.#emit(this.#pending.view(), 0, this.#pending.length, false, emit);
  }

  lineFeedCount(): number {
    return this.#line - 1;
  }

  /** Emits one record, `buffer[start, end)` (unless blank), and moves the position past it and its line feed. */
  #emit(buffer: Uint8Array, start: number, end: number, terminated: boolean, emit: FrameSink): void {
    const contentEnd = end > start && buffer[end - 1] === CR ? end - 1 : end;
    if (!isBlank(buffer, start, contentEnd)) {
      emit(this.#frame.set(buffer, start, contentEnd, this.#offset, this.#line));
    }
    this.#offset += end - start + (terminated ? 1 : 0);
    this.#line += this.#quotedBreaks + (terminated ? 1 : 0);
    this.#quotedBreaks = 0;
    this.#pending.clear();
  }
}
