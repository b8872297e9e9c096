/**
 * Decodes one JSON value into model inputs. The forms a record may take:
 * - an array of numbers (nested arrays are flattened), feeding the inputs in model order like a CSV row
 *   (strings for string inputs; `null` is a missing value, NaN, for inputs that accept them);
 * - a number, for a model that takes one value;
 * - an object with one key per model input (`{"a": [...], "b": [...]}`);
 * - `{"features": [...]}`, the array form under a key;
 * - `{"inputs": ...}`, columnar (TensorFlow Serving style): one array of rows per input name, or an array
 *   of records; it holds several records.
 * A flat array of numbers, the common case, is read straight from the bytes without `JSON.parse`, bare or
 * as `{"features": [...]}` (SageMaker's JSON Lines form): for a model of numeric inputs only, by CSV's
 * row reader ({@link PlainNumberRowReader}), `null`s as missing values included, and for a model of one
 * float32 input first by CSV's WebAssembly one ({@link Float32RowReader}) where the framer lends the
 * chunk. So are records naming each input, and strings without escapes for string inputs.
 * Anything else goes through `JSON.parse` ({@link ParsedJsonRecords}), which also explains what it
 * refuses.
 */
import {
  type CodecContext,
  type Frame,
  type IntegerRange,
  isIntegerIn,
  type RecordDecoder,
  type RecordSink,
  type TensorSpec,
} from "../../src/index.js";
import {
  DecimalScanner,
  estimateServesFloat32,
  isNullAt,
  NULL_LENGTH,
  POWERS_OF_TEN,
  readExponent,
  scaleDecimal,
} from "../text/ascii-number.js";
import { Float32RowReader } from "../text/float32-row.js";
import { PlainNumberRowReader } from "../text/plain-number-row.js";
import { recentStrings } from "../text/recent-strings.js";
import { BegunRecord } from "./begun-record.js";
import { inputLayout } from "./input-layout.js";
import { skipJsonScalar } from "./json-scalar.js";
import { ParsedJsonRecords } from "./parsed-json-record.js";
import { FEATURES_KEY, INPUTS_KEY } from "./request-shapes.js";

const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** `features`, the key of SageMaker's `{"features": [...]}`, as bytes. */
const FEATURES_KEY_BYTES = new TextEncoder().encode(FEATURES_KEY);
const INPUTS_KEY_BYTES = new TextEncoder().encode(INPUTS_KEY);

/** Whether `bytes[start, end)` is `key`. */
function isKey(bytes: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  if (end - start !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (bytes[start + k] !== key[k]) return false;
  return true;
}

/** Whether `bytes[start, end)` is ASCII (so, as a key stepped over, needs no UTF-8 check). */
function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (bytes[k] > 0x7f) return false;
  return true;
}

