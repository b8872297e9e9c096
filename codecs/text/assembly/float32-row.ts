/**
 * Reading a row of plain comma-separated numbers into float32s (WebAssembly; see `../float32-row.ts` for
 * the JavaScript side), from the chunk the framer's scanner copied into the memory this module shares
 * with it. It reads what most CSV rows and JSON arrays hold (`-0.53`, `7`, `0.16639494895935059`)
 * and leaves the rest to the JavaScript reader: it answers 0 for anything else, and the caller reads the
 * row again there.
 *
 * The arithmetic is the JavaScript reader's (`../plain-number-row.ts`), so that a row reads the same
 * whichever reads it: up to 15 digits, the mantissa is exact and one division by an exact power of ten
 * gives the double that is then rounded to float32; from 16 to 19 digits (float64 values printed in
 * full), the estimate serves where both ends of a margin round to the same float32, which is then the
 * float32 nearest the decimal, as the JavaScript reader's estimate and `Number()` find it.
 */

const ZERO: u32 = 0x30;
const MINUS: u8 = 0x2d;
const DOT: u32 = 0x2e;
const COMMA: u32 = 0x2c;
const PLUS: u8 = 0x2b;
/** `e`; `E` | 0x20 is `e` too. */
const EXPONENT: u32 = 0x65;
/** Exponent digits read; a fifth leaves the field to the JavaScript reader, as it reads them. */
const MOST_EXPONENT_DIGITS = 4;

/** Eight ASCII zeros; a word of digits less them is a word of digit values. */
const ASCII_ZEROS: u64 = 0x3030303030303030;
/** Carries a byte's top bit out of values above 9 (digits less `0`): the top bits then mark non-digits. */
const NON_DIGIT_CARRY: u64 = 0x7676767676767676;
const HIGH_BITS: u64 = 0x8080808080808080;
/** 10^0 to 10^7, to scale a mantissa by the digits taken in after it. */
const POWERS_OF_TEN_U64: StaticArray<u64> = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000];

/** The powers of ten that are exact doubles. */
const POWERS_OF_TEN: StaticArray<f64> = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
];
/** Digits past which the mantissa is not exact in a double. */
const EXACT_DIGITS: usize = 15;
/** Significant digits past which the mantissa does not fit 64 bits. */
const MOST_SIGNIFICANT_DIGITS: usize = 19;
/** Fraction digits (and a scale, either way) past which no exact power of ten scales the mantissa. */
const MOST_FRACTION_DIGITS = 22;
/** 2⁻⁴⁶: how far, relatively, the estimate of a longer decimal may be from it, and more. */
const FULL_PRECISION_MARGIN: f64 = 1.4210854715202004e-14;

/**
 * Reads the `width` numbers of the CSV row `[from, end)` into float32s at `out`; 1 when every field was a
 * plain number (an optional minus sign, digits, an optional dot and digits: 1 to 19 significant ones, at
 * most 22 after the dot) and the row held exactly `width` of them, else 0 (with some written). The byte
 * at `end` must not be a digit.
 */
export function readFloat32Row(from: usize, end: usize, width: i32, out: usize): i32 {
  return RowReader.read(from, end, width, out, false);
}

/**
 * {@link readFloat32Row} for the inside of a JSON array, `[from, end)`: its numbers also spelt as JSON
 * spells them (no `.5`, `5.` or `05`, which are left to the JavaScript reader, to be refused there).
 */
export function readJsonFloat32Row(from: usize, end: usize, width: i32, out: usize): i32 {
  return RowReader.read(from, end, width, out, true);
}

/**
 * {@link readFloat32Row} for rows of long numbers (pandas' float64s, 15 to 17 digits after the dot):
 * their fractions read eight digits at a time, which rows of short numbers would only pay for.
 */
export function readLongFloat32Row(from: usize, end: usize, width: i32, out: usize): i32 {
  return RowReader.read(from, end, width, out, false, true);
}

/** {@link readJsonFloat32Row} for rows of long numbers, as {@link readLongFloat32Row} reads them. */
export function readLongJsonFloat32Row(from: usize, end: usize, width: i32, out: usize): i32 {
  return RowReader.read(from, end, width, out, true, true);
}

