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
  describeIntegerType,
  type Frame,
  type IntegerRange,
  integerRange,
  isIntegerIn,
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
import { DecimalScanner, NOT_A_NUMBER, parseAsciiNumber } from "./text/ascii-number.js";
import { Float32RowReader } from "./text/float32-row.js";
import { MixedRowReader } from "./text/mixed-row.js";
import { PlainNumberRowReader } from "./text/plain-number-row.js";
import { recentStrings } from "./text/recent-strings.js";
import { csvFieldEnds, headerHint, widthHint } from "./text/refusal-hints.js";
import type { RowSegment } from "./text/shortest-float.js";
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
const DOT = 0x2e;
const LINE_FEED = 0x0a;
const NO_BYTES = new Uint8Array(0);
/** What the copy of a row first takes (see `#terminated`). */
const TERMINATED_BYTES = 4096;

/** Whether `byte` (a digit or a dot) could continue a number. */
const continuesNumber = (byte: number) => (byte >= ZERO && byte <= ZERO + 9) || byte === DOT;
/** For error messages: invalid UTF-8 shows as U+FFFD rather than failing the message. */
const lenientUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });
/** The most bytes of a field an error message quotes. */
const EXCERPT_BYTES = 40;
const isUtf8Continuation = (byte: number) => (byte & 0xc0) === 0x80;

/** A field's first {@link EXCERPT_BYTES} as text, cut before a character rather than inside one. */
function excerpt(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= EXCERPT_BYTES) return lenientUtf8.decode(bytes.subarray(start, end));
  let cut = start + EXCERPT_BYTES;
  while (cut > start && isUtf8Continuation(bytes[cut])) cut--;
  return `${lenientUtf8.decode(bytes.subarray(start, cut))}…`;
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
  /** Reads a row of plain fields in one pass: for a model of numeric inputs, or of string and numeric ones. */
  readonly #rows: PlainNumberRowReader | MixedRowReader | undefined;
  /** For a model of one float32 input, reads a row of plain numbers first, where the framer lends it. */
  readonly #float32Rows: Float32RowReader | undefined;
  readonly #scanner = new DecimalScanner();
  /** Text fields read field by field (strict UTF-8), a category's bytes seen lately found again. */
  readonly #strings = recentStrings();
  /** Set by {@link #generalField} and {@link #textField}: where the field they read ends. */
  #fieldEnd = 0;
  /** Whether the row the general path reads is its body's first line, where a header line would be. */
  #firstLine = false;
  /**
   * Holds a copy of a row followed by a line feed, for the row readers: made for the first row that needs
   * one (most bodies' rows end in a line feed where they lie).
   */
  #terminated = NO_BYTES;

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
    this.#rows =
      PlainNumberRowReader.of(inputs, { quotedNumbers: true, emptyAsMissing: true }) ?? MixedRowReader.of(inputs);
    this.#float32Rows = Float32RowReader.of(inputs);
  }

  decode(frame: Frame, sink: RecordSink): void {
    if (this.#skipHeader) {
      this.#skipHeader = false;
      return;
    }
    const slots = sink.beginRecord();
    const rows = this.#rows;
    if (rows !== undefined) {
      const { buffer, start, end } = frame;
      if (end < buffer.length && !continuesNumber(buffer[end])) {
        if (this.#float32Rows?.read(buffer, start, end, slots.arrays[0], slots.offset(0))) return;
        if (rows.readRecord(buffer, start, end, slots)) return;
      } else if (rows.readRecord(this.#terminatedCopy(buffer, start, end), 0, end - start, slots)) {
        return;
      }
    }
    this.#firstLine = frame.line === 1;
    this.#decodeFields(frame.bytes, slots);
  }

  /** `buffer[start, end)` copied, a line feed after it. */
  #terminatedCopy(buffer: Uint8Array, start: number, end: number): Uint8Array {
    const length = end - start;
    if (this.#terminated.length <= length) {
      this.#terminated = new Uint8Array(Math.max(length + 1, 2 * this.#terminated.length, TERMINATED_BYTES));
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
      if (kind === FieldKind.Integer) {
        const { type } = this.#inputs[inputIndex];
        if (!isIntegerIn(value, integerRange(type) as IntegerRange))
          this.#notNumeric(bytes, field, fieldStart, pos, describeIntegerType(type));
      }
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
      if (csvFieldEnds(bytes).length !== this.#totalWidth) this.#widthError(bytes);
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
    const text = this.#strings.decode(bytes, range.start, range.end);
    if (text === undefined) throw new RecordError("INVALID_UTF8", `field ${field} is not valid UTF-8`);
    return quoted && text.includes('""') ? text.replaceAll('""', '"') : text;
  }

  #notNumeric(bytes: Uint8Array, field: number, start: number, end: number, what: string): never {
    // A row of the wrong width is the likelier mistake (a quoted comma, a text column): say so first.
    if (csvFieldEnds(bytes).length !== this.#totalWidth) this.#widthError(bytes);
    throw new RecordError(
      "CSV_FIELD_NOT_NUMERIC",
      `field ${field} ${JSON.stringify(excerpt(bytes, start, end))} is not ${what}${this.#firstLine ? headerHint(bytes) : ""}`,
    );
  }

  #widthError(bytes: Uint8Array): never {
    const fields = csvFieldEnds(bytes).length;
    throw new RecordError(
      "CSV_WIDTH_MISMATCH",
      `record has ${fields} field(s); the model takes ${this.#totalWidth} (${this.#describeInputs})${widthHint(bytes, fields, this.#totalWidth)}`,
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
