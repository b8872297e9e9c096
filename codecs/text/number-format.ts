/**
 * Prints output values as text so that they read back to the same value: float32 with the fewest
 * digits that round-trip through `Math.fround`, float64 with JavaScript's shortest round-trip form.
 */
import type { OutputValues } from "../../src/index.js";

/** The shortest decimal text that reads back (as float32) to exactly `value`. */
export function formatFloat32(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  // Most float32 values need 6 to 9 significant digits; 9 always round-trips.
  for (let precision = 6; precision < 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return String(candidate);
  }
  return String(Number(value.toPrecision(9)));
}

/** Returns the formatter for one output tensor's values. */
export function valueFormatter(data: OutputValues): (index: number) => string {
  if (data instanceof Float32Array) return (i) => formatFloat32(data[i]);
  return (i) => String(data[i]);
}
