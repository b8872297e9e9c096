/**
 * Shortest round-trip decimal text of float32s and float64s, compiled to WebAssembly (AssemblyScript; see
 * `../shortest-float.ts` for the JavaScript side). WebAssembly has the 64-bit integer multiplications
 * that Raffaello Giulietti's Schubfach algorithm ("The Schubfach way to render doubles", 2020) is built
 * on; JavaScript would emulate each with three double multiplications. Schubfach replaced Ulf Adams's
 * Ryū here: it finds the digits with no loop (Ryū removes them one at a time, and the processor
 * mispredicted where it stopped), 4–17% faster a value.
 *
 * The digits are the fewest that read back (correctly rounded) to the same float32, and of those the
 * closest to the exact value; they are laid out as JavaScript lays out numbers (`0.001`, `1e-7`,
 * `1.5e+21`), so the text is what `String(shortest)` would print. Float64s are printed by the same
 * algorithm at twice the width (below, after the float32 printer), as `String(value)` prints them but
 * for `-0`.
 */

/**
 * ⌈10^k · 2^−r⌉ for k from −31 to 45, with r = ⌊log2 10^k⌋ − 63 (so 2^63 ≤ g < 2^64): 10^k to 64
 * significant bits, rounded up, for every power a float32 needs.
 */
const POW10_SIGNIFICANDS: StaticArray<u64> = [
  0x81ceb32c4b43fcf5, 0xa2425ff75e14fc32, 0xcad2f7f5359a3b3f, 0xfd87b5f28300ca0e, 0x9e74d1b791e07e49,
  0xc612062576589ddb, 0xf79687aed3eec552, 0x9abe14cd44753b53, 0xc16d9a0095928a28, 0xf1c90080baf72cb2,
  0x971da05074da7bef, 0xbce5086492111aeb, 0xec1e4a7db69561a6, 0x9392ee8e921d5d08, 0xb877aa3236a4b44a,
  0xe69594bec44de15c, 0x901d7cf73ab0acda, 0xb424dc35095cd810, 0xe12e13424bb40e14, 0x8cbccc096f5088cc,
  0xafebff0bcb24aaff, 0xdbe6fecebdedd5bf, 0x89705f4136b4a598, 0xabcc77118461cefd, 0xd6bf94d5e57a42bd,
  0x8637bd05af6c69b6, 0xa7c5ac471b478424, 0xd1b71758e219652c, 0x83126e978d4fdf3c, 0xa3d70a3d70a3d70b,
  0xcccccccccccccccd, 0x8000000000000000, 0xa000000000000000, 0xc800000000000000, 0xfa00000000000000,
  0x9c40000000000000, 0xc350000000000000, 0xf424000000000000, 0x9896800000000000, 0xbebc200000000000,
  0xee6b280000000000, 0x9502f90000000000, 0xba43b74000000000, 0xe8d4a51000000000, 0x9184e72a00000000,
  0xb5e620f480000000, 0xe35fa931a0000000, 0x8e1bc9bf04000000, 0xb1a2bc2ec5000000, 0xde0b6b3a76400000,
  0x8ac7230489e80000, 0xad78ebc5ac620000, 0xd8d726b7177a8000, 0x878678326eac9000, 0xa968163f0a57b400,
  0xd3c21bcecceda100, 0x84595161401484a0, 0xa56fa5b99019a5c8, 0xcecb8f27f4200f3a, 0x813f3978f8940985,
  0xa18f07d736b90be6, 0xc9f2c9cd04674edf, 0xfc6f7c4045812297, 0x9dc5ada82b70b59e, 0xc5371912364ce306,
  0xf684df56c3e01bc7, 0x9a130b963a6c115d, 0xc097ce7bc90715b4, 0xf0bdc21abb48db21, 0x96769950b50d88f5,
  0xbc143fa4e250eb32, 0xeb194f8e1ae525fe, 0x92efd1b8d0cf37bf, 0xb7abc627050305ae, 0xe596b7b0c643c71a,
  0x8f7e32ce7bea5c70, 0xb35dbf821ae4f38c,
];
const POW10_SIGNIFICANDS_FIRST = -31;

