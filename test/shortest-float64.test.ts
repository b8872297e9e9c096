/**
 * The float64 printer against V8's own `String(number)` (Grisu3 with an exact bignum fallback, written
 * apart from ours): the same shortest, closest digits and the same layout, on millions of bit patterns.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_FLOAT64_BYTES, writeFloat64 } from "../codecs/text/shortest-float.js";
import { seededRandom } from "../src/testing/seeded-random.js";

const scratch = new Uint8Array(64);
const decoder = new TextDecoder();
const print = (value: number) => decoder.decode(scratch.subarray(0, writeFloat64(scratch, 0, value)));
/** What JavaScript prints, but `-0` for negative zero, as the printer writes it. */
const expected = (value: number) => (Object.is(value, -0) ? "-0" : String(value));

const bitsToDouble = (() => {
  const doubles = new Float64Array(1);
  const words = new Uint32Array(doubles.buffer);
  return (high: number, low: number) => {
    words[0] = low;
    words[1] = high;
    return doubles[0];
  };
})();

describe("shortest float64 printing", () => {
  it("prints as String() does on random bit patterns of every exponent, subnormals included", () => {
    const random = seededRandom(64);
    let checked = 0;
    for (let biased = 0; biased < 2047; biased++) {
      for (let i = 0; i < 400; i++) {
        const sign = random() < 0.5 ? 0 : 0x80000000;
        const high = (sign | (biased << 20) | Math.floor(random() * 0x100000)) >>> 0;
        const value = bitsToDouble(high, Math.floor(random() * 2 ** 32));
        assert.equal(print(value), expected(value));
        checked++;
      }
    }
    assert.ok(checked > 800_000);
  });

  it("prints as String() does where the interval is lopsided (powers of two), and at the extremes", () => {
    for (let biased = 0; biased < 2047; biased++) {
      for (const [highLow, low] of [
        [0, 0],
        [0, 1],
        [0, 2],
        [0, 3],
        [0xfffff, 0xffffffff],
        [0xfffff, 0xfffffffe],
        [0x80000, 0],
      ]) {
        const value = bitsToDouble((biased << 20) | highLow, low);
        assert.equal(print(value), expected(value));
        assert.equal(print(-value), expected(-value));
      }
    }
    for (const value of [
      5e-324,
      1e-323,
      1.5e-323,
      2.225073858507201e-308,
      2.2250738585072014e-308,
      Number.MAX_VALUE,
      Number.MAX_SAFE_INTEGER,
      2 ** 53 + 2,
      1e21,
      1e22,
      1e23,
      999999999999999900000,
      1e-7,
      0.000001,
      0.1 + 0.2,
      1 / 3,
    ]) {
      assert.equal(print(value), String(value));
    }
  });

  it("prints decimals as people write them, and integers, as String() does", () => {
    const random = seededRandom(10);
    for (let i = 0; i < 200_000; i++) {
      for (const value of [
        Math.round(random() * 1e6) / 1e4,
        Math.floor(random() * 2 ** 32) * 1e-9,
        Math.floor(random() * 2 ** 53),
        (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20),
      ]) {
        assert.equal(print(value), String(value));
      }
    }
  });

  it("spells zeros, infinities and NaN, and stays within its byte bound", () => {
    assert.equal(print(0), "0");
    assert.equal(print(-0), "-0");
    assert.equal(print(Number.POSITIVE_INFINITY), "Infinity");
    assert.equal(print(Number.NEGATIVE_INFINITY), "-Infinity");
    assert.equal(print(Number.NaN), "NaN");
    for (const longest of [-0.0000012345678901234567, -1.2345678901234567e-308, -100000000000000000000]) {
      assert.ok(print(longest).length <= MAX_FLOAT64_BYTES);
    }
    assert.equal(print(-0.0000012345678901234567).length, MAX_FLOAT64_BYTES);
  });

  it("writes nothing past its bound into the caller's bytes", () => {
    const bytes = new Uint8Array(MAX_FLOAT64_BYTES + 8).fill(0x7e);
    const end = writeFloat64(bytes, 8, -0.0000012345678901234567);
    assert.equal(end, bytes.length);
    assert.deepEqual([...bytes.subarray(0, 8)], Array(8).fill(0x7e));
  });
});
