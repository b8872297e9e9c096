/**
 * Text answers are written a run of rows at a time by a row plan in WebAssembly when every output is
 * a float, an integer or one of few distinct strings, and record by record otherwise (a batch with a
 * failed record, or too many distinct strings). Both must write the same bytes: these tests encode each
 * batch twice, once whole and once with its first record failed, which sends the others through the
 * record-by-record writers.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { csvCodec } from "../codecs/csv.js";
import { jsonCodec } from "../codecs/json.js";
import { jsonLinesCodec } from "../codecs/jsonlines.js";
import { ByteWriter } from "../codecs/text/byte-writer.js";
import { RowPlan } from "../codecs/text/shortest-float.js";
import type { Codec } from "../src/codec/codec.js";
import type { OutputBatch, OutputTensor } from "../src/codec/record-codec.js";
import { RecordError } from "../src/errors.js";
import type { ElementType, OutputValues, TensorSpec } from "../src/model/signature.js";
import { contextFor, signatureOf } from "../src/testing/index.js";
import { seededRandom } from "../src/testing/seeded-random.js";

const ROWS = 300;
const random = seededRandom(41);
const decoder = new TextDecoder();

function output(
  name: string,
  type: ElementType,
  recordShape: number[],
  data: OutputValues,
  mapKeys?: string[],
): OutputTensor {
  const width = recordShape.reduce((product, dim) => product * dim, 1);
  const spec: TensorSpec = { name, type, recordShape, width, ...(mapKeys ? { mapKeys } : {}) };
  return { spec, width, data };
}

/** Float32s of every kind: random bit patterns, NaN, infinities, −0, subnormals and 22-byte ones. */
function floats(count: number): Float32Array {
  const values = new Float32Array(count);
  const bits = new Uint32Array(values.buffer);
  const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e-45, -1e20, 3, 0.5];
  for (let i = 0; i < count; i++) {
    if (i % 7 === 0) values[i] = special[(i / 7) % special.length];
    else if (i % 3 === 0) values[i] = Math.fround(random());
    else bits[i] = Math.floor(random() * 2 ** 32);
  }
  return values;
}

/**
 * Float64s of every kind: random bit patterns (every exponent), NaN, infinities, −0, the extremes, and
 * the longest texts (25 and 24 bytes).
 */
function doubles(count: number): Float64Array {
  const values = new Float64Array(count);
  const words = new Uint32Array(values.buffer);
  const special = [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    5e-324,
    Number.MAX_VALUE,
    -0.0000012345678901234567,
    -1.2345678901234567e-308,
    -1e20,
    2 ** 53 + 2,
    0.1,
  ];
  for (let i = 0; i < count; i++) {
    if (i % 5 === 0) values[i] = special[(i / 5) % special.length];
    else if (i % 3 === 0) values[i] = random() * 100 - 50;
    else {
      words[2 * i] = Math.floor(random() * 2 ** 32);
      words[2 * i + 1] = Math.floor(random() * 2 ** 32);
    }
  }
  return values;
}

function int64s(count: number): BigInt64Array {
  const extremes = [0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n), 123456789012345n, -42n];
  return BigInt64Array.from({ length: count }, (_, i) =>
    i % 2 === 0 ? extremes[(i / 2) % extremes.length] : BigInt(Math.floor(random() * 2000) - 1000),
  );
}

function uint64s(count: number): BigUint64Array {
  const extremes = [0n, 1n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, 10n ** 19n];
  return BigUint64Array.from({ length: count }, (_, i) =>
    i % 2 === 0 ? extremes[(i / 2) % extremes.length] : BigInt(Math.floor(random() * 2 ** 40)),
  );
}

const ints = <T extends Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array>(
  make: (length: number) => T,
  low: number,
  high: number,
): T => {
  const values = make(ROWS);
  for (let i = 0; i < ROWS; i++) values[i] = i % 5 === 0 ? (i % 2 === 0 ? low : high) : Math.floor(random() * 100) - 50;
  return values;
};

/** The answers to compare: one model's outputs each, all of kinds a row plan prints. */
const MODELS: Record<string, OutputTensor[]> = {
  "one float32 output": [output("y", "float32", [5], floats(ROWS * 5))],
  "a scalar float32": [output("score", "float32", [], floats(ROWS))],
  "float64 outputs (a regressor converted with doubles)": [output("variable", "float64", [3], doubles(ROWS * 3))],
  "uint64 ids and a float32 score": [
    output("id", "uint64", [2], uint64s(ROWS * 2)),
    output("score", "float32", [], floats(ROWS)),
  ],
  "a label and float64 probabilities": [
    output("label", "int64", [], int64s(ROWS)),
    output("probabilities", "float64", [2], doubles(ROWS * 2)),
  ],
  "a label and probabilities (skl2onnx without ZipMap)": [
    output("label", "int64", [1], int64s(ROWS)),
    output("probabilities", "float32", [3], floats(ROWS * 3)),
  ],
  "a label and a ZipMap map": [
    output("label", "int64", [], int64s(ROWS)),
    output("output_probability", "float32", [3], floats(ROWS * 3), ["setosa", "versicolor", "vírginica"]),
  ],
  "string labels that need quoting, and probabilities": [
    output(
      "label",
      "string",
      [1],
      Array.from({ length: ROWS }, (_, i) => ["setosa", "a,b", 'say "hi"', "two\nlines", " edge ", "ünï ✓", ""][i % 7]),
    ),
    output("probabilities", "float32", [2], floats(ROWS * 2)),
  ],
  "more distinct strings than a run's table holds": [
    output(
      "id",
      "string",
      [],
      Array.from({ length: ROWS }, (_, i) => `${"x".repeat(300)}${i}`),
    ),
  ],
  "nested shapes, empty outputs and every integer type": [
    output("grid", "float32", [2, 3], floats(ROWS * 6)),
    output("none", "float32", [0], new Float32Array(0)),
    output("no classes", "float32", [0], new Float32Array(0), []),
    output(
      "i32",
      "int32",
      [],
      ints((n) => new Int32Array(n), -(2 ** 31), 2 ** 31 - 1),
    ),
    output(
      "i16",
      "int16",
      [],
      ints((n) => new Int16Array(n), -(2 ** 15), 2 ** 15 - 1),
    ),
    output(
      "i8",
      "int8",
      [],
      ints((n) => new Int8Array(n), -128, 127),
    ),
    output(
      "u8",
      "uint8",
      [1],
      ints((n) => new Uint8Array(n), 0, 255),
    ),
    output(
      "u16",
      "uint16",
      [1],
      ints((n) => new Uint16Array(n), 0, 65535),
    ),
  ],
};

