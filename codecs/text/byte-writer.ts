/**
 * A growable output buffer that text encoders write ASCII bytes into directly (numbers included), so an
 * answer is never built as a JavaScript string and re-encoded.
 */
import type { OutputValues } from "../../src/index.js";
import {
  FLOAT32_RUN,
  type Float32RowLayout,
  MAX_FLOAT32_BYTES,
  MAX_FLOAT64_BYTES,
  type PrintableValues,
  printFloat32Rows,
  type RowPlan,
  writeFloat32,
  writeFloat32Bits,
  writeFloat64,
} from "./shortest-float.js";

const utf8 = new TextEncoder();

/** Bytes written so far, with room to grow; reuse one per response. */
export class ByteWriter {
  /** The buffer; valid up to {@link length}. Hot loops may write into it after {@link reserve}. */
  bytes: Uint8Array;
  /** Bytes written. */
  length = 0;

  /** @param initialCapacity Small: a writer lives as long as its invocation, and most answers of small bodies are a few bytes. */
  constructor(initialCapacity = 1024) {
    this.bytes = new Uint8Array(initialCapacity);
  }

  /** Makes room for `count` more bytes and returns the (possibly new) buffer. */
  reserve(count: number): Uint8Array {
    const needed = this.length + count;
    if (needed > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < needed) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    return this.bytes;
  }

  /** Appends one byte. */
  byte(value: number): void {
    this.reserve(1)[this.length++] = value;
  }

  /** Appends a string as UTF-8. */
  text(value: string): void {
    const bytes = this.reserve(value.length * 3);
    let pos = this.length;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        pos += utf8.encodeInto(value.slice(i), bytes.subarray(pos)).written;
        break;
      }
      bytes[pos++] = code;
    }
    this.length = pos;
  }

  /** Appends bytes. */
  append(bytes: Uint8Array): void {
    this.reserve(bytes.length).set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Appends a float32 in its shortest round-trip form. */
  float32(value: number): void {
    this.length = writeFloat32(this.reserve(MAX_FLOAT32_BYTES), this.length, value);
  }

  /**
   * Appends `rows` rows of `width` float32s (`data`, row after row), laid out as `layout` says: printed
   * in WebAssembly a run of rows at a time, which costs about half as much per value as {@link float32}.
   */
  float32Rows(data: Float32Array, rows: number, width: number, layout: Float32RowLayout): void {
    if (width > FLOAT32_RUN) {
      // Rows wider than a run, a value at a time.
      if (layout.separator.length !== 1) throw new RangeError("a float32 row layout's separator is one byte");
      const printer = new ValuePrinter(data, String);
      const separator = layout.separator.charCodeAt(0);
      for (let row = 0; row < rows; row++) {
        this.text(layout.open);
        printer.write(this, row * width, (row + 1) * width, separator, layout.nonFinite);
        this.text(layout.close);
      }
      return;
    }
    const bits = new Uint32Array(data.buffer, data.byteOffset, rows * width);
    const rowsPerRun = Math.min(FLOAT32_RUN, Math.floor(FLOAT32_RUN / width));
    for (let row = 0; row < rows; row += rowsPerRun) {
      this.append(printFloat32Rows(bits, row, Math.min(rowsPerRun, rows - row), width, layout));
    }
  }

  /**
   * Appends `rows` rows of outputs `values` (`widths[o]` values a row each) laid out by `plan`, a run of
   * rows per call into WebAssembly; returns false, having written nothing, when not even one row fits a
   * run (thousands of values or segments a row).
   */
  planRows(plan: RowPlan, values: readonly PrintableValues[], widths: readonly number[], rows: number): boolean {
    const rowsPerRun = plan.rowsPerRun(values, widths);
    if (rowsPerRun === 0) return false;
    for (let row = 0; row < rows; row += rowsPerRun) {
      this.append(plan.print(values, widths, row, Math.min(rowsPerRun, rows - row)));
    }
    return true;
  }

  /** Appends a number as JavaScript prints it (the shortest round-trip form of a double). */
  number(value: number | bigint): void {
    this.text(String(value));
  }

  /** Appends a float64 in its shortest round-trip form, as {@link number} would but for `-0`. */
  float64(value: number): void {
    this.length = writeFloat64(this.reserve(MAX_FLOAT64_BYTES), this.length, value);
  }

  /** The written bytes as a new array (the writer is emptied and keeps its buffer). */
  take(): Uint8Array {
    const taken = this.bytes.slice(0, this.length);
    this.length = 0;
    return taken;
  }
}

/** How a text format writes a string value (quoted and escaped as the format needs). */
export type TextQuoter = (text: string) => string;

/**
 * Prints the values of one output tensor: float32 and float64 through the shortest printer (reading
 * float32 IEEE bits through a view, made once per tensor), strings through the format's quoter, other
 * types as JavaScript prints them.
 */
export class ValuePrinter {
  readonly #data: OutputValues;
  readonly #bits: Uint32Array | undefined;
  readonly #quote: TextQuoter;

  constructor(data: OutputValues, quote: TextQuoter) {
    this.#data = data;
    this.#bits = data instanceof Float32Array ? new Uint32Array(data.buffer, data.byteOffset, data.length) : undefined;
    this.#quote = quote;
  }

  /**
   * Appends values `[start, end)`, `separator` (a byte) between them; `nonFinite` replaces NaN and
   * infinities when given (JSON cannot hold them).
   */
  write(writer: ByteWriter, start: number, end: number, separator: number, nonFinite?: string): void {
    const bits = this.#bits;
    if (bits === undefined) {
      this.#writeOthers(writer, start, end, separator, nonFinite);
      return;
    }
    let bytes = writer.reserve((end - start) * (MAX_FLOAT32_BYTES + 1));
    let pos = writer.length;
    for (let i = start; i < end; i++) {
      if (i > start) bytes[pos++] = separator;
      const value = bits[i];
      if (nonFinite !== undefined && (value & 0x7f800000) === 0x7f800000) {
        writer.length = pos;
        writer.text(nonFinite);
        bytes = writer.reserve((end - i) * (MAX_FLOAT32_BYTES + 1));
        pos = writer.length;
      } else {
        pos = writeFloat32Bits(bytes, pos, value);
      }
    }
    writer.length = pos;
  }

  #writeOthers(writer: ByteWriter, start: number, end: number, separator: number, nonFinite?: string): void {
    const data = this.#data;
    for (let i = start; i < end; i++) {
      if (i > start) writer.byte(separator);
      const value = data[i];
      if (typeof value === "string") writer.text(this.#quote(value));
      else if (nonFinite !== undefined && typeof value === "number" && !Number.isFinite(value)) writer.text(nonFinite);
      else if (typeof value === "number" && data instanceof Float64Array) writer.float64(value);
      else writer.number(value);
    }
  }
}
