/**
 * Steps over one JSON scalar in bytes, checking it as `JSON.parse` would: the value beside a record's
 * `"features"` array (`{"id": 7, "features": [...]}`) that the decoder does not need.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LITERALS = ["true", "false", "null"].map((literal) => new TextEncoder().encode(literal));
/** The characters that may follow a backslash, other than `u`. */
const SHORT_ESCAPES = new Set([...'"\\/bfnrt'].map((char) => char.charCodeAt(0)));

const isDigit = (byte: number) => byte >= ZERO && byte <= NINE;
const isHexDigit = (byte: number) => isDigit(byte) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66);

/**
 * The index after the JSON scalar (a string, a number, `true`, `false` or `null`) at `bytes[i]`, before
 * `end`; -1 for anything else: an array or object, an invalid scalar, or a string holding a byte above
 * 0x7f (whose UTF-8 is left to the general path to check).
 */
export function skipJsonScalar(bytes: Uint8Array, i: number, end: number): number {
  const first = bytes[i];
  if (first === QUOTE) return skipString(bytes, i + 1, end);
  if (first === MINUS || isDigit(first)) return skipNumber(bytes, i, end);
  for (const literal of LITERALS) {
    if (i + literal.length > end) continue;
    let k = 0;
    while (k < literal.length && bytes[i + k] === literal[k]) k++;
    if (k === literal.length) return i + k;
  }
  return -1;
}

/** After a string's opening quote at `i - 1`: the index after its closing quote, or -1. */
function skipString(bytes: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end) {
    const byte = bytes[i];
    if (byte === QUOTE) return i + 1;
    if (byte < 0x20 || byte > 0x7f) return -1;
    if (byte !== BACKSLASH) {
      i++;
      continue;
    }
    const escaped = bytes[i + 1];
    if (SHORT_ESCAPES.has(escaped)) {
      i += 2;
      continue;
    }
    if (escaped !== 0x75 || i + 6 > end) return -1;
    for (let k = 2; k < 6; k++) if (!isHexDigit(bytes[i + k])) return -1;
    i += 6;
  }
  return -1;
}

/** A JSON number at `i`: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`; the index after it, or -1. */
function skipNumber(bytes: Uint8Array, from: number, end: number): number {
  let i = from;
  if (bytes[i] === MINUS) i++;
  if (i >= end || !isDigit(bytes[i])) return -1;
  if (bytes[i] === ZERO) i++;
  else while (i < end && isDigit(bytes[i])) i++;
  if (i < end && bytes[i] === DOT) {
    i++;
    if (i >= end || !isDigit(bytes[i])) return -1;
    while (i < end && isDigit(bytes[i])) i++;
  }
  if (i < end && (bytes[i] | 0x20) === 0x65) {
    i++;
    if (i < end && (bytes[i] === PLUS || bytes[i] === MINUS)) i++;
    if (i >= end || !isDigit(bytes[i])) return -1;
    while (i < end && isDigit(bytes[i])) i++;
  }
  return i;
}