function encode(codec: Codec, outputs: OutputTensor[], recordErrors: Map<number, RecordError>): string {
  const encoder = codec.output?.createEncoder(contextFor(signatureOf({ x: ["float32", 1] }), codec.mediaTypes[0]));
  assert.ok(encoder);
  const batch: OutputBatch = { rows: ROWS, firstRecordIndex: 0, outputs, recordErrors };
  const parts = [encoder.begin(), encoder.encode(batch), encoder.end({ records: ROWS })];
  return parts.map((part) => (typeof part === "string" ? part : decoder.decode(part))).join("");
}

/** The answer's records as text: lines, or the `predictions` array's entries. */
function records(codec: Codec, answer: string): string[] {
  if (codec !== jsonCodec) return answer.split("\n");
  const predictions: unknown[] = JSON.parse(answer).predictions;
  return predictions.map((prediction) => JSON.stringify(prediction));
}

describe("answers written a run of rows at a time", () => {
  for (const codec of [csvCodec, jsonLinesCodec, jsonCodec]) {
    for (const [model, outputs] of Object.entries(MODELS)) {
      it(`${codec.name}: ${model}: the same bytes as record by record`, () => {
        const whole = records(codec, encode(codec, outputs, new Map()));
        const failed = new RecordError("TEST_FAILURE", "the first record failed");
        const byRecord = records(codec, encode(codec, outputs, new Map([[0, failed]])));
        assert.equal(whole.length, byRecord.length);
        assert.notEqual(whole[0], byRecord[0]);
        for (let row = 1; row < whole.length; row++) assert.equal(whole[row], byRecord[row], `record ${row}`);
      });
    }
  }

  it("spells NaN and infinities as JavaScript does in CSV and as null in JSON", () => {
    const special = [output("y", "float32", [3], Float32Array.of(Number.NaN, Number.NEGATIVE_INFINITY, -0))];
    const one = (codec: Codec) => {
      const encoder = codec.output?.createEncoder(contextFor(signatureOf({ x: ["float32", 1] }), codec.mediaTypes[0]));
      assert.ok(encoder);
      const answer = encoder.encode({ rows: 1, firstRecordIndex: 0, outputs: special, recordErrors: new Map() });
      return typeof answer === "string" ? answer : decoder.decode(answer);
    };
    assert.equal(one(csvCodec), "NaN,-Infinity,-0\n");
    assert.equal(one(jsonLinesCodec), "[null,null,-0]\n");
  });

  it("prints float64 outputs as JavaScript does, but for −0", () => {
    const values = doubles(ROWS * 4);
    const plan = new RowPlan([{ text: "", output: 0, column: 0, count: 4 }], "\n", ",");
    const writer = new ByteWriter();
    assert.ok(writer.planRows(plan, [values], [4], ROWS));
    const expected = Array.from({ length: ROWS }, (_, row) =>
      Array.from(values.subarray(row * 4, row * 4 + 4), (value) => (Object.is(value, -0) ? "-0" : String(value))).join(
        ",",
      ),
    );
    assert.deepEqual(decoder.decode(writer.take()).split("\n").slice(0, -1), expected);
  });

  it("prints uint64 outputs exactly, up to 2^64 − 1", () => {
    const values = uint64s(ROWS);
    const plan = new RowPlan([{ text: "", output: 0, column: 0, count: 1 }], "\n", ",");
    const writer = new ByteWriter();
    assert.ok(writer.planRows(plan, [values], [1], ROWS));
    assert.deepEqual(decoder.decode(writer.take()).split("\n").slice(0, -1), Array.from(values, String));
  });

  it("takes many runs for a large batch, and refuses a plan that reads past an output", () => {
    const width = 700;
    const values = floats(40 * width);
    const plan = new RowPlan([{ text: "<", output: 0, column: 0, count: width }], ">\n", " ");
    const writer = new ByteWriter();
    assert.ok(plan.rowsPerRun([values], [width]) < 40);
    assert.ok(writer.planRows(plan, [values], [width], 40));
    const lines = decoder.decode(writer.take()).split("\n");
    assert.equal(lines.length, 41);
    const reference = new ByteWriter();
    reference.float32Rows(values.subarray(39 * width), 1, width, { open: "<", separator: " ", close: ">" });
    assert.equal(lines[39], decoder.decode(reference.take()));
    const past = new RowPlan([{ text: "", output: 0, column: 1, count: width }], "\n", ",");
    assert.throws(() => past.rowsPerRun([values], [width]), RangeError);
  });
});