/**
 * ⌊g · cp / 2^64⌋ rounded to odd, as Schubfach needs it for a 64-bit g and a 32-bit cp (Giulietti,
 * section 9): its lowest bit set when the next 32 bits of the product are more than 1.
 */
function roundToOdd(g: u64, cp: u32): u32 {
  const low = (g & 0xffffffff) * <u64>cp;
  const high = (g >> 32) * <u64>cp + (low >> 32);
  return <u32>(high >> 32) | <u32>(<u32>high > 1);
}

const POW10: StaticArray<u32> = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/** Digits of a positive integer below 10^9 (every float32's shortest form has at most 9). */
function decimalLength(value: u32): i32 {
  const t = ((32 - <i32>clz(value)) * 1233) >> 12;
  return t + <i32>(value >= unchecked(POW10[t]));
}

const ASCII_ZEROS: u64 = 0x3030303030303030;

/**
 * The eight digits of `value` (below 10^8) as the bytes of a 64-bit number, first digit lowest, each
 * from 0 to 9 (not yet ASCII), made without a branch or a loop: two four-digit lanes, those split into
 * two-digit lanes (÷100 as ×5243 >> 19, exact below 10^4), those into digits (÷10 as ×103 >> 10, exact
 * below 100). A value's text is then shifted and stored from registers: storing digits and loading them
 * back at another offset made the processor wait for each store to land.
 */
function eightDigitLanes(value: u32): u64 {
  const high4 = value / 10000;
  let lanes: u64 = <u64>high4 | ((<u64>(value - high4 * 10000)) << 32);
  const hundreds = ((lanes * 5243) >> 19) & 0x0000007f0000007f;
  lanes = hundreds | ((lanes - hundreds * 100) << 16);
  const tens = ((lanes * 103) >> 10) & 0x000f000f000f000f;
  return tens | ((lanes - tens * 10) << 8);
}

const MINUS: u8 = 0x2d;
const ZERO: u8 = 0x30;
const DOT: u8 = 0x2e;

// A byte loop rather than memory.copy, which V8 runs as a call into its runtime: far dearer than the few
// bytes it moves here.

/** Copies `length` bytes from `source` to `at` and returns the address after them. */
function copyShort(at: usize, source: usize, length: i32): usize {
  for (let i = 0; i < length; i++) store<u8>(at + i, load<u8>(source + i));
  return at + length;
}

