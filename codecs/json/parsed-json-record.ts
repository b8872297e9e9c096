/**
 * The JSON decoder's general path: a record `JSON.parse` has read, in any of the forms the module comment
 * of `json-record-decoder.ts` lists, `{"inputs": ...}` (several records) included. The byte readers there
 * take the common forms first; whatever they pass on (nested arrays, escapes, booleans, a malformed
 * record) comes here, to be decoded or refused with a reason.
 */
import {
  describeIntegerType,
  integerRange,
  isIntegerIn,
  isTextTensor,
  RecordError,
  type RecordSink,
  type TensorSpec,
} from "../../src/index.js";
import { leadingExtraHint } from "../text/refusal-hints.js";
import type { InputLayout } from "./input-layout.js";
import { FEATURES_KEY, INPUTS_KEY, INSTANCES_KEY } from "./request-shapes.js";

/** Strict: invalid UTF-8 is refused, never silently replaced by U+FFFD. */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });

/**
 * The deepest a record's arrays may nest. A tensor's record has a level per dimension, a handful in
 * practice; a body of thousands of `[` is garbage, and following it would exhaust the stack.
 */
const MAX_ARRAY_NESTING = 64;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** What a bare `NaN` becomes before `JSON.parse` reads it again, and turns back into NaN. */
const NAN_STAND_IN = "\u0000NaN";
const restoreNaN = (_key: string, value: Json): Json => (value === NAN_STAND_IN ? Number.NaN : value);

/**
 * `text` with Python's non-standard numbers spelt as JSON can read them, or undefined when it has none:
 * `json.dumps` writes NaN and the infinities as the bare words `NaN`, `Infinity` and `-Infinity` (its
 * default, `allow_nan=True`), and `json.loads` reads them back. Outside strings, `Infinity` becomes
 * `1e999` (which reads as Infinity) and `NaN` a string that {@link restoreNaN} turns back into NaN.
 */
function withPythonNumbers(text: string): string | undefined {
  let rewritten = "";
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    const word = text.startsWith("NaN", i) ? "NaN" : text.startsWith("Infinity", i) ? "Infinity" : undefined;
    if (word === undefined || /\w/.test(text.charAt(i + word.length)) || /\w/.test(text.charAt(i - 1))) continue;
    rewritten += `${text.slice(copied, i)}${word === "NaN" ? JSON.stringify(NAN_STAND_IN) : "1e999"}`;
    copied = i + word.length;
    i = copied - 1;
  }
  return copied === 0 ? undefined : rewritten + text.slice(copied);
}

/** `JSON.parse` of a record, and failing that, of the record with Python's NaN and infinities (see above). */
function parseRecord(text: string): Json {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const python = withPythonNumbers(text);
    if (python !== undefined) {
      try {
        return JSON.parse(python, restoreNaN);
      } catch {
        // Not valid even so: the first error is the one to report.
      }
    }
    throw new RecordError("JSON_INVALID", `record is not valid JSON: ${inRecordTerms((cause as Error).message)}`);
  }
}

/**
 * `JSON.parse`'s message with its position said to count from the record's start: beside the record's
 * own `byteOffset` in the body, "in JSON at position 12" read as a place in the body.
 */
function inRecordTerms(message: string): string {
  return message.replace(/ in JSON at position (\d+)/, " at character $1 of the record");
}

const isObject = (value: Json): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `value` in a message: its JSON, cut to 40 characters. */
function describe(value: Json): string {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    // Nested too deep for JSON.stringify's recursion (JSON.parse has none): say what it is.
    text = Array.isArray(value) ? "[[[…" : '{"…';
  }
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** A record's values for one input, flattened, before they are written into the batch. */
class InputValues {
  /** Numbers, for a numeric input. */
  readonly values: Float64Array;
  /** Strings, for a string input. */
  readonly texts: string[] | undefined;
  length = 0;
  constructor(spec: TensorSpec) {
    const text = isTextTensor(spec);
    this.values = new Float64Array(text ? 0 : spec.width);
    this.texts = text ? new Array<string>(spec.width) : undefined;
  }
}

