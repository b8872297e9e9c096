/**
 * Shortest round-trip decimal text of float32s (and float64s), as ASCII bytes, without
 * `String(number)`: the digits are the fewest that read back (correctly rounded) to the same float32 (or
 * float64), and of those the closest to the exact value, laid out as JavaScript lays out numbers
 * (`0.001`, `1e-7`, `1.5e+21`).
 *
 * The printing itself is Schubfach (Raffaello Giulietti, 2020) compiled to WebAssembly from
 * `assembly/shortest-float.ts`: it needs 64-bit integer multiplications, which JavaScript can only
 * emulate. Each thread that imports this module gets its own small instance (a few pages of memory).
 */
import { type Int32RangeArray, isInt32RangeArray } from "../../src/index.js";
import { loadWebAssembly, PAGE } from "../webassembly-module.js";

interface PrinterExports {
  writeFloat32(at: number, bits: number): number;
  writeFloat32Rows(
    source: number,
    rows: number,
    width: number,
    separator: number,
    open: number,
    openLength: number,
    close: number,
    closeLength: number,
    nonFinite: number,
    nonFiniteLength: number,
    target: number,
  ): number;
  writeRows(
    plan: number,
    segments: number,
    tail: number,
    tailLength: number,
    rows: number,
    separator: number,
    nonFinite: number,
    nonFiniteLength: number,
    texts: number,
    target: number,
  ): number;
  writeFloat64(at: number, source: number): number;
  useFloat64Table(at: number): void;
  float64TableBytes(): number;
  heapBase(): number;
}

/**
 * The most bytes one value takes: `-100000000000000000000` (−1e20, 22 bytes), since JavaScript's layout
 * spells out integers below 1e21; `-0.0000012345678` is 17, `-1.2345678e-38` 14.
 */
export const MAX_FLOAT32_BYTES = 22;
/**
 * The most bytes one float64 takes: `-0.0000012345678901234567` (25); `-1.2345678901234567e-308` is 24,
 * `-100000000000000000000` 22.
 */
export const MAX_FLOAT64_BYTES = 25;
/** The most values one {@link printFloat32Rows} call prints. */
export const FLOAT32_RUN = 8192;
/** The most bytes an integer takes (`-9223372036854775808`). */
const MAX_INTEGER_BYTES = 20;
/** The longest `open`, `close` and `nonFinite` of a {@link Float32RowLayout}. */
const MAX_LAYOUT_BYTES = 8;
/** How far past its text the printer may write (fixed-size copies, overwritten by what follows). */
const OVERSHOOT_BYTES = 32;

/** The most segments a {@link RowPlan} may have, and the most bytes of text in all of them. */
const MAX_SEGMENTS = 1024;
const MAX_PLAN_TEXT_BYTES = 16 * 1024;
/** The most 32-bit words of values, and bytes of text, one run of rows may take. */
const SOURCE_WORDS = 16 * 1024;
const TEXT_BYTES = 512 * 1024;
/** The most distinct texts (strings) one run's text outputs may hold, and the most bytes of them. */
const MAX_TABLE_TEXTS = 4096;
const MAX_TABLE_BYTES = 64 * 1024;

/**
 * The working memory, after the module's own data (its tables, well within the first page): one value's
 * scratch (its text and what the printer scribbles past it; a float64's bits), a plan's segments and
 * texts, a run's values and its text, then the float64 printer's table.
 */
const SCRATCH = PAGE;
const NON_FINITE = SCRATCH + 64;
const FLOAT64_VALUE = NON_FINITE + 16;
const PLAN = FLOAT64_VALUE + 8;
const SEGMENT_WORDS = 6;
const PLAN_TEXT = PLAN + 4 * SEGMENT_WORDS * MAX_SEGMENTS;
const SOURCE = PLAN_TEXT + MAX_PLAN_TEXT_BYTES;
const TABLE = SOURCE + 4 * SOURCE_WORDS;
const TABLE_TEXT = TABLE + 8 * MAX_TABLE_TEXTS;
const TEXT = TABLE_TEXT + MAX_TABLE_BYTES;
const FLOAT64_TABLE = TEXT + TEXT_BYTES + OVERSHOOT_BYTES;
/** The powers of ten a float64's search needs, 10^−k for k from ⌊log10 2^−1074⌋ to ⌊log10 2^971⌋. */
const FLOAT64_K_MIN = -324;
const FLOAT64_K_MAX = 292;
/** The float64 table's bytes, 16 a power (checked against the module's own count once loaded). */
const FLOAT64_TABLE_BYTES = (FLOAT64_K_MAX - FLOAT64_K_MIN + 1) * 16;
const PAGES = Math.ceil((FLOAT64_TABLE + FLOAT64_TABLE_BYTES) / PAGE);

