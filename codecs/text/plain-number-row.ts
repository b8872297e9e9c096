/**
 * The decoders' hot path, for models whose inputs are all numeric (most often one float input) and plain
 * fields (`-12.5`, `0.0039`, `7`, and float64 values printed in full for float32 inputs): one pass over a
 * row of comma-separated numbers, straight into the batch's array. A CSV row is one; so is a JSON array
 * without spaces, between its brackets.
 */
import {
  type IntegerRange,
  integerRange,
  isIntegerIn,
  isTextTensor,
  type NumericArray,
  type RecordSlots,
  type TensorSpec,
} from "../../src/index.js";
import {
  estimateServesFloat32,
  isAsciiSpace,
  isNullAt,
  longDecimal,
  NULL_LENGTH,
  nearestDouble,
  readExponent,
  scaleDecimal,
} from "./ascii-number.js";

const COMMA = 0x2c;
const ZERO = 0x30;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const SPACE = 0x20;
const QUOTE = 0x22;
/** `n`, which starts `null` and `nan` (`N` | 0x20 is `n` too). */
const LETTER_N = 0x6e;
/** `i`, which starts `inf` (`I` | 0x20 is `i` too). */
const LETTER_I = 0x69;
const ascii = (word: string) => new TextEncoder().encode(word);
/** The words Python's `json.dumps` writes for NaN and infinity (and `-Infinity`), case as written. */
const PYTHON_NAN = ascii("NaN");
const PYTHON_INFINITY = ascii("Infinity");
/** The words a CSV field may hold for NaN and infinity, in lower case (any case is read). */
const NAN_WORD = ascii("nan");
const INF_WORD = ascii("inf");
const INFINITY_WORD = ascii("infinity");

/**
 * Where the spaces, tabs and line breaks from `pos` on end, at `end` at the latest: a row's `end` is a
 * line feed, which must not be stepped over into the next row.
 */
function afterSpaces(buffer: Uint8Array, pos: number, end: number): number {
  let at = pos;
  while (at < end && isAsciiSpace(buffer[at])) at++;
  return at;
}

/** Whether `byte` may start a number that has no sign: a digit or a dot. */
function startsNumberProper(byte: number): boolean {
  return (byte - ZERO) >>> 0 <= 9 || byte === DOT;
}

/** Whether `buffer[pos, end)` starts with `word`; in any case where `anyCase` (`word` in lower case). */
function startsWithWord(buffer: Uint8Array, pos: number, end: number, word: Uint8Array, anyCase: boolean): boolean {
  if (pos + word.length > end) return false;
  const fold = anyCase ? 0x20 : 0;
  for (let i = 0; i < word.length; i++) if ((buffer[pos + i] | fold) !== word[i]) return false;
  return true;
}
/** `e`; `E` | 0x20 is `e` too. */
const EXPONENT = 0x65;
/** Fraction digits {@link PlainNumberRowReader} reads by straight-line steps, before `#fractionRest` reads the rest. */
const STRAIGHT_FRACTION_DIGITS = 8;
/** The bytes `0,` read as one little-endian 16-bit number. */
const ZERO_THEN_COMMA = ZERO | (COMMA << 8);
/**
 * The powers of ten that are exact doubles. A copy of `ascii-number.ts`'s on purpose: read through the
 * import, rows of 32 two-decimal features decoded 10% slower.
 */
const POWERS_OF_TEN = Float64Array.from({ length: 23 }, (_, k) => 10 ** k);

/** What a row may hold beyond plain numbers, which depends on its format. */
export interface RowFields {
  /** A number in quotes (`"1.5"`) is that number (CSV; in JSON it would be a string). */
  readonly quotedNumbers?: boolean;
  /** An empty field is a missing value (NaN), when every input takes missing values (CSV). */
  readonly emptyAsMissing?: boolean;
  /** `null` is a missing value (NaN), when every input takes missing values (JSON). */
  readonly nullAsMissing?: boolean;
  /**
   * The row goes on after these inputs' fields (a CSV row whose string inputs the reader does not read):
   * reading stops at the comma after the last of them, and {@link PlainNumberRowReader.runEnd} says where.
   */
  readonly fieldsFollow?: boolean;
  /**
   * Numbers are spelt as JSON spells them: no `.5`, `5.` or `05` (which `Number()` and a CSV field allow).
   * A row with such a number is left to the general path, which refuses it as `JSON.parse` does, so that
   * a record is read or refused alike whichever path reads it. The words Python's `json.dumps` writes for
   * NaN and the infinities (`NaN`, `Infinity`, `-Infinity`) are read as those numbers, as there.
   */
  readonly jsonNumbers?: boolean;
}