/**
 * The search for the digits and their layout, as static methods only because AssemblyScript's
 * `@inline`, on a function, is not TypeScript that biome can parse; on a method it is. Inlined into the
 * row loop, they print a value in 32 ns instead of 38.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: a home for @inline methods, see above
class Inlined {
  /** The shortest decimal that reads back to the finite, non-zero float32 whose IEEE bits are `bits`. */
  @inline static shortestDecimal(bits: u32): u64 {
    const ieeeMantissa = bits & 0x7fffff;
    const ieeeExponent = (bits >> 23) & 0xff;
    let c: u32;
    let q: i32;
    if (ieeeExponent !== 0) {
      c = 0x800000 | ieeeMantissa;
      q = <i32>ieeeExponent - 150;
    } else {
      c = ieeeMantissa;
      q = -149;
    }
    // The rounding interval's ends, at four times c: halfway to each neighbour (the lower one closer
    // when c is a power of two above the subnormals). They belong to it when c is even.
    const lowerCloser = <u32>(ieeeMantissa === 0 && ieeeExponent > 1);
    const open = c & 1;
    // k = ⌊log10(2^q)⌋, or ⌊log10(3/4 · 2^q)⌋ with the closer lower end.
    const k = (q * 1262611 - (lowerCloser ? 524031 : 0)) >> 22;
    const h = q + ((-k * 1741647) >> 19) + 1;
    const g = unchecked(POW10_SIGNIFICANDS[-k - POW10_SIGNIFICANDS_FIRST]);
    const vb = roundToOdd(g, (c * 4) << h);
    const lower = roundToOdd(g, (c * 4 - 2 + lowerCloser) << h) + open;
    const upper = roundToOdd(g, (c * 4 + 2) << h) - open;
    const s = vb >> 2;
    // One digit fewer: at most one of s′·10 and (s′ + 1)·10 lies in the interval.
    const shorter = s / 10;
    const shorterIn = lower <= shorter * 40;
    const longerIn = shorter * 40 + 40 <= upper;
    // Every candidate is computed and one picked by selects (conditional moves), not branches: for
    // computed values which one wins is a coin toss, and a mispredicted branch cost ~3 ns a value.
    const useShorter = <u32>(s >= 10) & <u32>(shorterIn !== longerIn);
    const sIn = lower <= s * 4;
    const tIn = s * 4 + 4 <= upper;
    // Both in: the closer one, the even one on a tie.
    const middle = s * 4 + 2;
    const closer = s + (<u32>(vb > middle) | (<u32>(vb === middle) & (s & 1)));
    const longer = select<u32>(s + <u32>tIn, closer, sIn !== tIn);
    const digits = select<u32>(shorter + <u32>longerIn, longer, useShorter !== 0);
    return ((<u64>(k + <i32>useShorter)) << 32) | <u64>digits;
  }

  /** `NaN`, or `Infinity` after a minus sign when `negative`, as JavaScript spells them. */
  @inline static nonFinite(at: usize, nan: bool, negative: bool): usize {
    if (nan) {
      store<u16>(at, 0x614e); // "Na"
      store<u8>(at + 2, 0x4e); // "N"
      return at + 3;
    }
    if (negative) store<u8>(at++, MINUS);
    store<u64>(at, 0x7974696e69666e49); // "Infinity"
    return at + 8;
  }

  /** {@link writeFloat32}; it may write up to 25 bytes from `at`, see below. */
  @inline static write(at: usize, bits: u32): usize {
    if ((bits & 0x7f800000) === 0x7f800000) return Inlined.nonFinite(at, (bits & 0x7fffff) !== 0, bits >> 31 !== 0);
    if (bits >> 31) store<u8>(at++, MINUS);
    if ((bits & 0x7fffffff) === 0) {
      store<u8>(at, ZERO);
      return at + 1;
    }
    // An integer from 1 to 2^24 − 1 (class labels, counts) is its own shortest form: its neighbours are
    // at most 1 away, so no other decimal of as few digits reads back to it. The search would find it
    // with up to eight trailing zeros, removed below one at a time.
    let digits: u32;
    let exponent: i32 = 0;
    const fractionBits = 150 - <i32>((bits >> 23) & 0xff);
    const significand = 0x800000 | (bits & 0x7fffff);
    if (<u32>fractionBits <= 23 && (significand & ((1 << fractionBits) - 1)) === 0) {
      digits = significand >> fractionBits;
    } else {
      const decimal = Inlined.shortestDecimal(bits);
      digits = <u32>decimal;
      exponent = <i32>(decimal >> 32);
    }
    for (let next = digits / 10; next * 10 === digits; next = digits / 10) {
      digits = next;
      exponent++;
    }
    // The digits as text from registers: `head` holds the first eight (ASCII zeros after the last),
    // `ninth` the ninth of a nine-digit value (else 0).
    const length = decimalLength(digits);
    const top = digits / 100000000;
    const lanes = eightDigitLanes(digits - top * 100000000);
    const nine = length === 9;
    const head = (nine ? (lanes << 8) | <u64>top : lanes >> ((<u64>(8 - length)) << 3)) | ASCII_ZEROS;
    const ninth: u64 = nine ? lanes >> 56 : 0;
    // Where the decimal point falls, counted from the first digit (JavaScript's Number::toString layout).
    // Stores of eight bytes, which may write past the text's end, up to 24 bytes from `at` (after a
    // sign): whatever is written next overwrites them, and the caller's buffer has that much to spare.
    const point = exponent + length;
    if (point >= length && point <= 21) {
      store<u64>(at, head);
      store<u64>(at + 8, ninth | ASCII_ZEROS);
      store<u64>(at + 16, ASCII_ZEROS);
      return at + point;
    }
    if (point > 0 && point <= 21) {
      // The digits from the point on: shifted in two steps, as a shift by 64 would be by 0.
      const shift = (<u64>point) << 3;
      store<u64>(at, head);
      store<u64>(at + point + 1, ((head >> (shift - 1)) >> 1) | (ninth << (64 - shift)) | ASCII_ZEROS);
      store<u8>(at + point, DOT);
      return at + length + 1;
    }
    if (point > -6 && point <= 0) {
      store<u64>(at, 0x303030303030_2e30); // "0.000000"
      at += 2 - point;
      store<u64>(at, head);
      store<u8>(at + 8, <u8>ninth | ZERO);
      return at + length;
    }
    // Exponential: d[.ddd]e±x
    store<u8>(at, <u8>head);
    if (length > 1) {
      store<u8>(at + 1, DOT);
      store<u64>(at + 2, (head >> 8) | (ninth << 56) | ASCII_ZEROS);
      at += length + 1;
    } else {
      at += 1;
    }
    return Inlined.exponent(at, point - 1);
  }

  /**
   * `e`, a sign and the decimal exponent `scientific` at `at` (one or two digits for a float32, up to
   * three for a float64); returns the address after them.
   */
  @inline static exponent(at: usize, scientific: i32): usize {
    store<u8>(at++, 0x65);
    store<u8>(at++, scientific < 0 ? MINUS : 0x2b);
    let magnitude = <u32>(scientific < 0 ? -scientific : scientific);
    if (magnitude >= 100) {
      const hundreds = magnitude / 100;
      store<u8>(at++, ZERO + <u8>hundreds);
      magnitude -= hundreds * 100;
      store<u8>(at++, ZERO + <u8>(magnitude / 10));
    } else if (magnitude >= 10) {
      store<u8>(at++, ZERO + <u8>(magnitude / 10));
    }
    store<u8>(at, ZERO + <u8>(magnitude % 10));
    return at + 1;
  }

  /** A float32 of a row, or, for NaN and infinities, the `nonFiniteLength` bytes at `nonFinite` when not negative. */
  @inline static value(at: usize, bits: u32, nonFinite: usize, nonFiniteLength: i32): usize {
    if (nonFiniteLength >= 0 && (bits & 0x7f800000) === 0x7f800000) return copyShort(at, nonFinite, nonFiniteLength);
    return Inlined.write(at, bits);
  }
}

