/**
 * Fuzzing with a fixed seed: every codec is fed garbage, truncated, bit-flipped and spliced bodies, split
 * into random chunks. The only acceptable outcomes are records or a Sluice error (400/413/415) — never
 * an exception of another kind (a crash in the server), and never a hang. A share of the cases also go
 * over HTTP to a real server, which must answer each with 200 or 4xx and keep serving.
 * `SLUICE_FUZZ_SEED` and `SLUICE_FUZZ_CASES` (per codec) run another campaign than the fixed one.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import builtinCodecs from "../codecs/index.js";
import type { Codec } from "../src/codec/codec.js";
import { SluiceError } from "../src/errors.js";
import type { ModelSignature } from "../src/model/signature.js";
import { contextFor, decodeBody, signatureOf } from "../src/testing/index.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import {
  amazonRecord,
  concat,
  recordIOFrame,
  recordIOMultipart,
  tfExample,
  tfRecordFrame,
} from "./support/binary-writers.js";
import { campaignSetting } from "./support/campaign.js";
import { splitBySizes } from "./support/chunks.js";
import { modelDir, twoInputTwoOutput } from "./support/models.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const SEED = campaignSetting("SLUICE_FUZZ_SEED", 20261125);
/** Even: half the cases decode as MultiRecord bodies, half as SingleRecord ones. */
const CASES_PER_CODEC = 2 * Math.ceil(campaignSetting("SLUICE_FUZZ_CASES", 600) / 2);
const encoder = new TextEncoder();
const signature: ModelSignature = signatureOf({ a: ["float32", 2], b: ["float32", 3] });

/** Valid bodies of each media type, which the mutations start from. */
const VALID: Record<string, Uint8Array[]> = {
  "text/csv": [encoder.encode('1,2,3,4,5\n"6",7,8,9,10\r\n\n0.5,-1e3,2,3,4')],
  "application/json": [
    encoder.encode('{"instances": [[1,2,3,4,5], {"a": [1,2], "b": [3,4,5]}, {"features": [1,2,3,4,5]}]}'),
    encoder.encode('[[1,2,3,4,5],[6,7,8,9,10]]\n{"inputs": {"a": [[1,2]], "b": [[3,4,5]]}}\n[1,2,3,4,5]'),
  ],
  "application/jsonlines": [encoder.encode('[1,2,3,4,5]\n{"a":[1,2],"b":[3,4,5]}\n\n{"features":[1,2,3,4,5]}\n')],
  "application/x-recordio-protobuf": [
    concat([
      recordIOFrame(amazonRecord({ values: { type: "float32", values: [1, 2, 3, 4, 5] } })),
      recordIOMultipart(
        amazonRecord({ a: { type: "float64", values: [1, 2] }, b: { type: "int32", values: [3, 4, 5] } }),
        3,
      ),
      recordIOFrame(amazonRecord({ values: { type: "float32", values: [9], keys: [4], shape: [5] } })),
    ]),
  ],
  "application/x-recordio": [recordIOFrame(amazonRecord({ values: { type: "float32", values: [1, 2, 3, 4, 5] } }))],
  "application/x-tfrecord": [
    concat([
      tfRecordFrame(tfExample({ a: { float: [1, 2] }, b: { float: [3, 4, 5] } })),
      tfRecordFrame(tfExample({ values: { int64: [1, 2, 3, 4, 5] } })),
    ]),
  ],
};

type Mutation = (body: Uint8Array, random: () => number) => Uint8Array;
const at = (random: () => number, length: number) => Math.floor(random() * (length + 1));
const MUTATIONS: Record<string, Mutation> = {
  garbage: (_, random) => Uint8Array.from({ length: at(random, 300) }, () => Math.floor(random() * 256)),
  truncate: (body, random) => body.subarray(0, at(random, body.length)),
  flipBits: (body, random) => {
    const copy = body.slice();
    for (let k = 0, n = 1 + Math.floor(random() * 4); k < n && copy.length > 0; k++) {
      copy[Math.floor(random() * copy.length)] ^= 1 << Math.floor(random() * 8);
    }
    return copy;
  },
  splice: (body, random) => {
    const cut = at(random, body.length);
    const junk = Uint8Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * 256));
    return concat([body.subarray(0, cut), junk, body.subarray(cut)]);
  },
  duplicate: (body, random) => {
    const start = at(random, body.length);
    return concat([body, body.subarray(start, at(random, body.length - start) + start)]);
  },
};

/** Yields `count` mutated bodies of `mediaType`, deterministically. */
function* cases(mediaType: string, count: number, random: () => number) {
  const names = Object.keys(MUTATIONS);
  for (let k = 0; k < count; k++) {
    const valid = VALID[mediaType][k % VALID[mediaType].length];
    const mutation = names[k % names.length];
    yield { mutation, body: MUTATIONS[mutation](valid, random) };
  }
}

const codecFor = (mediaType: string): Codec => {
  const codec = builtinCodecs.find((c) => c.mediaTypes.includes(mediaType));
  assert.ok(codec, mediaType);
  return codec;
};

describe("fuzzing every codec with a fixed seed", () => {
  for (const mediaType of Object.keys(VALID)) {
    it(`${mediaType}: ${CASES_PER_CODEC} mutated bodies give records or a Sluice error, never a crash`, () => {
      const random = seededRandom(SEED);
      const codec = codecFor(mediaType);
      const outcomes = { records: 0, refused: 0 };
      for (const [singleRecord, valid] of [
        [false, VALID[mediaType][0]],
        [true, VALID[mediaType][0]],
      ] as const) {
        // The unmutated body decodes (the mutations start from something valid).
        const context = contextFor(signature, mediaType, { singleRecord });
        if (!singleRecord) assert.ok(decodeBody(codec, context, [valid]).length > 0);
        for (const { mutation, body } of cases(mediaType, CASES_PER_CODEC / 2, random)) {
          const sizes = Array.from({ length: 4 }, () => 1 + Math.floor(random() * 64));
          try {
            decodeBody(codec, context, splitBySizes(body, sizes));
            outcomes.records++;
          } catch (error) {
            if (!(error instanceof SluiceError)) {
              assert.fail(
                `${mutation} (singleRecord=${singleRecord}) threw ${String(error)} for bytes ${Buffer.from(body).toString("base64")}`,
              );
            }
            assert.ok(error.status === 400 || error.status === 415, `${error.code} has status ${error.status}`);
            outcomes.refused++;
          }
        }
      }
      assert.equal(outcomes.records + outcomes.refused, CASES_PER_CODEC);
      assert.ok(outcomes.refused > 0, "some mutations must be refused");
    });
  }
});

describe("fuzzing over HTTP", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(twoInputTwoOutput()));
  });
  after(() => server.close());

  it("answers 200 or 4xx with a JSON error to every mutated body, and keeps serving", async () => {
    const random = seededRandom(SEED + 1);
    for (const mediaType of Object.keys(VALID)) {
      for (const { mutation, body } of cases(mediaType, 40, random)) {
        const response = await invoke(server, body, { "content-type": mediaType, accept: "application/jsonlines" });
        const text = await response.text();
        assert.ok(
          response.status === 200 || (response.status >= 400 && response.status < 500),
          `${mediaType} ${mutation}: ${response.status} ${text}`,
        );
        if (response.status !== 200) assert.ok(typeof (JSON.parse(text) as { code: string }).code === "string");
      }
    }
    const ping = await fetch(`${server.url}/ping`);
    assert.equal(ping.status, 200);
  });
});
