/**
 * CSV (`text/csv`): RFC 4180 records in, one line of output values per record out. A row feeds the
 * model's inputs in order, split by their widths: numbers for numeric inputs (an empty field is a
 * missing value, NaN, for inputs that accept them), text for string inputs. Strings are written back
 * quoted when they need it; a map output (ZipMap) as its values in key order. No header sniffing: every line is data
 * unless `header=present` (media-type parameter, RFC 4180) or the codec's `header` setting
 * (`SLUICE_CODEC_CSV_HEADER=present`) says otherwise.
 */
import {
  type Codec,
  type CodecContext,
  copyBytes,
  type Frame,
  isTextTensor,
  type NumericArray,
  type OutputBatch,
  type RecordDecoder,
  RecordError,
  type RecordSink,
  type RecordSlots,
  type TensorSpec,
  totalInputWidth,
} from "../src/index.js";
import { CsvBoundaryScanner } from "./framing/csv-boundary-scanner.js";
import { CsvFramer } from "./framing/csv-framer.js";
import { isBlank } from "./framing/line-framer.js";
import {
  DecimalScanner,
  estimateServesFloat32,
  NOT_A_NUMBER,
  parseAsciiNumber,
  readExponent,
  scaleDecimal,
} from "./text/ascii-number.js";
import type { RowSegment } from "./text/shortest-float32.js";
import {
  plannedRowWriter,
  type RecordPlan,
  TextRecordEncoder,
  type TextRecordLayout,
  writePlannedRecords,
} from "./text/text-record-encoder.js";

const COMMA = 0x2c;
const QUOTE = 0x22;
const ZERO = 0x30;
const MINUS = 0x2d;
const DOT = 0x2e;
/** `e`; `E` | 0x20 is `e` too. */
const EXPONENT = 0x65;
const LINE_FEED = 0x0a;
/** The bytes `0,` read as one little-endian 16-bit number. */
const ZERO_THEN_COMMA = ZERO | (COMMA << 8);
/**
 * The powers of ten that are exact doubles. A copy of `ascii-number.ts`'s on purpose: read through the
 * import, rows of 32 two-decimal features decoded 10% slower.
 */
const POWERS_OF_TEN = Float64Array.from({ length: 23 }, (_, k) => 10 ** k);

/** Whether `byte` (a digit or a dot) could continue a number. */
const continuesNumber = (byte: number) => (byte >= ZERO && byte <= ZERO + 9) || byte === DOT;
const latin1 = new TextDecoder("latin1");

function excerpt(bytes: Uint8Array, start: number, end: number): string {
  const text = latin1.decode(bytes.subarray(start, Math.min(end, start + 40)));
  return end - start > 40 ? `${text}…` : text;
}

/** Strict: invalid UTF-8 in a text field is refused, never replaced by U+FFFD. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function countFields(bytes: Uint8Array): number {
  let fields = 1;
  let quoted = false;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === QUOTE) quoted = !quoted;
    else if (bytes[i] === COMMA && !quoted) fields++;
  }
  return fields;
}

/** How a field is read for the input it lands in. */
const FieldKind = { Float: 0, Integer: 1, Text: 2 } as const;
type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

/** Decodes one CSV record into the model's inputs. */
class CsvRecordDecoder implements RecordDecoder {
  /** Every field of a record is written, by the fast path or the general one, or the record fails. */
  readonly fillsEveryValue = true;
  readonly #inputs: readonly TensorSpec[];
  readonly #widths: number[];
  readonly #kinds: FieldKind[];
  readonly #totalWidth: number;
  readonly #describeInputs: string;
  #skipHeader: boolean;
  readonly #oneFloatInput: boolean;
  /** Whether the one input is float32 (see {@link estimateServesFloat32}). */
  readonly #float32Input: boolean;
  readonly #scanner = new DecimalScanner();
  /**
   * Whether (1) or not (0) the last row {@link #decodePlainFloats} counted zeros in was mostly bare
   * zeros. It starts at 1 so that the optimiser sees both paths on the first row: starting at 0 made V8
   * compile the zero test out, then deoptimise when sparse rows came, and sparse bodies ran 20% slower.
   */
  #zeroHeavy = 1;
  /** Rows read by {@link #decodePlainFloats}, modulo 64 (every 64th counts zeros whatever the flag). */
  #rowPhase = 0;
  /** Set by {@link #moreDigits}: the mantissa it read. */
  #longMantissa = 0;
  /** Where the last exponent read ended (see {@link readExponent}). */
  readonly #exponentEnd = { end: 0 };
  /** Set by {@link #generalField} and {@link #textField}: where the field they read ends. */
  #fieldEnd = 0;
  /** Holds a copy of a row followed by a line feed, for {@link #decodePlainFloats}. */
  #terminated = new Uint8Array(4096);

