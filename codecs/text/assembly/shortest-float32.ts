/**
 * Shortest round-trip decimal text of float32s, compiled to WebAssembly (AssemblyScript; see
 * `../shortest-float32.ts` for the JavaScript side). WebAssembly has the 64-bit integer multiplications
 * that Ulf Adams's Ryū algorithm (PLDI 2018) is built on; JavaScript would emulate each with three
 * double multiplications, and printed a value in about twice the time.
 *
 * The digits are the fewest that read back (correctly rounded) to the same float32, and of those the
 * closest to the exact value; they are laid out as JavaScript lays out numbers (`0.001`, `1e-7`,
 * `1.5e+21`), so the text is what `String(shortest)` would print.
 */

const POW5_INV_BITCOUNT = 59;
const POW5_BITCOUNT = 61;

/** ⌊2^(pow5bits(i) − 1 + 59) / 5^i⌋ + 1: 61-bit multipliers for dividing by 5^i (Ryū's table). */
const POW5_INV_SPLIT: StaticArray<u64> = [
  0x800000000000001, 0x666666666666667, 0x51eb851eb851eb9, 0x4189374bc6a7efa, 0x68db8bac710cb2a, 0x53e2d6238da3c22,
  0x431bde82d7b634e, 0x6b5fca6af2bd216, 0x55e63b88c230e78, 0x44b82fa09b5a52d, 0x6df37f675ef6eae, 0x57f5ff85e592558,
  0x465e6604b7a8447, 0x709709a125da071, 0x5a126e1a84ae6c1, 0x480ebe7b9d58567, 0x734aca5f6226f0b, 0x5c3bd5191b525a3,
  0x49c97747490eae9, 0x760f253edb4ab0e, 0x5e72843249088d8, 0x4b8ed0283a6d3e0, 0x78e480405d7b966, 0x60b6cd004ac9452,
  0x4d5f0a66a23a9db, 0x7bcb43d769f762b, 0x63090312bb2c4ef, 0x4f3a68dbc8f03f3, 0x7ec3daf94180651, 0x65697bfa9acd1da,
  0x51212ffbaf0a7e2,
];

/** 5^i scaled to 61 significant bits: multipliers for multiplying by 5^i (Ryū's table). */
const POW5_SPLIT: StaticArray<u64> = [
  0x1000000000000000, 0x1400000000000000, 0x1900000000000000, 0x1f40000000000000, 0x1388000000000000,
  0x186a000000000000, 0x1e84800000000000, 0x1312d00000000000, 0x17d7840000000000, 0x1dcd650000000000,
  0x12a05f2000000000, 0x174876e800000000, 0x1d1a94a200000000, 0x12309ce540000000, 0x16bcc41e90000000,
  0x1c6bf52634000000, 0x11c37937e0800000, 0x16345785d8a00000, 0x1bc16d674ec80000, 0x1158e460913d0000,
  0x15af1d78b58c4000, 0x1b1ae4d6e2ef5000, 0x10f0cf064dd59200, 0x152d02c7e14af680, 0x1a784379d99db420,
  0x108b2a2c28029094, 0x14adf4b7320334b9, 0x19d971e4fe8401e7, 0x1027e72f1f128130, 0x1431e0fae6d7217c,
  0x193e5939a08ce9db, 0x1f8def8808b02452, 0x13b8b5b5056e16b3, 0x18a6e32246c99c60, 0x1ed09bead87c0378,
  0x13426172c74d822b, 0x1812f9cf7920e2b6, 0x1e17b84357691b64, 0x12ced32a16a1b11e, 0x178287f49c4a1d66,
  0x1d6329f1c35ca4bf, 0x125dfa371a19e6f7, 0x16f578c4e0a060b5, 0x1cb2d6f618c878e3, 0x11efc659cf7d4b8d,
  0x166bb7f0435c9e71, 0x1c06a5ec5433c60d,
];

/** `00` to `99` as two ASCII bytes in one little-endian 16-bit number. */
const DIGIT_PAIRS: StaticArray<u16> = [
  0x3030, 0x3130, 0x3230, 0x3330, 0x3430, 0x3530, 0x3630, 0x3730, 0x3830, 0x3930, 0x3031, 0x3131, 0x3231, 0x3331,
  0x3431, 0x3531, 0x3631, 0x3731, 0x3831, 0x3931, 0x3032, 0x3132, 0x3232, 0x3332, 0x3432, 0x3532, 0x3632, 0x3732,
  0x3832, 0x3932, 0x3033, 0x3133, 0x3233, 0x3333, 0x3433, 0x3533, 0x3633, 0x3733, 0x3833, 0x3933, 0x3034, 0x3134,
  0x3234, 0x3334, 0x3434, 0x3534, 0x3634, 0x3734, 0x3834, 0x3934, 0x3035, 0x3135, 0x3235, 0x3335, 0x3435, 0x3535,
  0x3635, 0x3735, 0x3835, 0x3935, 0x3036, 0x3136, 0x3236, 0x3336, 0x3436, 0x3536, 0x3636, 0x3736, 0x3836, 0x3936,
  0x3037, 0x3137, 0x3237, 0x3337, 0x3437, 0x3537, 0x3637, 0x3737, 0x3837, 0x3937, 0x3038, 0x3138, 0x3238, 0x3338,
  0x3438, 0x3538, 0x3638, 0x3738, 0x3838, 0x3938, 0x3039, 0x3139, 0x3239, 0x3339, 0x3439, 0x3539, 0x3639, 0x3739,
  0x3839, 0x3939,
];

