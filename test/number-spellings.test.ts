/**
 * Number spellings, checked against independent readers: bodies of random rows whose fields are spelt
 * the many ways people and tools write numbers (signs, leading zeros, bare dots, exponents of every
 * size, quotes, spaces, 30-digit mantissas) and, among them, ways that are no number (words, hex, stray
 * signs, a non-breaking space). Each body is decoded split at random byte positions and compared value
 * by value with `Number()` of the text (CSV) or `JSON.parse` (JSON, JSON Lines; with the `NaN` and
 * `Infinity` Python's `json.dumps` writes, as its `json.loads` reads them), stored as the input's type
 * stores it. A body with a bad field must be refused at that row: the rows before it decode alone,
 * and with it they do not. No field may be read as another value, whichever path (the row reader, the
 * general one) it takes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import builtinCodecs from "../codecs/index.js";
import type { Codec } from "../src/codec/codec.js";
import { RecordError } from "../src/errors.js";
import { contextFor, type DecodedRecord, decodeBody, signatureOf } from "../src/testing/index.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import { splitBySizes } from "./support/chunks.js";

const WIDTH = 4;
const BODIES = 600;
const encoder = new TextEncoder();

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const digits = (random: Random, count: number) =>
  Array.from({ length: count }, () => Math.floor(random() * 10)).join("");

/** Spellings worth a field of their own: edges of float32 and float64, zeros, specials. */
const EDGE_NUMBERS = [
  "0",
  "-0",
  "-0.0",
  "0e0",
  "-0E-0",
  "1E5",
  "1e-400",
  "1e400",
  "-1e400",
  "123456789012345678901234567890",
  "3.4028235677973366e38",
  "3.4028236e38",
  "1.1754942e-38",
  "1.401298464324817e-45",
  "7.006492321624086e-46",
  "0.000000000000000000000000000000000000000000001401298464324817",
];

/** A number as JSON writes it (and Python, pandas, spreadsheets): every one of these is valid JSON. */
function jsonNumber(random: Random): string {
  if (random() < 0.05) return pick(random, EDGE_NUMBERS);
  let text = random() < 0.5 ? "-" : "";
  text +=
    random() < 0.3
      ? "0"
      : `${1 + Math.floor(random() * 9)}${digits(random, Math.floor(random() * (random() < 0.2 ? 25 : 4)))}`;
  if (random() < 0.7) text += `.${digits(random, 1 + Math.floor(random() * (random() < 0.3 ? 30 : 9)))}`;
  if (random() < 0.2) {
    text += `${pick(random, ["e", "E"])}${pick(random, ["", "-", "+"])}${digits(random, 1 + Math.floor(random() * (random() < 0.1 ? 3 : 2)))}`;
  }
  return text;
}

/** CSV fields that `Number()` reads but JSON does not allow, and fields that are no number at all. */
const CSV_ODD_FIELDS = [
  "+1",
  ".5",
  "-.5",
  "+.5e1",
  "5.",
  "00",
  "007.5",
  "1.E5",
  "\t1",
  "1\t",
  " 1 ",
  "nan",
  "NaN",
  "-nan",
  "inf",
  "-inf",
  "+inf",
  "Infinity",
  "-Infinity",
  // No number:
  "0x1A",
  "0b1",
  "0o7",
  "1_0",
  "\u00a01",
  "1e",
  "1e+",
  "e5",
  ".",
  "-",
  "+",
  "+.",
  "--1",
  "+-1",
  "1-",
  "1.2.3",
  "1ee5",
  "1e5.5",
  "1 2",
  "abc",
];

/** A CSV field: mostly numbers in every spelling, sometimes odd, quoted or padded. */
function csvField(random: Random, oddShare: number): string {
  if (random() < oddShare) return pick(random, CSV_ODD_FIELDS);
  let text = random() < 0.2 ? pick(random, ["+", "-"]) : "";
  const integer = random();
  text += integer < 0.1 ? "" : integer < 0.15 ? `00${digits(random, 1)}` : digits(random, 1 + Math.floor(random() * 4));
  if (integer < 0.1 || random() < 0.7) text += `.${digits(random, 1 + Math.floor(random() * 9))}`;
  if (random() < 0.1) text = jsonNumber(random);
  if (random() < 0.05) text = `${pick(random, [" ", "  "])}${text}`;
  if (random() < 0.05) text = `${text}${pick(random, [" ", "\t"])}`;
  if (random() < 0.05) text = `"${text}"`;
  if (random() < 0.01) text = "";
  return text;
}