const { exports: printer, memory } = loadWebAssembly<PrinterExports>(
  new URL("./shortest-float.wasm", import.meta.url),
  PAGES,
);
if (printer.heapBase() > SCRATCH) throw new Error("the float printer's own data outgrew its first page");
if (printer.float64TableBytes() !== FLOAT64_TABLE_BYTES) throw new Error("the float64 table's size changed");
const memoryBytes = new Uint8Array(memory);
const memoryFloat64 = new Float64Array(memory);
const memoryWords = new Uint32Array(memory);
const memoryInt32 = new Int32Array(memory);

const float32Scratch = new Float32Array(1);
const bitsScratch = new Uint32Array(float32Scratch.buffer);

/**
 * Writes `value` (a float32, held in a double) at `bytes[pos]` in its shortest round-trip form and
 * returns the position after it. `bytes` must have {@link MAX_FLOAT32_BYTES} free from `pos`.
 * Negative zero is written `-0`, so that the sign survives the round trip.
 */
export function writeFloat32(bytes: Uint8Array, pos: number, value: number): number {
  float32Scratch[0] = value;
  return writeFloat32Bits(bytes, pos, bitsScratch[0]);
}

/**
 * {@link writeFloat32} for a float32 given by its IEEE bits (read them through a `Uint32Array` view of the
 * output's `Float32Array`, which saves a conversion per value). Printing whole rows,
 * {@link printFloat32Rows} costs about half as much per value: it crosses into WebAssembly once per run,
 * and copies the text out once.
 */
export function writeFloat32Bits(bytes: Uint8Array, pos: number, bits: number): number {
  return copyScratch(bytes, pos, printer.writeFloat32(SCRATCH, bits));
}

/** Copies one value's text, printed at {@link SCRATCH} up to `end`, to `bytes[pos]`; returns the position after it. */
function copyScratch(bytes: Uint8Array, pos: number, end: number): number {
  let to = pos;
  for (let at = SCRATCH; at < end; at++) bytes[to++] = memoryBytes[at];
  return to;
}

let float64TableWritten = false;

/**
 * Writes the float64 printer's table into the module's memory, once per thread, before its first value:
 * for each k, Schubfach's g for 10^−k, ⌊10^−k · 2^−r⌋ + 1 with r chosen so that
 * 2^125 ≤ g < 2^126 (Giulietti, section 9.8.3), split into its high and low 63 bits. Computed exactly
 * with BigInt (~2 ms) rather than written out in the module as 1 234 constants.
 */
function ensureFloat64Table(): void {
  if (float64TableWritten) return;
  const table = new DataView(memory, FLOAT64_TABLE, FLOAT64_TABLE_BYTES);
  const low63 = (1n << 63n) - 1n;
  for (let k = FLOAT64_K_MIN; k <= FLOAT64_K_MAX; k++) {
    const power = 10n ** BigInt(Math.abs(k));
    const bits = power.toString(2).length;
    let g: bigint;
    if (k <= 0) {
      // 10^−k, an integer of `bits` bits, shifted to 126.
      g = (bits <= 126 ? power << BigInt(126 - bits) : power >> BigInt(bits - 126)) + 1n;
    } else {
      // 1 / 10^k: 10^k is no power of two, so 2^(125 + bits) / 10^k lies between 2^125 and 2^126.
      g = (1n << BigInt(125 + bits)) / power + 1n;
    }
    const at = (k - FLOAT64_K_MIN) * 16;
    table.setBigUint64(at, g >> 63n, true);
    table.setBigUint64(at + 8, g & low63, true);
  }
  printer.useFloat64Table(FLOAT64_TABLE);
  float64TableWritten = true;
}

/**
 * Writes `value` (a float64) at `bytes[pos]` as `String(value)` would, but for negative zero (`-0`, so
 * that the sign survives the round trip), and returns the position after it. `bytes` must have
 * {@link MAX_FLOAT64_BYTES} free from `pos`.
 */
export function writeFloat64(bytes: Uint8Array, pos: number, value: number): number {
  ensureFloat64Table();
  memoryFloat64[FLOAT64_VALUE >> 3] = value;
  return copyScratch(bytes, pos, printer.writeFloat64(SCRATCH, FLOAT64_VALUE));
}

