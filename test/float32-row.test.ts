import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { csvCodec } from "../codecs/csv.js";
import { CsvFramer } from "../codecs/framing/csv-framer.js";
import { JsonFramer } from "../codecs/framing/json-framer.js";
import { LineFramer } from "../codecs/framing/line-framer.js";
import { ChunkScanner, placedAt } from "../codecs/framing/simd-scan.js";
import { jsonCodec } from "../codecs/json.js";
import { jsonLinesCodec } from "../codecs/jsonlines.js";
import { Float32RowReader } from "../codecs/text/float32-row.js";
import type { Frame, Framer } from "../src/codec/framing.js";
import { RecordError } from "../src/errors.js";
import { contextFor, decodeBody, signatureOf } from "../src/testing/index.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import { splitBySizes } from "./support/chunks.js";
import { besideFloat32Halfway } from "./support/float32-halfway.js";

const bytes = (text: string) => new TextEncoder().encode(text);

/**
 * Each row of `text` as the WebAssembly reader reads it where the CSV framer lends it, or undefined where
 * it leaves the row to the JavaScript reader; a fresh reader a row, so that one row left does not rest it.
 */
function readRows(
  text: string,
  width: number,
  chunks: readonly Uint8Array[] = [bytes(text)],
): (number[] | undefined)[] {
  const rows: (number[] | undefined)[] = [];
  const values = new Float32Array(width);
  const read = (frame: Frame) => {
    const reader = new Float32RowReader(width);
    rows.push(reader.read(frame.buffer, frame.start, frame.end, values, 0) ? Array.from(values) : undefined);
  };
  const framer = new CsvFramer();
  for (const chunk of chunks) framer.push(chunk, read);
  framer.end(read);
  return rows;
}

/** The value an independent reader gives a field: the nearest double (`Number`), then the nearest float32. */
const expected = (field: string) => Math.fround(Number(field));

/** A float32 from random bits: every exponent, subnormals and ±0 included (NaN and the infinities not). */
function randomFloat32(random: () => number): number {
  const view = new DataView(new ArrayBuffer(4));
  for (;;) {
    view.setUint32(0, Math.floor(random() * 2 ** 32));
    const value = view.getFloat32(0);
    if (Number.isFinite(value)) return value;
  }
}

