/**
 * 64-bit integers from plain numbers: inputs, fed from the doubles batches stage them in, and uint32
 * outputs, widened for the encoders. `BigInt(value)` per value cost 36–56 ns (a heap object each, for a
 * sequence model's ids two per token); writing each value's two 32-bit halves costs about 3. Every staged
 * value is an integer of the input's type (codecs check it), so both halves are exact.
 */
const TWO_TO_THE_32 = 2 ** 32;
const TWO_TO_THE_MINUS_32 = 2 ** -32;

/** Integer doubles as 64-bit two's complement, little-endian: the bits of an int64 (or uint64) tensor. */
function int64Bits(values: ArrayLike<number>): ArrayBuffer {
  const bits = new ArrayBuffer(8 * values.length);
  const halves = new Int32Array(bits);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    // Scaling by a power of two is exact; the floor is the high half, signed, and what is left the low.
    const high = Math.floor(value * TWO_TO_THE_MINUS_32);
    halves[2 * i] = (value - high * TWO_TO_THE_32) | 0;
    halves[2 * i + 1] = high | 0;
  }
  return bits;
}

/** Integers in int64 range, as a `BigInt64Array`. */
export function toInt64s(values: ArrayLike<number>): BigInt64Array {
  return new BigInt64Array(int64Bits(values));
}

/** Integers in uint64 range, as a `BigUint64Array`. */
export function toUint64s(values: ArrayLike<number>): BigUint64Array {
  return new BigUint64Array(int64Bits(values));
}
