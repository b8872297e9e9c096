/**
 * The CSV and JSON decoders' first try for a model of one float32 input, its commonest: a row (or a JSON
 * array's inside) read in WebAssembly (`assembly/float32-row.ts`) where it already lies, in the chunk the
 * framer's scanner copied into the memory this module shares with it (`../framing/simd-scan.ts`). Rows of
 * 32 two-decimal features read in two thirds of the JavaScript reader's time (`plain-number-row.ts`),
 * which reads every row this one leaves: a row from a chunk not lent to it (one that straddled chunks, a
 * long-lined body's), or one holding anything but plain numbers (quotes, spaces, missing values, words,
 * longer numbers).
 */
import type { NumericArray, TensorSpec } from "../../src/index.js";
import { placedAt, scannerModule } from "../framing/simd-scan.js";
import { loadWebAssemblySharing, PAGE } from "../webassembly-module.js";

/** Reads a row at `[from, end)` in the memory into `width` float32s at `out`: 1, or 0 where it cannot. */
type ReadRow = (from: number, end: number, width: number, out: number) => number;

interface RowReaderExports {
  readFloat32Row: ReadRow;
  readJsonFloat32Row: ReadRow;
  readLongFloat32Row: ReadRow;
  readLongJsonFloat32Row: ReadRow;
  heapBase(): number;
}

const { exports: rowReader, memory } = loadWebAssemblySharing<RowReaderExports>(
  new URL("./float32-row.wasm", import.meta.url),
  scannerModule,
);
/** Where a row's values are written: after the module's own data, in its page (the first). */
const VALUES = Math.ceil(rowReader.heapBase() / 16) * 16;
/** The widest row read here; wider ones are left to the JavaScript reader. */
const MOST_VALUES = (PAGE - VALUES) >> 2;
/**
 * Bytes a value, on average over a row, from which the row's fractions are read eight digits at a time:
 * rows of short numbers (`-0.35`, 5 bytes) read 13% slower that way, pandas' full-precision float64s
 * (`-0.6104540824890137`, 19 bytes) 15% faster (one core, alternating runs).
 */
const LONG_NUMBER_BYTES = 12;
/** Rows left to the JavaScript reader after one this reader could not read, before it tries again. */
const RETRY_AFTER_ROWS = 63;

/** How the numbers of a row are spelt. */
export interface NumberSpelling {
  /**
   * As JSON spells them (the inside of a JSON array): a row with `.5`, `5.` or `05` is then left to the
   * JavaScript reader, which refuses it as `JSON.parse` does.
   */
  readonly jsonNumbers?: boolean;
}

/** Reads rows of `width` plain numbers into a float32 input's array. */
export class Float32RowReader {
  readonly #width: number;
  /** Whether rows are JSON arrays' insides (whose numbers have no `.5`, `5.` or `05`), not CSV rows. */
  readonly #jsonNumbers: boolean;
  /** The values of the row just read, in the memory. */
  readonly #values: Float32Array;
  /**
   * Rows still to leave to the JavaScript reader: a body whose rows this reader cannot read (quoted
   * fields, spaces) costs it one failed try in 64 rows, not one a row.
   */
  #resting = 0;

  /**
   * A reader for a model's rows when the model takes one float32 input no wider than a row read here;
   * else undefined (the JavaScript reader reads them all).
   */
  static of(inputs: readonly TensorSpec[], spelling: NumberSpelling = {}): Float32RowReader | undefined {
    const [only] = inputs;
    return inputs.length === 1 && only.type === "float32" && only.width <= MOST_VALUES
      ? new Float32RowReader(only.width, spelling)
      : undefined;
  }

  /** @param width the values a row holds, at most {@link MOST_VALUES} */
  constructor(width: number, { jsonNumbers = false }: NumberSpelling = {}) {
    if (width > MOST_VALUES) throw new RangeError(`a row of ${width} values is too wide to read here`);
    this.#width = width;
    this.#jsonNumbers = jsonNumbers;
    this.#values = new Float32Array(memory, VALUES, width);
  }

  /**
   * Reads the row `buffer[start, end)` into `target` from `base` on, when `buffer` is a chunk lent by the
   * framer and the row holds `width` plain numbers; false (`target` untouched) otherwise. The byte at
   * `end` must not continue a number.
   */
  read(buffer: Uint8Array, start: number, end: number, target: NumericArray, base: number): boolean {
    if (this.#resting > 0) {
      this.#resting--;
      return false;
    }
    const at = placedAt(buffer);
    if (at < 0) return false;
    const width = this.#width;
    let read: number;
    if (end - start < width * LONG_NUMBER_BYTES) {
      read = this.#jsonNumbers
        ? rowReader.readJsonFloat32Row(at + start, at + end, width, VALUES)
        : rowReader.readFloat32Row(at + start, at + end, width, VALUES);
    } else {
      read = this.#jsonNumbers
        ? rowReader.readLongJsonFloat32Row(at + start, at + end, width, VALUES)
        : rowReader.readLongFloat32Row(at + start, at + end, width, VALUES);
    }
    if (read === 0) {
      this.#resting = RETRY_AFTER_ROWS;
      return false;
    }
    target.set(this.#values, base);
    return true;
  }
}