  constructor(context: CodecContext) {
    const { inputs } = context.signature;
    this.#inputs = inputs;
    this.#widths = inputs.map((input) => input.width);
    this.#kinds = inputs.map((input) =>
      isTextTensor(input) ? FieldKind.Text : input.type.startsWith("float") ? FieldKind.Float : FieldKind.Integer,
    );
    this.#totalWidth = totalInputWidth(context.signature);
    this.#describeInputs = inputs.map((input) => `${input.name}[${input.width}]`).join(" + ");
    this.#skipHeader = hasHeader(context);
    this.#oneFloatInput = inputs.length === 1 && this.#kinds[0] === FieldKind.Float;
    this.#float32Input = this.#oneFloatInput && inputs[0].type === "float32";
  }

  decode(frame: Frame, sink: RecordSink): void {
    if (this.#skipHeader) {
      this.#skipHeader = false;
      return;
    }
    const slots = sink.beginRecord();
    if (this.#oneFloatInput) {
      const { buffer, start, end } = frame;
      const target = slots.arrays[0];
      const base = slots.offset(0);
      if (
        end < buffer.length && !continuesNumber(buffer[end])
          ? this.#decodePlainFloats(buffer, start, end, target, base)
          : this.#decodePlainFloats(this.#terminatedCopy(buffer, start, end), 0, end - start, target, base)
      ) {
        return;
      }
    }
    this.#decodeFields(frame.bytes, slots);
  }

  /**
   * The hot path, for the commonest model (one float input) and plain fields (`-12.5`, `0.0039`, `7`,
   * and float64 values printed in full for a float32 input): one pass over the row, straight into the
   * batch's array. Returns false (having written values that the general path then overwrites) when any
   * field needs more: quotes, spaces, scales past 10^±22 for a float64 input (10^22 and 10^-44 for a
   * float32 one), more than 15 digits for a float64 input (or beside a float32 halfway point), `NaN`, an
   * empty field, a row of the wrong width.
   *
   * Mispredicted branches are much of what a field costs here, so the sign is applied without a branch
   * (half of all features are negative), and the test for a bare `0` (most fields of sparse and image
   * rows, almost none of dense ones) is made only while recent rows were mostly zeros; it then reads up
   * to four bare zeros a pass (MNIST rows decode 23% faster than one a pass).
   *
   * A field's first four integer digits and first eight fraction digits are read by straight-line code,
   * not a loop, and longer runs by {@link #moreDigits}. TurboFan (Node 20) has no loop-invariant code
   * motion: in a digit loop it checked the array's map and loaded its length and data pointer again for
   * every byte, behind the loop's stack check. Unrolled, rows of 32 two-decimal features decode 17%
   * faster, six-decimal ones 27%, MNIST rows 18%.
   *
   * Reading stops at the first byte that cannot continue a number, without comparing each position
   * with `end` (20% faster): the byte after the row must be such a byte, as the line feed after a framed
   * CSV row is. {@link decode} hands a row without one (the body's last, one that straddled chunks, or
   * from another framer) over as a copy that has one. That choice is made by the caller, not here: with
   * it here, V8 sometimes compiled this function before it had seen such a row, dropped the code on the
   * first one, and compiled only its loop again (on-stack replacement); about one process in ten then
   * parsed CSV at half speed for its lifetime.
   */
  #decodePlainFloats(buffer: Uint8Array, start: number, end: number, target: NumericArray, base: number): boolean {
    const width = this.#totalWidth;
    // Every 64th row looks for zeros anyway, to notice when the data changes.
    this.#rowPhase = (this.#rowPhase + 1) & 63;
    // A number, not a boolean: TurboFan tested `a || b` on every field as a value of unknown type.
    const zeroHeavy = this.#zeroHeavy | (this.#rowPhase === 0 ? 1 : 0);
    let zeros = 0;
    let pos = start;
    let k = 0;
    for (;;) {
      if (pos >= end || k === width) return false;
      if (zeroHeavy !== 0 && pos + 1 < end && (buffer[pos] | (buffer[pos + 1] << 8)) === ZERO_THEN_COMMA) {
        target[base + k++] = 0;
        zeros++;
        pos += 2;
        // Up to three more in straight-line steps, for the same reason as the digits below.
        // biome-ignore lint/suspicious/noConfusingLabels: straight-line steps, left at the first other field.
        zeroRun: {
          if (pos + 1 >= end || k === width || (buffer[pos] | (buffer[pos + 1] << 8)) !== ZERO_THEN_COMMA)
            break zeroRun;
          target[base + k++] = 0;
          zeros++;
          pos += 2;
          if (pos + 1 >= end || k === width || (buffer[pos] | (buffer[pos + 1] << 8)) !== ZERO_THEN_COMMA)
            break zeroRun;
          target[base + k++] = 0;
          zeros++;
          pos += 2;
          if (pos + 1 >= end || k === width || (buffer[pos] | (buffer[pos + 1] << 8)) !== ZERO_THEN_COMMA)
            break zeroRun;
          target[base + k++] = 0;
          zeros++;
          pos += 2;
        }
        continue;
      }
      // 1 for a minus sign, else 0.
      const negative = ((buffer[pos] ^ MINUS) - 1) >>> 31;
      pos += negative;
      const integerStart = pos;
      let mantissa = 0;
      // The byte at `pos` less ZERO: a digit is 0–9, unsigned.
      let digit = buffer[pos] - ZERO;
      // biome-ignore lint/suspicious/noConfusingLabels: straight-line steps, left at the first non-digit.
      integerPart: {
        if (digit >>> 0 > 9) break integerPart;
        mantissa = digit;
        digit = buffer[++pos] - ZERO;
        if (digit >>> 0 > 9) break integerPart;
        mantissa = mantissa * 10 + digit;
        digit = buffer[++pos] - ZERO;
        if (digit >>> 0 > 9) break integerPart;
        mantissa = mantissa * 10 + digit;
        digit = buffer[++pos] - ZERO;
        if (digit >>> 0 > 9) break integerPart;
        mantissa = mantissa * 10 + digit;
        digit = buffer[++pos] - ZERO;
        if (digit >>> 0 > 9) break integerPart;
        pos = this.#moreDigits(buffer, pos, mantissa);
        mantissa = this.#longMantissa;
        digit = buffer[pos] - ZERO;
      }
      const integerDigits = pos - integerStart;
      let fractionDigits = 0;
      if (digit === DOT - ZERO) {
        const fractionStart = ++pos;
        digit = buffer[pos] - ZERO;
        // biome-ignore lint/suspicious/noConfusingLabels: straight-line steps, left at the first non-digit.
        fractionPart: {
          if (digit >>> 0 > 9) break fractionPart;
          mantissa = mantissa * 10 + digit;
          digit = buffer[++pos] - ZERO;
          if (digit >>> 0 > 9) break fractionPart;
          mantissa = mantissa * 10 + digit;
          digit = buffer[++pos] - ZERO;
          if (digit >>> 0 > 9) break fractionPart;
          mantissa = mantissa * 10 + digit;
          digit = buffer[++pos] - ZERO;
          if (digit >>> 0 > 9) break fractionPart;
          mantissa = mantissa * 10 + digit;
          digit = buffer[++pos] - ZERO;
          if (digit >>> 0 > 9) break fractionPart;
          mantissa = mantissa * 10 + digit;
          digit = buffer[++pos] - ZERO;
          if (digit >>> 0 > 9) break fractionPart;
          mantissa = mantissa * 10 + digit;
          digit = buffer[++pos] - ZERO;
          if (digit >>> 0 > 9) break fractionPart;
          mantissa = mantissa * 10 + digit;
          digit = buffer[++pos] - ZERO;
          if (digit >>> 0 > 9) break fractionPart;
          mantissa = mantissa * 10 + digit;
          digit = buffer[++pos] - ZERO;
          if (digit >>> 0 > 9) break fractionPart;
          pos = this.#moreDigits(buffer, pos, mantissa);
          mantissa = this.#longMantissa;
          digit = buffer[pos] - ZERO;
        }
        fractionDigits = pos - fractionStart;
      }
      const digits = integerDigits + fractionDigits;
      let magnitude: number;
      if (((digit + ZERO) | 0x20) !== EXPONENT) {
        if (digits === 0 || fractionDigits > 22 || (digit !== COMMA - ZERO && pos !== end)) return false;
        // Up to 15 digits the mantissa is exact, and one division by an exact power of ten rounds correctly.
        magnitude = fractionDigits === 0 ? mantissa : mantissa / POWERS_OF_TEN[fractionDigits];
        // Past 15 digits (float64 values printed in full) the estimate serves a float32 input, mostly.
        if (digits > 15 && !(this.#float32Input && estimateServesFloat32(magnitude, mantissa))) return false;
      } else {
        // Apart, so that rows without exponents run the lines above alone.
        const exponent = readExponent(buffer, pos, buffer.length, this.#exponentEnd);
        pos = this.#exponentEnd.end;
        digit = buffer[pos] - ZERO;
        magnitude = scaleDecimal(mantissa, digits, exponent - fractionDigits, this.#float32Input);
        if (digits === 0 || Number.isNaN(magnitude) || (digit !== COMMA - ZERO && pos !== end)) return false;
      }
      // −0 stays −0: 0 × −1.
      target[base + k++] = magnitude * (1 - 2 * negative);
      if (pos === end) {
        if (zeroHeavy !== 0) this.#zeroHeavy = 2 * zeros > width ? 1 : 0;
        return k === width;
      }
      pos++;
    }
  }

  /**
   * Reads the digits from `pos` on into `mantissa` (in `#longMantissa`, past 2⁵³ inexactly: such a field
   * is refused by the caller) and returns where they end: the rest of a field too long for the unrolled
   * steps of {@link #decodePlainFloats}.
   */
  #moreDigits(buffer: Uint8Array, pos: number, mantissa: number): number {
    let digit = buffer[pos] - ZERO;
    while (digit >>> 0 < 10) {
      mantissa = mantissa * 10 + digit;
      digit = buffer[++pos] - ZERO;
    }
    this.#longMantissa = mantissa;
    return pos;
  }

  /** `buffer[start, end)` copied, a line feed after it. */
  #terminatedCopy(buffer: Uint8Array, start: number, end: number): Uint8Array {
    const length = end - start;
    if (this.#terminated.length <= length) {
      this.#terminated = new Uint8Array(Math.max(length + 1, 2 * this.#terminated.length));
    }
    copyBytes(this.#terminated, 0, buffer.subarray(start, end));
    this.#terminated[length] = LINE_FEED;
    return this.#terminated;
  }

  /** The general path: any field form, several inputs, integer and string inputs; precise errors. */
  #decodeFields(bytes: Uint8Array, slots: RecordSlots): void {
    const n = bytes.length;
    let inputIndex = 0;
    let target: NumericArray = slots.arrays[0];
    let base = slots.offset(0);
    let width = this.#widths[0];
    let kind = this.#kinds[0];
    let k = 0;
    let field = 0;
    let pos = 0;
    const scanner = this.#scanner;
    const inputCount = this.#widths.length;
    const oneFloatInput = this.#oneFloatInput;
    for (;;) {
      const fieldStart = pos;
      if (oneFloatInput) {
        // The common model (one float input) skips the walk across inputs and the kind checks.
        if (k === width) this.#widthError(bytes);
      } else {
        while (k === width) {
          if (++inputIndex === inputCount) this.#widthError(bytes);
          target = slots.arrays[inputIndex];
          base = slots.offset(inputIndex);
          width = this.#widths[inputIndex];
          kind = this.#kinds[inputIndex];
          k = 0;
        }
        if (kind === FieldKind.Text) {
          slots.texts[inputIndex][base + k++] = this.#textField(bytes, pos, field);
          pos = this.#fieldEnd;
          field++;
          if (pos >= n) break;
          pos++;
          continue;
        }
      }
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
        value = this.#generalField(bytes, pos, field, inputIndex);
        pos = this.#fieldEnd;
      }
      if (kind === FieldKind.Integer && !Number.isInteger(value))
        this.#notNumeric(bytes, field, fieldStart, pos, "an integer");
      target[base + k++] = value;
      field++;
      if (pos >= n) break;
      pos++;
    }
    if (field !== this.#totalWidth) this.#widthError(bytes);
  }

  /**
   * Finds the field at `pos`: its content `[start, end)` (inside quotes when quoted) and, in `#fieldEnd`,
   * the position of the comma or record end after it. Returns whether it was quoted.
   */
  #locateField(bytes: Uint8Array, pos: number, field: number, range: { start: number; end: number }): boolean {
    const n = bytes.length;
    if (pos < n && bytes[pos] === QUOTE) {
      const start = pos + 1;
      let end = start;
      for (;;) {
        end = bytes.indexOf(QUOTE, end);
        if (end === -1)
          throw new RecordError("CSV_QUOTE_NOT_CLOSED", `field ${field} opens a quote that is not closed`);
        if (bytes[end + 1] !== QUOTE) break;
        end += 2;
      }
      const next = end + 1;
      if (next < n && bytes[next] !== COMMA) {
        throw new RecordError("CSV_QUOTE_MISPLACED", `field ${field} has text after its closing quote`);
      }
      range.start = start;
      range.end = end;
      this.#fieldEnd = next;
      return true;
    }
    let end = bytes.indexOf(COMMA, pos);
    if (end === -1) end = n;
    range.start = pos;
    range.end = end;
    this.#fieldEnd = end;
    return false;
  }

  readonly #range = { start: 0, end: 0 };

  /**
   * Reads a numeric field the fast path does not handle (quoted, padded, `NaN`, long mantissas, empty, …)
   * and leaves the position of the comma or record end after it in `#fieldEnd`. An empty field is a
   * missing value: NaN for an input that accepts missing values, else refused.
   */
  #generalField(bytes: Uint8Array, pos: number, field: number, inputIndex: number): number {
    const range = this.#range;
    this.#locateField(bytes, pos, field, range);
    const parsed = parseAsciiNumber(bytes, range.start, range.end);
    if (parsed !== NOT_A_NUMBER) return parsed;
    if (isBlank(bytes, range.start, range.end)) {
      if (this.#inputs[inputIndex].acceptsMissing) return Number.NaN;
      if (countFields(bytes) !== this.#totalWidth) this.#widthError(bytes);
      throw new RecordError(
        "CSV_FIELD_NOT_NUMERIC",
        `field ${field} is empty, and ${JSON.stringify(this.#inputs[inputIndex].name)} takes no missing values ` +
          "(only models that read NaN as missing, such as tree ensembles, do)",
      );
    }
    return this.#notNumeric(bytes, field, range.start, range.end, "a number");
  }

  /** Reads a field for a string input: its text, quotes removed and doubled quotes undone. */
  #textField(bytes: Uint8Array, pos: number, field: number): string {
    const range = this.#range;
    const quoted = this.#locateField(bytes, pos, field, range);
    let text: string;
    try {
      text = utf8.decode(bytes.subarray(range.start, range.end));
    } catch {
      throw new RecordError("INVALID_UTF8", `field ${field} is not valid UTF-8`);
    }
    return quoted && text.includes('""') ? text.replaceAll('""', '"') : text;
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

/** A string as a CSV field: quoted (quotes doubled) when it holds a comma, a quote, a line break or edge spaces. */
function csvField(text: string): string {
  if (!/[",\r\n]|^\s|\s$/.test(text)) return text;
  return `"${text.replaceAll('"', '""')}"`;
}

/** A record's outputs (all of them, flattened, in model order) as the fields of one line. */
function csvRecordPlan(batch: OutputBatch): RecordPlan {
  const segments: RowSegment[] = [];
  batch.outputs.forEach((output, o) => {
    if (output.width > 0)
      segments.push({ text: segments.length === 0 ? "" : ",", output: o, column: 0, count: output.width });
  });
  return { segments, closing: "" };
}

/** CSV answers: one line per record, `ERROR` for a record that could not be decoded. */
const CSV_LAYOUT: TextRecordLayout = {
  open: "",
  separator: "",
  terminator: "\n",
  close: "",
  rowWriter: (batch) => plannedRowWriter(batch, csvRecordPlan(batch), csvField),
  writeRecords: (writer, batch) => writePlannedRecords(writer, batch, csvRecordPlan(batch), "\n", csvField),
  placeholder: () => "ERROR",
};

/** Whether bodies start with a header line (`text/csv; header=present`, or the codec's `header` setting). */
function hasHeader(context: CodecContext): boolean {
  return (context.mediaType.params.header ?? context.settings.header) === "present";
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
    textInputs: true,
    // A body with a header line cannot be cut: its second part would lack one.
    createBoundaryScanner: (context) => (hasHeader(context) ? undefined : new CsvBoundaryScanner()),
  },
  output: {
    createEncoder: () => new TextRecordEncoder(CSV_LAYOUT),
    textOutputs: true,
    concatenates: true,
  },
};