/** Reads rows of plain numbers into a model's numeric inputs. */
export class PlainNumberRowReader {
  readonly #width: number;
  /** The inputs' widths, in order. */
  readonly #widths: readonly number[];
  /** Per input, the integers it takes (an integer type or bool), or undefined for a float input. */
  readonly #integers: readonly (IntegerRange | undefined)[];
  /** Whether every input is float32 (see {@link estimateServesFloat32}). */
  readonly #float32Input: boolean;
  /**
   * For several inputs, or integer ones: the row's values, read in one pass, then checked (integers must
   * be whole) and copied to each input.
   */
  readonly #row: Float32Array | Float64Array | undefined;
  /**
   * Whether (1) or not (0) the last row {@link #read} counted zeros in was mostly bare zeros. It starts
   * at 1 so that the optimiser sees both paths on the first row: starting at 0 made V8 compile the zero
   * test out, then deoptimise when sparse rows came, and sparse bodies ran 20% slower.
   */
  #zeroHeavy = 1;
  /** Rows read by {@link #read}, modulo 64 (every 64th counts zeros whatever the flag). */
  #rowPhase = 0;
  /** Set by {@link #moreDigits} and {@link #fractionRest}: the digits they read, as a number. */
  #longMantissa = 0;
  /**
   * For a field with more than {@link STRAIGHT_FRACTION_DIGITS} fraction digits: its digits up to those,
   * as a number (then {@link #fractionRest}'s, in {@link #longMantissa}).
   */
  #fractionHead = 0;
  /** Set by {@link #word}: the value of the word it read. */
  #wordValue = 0;
  /** Where the last exponent read ended (see {@link readExponent}). */
  readonly #exponentEnd = { end: 0 };
  /** Whether a number may be quoted (`"1.5"`, a CSV field; in JSON that is a string). */
  readonly #quotedNumbers: boolean;
  /** Whether an empty field is a missing value, NaN (a CSV field, for a model that takes missing values). */
  readonly #emptyIsMissing: boolean;
  /** Whether `null` is a missing value, NaN (a JSON value, for a model that takes missing values). */
  readonly #nullIsMissing: boolean;
  /** Whether the row goes on after these inputs' fields (see {@link RowFields.fieldsFollow}). */
  readonly #fieldsFollow: boolean;
  /** 1 where numbers must be spelt as JSON spells them (see {@link RowFields.jsonNumbers}), else 0. */
  readonly #jsonNumbers: number;
  /**
   * For a reader whose fields other fields follow: where the comma after the last of them is, set by a
   * row read up to it (a row that ends with them leaves it as it was).
   */
  runEnd = -1;

  private constructor(
    inputs: readonly TensorSpec[],
    {
      quotedNumbers = false,
      emptyAsMissing = false,
      nullAsMissing = false,
      fieldsFollow = false,
      jsonNumbers = false,
    }: RowFields,
  ) {
    this.#fieldsFollow = fieldsFollow;
    this.#jsonNumbers = jsonNumbers ? 1 : 0;
    const missingTaken = inputs.every((input) => input.acceptsMissing === true);
    this.#quotedNumbers = quotedNumbers;
    this.#emptyIsMissing = emptyAsMissing && missingTaken;
    this.#nullIsMissing = nullAsMissing && missingTaken;
    this.#widths = inputs.map((input) => input.width);
    this.#width = this.#widths.reduce((sum, width) => sum + width, 0);
    this.#integers = inputs.map((input) => integerRange(input.type));
    this.#float32Input = inputs.every((input) => input.type === "float32");
    if (inputs.length > 1 || this.#integers[0] !== undefined) {
      this.#row = this.#float32Input ? new Float32Array(this.#width) : new Float64Array(this.#width);
    }
  }