/** ⌈log2(5^e)⌉ (1 for e = 0), for 0 ≤ e ≤ 3528. */
function pow5bits(e: i32): i32 {
  return <i32>((<u32>e * 1217359) >> 19) + 1;
}

/** ⌊log10(2^e)⌋ for 0 ≤ e ≤ 1650. */
function log10Pow2(e: i32): i32 {
  return <i32>((<u32>e * 78913) >> 18);
}

/** ⌊log10(5^e)⌋ for 0 ≤ e ≤ 2620. */
function log10Pow5(e: i32): i32 {
  return <i32>((<u32>e * 732923) >> 20);
}

/** ⌊m × factor / 2^shift⌋ for a 61-bit factor and 32 < shift. */
function mulShift(m: u32, factor: u64, shift: i32): u32 {
  const low = <u64>m * (factor & 0xffffffff);
  const high = <u64>m * (factor >> 32);
  return <u32>(((low >> 32) + high) >> <u64>(shift - 32));
}

function pow5Factor(value: u32): i32 {
  let count = 0;
  for (let next = value / 5; next * 5 === value; next = value / 5) {
    value = next;
    count++;
  }
  return count;
}

/** Set by {@link Inlined.shortestDecimal}: the decimal is `decimalDigits × 10^decimalExponent`. */
let decimalDigits: u32 = 0;
let decimalExponent: i32 = 0;

const POW10: StaticArray<u32> = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/** Digits of a positive integer below 10^9 (every float32's shortest form has at most 9). */
function decimalLength(value: u32): i32 {
  const t = ((32 - <i32>clz(value)) * 1233) >> 12;
  return t + <i32>(value >= unchecked(POW10[t]));
}

/**
 * A value's digits, zero-padded to nine, then 39 zero digits: its digits and the zeros that may follow
 * them are then copied out by a few fixed-size loads and stores, with no loop whose length the
 * processor must guess (those mispredictions were a third of a value's time).
 */
const PAD: usize = memory.data<u8>([
  0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
  0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
  0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
]);

/**
 * Writes `value` (below 10^9) as nine digits at {@link PAD} without a branch or a loop: its top digit,
 * then the other eight split into two four-digit lanes of a 64-bit number, those into two-digit lanes
 * (÷100 as ×5243 >> 19, exact below 10^4), and those into digits (÷10 as ×103 >> 10, exact below 100).
 */
function writeNineDigits(value: u32): void {
  const top = value / 100000000;
  const low = value - top * 100000000;
  const high4 = low / 10000;
  let lanes: u64 = <u64>high4 | ((<u64>(low - high4 * 10000)) << 32);
  const hundreds = ((lanes * 5243) >> 19) & 0x0000007f0000007f;
  lanes = hundreds | ((lanes - hundreds * 100) << 16);
  const tens = ((lanes * 103) >> 10) & 0x000f000f000f000f;
  lanes = tens | ((lanes - tens * 10) << 8);
  store<u8>(PAD, 0x30 + top);
  store<u64>(PAD + 1, lanes | 0x3030303030303030);
}