/** How {@link printFloat32Rows} lays out a row: printable ASCII, at most 8 bytes each. */
export interface Float32RowLayout {
  /** Before a row's values (`[`, or nothing). */
  readonly open: string;
  /** Between two values of a row: one byte (`,`). */
  readonly separator: string;
  /** After a row's values (`]\n`). */
  readonly close: string;
  /** What NaN and infinities are written as (JSON's `null`); as JavaScript spells them when absent. */
  readonly nonFinite?: string;
}

const utf8 = new TextEncoder();
const PRINTABLE_ASCII = /^[\x20-\x7e\n\r\t]*$/;

/**
 * Prints rows `[firstRow, firstRow + rows)` of a tensor `width` values wide, whose float32 IEEE bits are
 * `bits`, laid out as `layout` says; at most {@link FLOAT32_RUN} values at a time. The text returned is
 * valid until the next call in the same thread: copy it at once.
 */
export function printFloat32Rows(
  bits: Uint32Array,
  firstRow: number,
  rows: number,
  width: number,
  layout: Float32RowLayout,
): Uint8Array {
  if (rows * width > FLOAT32_RUN || rows > FLOAT32_RUN) {
    throw new RangeError(`printFloat32Rows prints at most ${FLOAT32_RUN} values a call`);
  }
  if (layout.separator.length !== 1) throw new RangeError("a float32 row layout's separator is one byte");
  for (const [what, text] of [
    ["open", layout.open],
    ["close", layout.close],
    ["nonFinite", layout.nonFinite ?? ""],
  ] as const) {
    if (text.length > MAX_LAYOUT_BYTES || !PRINTABLE_ASCII.test(text)) {
      throw new RangeError(`a float32 row layout's ${what} is printable ASCII of at most ${MAX_LAYOUT_BYTES} bytes`);
    }
  }
  const plan = new RowPlan(
    [{ text: layout.open, output: 0, column: 0, count: width }],
    layout.close,
    layout.separator,
    layout.nonFinite,
  );
  return plan.print([bits], [width], firstRow, rows);
}

/** One piece of a {@link RowPlan}'s row: a text, then `count` values of one output from `column` on. */
export interface RowSegment {
  readonly text: string;
  /** Which of the outputs the values are read from. */
  readonly output: number;
  readonly column: number;
  readonly count: number;
}

/**
 * A text output's values as a {@link RowPlan} prints them: each distinct string once, as `quote` writes
 * it (a CSV field, a JSON string) in UTF-8, and an index into those per value. Class labels are a handful
 * of strings repeated over every record.
 */
export class QuotedTexts {
  /** Per value, the index of its text in {@link texts}. */
  readonly indexes: Uint32Array;
  readonly texts: Uint8Array[] = [];
  /** The length of the longest text, and of all of them together. */
  readonly longest: number = 0;
  readonly bytes: number = 0;

  constructor(values: readonly string[], quote: (text: string) => string) {
    this.indexes = new Uint32Array(values.length);
    const seen = new Map<string, number>();
    for (let i = 0; i < values.length; i++) {
      let index = seen.get(values[i]);
      if (index === undefined) {
        index = this.texts.length;
        seen.set(values[i], index);
        const text = utf8.encode(quote(values[i]));
        this.texts.push(text);
        this.longest = Math.max(this.longest, text.length);
        this.bytes += text.length;
        // Past the table's room the plan cannot take the batch anyway: stop counting.
        if (this.texts.length > MAX_TABLE_TEXTS || this.bytes > MAX_TABLE_BYTES) return;
      }
      this.indexes[i] = index;
    }
  }
}

/**
 * The values a {@link RowPlan} prints: float32 and float64 (shortest round-trip; a `Uint32Array` holds
 * float32 IEEE bits, as {@link printFloat32Rows} takes them), integers, and texts ({@link QuotedTexts}).
 */
export type PrintableValues =
  | Float32Array
  | Float64Array
  | Uint32Array
  | Int32RangeArray
  | BigInt64Array
  | BigUint64Array
  | QuotedTexts;

/** The 64-bit values a {@link RowPlan} prints, two 32-bit words each. */
const isWide = (data: PrintableValues): data is Float64Array | BigInt64Array | BigUint64Array =>
  data instanceof Float64Array || data instanceof BigInt64Array || data instanceof BigUint64Array;

/**
 * `values` (outputs' data) as a {@link RowPlan} prints them when it can print every one: floats,
 * integers, and strings when given `quote`; undefined otherwise.
 */