/**
 * The reader, as static methods only because AssemblyScript's `@inline`, on a function, is not TypeScript
 * that biome can parse (as in `shortest-float.ts`): inlined into each entry point with its spelling
 * fixed, the CSV reader carries no JSON checks (a flag tested at run time cost it ~3% a row), and the
 * exponent's reading inlined too (called from two readers, the optimizer left it a call, which cost the
 * rows without exponents 6–10%).
 */
// biome-ignore lint/complexity/noStaticOnlyClass: a home for @inline methods, see above
class RowReader {
  /**
   * Reads a row as {@link readFloat32Row} and, with `jsonNumbers`, {@link readJsonFloat32Row} say.
   *
   * One byte at a time: the digit loops' exits are well predicted on real columns, and the sign is applied
   * without a branch (half of all features are negative; a branch on it cost a third more a row). A digit
   * is taken in with shifts and adds rather than a 64-bit multiply, whose latency chained the digits of a
   * long number (pandas' 17-digit fields read 10–15% faster), and the mantissa becomes a double by
   * {@link asDouble}.
   */
  @inline static read(
    from: usize,
    end: usize,
    width: i32,
    out: usize,
    jsonNumbers: bool,
    longNumbers: bool = false,
  ): i32 {
    let pos = from;
    for (let k = 0; k < width; k++) {
      const negative = <usize>(load<u8>(pos) === MINUS);
      pos += negative;
      const integerStart = pos;
      // Past 19 digits this wraps around, and the field is refused below.
      let mantissa: u64 = 0;
      let digit = <u32>load<u8>(pos) - ZERO;
      while (digit <= 9) {
        mantissa = ((mantissa + (mantissa << 2)) << 1) + digit;
        digit = <u32>load<u8>(++pos) - ZERO;
      }
      let digits = pos - integerStart;
      // JSON has no `.5` and no `05`.
      if (jsonNumbers && (digits === 0 || (digits > 1 && load<u8>(integerStart) === <u8>ZERO))) return 0;
      let fractionDigits: usize = 0;
      if (digit === DOT - ZERO) {
        const fractionStart = ++pos;
        if (longNumbers) {
          // Eight digits at a time while eight follow, then the rest (none to seven) at once.
          let word = load<u64>(pos) ^ ASCII_ZEROS;
          let nonDigits = ((word + NON_DIGIT_CARRY) | word) & HIGH_BITS;
          while (nonDigits === 0) {
            mantissa = mantissa * 100000000 + eightDigits(word);
            pos += 8;
            word = load<u64>(pos) ^ ASCII_ZEROS;
            nonDigits = ((word + NON_DIGIT_CARRY) | word) & HIGH_BITS;
          }
          const rest = <i32>ctz(nonDigits) >> 3;
          const restDigits = rest === 0 ? 0 : eightDigits(word << ((<u64>(8 - rest)) << 3));
          mantissa = mantissa * unchecked(POWERS_OF_TEN_U64[rest]) + restDigits;
          pos += rest;
          digit = <u32>load<u8>(pos) - ZERO;
        } else {
          digit = <u32>load<u8>(pos) - ZERO;
          while (digit <= 9) {
            mantissa = ((mantissa + (mantissa << 2)) << 1) + digit;
            digit = <u32>load<u8>(++pos) - ZERO;
          }
        }
        fractionDigits = pos - fractionStart;
        // Nor `5.`.
        if (jsonNumbers && fractionDigits === 0) return 0;
        digits += fractionDigits;
      }
      // None, or more than 19, of which only significant ones count (`-0.0076924496575098734` has 17).
      if (digits - 1 >= MOST_SIGNIFICANT_DIGITS) {
        if (digits === 0 || fractionDigits > <usize>MOST_FRACTION_DIGITS) return 0;
        if (digits - leadingZeros(integerStart) > MOST_SIGNIFICANT_DIGITS) return 0;
      }
      let magnitude = asDouble(mantissa) / unchecked(POWERS_OF_TEN[<i32>fractionDigits]);
      let exact = digits <= EXACT_DIGITS;
      // Apart, so that rows without exponents run the lines above alone.
      if (((digit + ZERO) | 0x20) === EXPONENT) {
        magnitude = RowReader.scaledByExponent(mantissa, pos, <i32>fractionDigits);
        if (Number.isNaN(magnitude)) return 0;
        pos = exponentEnd;
        digit = <u32>load<u8>(pos) - ZERO;
        exact = exact && exponentScale >= -MOST_FRACTION_DIGITS;
      }
      if (k === width - 1 ? pos !== end : digit !== COMMA - ZERO) return 0;
      if (!exact) {
        const margin = magnitude * FULL_PRECISION_MARGIN;
        if (<f32>(magnitude - margin) !== <f32>(magnitude + margin)) return 0;
      }
      // −0 stays −0: 0 × −1.
      store<f32>(out + ((<usize>k) << 2), <f32>(magnitude * <f64>(1 - 2 * <i32>negative)));
      pos++;
    }
    return 1;
  }