/** Writes the `length` digits of `value` ending just before `end`, two at a time. */
function writeDigits(end: usize, value: u32, length: i32): void {
  let at = end;
  for (; length >= 2; length -= 2) {
    const next = value / 100;
    at -= 2;
    store<u16>(at, unchecked(DIGIT_PAIRS[value - next * 100]));
    value = next;
  }
  if (length === 1) store<u8>(at - 1, 0x30 + value);
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
 * Ryū's search and the layout of its result, as static methods only because AssemblyScript's `@inline`,
 * on a function, is not TypeScript that biome can parse; on a method it is. Inlined into the row loop,
 * they print a value in 33 ns instead of 38.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: a home for @inline methods, see above
class Inlined {
  /** The shortest decimal that reads back to the finite, non-zero float32 whose IEEE bits are `bits`. */
  @inline static shortestDecimal(bits: u32): void {
    const ieeeMantissa = bits & 0x7fffff;
    const ieeeExponent = <i32>((bits >> 23) & 0xff);
    let e2: i32;
    let m2: u32;
    if (ieeeExponent === 0) {
      e2 = 1 - 127 - 23 - 2;
      m2 = ieeeMantissa;
    } else {
      e2 = ieeeExponent - 127 - 23 - 2;
      m2 = 0x800000 | ieeeMantissa;
    }
    const acceptBounds = (m2 & 1) === 0;
    const mv = 4 * m2;
    const mp = 4 * m2 + 2;
    const mmShift: u32 = ieeeMantissa !== 0 || ieeeExponent <= 1 ? 1 : 0;
    const mm = 4 * m2 - 1 - mmShift;

    let vr: u32;
    let vp: u32;
    let vm: u32;
    let e10: i32;
    let vmIsTrailingZeros = false;
    let vrIsTrailingZeros = false;
    let lastRemovedDigit: u32 = 0;
    if (e2 >= 0) {
      const q = log10Pow2(e2);
      e10 = q;
      const shift = -e2 + q + POW5_INV_BITCOUNT + pow5bits(q) - 1;
      const factor = unchecked(POW5_INV_SPLIT[q]);
      vr = mulShift(mv, factor, shift);
      vp = mulShift(mp, factor, shift);
      vm = mulShift(mm, factor, shift);
      if (q !== 0 && (vp - 1) / 10 <= vm / 10) {
        const l = POW5_INV_BITCOUNT + pow5bits(q - 1) - 1;
        lastRemovedDigit = mulShift(mv, unchecked(POW5_INV_SPLIT[q - 1]), -e2 + q - 1 + l) % 10;
      }
      if (q <= 9) {
        // Only one of mp, mv and mm can be a multiple of 5, if any.
        if (mv % 5 === 0) vrIsTrailingZeros = pow5Factor(mv) >= q;
        else if (acceptBounds) vmIsTrailingZeros = pow5Factor(mm) >= q;
        else if (pow5Factor(mp) >= q) vp--;
      }
    } else {
      const q = log10Pow5(-e2);
      e10 = q + e2;
      const i = -e2 - q;
      let shift = q - (pow5bits(i) - POW5_BITCOUNT);
      const factor = unchecked(POW5_SPLIT[i]);
      vr = mulShift(mv, factor, shift);
      vp = mulShift(mp, factor, shift);
      vm = mulShift(mm, factor, shift);
      if (q !== 0 && (vp - 1) / 10 <= vm / 10) {
        shift = q - 1 - (pow5bits(i + 1) - POW5_BITCOUNT);
        lastRemovedDigit = mulShift(mv, unchecked(POW5_SPLIT[i + 1]), shift) % 10;
      }
      if (q <= 1) {
        // mv = 4·m2 has at least two trailing zero bits; mm has one exactly when mmShift is 1.
        vrIsTrailingZeros = true;
        if (acceptBounds) vmIsTrailingZeros = mmShift === 1;
        else vp--;
      } else if (q < 31) {
        vrIsTrailingZeros = (mv & ((1 << (q - 1)) - 1)) === 0;
      }
    }

    let removed = 0;
    let output: u32;
    if (vmIsTrailingZeros || vrIsTrailingZeros) {
      // The rare general case (~4%): track whether the removed digits were all zeros.
      while (vp / 10 > vm / 10) {
        vmIsTrailingZeros = vmIsTrailingZeros && vm % 10 === 0;
        vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit === 0;
        lastRemovedDigit = vr % 10;
        vr /= 10;
        vp /= 10;
        vm /= 10;
        removed++;
      }
      if (vmIsTrailingZeros) {
        while (vm % 10 === 0) {
          vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit === 0;
          lastRemovedDigit = vr % 10;
          vr /= 10;
          vp /= 10;
          vm /= 10;
          removed++;
        }
      }
      // Round to even when the exact value is …50…0.
      if (vrIsTrailingZeros && lastRemovedDigit === 5 && vr % 2 === 0) lastRemovedDigit = 4;
      const roundUp = (vr === vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5;
      output = vr + <u32>roundUp;
    } else {
      while (vp / 10 > vm / 10) {
        lastRemovedDigit = vr % 10;
        vr /= 10;
        vp /= 10;
        vm /= 10;
        removed++;
      }
      output = vr + <u32>(vr === vm || lastRemovedDigit >= 5);
    }
    decimalDigits = output;
    decimalExponent = e10 + removed;
  }

  /** {@link writeFloat32}; it may write up to 25 bytes from `at`, see below. */
  @inline static write(at: usize, bits: u32): usize {
    if ((bits & 0x7f800000) === 0x7f800000) {
      if ((bits & 0x7fffff) !== 0) {
        store<u16>(at, 0x614e); // "Na"
        store<u8>(at + 2, 0x4e); // "N"
        return at + 3;
      }
      if (bits >> 31) store<u8>(at++, MINUS);
      store<u64>(at, 0x7974696e69666e49); // "Infinity"
      return at + 8;
    }
    if (bits >> 31) store<u8>(at++, MINUS);
    if ((bits & 0x7fffffff) === 0) {
      store<u8>(at, ZERO);
      return at + 1;
    }
    // An integer from 1 to 2^24 − 1 (class labels, counts) is its own shortest form: its neighbours are
    // at most 1 away, so no other decimal of as few digits reads back to it. Ryū would reach it by
    // removing digits one at a time, up to nine of them: 47 ns a value, against 16 this way.
    let digits: u32;
    let exponent: i32 = 0;
    const fractionBits = 150 - <i32>((bits >> 23) & 0xff);
    const significand = 0x800000 | (bits & 0x7fffff);
    if (<u32>fractionBits <= 23 && (significand & ((1 << fractionBits) - 1)) === 0) {
      digits = significand >> fractionBits;
    } else {
      Inlined.shortestDecimal(bits);
      digits = decimalDigits;
      exponent = decimalExponent;
    }
    for (let next = digits / 10; next * 10 === digits; next = digits / 10) {
      digits = next;
      exponent++;
    }
    const length = decimalLength(digits);
    writeNineDigits(digits);
    const first = PAD + 9 - length;
    // Where the decimal point falls, counted from the first digit (JavaScript's Number::toString layout).
    // Fixed-size copies, which may write past the text's end, up to 24 bytes from `at` (after a sign):
    // whatever is written next overwrites them, and the caller's buffer has that much to spare.
    const point = exponent + length;
    if (point >= length && point <= 21) {
      store<u64>(at, load<u64>(first));
      store<u64>(at + 8, load<u64>(first + 8));
      store<u64>(at + 16, load<u64>(first + 16));
      return at + point;
    }
    if (point > 0 && point <= 21) {
      store<u64>(at, load<u64>(first));
      store<u64>(at + point + 1, load<u64>(first + point));
      store<u8>(at + point, DOT);
      return at + length + 1;
    }
    if (point > -6 && point <= 0) {
      store<u64>(at, 0x303030303030_2e30); // "0.000000"
      at += 2 - point;
      store<u64>(at, load<u64>(first));
      store<u8>(at + 8, load<u8>(first + 8));
      return at + length;
    }
    // Exponential: d[.ddd]e±x
    writeDigits(at + length + 1, digits, length);
    store<u8>(at, load<u8>(at + 1));
    if (length > 1) {
      store<u8>(at + 1, DOT);
      at += length + 1;
    } else {
      at += 1;
    }
    store<u8>(at++, 0x65);
    const scientific = point - 1;
    store<u8>(at++, scientific < 0 ? MINUS : 0x2b);
    const magnitude = <u32>(scientific < 0 ? -scientific : scientific);
    const exponentLength = magnitude >= 10 ? 2 : 1;
    writeDigits(at + exponentLength, magnitude, exponentLength);
    return at + exponentLength;
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

/** Writes the integer `value` in decimal at `at` and returns the address after it. */
function writeInteger(at: usize, value: i64): usize {
  let magnitude = <u64>value;
  if (value < 0) {
    store<u8>(at++, MINUS);
    magnitude = 0 - magnitude;
  }
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
 * The kinds of value a row plan's segment reads: float32 IEEE bits, int32, int64 (little-endian), and
 * texts (a 32-bit index into a table of texts).
 */
const FLOAT32: u32 = 0;
const INT32: u32 = 1;
const INT64: u32 = 2;

/** The bytes of one segment of a row plan: six 32-bit fields, see {@link writeRows}. */
const SEGMENT_BYTES = 24;
/** The bytes of one entry of a text table: its address and its length. */
const TEXT_ENTRY_BYTES = 8;

/**
 * Writes `rows` rows as the plan at `plan` says, from `target` on, and returns the length written (up
 * to 25 bytes past it may be scribbled on). The plan is `segments` segments of six 32-bit fields: the
 * address and length of a text, the address of the segment's first value in the first row, the bytes
 * from one row's values to the next's, a count of values and their kind ({@link FLOAT32}, {@link INT32},
 * {@link INT64}, else text). A row is each segment's text followed by its values, `separator` (a byte)
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
      } else if (kind === INT32 || kind === INT64) {
        const size: usize = kind === INT32 ? 4 : 8;
        for (let k = 0; k < count; k++) {
          if (k > 0) store<u8>(at++, separator);
          at = writeInteger(at, size === 4 ? <i64>load<i32>(from) : load<i64>(from));
          from += size;
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
