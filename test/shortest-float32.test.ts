import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ByteWriter } from "../codecs/text/byte-writer.js";
import { FLOAT32_RUN, MAX_FLOAT32_BYTES, printFloat32Rows, writeFloat32 } from "../codecs/text/shortest-float.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import { referenceFloat32Text } from "./support/float32-reference.js";

const scratch = new Uint8Array(32);
const decoder = new TextDecoder();
const print = (value: number) => decoder.decode(scratch.subarray(0, writeFloat32(scratch, 0, value)));

const bitsToFloat = (() => {
  const floats = new Float32Array(1);
  const bits = new Uint32Array(floats.buffer);
  return (pattern: number) => {
    bits[0] = pattern;
    return floats[0];
  };
})();

describe("shortest float32 printing", () => {
  it("matches an exact BigInt oracle on random bit patterns of every exponent, subnormals included", () => {
    const random = seededRandom(32);
    let checked = 0;
    for (let biased = 0; biased < 255; biased++) {
      for (let i = 0; i < 400; i++) {
        const sign = random() < 0.5 ? 0 : 0x80000000;
        const value = bitsToFloat((sign | (biased << 23) | Math.floor(random() * 0x800000)) >>> 0);
        if (value === 0) continue;
        assert.equal(print(value), referenceFloat32Text(value), `bits of ${value}`);
        checked++;
      }
    }
    assert.ok(checked > 100_000);
  });

  it("matches the oracle where the rounding interval is lopsided (powers of two) and at the extremes", () => {
    for (let biased = 1; biased < 255; biased++) {
      for (const low of [0, 1, 2, 0x7fffff, 0x7ffffe]) {
        const value = bitsToFloat((biased << 23) | low);
        assert.equal(print(value), referenceFloat32Text(value));
      }
    }
    for (const value of [1.4e-45, 2.8e-45, 1.1754942e-38, 1.17549435e-38, 3.4028235e38, 16777216, 1e21, 1e-7]) {
      assert.equal(print(Math.fround(value)), referenceFloat32Text(Math.fround(value)));
    }
  });

  it("reads back to the same float32 for two million random values", () => {
    const random = seededRandom(7);
    for (let i = 0; i < 2_000_000; i++) {
      const value = bitsToFloat(Math.floor(random() * 2 ** 32) >>> 0);
      if (!Number.isFinite(value)) continue;
      const text = print(value);
      assert.ok(Object.is(Math.fround(Number(text)), value), `${value} printed as ${text}`);
    }
  });

  it("prints integer values below 2^24 as integers, and matches the oracle around them", () => {
    for (const value of [1, 2, 3, 10, 1000, 123456, 8388607, 8388608, 8388609, 16777215, 16777216, 16777218]) {
      assert.equal(print(value), String(value));
      assert.equal(print(-value), String(-value));
    }
    for (let biased = 125; biased < 153; biased++) {
      for (const low of [0, 1, 0x400000, 0x7ffffe, 0x7fffff]) {
        const value = bitsToFloat((biased << 23) | low);
        assert.equal(print(value), referenceFloat32Text(value), `bits of ${value}`);
      }
    }
  });

  it("spells zeros, infinities and NaN", () => {
    assert.equal(print(0), "0");
    assert.equal(print(-0), "-0");
    assert.equal(print(Number.POSITIVE_INFINITY), "Infinity");
    assert.equal(print(Number.NEGATIVE_INFINITY), "-Infinity");
    assert.equal(print(Number.NaN), "NaN");
    assert.equal(print(Math.fround(0.1)), "0.1");
    assert.equal(print(100), "100");
    assert.equal(print(1e21), "1e+21");
    assert.equal(print(Math.fround(1.5e-7)), "1.5e-7");
    assert.equal(print(Math.fround(123.456)), "123.456");
    assert.equal(print(Math.fround(0.000123)), "0.000123");
  });
});