/** Decodes parsed JSON records into a model's inputs. */
export class ParsedJsonRecords {
  readonly #inputs: readonly TensorSpec[];
  readonly #totalWidth: number;
  readonly #describeInputs: string;

  constructor(layout: InputLayout) {
    this.#inputs = layout.inputs;
    this.#totalWidth = layout.totalWidth;
    this.#describeInputs = layout.describeInputs;
  }

  /** Parses one record's bytes (strictly UTF-8) and writes the record, or the records it holds. */
  decode(bytes: Uint8Array, sink: RecordSink): void {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new RecordError("INVALID_UTF8", "record is not valid UTF-8");
    }
    this.#decodeValue(parseRecord(text), sink);
  }

  #decodeValue(value: Json, sink: RecordSink): void {
    if (isObject(value) && INPUTS_KEY in value && !this.#namesEveryInput(value)) {
      this.#decodeColumnar(value[INPUTS_KEY], sink);
    } else {
      this.#writeRecord(sink, this.#recordOf(value));
    }
  }

  #namesEveryInput(record: JsonObject): boolean {
    return this.#inputs.every((input) => input.name in record);
  }

  /** `{"inputs": {name: rows}}` or `{"inputs": [record, …]}`: validated whole before any record is written. */
  #decodeColumnar(columns: Json, sink: RecordSink): void {
    if (Array.isArray(columns)) {
      const records = columns.map((record, row) => this.#atRow(sink, row, () => this.#recordOf(record)));
      for (const record of records) this.#writeRecord(sink, record);
      return;
    }
    if (!isObject(columns)) {
      throw new RecordError("JSON_COLUMNS_INVALID", '"inputs" must be an object of per-input rows or an array');
    }
    let rows = -1;
    for (const input of this.#inputs) {
      const column = columns[input.name];
      if (!Array.isArray(column)) {
        throw new RecordError(
          "JSON_COLUMNS_INVALID",
          `"inputs" has no array of rows for ${JSON.stringify(input.name)} (the model takes ${this.#describeInputs})`,
        );
      }
      if (rows >= 0 && column.length !== rows) {
        throw new RecordError(
          "JSON_COLUMNS_INVALID",
          `"inputs" columns differ in length (${rows} and ${column.length} rows for ${JSON.stringify(input.name)})`,
        );
      }
      rows = column.length;
    }
    const records: InputValues[][] = [];
    for (let row = 0; row < rows; row++) {
      records.push(
        this.#atRow(sink, row, () =>
          this.#inputs.map((input, i) => this.#single(i, (columns[input.name] as Json[])[row])),
        ),
      );
    }
    for (const record of records) this.#writeRecord(sink, record);
  }

  #atRow<T>(sink: RecordSink, row: number, decode: () => T): T {
    try {
      return decode();
    } catch (error) {
      if (error instanceof RecordError) error.location.recordIndex ??= sink.nextRecordIndex + row;
      throw error;
    }
  }

  #recordOf(value: Json): InputValues[] {
    if (!isObject(value)) return this.#flat(value, true);
    if (this.#namesEveryInput(value)) return this.#named(value);
    if (FEATURES_KEY in value) return this.#flat(value[FEATURES_KEY], false);
    if (INSTANCES_KEY in value) {
      if (!Array.isArray(value[INSTANCES_KEY])) {
        throw new RecordError("JSON_INSTANCES_NOT_ARRAY", '"instances" must be an array of records');
      }
      // Where one record belongs (a JSON Lines line, an element of a batch): several would break the one
      // answer per record that lines outputs up with inputs.
      throw new RecordError(
        "JSON_INSTANCES_IN_RECORD",
        'a record holds "instances" (several records): send them as one application/json body, or one ' +
          "record per line",
      );
    }
    const missing = this.#inputs.filter((input) => !(input.name in value)).map((input) => JSON.stringify(input.name));
    throw new RecordError(
      "JSON_INPUT_MISSING",
      `record has no ${missing.join(", ")}; the model takes ${this.#describeInputs}: ` +
        'give one key per input, {"features": [...]}, or an array of numbers',
    );
  }

  #named(record: JsonObject): InputValues[] {
    return this.#inputs.map((input, i) => this.#single(i, record[input.name]));
  }

  /** One input's values from `value` (a number or nested arrays of numbers). */
  #single(inputIndex: number, value: Json): InputValues {
    const input = this.#inputs[inputIndex];
    const values = new InputValues(input);
    const count = this.#collect(value, [values], [input], 0, 0);
    if (count !== input.width) {
      throw new RecordError(
        "JSON_WIDTH_MISMATCH",
        `${JSON.stringify(input.name)} has ${count} value(s); the model takes ${input.width}`,
      );
    }
    return values;
  }

  /**
   * All inputs' values from one flat record (a number or nested arrays of numbers), in model order;
   * `whole` when `value` is the record itself, not the array under its `features` key.
   */
  #flat(value: Json, whole: boolean): InputValues[] {
    const values = this.#inputs.map((input) => new InputValues(input));
    const count = this.#collect(value, values, this.#inputs, 0, 0);
    if (count !== this.#totalWidth) {
      throw new RecordError(
        "JSON_WIDTH_MISMATCH",
        `record has ${count} value(s); the model takes ${this.#totalWidth} (${this.#describeInputs})${
          whole && count === this.#totalWidth + 1 && Array.isArray(value) && !value.some(Array.isArray)
            ? leadingExtraHint("value")
            : ""
        }`,
      );
    }
    return values;
  }

  /**
   * Appends the numbers of `value` (depth first) to `targets`, moving to the next target when one is full,
   * and returns the running count (which may exceed the total width: the caller reports the mismatch).
   */
  #collect(value: Json, targets: InputValues[], specs: readonly TensorSpec[], count: number, depth: number): number {
    if (Array.isArray(value)) {
      if (depth === MAX_ARRAY_NESTING) {
        throw new RecordError(
          "JSON_NESTED_TOO_DEEP",
          `arrays nested more than ${MAX_ARRAY_NESTING} deep; a record's arrays follow its input's shape`,
        );
      }
      let total = count;
      for (const element of value) total = this.#collect(element, targets, specs, total, depth + 1);
      return total;
    }
    let t = 0;
    while (t < targets.length && targets[t].length === specs[t].width) t++;
    if (t === targets.length) return count + 1;
    const spec = specs[t];
    const target = targets[t];
    if (target.texts !== undefined) {
      if (typeof value !== "string") {
        throw new RecordError(
          "JSON_VALUE_NOT_TEXT",
          `value ${count} is ${describe(value)}, not a string; ${JSON.stringify(spec.name)} takes strings`,
        );
      }
      target.texts[target.length++] = value;
      return count + 1;
    }
    let number: number;
    if (typeof value === "number") number = value;
    else if (typeof value === "boolean") number = value ? 1 : 0;
    else if (value === null && spec.acceptsMissing) number = Number.NaN;
    else if (value === null) {
      throw new RecordError(
        "JSON_VALUE_NOT_NUMERIC",
        `value ${count} is null, and ${JSON.stringify(spec.name)} takes no missing values ` +
          "(only models that read NaN as missing, such as tree ensembles, do)",
      );
    } else throw new RecordError("JSON_VALUE_NOT_NUMERIC", `value ${count} is ${describe(value)}, not a number`);
    const range = integerRange(spec.type);
    if (range !== undefined && !isIntegerIn(number, range)) {
      throw new RecordError(
        Number.isInteger(number) ? "JSON_VALUE_OUT_OF_RANGE" : "JSON_VALUE_NOT_INTEGER",
        `value ${count} (${number}) is not ${describeIntegerType(spec.type)}, as ${JSON.stringify(spec.name)} takes`,
      );
    }
    target.values[target.length++] = number;
    return count + 1;
  }

  #writeRecord(sink: RecordSink, record: InputValues[]): void {
    const slots = sink.beginRecord();
    for (let i = 0; i < record.length; i++) {
      const { texts, values } = record[i];
      if (texts === undefined) {
        slots.arrays[i].set(values, slots.offset(i));
        continue;
      }
      const column = slots.texts[i];
      const offset = slots.offset(i);
      for (let k = 0; k < texts.length; k++) column[offset + k] = texts[k];
    }
  }
}
