/**
 * Parses decimal numbers straight from ASCII bytes, without building a string per value. The fast path
 * is exact (Clinger's: at most 15 significant digits and a power of ten up to 1e22 give a correctly
 * rounded double); anything else (long mantissas, `Infinity`, `NaN`, hex) goes through `Number()`.
 */

/** The powers of ten that are exact doubles, 10^0 to 10^22. */
export const POWERS_OF_TEN = Float64Array.from({ length: 23 }, (_, k) => 10 ** k);
const MAX_EXACT_MANTISSA = 2 ** 53;
const latin1 = new TextDecoder("latin1");

/** The length of JSON's `null`, a missing value where the model takes them. */
export const NULL_LENGTH = 4;

/** Whether `bytes[at, end)` begins with JSON's `null`. */
export function isNullAt(bytes: Uint8Array, at: number, end: number): boolean {
  return (
    at + NULL_LENGTH <= end &&
    bytes[at] === 0x6e &&
    bytes[at + 1] === 0x75 &&
    bytes[at + 2] === 0x6c &&
    bytes[at + 3] === 0x6c
  );
}

/**
 * `mantissa × 10^scale` when that is exact in one operation (Clinger's fast path: the mantissa below
 * 2^53, `|scale|` ≤ 22, so the power of ten is exact and one rounding happens), else NaN.
 */
function scaleExactly(mantissa: number, scale: number): number {
  if (scale === 0 || mantissa === 0) return mantissa;
  if (scale > 0 && scale <= 22) return mantissa * POWERS_OF_TEN[scale];
  if (scale < 0 && scale >= -22) return mantissa / POWERS_OF_TEN[-scale];
  return Number.NaN;
}

/**
 * `mantissa` (an integer below 2^53) × 10^`scale` correctly rounded: in one operation where that is
 * exact, else down to 10^-44 by {@link nearestDouble} (Python's `repr` of 1.5 × 10^-30 is `1.5e-30`);
 * NaN where `Number()` must decide.
 */
function scaleNearest(mantissa: number, scale: number): number {
  const value = scaleExactly(mantissa, scale);
  return Number.isNaN(value) ? nearestDouble(mantissa, 0, 0, scale) : value;
}

/**
 * The exponent whose `e` or `E` is at `bytes[at]`: a sign, then up to four digits; NaN when it has no
 * digits. Where it ends goes in `cursor.end`. Reads no further than `limit`.
 */
export function readExponent(bytes: Uint8Array, at: number, limit: number, cursor: { end: number }): number {
  let i = at + 1;
  let c = i < limit ? bytes[i] : -1;
  const negative = c === 0x2d;
  if (negative || c === 0x2b) c = ++i < limit ? bytes[i] : -1;
  let exponent = 0;
  let digits = 0;
  while (c >= 0x30 && c <= 0x39 && digits < 4) {
    exponent = exponent * 10 + (c - 0x30);
    digits++;
    c = ++i < limit ? bytes[i] : -1;
  }
  cursor.end = i;
  return digits === 0 ? Number.NaN : negative ? -exponent : exponent;
}

/** How far, relatively, a full-precision decimal may be from its estimate, and more (see below). */
const FULL_PRECISION_MARGIN = 2 ** -46;

/**
 * Whether `estimate`, a decimal's `mantissa` read in doubles (past 2⁵³ inexactly) times or divided by one
 * or two exact powers of ten, rounds to the float32 that `Number()` of the text would round to. That is
 * how decimals of 16 to 19 digits are read for float32 inputs: Python, NumPy and pandas print float64
 * values that way (`0.16639494895935059`, `4.6348195085252013e-07`), and `Number()` of a string costs
 * ~0.5 µs. Up to 19 significant digits the mantissa and the powers of ten take at most ten roundings,
 * which keep the estimate within 2⁻⁴⁹ of the decimal, relatively; so the float32 both ends of a wider margin round
 * to, when they agree, is the one. False (the exact path decides) when they do not (a value within 2⁻⁴⁶
 * of halfway between two float32s: about one in four million), and past 19 significant digits.
 */
export function estimateServesFloat32(estimate: number, mantissa: number): boolean {
  if (mantissa >= 1e19) return false;
  const margin = estimate * FULL_PRECISION_MARGIN;
  return Math.fround(estimate - margin) === Math.fround(estimate + margin);
}

/**
 * `mantissa` (of `digits` digits, read in doubles) × 10^`scale`, or NaN where an exact reader must
 * decide. Up to 15 digits and 10^±22 it is exact (one operation with an exact power of ten). For a float32
 * input (`forFloat32`) it goes further, through {@link estimateServesFloat32}: past 15 digits, and down to
 * 10^-44 in two divisions (Python writes 4.6348195085252013e-07: 16 fraction digits and the exponent).
 */
