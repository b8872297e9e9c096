/**
 * Parses decimal numbers straight from ASCII bytes, without building a string per value. The fast path
 * is exact (Clinger's: at most 15 significant digits and a power of ten up to 1e22 give a correctly
 * rounded double); anything else (long mantissas, `Infinity`, `NaN`, hex) goes through `Number()`.
 */

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);
const MAX_EXACT_MANTISSA = 2 ** 53;
const latin1 = new TextDecoder("latin1");

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
export function parseAsciiNumber(bytes: Uint8Array, start: number, end: number): number | typeof NOT_A_NUMBER {
  let i = start;
  let negative = false;
  let c = bytes[i];
  if (c === 0x2d || c === 0x2b) {
    negative = c === 0x2d;
    c = bytes[++i];
  }
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
  if (digits === 0 || mantissa >= MAX_EXACT_MANTISSA) return slowParse(bytes, start, end);
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
  let value: number;
  if (mantissa === 0) value = 0;
  else if (scale === 0) value = mantissa;
  else if (scale > 0 && scale <= 22) value = mantissa * POWERS_OF_TEN[scale];
  else if (scale < 0 && scale >= -22) value = mantissa / POWERS_OF_TEN[-scale];
  else return slowParse(bytes, start, end);
  return negative ? -value : value;
}