/**
 * Writes the float32 whose IEEE bits are `bits` at `at` and returns the address after it (at most 22
 * bytes, `-100000000000000000000`; it may scribble up to 25). NaN and infinities are spelled as
 * JavaScript spells them; negative zero is `-0`, so that the sign survives the round trip.
 */
export function writeFloat32(at: usize, bits: u32): usize {
  return Inlined.write(at, bits);
}

/**
 * Writes `rows` rows of `width` float32s, whose IEEE bits are at `source`, from `target` on. Each row is
 * the `openLength` bytes at `open`, the values with `separator` (a byte) between them, then the
 * `closeLength` bytes at `close`. NaN and infinities are written as the `nonFiniteLength` bytes at
 * `nonFinite` when that is not negative. Returns the length written; up to 25 bytes past it may be
 * scribbled on.
 */
export function writeFloat32Rows(
  source: usize,
  rows: i32,
  width: i32,
  separator: u8,
  open: usize,
  openLength: i32,
  close: usize,
  closeLength: i32,
  nonFinite: usize,
  nonFiniteLength: i32,
  target: usize,
): i32 {
  let at = target;
  let from = source;
  for (let row = 0; row < rows; row++) {
    at = copyShort(at, open, openLength);
    for (let k = 0; k < width; k++) {
      if (k > 0) store<u8>(at++, separator);
      at = Inlined.value(at, load<u32>(from), nonFinite, nonFiniteLength);
      from += 4;
    }
    at = copyShort(at, close, closeLength);
  }
  return <i32>(at - target);
}