export function scaleDecimal(mantissa: number, digits: number, scale: number, forFloat32: boolean): number {
  // (`!(… <= …)`: a missing exponent makes the scale NaN.)
  if (!(scale >= -44 && scale <= 22)) return Number.NaN;
  let exact = digits <= 15;
  let magnitude: number;
  if (scale >= 0) magnitude = mantissa * POWERS_OF_TEN[scale];
  else if (scale >= -22) magnitude = mantissa / POWERS_OF_TEN[-scale];
  else {
    magnitude = mantissa / POWERS_OF_TEN[22] / POWERS_OF_TEN[-22 - scale];
    exact = false;
  }
  return exact || (forFloat32 && estimateServesFloat32(magnitude, mantissa)) ? magnitude : Number.NaN;
}

/** Space, tab, line feed, vertical tab, form feed or carriage return. */
export const isAsciiSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** Returned by {@link parseAsciiNumber} for text that is not a number (a number itself, so no allocation). */
export const NOT_A_NUMBER = Symbol.for("sluice.not-a-number");

function slowParse(bytes: Uint8Array, start: number, end: number): number | typeof NOT_A_NUMBER {
  const text = latin1.decode(bytes.subarray(start, end)).trim();
  if (text === "") return NOT_A_NUMBER;
  const lower = text.toLowerCase();
  if (lower === "nan" || lower === "+nan" || lower === "-nan") return Number.NaN;
  if (lower === "inf" || lower === "+inf" || lower === "infinity" || lower === "+infinity")
    return Number.POSITIVE_INFINITY;
  if (lower === "-inf" || lower === "-infinity") return Number.NEGATIVE_INFINITY;
  // Number() accepts hex, octal and binary literals; a feature value written like that is a mistake.
  if (/^[+-]?0[xob]/i.test(text)) return NOT_A_NUMBER;
  const value = Number(text);
  return Number.isNaN(value) ? NOT_A_NUMBER : value;
}

/**
 * Parses `bytes[start, end)` as a decimal number (optional sign, digits, fraction, exponent; surrounding
 * spaces allowed; `NaN`/`Infinity` spelled out). Returns {@link NOT_A_NUMBER} for anything else.
 */
export function parseAsciiNumber(bytes: Uint8Array, from: number, to: number): number | typeof NOT_A_NUMBER {
  // Surrounding spaces (`1.5 ,2`, a left-justified column) are stepped over here: through `slowParse`,
  // which trims them too, each such field cost a string and `Number()`, and such rows read 30 times slower.
  let start = from;
  let end = to;
  while (start < end && isAsciiSpace(bytes[start])) start++;
  while (end > start && isAsciiSpace(bytes[end - 1])) end--;
  let i = start;
  let negative = false;
  let c = bytes[i];
  if (c === 0x2d || c === 0x2b) {
    negative = c === 0x2d;
    c = bytes[++i];
  }
  const digitsStart = i;
  // Value = mantissa × 10^(pendingZeros − fractionDigits + exponent); trailing zeros stay out of the
  // mantissa so that spellings like 1.500000000000000000e+00 still take the exact path.
  let mantissa = 0;
  let pendingZeros = 0;
  let digits = 0;
  let fractionDigits = 0;
  let inFraction = false;
  for (; i < end; c = bytes[++i]) {
    if (c >= 0x31 && c <= 0x39) {
      if (pendingZeros > 21) return slowParse(bytes, start, end);
      mantissa = mantissa * POWERS_OF_TEN[pendingZeros + 1] + (c - 0x30);
      pendingZeros = 0;
    } else if (c === 0x30) {
      if (mantissa !== 0) pendingZeros++;
    } else if (c === 0x2e && !inFraction) {
      inFraction = true;
      continue;
    } else {
      break;
    }
    digits++;
    if (inFraction) fractionDigits++;
  }
  if (digits === 0) return slowParse(bytes, start, end);
  const digitsEnd = i;
  let scale = pendingZeros - fractionDigits;
  if (i < end && (c === 0x65 || c === 0x45)) {
    c = bytes[++i];
    let exponentNegative = false;
    if (c === 0x2d || c === 0x2b) {
      exponentNegative = c === 0x2d;
      c = bytes[++i];
    }
    let exponent = 0;
    let exponentDigits = 0;
    while (i < end && c >= 0x30 && c <= 0x39 && exponent < 10000) {
      exponent = exponent * 10 + (c - 0x30);
      exponentDigits++;
      c = bytes[++i];
    }
    if (exponentDigits === 0) return NOT_A_NUMBER;
    scale += exponentNegative ? -exponent : exponent;
  }
  if (i !== end) return slowParse(bytes, start, end);
  const value =
    mantissa < MAX_EXACT_MANTISSA
      ? scaleNearest(mantissa, scale)
      : longDecimal(bytes, digitsStart, digitsEnd, scale - pendingZeros);
  if (Number.isNaN(value)) return slowParse(bytes, start, end);
  return negative ? -value : value;
}

