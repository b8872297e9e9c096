import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CsvFramer } from "../codecs/framing/csv-framer.js";
import { JsonFramer } from "../codecs/framing/json-framer.js";
import type { Frame } from "../src/codec/framing.js";
import { FramingError } from "../src/errors.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import { frameAll, splitAt, splitBySizes } from "./support/chunks.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("CsvFramer", () => {
  const body = 'a,b\r\n"x\n""y""",2\n\n  \nlast,"q,r"';
  const expected = [
    { text: "a,b", byteOffset: 0, line: 1 },
    { text: '"x\n""y""",2', byteOffset: 5, line: 2 },
    { text: 'last,"q,r"', byteOffset: 21, line: 6 },
  ];

  it("frames RFC 4180 records: CRLF, quoted newlines and quotes, blank lines skipped, no final newline", () => {
    const frames = frameAll(new CsvFramer(), [bytes(body)]);
    assert.deepEqual(
      frames.map(({ text, byteOffset, line }) => ({ text, byteOffset, line })),
      expected,
    );
  });

  it("gives the same frames whatever byte the body is split at", () => {
    const whole = bytes(body);
    for (let at = 0; at <= whole.length; at++) {
      const frames = frameAll(new CsvFramer(), splitAt(whole, at));
      assert.deepEqual(
        frames.map(({ text, byteOffset, line }) => ({ text, byteOffset, line })),
        expected,
        `split at ${at}`,
      );
    }
  });

  it("gives the same frames when fed one byte (or a few) at a time", () => {
    const whole = bytes(body);
    for (const sizes of [[1], [2], [3, 1], [7, 5, 1]]) {
      const frames = frameAll(new CsvFramer(), splitBySizes(whole, sizes));
      assert.deepEqual(
        frames.map(({ text }) => text),
        expected.map(({ text }) => text),
      );
    }
  });

  it("does not emit an empty frame for a trailing newline", () => {
    assert.deepEqual(
      frameAll(new CsvFramer(), [bytes("1,2\n3,4\n")]).map((f) => f.text),
      ["1,2", "3,4"],
    );
  });

  it("refuses a quote that is never closed, with its offset and line", () => {
    const framer = new CsvFramer();
    assert.throws(
      () => frameAll(framer, [bytes('1,2\n3,"4\n5,6\n')]),
      (error: unknown) =>
        error instanceof FramingError &&
        error.code === "CSV_QUOTE_NOT_CLOSED" &&
        error.location.byteOffset === 6 &&
        error.location.line === 2,
    );
  });

  it("frames short lines (found by the SIMD scanner) and long ones (by memchr) alike, in shared memory too", () => {
    // Short rows, then rows of ~3 KB, then short rows again, with quoted line breaks and CRLF among them.
    const rows = Array.from({ length: 4000 }, (_, i) => {
      const width = i >= 1000 && i < 1400 ? 600 : 4;
      const fields = Array.from({ length: width }, (_, k) => `${(i * 7 + k) % 1000}.25`);
      if (i % 97 === 0) fields.push('"a\nb"');
      return fields.join(",");
    });
    const text = rows.map((row, i) => (i % 5 === 0 ? `${row}\r\n` : `${row}\n`)).join("");
    const whole = bytes(text);
    const expected = frameAll(new CsvFramer(), splitBySizes(whole, [65_536]));
    assert.deepEqual(
      expected.map((frame) => frame.text),
      rows,
    );
    for (const offset of [0, 3, 5]) {
      const shared = new Uint8Array(new SharedArrayBuffer(whole.length + 8), offset, whole.length);
      shared.set(whole);
      for (const sizes of [[65_536], [4096, 999], [whole.length]]) {
        assert.deepEqual(frameAll(new CsvFramer(), splitBySizes(shared, sizes)), expected, `${offset} ${sizes}`);
      }
    }
  });

  it("frames records of quoted fields (line feeds, commas and doubled quotes inside) as RFC 4180 reads them, however split", () => {
    const random = seededRandom(41);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
    const field = () =>
      pick([
        () => String(Math.round(random() * 1000) / 100),
        () => `"${Math.round(random() * 1000) / 100}"`,
        () => `"${pick(["a,b", "x\ny", 'say ""hi""', "", "p\r\nq", "\n"])}"`,
        () => '""',
        () => "",
      ])();
    const records = Array.from({ length: 3000 }, (_, i) => {
      // Mostly short records (found by the SIMD scanner), a run of ~4 KB ones (by walking the bytes).
      const width = i >= 1500 && i < 1700 ? 500 : 1 + Math.floor(random() * 8);
      return Array.from({ length: width }, field).join(",");
    });
    const text = records.map((record, i) => `${record}${i % 7 === 0 ? "\r\n" : "\n"}`).join("");
    // The reference: walk the text once, as RFC 4180 reads it.
    const expected: { text: string; byteOffset: number; line: number }[] = [];
    const whole = bytes(text);
    let inQuotes = false;
    let start = 0;
    let lineFeeds = 0;
    let startLine = 1;
    for (let i = 0; i < whole.length; i++) {
      if (whole[i] === 0x22) inQuotes = !inQuotes;
      else if (whole[i] === 0x0a) {
        lineFeeds++;
        if (inQuotes) continue;
        const end = whole[i - 1] === 0x0d ? i - 1 : i;
        const record = new TextDecoder().decode(whole.subarray(start, end));
        if (record.trim() !== "") expected.push({ text: record, byteOffset: start, line: startLine });
        start = i + 1;
        startLine = lineFeeds + 1;
      }
    }
    assert.equal(expected.length, records.filter((record) => record.trim() !== "").length);
    for (const offset of [0, 3]) {
      const shared = new Uint8Array(new SharedArrayBuffer(whole.length + 8), offset, whole.length);
      shared.set(whole);
      for (const body of [whole, shared]) {
        for (const sizes of [[65_536], [4096, 999], [37], [whole.length]]) {
          const frames = frameAll(new CsvFramer(), splitBySizes(body, sizes));
          assert.deepEqual(
            frames.map(({ text, byteOffset, line }) => ({ text, byteOffset, line })),
            expected,
            `${offset} ${sizes}`,
          );
        }
      }
    }
    // A quote left open in the last record is refused where it opened, however the body is split.
    const unclosed = bytes(`${text}1,"2\n3,4\n`);
    const quoteAt = whole.length + 2;
    for (const sizes of [[65_536], [4096, 999], [37]]) {
      assert.throws(
        () => frameAll(new CsvFramer(), splitBySizes(unclosed, sizes)),
        (error: unknown) =>
          error instanceof FramingError &&
          error.code === "CSV_QUOTE_NOT_CLOSED" &&
          error.location.byteOffset === quoteAt &&
          error.location.line === lineFeeds + 1,
        `${sizes}`,
      );
    }
  });

  it("frames right when another framer runs inside its frame callback (a plugin framing a sub-format)", () => {
    // Each outer CSV row carries a JSON document and a CSV table of its own, framed while the outer
    // framer is mid-chunk: both load their chunks into the same SIMD scanner.
    const rows = Array.from({ length: 300 }, (_, i) => `${i},[${i}.5, [${i}], "x]"]|a${i},b\\nc,d${i}`);
    const body = bytes(rows.map((row) => `${row}\n`).join(""));
    const outer: string[] = [];
    const inner: string[] = [];
    const framer = new CsvFramer();
    const emit = (frame: Frame) => {
      const text = new TextDecoder().decode(frame.bytes);
      outer.push(text);
      const [json, table] = text.slice(text.indexOf(",") + 1).split("|");
      // Line feeds over the whole of the scanner's memory that the outer chunk used.
      const padded = `{"instances": [${json}]}${"\n".repeat(5000)}`;
      inner.push(...frameAll(new JsonFramer(), [bytes(padded)]).map((f) => f.text));
      inner.push(...frameAll(new CsvFramer(), [bytes(table.replace("\\n", "\n"))]).map((f) => f.text));
    };
    for (const chunk of splitBySizes(body, [4096])) framer.push(chunk, emit);
    framer.end(emit);
    assert.deepEqual(outer, rows);
    assert.deepEqual(
      inner,
      rows.flatMap((_, i) => [`[${i}.5, [${i}], "x]"]`, `a${i},b`, `c,d${i}`]),
    );
  });

  it("frames a large body with many records per chunk in linear time", () => {
    const row = "0.5,0.25,0.125,1\n";
    const whole = bytes(row.repeat(200_000));
    const frames = frameAll(new CsvFramer(), splitBySizes(whole, [65536]));
    assert.equal(frames.length, 200_000);
    assert.equal(frames[199_999].line, 200_000);
    assert.equal(frames[199_999].byteOffset, row.length * 199_999);
  });
});
