/**
 * Record ends for CSV, as `CsvFramer` finds them: a line feed outside double quotes. Every quote opens or
 * closes a quoted stretch (a doubled quote inside one closes and reopens it), so whether a line feed is
 * quoted is the parity of the quotes before it; skipping counts quotes with `memchr`, a few per chunk.
 */
import type { RecordBoundaryScanner } from "../../src/index.js";
import { indexOfByte } from "./byte-search.js";

const LF = 0x0a;
const QUOTE = 0x22;

/** Cuts CSV bodies after a line feed outside quotes. */
export class CsvBoundaryScanner implements RecordBoundaryScanner {
  #inQuotes = false;

  skip(bytes: Uint8Array): void {
    let inQuotes = this.#inQuotes;
    for (let quote = indexOfByte(bytes, QUOTE, 0); quote !== -1; quote = indexOfByte(bytes, QUOTE, quote + 1)) {
      inQuotes = !inQuotes;
    }
    this.#inQuotes = inQuotes;
  }

  findEnd(bytes: Uint8Array): number {
    let i = 0;
    for (;;) {
      const quote = indexOfByte(bytes, QUOTE, i);
      if (this.#inQuotes) {
        if (quote === -1) return -1;
        this.#inQuotes = false;
        i = quote + 1;
        continue;
      }
      const lineFeed = indexOfByte(bytes, LF, i);
      if (lineFeed !== -1 && (quote === -1 || lineFeed < quote)) return lineFeed + 1;
      if (quote === -1) return -1;
      this.#inQuotes = true;
      i = quote + 1;
    }
  }
}