export function printableValues(
  values: readonly unknown[],
  quote?: (text: string) => string,
): PrintableValues[] | undefined {
  const printable: PrintableValues[] = [];
  for (const data of values) {
    if (
      data instanceof Float32Array ||
      data instanceof Float64Array ||
      isInt32RangeArray(data) ||
      data instanceof BigInt64Array ||
      data instanceof BigUint64Array
    ) {
      printable.push(data);
    } else if (quote !== undefined && Array.isArray(data) && data.every((value) => typeof value === "string")) {
      printable.push(new QuotedTexts(data, quote));
    } else {
      return undefined;
    }
  }
  return printable;
}

/** Value kinds, as the WebAssembly side numbers them. */
const FLOAT32_KIND = 0;
const INT32_KIND = 1;
const INT64_KIND = 2;
const TEXT_KIND = 3;
const FLOAT64_KIND = 4;
const UINT64_KIND = 5;

/**
 * How to print a run of rows made of several outputs' values and fixed texts in one call into
 * WebAssembly (a CSV line of a label and its probabilities, a JSON object of named outputs): each row is
 * every segment's text followed by its values, `separator` between values, then `tail`. It costs about
 * what {@link printFloat32Rows} costs a value, where printing value by value costs twice as much and
 * integers and float64s went through `String()`; texts cost a lookup each (a handful of class labels).
 */
export class RowPlan {
  readonly #segments: readonly RowSegment[];
  readonly #texts: Uint8Array[];
  readonly #tail: Uint8Array;
  readonly #separator: number;
  readonly #nonFinite: Uint8Array | undefined;
  /** Whether the plan fits the module's memory at all (few enough segments and text bytes). */
  readonly fits: boolean;