/** Decodes JSON records (see the module comment) for one request. */
export class JsonRecordDecoder implements RecordDecoder {
  /** A record's values are all checked before any is written, then all written. */
  readonly fillsEveryValue = true;
  readonly #inputs: readonly TensorSpec[];
  readonly #totalWidth: number;
  /** Scratch for the fast path: one record's values, in model input order. */
  readonly #scratch: Float64Array;
  readonly #anyInteger: boolean;
  /** Per value of a record, the integers its input takes (an integer type or bool), else undefined. */
  readonly #integerRanges: readonly (IntegerRange | undefined)[];
  /** Per value of a record, 1 where its input takes missing values (`null` is then NaN), else 0. */
  readonly #missingTaken: Uint8Array;
  /** Per value of a record, 1 where its input takes strings, else 0. */
  readonly #textTaken: Uint8Array;
  /** Scratch for the fast path: one record's strings, where {@link #textTaken} says. */
  readonly #textScratch: string[];
  /** The strings of string values, recent ones found again by their bytes. */
  readonly #strings = recentStrings();
  /** Whether every input is float32 (see {@link estimateServesFloat32}). */
  readonly #allFloat32: boolean;
  readonly #anyText: boolean;
  readonly #scanner = new DecimalScanner();
  /** Where the last exponent read ended (see {@link readExponent}). */
  readonly #exponentEnd = { end: 0 };
  /**
   * For a model of numeric inputs only: reads an array (`[0.5,-1,7]`, or `[0.5, -1, 7]` as Python's
   * `json.dumps` writes it, or `[0.5,null,7]` for a model that takes missing values) as CSV reads a row.
   */
  readonly #plainRows: PlainNumberRowReader | undefined;
  /** For a model of one float32 input, reads such an array of plain numbers first, where the framer lends it. */
  readonly #float32Rows: Float32RowReader | undefined;
  /**
   * Whether (1) or not (0) the last array tried was read by {@link #plainRows}. While arrays fail (other
   * spaces, nesting, `null` for a model that takes no missing values), only every 64th is tried.
   */
  #plainArrays = 1;
  /** Frames decoded, modulo 64 (every 64th array is offered whatever {@link #plainArrays} says). */
  #arrayPhase = 0;
  readonly #begun = new BegunRecord();
  /** Whatever the byte readers pass on, read through `JSON.parse`. */
  readonly #parsed: ParsedJsonRecords;
  /** The inputs' names, as UTF-8, for {@link #decodeNamedArrays}. */
  readonly #names: readonly Uint8Array[];
  /** Where each input's values start in a record (and in the scratch). */
  readonly #offsets: readonly number[];
  /** Which inputs a record read by {@link #decodeNamedArrays} has named so far. */
  readonly #seenInputs: Uint8Array;
  /** The inputs in the order the last record read by {@link #decodeNamedArrays} named them. */
  readonly #keyOrder: Uint32Array;
  /** Whether an input is named `features` (`{"features": [...]}` is then that input's values, not a row). */
  readonly #featuresIsInput: boolean;
  /**
   * A model of one input: its name as UTF-8 (`{"float_input": [...]}` is a row as `[...]` is, read by
   * {@link #featuresArray} as `{"features": [...]}` is).
   */
  readonly #onlyInputName: Uint8Array | undefined;
  /** Set by {@link #featuresArray}: where the array under `"features"` (or the only input's name) closes. */
  #featuresClose = 0;
  /** Set by {@link #readKey}: where the key it read starts and ends, quotes excluded. */
  #keyStart = 0;
  #keyEnd = 0;