/** 10^k for k from 0 to 19, every power a u64 holds. */
const POW10_64: StaticArray<u64> = [
  1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000, 100000000000, 1000000000000,
  10000000000000, 100000000000000, 1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000,
  10000000000000000000,
];

/** Digits of a positive integer below 10^19. */
function decimalLength64(value: u64): i32 {
  const t = ((64 - <i32>clz(value)) * 1233) >> 12;
  return t + <i32>(value >= unchecked(POW10_64[t]));
}

/** The high 64 bits of the 128-bit product of `a` and `b` (WebAssembly multiplies to 64 bits only). */
function multiplyHigh(a: u64, b: u64): u64 {
  const aLow = a & 0xffffffff;
  const aHigh = a >> 32;
  const bLow = b & 0xffffffff;
  const bHigh = b >> 32;
  const lowHigh = aLow * bHigh;
  const highLow = aHigh * bLow;
  // Cannot overflow: at most (2^32 − 1)^2 + 2 (2^32 − 1) = 2^64 − 1.
  const middle = ((aLow * bLow) >> 32) + (highLow & 0xffffffff) + lowHigh;
  return aHigh * bHigh + (highLow >> 32) + (middle >> 32);
}

/**
 * Where the float64 table lives in memory, set by {@link useFloat64Table}: for k from −324 to 292, the
 * 126-bit g of Schubfach (Giulietti, section 9.8.3) approximating 10^−k, as g1 = ⌊g / 2^63⌋ then
 * g0 = g mod 2^63, two u64 each. Computed exactly by the JavaScript side (with BigInt) rather than
 * written out here as 1 234 constants.
 */
let float64Table: usize = 0;
const FLOAT64_K_MIN = -324;

/** Tells the module where the JavaScript side has written the float64 table (see {@link float64Table}). */
export function useFloat64Table(at: usize): void {
  float64Table = at;
}

/** The bytes of the float64 table. */
export function float64TableBytes(): i32 {
  return (292 - FLOAT64_K_MIN + 1) * 16;
}

/** ⌊g · cp / 2^126⌋ rounded to odd, g = g1 · 2^63 + g0 (Giulietti, section 9.8.3). */
function roundToOdd64(g1: u64, g0: u64, cp: u64): u64 {
  const x1 = multiplyHigh(g0, cp);
  const y0 = g1 * cp;
  const y1 = multiplyHigh(g1, cp);
  const z = (y0 >> 1) + x1;
  const vbp = y1 + (z >> 63);
  return vbp | (((z & 0x7fffffffffffffff) + 0x7fffffffffffffff) >> 63);
}

/** Set by {@link shortestDecimal64}: the power of ten its digits are multiplied by. */
let decimalExponent: i32 = 0;

/**
 * The shortest decimal that reads back to the finite, non-zero float64 whose IEEE bits are `bits`, and of
 * those the closest (the even one on a tie): its digits, and in {@link decimalExponent} its power of ten.
 * Schubfach as Java's `Double.toString` runs it (JDK 19), except that one digit is as short as any (Java
 * keeps two).
 */
