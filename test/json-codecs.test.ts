import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LineFramer } from "../codecs/framing/line-framer.js";
import { jsonCodec } from "../codecs/json.js";
import { jsonLinesCodec } from "../codecs/jsonlines.js";
import type { Codec } from "../src/codec/codec.js";
import type { OutputBatch } from "../src/codec/record-codec.js";
import { RecordError } from "../src/errors.js";
import type { ModelSignature, TensorSpec } from "../src/model/signature.js";
import { contextFor, decodeBody, signatureOf } from "../src/testing/index.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import { frameAll, splitAt, splitBySizes } from "./support/chunks.js";
import { besideFloat32Halfway } from "./support/float32-halfway.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const twoInputs = signatureOf({ a: ["float32", 2], b: ["float32", 3] });
const decodeJson = (text: string, signature: ModelSignature = twoInputs, codec: Codec = jsonCodec) =>
  decodeBody(codec, contextFor(signature, codec.mediaTypes[0]), [bytes(text)]);

const decodeError = (text: string, signature: ModelSignature = twoInputs, codec: Codec = jsonCodec): RecordError => {
  try {
    decodeJson(text, signature, codec);
  } catch (error) {
    if (error instanceof RecordError) return error;
    throw error;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
};

const ab = (first: number) => [
  [first, first + 1],
  [first + 2, first + 3, first + 4],
];

describe("JSON record decoding", () => {
  it("reads every record form into the model's inputs", () => {
    assert.deepEqual(decodeJson("[1,2,3,4,5]"), [ab(1)]);
    assert.deepEqual(decodeJson("[[1,2,3,4,5],[2,3,4,5,6]]\n"), [ab(1), ab(2)]);
    assert.deepEqual(decodeJson('{"a": [1, 2], "b": [3, 4, 5], "id": "extra keys are ignored"}'), [ab(1)]);
    assert.deepEqual(decodeJson('{"features": [1, 2, 3, 4, 5]}'), [ab(1)]);
    assert.deepEqual(decodeJson('{"instances": [[1,2,3,4,5], {"a": [2,3], "b": [[4],[5],[6]]}]}'), [ab(1), ab(2)]);
    assert.deepEqual(decodeJson('{"inputs": {"a": [[1,2],[2,3]], "b": [[3,4,5],[4,5,6]]}}'), [ab(1), ab(2)]);
    assert.deepEqual(decodeJson('{"inputs": [[1,2,3,4,5], {"features": [2,3,4,5,6]}]}'), [ab(1), ab(2)]);
    assert.deepEqual(decodeJson("7", signatureOf({ x: ["float32", 1] })), [[[7]]]);
  });

  it("reads a top-level array as a batch only when it is nested deeper than one record", () => {
    const image = signatureOf({ pixels: ["float32", 4] });
    const imageSignature = { ...image, inputs: [{ ...image.inputs[0], recordShape: [2, 2] }] };
    assert.deepEqual(decodeJson("[[1,2],[3,4]]", imageSignature), [[[1, 2, 3, 4]]]);
    assert.deepEqual(decodeJson("[[[1,2],[3,4]], [[5,6],[7,8]]]", imageSignature), [[[1, 2, 3, 4]], [[5, 6, 7, 8]]]);
    assert.deepEqual(decodeJson('{"instances": [[1,2,3,4], [[5,6],[7,8]]]}', imageSignature), [
      [[1, 2, 3, 4]],
      [[5, 6, 7, 8]],
    ]);
  });

  it("reads JSON numbers exactly as JSON.parse does", () => {
    const single = signatureOf({ x: ["float64", 6] });
    const text = "[0.1, -2.5e-3, 1E+2, 123456789.123456789, 5e-324, 1.7976931348623157e308]";
    assert.deepEqual(decodeJson(text, single), [[JSON.parse(text)]]);
  });

  it("reads flat arrays of any number spelling as JSON.parse and a float32 or float64 store do, with or without spaces", () => {
    for (const spaces of [true, false]) checkNumberSpellings(spaces, false);
  });

  it('reads {"features": [...]} arrays of any number spelling as JSON.parse and a float32 or float64 store do', () => {
    for (const spaces of [true, false]) checkNumberSpellings(spaces, true);
  });

  /**
   * Width-6 arrays of random spellings, with a space or none around each value (or no space at all), bare
   * or as `{"features": [...]}` (`underFeatures`).
   */
  function checkNumberSpellings(spaces: boolean, underFeatures: boolean): void {
    const random = seededRandom(17);
    const width = 6;
    const spell = (value: number) => {
      const form = Math.floor(random() * 7);
      if (form === 6) return String(besideFloat32Halfway(value, Math.floor(random() * 7) - 3));
      if (form === 0) return String(value);
      if (form === 1) return value.toFixed(Math.floor(random() * 8));
      if (form === 2) return value.toExponential(Math.floor(random() * 17));
      if (form === 3) return String(Math.round(value));
      if (form === 4) return value.toPrecision(17);
      return random() < 0.5 ? "-0" : "0.000";
    };
    const space = () => (spaces ? " ".repeat(Math.floor(random() * 2)) : "");
    const lines = Array.from({ length: 400 }, () => {
      const values = Array.from({ length: width }, () => spell((random() - 0.5) * 10 ** Math.floor(random() * 12 - 4)));
      const array = `${space()}[${values.map((v) => `${space()}${v}${space()}`).join(",")}]${space()}`;
      return underFeatures ? `${space()}{${space()}"features"${space()}:${array}}${space()}` : array;
    });
    const signatures = [
      signatureOf({ x: ["float64", width] }),
      signatureOf({ x: ["float32", width] }),
      signatureOf({ a: ["float32", 1], b: ["float64", 3], c: ["float32", 2] }),
    ];
    for (const signature of signatures) {
      const decoded = decodeJson(lines.join("\n"), signature, jsonLinesCodec);
      const expected = lines.map((line) => {
        const parsed = JSON.parse(line) as number[] | { features: number[] };
        const values = Array.isArray(parsed) ? parsed : parsed.features;
        let offset = 0;
        return signature.inputs.map((input) => {
          const own = values.slice(offset, offset + input.width);
          offset += input.width;
          return own.map(input.type === "float32" ? Math.fround : (value) => value);
        });
      });
      const types = signature.inputs.map((input) => input.type).join();
      assert.deepEqual(decoded, expected, `${types}, spaces: ${spaces}, under "features": ${underFeatures}`);
    }
  }

  it("reads rows the quick path leaves (spaces, nesting, nulls, exponents) into the record it began", () => {
    const signature = signatureOf({ x: ["float32", 4] });
    const rows = [
      "[1,2,3,4]",
      "[1, 2, 3, 4]",
      "[[1,2],[3,4]]",
      '{"features":[1,2,3,4]}',
      "[1e0,2E0,0.3e1,4]",
      "[1,2,3,40000000000000000000000]",
      "[-0,0,0,0]",
      "[1,2,3,4]",
    ];
    const decoded = decodeJson(rows.join("\n"), signature, jsonLinesCodec);
    assert.deepEqual(
      decoded,
      rows.map((row) => [(JSON.parse(row.startsWith("{") ? "[1,2,3,4]" : row) as number[]).flat().map(Math.fround)]),
    );
    assert.ok(Object.is(decoded[6][0][0], -0));
    // The quick path reads rows that are not JSON numbers as the general path does: refused either way.
    for (const bad of [
      "[1,2,3,4,]",
      "[1,2,3]",
      "[1,2,3,4,5]",
      "[1,2,+3,4]",
      "[1,2,3e,4]",
      "[1,,3,4]",
      '[1,2,"3",4]',
      "[1, 2, 3, 4, ]",
      "[1, - 2, 3, 4]",
      "[1, , 3, 4]",
      "[1, 2, +3, 4]",
      "[1, 2, 3]",
    ]) {
      assert.ok(decodeError(bad, signature, jsonLinesCodec) instanceof RecordError, bad);
    }
  });

  it("reads {name: array} records of any spelling as JSON.parse does, in any key order, whatever path reads them", () => {
    const random = seededRandom(29);
    const signature = signatureOf({ a: ["float32", 2], ids: ["int64", 3] });
    const space = () => [" ", "", "\n", "\t", ""][Math.floor(random() * 5)];
    const number = () =>
      [String((random() - 0.5) * 100), (random() * 1e-3).toExponential(3), "-0", String(Math.round(random() * 50))][
        Math.floor(random() * 4)
      ];
    const lines = Array.from({ length: 300 }, () => {
      const a = `${space()}"a"${space()}:${space()}[${space()}${number()}${space()},${space()}${number()}${space()}]`;
      const ids = `${space()}"ids":[${[1, 2, 3].map(() => String(Math.floor(random() * 2 ** 40) - 2 ** 39)).join(`,${space()}`)}]`;
      return `${space()}{${random() < 0.5 ? `${a},${ids}` : `${ids},${a}`}${space()}}${space()}`.replaceAll("\n", " ");
    });
    const expected = lines.map((line) => {
      const record = JSON.parse(line) as { a: number[]; ids: number[] };
      return [record.a.map(Math.fround), record.ids];
    });
    const decoded = decodeJson(lines.join("\n"), signature, jsonLinesCodec);
    assert.deepEqual(decoded, expected);
    assert.ok(decoded.some((record) => Object.is(record[0][0], -0) || Object.is(record[0][1], -0)));
    // Other keys with scalar values, stepped over by the quick path; then forms it leaves to JSON.parse,
    // read the same way: another key's nested value, a key twice (the last wins), an escaped key, nested
    // arrays, a boolean.
    const same = [
      '{"a":[1,2],"ids":[3,4,5],"id":"x"}',
      '{"id": 7, "a": [1, 2], "note": "say \\"hi\\"", "ids": [3, 4, 5], "ok": false, "inputs": null}',
      '{"a":[1,2],"features":-1.5e3,"ids":[3,4,5]}',
      '{"meta":{"x":[1]},"a":[1,2],"ids":[3,4,5]}',
      '{"a":[9,9],"a":[1,2],"ids":[3,4,5]}',
      '{"\\u0061":[1,2],"ids":[3,4,5]}',
      '{"a":[[1],[2]],"ids":[3,4,5]}',
      '{"a":[1,true],"ids":[3,4,5]}',
    ];
    assert.deepEqual(
      decodeJson(same.join("\n"), signature, jsonLinesCodec),
      same.map((line) =>
        line.includes("true")
          ? [
              [1, 1],
              [3, 4, 5],
            ]
          : [
              [1, 2],
              [3, 4, 5],
            ],
      ),
    );
    // And what is not a record of the model is refused, by either path.
    const refused: [string, string][] = [
      ['{"a":[1,2],"ids":[3,4,5],}', "JSON_INVALID"],
      ['{"id":01,"a":[1,2],"ids":[3,4,5]}', "JSON_INVALID"],
      ['{"a":[1,2],"id":"\\q","ids":[3,4,5]}', "JSON_INVALID"],
      ['{"id":7,"a":[1,2]}', "JSON_INPUT_MISSING"],
      ['{"a":[1,2],,"ids":[3,4,5]}', "JSON_INVALID"],
      ['{"a":[1,2] "ids":[3,4,5]}', "JSON_INVALID"],
      ['{"a":[1,2],"ids":[3,4,5]}}', "JSON_INVALID"],
      ['{"a":[1,2]}', "JSON_INPUT_MISSING"],
      ['{"a":[1,2,3],"ids":[3,4,5]}', "JSON_WIDTH_MISMATCH"],
      ['{"a":[1,2],"ids":[3,4]}', "JSON_WIDTH_MISMATCH"],
      ['{"a":[1,2],"ids":[3,4,5.5]}', "JSON_VALUE_NOT_INTEGER"],
      ['{"a":[1,2],"ids":[3,4,1e19]}', "JSON_VALUE_OUT_OF_RANGE"],
      ['{"a":[1,2],"ids":[3,4,+5]}', "JSON_INVALID"],
    ];
    for (const [line, code] of refused) assert.equal(decodeError(line, signature, jsonLinesCodec).code, code, line);
    // JSON.parse's position counts from the record's start, which the message says.
    assert.match(
      decodeError('{"a":[1,2] "ids":[3,4,5]}', signature, jsonLinesCodec).message,
      /^record is not valid JSON: .* at character 11 of the record/,
    );
  });

  it("takes integers, and booleans as 0/1, for integer inputs", () => {
    const ids = signatureOf({ ids: ["int64", 3] });
    assert.deepEqual(decodeJson("[1, -2, 9007199254740991]", ids), [[[1, -2, 9007199254740991]]]);
    assert.deepEqual(decodeJson("[true, false, 1]", signatureOf({ flags: ["bool", 3] })), [[[1, 0, 1]]]);
    // With spaces and without (the one-pass reader's arrays): the same refusal.
    for (const text of ["[1, 2.5, 3]", "[1,2.5,3]"]) {
      const error = decodeError(text, ids);
      assert.equal(error.code, "JSON_VALUE_NOT_INTEGER");
      assert.match(error.message, /value 1 \(2\.5\).*int64/);
    }
    assert.deepEqual(decodeJson("[1,-2,3e2]", ids), [[[1, -2, 300]]]);
  });

  it("refuses a record of the wrong width, naming both widths", () => {
    const error = decodeError("[1,2,3,4]");
    assert.equal(error.code, "JSON_WIDTH_MISMATCH");
    assert.match(error.message, /4 value\(s\); the model takes 5 \(a\[2\] \+ b\[3\]\)/);
    assert.equal(decodeError('{"a": [1,2], "b": [3,4]}').code, "JSON_WIDTH_MISMATCH");
  });

  it("says a flat array of one value too many may start with an id or a label, and only that", () => {
    const hint = /; if the first value is an id or a label, .*InputFilter \$\[1:\]/;
    for (const codec of [jsonCodec, jsonLinesCodec]) {
      assert.match(decodeError("[7,1,2,3,4,5]", twoInputs, codec).message, hint, codec.name);
      // Fewer values, nested arrays, and the array under "features" (which $[1:] would not reach).
      for (const text of ["[1,2,3,4]", "[1,2,3,4,5,6,7]", '{"features": [7,1,2,3,4,5]}', "[[7,1],[2,3,4,5]]"]) {
        assert.doesNotMatch(decodeError(text, twoInputs, codec).message, hint, `${codec.name} ${text}`);
      }
    }
  });

  it("reads null as a missing value (NaN) only in an input that takes them, in every form of record", () => {
    const takesMissing = { acceptsMissing: true } as const;
    const partly = signatureOf({ a: ["float32", 2, takesMissing], b: ["float32", 3] });
    const both = signatureOf({ a: ["float32", 2, takesMissing], b: ["float32", 3, takesMissing] });
    /** A record's five values as the two inputs' arrays, `_` for NaN. */
    const record = (values: string) => {
      const numbers = values.split(" ").map((v) => (v === "_" ? Number.NaN : Number(v)));
      return [numbers.slice(0, 2), numbers.slice(2)];
    };
    // A flat array, spaced or not (the row reader, for a model whose every input takes missing values),
    // an object naming the inputs (JSON's own byte reader), and nested arrays (JSON.parse).
    const cases = [
      ["[null,2,3,4,5]", partly, "_ 2 3 4 5"],
      ["[1, null, 3, 4, 5]", partly, "1 _ 3 4 5"],
      ["[null,2,null,4,null]", both, "_ 2 _ 4 _"],
      ["[null, null, null, null, null]", both, "_ _ _ _ _"],
      ['{"a": [null, 2], "b": [3, 4, 5]}', partly, "_ 2 3 4 5"],
      ['{"b":[null,4,5],"a":[1,null]}', both, "1 _ _ 4 5"],
      ['{"features": [1, null, 3, 4, null]}', both, "1 _ 3 4 _"],
    ] as const;
    for (const [text, signature, values] of cases) {
      for (const codec of [jsonCodec, jsonLinesCodec]) {
        assert.deepEqual(decodeJson(text, signature, codec), [record(values)], `${codec.name}: ${text}`);
      }
    }
    // One record of nested arrays (in a JSON document, an array of arrays is several records).
    assert.deepEqual(decodeJson("[[null, 2], [3, 4, null]]", both, jsonLinesCodec), [record("_ 2 3 4 _")]);
    for (const text of ["[1, 2, null, 4, 5]", '{"a": [1, 2], "b": [3, null, 5]}', '{"features": [1,2,3,4,null]}']) {
      const error = decodeError(text, partly);
      assert.equal(error.code, "JSON_VALUE_NOT_NUMERIC", text);
      assert.match(error.message, /is null, and "b" takes no missing values/, text);
    }
    for (const text of ["[nul,2,3,4,5]", "[nulll,2,3,4,5]", "[-null,2,3,4,5]", '{"a": [1, null2], "b": [3, 4, 5]}']) {
      assert.equal(decodeError(text, both).code, "JSON_INVALID", text);
    }
  });

  it("reads strings for string inputs as JSON.parse does, in every form of record", () => {
    const signature = signatureOf({ a: ["float32", 2], cat: ["string", 2], b: ["float32", 1] });
    const random = seededRandom(59);
    const strings = ["red", "", "ünï", "a,b", 'say "hi"', "tab\there", "line\nbreak", "\u00e9", "\\", "1.5"];
    for (let n = 0; n < 300; n++) {
      const values = [
        Math.round((random() - 0.5) * 1e4) / 100,
        Math.round((random() - 0.5) * 1e4) / 100,
        strings[Math.floor(random() * strings.length)],
        strings[Math.floor(random() * strings.length)],
        Math.round((random() - 0.5) * 1e4) / 100,
      ] as const;
      const [a0, a1, cat0, cat1, b0] = values;
      const expected = [[[a0, a1].map(Math.fround), [cat0, cat1], [Math.fround(b0)]]];
      const spaced = random() < 0.5;
      const json = (value: unknown) => JSON.stringify(value, null, spaced ? 1 : undefined).replaceAll("\n", " ");
      for (const text of [
        json(values),
        json({ features: values }),
        json({ cat: [cat0, cat1], b: [b0], a: [a0, a1] }),
        json({ a: [a0, a1], cat: [cat0, cat1], b: b0 }),
      ]) {
        assert.deepEqual(decodeJson(text, signature, jsonLinesCodec), expected, text);
      }
    }
    assert.equal(decodeError('[1, 2, 3, "x", 4]', signature, jsonLinesCodec).code, "JSON_VALUE_NOT_TEXT");
    assert.equal(decodeError('[1, 2, "x", "y", "z"]', signature, jsonLinesCodec).code, "JSON_VALUE_NOT_NUMERIC");
    assert.equal(decodeError('[1, 2, "x", "y"]', signature, jsonLinesCodec).code, "JSON_WIDTH_MISMATCH");
    assert.equal(decodeError('[1, 2, "x", "y", 3, 4]', signature, jsonLinesCodec).code, "JSON_WIDTH_MISMATCH");
    assert.equal(decodeError('[1, 2, "x\ty", "y", 3]', signature, jsonLinesCodec).code, "JSON_INVALID");
    assert.equal(decodeError('[1, 2, "x", "y, 3]', signature, jsonLinesCodec).code, "JSON_INVALID");
    const invalid = Uint8Array.from([...bytes('[1, 2, "'), 0xff, ...bytes('", "y", 3]')]);
    assert.throws(
      () => decodeBody(jsonLinesCodec, contextFor(signature, "application/jsonlines"), [invalid]),
      (error: unknown) => error instanceof RecordError && error.code === "INVALID_UTF8",
    );
  });

  it("reads a record of one value per input (as pandas' to_json writes rows) as the same values in arrays", () => {
    const takesMissing = { acceptsMissing: true } as const;
    const columns = signatureOf({ x: ["float32", 1, takesMissing], colour: ["string", 1], n: ["int64", 1] });
    const random = seededRandom(61);
    const colours = ["red", "", 'say "hi"', "ünï"];
    for (let row = 0; row < 200; row++) {
      const x = random() < 0.2 ? null : Math.round((random() - 0.5) * 1e4) / 100;
      const colour = colours[Math.floor(random() * colours.length)];
      const n = Math.floor((random() - 0.5) * 1e6);
      const expected = [[[x === null ? Number.NaN : Math.fround(x)], [colour], [n]]];
      for (const record of [
        { x, colour, n },
        { n, colour, x },
        { x: [x], colour, n: [n] },
      ]) {
        const text = JSON.stringify(record, null, row % 2 === 0 ? 1 : undefined).replaceAll("\n", " ");
        assert.deepEqual(decodeJson(text, columns, jsonLinesCodec), expected, text);
      }
    }
    for (const [text, code] of [
      ['{"x": 1, "colour": 2, "n": 3}', "JSON_VALUE_NOT_TEXT"],
      ['{"x": "1", "colour": "a", "n": 3}', "JSON_VALUE_NOT_NUMERIC"],
      ['{"x": 1, "colour": "a", "n": 3.5}', "JSON_VALUE_NOT_INTEGER"],
      ['{"x": 1, "colour": "a"}', "JSON_INPUT_MISSING"],
      ['{"x": 1, "colour": "a", "n": 3,}', "JSON_INVALID"],
    ] as const) {
      assert.equal(decodeError(text, columns, jsonLinesCodec).code, code, text);
    }
    // An input of two values takes an array.
    assert.equal(decodeError('{"a": 1, "b": [3, 4, 5]}', twoInputs, jsonLinesCodec).code, "JSON_WIDTH_MISMATCH");
  });

  it("refuses non-numbers, unknown keys and malformed JSON", () => {
    const notNumber = decodeError('[1, 2, "x", 4, 5]');
    assert.equal(notNumber.code, "JSON_VALUE_NOT_NUMERIC");
    assert.match(notNumber.message, /value 2 is "x"/);
    assert.equal(decodeError("[1, 2, null, 4, 5]").code, "JSON_VALUE_NOT_NUMERIC");
    const missing = decodeError('{"a": [1, 2], "c": [3, 4, 5]}');
    assert.equal(missing.code, "JSON_INPUT_MISSING");
    assert.match(missing.message, /no "b"/);
    assert.equal(decodeError("[1, 2, 3, 4, 5,]").code, "JSON_INVALID");
    assert.equal(decodeError('{"instances": 5}').code, "JSON_INSTANCES_NOT_ARRAY");
    // Several records where one belongs: a JSON Lines line, or an element of a batch.
    const several = '{"instances": [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]}';
    for (const [text, codec] of [
      [several, jsonLinesCodec],
      [`[[1, 2, 3, 4, 5], ${several}]`, jsonCodec],
    ] as const) {
      const error = decodeError(text, twoInputs, codec);
      assert.equal(error.code, "JSON_INSTANCES_IN_RECORD", text);
      assert.match(error.message, /a record holds "instances" \(several records\)/);
    }
  });

  it('reads {"features": [...]} as the row, and leaves other objects to the general path with the same meaning', () => {
    const signature = signatureOf({ x: ["float32", 4] });
    const rows = [
      '{"features":[1,2,3,4]}',
      '  { "features" : [ 1 , 2 , 3 , 4 ] }  ',
      '{"features":[1,2,3,4],"id":7}',
      '{"id":7,"features":[1,2,3,4]}',
      '{"id": "a\\"b\\u00e9", "n": -1.5e+3, "ok": true, "features": [1, 2, 3, 4], "no": null, "f": false}',
      '{"id": "ünï", "features": [1,2,3,4]}',
      '{"meta": {"a": [5]}, "features": [1,2,3,4], "tags": ["x]"]}',
      '{"features":[1,2,3,4],"instances":7}',
      '{"feat\\u0075res":[1,2,3,4]}',
      '{"features":[[1,2],[3,4]]}',
      '{"features":[1e0,2,3,4]}',
      '{"features":[-0,2,3,4]}',
    ];
    const decoded = decodeJson(rows.join("\n"), signature, jsonLinesCodec);
    assert.deepEqual(decoded, [...rows.slice(0, -1).map(() => [[1, 2, 3, 4]]), [[-0, 2, 3, 4]]]);
    assert.ok(Object.is(decoded[rows.length - 1][0][0], -0));
    // Refused as the general path refuses them.
    const cases: [string, string][] = [
      ['{"features":[1,2,3]}', "JSON_WIDTH_MISMATCH"],
      ['{"features":[1,2,3,4,5]}', "JSON_WIDTH_MISMATCH"],
      ['{"features":[1,2,"3",4]}', "JSON_VALUE_NOT_NUMERIC"],
      ['{"features":[1,2,3,4]', "JSON_INVALID"],
      ['{"features":[1,2,3,4]]}', "JSON_INVALID"],
      ['{"features":1,2,3,4]}', "JSON_INVALID"],
      ['{"id":12abc,"features":[1,2,3,4]}', "JSON_INVALID"],
      ['{"id":01,"features":[1,2,3,4]}', "JSON_INVALID"],
      ['{"id":tru,"features":[1,2,3,4]}', "JSON_INVALID"],
      ['{"id":"\\u12g4","features":[1,2,3,4]}', "JSON_INVALID"],
      ['{"id":"\\x","features":[1,2,3,4]}', "JSON_INVALID"],
      ['{"id":"a\tb","features":[1,2,3,4]}', "JSON_INVALID"],
      ['{"id":7 "features":[1,2,3,4]}', "JSON_INVALID"],
      ['{"features":[1,2,3,4],"id":7,}', "JSON_INVALID"],
      ['{"features":[1,2,3,4] "id":7}', "JSON_INVALID"],
      // The last "features" is the one JSON.parse keeps.
      ['{"features":[1,2,3,4],"features":[1,2]}', "JSON_WIDTH_MISMATCH"],
      // "inputs" beside it makes the record columnar.
      ['{"inputs":7,"features":[1,2,3,4]}', "JSON_COLUMNS_INVALID"],
    ];
    for (const [bad, code] of cases) {
      const error = decodeError(`[1,2,3,4]\n${bad}\n[1,2,3,4]`, signature, jsonLinesCodec);
      assert.equal(error.code, code, bad);
    }
    // A model of one input reads its name as it reads "features" (skl2onnx names it float_input), with
    // "features" beside it left to the general path, which reads the input's name.
    const onlyInput = signatureOf({ float_input: ["float32", 4] });
    const underName = rows.slice(0, -4).map((row) => row.replaceAll('"features"', '"float_input"'));
    assert.deepEqual(
      decodeJson(
        [...underName, '{"float_input":[1,2,3,4],"features":[5,6,7,8]}'].join("\n"),
        onlyInput,
        jsonLinesCodec,
      ),
      [...underName, ""].map(() => [[1, 2, 3, 4]]),
    );
    for (const [bad, code] of [
      ...cases
        .filter(([row]) => !row.includes('"inputs"'))
        .map(([row, code]) => [row.replaceAll('"features"', '"float_input"'), code]),
      ['{"float_input":[1,2,3,4],"float_input":[1,2]}', "JSON_WIDTH_MISMATCH"],
    ]) {
      const error = decodeError(`[1,2,3,4]\n${bad}\n[1,2,3,4]`, onlyInput, jsonLinesCodec);
      assert.equal(error.code, code, bad);
    }
    // A model with an input named "features" reads the key as that input's values.
    const named = signatureOf({ features: ["float32", 2], b: ["float32", 3] });
    assert.deepEqual(decodeJson('{"features":[1,2],"b":[3,4,5]}', named, jsonLinesCodec), [ab(1)]);
    assert.deepEqual(decodeJson('{"features":[1,2,3,4,5]}', named, jsonLinesCodec), [ab(1)]);
    // A key that names an input: the record names every input, or is read by "features".
    const withId = signatureOf({ id: ["float32", 1], x: ["float32", 4] });
    assert.deepEqual(decodeJson('{"id": 9, "features": [1,2,3,4,5]}', withId, jsonLinesCodec), [[[1], [2, 3, 4, 5]]]);
    assert.deepEqual(decodeJson('{"id": 9, "x": [1,2,3,4], "features": [0]}', withId, jsonLinesCodec), [
      [[9], [1, 2, 3, 4]],
    ]);
    // Invalid UTF-8 in a value stepped over is refused as the general path refuses it.
    const invalid = Uint8Array.from([...bytes('{"id": "'), 0xff, ...bytes('", "features": [1,2,3,4]}\n')]);
    assert.throws(
      () => decodeBody(jsonLinesCodec, contextFor(signature, "application/jsonlines"), [invalid]),
      (error: unknown) => error instanceof RecordError && error.code === "INVALID_UTF8",
    );
  });

  it("checks columnar input whole and names the bad row", () => {
    assert.equal(decodeError('{"inputs": {"a": [[1,2]], "b": [[3,4,5],[6,7,8]]}}').code, "JSON_COLUMNS_INVALID");
    assert.equal(decodeError('{"inputs": {"a": [[1,2]]}}').code, "JSON_COLUMNS_INVALID");
    const badRow = decodeError('{"inputs": {"a": [[1,2],[3]], "b": [[3,4,5],[6,7,8]]}}');
    assert.equal(badRow.code, "JSON_WIDTH_MISMATCH");
    assert.equal(badRow.location.recordIndex, 1);
  });
});

describe("JSON Lines framing (split2)", () => {
  it("makes a frame per non-blank line, with its line number and byte offset", () => {
    const frames = frameAll(new LineFramer(), [bytes('[1]\r\n\n  \n{"é": 2}\n[3]')]);
    assert.deepEqual(
      frames.map((f) => [f.text, f.line, f.byteOffset]),
      [
        ["[1]", 1, 0],
        ['{"é": 2}', 4, 9],
        ["[3]", 5, 19],
      ],
    );
  });

  it("finds the same lines wherever the body is split, multi-byte characters included", () => {
    const body = bytes('[1,2,3,4,5]\n\n{"a":[1,2],"b":[3,4,5],"note":"naïve ✓"}\r\n{"features":[1,2,3,4,5]}');
    const expected = frameAll(new LineFramer(), [body]);
    assert.equal(expected.length, 3);
    for (let at = 0; at <= body.length; at++) {
      assert.deepEqual(frameAll(new LineFramer(), splitAt(body, at)), expected, `split at ${at}`);
    }
    for (let size = 1; size <= 7; size++) {
      assert.deepEqual(frameAll(new LineFramer(), splitBySizes(body, [size])), expected, `chunks of ${size}`);
    }
  });

  it('decodes {"features": [...]} lines wherever the body is split', () => {
    const body = bytes(
      Array.from({ length: 12 }, (_, row) => `{"features":[${row},-${row}.5,${row}e-1,0.125,${row * 1000}]}`).join(
        "\n",
      ),
    );
    const expected = decodeJson(new TextDecoder().decode(body), twoInputs, jsonLinesCodec);
    assert.equal(expected.length, 12);
    assert.deepEqual(expected[3], [[3, -3.5], [0.3, 0.125, 3000].map(Math.fround)]);
    const context = contextFor(twoInputs, jsonLinesCodec.mediaTypes[0]);
    for (let at = 0; at <= body.length; at += 7) {
      assert.deepEqual(decodeBody(jsonLinesCodec, context, splitAt(body, at)), expected, `split at ${at}`);
    }
    for (const size of [1, 3, 64]) {
      assert.deepEqual(decodeBody(jsonLinesCodec, context, splitBySizes(body, [size])), expected, `chunks of ${size}`);
    }
  });

  it("decodes the record forms of JSON, one per line", () => {
    const text = '[1,2,3,4,5]\n{"a":[2,3],"b":[4,5,6]}\n\n{"features":[3,4,5,6,7]}\n';
    assert.deepEqual(decodeJson(text, twoInputs, jsonLinesCodec), [ab(1), ab(2), ab(3)]);
    assert.equal(decodeError("[1,2,3,4,5]\n[1,2", twoInputs, jsonLinesCodec).code, "JSON_INVALID");
  });
});

describe("JSON output", () => {
  const spec = (name: string, recordShape: number[]): TensorSpec => ({
    name,
    type: "float32",
    recordShape,
    width: recordShape.reduce((p, d) => p * d, 1),
  });
  const batchOf = (outputs: [TensorSpec, number[]][], rows: number, errors = new Map()): OutputBatch => ({
    rows,
    firstRecordIndex: 0,
    outputs: outputs.map(([s, data]) => ({ spec: s, width: s.width, data: Float32Array.from(data) })),
    recordErrors: errors,
  });
  const encode = (codec: Codec, batches: OutputBatch[]) => {
    const encoder = codec.output?.createEncoder(contextFor(twoInputs, codec.mediaTypes[0]));
    assert.ok(encoder);
    const parts = [
      encoder.begin(),
      ...batches.map((b) => encoder.encode(b)),
      encoder.end({ records: batches.reduce((n, b) => n + b.rows, 0) }),
    ];
    return parts.map((part) => (typeof part === "string" ? part : new TextDecoder().decode(part))).join("");
  };

  it("writes {predictions} with one entry per record, across batches", () => {
    const probabilities = spec("p", [2]);
    const text = encode(jsonCodec, [
      batchOf([[probabilities, [0.1, 0.9, 0.3, 0.7]]], 2),
      batchOf([[probabilities, [1, 0]]], 1),
    ]);
    assert.equal(text, '{"predictions":[[0.1,0.9],[0.3,0.7],[1,0]]}');
  });

  it("shapes values by the output's record shape and keys several outputs by name", () => {
    const line = encode(jsonLinesCodec, [
      batchOf(
        [
          [spec("score", []), [0.5, 1.5]],
          [spec("grid", [2, 2]), [1, 2, 3, 4, 5, 6, 7, 8]],
        ],
        2,
      ),
    ]);
    assert.equal(line, '{"score":0.5,"grid":[[1,2],[3,4]]}\n{"score":1.5,"grid":[[5,6],[7,8]]}\n');
  });

  it("writes null for values JSON cannot hold, and an error object for a failed record", () => {
    const errors = new Map([[1, new RecordError("JSON_INVALID", "record is not valid JSON")]]);
    const text = encode(jsonLinesCodec, [
      batchOf([[spec("p", [2]), [Number.NaN, Number.POSITIVE_INFINITY, 0, 0]]], 2, errors),
    ]);
    assert.deepEqual(
      text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
      [[null, null], { error: "record is not valid JSON", code: "JSON_INVALID" }],
    );
  });

  it("writes whole batches of one float32 output as the record-by-record path does", () => {
    const values = [0.1, Number.NaN, -0, 1e-45, 3.4028235e38, Number.NEGATIVE_INFINITY];
    for (const [shape, expected] of [
      [[], "0.1\nnull\n-0\n1e-45\n3.4028235e+38\nnull\n"],
      [[2], "[0.1,null]\n[-0,1e-45]\n[3.4028235e+38,null]\n"],
      [[1, 2], "[[0.1,null]]\n[[-0,1e-45]]\n[[3.4028235e+38,null]]\n"],
    ] as const) {
      const output = spec("y", [...shape]);
      const rows = values.length / output.width;
      assert.equal(encode(jsonLinesCodec, [batchOf([[output, values]], rows)]), expected);
      // A failed record sends the batch down the record-by-record path, which must agree.
      const failed = new Map([[rows - 1, new RecordError("JSON_INVALID", "record is not valid JSON")]]);
      const lines = encode(jsonLinesCodec, [batchOf([[output, values]], rows, failed)]).split("\n");
      assert.deepEqual(lines.slice(0, rows - 1), expected.split("\n").slice(0, rows - 1));
    }
  });

  it("separates records across whole batches and record-by-record ones alike", () => {
    const output = spec("p", [2]);
    const failed = new Map([[0, new RecordError("JSON_INVALID", "record is not valid JSON")]]);
    const batches = [
      batchOf([[output, [0.5, Number.NaN, 1, 2]]], 2),
      batchOf([[output, [0, 0, 3, 4]]], 2, failed),
      batchOf([[output, [5, -0]]], 1),
      batchOf([[output, []]], 0),
    ];
    const failure = '{"error":"record is not valid JSON","code":"JSON_INVALID"}';
    assert.equal(encode(jsonCodec, batches), `{"predictions":[[0.5,null],[1,2],${failure},[3,4],[5,-0]]}`);
    assert.equal(encode(jsonLinesCodec, batches), `[0.5,null]\n[1,2]\n${failure}\n[3,4]\n[5,-0]\n`);
  });
});