/** Veltkamp's splitter, 2^27 + 1: splits a double into two halves whose products are exact. */
const SPLITTER = 134217729;

/** `a × b − product` exactly, `product` being `a × b` rounded (Dekker's two-product, without FMA). */
function productError(a: number, b: number, product: number): number {
  let t = SPLITTER * a;
  const aHigh = t - (t - a);
  const aLow = a - aHigh;
  t = SPLITTER * b;
  const bHigh = t - (t - b);
  const bLow = b - bHigh;
  return aHigh * bHigh - product + aHigh * bLow + aLow * bHigh + aLow * bLow;
}

/** Decimals {@link nearestDouble} reads: below 10^19, 19 significant digits. */
const LONG_DECIMAL_LIMIT = 1e19;
/** Scales {@link nearestDouble} reads: 10^0 down to 10^-44, in one or two exact powers of ten. */
const SMALLEST_LONG_SCALE = -44;
/** 10^-k rounded, k from 0 to 22: {@link nearestDouble} multiplies by them rather than dividing. */
const INVERSE_POWERS_OF_TEN = Float64Array.from({ length: 23 }, (_, k) => 1 / 10 ** k);

/**
 * The double nearest N × 10^`scale`, N being the integer `head` × 10^`tailDigits` + `tail` (the digits of
 * a decimal in two runs, each an exact double, as a reader gathered them), for N below 10^19 and `scale`
 * from −44 to 0; NaN otherwise, or where N × 10^`scale` lies too near a midpoint between two doubles to
 * tell (the caller then asks `Number()`). pandas, NumPy and Python print float64 values with 16 or 17
 * digits (`-0.6104540824890137`, `4.6348195085252013e-07`): through `Number()` of a string, a float64
 * input read such rows at a twelfth of the speed of a float32 one.
 *
 * N is exact as a double-double (high, low): the product by Dekker's two-product, the sum by Knuth's
 * two-sum. It is divided by 10^−scale one exact power of ten at a time (10^22 first, when it takes two),
 * each division a double-double quotient: a first quotient (by the power's reciprocal, a multiplication
 * where a division takes three times as long; within 2^−52 of the exact one), then the remainder
 * high − quotient × divisor + low (the product exact, the sum rounded once) times the reciprocal again.
 * Each step is within 2^−101.5 of the exact quotient, relatively, two within 2^−100.5: the nearest double
 * of the quotient and of both ends of a margin of 2^−98 about it then agree, unless a midpoint lies
 * inside (about one decimal in 2^45, and decimals that are midpoints, such as 9007199254740992.5). An
 * integer (`scale` 0) is exact as a double-double, and rounds as one sum.
 */
export function nearestDouble(head: number, tail: number, tailDigits: number, scale: number): number {
  if (!(head < MAX_EXACT_MANTISSA && tail < MAX_EXACT_MANTISSA && scale >= SMALLEST_LONG_SCALE && scale <= 0))
    return Number.NaN;
  const tailScale = POWERS_OF_TEN[tailDigits];
  const product = head * tailScale;
  const productLow = productError(head, tailScale, product);
  let high = product + tail;
  const tailPart = high - product;
  let low = product - (high - tailPart) + (tail - tailPart) + productLow;
  // (Also refuses a `tailDigits` past 22, whose power of ten is undefined and makes `high` NaN.)
  if (!(high < LONG_DECIMAL_LIMIT)) return Number.NaN;
  if (scale === 0) return high + low;
  for (let left = -scale; left > 0; left -= 22) {
    // (high + low) / divisor as quotient + low: the rest from the remainder high − quotient × divisor
    // + low, whose product is exact.
    const step = Math.min(left, 22);
    const divisor = POWERS_OF_TEN[step];
    const inverse = INVERSE_POWERS_OF_TEN[step];
    const quotient = high * inverse;
    const back = quotient * divisor;
    low = (high - back - productError(quotient, divisor, back) + low) * inverse;
    high = quotient;
  }
  const nearest = high + low;
  const margin = nearest * 2 ** -98;
  return high + (low - margin) === high + (low + margin) ? nearest : Number.NaN;
}

/**
 * The double nearest the integer whose digits are `bytes[from, to)` (a `.` among them is passed over),
 * times 10^`scale`, for up to 19 significant digits and `scale` from −44 to 0 (see {@link nearestDouble});
 * NaN otherwise, or where `Number()` must decide. For readers that did not keep the digits' value.
 */
