/**
 * Shortest round-trip decimal text of float32s, as ASCII bytes, without `String(number)`: the digits are
 * the fewest that read back (correctly rounded) to the same float32, and of those the closest to the
 * exact value, laid out as JavaScript lays out numbers (`0.001`, `1e-7`, `1.5e+21`).
 *
 * The printing itself is Ryū (Ulf Adams, PLDI 2018) compiled to WebAssembly from
 * `assembly/shortest-float32.ts`: it needs 64-bit integer multiplications, which JavaScript can only
 * emulate. Each thread that imports this module gets its own small instance (a few pages of memory).
 */
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
  heapBase(): number;
}

/**
 * The most bytes one value takes: `-100000000000000000000` (−1e20, 22 bytes), since JavaScript's layout
 * spells out integers below 1e21; `-0.0000012345678` is 17, `-1.2345678e-38` 14.
 */
export const MAX_FLOAT32_BYTES = 22;
/** The most values one {@link printFloat32Rows} call prints. */
export const FLOAT32_RUN = 8192;
/** The longest `open`, `close` and `nonFinite` of a {@link Float32RowLayout}. */
const MAX_LAYOUT_BYTES = 8;
/** How far past its text the printer may write (fixed-size copies, overwritten by what follows). */
const OVERSHOOT_BYTES = 32;

/**
 * The working memory, after the module's own data (its tables, well within the first page): one value's
 * scratch, a layout's texts, then a run's bits and its text (at most 23 bytes a value and 16 a row, and
 * what the printer scribbles past the end).
 */
const SCRATCH = PAGE;
/** A value's scratch: room for its text and the overshoot, rounded up so that what follows is aligned. */
const OPEN = SCRATCH + 64;
const CLOSE = OPEN + MAX_LAYOUT_BYTES;
const NON_FINITE = CLOSE + MAX_LAYOUT_BYTES;
const SOURCE = NON_FINITE + MAX_LAYOUT_BYTES;
const TEXT = SOURCE + 4 * FLOAT32_RUN;
const PAGES = Math.ceil((TEXT + (MAX_FLOAT32_BYTES + 1 + 2 * MAX_LAYOUT_BYTES) * FLOAT32_RUN + OVERSHOOT_BYTES) / PAGE);

const { exports: printer, memory } = loadWebAssembly<PrinterExports>(
  new URL("./shortest-float32.wasm", import.meta.url),
  PAGES,
);
if (printer.heapBase() > SCRATCH) throw new Error("the float printer's own data outgrew its first page");
const memoryBytes = new Uint8Array(memory);
const memoryWords = new Uint32Array(memory);

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
  const end = printer.writeFloat32(SCRATCH, bits);
  for (let at = SCRATCH; at < end; at++) bytes[pos++] = memoryBytes[at];
  return pos;
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

/** Copies `text` into the module's memory at `at` and returns its length (-1 for none). */
function place(at: number, text: string | undefined, what: string): number {
  if (text === undefined) return -1;
  if (text.length > MAX_LAYOUT_BYTES || /[^\x20-\x7e\n\r\t]/.test(text)) {
    throw new RangeError(`a float32 row layout's ${what} is printable ASCII of at most ${MAX_LAYOUT_BYTES} bytes`);
  }
  for (let i = 0; i < text.length; i++) memoryBytes[at + i] = text.charCodeAt(i);
  return text.length;
}

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
  const openLength = place(OPEN, layout.open, "open");
  const closeLength = place(CLOSE, layout.close, "close");
  const nonFiniteLength = place(NON_FINITE, layout.nonFinite, "nonFinite");
  memoryWords.set(bits.subarray(firstRow * width, (firstRow + rows) * width), SOURCE >> 2);
  const length = printer.writeFloat32Rows(
    SOURCE,
    rows,
    width,
    layout.separator.charCodeAt(0),
    OPEN,
    openLength,
    CLOSE,
    closeLength,
    NON_FINITE,
    nonFiniteLength,
    TEXT,
  );
  return memoryBytes.subarray(TEXT, TEXT + length);
}