/**
 * What a CSV field reads as, by the rules the README gives: quotes and surrounding spaces or tabs
 * removed, `nan`/`inf`/`infinity` in any case, an empty field missing (NaN) only where the input takes
 * missing values, hex, octal and binary literals and anything past printable ASCII refused, else
 * `Number()`. Undefined for a field that must be refused.
 */
function csvReference(field: string, takesMissing: boolean): number | undefined {
  const unquoted = field.length >= 2 && field.startsWith('"') && field.endsWith('"') ? field.slice(1, -1) : field;
  const text = unquoted.replace(/^[ \t]+|[ \t]+$/g, "");
  if (text === "") return takesMissing ? Number.NaN : undefined;
  if (/[^\x21-\x7e]/.test(text) || /^[+-]?0[xob]/i.test(text)) return undefined;
  const word = text.toLowerCase().replace(/^[+-]/, "");
  if (word === "nan") return Number.NaN;
  if (word === "inf" || word === "infinity") return text.startsWith("-") ? -Infinity : Infinity;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/**
 * JSON values that must be refused where a float input's number goes: words and strings, and numbers
 * that `Number()` reads but JSON does not allow (refused whichever reader meets them, as `JSON.parse`
 * and Python's `json.loads` refuse them).
 */
const JSON_BAD_VALUES = [
  ...["+1", ".5", "-.5", "5.", "1.e5", "05", "-007.5", "00"],
  ...["nan", "-NaN", "inf", "NaNa", "1e", "0x10", "1_0", "--1", "-", '"1"', '"NaN"', "[1]x"],
];

/** The words Python's `json.dumps` writes for NaN and the infinities, which `json.loads` reads back. */
const PYTHON_NUMBERS: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Infinity,
  "-Infinity": -Infinity,
};

/** What a JSON value reads as; undefined for one that must be refused. */
const jsonReference = (value: string): number | undefined =>
  JSON_BAD_VALUES.includes(value) ? undefined : (PYTHON_NUMBERS[value] ?? JSON.parse(value));

/** A JSON record of `values` in one of the forms the README lists, with spaces and tabs between tokens. */
function jsonRecord(random: Random, values: readonly string[]): string {
  const space = () => (random() < 0.15 ? pick(random, [" ", "  ", "\t", " \t "]) : "");
  const array = () => `${space()}[${values.map((value) => `${space()}${value}${space()}`).join(",")}]${space()}`;
  const form = random();
  if (form < 0.5) return array();
  if (form < 0.7) return `{${space()}"features"${space()}:${array()}}`;
  if (form < 0.8) return `{"id": 7, "features":${array()}, "note": "x]"}`;
  if (form < 0.9) return `[${array()}]`;
  return `{"features":${array()},"source":"batch 7"}`;
}

/** A body of rows, each field's expected value (undefined: refused), and the first row with a bad field. */
interface Body {
  readonly rows: readonly string[];
  readonly expected: readonly (number | undefined)[][];
  readonly firstBadRow: number;
}

function bodyOf(rows: string[], expected: (number | undefined)[][]): Body {
  return { rows, expected, firstBadRow: expected.findIndex((values) => values.includes(undefined)) };
}

/** The values each decoded row holds for its one input, as `store` keeps them. */
const valuesOf = (records: DecodedRecord[]) => records.map(([values]) => values as number[]);

/**
 * Decodes `body` split at random positions and checks it against its expectation: every value where all
 * rows are good; else the rows before the first bad one decoded alone, and that row refused.
 */
