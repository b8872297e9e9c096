/**
 * Shortest round-trip decimal digits of a float32, as ASCII bytes, without `String(number)`.
 *
 * This is Ulf Adams's Ryū algorithm for 32-bit floats (PLDI 2018), with its 64-bit multiplications done
 * exactly in double arithmetic on 26-bit limbs (JavaScript has no fast 64-bit integers). It yields the
 * fewest significant digits that read back (correctly rounded) to the same float32, and of those the
 * closest to the exact value. The digits are laid out as JavaScript lays out numbers (`0.001`, `1e-7`,
 * `1.5e+21`), so the text is what `String(shortest)` would print.
 */

const POW5_INV_BITCOUNT = 59;
const POW5_BITCOUNT = 61;

/** ⌈log2(5^e)⌉ (1 for e = 0), for 0 ≤ e ≤ 3528. */
const pow5bits = (e: number) => ((e * 1217359) >>> 19) + 1;
/** ⌊log10(2^e)⌋ for 0 ≤ e ≤ 1650. */
const log10Pow2 = (e: number) => (e * 78913) >>> 18;
/** ⌊log10(5^e)⌋ for 0 ≤ e ≤ 2620. */
const log10Pow5 = (e: number) => (e * 732923) >>> 20;

/**
 * 61-bit multipliers, each as three 26-bit limbs (lowest first) at `3 × index`, so that products with a
 * 26-bit integer stay below 2^53, exact in doubles.
 */
function limbTable(values: readonly bigint[]): Float64Array {
  const limbs = new Float64Array(3 * values.length);
  values.forEach((value, index) => {
    for (let i = 0; i < 3; i++) limbs[3 * index + i] = Number((value >> BigInt(26 * i)) & 0x3ffffffn);
  });
  return limbs;
}

/** ⌊2^(pow5bits(i) − 1 + 59) / 5^i⌋ + 1: multipliers for dividing by 5^i. */
const POW5_INV_SPLIT = limbTable(
  Array.from({ length: 31 }, (_, i) => (1n << BigInt(pow5bits(i) - 1 + POW5_INV_BITCOUNT)) / 5n ** BigInt(i) + 1n),
);
/** 5^i scaled to 61 significant bits: multipliers for multiplying by 5^i. */
const POW5_SPLIT = limbTable(
  Array.from({ length: 47 }, (_, i) => {
    const shift = pow5bits(i) - POW5_BITCOUNT;
    const power = 5n ** BigInt(i);
    return shift >= 0 ? power >> BigInt(shift) : power << BigInt(-shift);
  }),
);

/** 2^-k for 0 ≤ k < 64 (multiplying by a power of two is exact). */
const INVERSE_POWERS_OF_TWO = Float64Array.from({ length: 64 }, (_, k) => 2 ** -k);
/** 2^k for 0 ≤ k < 64. */
const POWERS_OF_TWO = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);
const INV_2_26 = 2 ** -26;

/**
 * ⌊m × table[index] / 2^shift⌋ for m < 2^26 and shift > 32, exact in doubles:
 * m × factor = p2·2^52 + p1·2^26 + p0 with every partial product below 2^52.
 */
function mulShift(m: number, table: Float64Array, index: number, shift: number): number {
  const at = 3 * index;
  const p0 = m * table[at];
  const p1 = m * table[at + 1];
  const p2 = m * table[at + 2];
  // ⌊m × factor / 2^26⌋ = p2·2^26 + middle, where middle < 2^53.
  const middle = p1 + Math.floor(p0 * INV_2_26);
  const s = shift - 26;
  if (s > 26) return Math.floor((p2 + Math.floor(middle * INV_2_26)) * INVERSE_POWERS_OF_TWO[s - 26]);
  return p2 * POWERS_OF_TWO[26 - s] + Math.floor(middle * INVERSE_POWERS_OF_TWO[s]);
}

/** x mod 10 for 0 ≤ x < 2^32, without `%` (a library call for values beyond int32). */
const lastDigit = (x: number) => x - Math.floor(x * 0.1) * 10;

function pow5Factor(value: number): number {
  let count = 0;
  for (let next = Math.floor(value / 5); value > 0 && next * 5 === value; next = Math.floor(value / 5)) {
    value = next;
    count++;
  }
  return count;
}

const multipleOfPowerOf5 = (value: number, p: number) => pow5Factor(value) >= p;
const multipleOfPowerOf2 = (value: number, p: number) => (value & ((1 << p) - 1)) === 0;

// ⌊x / 10⌋ is computed as ⌊x × 0.1⌋ throughout: for 0 ≤ x < 2^32 the product's error (< 3e-8) cannot
// cross an integer, and a multiplication is several times cheaper than a division.

/** The decimal found by {@link shortestDecimal}: `digits × 10^exponent`. Reused; read it at once. */
export const decimal = { digits: 0, exponent: 0 };