describe("printing float32 rows in runs", () => {
  const random = seededRandom(11);
  const width = 5;
  const rows = Math.floor(FLOAT32_RUN / width);
  const values = new Float32Array((rows + 3) * width);
  const bits = new Uint32Array(values.buffer);
  for (let i = 0; i < values.length; i++) bits[i] = Math.floor(random() * 2 ** 32) >>> 0;
  values.set([Number.NaN, -0, Number.NEGATIVE_INFINITY, 1e-45, Number.POSITIVE_INFINITY], width);
  const row = (r: number, separator: string, nonFinite?: string) =>
    Array.from(values.subarray(r * width, (r + 1) * width), (value) =>
      nonFinite !== undefined && !Number.isFinite(value) ? nonFinite : print(value),
    ).join(separator);

  it("writes what one value at a time writes, in the layout asked for", () => {
    const expected = Array.from({ length: rows }, (_, r) => `${row(r + 1, ";")}|`).join("");
    const text = printFloat32Rows(bits, 1, rows, width, { open: "", separator: ";", close: "|" });
    assert.equal(decoder.decode(text), expected);
    const json = printFloat32Rows(bits, 1, 2, width, { open: "[", separator: ",", close: "]\n", nonFinite: "null" });
    assert.equal(decoder.decode(json), `[${row(1, ",", "null")}]\n[${row(2, ",", "null")}]\n`);
    assert.deepEqual(
      decoder
        .decode(json)
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))[0],
      [null, -0, null, 1e-45, null],
    );
  });

  it("refuses runs and layouts it cannot hold", () => {
    const csv = { open: "", separator: ",", close: "\n" };
    assert.throws(() => printFloat32Rows(bits, 0, rows + 1, width, csv), RangeError);
    assert.throws(() => printFloat32Rows(bits, 0, 1, width, { ...csv, separator: ", " }), RangeError);
    assert.throws(() => printFloat32Rows(bits, 0, 1, width, { ...csv, close: "\n".repeat(9) }), RangeError);
    assert.throws(() => printFloat32Rows(bits, 0, 1, width, { ...csv, nonFinite: "ünï" }), RangeError);
  });

  it("appends rows of any width through ByteWriter, wider than a run one value at a time", () => {
    const writer = new ByteWriter(4);
    const layout = { open: "<", separator: " ", close: ">", nonFinite: "x" };
    writer.float32Rows(values.subarray(width), 2, width, layout);
    const wide = values.subarray(0, FLOAT32_RUN + 1);
    writer.float32Rows(wide, 1, wide.length, layout);
    const wideRow = Array.from(wide, (value) => (Number.isFinite(value) ? print(value) : "x")).join(" ");
    assert.equal(decoder.decode(writer.take()), `<${row(1, " ", "x")}><${row(2, " ", "x")}><${wideRow}>`);
    assert.throws(() => writer.float32Rows(wide, 1, wide.length, { ...layout, separator: ", " }), RangeError);
  });
});

describe("the longest float32 texts", () => {
  const longest = [-1e20, -1.2345678e20, -0.0000012345678, -1.2345678e-38, Number.NEGATIVE_INFINITY].map(Math.fround);

  it("fit in MAX_FLOAT32_BYTES", () => {
    assert.equal(print(Math.fround(-1e20)), "-100000000000000000000");
    for (const value of longest) assert.ok(print(value).length <= MAX_FLOAT32_BYTES, print(value));
  });

  it("are written whole where ByteWriter has just MAX_FLOAT32_BYTES left", () => {
    for (const value of longest) {
      const writer = new ByteWriter(64);
      for (let i = writer.length; i < 64 - MAX_FLOAT32_BYTES; i++) writer.byte(0x78);
      writer.float32(value);
      writer.byte(0x0a);
      assert.equal(decoder.decode(writer.take()).slice(64 - MAX_FLOAT32_BYTES), `${print(value)}\n`);
    }
  });

  it("are written whole by runs of one-value rows, whatever the layout's lengths", () => {
    const bits = new Uint32Array(new Float32Array(FLOAT32_RUN).fill(Math.fround(-1e20)).buffer);
    const layout = { open: "[[[[[[[[", separator: ",", close: "]]]]]]]]" };
    const text = decoder.decode(printFloat32Rows(bits, 0, FLOAT32_RUN, 1, layout));
    assert.equal(text, "[[[[[[[[-100000000000000000000]]]]]]]]".repeat(FLOAT32_RUN));
  });
});

describe("ByteWriter", () => {
  it("grows, writes UTF-8 and hands over what was written", () => {
    const writer = new ByteWriter(4);
    writer.text("a,é");
    writer.float32(0.5);
    writer.byte(0x0a);
    writer.number(2n ** 60n);
    assert.equal(decoder.decode(writer.take()), `a,é0.5\n${2n ** 60n}`);
    assert.equal(writer.length, 0);
  });
});