function check(
  codec: Codec,
  contentType: string,
  input: { type: "float32" | "float64"; acceptsMissing: boolean },
  body: Body,
  random: Random,
): void {
  const { type, acceptsMissing } = input;
  const signature = signatureOf({ x: [type, WIDTH, { acceptsMissing }] });
  const context = contextFor(signature, contentType);
  const store = type === "float32" ? Math.fround : (value: number) => value;
  const decode = (rows: readonly string[]) => {
    const text = `${rows.join(random() < 0.2 ? "\r\n" : "\n")}${random() < 0.5 ? "\n" : ""}`;
    // Whole at times: only rows within one chunk are read where they lie (the WebAssembly row reader).
    const sizes = random() < 0.25 ? [text.length] : Array.from({ length: 3 }, () => 1 + Math.floor(random() * 48));
    return { text, records: () => valuesOf(decodeBody(codec, context, splitBySizes(encoder.encode(text), sizes))) };
  };
  const goodRows = body.firstBadRow < 0 ? body.rows.length : body.firstBadRow;
  const good = decode(body.rows.slice(0, goodRows));
  if (goodRows > 0) {
    const decoded = good.records();
    assert.equal(decoded.length, goodRows, good.text);
    decoded.forEach((values, row) => {
      values.forEach((value, j) => {
        const want = store(body.expected[row][j] as number);
        assert.ok(Object.is(value, want), `${JSON.stringify(body.rows[row])} value ${j}: ${value}, not ${want}`);
      });
    });
  }
  if (body.firstBadRow < 0) return;
  const withBad = decode(body.rows.slice(0, body.firstBadRow + 1));
  assert.throws(
    withBad.records,
    (error: unknown) => error instanceof RecordError,
    `${JSON.stringify(body.rows[body.firstBadRow])} must be refused`,
  );
}

const codecFor = (mediaType: string): Codec => {
  const codec = builtinCodecs.find((candidate) => candidate.mediaTypes.includes(mediaType));
  assert.ok(codec, mediaType);
  return codec;
};

describe("number spellings, against Number() and JSON.parse", () => {
  for (const type of ["float32", "float64"] as const) {
    for (const takesMissing of [false, true]) {
      it(`CSV fields for a ${type} input${takesMissing ? " that takes missing values" : ""}: every spelling as Number() reads it, every non-number refused at its row`, () => {
        const random = seededRandom(type === "float32" ? 31 : 37);
        const codec = codecFor("text/csv");
        const outcomes = { read: 0, refused: 0 };
        for (let k = 0; k < BODIES; k++) {
          const rows: string[] = [];
          const expected: (number | undefined)[][] = [];
          for (let row = 0, count = 1 + Math.floor(random() * 12); row < count; row++) {
            const fields = Array.from({ length: WIDTH }, () => csvField(random, 0.03));
            rows.push(fields.join(","));
            expected.push(fields.map((field) => csvReference(field, takesMissing)));
          }
          const body = bodyOf(rows, expected);
          check(codec, "text/csv", { type, acceptsMissing: takesMissing }, body, random);
          outcomes[body.firstBadRow < 0 ? "read" : "refused"]++;
        }
        // Both kinds of body must be common enough to prove something.
        assert.ok(outcomes.read > BODIES / 4 && outcomes.refused > BODIES / 10, JSON.stringify(outcomes));
      });
    }
  }

  for (const mediaType of ["application/jsonlines", "application/json"]) {
    for (const type of ["float32", "float64"] as const) {
      it(`${mediaType} records for a ${type} input: every number as JSON.parse reads it (Python's NaN and Infinity as json.loads does), every non-number refused at its record`, () => {
        const random = seededRandom(type === "float32" ? 41 : 43);
        const codec = codecFor(mediaType);
        const outcomes = { read: 0, refused: 0 };
        for (let k = 0; k < BODIES; k++) {
          const rows: string[] = [];
          const expected: (number | undefined)[][] = [];
          for (let row = 0, count = 1 + Math.floor(random() * 12); row < count; row++) {
            const values = Array.from({ length: WIDTH }, () =>
              random() < 0.005
                ? pick(random, JSON_BAD_VALUES)
                : random() < 0.005
                  ? pick(random, Object.keys(PYTHON_NUMBERS))
                  : jsonNumber(random),
            );
            rows.push(jsonRecord(random, values));
            expected.push(values.map(jsonReference));
          }
          const body = bodyOf(rows, expected);
          check(codec, mediaType, { type, acceptsMissing: false }, body, random);
          outcomes[body.firstBadRow < 0 ? "read" : "refused"]++;
        }
        assert.ok(outcomes.read > BODIES / 2 && outcomes.refused > BODIES / 50, JSON.stringify(outcomes));
      });
    }
  }
});