/**
 * Sets {@link decimal} to the shortest decimal that reads back to the finite, non-zero float32 whose IEEE
 * bits are `bits`.
 */
export function shortestDecimal(bits: number): void {
  const ieeeMantissa = bits & 0x7fffff;
  const ieeeExponent = (bits >>> 23) & 0xff;
  let e2: number;
  let m2: number;
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
  const mmShift = ieeeMantissa !== 0 || ieeeExponent <= 1 ? 1 : 0;
  const mm = 4 * m2 - 1 - mmShift;

  let vr: number;
  let vp: number;
  let vm: number;
  let e10: number;
  let vmIsTrailingZeros = false;
  let vrIsTrailingZeros = false;
  let lastRemovedDigit = 0;
  if (e2 >= 0) {
    const q = log10Pow2(e2);
    e10 = q;
    const k = POW5_INV_BITCOUNT + pow5bits(q) - 1;
    const i = -e2 + q + k;
    vr = mulShift(mv, POW5_INV_SPLIT, q, i);
    vp = mulShift(mp, POW5_INV_SPLIT, q, i);
    vm = mulShift(mm, POW5_INV_SPLIT, q, i);
    if (q !== 0 && Math.floor((vp - 1) * 0.1) <= Math.floor(vm * 0.1)) {
      const l = POW5_INV_BITCOUNT + pow5bits(q - 1) - 1;
      lastRemovedDigit = lastDigit(mulShift(mv, POW5_INV_SPLIT, q - 1, -e2 + q - 1 + l));
    }
    if (q <= 9) {
      // Only one of mp, mv and mm can be a multiple of 5, if any.
      if (mv - Math.floor(mv / 5) * 5 === 0) vrIsTrailingZeros = multipleOfPowerOf5(mv, q);
      else if (acceptBounds) vmIsTrailingZeros = multipleOfPowerOf5(mm, q);
      else if (multipleOfPowerOf5(mp, q)) vp--;
    }
  } else {
    const q = log10Pow5(-e2);
    e10 = q + e2;
    const i = -e2 - q;
    const k = pow5bits(i) - POW5_BITCOUNT;
    let j = q - k;
    vr = mulShift(mv, POW5_SPLIT, i, j);
    vp = mulShift(mp, POW5_SPLIT, i, j);
    vm = mulShift(mm, POW5_SPLIT, i, j);
    if (q !== 0 && Math.floor((vp - 1) * 0.1) <= Math.floor(vm * 0.1)) {
      j = q - 1 - (pow5bits(i + 1) - POW5_BITCOUNT);
      lastRemovedDigit = lastDigit(mulShift(mv, POW5_SPLIT, i + 1, j));
    }
    if (q <= 1) {
      // mv = 4·m2 has at least two trailing zero bits; mm has one exactly when mmShift is 1.
      vrIsTrailingZeros = true;
      if (acceptBounds) vmIsTrailingZeros = mmShift === 1;
      else vp--;
    } else if (q < 31) {
      vrIsTrailingZeros = multipleOfPowerOf2(mv, q - 1);
    }
  }

  let removed = 0;
  let output: number;
  if (vmIsTrailingZeros || vrIsTrailingZeros) {
    // The rare general case (~4%): track whether the removed digits were all zeros.
    for (;;) {
      const vpDiv10 = Math.floor(vp * 0.1);
      const vmDiv10 = Math.floor(vm * 0.1);
      if (vpDiv10 <= vmDiv10) break;
      vmIsTrailingZeros &&= vm - vmDiv10 * 10 === 0;
      vrIsTrailingZeros &&= lastRemovedDigit === 0;
      const vrDiv10 = Math.floor(vr * 0.1);
      lastRemovedDigit = vr - vrDiv10 * 10;
      vr = vrDiv10;
      vp = vpDiv10;
      vm = vmDiv10;
      removed++;
    }
    if (vmIsTrailingZeros) {
      while (lastDigit(vm) === 0) {
        vrIsTrailingZeros &&= lastRemovedDigit === 0;
        const vrDiv10 = Math.floor(vr * 0.1);
        lastRemovedDigit = vr - vrDiv10 * 10;
        vr = vrDiv10;
        vp = Math.floor(vp * 0.1);
        vm = Math.floor(vm * 0.1);
        removed++;
      }
    }
    // Round to even when the exact value is …50…0.
    if (vrIsTrailingZeros && lastRemovedDigit === 5 && Math.floor(vr * 0.5) * 2 === vr) lastRemovedDigit = 4;
    output = vr + ((vr === vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5 ? 1 : 0);
  } else {
    for (;;) {
      const vpDiv10 = Math.floor(vp * 0.1);
      const vmDiv10 = Math.floor(vm * 0.1);
      if (vpDiv10 <= vmDiv10) break;
      const vrDiv10 = Math.floor(vr * 0.1);
      lastRemovedDigit = vr - vrDiv10 * 10;
      vr = vrDiv10;
      vp = vpDiv10;
      vm = vmDiv10;
      removed++;
    }
    output = vr + (vr === vm || lastRemovedDigit >= 5 ? 1 : 0);
  }
  decimal.digits = output;
  decimal.exponent = e10 + removed;
}

const ZERO = 0x30;
const float32Scratch = new Float32Array(1);
const bitsScratch = new Uint32Array(float32Scratch.buffer);

/** Digits of a positive integer below 10^9 (every float32's shortest form has at most 9). */
function decimalLength(value: number): number {
  if (value >= 100000) {
    if (value >= 10000000) return value >= 100000000 ? 9 : 8;
    return value >= 1000000 ? 7 : 6;
  }
  if (value >= 100) return value >= 10000 ? 5 : value >= 1000 ? 4 : 3;
  return value >= 10 ? 2 : 1;
}

/** Writes the `length` digits of `value` (below 2^31) ending just before `bytes[end]`. */
function writeDigits(bytes: Uint8Array, end: number, value: number, length: number): void {
  for (let i = end - 1; i >= end - length; i--) {
    const next = (value / 10) | 0;
    bytes[i] = ZERO + value - next * 10;
    value = next;
  }
}

/** The most bytes {@link writeFloat32} writes (`-1.2345678e-38` is 14; NaN/Infinity are spelled out). */
export const MAX_FLOAT32_BYTES = 16;

const INFINITY = Array.from("Infinity", (c) => c.charCodeAt(0));
const NAN = Array.from("NaN", (c) => c.charCodeAt(0));

/**
 * Writes `value` (a float32, held in a double) at `bytes[pos]` in its shortest round-trip form and
 * returns the position after it. `bytes` must have {@link MAX_FLOAT32_BYTES} free from `pos`.
 * Negative zero is written `-0`, so that the sign survives the round trip.
 */
export function writeFloat32(bytes: Uint8Array, pos: number, value: number): number {
  float32Scratch[0] = value;
  return writeFloat32Bits(bytes, pos, bitsScratch[0]);
}

/**
 * {@link writeFloat32} for a float32 given by its IEEE bits (read them through a `Uint32Array` view of the
 * output's `Float32Array`, which saves a conversion per value).
 */
export function writeFloat32Bits(bytes: Uint8Array, pos: number, bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) {
    for (const c of NAN) bytes[pos++] = c;
    return pos;
  }
  if (bits >>> 31 !== 0) bytes[pos++] = 0x2d;
  if ((bits & 0x7fffffff) === 0) {
    bytes[pos++] = ZERO;
    return pos;
  }
  if ((bits & 0x7f800000) === 0x7f800000) {
    for (const c of INFINITY) bytes[pos++] = c;
    return pos;
  }
  shortestDecimal(bits);
  let digits = decimal.digits;
  let exponent = decimal.exponent;
  for (let next = (digits / 10) | 0; next * 10 === digits; next = (digits / 10) | 0) {
    digits = next;
    exponent++;
  }
  const length = decimalLength(digits);
  // Where the decimal point falls, counted from the first digit (JavaScript's Number::toString layout).
  const point = exponent + length;
  if (point >= length && point <= 21) {
    writeDigits(bytes, pos + length, digits, length);
    pos += length;
    for (let z = length; z < point; z++) bytes[pos++] = ZERO;
    return pos;
  }
  if (point > 0 && point <= 21) {
    // All the digits one place right, then the integer part back over the gap and the point after it:
    // one pass over the digits and no division to split them.
    writeDigits(bytes, pos + length + 1, digits, length);
    for (let j = pos; j < pos + point; j++) bytes[j] = bytes[j + 1];
    bytes[pos + point] = 0x2e;
    return pos + length + 1;
  }
  if (point > -6 && point <= 0) {
    bytes[pos++] = ZERO;
    bytes[pos++] = 0x2e;
    for (let z = point; z < 0; z++) bytes[pos++] = ZERO;
    writeDigits(bytes, pos + length, digits, length);
    return pos + length;
  }
  // Exponential: d[.ddd]e±x
  writeDigits(bytes, pos + length + 1, digits, length);
  bytes[pos] = bytes[pos + 1];
  if (length > 1) {
    bytes[pos + 1] = 0x2e;
    pos += length + 1;
  } else {
    pos += 1;
  }
  bytes[pos++] = 0x65;
  let scientific = point - 1;
  bytes[pos++] = scientific < 0 ? 0x2d : 0x2b;
  if (scientific < 0) scientific = -scientific;
  const exponentLength = scientific >= 10 ? 2 : 1;
  writeDigits(bytes, pos + exponentLength, scientific, exponentLength);
  return pos + exponentLength;
}