export function longDecimal(bytes: Uint8Array, from: number, to: number, scale: number): number {
  if (!(scale >= SMALLEST_LONG_SCALE && scale <= 0)) return Number.NaN;
  let head = 0;
  let tail = 0;
  let significant = 0;
  for (let i = from; i < to; i++) {
    const digit = bytes[i] - 0x30;
    if (digit < 0 || digit > 9) continue;
    if (significant === 0 && digit === 0) continue;
    if (significant < 15) head = head * 10 + digit;
    else tail = tail * 10 + digit;
    significant++;
  }
  // Up to 15 significant digits (leading zeros made the field long) the digits are one exact double.
  return significant <= 15 ? scaleNearest(head, scale) : nearestDouble(head, tail, significant - 15, scale);
}

/**
 * The hot-path number reader of the text decoders: reads the plain decimal (`-12.5`, `0.0039`, `3e-2`)
 * that starts at a position and stops at the first byte that cannot continue it, without first looking
 * for the field's end. Returns NaN, having consumed nothing meaningful, for anything it does not handle
 * exactly (signs other than `-`, spaces, mantissas past 19 digits, or past 15 with an exponent, large
 * exponents, `NaN`, …): callers then find the field's end themselves and use {@link parseAsciiNumber}.
 */
export class DecimalScanner {
  /** Where the last number read ended (exclusive). */
  end = 0;

  /**
   * Reads the number at `bytes[pos]`, looking no further than `limit`; NaN when the caller must take the
   * general path. (Reads stay in bounds: an out-of-bounds read would make every byte a number-or-undefined
   * for the optimiser, and the loop several times slower.)
   */
  scan(bytes: Uint8Array, pos: number, limit: number): number {
    // 1 for a minus sign, else 0 (also 1 past the limit, where no digit follows and NaN comes back):
    // without a branch, which half of all features would mispredict.
    const negative = (((pos < limit ? bytes[pos] : -1) ^ 0x2d) - 1) >>> 31;
    let i = pos + negative;
    let c = i < limit ? bytes[i] : -1;
    // Digits gather nine at a time in a small integer (fast integer arithmetic), then into `high`:
    // mantissa = high × 10^lowDigits + low. The fraction's digits continue the same mantissa.
    let low = 0;
    let lowDigits = 0;
    let high = 0;
    let digits = 0;
    let fractionDigits = 0;
    let inFraction = false;
    for (;;) {
      if (c >= 0x30 && c <= 0x39) {
        if (lowDigits === 9) {
          high = high * 1e9 + low;
          low = 0;
          lowDigits = 0;
        }
        low = (low * 10 + (c - 0x30)) | 0;
        lowDigits++;
        digits++;
        if (inFraction) fractionDigits++;
      } else if (c === 0x2e && !inFraction) {
        inFraction = true;
      } else {
        break;
      }
      c = ++i < limit ? bytes[i] : -1;
    }
    const mantissa = high === 0 ? low : high * POWERS_OF_TEN[lowDigits] + low;
    if (digits === 0) return Number.NaN;
    const sign = 1 - 2 * negative;
    if (mantissa >= MAX_EXACT_MANTISSA)
      return sign * this.#long(bytes, pos + negative, i, limit, high, low, lowDigits, fractionDigits);
    if (c === 0x65 || c === 0x45) return sign * this.#withExponent(bytes, i, limit, mantissa, fractionDigits);
    this.end = i;
    const value = fractionDigits === 0 ? mantissa : scaleExactly(mantissa, -fractionDigits);
    // −0 stays −0: 0 × −1.
    return sign * value;
  }

  /**
   * A float64 printed in full (16 to 19 digits), `bytes[from, at)`, with an exponent where `bytes[at]` is
   * an `e`: from the runs {@link scan} gathered its digits in while the first is exact (up to 18 digits),
   * else from its digits again.
   */
  #long(
    bytes: Uint8Array,
    from: number,
    at: number,
    limit: number,
    high: number,
    low: number,
    lowDigits: number,
    fractionDigits: number,
  ): number {
    let scale = -fractionDigits;
    const c = at < limit ? bytes[at] : -1;
    if (c === 0x65 || c === 0x45) scale += readExponent(bytes, at, limit, this);
    else this.end = at;
    const value = nearestDouble(high, low, lowDigits, scale);
    return Number.isNaN(value) ? longDecimal(bytes, from, at, scale) : value;
  }

  /**
   * The rarer tail of {@link scan}: `mantissa × 10^(exponent − fractionDigits)`, `bytes[at]` being
   * the `e` (`end` is set either way; it counts only when a number comes back).
   */
  #withExponent(bytes: Uint8Array, at: number, limit: number, mantissa: number, fractionDigits: number): number {
    const exponent = readExponent(bytes, at, limit, this);
    return Number.isNaN(exponent) ? Number.NaN : scaleNearest(mantissa, exponent - fractionDigits);
  }
}