function shortestDecimal64(bits: u64): u64 {
  const ieeeMantissa = bits & 0xfffffffffffff;
  const ieeeExponent = <i32>((bits >> 52) & 0x7ff);
  let c: u64;
  let q: i32;
  // Set to −1 where c was multiplied by ten (the tiniest subnormals, whose interval is too narrow else).
  let dk: i32 = 0;
  if (ieeeExponent !== 0) {
    c = 0x10000000000000 | ieeeMantissa;
    q = ieeeExponent - 1075;
    // An integer below 2^53 is its own shortest form (its neighbours are at most 1 away).
    const fractionBits = -q;
    if (fractionBits > 0 && fractionBits < 53 && (c & (((<u64>1) << fractionBits) - 1)) === 0) {
      decimalExponent = 0;
      return c >> fractionBits;
    }
  } else {
    c = ieeeMantissa;
    q = -1074;
    if (c < 3) {
      c *= 10;
      dk = -1;
    }
  }
  const open = c & 1;
  const cb = c << 2;
  const cbr = cb + 2;
  let cbl: u64;
  let k: i32;
  if (c !== 0x10000000000000 || q === -1074) {
    cbl = cb - 2;
    k = <i32>((<i64>q * 661971961083) >> 41);
  } else {
    // The lower neighbour is closer: the interval is lopsided.
    cbl = cb - 1;
    k = <i32>((<i64>q * 661971961083 - 274743187321) >> 41);
  }
  const h = q + <i32>((<i64>-k * 913124641741) >> 38) + 2;
  const entry = float64Table + <usize>(k - FLOAT64_K_MIN) * 16;
  const g1 = load<u64>(entry);
  const g0 = load<u64>(entry, 8);
  const vb = roundToOdd64(g1, g0, cb << h);
  const vbl = roundToOdd64(g1, g0, cbl << h);
  const vbr = roundToOdd64(g1, g0, cbr << h);
  const s = vb >> 2;
  // One digit fewer: at most one of s′·10 and (s′ + 1)·10 lies in the interval. Every candidate is
  // computed and one picked by selects, not branches, as for float32s.
  const shorter = s / 10;
  const upIn = vbl + open <= shorter * 40;
  const wpIn = shorter * 40 + 40 + open <= vbr;
  const useShorter = <u32>(s >= 10) & <u32>(upIn !== wpIn);
  const t = s + 1;
  const uIn = vbl + open <= s << 2;
  const wIn = (t << 2) + open <= vbr;
  // Both in: the closer one, the even one on a tie.
  const middle = (s + t) << 1;
  const closer = s + <u64>(<u32>(vb > middle) | (<u32>(vb === middle) & <u32>(s & 1)));
  const longer = select<u64>(uIn ? s : t, closer, uIn !== wIn);
  decimalExponent = k + dk + <i32>useShorter;
  return select<u64>(shorter + <u64>wpIn, longer, useShorter !== 0);
}

/** Writes the `length` digits of `value` (below 10^length, leading zeros written) at `at`. */
function writeDigits(at: usize, value: u64, length: i32): void {
  if (length <= 8) {
    store<u64>(at, (eightDigitLanes(<u32>value) >> ((<u64>(8 - length)) << 3)) | ASCII_ZEROS);
    return;
  }
  const high = value / 100000000;
  const low = <u32>(value - high * 100000000);
  const highLength = length - 8;
  if (highLength <= 8) {
    store<u64>(at, (eightDigitLanes(<u32>high) >> ((<u64>(8 - highLength)) << 3)) | ASCII_ZEROS);
  } else {
    // 17 digits: the first alone, then eight.
    const first = <u32>(high / 100000000);
    store<u8>(at, ZERO + <u8>first);
    store<u64>(at + 1, eightDigitLanes(<u32>(high - <u64>first * 100000000)) | ASCII_ZEROS);
  }
  store<u64>(at + highLength, eightDigitLanes(low) | ASCII_ZEROS);
}

