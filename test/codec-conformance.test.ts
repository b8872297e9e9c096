/**
 * One conformance suite, run over every built-in codec with the kit plugin authors use (`sluice/testing`):
 * the same records wherever a body is cut, nothing from an empty body, typed refusals for bad records, and
 * only Sluice's typed errors for mutated bodies.
 */
import { describe, it } from "node:test";
import builtinCodecs from "../codecs/index.js";
import { checkDecoderConformance, contextFor, signatureOf } from "../src/testing/index.js";
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

describe("every built-in codec passes the conformance suite", () => {
  for (const codec of builtinCodecs) {
    const sample = cases[codec.name];
    if (!sample) continue;
    it(codec.name, () => {
      checkDecoderConformance(codec, {
        context: contextFor(signature, codec.mediaTypes[0]),
        body: sample.body,
        expected,
        refused: sample.refused,
      });
    });
  }
});