  /**
   * A reader for a model's `inputs`, when they are all numeric (no string input); else undefined. The
   * format's `fields` are read too: CSV's quoted numbers, and its empty fields or JSON's `null`s as missing
   * values where every input takes them.
   */
  static of(inputs: readonly TensorSpec[], fields: RowFields = {}): PlainNumberRowReader | undefined {
    return inputs.length > 0 && !inputs.some(isTextTensor) ? new PlainNumberRowReader(inputs, fields) : undefined;
  }

  /**
   * Reads the row `buffer[start, end)` into the record's slots (see {@link #read} for what it takes, and
   * for the byte at `end`): one float input's values straight into its array, several inputs' (or integer
   * ones') through one row, copied to each after the pass. The reader's inputs are the slots' from
   * `firstInput` on (a run of numeric inputs between a CSV row's string ones). Returns false, having written values the
   * caller's general path then overwrites (and refuses, for a fraction where an integer belongs), for a
   * row that needs more.
   */
  readRecord(buffer: Uint8Array, start: number, end: number, slots: RecordSlots, firstInput = 0): boolean {
    const row = this.#row;
    if (!row) return this.#read(buffer, start, end, slots.arrays[firstInput], slots.offset(firstInput));
    if (!this.#read(buffer, start, end, row, 0)) return false;
    const widths = this.#widths;
    let k = 0;
    for (let inputIndex = 0; inputIndex < widths.length; inputIndex++) {
      const target = slots.arrays[firstInput + inputIndex];
      const base = slots.offset(firstInput + inputIndex);
      const width = widths[inputIndex];
      const range = this.#integers[inputIndex];
      if (range !== undefined) {
        for (let j = 0; j < width; j++) if (!isIntegerIn(row[k + j], range)) return false;
      }
      for (let j = 0; j < width; j++) target[base + j] = row[k++];
    }
    return true;
  }

  /**
   * Reads the row `buffer[start, end)` into `target` from `base` on. Returns false (having written values
   * that the caller's general path then overwrites) when any field needs more: quotes other than around a
   * CSV number, spaces other than before a field (`1, 2` is read here), scales past 10^±22 for a float64
   * input (10^22 and 10^-44 for a float32 one), more than 15 digits for a float64 input (or beside a
   * float32 halfway point), `NaN` (but for JSON's, see {@link RowFields.jsonNumbers}), an empty field or
   * `null` (unless it is a missing value, see {@link RowFields}), a row of the wrong width, a number JSON
   * does not allow (`.5`, `05`) where {@link RowFields.jsonNumbers} says so.
   *
   * Mispredicted branches are much of what a field costs here, so the sign is applied without a branch
   * (half of all features are negative), and the test for a bare `0` (most fields of sparse and image
   * rows, almost none of dense ones) is made only while recent rows were mostly zeros; it then reads up
   * to four bare zeros a pass (MNIST rows decode 23% faster than one a pass).
   *
   * A field's first four integer digits and first eight fraction digits are read by straight-line code,
   * not a loop, and longer runs by {@link #moreDigits} and {@link #fractionRest}. TurboFan (Node 20) has
   * no loop-invariant code motion: in a digit loop it checked the array's map and loaded its length and
   * data pointer again for every byte, behind the loop's stack check. Unrolled, rows of 32 two-decimal
   * features decode 17% faster, six-decimal ones 27%, MNIST rows 18%; float64 values printed in full 10%
   * faster again since their fraction digits after the eighth are read the same way, as a number apart.
   *
   * Reading stops at the first byte that cannot continue a number, without comparing each position
   * with `end` (20% faster): the byte at `end` must be such a byte, as the line feed after a framed CSV
   * row and the `]` closing a JSON array are. The CSV decoder hands a row without one (the body's last,
   * one that straddled chunks, or from another framer) over as a copy that has one. That choice is made by
   * the caller, not here: with it here, V8 sometimes compiled this function before it had seen such a
   * row, dropped the code on the first one, and compiled only its loop again (on-stack replacement); about
   * one process in ten then parsed CSV at half speed for its lifetime.
   */
  #read(buffer: Uint8Array, start: number, end: number, target: NumericArray, base: number): boolean {
    const width = this.#width;
    // Every 64th row looks for zeros anyway, to notice when the data changes.
    this.#rowPhase = (this.#rowPhase + 1) & 63;
    // A number, not a boolean: TurboFan tested `a || b` on every field as a value of unknown type.
    const zeroHeavy = this.#zeroHeavy | (this.#rowPhase === 0 ? 1 : 0);
    const jsonNumbers = this.#jsonNumbers;
    let zeros = 0;
    // Quotes stepped over before a number, and quotes closing one: a row is read here only when every
    // quote opened was closed (`"1,2"` is one field, not the numbers 1 and 2).
    let quotesOpened = 0;
    let quotesClosed = 0;
    let pos = start;
    let k = 0;
    for (;;) {
      if (pos >= end || k === width) {
        // The comma after this reader's last field, where other fields follow.
        if (k === width && pos < end && this.#fieldsFollow && buffer[pos - 1] === COMMA) {
          this.runEnd = pos - 1;
          if (zeroHeavy !== 0) this.#zeroHeavy = 2 * zeros > width ? 1 : 0;
          return quotesOpened === quotesClosed;
        }
        // A row that ends in an empty field (`1.5,`), for a model that takes missing values.
        if (pos !== end || k !== width - 1 || !this.#emptyIsMissing || pos === start || buffer[pos - 1] !== COMMA)
          return false;
        target[base + k] = Number.NaN;
        if (zeroHeavy !== 0) this.#zeroHeavy = 2 * zeros > width ? 1 : 0;
        return quotesOpened === quotesClosed;
      }
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
        if (digit >>> 0 > 9) {
          // A space before a field (`1, 2`, as Python's `json.dumps` writes arrays), or a quote opening a
          // CSV field (`"1.5"`, as Athena writes every field), is stepped over here, off the path of a
          // field that starts with a digit.
          if (negative === 0 && digit === SPACE - ZERO) {
            pos++;
            continue;
          }
          // A plus sign (`+1.5`, as C's `%+f` writes), where JSON is not read (it has none), is stepped
          // over when a digit or a dot follows: the field is then read as one without it, and `+-1`,
          // `++1` or `+ 1`, which `Number()` refuses, are left to the general path.
          if (negative === 0 && digit === PLUS - ZERO && jsonNumbers === 0 && startsNumberProper(buffer[pos + 1])) {
            pos++;
            continue;
          }
          if (negative === 0 && digit === QUOTE - ZERO && this.#quotedNumbers) {
            quotesOpened++;
            pos++;
            continue;
          }
          // An empty field (`1.5,,3`), for a model that takes missing values (XGBoost's are common).
          if (negative === 0 && digit === COMMA - ZERO && this.#emptyIsMissing) {
            target[base + k++] = Number.NaN;
            pos++;
            continue;
          }
          // `null` (`[1.5,null,3]`) for a model that takes missing values, and words for NaN and the
          // infinities (see `#word`).
          const letter = (digit + ZERO) | 0x20;
          if (letter === LETTER_N || letter === LETTER_I) {
            const length = this.#word(buffer, pos, end, negative);
            if (length === 0 || k === width) return false;
            target[base + k++] = this.#wordValue;
            pos += length;
            if (pos === end) {
              if (zeroHeavy !== 0) this.#zeroHeavy = 2 * zeros > width ? 1 : 0;
              return k === width && quotesOpened === quotesClosed;
            }
            if (buffer[pos] !== COMMA) return false;
            pos++;
            continue;
          }
          // JSON's numbers start with a digit (no `.5`).
          if (jsonNumbers !== 0) return false;
          break integerPart;
        }
        mantissa = digit;
        digit = buffer[++pos] - ZERO;
        if (digit >>> 0 > 9) break integerPart;
        // Nor do they start with a zero before another digit (`05`).
        if (mantissa === 0 && jsonNumbers !== 0) return false;
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
          if (digit >>> 0 > 9) {
            // Nor end with a dot (`5.`).
            if (jsonNumbers !== 0) return false;
            break fractionPart;
          }
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
          // The rest (float64 values printed in full) is read as a number of its own and joined after:
          // two chains of multiply-adds that the processor runs side by side, not one twice as long. A rest
          // past 22 digits has no exact power of ten to join it by; the general path reads it.
          const restStart = pos;
          pos = this.#fractionRest(buffer, pos);
          if (pos - restStart > 22) return false;
          this.#fractionHead = mantissa;
          mantissa = mantissa * POWERS_OF_TEN[pos - restStart] + this.#longMantissa;
          digit = buffer[pos] - ZERO;
        }
        fractionDigits = pos - fractionStart;
      }
      const digits = integerDigits + fractionDigits;
      let magnitude: number;
      if (((digit + ZERO) | 0x20) !== EXPONENT) {
        if (digits === 0 || fractionDigits > 22 || (digit !== COMMA - ZERO && pos !== end)) {
          if (digits === 0 || fractionDigits > 22) return false;
          const after = afterSpaces(buffer, pos, end);
          // Spaces after the number, up to the comma or the row's end (`1.5 ,2`, a left-justified column).
          if (after !== pos && (after === end || buffer[after] === COMMA)) pos = after;
          else if (this.#closesQuote(buffer, start, integerStart - negative, pos, end)) {
            quotesClosed++;
            pos++;
          } else return false;
        }
        // Up to 15 digits the mantissa is exact, and one division by an exact power of ten rounds correctly.
        magnitude = fractionDigits === 0 ? mantissa : mantissa / POWERS_OF_TEN[fractionDigits];
        // Past 15 digits (float64 values printed in full) the estimate serves a float32 input, mostly; a
        // float64 input takes the nearest double, worked out exactly from the runs its digits were read in.
        if (digits > 15 && !(this.#float32Input && estimateServesFloat32(magnitude, mantissa))) {
          if (this.#float32Input) return false;
          magnitude = this.#longValue(buffer, integerStart, pos, fractionDigits, -fractionDigits);
          if (Number.isNaN(magnitude)) return false;
        }
      } else {
        // Apart, so that rows without exponents run the lines above alone.
        const digitsEnd = pos;
        const exponent = readExponent(buffer, pos, buffer.length, this.#exponentEnd);
        pos = this.#exponentEnd.end;
        digit = buffer[pos] - ZERO;
        magnitude = scaleDecimal(mantissa, digits, exponent - fractionDigits, this.#float32Input);
        // Python's `repr` of a float64 below 10^-4 (`4.6348195085252013e-07`), for a float64 input.
        if (Number.isNaN(magnitude) && !this.#float32Input && !Number.isNaN(exponent))
          magnitude = this.#longValue(buffer, integerStart, digitsEnd, fractionDigits, exponent - fractionDigits);
        if (digits === 0 || Number.isNaN(magnitude)) return false;
        if (digit !== COMMA - ZERO && pos !== end) {
          const after = afterSpaces(buffer, pos, end);
          if (after === pos || (after !== end && buffer[after] !== COMMA)) return false;
          pos = after;
        }
      }
      // −0 stays −0: 0 × −1.
      target[base + k++] = magnitude * (1 - 2 * negative);
      if (pos === end) {
        if (zeroHeavy !== 0) this.#zeroHeavy = 2 * zeros > width ? 1 : 0;
        return k === width && quotesOpened === quotesClosed;
      }
      pos++;
    }
  }

  /**
   * The length of the word at `pos` that stands for a value (in {@link #wordValue}), or 0, as the general
   * paths read them (`negative` says whether a minus sign came before): `null`, a missing value where
   * every input takes them ({@link RowFields.nullAsMissing}); in JSON ({@link RowFields.jsonNumbers})
   * `NaN`, `Infinity` and `-Infinity`, which Python's `json.dumps` writes and `json.loads` reads; in CSV
   * `nan`, `inf` and `infinity` in any case, signed or not, as NumPy's `savetxt` writes them (a row with
   * one went through the general path at a quarter of the speed).
   */
  #word(buffer: Uint8Array, pos: number, end: number, negative: number): number {
    if (negative === 0 && this.#nullIsMissing && isNullAt(buffer, pos, end)) {
      this.#wordValue = Number.NaN;
      return NULL_LENGTH;
    }
    const json = this.#jsonNumbers !== 0;
    const nan = json ? PYTHON_NAN : NAN_WORD;
    if ((!json || negative === 0) && startsWithWord(buffer, pos, end, nan, !json)) {
      this.#wordValue = Number.NaN;
      return nan.length;
    }
    const length = json
      ? startsWithWord(buffer, pos, end, PYTHON_INFINITY, false)
        ? PYTHON_INFINITY.length
        : 0
      : startsWithWord(buffer, pos, end, INFINITY_WORD, true)
        ? INFINITY_WORD.length
        : startsWithWord(buffer, pos, end, INF_WORD, true)
          ? INF_WORD.length
          : 0;
    if (length !== 0) this.#wordValue = negative === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    return length;
  }

  /**
   * Whether the byte at `pos`, after the number that starts at `numberStart`, is the quote closing a CSV
   * field that a quote opened right before that number, and the field ends after it.
   */
  #closesQuote(buffer: Uint8Array, start: number, numberStart: number, pos: number, end: number): boolean {
    return (
      this.#quotedNumbers &&
      buffer[pos] === QUOTE &&
      numberStart > start &&
      buffer[numberStart - 1] === QUOTE &&
      (pos + 1 === end || buffer[pos + 1] === COMMA)
    );
  }

  /**
   * The value of a field of more than 15 digits, `buffer[integerStart, digitsEnd)`, times 10^`scale`, for a
   * float64 input: from the two runs {@link #read} gathered its digits in, when its fraction went past the
   * straight-line steps, else from its digits again; NaN where `Number()` must decide.
   */
  #longValue(buffer: Uint8Array, integerStart: number, digitsEnd: number, fractionDigits: number, scale: number) {
    if (fractionDigits > STRAIGHT_FRACTION_DIGITS) {
      const rest = fractionDigits - STRAIGHT_FRACTION_DIGITS;
      const value = nearestDouble(this.#fractionHead, this.#longMantissa, rest, scale);
      if (!Number.isNaN(value)) return value;
    }
    return longDecimal(buffer, integerStart, digitsEnd, scale);
  }

  /**
   * Reads the fraction digits after the eighth, from `pos` on (a digit), as a number of their own (in
   * `#longMantissa`) and returns where they end: eight more by straight-line steps (float64 values printed
   * in full have 15 to 17 digits), then a loop (calling {@link #moreDigits} for it measured 2% slower).
   */
  #fractionRest(buffer: Uint8Array, pos: number): number {
    let digit = buffer[pos] - ZERO;
    let rest = 0;
    // biome-ignore lint/suspicious/noConfusingLabels: straight-line steps, left at the first non-digit.
    steps: {
      rest = digit;
      digit = buffer[++pos] - ZERO;
      if (digit >>> 0 > 9) break steps;
      rest = rest * 10 + digit;
      digit = buffer[++pos] - ZERO;
      if (digit >>> 0 > 9) break steps;
      rest = rest * 10 + digit;
      digit = buffer[++pos] - ZERO;
      if (digit >>> 0 > 9) break steps;
      rest = rest * 10 + digit;
      digit = buffer[++pos] - ZERO;
      if (digit >>> 0 > 9) break steps;
      rest = rest * 10 + digit;
      digit = buffer[++pos] - ZERO;
      if (digit >>> 0 > 9) break steps;
      rest = rest * 10 + digit;
      digit = buffer[++pos] - ZERO;
      if (digit >>> 0 > 9) break steps;
      rest = rest * 10 + digit;
      digit = buffer[++pos] - ZERO;
      if (digit >>> 0 > 9) break steps;
      rest = rest * 10 + digit;
      digit = buffer[++pos] - ZERO;
      if (digit >>> 0 > 9) break steps;
      while (digit >>> 0 < 10) {
        rest = rest * 10 + digit;
        digit = buffer[++pos] - ZERO;
      }
    }
    this.#longMantissa = rest;
    return pos;
  }

  /**
   * Reads the digits from `pos` on into `mantissa` (in `#longMantissa`, past 2⁵³ inexactly: such a field
   * is refused by the caller) and returns where they end: the rest of a field too long for the unrolled
   * steps of {@link #read}.
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
}
