import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { csvCodec } from "../codecs/csv.js";
import { jsonLinesCodec } from "../codecs/jsonlines.js";
import { RecentStrings, recentStrings } from "../codecs/text/recent-strings.js";
import { BatchBufferPool } from "../src/batch-buffer-pool.js";
import { Batcher, type InputBatch } from "../src/batcher.js";
import type { Codec, CodecContext } from "../src/index.js";
import { contextFor, signatureOf } from "../src/testing/index.js";

const encoder = new TextEncoder();

/** Decodes `text` placed at `offset` in a larger buffer, between bytes that are not part of it. */
function decodeAt(strings: RecentStrings, text: string, offset: number): string | undefined {
  const bytes = encoder.encode(text);
  const buffer = new Uint8Array(offset + bytes.length + 3).fill(0x2c);
  buffer.set(bytes, offset);
  return strings.decode(buffer, offset, offset + bytes.length);
}

describe("recent strings", () => {
  it("gives every field its own string, for repeats, prefixes, collisions and long fields alike", () => {
    const strings = new RecentStrings();
    // Few enough to repeat (hits), many enough that slots are shared and overwritten (misses after hits).
    const vocabulary = Array.from({ length: 700 }, (_, i) =>
      i % 7 === 0 ? `é${i}ü` : i % 11 === 0 ? `${"long field ".repeat(4)}${i}` : `c${i.toString(36)}`,
    );
    vocabulary.push("", "r", "re", "red", "redd", "der", "ред", "红");
    let seed = 3;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (let n = 0; n < 50_000; n++) {
      // Mostly a few common values, as a category column holds; sometimes any of them.
      const word = next() % 4 === 0 ? vocabulary[next() % vocabulary.length] : vocabulary[700 + (next() % 8)];
      assert.equal(decodeAt(strings, word, next() % 5), word);
    }
  });

  it("reads a column of ever-new values (ids), then a column of few again, every field right", () => {
    const strings = new RecentStrings();
    const fields = [
      ...Array.from({ length: 100_000 }, (_, i) => `id-${i}`),
      ...Array.from({ length: 100_000 }, (_, i) => ["red", "green", "blue"][i % 3]),
      ...Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? "red" : `id-${i}`)),
    ];
    for (const [n, field] of fields.entries()) assert.equal(decodeAt(strings, field, n % 3), field);
  });

  it("refuses invalid UTF-8 every time, never remembering it, and still reads the valid field after it", () => {
    const strings = new RecentStrings();
    const invalid = Uint8Array.of(0x61, 0xc3, 0x28);
    for (let n = 0; n < 3; n++) {
      assert.equal(strings.decode(invalid, 0, 3), undefined);
      assert.equal(decodeAt(strings, "a", 0), "a");
      assert.equal(strings.decode(Uint8Array.of(0x61, 0xc3, 0xa9), 0, 3), "aé");
    }
    const longInvalid = new Uint8Array(40).fill(0x61);
    longInvalid[39] = 0xff;
    assert.equal(strings.decode(longInvalid, 0, 40), undefined);
  });

  it("is one table per thread, shared by decoders whose records interleave, each record its own strings", () => {
    assert.equal(recentStrings(), recentStrings());
    const signature = signatureOf({ colour: ["string", 1], x: ["float32", 1] });
    // One body's categories collide with the other's in every way the table could confuse them; the
    // second body starts with ids, so that the shared table stops looking for a while in mid-body.
    const colours = ["red", "green", "blue"];
    const others = ["rot", "grün", "red ", "re", "blau"];
    const rows = 12_000;
    const first = Array.from({ length: rows }, (_, i) => colours[i % colours.length]);
    const second = Array.from({ length: rows }, (_, i) => (i < 6000 ? `id-${i}` : others[i % others.length]));
    const csv = decoding(csvCodec, contextFor(signature, "text/csv"));
    const jsonLines = decoding(jsonLinesCodec, contextFor(signature, "application/jsonlines"));
    const otherCsv = decoding(csvCodec, contextFor(signature, "text/csv"));
    for (let i = 0; i < rows; i++) {
      csv.push(`${first[i]},${i}\n`);
      jsonLines.push(`${JSON.stringify({ colour: second[i], x: i })}\n`);
      otherCsv.push(`"${second[i]}",${i}\n`);
    }
    assert.deepEqual(csv.strings(), first);
    assert.deepEqual(jsonLines.strings(), second);
    assert.deepEqual(otherCsv.strings(), second);
  });
});

/** A codec's framer and decoder for one body, fed a line at a time; `strings()`: its first input's values. */
function decoding(codec: Codec, context: CodecContext) {
  const input = codec.input;
  if (!input) throw new Error(`${codec.name} reads nothing`);
  const framer = input.createFramer(context);
  const decoder = input.createDecoder(context);
  const batches: InputBatch[] = [];
  const batcher = new Batcher(
    context.signature,
    1000,
    (batch) => batches.push(batch),
    new BatchBufferPool(context.signature),
    true,
  );
  return {
    push: (line: string) => framer.push(encoder.encode(line), (frame) => decoder.decode(frame, batcher)),
    strings(): string[] {
      batcher.flush();
      return batches.flatMap((batch) => (batch.inputs[0] as string[]).slice(0, batch.rows));
    },
  };
}
