import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JsonFramer } from "../codecs/framing/json-framer.js";
import { FramingError } from "../src/errors.js";
import { frameAll, splitAt, splitBySizes } from "./support/chunks.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const frameTexts = (text: string, chunks = [bytes(text)]) => frameAll(new JsonFramer(), chunks).map((f) => f.text);

const framingError = (text: string): FramingError => {
  try {
    frameAll(new JsonFramer(), [bytes(text)]);
  } catch (error) {
    if (error instanceof FramingError) return error;
    throw error;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
};

describe("JSON framing", () => {
  it("makes one frame of a flat array, an object, or a number", () => {
    assert.deepEqual(frameTexts(" [1, 2.5, -3] "), ["[1, 2.5, -3]"]);
    assert.deepEqual(frameTexts('{"a": [1, 2], "b": {"c": "]}"}}'), ['{"a": [1, 2], "b": {"c": "]}"}}']);
    assert.deepEqual(frameTexts("42"), ["42"]);
  });

  it("streams the elements of a top-level array of records", () => {
    assert.deepEqual(frameTexts('[[1,2], {"x": [3]} ,\n [4,5]]'), ["[1,2]", '{"x": [3]}', "[4,5]"]);
    assert.deepEqual(frameTexts("[]"), []);
    assert.deepEqual(frameTexts("[ ]\n"), []);
  });

  it("streams the elements of `instances`, whatever keys come before or after it", () => {
    assert.deepEqual(frameTexts('{"instances": [[1], [2]]}'), ["[1]", "[2]"]);
    assert.deepEqual(frameTexts('{"signature_name": "serving", "instances": [[1], {"f": "a\\"]"}], "tail": [[9]]}'), [
      "[1]",
      '{"f": "a\\"]"}',
    ]);
    // A key that merely starts with, or contains, "instances" is not it.
    assert.deepEqual(frameTexts('{"instances_x": [[1]]}'), ['{"instances_x": [[1]]}']);
    assert.deepEqual(frameTexts('{"a": {"instances": [[1]]}}'), ['{"a": {"instances": [[1]]}}']);
    // The value of a key named like it is a string, not a key.
    assert.deepEqual(frameTexts('{"k": "instances", "v": [1]}'), ['{"k": "instances", "v": [1]}']);
  });

  it("reads several values one per line (a Line split under application/json)", () => {
    const frames = frameAll(new JsonFramer(), [bytes('[1,2]\n{"features": [3,4]}\r\n\n[[5,6],[7,8]]\n9\n')]);
    assert.deepEqual(
      frames.map((f) => [f.text, f.line, f.byteOffset]),
      [
        ["[1,2]", 1, 0],
        ['{"features": [3,4]}', 2, 6],
        ["[5,6]", 4, 29],
        ["[7,8]", 4, 35],
        ["9", 5, 42],
      ],
    );
  });

  it("finds the same frames wherever the body is split", () => {
    const body = bytes(
      '\ufeff{"meta": "x", "instances": [[1, 2], {"a": [3], "s": "q\\"[{"}, 7]}\n[1,2]\n"str"\n{"inputs": {"a": [[1]]}}\n12.5e3',
    );
    const expected = frameAll(new JsonFramer(), [body]);
    assert.deepEqual(
      expected.map((f) => f.text),
      ["[1, 2]", '{"a": [3], "s": "q\\"[{"}', "7", "[1,2]", '"str"', '{"inputs": {"a": [[1]]}}', "12.5e3"],
    );
    for (let at = 0; at <= body.length; at++) {
      assert.deepEqual(frameAll(new JsonFramer(), splitAt(body, at)), expected, `split at ${at}`);
    }
    for (let size = 1; size <= 7; size++) {
      assert.deepEqual(frameAll(new JsonFramer(), splitBySizes(body, [size])), expected, `chunks of ${size}`);
    }
    assert.deepEqual(frameAll(new JsonFramer(), splitBySizes(body, [1, 7, 2, 5, 3])), expected);
  });

  it("frames chunks in shared memory at any alignment, and chunks too large for the SIMD scanner, alike", () => {
    // Records with strings, nesting and line breaks, ~370 KB: more than the scanner's 256 KiB.
    const records = Array.from({ length: 9000 }, (_, i) =>
      i % 3 === 0
        ? `[${i}, -${i}.25, 1e-3, ${i * 7}]`
        : i % 3 === 1
          ? `{"id": "r${i} ]}[{\\"", "v": [[${i}], [0.5,\n 2]]}`
          : `"text ${i} with [brackets] and {braces}"`,
    );
    const body = bytes(`{"instances": [${records.join(",\n")}]}`);
    const expected = frameAll(new JsonFramer(), splitBySizes(body, [4096]));
    assert.equal(expected.length, records.length);
    assert.deepEqual(
      expected.map((f) => f.text),
      records,
    );
    assert.deepEqual(frameAll(new JsonFramer(), [body]), expected, "one chunk larger than the scanner holds");
    for (const offset of [0, 1, 3, 5]) {
      const shared = new Uint8Array(new SharedArrayBuffer(body.length + 8), offset, body.length);
      shared.set(body);
      assert.deepEqual(
        frameAll(new JsonFramer(), splitBySizes(shared, [65_536, 999])),
        expected,
        `at offset ${offset}`,
      );
    }
  });

  it("counts the lines inside records, so a pretty-printed body's records start on the right line", () => {
    const body = bytes('{"instances": [\n  [1,\n   2.5,\n   -3],\n  {"a": [4,\n 5]},\n  [6, 7]\n]}\n[8,\n9]\n[10]');
    const expected = frameAll(new JsonFramer(), [body]);
    assert.deepEqual(
      expected.map((f) => [f.text, f.line]),
      [
        ["[1,\n   2.5,\n   -3]", 2],
        ['{"a": [4,\n 5]}', 5],
        ["[6, 7]", 7],
        ["[8,\n9]", 9],
        ["[10]", 11],
      ],
    );
    for (let at = 0; at <= body.length; at++) {
      assert.deepEqual(frameAll(new JsonFramer(), splitAt(body, at)), expected, `split at ${at}`);
    }
  });

  it("tells a batch from one record by nesting depth, wherever the body is split", () => {
    const body = bytes("[ \n [[1,2],[3,4]],\n[[5,6],[7,8]]]\n[[1,2],[3,4]]\n[[[9]]]");
    const expected = frameAll(new JsonFramer(2), [body]);
    assert.deepEqual(
      expected.map((f) => [f.text, f.line, f.byteOffset]),
      [
        ["[[1,2],[3,4]]", 2, 4],
        ["[[5,6],[7,8]]", 3, 19],
        ["[[1,2],[3,4]]", 4, 34],
        ["[[9]]", 5, 49],
      ],
    );
    for (let at = 0; at <= body.length; at++) {
      assert.deepEqual(frameAll(new JsonFramer(2), splitAt(body, at)), expected, `split at ${at}`);
    }
    for (let size = 1; size <= 7; size++) {
      assert.deepEqual(frameAll(new JsonFramer(2), splitBySizes(body, [size])), expected, `chunks of ${size}`);
    }
  });

  it("refuses a body that ends inside a value, naming where the value starts", () => {
    const error = framingError('[1,2]\n{"a": [1, 2]');
    assert.equal(error.code, "JSON_TRUNCATED");
    assert.deepEqual(error.location, { byteOffset: 6, line: 2 });
    assert.equal(framingError('[1, "abc').code, "JSON_TRUNCATED");
    assert.equal(framingError('{"instances": [[1], [2]').code, "JSON_TRUNCATED");
  });

  it("refuses brackets that close nothing and records without commas between them", () => {
    const error = framingError("[1]\n]");
    assert.equal(error.code, "JSON_UNEXPECTED_CHARACTER");
    assert.deepEqual(error.location, { byteOffset: 4, line: 2 });
    assert.equal(framingError("[[1] [2]]").code, "JSON_UNEXPECTED_CHARACTER");
    assert.equal(framingError("[[1],,[2]]").code, "JSON_UNEXPECTED_CHARACTER");
  });
});