  constructor(context: CodecContext) {
    const layout = inputLayout(context.signature);
    this.#inputs = layout.inputs;
    this.#totalWidth = layout.totalWidth;
    this.#missingTaken = layout.missingTaken;
    this.#textTaken = layout.textTaken;
    this.#integerRanges = layout.integerRanges;
    this.#anyInteger = layout.anyInteger;
    this.#allFloat32 = layout.allFloat32;
    this.#anyText = layout.anyText;
    this.#names = layout.names;
    this.#offsets = layout.offsets;
    this.#featuresIsInput = layout.featuresIsInput;
    this.#onlyInputName = layout.inputs.length === 1 ? layout.names[0] : undefined;
    this.#parsed = new ParsedJsonRecords(layout);
    this.#scratch = new Float64Array(this.#totalWidth);
    this.#textScratch = layout.anyText ? new Array<string>(this.#totalWidth).fill("") : [];
    this.#plainRows = PlainNumberRowReader.of(this.#inputs, { nullAsMissing: true, jsonNumbers: true });
    this.#float32Rows = Float32RowReader.of(this.#inputs, { jsonNumbers: true });
    this.#seenInputs = new Uint8Array(this.#inputs.length);
    this.#keyOrder = new Uint32Array(this.#inputs.length);
    for (let index = 0; index < this.#keyOrder.length; index++) this.#keyOrder[index] = index;
  }

  decode(frame: Frame, received: RecordSink): void {
    let sink = received;
    const { buffer, start, end } = frame;
    this.#arrayPhase = (this.#arrayPhase + 1) & 63;
    if (this.#plainRows !== undefined && (this.#plainArrays | (this.#arrayPhase === 0 ? 1 : 0)) !== 0) {
      // The row: the record itself (`[…]`), or the array under `"features"`; its `]` ends the last number,
      // as a line feed ends a CSV row's.
      let open = -1;
      let close = end - 1;
      if (end - start > 2 && buffer[start] === OPEN_ARRAY && buffer[close] === CLOSE_ARRAY) open = start;
      else if (buffer[start] === OPEN_OBJECT) {
        open = this.#featuresArray(buffer, start, end);
        close = this.#featuresClose;
      }
      if (open >= 0) {
        const slots = sink.beginRecord();
        if (
          this.#float32Rows?.read(buffer, open + 1, close, slots.arrays[0], slots.offset(0)) ||
          this.#plainRows.readRecord(buffer, open + 1, close, slots)
        ) {
          this.#plainArrays = 1;
          return;
        }
        this.#plainArrays = 0;
        // The general paths write the record begun here (over what the quick one left).
        sink = this.#begun.hold(sink, slots);
      }
    }
    if (
      this.#decodeFlatArray(buffer, start, end, sink) ||
      this.#decodeNamedArrays(buffer, start, end, sink) ||
      this.#decodeFeatures(buffer, start, end, sink)
    )
      return;
    this.#parsed.decode(frame.bytes, sink);
  }

  /**
   * Reads `[n, n, …]` of exactly the model's width, `buffer[start, end)`, without building JS values.
   * Returns false, having written nothing, for anything else (nested arrays, objects, a wrong count,
   * non-numbers), which the general path then decodes or explains.
   */
  #decodeFlatArray(bytes: Uint8Array, start: number, end: number, sink: RecordSink): boolean {
    const last = this.#lastByte(bytes, start, end);
    if (last <= start || bytes[last] !== CLOSE_ARRAY) return false;
    let i = start;
    while (isSpace(bytes[i])) i++;
    if (bytes[i] !== OPEN_ARRAY) return false;
    i = this.#readNumbers(bytes, i + 1, end, 0, this.#totalWidth);
    if (i < 0) return false;
    while (i < end && isSpace(bytes[i])) i++;
    return i === end && this.#writeScratch(sink);
  }

