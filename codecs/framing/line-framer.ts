/**
 * Line framing on split2: a frame per line (LF or CRLF), blank lines skipped. split2 is a Transform
 * stream, but it splits synchronously inside `write()`, so the framer drains its lines straight after
 * each chunk and stays a synchronous, push-driven `Framer`.
 */

import type { Transform } from "node:stream";
import split2 from "split2";
import type { Frame, Framer, FrameSink } from "../../src/index.js";
import { MAX_RECORD_BYTES, recordTooLarge } from "./frame-buffer.js";

const encoder = new TextEncoder();

/** Splits UTF-8 text into one frame per non-blank line. */
export class LineFramer implements Framer {
  readonly #lines: Transform = split2("\n", { maxLength: MAX_RECORD_BYTES });
  readonly #frame: Frame = { bytes: new Uint8Array(0), byteOffset: 0, line: 0 };
  #line = 0;
  #offset = 0;

  constructor() {
    // Errors are read from `errored` after each write; the listener keeps them from being thrown async.
    this.#lines.on("error", () => {});
  }

  push(chunk: Uint8Array, emit: FrameSink): void {
    this.#lines.write(chunk);
    this.#drain(emit);
  }

  end(emit: FrameSink): void {
    this.#lines.end();
    this.#drain(emit);
  }

  #drain(emit: FrameSink): void {
    if (this.#lines.errored) {
      // split2's only error: a line longer than maxLength.
      const error = recordTooLarge();
      error.location.line = this.#line + 1;
      error.location.byteOffset = this.#offset;
      throw error;
    }
    for (let text: string | null = this.#lines.read(); text !== null; text = this.#lines.read()) {
      const byteLength = Buffer.byteLength(text);
      this.#line++;
      const content = text.endsWith("\r") ? text.slice(0, -1) : text;
      if (content.trim() !== "") {
        const frame = this.#frame;
        frame.bytes = encoder.encode(content);
        frame.byteOffset = this.#offset;
        frame.line = this.#line;
        emit(frame);
      }
      this.#offset += byteLength + 1;
    }
  }
}
