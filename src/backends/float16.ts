/**
 * IEEE 754 half precision (`float16`), for models whose inputs or outputs are float16. Batches stage such
 * inputs as float32 (what every codec writes) and are converted as they are fed; float16 answers are
 * widened to float32 (exactly: every half is a float32) before any codec sees them. ONNX Runtime for
 * Node hands float16 tensors over as their bits in a `Uint16Array` where `Float16Array` does not exist.
 */

const single = new Float32Array(1);
const singleBits = new Uint32Array(single.buffer);

/** The half nearest to float32 `value` (ties to even), as bits: as ONNX Runtime's `Cast` rounds. */
function halfBits(value: number): number {
  single[0] = value;
  const bits = singleBits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  // Infinities stay infinite; NaN stays NaN (quiet, its payload's top bits kept).
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200 | (mantissa >>> 13));
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // A subnormal half (or zero): the implicit bit joins the mantissa, shifted right by 14 − exponent.
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    const halfway = 1 << (shift - 1);
    const rest = full & ((1 << shift) - 1);
    let rounded = full >>> shift;
    if (rest > halfway || (rest === halfway && (rounded & 1) === 1)) rounded++;
    return sign | rounded;
  }
  let half = sign | (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa moves to the next exponent, up to infinity: still the nearest.
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return half;
}

/** Every half's value as a float32, indexed by its bits (256 KiB, built on first use). */
let widened: Float32Array | undefined;

function widenedTable(): Float32Array {
  if (widened) return widened;
  widened = new Float32Array(0x10000);
  for (let bits = 0; bits < 0x10000; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    widened[bits] =
      exponent === 0
        ? sign * mantissa * 2 ** -24
        : exponent === 0x1f
          ? mantissa === 0
            ? sign * Number.POSITIVE_INFINITY
            : Number.NaN
          : sign * (0x400 + mantissa) * 2 ** (exponent - 25);
  }
  return widened;
}

/** `values` rounded to half precision, as the bits ONNX Runtime takes for a float16 tensor. */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = halfBits(values[i]);
  return bits;
}

/** Halves given by their bits, widened (exactly) to float32. */
export function fromFloat16Bits(bits: Uint16Array): Float32Array {
  const table = widenedTable();
  const values = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) values[i] = table[bits[i]];
  return values;
}
