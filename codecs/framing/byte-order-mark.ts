/**
 * A UTF-8 byte-order mark (EF BB BF) at the very start of a text body is not data: Excel's "CSV UTF-8"
 * writes one, and it would otherwise make the first field of the first record unreadable. Text framers
 * drop it, even when it is split across chunks. A body that starts with a UTF-16 one is refused at once
 * (see {@link refuseUtf16Start}).
 */

import { FramingError } from "../../src/index.js";
import type { FrameBuffer } from "./frame-buffer.js";

/** The UTF-8 byte-order mark. */
export const BYTE_ORDER_MARK: readonly number[] = [0xef, 0xbb, 0xbf];

/**
 * Throws for a text body whose first byte is FE or FF, which UTF-8 never holds: a UTF-16 (or UTF-32)
 * byte-order mark starts so (FF FE, FE FF), as Excel's "Unicode Text" and Windows PowerShell's `Out-File`
 * write them. Read as UTF-8, such a body failed at its first field with an error that quoted the
 * interleaved zero bytes (`field 0 "��1\u0000" is not a number`), and said nothing of the encoding.
 */
export function refuseUtf16Start(firstByte: number): void {
  if (firstByte !== 0xfe && firstByte !== 0xff) return;
  throw new FramingError(
    "BODY_NOT_UTF8",
    `the text starts with byte ${firstByte.toString(16).toUpperCase()}, which UTF-8 never holds and a UTF-16 file's byte-order mark (FF FE or FE FF) starts with: text formats are read as UTF-8, so convert the file first (e.g. iconv -f UTF-16 -t UTF-8)`,
    { byteOffset: 0, line: 1 },
  );
}

/** Recognises a byte-order mark at the start of a body, chunk by chunk. */
export class ByteOrderMarkSkipper {
  #matched = 0;
  #done = false;

  /** True once the start of the body has been decided (a mark dropped, or none there). */
  get done(): boolean {
    return this.#done;
  }

  /**
   * How many bytes at the start of `chunk` belong to a mark (to be dropped), and the bytes of an earlier
   * chunk that looked like the start of a mark but were data after all (to be framed before `chunk`).
   */
  skip(chunk: Uint8Array): { readonly drop: number; readonly replay?: Uint8Array } {
    if (this.#matched === 0 && chunk.length > 0) refuseUtf16Start(chunk[0]);
    let i = 0;
    while (this.#matched < BYTE_ORDER_MARK.length && i < chunk.length) {
      if (chunk[i] !== BYTE_ORDER_MARK[this.#matched]) {
        this.#done = true;
        const replay = this.#matched - i > 0 ? Uint8Array.from(BYTE_ORDER_MARK.slice(0, this.#matched - i)) : undefined;
        return { drop: 0, replay };
      }
      this.#matched++;
      i++;
    }
    if (this.#matched === BYTE_ORDER_MARK.length) this.#done = true;
    return { drop: i };
  }

  /**
   * `chunk` as the framer should read it: without a leading mark, and with the bytes of an earlier chunk
   * that looked like a mark but were data put back into `pending` first. `offsetShift` is how far the
   * body offset of the pending record moves (the dropped mark counts as body bytes).
   */
  strip(chunk: Uint8Array, pending: FrameBuffer): { readonly rest: Uint8Array; readonly offsetShift: number } {
    const { drop, replay } = this.skip(chunk);
    if (replay) pending.append(replay);
    return { rest: chunk.subarray(drop), offsetShift: drop - (replay?.length ?? 0) };
  }
}