  /**
   * Reads `{"name": [n, n, …], …}` with one flat array of numbers under each model input's name (or, for
   * an input of one value, the value alone), no input twice, no key escaped, other keys only with a
   * scalar value (stepped over), `buffer[start, end)`, without building JS values: the form sequence
   * models' clients send (`{"input_ids": [...], "attention_mask": [...]}`), read 2.7 times faster than
   * through `JSON.parse`, and the one pandas' `to_json(orient="records")` writes for a model of one input
   * per column. Returns false, having written nothing, for anything else, which the general path then
   * decodes or explains.
   */
  #decodeNamedArrays(bytes: Uint8Array, start: number, end: number, sink: RecordSink): boolean {
    const last = this.#lastByte(bytes, start, end);
    if (last <= start || bytes[last] !== CLOSE_OBJECT) return false;
    let i = start;
    while (isSpace(bytes[i])) i++;
    if (bytes[i] !== OPEN_OBJECT) return false;
    i++;
    const seen = this.#seenInputs.fill(0);
    let found = 0;
    for (;;) {
      i = this.#readKey(bytes, i, last);
      if (i < 0) return false;
      const keyStart = this.#keyStart;
      const keyEnd = this.#keyEnd;
      // Records name the inputs in the same order, mostly: the input named here in the last record first.
      const inputIndex = this.#inputNamed(bytes, keyStart, keyEnd, this.#keyOrder[found < seen.length ? found : 0]);
      if (inputIndex < 0) {
        // Another key (an id beside the inputs), which `JSON.parse`'s path ignores too: its value is
        // stepped over when it is a scalar.
        if (!isAscii(bytes, keyStart, keyEnd)) return false;
        i = skipJsonScalar(bytes, i, last);
      } else {
        if (seen[inputIndex] === 1) return false;
        seen[inputIndex] = 1;
        this.#keyOrder[found++] = inputIndex;
        const from = this.#offsets[inputIndex];
        const width = this.#inputs[inputIndex].width;
        if (bytes[i] === OPEN_ARRAY) i = this.#readNumbers(bytes, i + 1, last, from, from + width);
        else if (width === 1) i = this.#readNumbers(bytes, i, last, from, from + 1, true);
        else return false;
      }
      if (i < 0) return false;
      while (isSpace(bytes[i])) i++;
      if (bytes[i] === COMMA) {
        i++;
        continue;
      }
      return bytes[i] === CLOSE_OBJECT && i === last && found === seen.length && this.#writeScratch(sink);
    }
  }

  /**
   * Reads `{"features": [n, n, …]}`, SageMaker's JSON Lines form (see {@link #featuresArray}), as
   * {@link #decodeFlatArray} reads the array. Returns false, having written nothing, for anything else.
   */
  #decodeFeatures(bytes: Uint8Array, start: number, end: number, sink: RecordSink): boolean {
    const open = this.#featuresArray(bytes, start, end);
    if (open < 0) return false;
    const close = this.#featuresClose;
    const i = this.#readNumbers(bytes, open + 1, close + 1, 0, this.#totalWidth);
    return i === close + 1 && this.#writeScratch(sink);
  }

  /**
   * Where the array opens in a record `{"features": [...]}`, or -1; sets {@link #featuresClose} to where
   * it closes. Other keys may come before or after it (`{"id": 7, "features": [...]}`) with a scalar
   * value each, stepped over, unless the key is `inputs` or an input's name, which `JSON.parse`'s path
   * reads differently. A model of one input takes its name as well (`{"float_input": [...]}`, which
   * {@link #decodeNamedArrays} reads too, but number by number, at 60% of the speed). Not for a model of
   * several inputs one of which is named `features`: its record names every input, and
   * {@link #decodeNamedArrays} reads it. Keys with escapes, and non-ASCII ones, are left to the general
   * path.
   */
  #featuresArray(bytes: Uint8Array, start: number, end: number): number {
    const onlyInputName = this.#onlyInputName;
    if (this.#featuresIsInput && onlyInputName === undefined) return -1;
    const last = this.#lastByte(bytes, start, end);
    if (bytes[last] !== CLOSE_OBJECT) return -1;
    let i = start;
    while (isSpace(bytes[i])) i++;
    if (bytes[i] !== OPEN_OBJECT) return -1;
    i++;
    let open = -1;
    for (;;) {
      i = this.#readKey(bytes, i, last);
      if (i < 0) return -1;
      const keyStart = this.#keyStart;
      const keyEnd = this.#keyEnd;
      if (
        (!this.#featuresIsInput && isKey(bytes, keyStart, keyEnd, FEATURES_KEY_BYTES)) ||
        (onlyInputName !== undefined && isKey(bytes, keyStart, keyEnd, onlyInputName))
      ) {
        // A second `"features"` is the one `JSON.parse` keeps; beside the input's name, the general path
        // decides which it reads.
        if (open >= 0 || bytes[i] !== OPEN_ARRAY) return -1;
        open = i;
        // Without other keys after it, the array closes right before the record does; else at its first
        // `]` (a number cannot hold one; anything else in the array sends the record to the general path).
        let close = last - 1;
        while (close > open && isSpace(bytes[close])) close--;
        if (bytes[close] !== CLOSE_ARRAY) {
          close = open + 1;
          while (close < last && bytes[close] !== CLOSE_ARRAY) close++;
          if (close === last) return -1;
        }
        this.#featuresClose = close;
        i = close + 1;
      } else {
        if (
          !isAscii(bytes, keyStart, keyEnd) ||
          isKey(bytes, keyStart, keyEnd, INPUTS_KEY_BYTES) ||
          this.#inputNamed(bytes, keyStart, keyEnd, 0) >= 0
        )
          return -1;
        i = skipJsonScalar(bytes, i, last);
        if (i < 0) return -1;
      }
      while (isSpace(bytes[i])) i++;
      if (bytes[i] === COMMA) {
        i++;
        continue;
      }
      return i === last && open >= 0 ? open : -1;
    }
  }

  /**
   * Reads a key without escapes and its colon, `"key" :`, spaces around them skipped, before `last`.
   * Returns the index of the value after it, with the key's bounds in {@link #keyStart} and
   * {@link #keyEnd}; or -1.
   */
  #readKey(bytes: Uint8Array, from: number, last: number): number {
    let i = from;
    while (isSpace(bytes[i])) i++;
    if (bytes[i] !== QUOTE) return -1;
    const keyStart = ++i;
    while (i < last && bytes[i] !== QUOTE && bytes[i] !== BACKSLASH) i++;
    if (bytes[i] !== QUOTE) return -1;
    this.#keyStart = keyStart;
    this.#keyEnd = i;
    i++;
    while (isSpace(bytes[i])) i++;
    if (bytes[i] !== COLON) return -1;
    i++;
    while (isSpace(bytes[i])) i++;
    return i;
  }

  /** The index of the last byte of `bytes[start, end)` that is not a space (`start` if none is). */
  #lastByte(bytes: Uint8Array, start: number, end: number): number {
    let last = end - 1;
    while (last > start && isSpace(bytes[last])) last--;
    return last;
  }

  /** The index of the input whose name is `bytes[start, end)` (UTF-8), input `hint` tried first; or -1. */
  #inputNamed(bytes: Uint8Array, start: number, end: number, hint: number): number {
    const names = this.#names;
    if (isKey(bytes, start, end, names[hint])) return hint;
    for (let index = 0; index < names.length; index++) if (isKey(bytes, start, end, names[index])) return index;
    return -1;
  }

  /**
   * Reads numbers separated by commas, from `bytes[i]` up to the `]` that closes them, into the scratch
   * from `from`: exactly `to - from` of them. Returns the index after the `]`, or -1 for anything else.
   * With `bare`, reads one value not in an array and returns the index of the first byte after it that
   * is not a space.
   *
   * Plain numbers (`-12.5`, `0.0039`, `7`) are read inline, as CSV's fast path reads them; exponents and
   * long mantissas go to the {@link DecimalScanner}; `null` is NaN where the value's input takes missing
   * values; a string input's value is a string without escapes (see {@link #readString}). The record ends with `]` or `}`, so every number in
   * it is followed, inside the record, by a byte that cannot continue it: the digit loops need not
   * compare each position with `n`.
   */
  #readNumbers(bytes: Uint8Array, from: number, n: number, first: number, to: number, bare = false): number {
    const scratch = this.#scratch;
    const scanner = this.#scanner;
    const anyText = this.#anyText;
    let i = from;
    let count = first;
    for (;;) {
      while (isSpace(bytes[i])) i++;
      if (count === to) return -1;
      // biome-ignore lint/suspicious/noConfusingLabels: one value read, then the separator after it.
      value: {
        if (anyText && this.#textTaken[count] === 1) {
          i = this.#readString(bytes, i, n, count++);
          if (i < 0) return -1;
          break value;
        }
        // 1 for a minus sign, else 0.
        const negative = ((bytes[i] ^ MINUS) - 1) >>> 31;
        let at = i + negative;
        let c = bytes[at];
        let mantissa = 0;
        const integerStart = at;
        for (let digit = c - ZERO; digit >= 0 && digit <= 9; digit = c - ZERO) {
          mantissa = mantissa * 10 + digit;
          c = bytes[++at];
        }
        let digits = at - integerStart;
        // 1 for a number JSON does not allow (`05`, `.5`, `5.`), which the general path then refuses. A
        // leading zero before another digit is found by arithmetic, not a branch (see the engineering notes).
        let notJson = (((digits - 2) >> 31) + 1) & ((bytes[integerStart] - ZERO - 1) >>> 31);
        let fractionDigits = 0;
        if (c === DOT) {
          if (digits === 0) notJson = 1;
          const fractionStart = ++at;
          c = bytes[at];
          for (let digit = c - ZERO; digit >= 0 && digit <= 9; digit = c - ZERO) {
            mantissa = mantissa * 10 + digit;
            c = bytes[++at];
          }
          fractionDigits = at - fractionStart;
          digits += fractionDigits;
          if (fractionDigits === 0) notJson = 1;
        }
        // Up to 15 digits the mantissa is exact, and one division by an exact power of ten rounds correctly.
        const magnitude =
          fractionDigits > 22 ? Number.NaN : fractionDigits === 0 ? mantissa : mantissa / POWERS_OF_TEN[fractionDigits];
        if (
          digits === 0 ||
          notJson !== 0 ||
          c === 0x65 ||
          c === 0x45 ||
          // Past 15 digits (float64 values printed in full) the estimate serves float32 inputs, mostly.
          (digits > 15 && !(this.#allFloat32 && estimateServesFloat32(magnitude, mantissa)))
        ) {
          if (digits === 0 && negative === 0 && this.#missingTaken[count] === 1 && isNullAt(bytes, at, n)) {
            // `null`, a missing value for an input that takes them.
            scratch[count++] = Number.NaN;
            i = at + NULL_LENGTH;
          } else if (notJson !== 0) {
            return -1;
          } else {
            let value = Number.NaN;
            if (digits !== 0 && (c | 0x20) === 0x65) {
              // An exponent (`1.5e-05`, or Python's full-precision `4.6348195085252013e-07`).
              const exponent = readExponent(bytes, at, n, this.#exponentEnd);
              value = scaleDecimal(mantissa, digits, exponent - fractionDigits, this.#allFloat32) * (1 - 2 * negative);
              i = this.#exponentEnd.end;
            }
            if (Number.isNaN(value)) {
              value = scanner.scan(bytes, i, n);
              if (Number.isNaN(value)) return -1;
              i = scanner.end;
            }
            scratch[count++] = value;
          }
        } else {
          // −0 stays −0 (0 × −1).
          scratch[count++] = magnitude * (1 - 2 * negative);
          i = at;
        }
      }
      while (isSpace(bytes[i])) i++;
      // A value alone (`"x": 0.5`), for an input of one: its separator is the caller's.
      if (bare) return i;
      if (bytes[i] === COMMA) {
        i++;
        continue;
      }
      if (bytes[i] !== CLOSE_ARRAY || count !== to) return -1;
      return i + 1;
    }
  }

  /**
   * Reads the JSON string at `bytes[i]` (before `n`) into the text scratch at `count`: one without escapes
   * or control characters, as UTF-8. Returns the index after its closing quote, or -1 for anything else
   * (an escape, invalid UTF-8, not a string), which the general path then reads or refuses.
   */
  #readString(bytes: Uint8Array, i: number, n: number, count: number): number {
    if (bytes[i] !== QUOTE) return -1;
    let close = i + 1;
    while (close < n && bytes[close] !== QUOTE && bytes[close] !== BACKSLASH && bytes[close] >= 0x20) close++;
    if (close === n || bytes[close] !== QUOTE) return -1;
    const text = this.#strings.decode(bytes, i + 1, close);
    if (text === undefined) return -1;
    this.#textScratch[count] = text;
    return close + 1;
  }

  /** Writes the record in the scratch into the batch; false, having written nothing, when an integer does not fit. */
  #writeScratch(sink: RecordSink): boolean {
    const scratch = this.#scratch;
    if (this.#anyInteger) {
      for (let k = 0; k < scratch.length; k++) if (!this.#fits(k, scratch[k])) return false;
    }
    const slots = sink.beginRecord();
    let k = 0;
    for (let inputIndex = 0; inputIndex < this.#inputs.length; inputIndex++) {
      const base = slots.offset(inputIndex);
      const width = this.#inputs[inputIndex].width;
      if (this.#anyText && this.#textTaken[k] === 1) {
        const texts = slots.texts[inputIndex];
        for (let j = 0; j < width; j++) texts[base + j] = this.#textScratch[k++];
        continue;
      }
      // Straight into the batch's array: no view per record.
      const target = slots.arrays[inputIndex];
      for (let j = 0; j < width; j++) target[base + j] = scratch[k++];
    }
    return true;
  }

  /** True when value `k` of a flat record suits the element type of the input it lands in. */
  #fits(k: number, value: number): boolean {
    const range = this.#integerRanges[k];
    return range === undefined || isIntegerIn(value, range);
  }
}