describe("the float32 row reader (WebAssembly)", () => {
  it("reads every value as the nearest double then float32 would, in each way numbers are printed", () => {
    const random = seededRandom(71);
    const spellings: ((value: number) => string)[] = [
      String,
      (value) => value.toPrecision(17),
      (value) => value.toPrecision(19),
      (value) => value.toExponential(Math.floor(random() * 12)),
      (value) => value.toFixed(Math.floor(random() * 9)),
      (value) => Number(value.toFixed(2)).toString(),
    ];
    let readHere = 0;
    let rowsTried = 0;
    for (let round = 0; round < 3000; round++) {
      const spell = spellings[round % spellings.length];
      const values = Array.from({ length: 8 }, (_, j) => {
        if (j === 0) return randomFloat32(random);
        const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        return j === 1 ? Math.fround(normal * 1e-6) : normal * 10 ** Math.floor(random() * 6 - 2);
      });
      const fields = values.map((value) => (Math.abs(value) < 1e21 || spell === String ? spell(value) : String(value)));
      const [row] = readRows(`${fields.join(",")}\n`, fields.length);
      rowsTried++;
      if (row === undefined) continue;
      readHere++;
      for (const [j, field] of fields.entries()) assert.ok(Object.is(row[j], expected(field)), `${field}: ${row[j]}`);
    }
    // Most rows are read here (85%); those left hold a field past its reach (20 significant digits, 10^-45).
    assert.ok(readHere > 0.75 * rowsTried, `${readHere} of ${rowsTried}`);
  });

  it("reads the plain forms of CSV files itself: signs, −0, leading zeros, bare dots, exponents, 19 digits", () => {
    const cases: [string, number[]][] = [
      ["1,-2.5,0.25,7", [1, -2.5, 0.25, 7]],
      ["-0,0,-0.0,00", [-0, 0, -0, 0]],
      ["007.50,.5,5.,-.25", [7.5, 0.5, 5, -0.25]],
      ["1e3,2.5E-3,-4.6348195085252013e-07,1e+0005", []],
      ["0.16639494895935059,-0.0076924496575098734,1234567890123456789,0.0000000000000000000012", []],
      // Mantissas of 2⁶³ and more, which a signed conversion to a double would get wrong.
      ["9999999999999999999,9.223372036854775808,-0.9999999999999999999,922337203685477580.7", []],
    ];
    for (const [text, values] of cases) {
      const fields = text.split(",");
      const [row] = readRows(`${text}\r\n`, fields.length);
      assert.ok(row, text);
      assert.deepEqual(row, values.length > 0 ? values : fields.map(expected), text);
      for (const [j, field] of fields.entries()) assert.ok(Object.is(row[j], expected(field)), field);
    }
  });

  it("reads decimals beside halfway between two float32s right, or leaves them", () => {
    const random = seededRandom(5);
    for (let i = 0; i < 20_000; i++) {
      // Down to 10^-30, printed with an exponent: below 10^-22 the scale takes two divisions.
      const magnitude = Math.fround(10 ** (random() * 36 - 30));
      const field = besideFloat32Halfway(magnitude, Math.floor(random() * 7) - 3).toPrecision(9 + (i % 11));
      const [row] = readRows(`${field},1\n`, 2);
      if (row) assert.ok(Object.is(row[0], expected(field)), field);
    }
  });

  it("reads rows of long numbers eight digits at a time, to the values it reads one digit at a time", () => {
    // A row averaging 12 bytes a value or more is read through the entry point for long numbers.
    const long = "0.12345678901234567";
    const random = seededRandom(29);
    const digits = (count: number) => Array.from({ length: count }, () => Math.floor(random() * 10)).join("");
    const inside = (jsonNumbers: boolean, text: string) => {
      let row: number[] | undefined;
      const values = new Float32Array(4);
      new LineFramer().push(bytes(`[${text}]\n`), (frame) => {
        const reader = new Float32RowReader(4, { jsonNumbers });
        row = reader.read(frame.buffer, frame.start + 1, frame.end - 1, values, 0) ? Array.from(values) : undefined;
      });
      return row;
    };
    let readLong = 0;
    for (let i = 0; i < 6000; i++) {
      const sign = random() < 0.4 ? "-" : "";
      const whole = digits(Math.floor(random() * 4));
      const fraction = random() < 0.1 ? "" : `.${digits(Math.floor(random() * 25))}`;
      const exponent = random() < 0.15 ? `e${random() < 0.5 ? "-" : ""}${Math.floor(random() * 30)}` : "";
      const field = `${sign}${whole}${fraction}${exponent}`;
      for (const jsonNumbers of [false, true]) {
        const shortRow = inside(jsonNumbers, `${field},1,2,3`);
        const longRow = inside(jsonNumbers, `${field},${long},${long},${long}`);
        assert.deepEqual(longRow?.[0], shortRow?.[0], `${field} (JSON: ${jsonNumbers})`);
        if (longRow === undefined) continue;
        readLong++;
        assert.ok(Object.is(longRow[0], expected(field)), field);
        assert.deepEqual(longRow.slice(1), Array(3).fill(expected(long)));
      }
    }
    assert.ok(readLong > 6000, `${readLong} long rows read`);
  });

  it("leaves every row holding anything but plain numbers to the JavaScript reader", () => {
    for (const text of [
      '"1.5",2',
      "1.5, 2",
      " 1.5,2",
      "1.5 ,2",
      "1.5,",
      ",2",
      "nan,2",
      "inf,2",
      "+1,2",
      "1e,2",
      "1e+,2",
      "1e23,2",
      "1e-45,2",
      "1e00001,2",
      "--1,2",
      "-,2",
      ".,2",
      "1.2.3,2",
      "0x10,2",
      // Bytes past ASCII among digits, in the eight a long number's fraction is read by.
      "1.2345678é9,2",
      "1.234567\u00ff89,2",
      "12345678901234567890,2",
      "0.00000000000000000000012,2",
      "1,2,3",
      "1",
    ]) {
      assert.deepEqual(readRows(`${text}\n`, 2), [undefined], text);
      // And in rows of long numbers, which are read eight digits at a time.
      const long = "0.12345678901234567,-1.2345678901234567,0.0012345678901234567";
      assert.deepEqual(readRows(`${long},${text}\n`, 5), [undefined], `${long},${text}`);
    }
    const longRow = "0.12345678901234567,-1.2345678901234567,0.0012345678901234567,1.5,2";
    assert.deepEqual(readRows(`${longRow}\n`, 5), [longRow.split(",").map(expected)]);
  });

  it("reads only rows that lie in a chunk the framer lends, and only while it does", () => {
    const reader = new Float32RowReader(2);
    const values = new Float32Array(2);
    const chunk = bytes("1.5,2\n");
    // Not lent: a row handed over outside a framer, or a copy of one.
    assert.equal(reader.read(chunk, 0, 5, values, 0), false);
    let lent: Uint8Array | undefined;
    const framer = new CsvFramer();
    framer.push(chunk, (frame) => {
      lent = frame.buffer;
      assert.ok(placedAt(frame.buffer) >= 0);
      assert.equal(placedAt(frame.buffer.slice()), -1);
      // Another scanner's chunk put in the memory (a framer inside a frame callback) ends the loan.
      new ChunkScanner().load(bytes("3,4\n"));
      assert.equal(placedAt(frame.buffer), -1);
      assert.equal(reader.read(frame.buffer, frame.start, frame.end, values, 0), false);
    });
    assert.ok(lent);
    assert.equal(placedAt(lent), -1, "released when the framer returns");
  });

  it("is lent the chunk by each framer that scans it, only while it frames it, even when a decoder throws", () => {
    const framers: [string, () => Framer, string][] = [
      ["CSV", () => new CsvFramer(), "1.5,2\n"],
      ["JSON Lines", () => new LineFramer(), "[1.5,2]\n"],
      ["JSON", () => new JsonFramer(), '{"instances":[[1.5,2],[3,4]]}'],
    ];
    for (const [name, framer, text] of framers) {
      let lent: Uint8Array | undefined;
      framer().push(bytes(text), (frame) => {
        lent = frame.buffer;
        assert.ok(placedAt(frame.buffer) >= 0, name);
      });
      assert.ok(lent, name);
      assert.equal(placedAt(lent), -1, `${name}: released when the framer returns`);
      assert.throws(() =>
        framer().push(bytes(text), (frame) => {
          lent = frame.buffer;
          throw new Error("a decoder's bug");
        }),
      );
      assert.equal(placedAt(lent), -1, `${name}: released even when a frame's decoder throws`);
    }
  });

  it("leaves 63 rows to the JavaScript reader after one it could not read, then tries again", () => {
    const reader = new Float32RowReader(2);
    const values = new Float32Array(2);
    const read: boolean[] = [];
    const text = `1e999,2\n${"1.5,2\n".repeat(70)}`;
    new CsvFramer().push(bytes(text), (frame) => {
      read.push(reader.read(frame.buffer, frame.start, frame.end, values, 0));
    });
    assert.deepEqual(
      read.map((row, i) => (row ? i : -1)).filter((i) => i >= 0),
      Array.from({ length: 71 - 64 }, (_, i) => 64 + i),
    );
  });

  it("reads a JSON array's inside only where its numbers are spelt as JSON spells them", () => {
    /** Each line's inside, `[` and `]` left out, as the reader reads it where the line framer lends it. */
    const readInsides = (text: string, jsonNumbers: boolean) => {
      const rows: (number[] | undefined)[] = [];
      const values = new Float32Array(2);
      new LineFramer().push(bytes(text), (frame) => {
        const reader = new Float32RowReader(2, { jsonNumbers });
        const read = reader.read(frame.buffer, frame.start + 1, frame.end - 1, values, 0);
        rows.push(read ? Array.from(values) : undefined);
      });
      return rows;
    };
    const good = ["0,-0", "0.5,10", "1e5,-1.5E-3", "-0.0,2e+01", "1234567890123456789,0"];
    const goodText = good.map((inside) => `[${inside}]\n`).join("");
    assert.deepEqual(
      readInsides(goodText, true),
      good.map((inside) => (JSON.parse(`[${inside}]`) as number[]).map(Math.fround)),
    );
    const notJson = [".5", "5.", "05", "-.5", "-05", "00", "1.e5", "007.50"];
    const notJsonText = notJson.map((value) => `[${value},1]\n`).join("");
    assert.deepEqual(
      readInsides(notJsonText, true),
      notJson.map(() => undefined),
    );
    // The same insides are numbers to CSV, which the reader reads when not told they are JSON.
    assert.deepEqual(
      readInsides(notJsonText, false),
      notJson.map((value) => [Number(value), 1]),
    );
    // Through the codec, each in a body of good lines before it, lent whole: refused at its line, as
    // `JSON.parse` refuses it, while the lines before it decode alone.
    const signature = signatureOf({ x: ["float32", 2] });
    const decode = (text: string) =>
      decodeBody(jsonLinesCodec, contextFor(signature, "application/jsonlines"), [bytes(text)]);
    const before = "[0.5,-1.25]\n".repeat(3);
    assert.deepEqual(
      decode(before),
      Array.from({ length: 3 }, () => [[0.5, -1.25]]),
    );
    for (const value of notJson) {
      assert.throws(() => decode(`${before}[${value},1]\n`), RecordError, value);
    }
    // And a JSON document's records, which its framer lends as the line framer does.
    const decodeDocument = (rows: readonly string[]) =>
      decodeBody(jsonCodec, contextFor(signature, "application/json"), [bytes(`{"instances":[${rows.join(",")}]}`)]);
    const beforeRows = Array.from({ length: 3 }, () => "[0.5,-1.25]");
    assert.deepEqual(
      decodeDocument(beforeRows),
      Array.from({ length: 3 }, () => [[0.5, -1.25]]),
    );
    for (const value of notJson) {
      assert.throws(() => decodeDocument([...beforeRows, `[${value},1]`]), RecordError, value);
    }
  });

  it("gives the CSV codec the same records whatever the split, as rows straddling chunks go the other way", () => {
    const random = seededRandom(17);
    const lines = Array.from({ length: 300 }, (_, r) =>
      Array.from({ length: 6 }, () => {
        const value = (random() - 0.5) * 10 ** Math.floor(random() * 4);
        return r % 50 === 7 ? value.toExponential(3) : String(Number(value.toFixed(3)));
      }).join(","),
    );
    const body = bytes(`${lines.join("\n")}\n`);
    const signature = signatureOf({ x: ["float32", 6] });
    const whole = decodeBody(csvCodec, contextFor(signature, "text/csv"), [body]);
    assert.equal(whole.length, lines.length);
    for (const [r, line] of lines.entries()) assert.deepEqual(whole[r], [line.split(",").map(expected)], line);
    for (const sizes of [[1], [7, 64], [97], [1000, 13], [4096]]) {
      const split = decodeBody(csvCodec, contextFor(signature, "text/csv"), splitBySizes(body, sizes));
      assert.deepEqual(split, whole, `sizes ${sizes}`);
    }
  });
});
