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