  /**
   * `mantissa` × 10^(exponent − `fractionDigits`), the exponent at `at` (`e` or `E`, a sign, 1 to 4 digits)
   * as the JavaScript reader reads it (`scaleDecimal` in `../ascii-number.ts`): one operation with an exact
   * power of ten from 10^-22 to 10^22, two divisions down to 10^-44 (not exact); NaN for anything else.
   */
  @inline static scaledByExponent(mantissa: u64, at: usize, fractionDigits: i32): f64 {
    let pos = at + 1;
    let byte = load<u8>(pos);
    const negative = byte === MINUS;
    if (negative || byte === PLUS) byte = load<u8>(++pos);
    let exponent: i32 = 0;
    let digits = 0;
    while (<u32>byte - ZERO <= 9 && digits < MOST_EXPONENT_DIGITS) {
      exponent = exponent * 10 + (<i32>byte - <i32>ZERO);
      digits++;
      byte = load<u8>(++pos);
    }
    if (digits === 0) return NaN;
    exponentEnd = pos;
    const scale = (negative ? -exponent : exponent) - fractionDigits;
    exponentScale = scale;
    if (scale < -2 * MOST_FRACTION_DIGITS || scale > MOST_FRACTION_DIGITS) return NaN;
    const value = asDouble(mantissa);
    if (scale >= 0) return value * unchecked(POWERS_OF_TEN[scale]);
    if (scale >= -MOST_FRACTION_DIGITS) return value / unchecked(POWERS_OF_TEN[-scale]);
    return (
      value / unchecked(POWERS_OF_TEN[MOST_FRACTION_DIGITS]) / unchecked(POWERS_OF_TEN[-MOST_FRACTION_DIGITS - scale])
    );
  }
}

/** Where the exponent {@link RowReader.scaledByExponent} read ends, and the scale it found. */
let exponentEnd: usize = 0;
let exponentScale: i32 = 0;

/** The zeros before the first other digit of the number at `from` (its dot stepped over). */
function leadingZeros(from: usize): usize {
  let zeros: usize = 0;
  let pos = from;
  for (let byte = load<u8>(pos); byte === <u8>ZERO || byte === <u8>DOT; byte = load<u8>(++pos)) {
    zeros += <usize>(byte === <u8>ZERO);
  }
  return zeros;
}

const ALTERNATE_PAIRS: u64 = 0x000000ff000000ff;
/** 100 in the low half, 10^6 in the high. */
const HUNDREDS_AND_MILLIONS: u64 = 0x000f424000000064;
/** 1 in the low half, 10^4 in the high. */
const ONES_AND_TEN_THOUSANDS: u64 = 0x0000271000000001;

/**
 * The number whose eight digit values are the bytes of `lanes`, first digit lowest (leading zero bytes
 * make a shorter number), in three multiplications: pairs of digits, then fours, then all eight.
 */
function eightDigits(lanes: u64): u64 {
  const pairs = lanes * 10 + (lanes >> 8);
  return (
    ((pairs & ALTERNATE_PAIRS) * HUNDREDS_AND_MILLIONS + ((pairs >> 16) & ALTERNATE_PAIRS) * ONES_AND_TEN_THOUSANDS) >>
    32
  );
}

/** Where the module's own data ends: the rows' values are written after it, within the first page. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * `mantissa` as the nearest double: by the one signed conversion the processor has, below 2⁶³ (every
 * mantissa of up to 18 digits); the unsigned one, a longer sequence, only for 19 digits above it.
 * Small enough for the optimizer to inline.
 */
function asDouble(mantissa: u64): f64 {
  const signed = <i64>mantissa;
  return signed >= 0 ? <f64>signed : <f64>mantissa;
}
