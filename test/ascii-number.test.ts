import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DecimalScanner, NOT_A_NUMBER, parseAsciiNumber } from "../codecs/text/ascii-number.js";
import { seededRandom } from "../src/testing/seeded-random.js";

const parse = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  return parseAsciiNumber(bytes, 0, bytes.length);
};

describe("parseAsciiNumber", () => {
  it("agrees with Number() on many decimal spellings", () => {
    const random = seededRandom(42);
    for (let i = 0; i < 20_000; i++) {
      const magnitude = 10 ** Math.floor(random() * 40 - 20);
      const value = (random() - 0.5) * magnitude;
      for (const text of [
        String(value),
        value.toExponential(Math.floor(random() * 17)),
        value.toFixed(Math.floor(random() * 20)),
        value.toPrecision(1 + Math.floor(random() * 20)),
        Math.fround(value).toExponential(18),
      ]) {
        assert.equal(parse(text), Number(text), text);
      }
    }
  });

  it("reads the spellings numeric CSV files use", () => {
    assert.equal(parse("0.000000000000000000e+00"), 0);
    assert.equal(parse("1.171875000000000000e-02"), 0.01171875);
    assert.equal(parse("-12"), -12);
    assert.equal(parse("+3.5"), 3.5);
    assert.equal(parse(".5"), 0.5);
    assert.equal(parse("5."), 5);
    assert.equal(parse(" 7 "), 7);
    assert.equal(parse("1E3"), 1000);
    assert.equal(parse("123456789012345678901234567890"), Number("123456789012345678901234567890"));
    assert.equal(parse("0.0000000000000000000000000001"), 1e-28);
    assert.ok(Number.isNaN(parse("NaN") as number));
    assert.equal(parse("-Infinity"), Number.NEGATIVE_INFINITY);
    assert.equal(parse("inf"), Number.POSITIVE_INFINITY);
  });

  it("refuses what is not a decimal number", () => {
    for (const text of ["", " ", "abc", "1,5", "1.2.3", "1e", "e5", "--1", "0x10", "1_000", "1 2", "-"]) {
      assert.equal(parse(text), NOT_A_NUMBER, JSON.stringify(text));
    }
  });
});

describe("DecimalScanner", () => {
  const scan = (text: string, pos = 0) => {
    const bytes = new TextEncoder().encode(text);
    const scanner = new DecimalScanner();
    const value = scanner.scan(bytes, pos, bytes.length);
    return { value, end: scanner.end };
  };

  it("reads plain decimals exactly as Number() does, and says where they end", () => {
    const random = seededRandom(21);
    for (let i = 0; i < 50_000; i++) {
      const magnitude = 10 ** Math.floor(random() * 16 - 8);
      const value = (random() - 0.5) * magnitude;
      const spellings = [
        String(value),
        value.toFixed(Math.floor(random() * 12)),
        value.toExponential(Math.floor(random() * 14)),
      ];
      for (const text of spellings) {
        const result = scan(`${text},`);
        if (Number.isNaN(result.value)) continue; // handed to the general path: fine, never wrong
        assert.equal(result.value, Number(text), text);
        assert.equal(result.end, text.length, text);
      }
    }
    assert.deepEqual(scan("0,1"), { value: 0, end: 1 });
    assert.deepEqual(scan("x,-12.50]", 2), { value: -12.5, end: 8 });
    assert.deepEqual(scan("123456789012345"), { value: 123456789012345, end: 15 });
  });

  it("leaves to the general path what it cannot read exactly", () => {
    for (const text of ["", "-", ".", "+1", " 1", "NaN", "1e", "12345678901234567890", "1e400", "5e-324"]) {
      assert.ok(Number.isNaN(scan(text).value), text);
    }
  });
});

describe("decimals of 16 to 19 digits (float64 values printed in full)", () => {
  const random = seededRandom(1619);
  const digitRun = (count: number) => {
    let digits = String(1 + Math.floor(random() * 9));
    for (let i = 1; i < count; i++) digits += String(Math.floor(random() * 10));
    return digits;
  };
  /** A double exactly halfway between two neighbours, written out in full: (2m + 1) / 2^k. */
  const midpoint = () => {
    const odd = 2n * (BigInt(Math.floor(random() * 2 ** 52)) + 2n ** 52n) + 1n;
    const fraction = 1 + Math.floor(random() * 12);
    const digits = (odd * 5n ** BigInt(fraction)).toString();
    return `${digits.slice(0, -fraction) || "0"}.${digits.slice(-fraction)}`;
  };
  /**
   * Decimals as programs print float64 values (Python's `repr` below 10^-4 with an exponent of two
   * digits or more: `4.6348195085252013e-07`; NumPy's `savetxt` by default, `%.18e`), and digit runs of
   * 16 to 19 digits with a point anywhere, or an exponent down to 10^-44 in all.
   */
  const plain: string[] = [];
  const midpoints: string[] = [];
  for (let i = 0; i < 40_000; i++) {
    const double = (random() - 0.5) * 10 ** Math.floor(random() * 8 - 2);
    const small = (random() - 0.5) * 10 ** -Math.floor(4 + random() * 20);
    const run = digitRun(16 + Math.floor(random() * 4));
    const point = Math.floor(random() * run.length);
    plain.push(
      String(double),
      small.toExponential().replace(/e-(\d)$/, "e-0$1"),
      double.toExponential(18).replace(/e([+-])(\d)$/, "e$10$2"),
      `${run.slice(0, point) || "0"}.${run.slice(point)}`,
      `-0.${"0".repeat(i % 4)}${run}`,
      `${run[0]}.${run.slice(1)}e-${Math.floor(random() * (44 - run.length))}`,
      run,
    );
    midpoints.push(midpoint());
  }
  const texts = [...plain, ...midpoints];

  it("are read by parseAsciiNumber as Number() reads them, midpoints included", () => {
    const encoder = new TextEncoder();
    for (const text of texts) {
      const bytes = encoder.encode(text);
      assert.equal(parseAsciiNumber(bytes, 0, bytes.length), Number(text), text);
    }
  });

  it("are read by the scanner as Number() reads them, almost all without the general path", () => {
    const encoder = new TextEncoder();
    const scanner = new DecimalScanner();
    const read = (some: string[]) => {
      let count = 0;
      for (const text of some) {
        const bytes = encoder.encode(`${text},`);
        const value = scanner.scan(bytes, 0, bytes.length);
        if (Number.isNaN(value)) continue; // handed to the general path: fine, never wrong
        assert.equal(value, Number(text), text);
        assert.equal(scanner.end, text.length, text);
        count++;
      }
      return count;
    };
    // Only midpoints (some of the plain decimals are, `…456.5`), and decimals within 2^-98 of one, need
    // Number().
    assert.ok(read(plain) >= 0.998 * plain.length);
    assert.equal(read(midpoints), 0);
  });
});
