/**
 * Finding a chunk's line feeds for the text framers, by whichever way is cheaper for the lines at hand:
 * the SIMD scanner (`simd-scan.ts`: one copy of the chunk, then a short call per line) while lines are
 * short, `memchr` (`byte-search.ts`: one call into C++ per line, whatever its length) once they are long.
 * On chunks in shared memory, as codec threads get them, 32-feature CSV rows (~170 bytes) framed and
 * decoded 11% faster with the scanner, and MNIST rows (~2.8 KB) 3% slower.
 */
import { indexOfByte } from "./byte-search.js";
import { ChunkScanner } from "./simd-scan.js";

const LF = 0x0a;
/** Lines shorter than this on average are found with the scanner. */
const SHORT_LINE_BYTES = 1024;

/** Finds line feeds in one chunk at a time; judges each chunk by the lines of the one before. */
export class LineFeedFinder {
  /** Lends each chunk it scans to the decoder the framer hands frames to (a CSV row is read where it lies). */
  readonly #scanner = new ChunkScanner(true);
  #chunk: Uint8Array = new Uint8Array(0);
  #scanned = false;
  #shortLines = true;
  #found = 0;

  /** Starts on `chunk`; the chunk before it is done with. */
  begin(chunk: Uint8Array): void {
    this.#chunk = chunk;
    this.#scanned = this.#shortLines && this.#scanner.load(chunk);
    this.#found = 0;
  }

  /** The index of the first line feed at or after `from` in the chunk, or -1. */
  next(from: number): number {
    const chunk = this.#chunk;
    const found = this.#scanned ? this.#scanner.indexOfByte(LF, from) : indexOfByte(chunk, LF, from);
    if (found >= 0) this.#found++;
    return found;
  }

  /**
   * The index of the first line feed outside double quotes at or after `from` (outside quotes itself), as
   * the scanner finds it; -1 when there is none, or when this chunk is not scanned (its lines are long):
   * the caller then walks the bytes itself. {@link quotedBreaks} counts the line feeds inside quotes before
   * the one found.
   */
  nextOutsideQuotes(from: number): number {
    if (!this.#scanned) return -1;
    const found = this.#scanner.lineFeedOutsideQuotes(from);
    if (found >= 0) this.#found++;
    return found;
  }

  /** Line feeds inside quotes before the one {@link nextOutsideQuotes} last found. */
  get quotedBreaks(): number {
    return this.#scanner.quotedBreaks;
  }

  /** Ends the chunk (and its loan): its lines decide how the next chunk's are found. */
  end(): void {
    this.#scanner.release();
    this.#shortLines = this.#found * SHORT_LINE_BYTES > this.#chunk.length;
  }
}
