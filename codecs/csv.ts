/**
 * CSV (`text/csv`): RFC 4180 records of numeric fields in, one line of output values per record out.
 * A row feeds the model's inputs in order, split by their widths. No header sniffing: every line is data
 * unless `header=present` (media-type parameter, RFC 4180) or the codec's `header` setting
 * (`SLUICE_CODEC_CSV_HEADER=present`) says otherwise.
 */
import {
  type Codec,
  type CodecContext,
  type Frame,
  type NumericArray,
  type OutputBatch,
  type RecordDecoder,
  type RecordEncoder,
  RecordError,
  type RecordSink,
  type RecordSlots,
  totalInputWidth,
} from "../src/index.js";
import { CsvFramer } from "./framing/csv-framer.js";
import { DecimalScanner, NOT_A_NUMBER, parseAsciiNumber } from "./text/ascii-number.js";
import { ByteWriter, ValuePrinter } from "./text/byte-writer.js";

const COMMA = 0x2c;
const QUOTE = 0x22;
const ZERO = 0x30;
const MINUS = 0x2d;
const DOT = 0x2e;
const POWERS_OF_TEN = Float64Array.from({ length: 16 }, (_, k) => 10 ** k);
const latin1 = new TextDecoder("latin1");

function excerpt(bytes: Uint8Array, start: number, end: number): string {
  const text = latin1.decode(bytes.subarray(start, Math.min(end, start + 40)));
  return end - start > 40 ? `${text}…` : text;
}

function countFields(bytes: Uint8Array): number {
  let fields = 1;
  let quoted = false;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === QUOTE) quoted = !quoted;
    else if (bytes[i] === COMMA && !quoted) fields++;
  }
  return fields;
}

/** Decodes one CSV record into the model's inputs. */
class CsvRecordDecoder implements RecordDecoder {
  readonly #widths: number[];
  readonly #integer: boolean[];
  readonly #totalWidth: number;
  readonly #describeInputs: string;
  #skipHeader: boolean;
  readonly #oneFloatInput: boolean;
  readonly #scanner = new DecimalScanner();
  /** Set by {@link #generalField}: where the field it read ends. */
  #fieldEnd = 0;

  constructor(context: CodecContext) {
    const { inputs } = context.signature;
    this.#widths = inputs.map((input) => input.width);
    this.#integer = inputs.map((input) => !input.type.startsWith("float"));
    this.#totalWidth = totalInputWidth(context.signature);
    this.#describeInputs = inputs.map((input) => `${input.name}[${input.width}]`).join(" + ");
    this.#skipHeader = (context.mediaType.params.header ?? context.settings.header) === "present";
    this.#oneFloatInput = inputs.length === 1 && !this.#integer[0];
  }

  decode(frame: Frame, sink: RecordSink): void {
    if (this.#skipHeader) {
      this.#skipHeader = false;
      return;
    }
    const slots = sink.beginRecord();
    if (
      this.#oneFloatInput &&
      this.#decodePlainFloats(frame.buffer, frame.start, frame.end, slots.arrays[0], slots.offset(0))
    ) {
      return;
    }
    this.#decodeFields(frame.bytes, slots);
  }

