/**
 * One conformance suite, run over every built-in codec with the kit plugin authors use (`sluice/testing`):
 * the same records wherever a body is cut, nothing from an empty body, typed refusals for bad records, and
 * only Sluice's typed errors for mutated bodies.
 */
import { describe, it } from "node:test";
import builtinCodecs from "../codecs/index.js";
import type { ModelSignature } from "../src/model/signature.js";
import { checkDecoderConformance, contextFor, type DecodedRecord, signatureOf } from "../src/testing/index.js";
import { amazonRecord, concat, recordIOFrame, tfExample, tfRecordFrame } from "./support/binary-writers.js";

const signature = signatureOf({ features: ["float32", 3] });
const rows = [
  [0.5, -1.25, 3],
  [0, 0.125, -7.5],
  [1e-3, 2.5, 100],
];
const expected = rows.map((row) => [row.map((v) => Math.fround(v))]);
const text = (s: string) => new TextEncoder().encode(s);

const cases: Record<string, { body: Uint8Array; refused: Uint8Array[] }> = {
  csv: { body: text(`${rows.map((r) => r.join(",")).join("\n")}\n`), refused: [text("1,2\n"), text("1,x,3\n")] },
  json: { body: text(JSON.stringify({ instances: rows })), refused: [text("[[1,2]]"), text('[["a",1,2]]')] },
  jsonlines: {
    body: text(rows.map((r) => `${JSON.stringify(r)}\n`).join("")),
    refused: [text("[1,2]\n"), text("{not json}\n")],
  },
  "recordio-protobuf": {
    body: concat(rows.map((r) => recordIOFrame(amazonRecord({ values: { type: "float32", values: r } })))),
    refused: [
      recordIOFrame(amazonRecord({ values: { type: "float32", values: [1, 2] } })),
      recordIOFrame(new Uint8Array([1, 2, 3])).subarray(0, 6),
    ],
  },
  tfrecord: {
    body: concat(rows.map((r) => tfRecordFrame(tfExample({ values: { float: r } })))),
    refused: [tfRecordFrame(tfExample({ values: { float: [1] } })), tfRecordFrame(tfExample({})).subarray(0, 10)],
  },
};

/** Runs the conformance suite over every built-in codec that has a sample in `samples`. */
function conformanceSuite(
  title: string,
  model: ModelSignature,
  samples: Record<string, { body: Uint8Array; refused: Uint8Array[] }>,
  records: DecodedRecord[],
): void {
  describe(title, () => {
    for (const codec of builtinCodecs) {
      const sample = samples[codec.name];
      if (!sample) continue;
      it(codec.name, () => {
        checkDecoderConformance(codec, {
          context: contextFor(model, codec.mediaTypes[0]),
          body: sample.body,
          expected: records,
          refused: sample.refused,
        });
      });
    }
  });
}

conformanceSuite("every built-in codec passes the conformance suite", signature, cases, expected);

/** A category as text beside two numbers that may be missing (a tree model's inputs). */
const mixed = signatureOf({ cat: ["string", 1], num: ["float32", 2, { acceptsMissing: true }] });
const mixedRows: [string, number | null, number | null][] = [
  ["red", 0.5, null],
  ['ünï, "code"', null, -2],
  ["", 1.5, 3],
];
const mixedExpected = mixedRows.map(([cat, a, b]) => [[cat], [a ?? Number.NaN, b ?? Number.NaN]]);
const orNaN = (value: number | null) => value ?? Number.NaN;
const csvCell = (cell: string | number | null) =>
  cell === null ? "" : typeof cell === "string" ? `"${cell.replaceAll('"', '""')}"` : String(cell);

const mixedCases: Record<string, { body: Uint8Array; refused: Uint8Array[] }> = {
  csv: {
    body: text(mixedRows.map((r) => `${r.map(csvCell).join(",")}\n`).join("")),
    refused: [text('"a",1\n'), text('"a",x,1\n'), text('"a,1,2\n')],
  },
  json: { body: text(JSON.stringify({ instances: mixedRows })), refused: [text("[[1,2,3]]"), text('[["a","b",1]]')] },
  jsonlines: {
    body: text(mixedRows.map((r) => `${JSON.stringify({ cat: [r[0]], num: [r[1], r[2]] })}\n`).join("")),
    refused: [text('{"cat": [1], "num": [1, 2]}\n'), text('["a", 1]\n')],
  },
  "recordio-protobuf": {
    body: concat(
      mixedRows.map((r) =>
        recordIOFrame(amazonRecord({ cat: r[0], num: { type: "float32", values: [orNaN(r[1]), orNaN(r[2])] } })),
      ),
    ),
    refused: [
      recordIOFrame(amazonRecord({ cat: { type: "float32", values: [1] }, num: { type: "float32", values: [1, 2] } })),
      recordIOFrame(amazonRecord({ values: { type: "float32", values: [1, 2, 3] } })),
    ],
  },
  tfrecord: {
    body: concat(
      mixedRows.map((r) =>
        tfRecordFrame(tfExample({ cat: { bytes: [r[0]] }, num: { float: [orNaN(r[1]), orNaN(r[2])] } })),
      ),
    ),
    refused: [
      tfRecordFrame(tfExample({ cat: { float: [1] }, num: { float: [1, 2] } })),
      tfRecordFrame(tfExample({ cat: { bytes: ["a", "b"] }, num: { float: [1, 2] } })),
    ],
  },
};

conformanceSuite(
  "every built-in codec reads string inputs and missing values, wherever the body is cut",
  mixed,
  mixedCases,
  mixedExpected,
);

/**
 * Numbers that may be missing and no string input (a tree ensemble's): CSV's empty fields and JSON's
 * `null`s are read by the row reader, whose refusals the general path then makes.
 */
const sparse = signatureOf({ num: ["float32", 3, { acceptsMissing: true }] });
const sparseRows: (number | null)[][] = [
  [0.5, null, -2],
  [null, null, null],
  [1.5, 3, null],
];
const sparseCases: Record<string, { body: Uint8Array; refused: Uint8Array[] }> = {
  csv: {
    body: text(sparseRows.map((r) => `${r.map(csvCell).join(",")}\n`).join("")),
    refused: [text(",\n"), text("1,,x\n"), text(",,,\n")],
  },
  json: {
    body: text(JSON.stringify({ instances: sparseRows })),
    refused: [text("[[null,null]]"), text("[[nul,1,2]]")],
  },
  jsonlines: {
    body: text(sparseRows.map((r) => `${JSON.stringify(r).replaceAll(",", ", ")}\n`).join("")),
    refused: [text("[null,null]\n"), text("[1,null,nulll]\n"), text("[null,null,null,null]\n")],
  },
  "recordio-protobuf": {
    body: concat(
      sparseRows.map((r) => recordIOFrame(amazonRecord({ values: { type: "float32", values: r.map(orNaN) } }))),
    ),
    refused: [recordIOFrame(amazonRecord({ values: { type: "float32", values: [1, 2] } }))],
  },
};

conformanceSuite(
  "every built-in codec reads missing numbers without a string input, wherever the body is cut",
  sparse,
  sparseCases,
  sparseRows.map((r) => [r.map(orNaN).map(Math.fround)]),
);