  /**
   * `separator` is one byte; `nonFinite` (printable ASCII, at most 8 bytes) replaces NaN and
   * infinities when given (JSON), else they are spelled as JavaScript spells them.
   */
  constructor(segments: readonly RowSegment[], tail: string, separator: string, nonFinite?: string) {
    if (separator.length !== 1 || separator.charCodeAt(0) > 0x7f) {
      throw new RangeError("a row plan's separator is one ASCII byte");
    }
    this.#segments = segments;
    this.#texts = segments.map((segment) => utf8.encode(segment.text));
    this.#tail = utf8.encode(tail);
    this.#separator = separator.charCodeAt(0);
    this.#nonFinite = nonFinite === undefined ? undefined : utf8.encode(nonFinite);
    const textBytes = this.#texts.reduce((sum, text) => sum + text.length, this.#tail.length);
    this.fits =
      segments.length <= MAX_SEGMENTS &&
      textBytes <= MAX_PLAN_TEXT_BYTES &&
      (this.#nonFinite?.length ?? 0) <= MAX_LAYOUT_BYTES;
  }

  /**
   * How many rows one {@link print} call takes for outputs `widths` values wide (0 when not even one
   * row fits the module's memory).
   */
  rowsPerRun(values: readonly PrintableValues[], widths: readonly number[]): number {
    for (const { output, column, count } of this.#segments) {
      if (!(output >= 0 && output < values.length && column >= 0 && count >= 0 && column + count <= widths[output])) {
        throw new RangeError(`a row plan's segment reads past output ${output}'s ${widths[output]} values`);
      }
    }
    let words = 0;
    let bytes = this.#tail.length;
    let tableTexts = 0;
    let tableBytes = 0;
    for (let o = 0; o < values.length; o++) {
      const data = values[o];
      words += widths[o] * (isWide(data) ? 2 : 1);
      if (data instanceof QuotedTexts) {
        tableTexts += data.texts.length;
        tableBytes += data.bytes;
      }
    }
    for (let s = 0; s < this.#segments.length; s++) {
      const { output, count } = this.#segments[s];
      const data = values[output];
      const valueBytes =
        data instanceof QuotedTexts
          ? data.longest
          : data instanceof Float64Array
            ? MAX_FLOAT64_BYTES
            : Math.max(MAX_FLOAT32_BYTES, MAX_INTEGER_BYTES);
      bytes += this.#texts[s].length + count * (valueBytes + 1);
    }
    if (!this.fits || tableTexts > MAX_TABLE_TEXTS || tableBytes > MAX_TABLE_BYTES) return 0;
    return Math.min(words === 0 ? FLOAT32_RUN : Math.floor(SOURCE_WORDS / words), Math.floor(TEXT_BYTES / bytes));
  }

  /**
   * Prints rows `[firstRow, firstRow + rows)`, at most {@link rowsPerRun} of them, of outputs `values`
   * (row after row, `widths[o]` values each). The text returned is valid until the next call in the
   * same thread: copy it at once.
   */
  print(values: readonly PrintableValues[], widths: readonly number[], firstRow: number, rows: number): Uint8Array {
    if (rows > this.rowsPerRun(values, widths)) throw new RangeError("too many rows for one run of a row plan");
    // Each output's rows, one after the other; where each starts, and its kind.
    const starts: number[] = [];
    const kinds: number[] = [];
    let word = SOURCE >> 2;
    let tableEntry = 0;
    let tableText = TABLE_TEXT;
    for (let o = 0; o < values.length; o++) {
      const data = values[o];
      const width = widths[o];
      starts.push(word);
      if (data instanceof QuotedTexts) {
        // Its table's entries follow the other text outputs', so its indexes move up by those.
        kinds.push(TEXT_KIND);
        const run = data.indexes.subarray(firstRow * width, (firstRow + rows) * width);
        if (tableEntry === 0) memoryWords.set(run, word);
        else for (let i = 0; i < run.length; i++) memoryWords[word + i] = run[i] + tableEntry;
        for (const text of data.texts) {
          memoryBytes.set(text, tableText);
          memoryWords[(TABLE >> 2) + 2 * tableEntry] = tableText;
          memoryWords[(TABLE >> 2) + 2 * tableEntry + 1] = text.length;
          tableText += text.length;
          tableEntry++;
        }
        word += rows * width;
        continue;
      }
      if (isWide(data)) {
        if (data instanceof Float64Array) ensureFloat64Table();
        kinds.push(
          data instanceof Float64Array ? FLOAT64_KIND : data instanceof BigInt64Array ? INT64_KIND : UINT64_KIND,
        );
        const pairs = new Uint32Array(data.buffer, data.byteOffset + 8 * firstRow * width, 2 * rows * width);
        memoryWords.set(pairs, word);
        word += 2 * rows * width;
        continue;
      }
      const run = data.subarray(firstRow * width, (firstRow + rows) * width);
      if (data instanceof Float32Array) {
        kinds.push(FLOAT32_KIND);
        memoryWords.set(new Uint32Array(run.buffer, run.byteOffset, run.length), word);
      } else if (data instanceof Uint32Array) {
        // Float32 IEEE bits, as printFloat32Rows takes them.
        kinds.push(FLOAT32_KIND);
        memoryWords.set(run, word);
      } else {
        kinds.push(INT32_KIND);
        memoryInt32.set(run, word);
      }
      word += rows * width;
    }
    let text = PLAN_TEXT;
    for (let s = 0; s < this.#segments.length; s++) {
      const { output, column, count } = this.#segments[s];
      const size = isWide(values[output]) ? 8 : 4;
      const at = (PLAN >> 2) + s * SEGMENT_WORDS;
      memoryBytes.set(this.#texts[s], text);
      memoryWords[at] = text;
      memoryWords[at + 1] = this.#texts[s].length;
      memoryWords[at + 2] = 4 * starts[output] + size * column;
      memoryWords[at + 3] = size * widths[output];
      memoryWords[at + 4] = count;
      memoryWords[at + 5] = kinds[output];
      text += this.#texts[s].length;
    }
    memoryBytes.set(this.#tail, text);
    if (this.#nonFinite !== undefined) memoryBytes.set(this.#nonFinite, NON_FINITE);
    const nonFiniteLength = this.#nonFinite?.length ?? -1;
    const [only] = this.#segments;
    if (values.length === 1 && kinds[0] === FLOAT32_KIND && only?.column === 0 && only.count === widths[0]) {
      // One float32 output, whole rows (the commonest answer): its own loop, 10% faster on wide rows.
      const length = printer.writeFloat32Rows(
        SOURCE,
        rows,
        widths[0],
        this.#separator,
        PLAN_TEXT,
        this.#texts[0].length,
        text,
        this.#tail.length,
        NON_FINITE,
        nonFiniteLength,
        TEXT,
      );
      return memoryBytes.subarray(TEXT, TEXT + length);
    }
    const length = printer.writeRows(
      PLAN,
      this.#segments.length,
      text,
      this.#tail.length,
      rows,
      this.#separator,
      NON_FINITE,
      nonFiniteLength,
      TABLE,
      TEXT,
    );
    return memoryBytes.subarray(TEXT, TEXT + length);
  }
}