  /**
   * The hot path, for the commonest model (one float input) and plain fields (`-12.5`, `0.0039`, `7`):
   * one pass over the row, straight into the batch's array. Returns false (having written values that
   * the general path then overwrites) when any field needs more: quotes, spaces, exponents, long
   * mantissas, `NaN`, an empty field, a row of the wrong width.
   */
  #decodePlainFloats(buffer: Uint8Array, start: number, end: number, target: NumericArray, base: number): boolean {
    const width = this.#totalWidth;
    let pos = start;
    let k = 0;
    for (;;) {
      if (pos >= end || k === width) return false;
      let c = buffer[pos];
      const negative = c === MINUS;
      if (negative) c = ++pos < end ? buffer[pos] : -1;
      let mantissa = 0;
      let digits = 0;
      let fractionDigits = 0;
      for (let digit = c - ZERO; digit >= 0 && digit <= 9; digit = c - ZERO) {
        mantissa = mantissa * 10 + digit;
        digits++;
        c = ++pos < end ? buffer[pos] : -1;
      }
      if (c === DOT) {
        c = ++pos < end ? buffer[pos] : -1;
        for (let digit = c - ZERO; digit >= 0 && digit <= 9; digit = c - ZERO) {
          mantissa = mantissa * 10 + digit;
          digits++;
          fractionDigits++;
          c = ++pos < end ? buffer[pos] : -1;
        }
      }
      // Up to 15 digits the mantissa is exact, and one division by an exact power of ten rounds correctly.
      if (digits === 0 || digits > 15 || (c !== COMMA && c !== -1)) return false;
      const magnitude = fractionDigits === 0 ? mantissa : mantissa / POWERS_OF_TEN[fractionDigits];
      target[base + k++] = negative ? -magnitude : magnitude;
      if (c === -1) return k === width;
      pos++;
    }
  }

  /** The general path: any field form, several inputs, integer inputs; precise errors. */
  #decodeFields(bytes: Uint8Array, slots: RecordSlots): void {
    const n = bytes.length;
    let inputIndex = 0;
    let target: NumericArray = slots.input(0);
    let width = this.#widths[0];
    let integer = this.#integer[0];
    let k = 0;
    let field = 0;
    let pos = 0;
    const scanner = this.#scanner;
    const inputCount = this.#widths.length;
    const oneFloatInput = this.#oneFloatInput;
    for (;;) {
      const fieldStart = pos;
      // Zeros are the commonest feature value (sparse and one-hot data, image backgrounds).
      let value = 0;
      let end = pos + 1;
      if (pos + 1 >= n || bytes[pos] !== ZERO || bytes[pos + 1] !== COMMA) {
        value = scanner.scan(bytes, pos, n);
        end = scanner.end;
      }
      if (!Number.isNaN(value) && (end === n || bytes[end] === COMMA)) {
        // The hot path: a plain number that ends at a comma or at the end of the record.
        pos = end;
      } else {
        value = this.#generalField(bytes, pos, field);
        pos = this.#fieldEnd;
      }
      if (oneFloatInput) {
        // The common model (one float input) skips the walk across inputs and the integer check.
        if (k === width) this.#widthError(bytes);
      } else {
        while (k === width) {
          if (++inputIndex === inputCount) this.#widthError(bytes);
          target = slots.input(inputIndex);
          width = this.#widths[inputIndex];
          integer = this.#integer[inputIndex];
          k = 0;
        }
        if (integer && !Number.isInteger(value)) this.#notNumeric(bytes, field, fieldStart, pos, "an integer");
      }
      target[k++] = value;
      field++;
      if (pos >= n) break;
      pos++;
    }
    if (field !== this.#totalWidth) this.#widthError(bytes);
  }

  /**
   * Reads a field the fast path does not handle (quoted, padded, `NaN`, long mantissas, …) and leaves
   * the position of the comma or record end after it in `#fieldEnd`.
   */
  #generalField(bytes: Uint8Array, pos: number, field: number): number {
    const n = bytes.length;
    let start = pos;
    let end: number;
    let next: number;
    if (pos < n && bytes[pos] === QUOTE) {
      start = pos + 1;
      end = start;
      for (;;) {
        end = bytes.indexOf(QUOTE, end);
        if (end === -1)
          throw new RecordError("CSV_QUOTE_NOT_CLOSED", `field ${field} opens a quote that is not closed`);
        if (bytes[end + 1] !== QUOTE) break;
        end += 2;
      }
      next = end + 1;
      if (next < n && bytes[next] !== COMMA) {
        throw new RecordError("CSV_QUOTE_MISPLACED", `field ${field} has text after its closing quote`);
      }
    } else {
      end = bytes.indexOf(COMMA, pos);
      if (end === -1) end = n;
      next = end;
    }
    const parsed = parseAsciiNumber(bytes, start, end);
    if (parsed === NOT_A_NUMBER) this.#notNumeric(bytes, field, start, end, "a number");
    this.#fieldEnd = next;
    return parsed;
  }

  #notNumeric(bytes: Uint8Array, field: number, start: number, end: number, what: string): never {
    // A row of the wrong width is the likelier mistake (a quoted comma, a text column): say so first.
    if (countFields(bytes) !== this.#totalWidth) this.#widthError(bytes);
    throw new RecordError(
      "CSV_FIELD_NOT_NUMERIC",
      `field ${field} ${JSON.stringify(excerpt(bytes, start, end))} is not ${what}`,
    );
  }

  #widthError(bytes: Uint8Array): never {
    const fields = countFields(bytes);
    throw new RecordError(
      "CSV_WIDTH_MISMATCH",
      `record has ${fields} field(s); the model takes ${this.#totalWidth} (${this.#describeInputs})`,
    );
  }
}

const ERROR_LINE = new TextEncoder().encode("ERROR\n");

/** Writes each record's outputs (all of them, flattened, in model order) as one CSV line. */
class CsvRecordEncoder implements RecordEncoder {
  readonly #writer = new ByteWriter();

  begin(): string {
    return "";
  }

  encode(batch: OutputBatch): Uint8Array {
    const printers = batch.outputs.map((output) => new ValuePrinter(output.data));
    const writer = this.#writer;
    for (let row = 0; row < batch.rows; row++) {
      if (batch.recordErrors.has(row)) {
        writer.append(ERROR_LINE);
        continue;
      }
      let first = true;
      for (let o = 0; o < printers.length; o++) {
        const width = batch.outputs[o].width;
        if (width === 0) continue;
        if (!first) writer.byte(COMMA);
        first = false;
        printers[o].write(writer, row * width, (row + 1) * width, COMMA);
      }
      writer.byte(0x0a);
    }
    return writer.take();
  }

  end(): string {
    return "";
  }
}

/** The CSV codec. */
export const csvCodec: Codec = {
  apiVersion: 1,
  name: "csv",
  mediaTypes: ["text/csv"],
  extensions: [".csv"],
  settings: {
    header: {
      description:
        "present: every body starts with a header line, which is skipped (as `text/csv; header=present` says)",
      default: "absent",
      allowed: ["absent", "present"],
    },
  },
  input: {
    createFramer: () => new CsvFramer(),
    createDecoder: (context) => new CsvRecordDecoder(context),
  },
  output: {
    createEncoder: () => new CsvRecordEncoder(),
  },
};