/**
 * Writes the float64 whose IEEE bits are `bits` at `at`, as JavaScript's `String(number)` does (the
 * shortest round-trip digits and its layout) but for negative zero, `-0`, so that the sign survives the
 * round trip; returns the address after it (at most 25 bytes, `-0.0000012345678901234567`; it may scribble
 * up to 32).
 */
function writeFloat64At(at: usize, bits: u64): usize {
  if ((bits & 0x7ff0000000000000) === 0x7ff0000000000000) {
    return Inlined.nonFinite(at, (bits & 0xfffffffffffff) !== 0, bits >> 63 !== 0);
  }
  if (bits >> 63) store<u8>(at++, MINUS);
  if ((bits & 0x7fffffffffffffff) === 0) {
    store<u8>(at, ZERO);
    return at + 1;
  }
  let digits = shortestDecimal64(bits);
  let exponent = decimalExponent;
  // Trailing zeros (up to 16, an integer's or a tidy decimal's such as 0.5), eight, four, two, one at a time.
  while (digits % 100000000 === 0) {
    digits /= 100000000;
    exponent += 8;
  }
  if (digits % 10000 === 0) {
    digits /= 10000;
    exponent += 4;
  }
  if (digits % 100 === 0) {
    digits /= 100;
    exponent += 2;
  }
  if (digits % 10 === 0) {
    digits /= 10;
    exponent++;
  }
  const length = decimalLength64(digits);
  // Where the decimal point falls, counted from the first digit (JavaScript's Number::toString layout).
  const point = exponent + length;
  if (point >= length && point <= 21) {
    writeDigits(at, digits, length);
    // Up to 20 zeros; stores of eight bytes that whatever is written next overwrites.
    store<u64>(at + length, ASCII_ZEROS);
    store<u64>(at + length + 8, ASCII_ZEROS);
    store<u64>(at + length + 16, ASCII_ZEROS);
    return at + point;
  }
  if (point > 0 && point <= 21) {
    const scale = unchecked(POW10_64[length - point]);
    const whole = digits / scale;
    writeDigits(at, whole, point);
    store<u8>(at + point, DOT);
    writeDigits(at + point + 1, digits - whole * scale, length - point);
    return at + length + 1;
  }
  if (point > -6 && point <= 0) {
    store<u64>(at, 0x303030303030_2e30); // "0.000000"
    at += 2 - point;
    writeDigits(at, digits, length);
    return at + length;
  }
  // Exponential: d[.ddd]e±x
  const scale = unchecked(POW10_64[length - 1]);
  const first = digits / scale;
  store<u8>(at, ZERO + <u8>first);
  if (length > 1) {
    store<u8>(at + 1, DOT);
    writeDigits(at + 2, digits - first * scale, length - 1);
    at += length + 1;
  } else {
    at += 1;
  }
  return Inlined.exponent(at, point - 1);
}

/**
 * {@link writeFloat64At} for the float64 at `source`, for the JavaScript side (which would have to pass
 * its bits as a BigInt).
 */
export function writeFloat64(at: usize, source: usize): usize {
  return writeFloat64At(at, load<u64>(source));
}

/** Writes the integer `value` in decimal at `at` and returns the address after it. */
function writeInteger(at: usize, value: i64): usize {
  let magnitude = <u64>value;
  if (value < 0) {
    store<u8>(at++, MINUS);
    magnitude = 0 - magnitude;
  }
  return writeUnsigned(at, magnitude);
}

/** Writes the unsigned integer `magnitude` in decimal at `at` and returns the address after it. */
function writeUnsigned(at: usize, magnitude: u64): usize {
  let length = 1;
  for (let rest = magnitude / 10; rest !== 0; rest /= 10) length++;
  let end = at + length;
  do {
    const next = magnitude / 10;
    store<u8>(--end, <u8>(ZERO + (magnitude - next * 10)));
    magnitude = next;
  } while (magnitude !== 0);
  return at + length;
}

