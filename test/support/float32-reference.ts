/**
 * An independent, slow oracle for float32 printing: exact rational arithmetic with BigInt finds, for the
 * fewest significant digits p = 1…9, the p-digit decimals inside the float's rounding interval (bounds
 * included when the mantissa is even, as a round-half-even reader decides), and of those the closest to
 * the exact value (ties to an even last digit). Shares nothing with `codecs/text/shortest-float.ts`.
 */

const absolute = (x: bigint) => (x < 0n ? -x : x);
const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

/** The text of the shortest round-trip decimal of `value` (a float32), laid out as JavaScript prints numbers. */
export function referenceFloat32Text(value: number): string {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  const bits = view.getUint32(0);
  const sign = bits >>> 31 ? "-" : "";
  const biased = (bits >>> 23) & 0xff;
  const fraction = bits & 0x7fffff;
  if (biased === 0xff) return fraction ? "NaN" : `${sign}Infinity`;
  if (biased === 0 && fraction === 0) return `${sign}0`;
  const mantissa = BigInt(biased === 0 ? fraction : fraction | 0x800000);
  const binaryExponent = (biased === 0 ? 1 : biased) - 150;
  // Everything ×4 so the interval bounds are integers × 2^(binaryExponent − 2).
  const gapBelow = fraction === 0 && biased > 1 ? 1n : 2n;
  const scaled = { low: 4n * mantissa - gapBelow, value: 4n * mantissa, high: 4n * mantissa + 2n };
  const e = binaryExponent - 2;
  const numerator = (x: bigint) => (e >= 0 ? x << BigInt(e) : x);
  const denominator = e >= 0 ? 1n : 1n << BigInt(-e);
  const inclusive = (mantissa & 1n) === 0n;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  for (let digits = 1; digits <= 9; digits++) {
    let best: { candidate: bigint; power: number; distance: [bigint, bigint] } | undefined;
    for (let leading = magnitude - 1; leading <= magnitude + 1; leading++) {
      const power = leading - digits + 1;
      // candidate × 10^power within [low, high] ⇔ candidate within [low / 10^power, high / 10^power].
      const tenNumerator = power >= 0 ? 10n ** BigInt(power) : 1n;
      const tenDenominator = power >= 0 ? 1n : 10n ** BigInt(-power);
      const over = denominator * tenNumerator;
      let first = ceilDiv(numerator(scaled.low) * tenDenominator, over);
      let last = (numerator(scaled.high) * tenDenominator) / over;
      if (!inclusive) {
        if (first * over === numerator(scaled.low) * tenDenominator) first++;
        if (last * over === numerator(scaled.high) * tenDenominator) last--;
      }
      const smallest = 10n ** BigInt(digits - 1);
      const largest = 10n ** BigInt(digits) - 1n;
      if (first < smallest) first = smallest;
      if (last > largest) last = largest;
      if (first > last) continue;
      const exact = numerator(scaled.value) * tenDenominator;
      const nearest = exact / over;
      for (const candidate of [first, last, nearest, nearest + 1n]) {
        if (candidate < first || candidate > last) continue;
        // Distance as a fraction compared across powers: |candidate·10^power − value|.
        const distance: [bigint, bigint] = [absolute(candidate * over - exact), tenDenominator * denominator];
        if (!best) {
          best = { candidate, power, distance };
          continue;
        }
        const left = distance[0] * best.distance[1];
        const right = best.distance[0] * distance[1];
        if (left < right || (left === right && candidate % 2n === 0n)) best = { candidate, power, distance };
      }
    }
    if (best) return sign + String(Number(`${best.candidate}e${best.power}`));
  }
  throw new Error(`no decimal of at most 9 digits identifies ${value}`);
}
