/**
 * Doubles where reading a decimal into a float32 is hardest to get right: a few float64 steps from
 * halfway between two adjacent float32s, where a value off by one float64 step rounds the other way.
 */

/** The float64 `steps` steps (negative: below) from halfway between the float32 at or below `value` and the next. */
export function besideFloat32Halfway(value: number, steps: number): number {
  const low = Math.fround(Math.abs(value));
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat32(0, low);
  bits.setUint32(0, bits.getUint32(0) + 1);
  const high = bits.getFloat32(0);
  bits.setFloat64(0, (low + high) / 2);
  bits.setBigUint64(0, bits.getBigUint64(0) + BigInt(steps));
  return bits.getFloat64(0);
}