/**
 * The kinds of value a row plan's segment reads: float32 IEEE bits, int32, int64 (little-endian),
 * float64, uint64, and texts (a 32-bit index into a table of texts).
 */
const FLOAT32: u32 = 0;
const INT32: u32 = 1;
const INT64: u32 = 2;
const FLOAT64: u32 = 4;
const UINT64: u32 = 5;

/** The bytes of one segment of a row plan: six 32-bit fields, see {@link writeRows}. */
const SEGMENT_BYTES = 24;
/** The bytes of one entry of a text table: its address and its length. */
const TEXT_ENTRY_BYTES = 8;

/**
 * Writes `rows` rows as the plan at `plan` says, from `target` on, and returns the length written (up
 * to 32 bytes past it may be scribbled on). The plan is `segments` segments of six 32-bit fields: the
 * address and length of a text, the address of the segment's first value in the first row, the bytes
 * from one row's values to the next's, a count of values and their kind ({@link FLOAT32}, {@link INT32},
 * {@link INT64}, {@link FLOAT64}, {@link UINT64}, else text). A row is each segment's text followed by its values, `separator` (a byte)
 * between them, then the `tailLength` bytes at `tail`. NaN and infinities are written as the
 * `nonFiniteLength` bytes at `nonFinite` when that is not negative, else as JavaScript spells them. A
 * text value is an index into the table at `texts`: an address and a length for each text.
 */
export function writeRows(
  plan: usize,
  segments: i32,
  tail: usize,
  tailLength: i32,
  rows: i32,
  separator: u8,
  nonFinite: usize,
  nonFiniteLength: i32,
  texts: usize,
  target: usize,
): i32 {
  let at = target;
  for (let row = 0; row < rows; row++) {
    for (let segment = plan, last = plan + segments * SEGMENT_BYTES; segment < last; segment += SEGMENT_BYTES) {
      at = copyShort(at, load<u32>(segment), load<i32>(segment, 4));
      let from = <usize>load<u32>(segment, 8) + <usize>row * load<u32>(segment, 12);
      const count = load<i32>(segment, 16);
      const kind = load<u32>(segment, 20);
      // One loop per kind: a test of the kind per value made float32 rows 9% slower.
      if (kind === FLOAT32) {
        for (let k = 0; k < count; k++) {
          if (k > 0) store<u8>(at++, separator);
          at = Inlined.value(at, load<u32>(from), nonFinite, nonFiniteLength);
          from += 4;
        }
      } else if (kind === FLOAT64) {
        for (let k = 0; k < count; k++) {
          if (k > 0) store<u8>(at++, separator);
          const bits = load<u64>(from);
          if (nonFiniteLength >= 0 && (bits & 0x7ff0000000000000) === 0x7ff0000000000000) {
            at = copyShort(at, nonFinite, nonFiniteLength);
          } else {
            at = writeFloat64At(at, bits);
          }
          from += 8;
        }
      } else if (kind === INT32 || kind === INT64) {
        const size: usize = kind === INT32 ? 4 : 8;
        for (let k = 0; k < count; k++) {
          if (k > 0) store<u8>(at++, separator);
          at = writeInteger(at, size === 4 ? <i64>load<i32>(from) : load<i64>(from));
          from += size;
        }
      } else if (kind === UINT64) {
        for (let k = 0; k < count; k++) {
          if (k > 0) store<u8>(at++, separator);
          at = writeUnsigned(at, load<u64>(from));
          from += 8;
        }
      } else {
        for (let k = 0; k < count; k++) {
          if (k > 0) store<u8>(at++, separator);
          const entry = texts + <usize>load<u32>(from) * TEXT_ENTRY_BYTES;
          at = copyShort(at, load<u32>(entry), load<i32>(entry, 4));
          from += 4;
        }
      }
    }
    at = copyShort(at, tail, tailLength);
  }
  return <i32>(at - target);
}

/** Where memory past the module's own data starts. */
export function heapBase(): usize {
  return __heap_base;
}
