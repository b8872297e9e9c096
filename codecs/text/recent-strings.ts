/**
 * Strings of short UTF-8 fields, remembered by their bytes. A categorical column repeats a handful of
 * values (`red`, `green`, …) over millions of rows: finding the string made for the same bytes before
 * spares a decoder call and a new string per field, about a fifth of the time of reading a row of a
 * category and 31 numbers.
 */

/** How many strings are remembered: a direct-mapped table, one per slot, chosen by a hash of the bytes. */
const SLOTS = 256;
/** The longest field remembered, in bytes; longer ones are decoded each time. */
const MAX_LENGTH = 32;
/** Lookups per check of how many hit. */
const CHECK_EVERY = 4096;
/** Fewer hits than this per check, and fields are decoded without lookups for a while. */
const FEW_HITS = CHECK_EVERY / 8;
/** How many fields a column of ever-new values (ids, free text) is decoded directly before looking again. */
const BYPASS_FIELDS = 16 * CHECK_EVERY;
/** Strict: invalid UTF-8 is refused, never silently replaced by U+FFFD. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes UTF-8 fields, returning the same string for the same bytes seen recently. Where fields are
 * mostly new (a column of ids), it stops looking for a while and decodes each.
 */
export class RecentStrings {
  /** Each slot's bytes, `MAX_LENGTH` apart, so that a miss allocates nothing but its string. */
  readonly #bytes = new Uint8Array(SLOTS * MAX_LENGTH);
  /** Each slot's byte count; -1 for an empty slot. */
  readonly #lengths = new Int32Array(SLOTS).fill(-1);
  readonly #strings = new Array<string>(SLOTS).fill("");
  #lookups = 0;
  #hits = 0;
  /** Fields still to decode without a lookup, because lookups lately missed. */
  #bypass = 0;

  /** The string of `bytes[start, end)`, or undefined where it is not valid UTF-8. */
  decode(bytes: Uint8Array, start: number, end: number): string | undefined {
    const length = end - start;
    if (length > MAX_LENGTH) return decodeStrictly(bytes, start, end);
    if (this.#bypass > 0) {
      this.#bypass--;
      return decodeStrictly(bytes, start, end);
    }
    if (++this.#lookups === CHECK_EVERY) {
      // Lookups that mostly miss cost a hash and a copy per field for nothing.
      if (this.#hits < FEW_HITS) this.#bypass = BYPASS_FIELDS;
      this.#lookups = 0;
      this.#hits = 0;
    }
    // FNV-1a.
    let hash = 0x811c9dc5;
    for (let k = start; k < end; k++) hash = Math.imul(hash ^ bytes[k], 0x01000193);
    const slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
    const stored = this.#bytes;
    const at = slot * MAX_LENGTH;
    if (this.#lengths[slot] === length) {
      let k = 0;
      while (k < length && stored[at + k] === bytes[start + k]) k++;
      if (k === length) {
        this.#hits++;
        return this.#strings[slot];
      }
    }
    const text = decodeStrictly(bytes, start, end);
    if (text !== undefined) {
      for (let k = 0; k < length; k++) stored[at + k] = bytes[start + k];
      this.#lengths[slot] = length;
      this.#strings[slot] = text;
    }
    return text;
  }
}

let threadTable: RecentStrings | undefined;

/**
 * The table this thread's decoders share. Each invocation makes its decoders afresh, and a table of its
 * own (~9 KB) was a sixth of what making a CSV decoder cost a one-record body; shared, a category seen by
 * one body is found again in the next. Lookups are synchronous, so decoders on one thread cannot interleave
 * inside one; a column of ids in one body sends the others' lookups past the table for a while, at the
 * cost of a decoder call each.
 */
export function recentStrings(): RecentStrings {
  threadTable ??= new RecentStrings();
  return threadTable;
}

function decodeStrictly(bytes: Uint8Array, start: number, end: number): string | undefined {
  try {
    return utf8.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
}
