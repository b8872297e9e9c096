/**
 * Record ends for line-framed text (JSON Lines): every line feed ends a record, since a JSON value on
 * one line holds no raw line feed. Nothing is carried from one piece of the body to the next.
 */
import type { RecordBoundaryScanner } from "../../src/index.js";
import { indexOfByte } from "./byte-search.js";

const LF = 0x0a;

/** Cuts line-framed bodies after a line feed. */
export class LineBoundaryScanner implements RecordBoundaryScanner {
  skip(): void {}

  findEnd(bytes: Uint8Array): number {
    const lineFeed = indexOfByte(bytes, LF, 0);
    return lineFeed === -1 ? -1 : lineFeed + 1;
  }
}
