import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import ort from "onnxruntime-node";
import { BUNDLED_MODEL_DIR } from "../src/model/model-location.js";
import { answerRows } from "./support/answers.js";
import {
  amazonRecord,
  concat,
  readAmazonRecord,
  readRecordIOFrames,
  recordIOFrame,
  recordIOMultipart,
  tfExample,
  tfRecordFrame,
} from "./support/binary-writers.js";
import { splitBySizes, streamOf } from "./support/chunks.js";
import { modelDir, randomRows, smallMlp } from "./support/models.js";
import { assertClose, runReference } from "./support/reference.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const TESTDATA = new URL("../../test/vectors/sagemaker-python-sdk/", import.meta.url);
const RECORDIO = "application/x-recordio-protobuf";
const TFRECORD = "application/x-tfrecord";

describe("binary formats in and out, compared with ONNX Runtime", () => {
  let server: TestServer;
  const dir = modelDir(smallMlp());
  const rows = 20;
  const values = randomRows(rows, 4, 11);
  const row = (r: number) => Array.from(values.subarray(r * 4, r * 4 + 4));
  let expected: Float32Array;
  const bodies: Record<string, Uint8Array> = {
    [RECORDIO]: concat(
      Array.from({ length: rows }, (_, r) => {
        const record = amazonRecord({ values: { type: "float32", values: row(r) } });
        return r % 4 === 3 ? recordIOMultipart(record, 3) : recordIOFrame(record);
      }),
    ),
    [TFRECORD]: concat(
      Array.from({ length: rows }, (_, r) => tfRecordFrame(tfExample({ features: { float: row(r) } }))),
    ),
    "text/csv": new TextEncoder().encode(Array.from({ length: rows }, (_, r) => row(r).join(",")).join("\n")),
    "application/jsonlines": new TextEncoder().encode(
      Array.from({ length: rows }, (_, r) => JSON.stringify(row(r))).join("\n"),
    ),
  };

  before(async () => {
    server = await startTestServer(dir, { SLUICE_BATCH_ROWS: "8" });
    const reference = await runReference(path.join(dir, "model.onnx"), {
      features: new ort.Tensor("float32", values, [rows, 4]),
    });
    expected = reference.probabilities as Float32Array;
  });
  after(() => server.close());

  for (const input of [RECORDIO, TFRECORD, "text/csv", "application/jsonlines"]) {
    it(`${input} → RecordIO-protobuf, TFRecord, CSV, JSON and JSON Lines, sent in 1–7 byte chunks`, async () => {
      for (const accept of [RECORDIO, TFRECORD, "text/csv", "application/json", "application/jsonlines"]) {
        const chunks = splitBySizes(bodies[input], [1, 2, 3, 4, 5, 6, 7]);
        const response = await invoke(server, streamOf(chunks), { "content-type": input, accept });
        const body = new Uint8Array(await response.arrayBuffer());
        assert.equal(response.status, 200, `${input} → ${accept}: ${new TextDecoder().decode(body)}`);
        assert.equal(response.headers.get("content-type"), accept);
        const answer = answerRows(accept, body);
        assert.equal(answer.length, rows, `${input} → ${accept}`);
        assertClose(answer.flat(), expected);
      }
    });
  }

  it("answers a binary body in its own format when Accept is */* or missing", async () => {
    for (const input of [RECORDIO, TFRECORD]) {
      for (const accept of [undefined, "*/*"]) {
        const headers: Record<string, string> = { "content-type": input };
        if (accept) headers.accept = accept;
        const response = await invoke(server, bodies[input], headers);
        assert.equal(response.headers.get("content-type"), input);
        assert.equal(answerRows(input, new Uint8Array(await response.arrayBuffer())).length, rows);
      }
    }
  });

  it("400 naming the record and byte offset for a corrupt CRC, a bad magic and a truncated frame", async () => {
    const corruptCrc = bodies[TFRECORD].slice();
    const frameSize = bodies[TFRECORD].length / rows;
    corruptCrc[3 * frameSize + 20] ^= 0x40;
    const badMagic = bodies[RECORDIO].slice();
    const secondFrame = recordIOFrame(amazonRecord({ values: { type: "float32", values: row(0) } })).length;
    badMagic[secondFrame] = 0;
    const cases: [string, Uint8Array, string, number, number][] = [
      [TFRECORD, corruptCrc, "TFRECORD_BAD_DATA_CRC", 3, 3 * frameSize],
      [RECORDIO, badMagic, "RECORDIO_BAD_MAGIC", 1, secondFrame],
      [TFRECORD, bodies[TFRECORD].subarray(0, 2 * frameSize + 5), "TFRECORD_TRUNCATED", 2, 2 * frameSize],
      [RECORDIO, bodies[RECORDIO].subarray(0, secondFrame + 10), "RECORDIO_TRUNCATED", 1, secondFrame],
    ];
    for (const [contentType, body, code, recordIndex, byteOffset] of cases) {
      const response = await invoke(server, body, { "content-type": contentType });
      assert.equal(response.status, 400, code);
      assert.deepEqual(
        { ...((await response.json()) as object), error: undefined },
        { error: undefined, code, recordIndex, byteOffset },
      );
    }
    assert.equal((await invoke(server, bodies[TFRECORD], { "content-type": TFRECORD })).status, 200);
  });

  it("400 for a record of the wrong width; 415 for opaque application/x-recordio payloads", async () => {
    const narrow = recordIOFrame(amazonRecord({ values: { type: "float32", values: [1, 2, 3] } }));
    const response = await invoke(server, concat([bodies[RECORDIO], narrow]), { "content-type": RECORDIO });
    assert.equal(response.status, 400);
    const error = (await response.json()) as { code: string; recordIndex: number };
    assert.equal(error.code, "FEATURE_WIDTH_MISMATCH");
    assert.equal(error.recordIndex, rows);
    const opaque = await invoke(server, recordIOFrame(new TextEncoder().encode("\x89PNG not a record")), {
      "content-type": "application/x-recordio",
    });
    assert.equal(opaque.status, 415);
    assert.equal(((await opaque.json()) as { code: string }).code, "RECORDIO_PAYLOAD_OPAQUE");
  });

  it("with SINGLE_RECORD, takes a record with or without its frame header", async () => {
    const single = await startTestServer(dir, { SAGEMAKER_BATCH_STRATEGY: "SINGLE_RECORD" });
    try {
      const record = amazonRecord({ values: { type: "float32", values: row(0) } });
      const example = tfExample({ features: { float: row(0) } });
      for (const [contentType, body] of [
        [RECORDIO, record],
        [RECORDIO, recordIOFrame(record)],
        [TFRECORD, example],
        [TFRECORD, tfRecordFrame(example)],
      ] as const) {
        const response = await invoke(single, body, { "content-type": contentType, accept: "application/json" });
        assert.equal(response.status, 200, contentType);
        const answer = answerRows("application/json", new Uint8Array(await response.arrayBuffer()));
        assertClose(answer.flat(), expected.subarray(0, 3));
      }
    } finally {
      await single.close();
    }
  });
});

describe("the bundled default model on the SageMaker SDK's RecordIO-protobuf file", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(BUNDLED_MODEL_DIR);
  });
  after(() => server.close());

  it("transforms matrix_0.pbr (100 MNIST rows) like ONNX Runtime does", async () => {
    const body = readFileSync(new URL("matrix_0.pbr", TESTDATA));
    const response = await invoke(server, body, { "content-type": RECORDIO, accept: RECORDIO });
    assert.equal(response.status, 200);
    const scores = answerRows(RECORDIO, new Uint8Array(await response.arrayBuffer()));
    assert.equal(scores.length, 100);
    const pixels = Float32Array.from(
      readRecordIOFrames(body).flatMap((p) => readAmazonRecord(p, "features").tensors.values),
    );
    const expected = await runReference(path.join(BUNDLED_MODEL_DIR, "model.onnx"), {
      features: new ort.Tensor("float32", pixels, [100, 784]),
    });
    assertClose(scores.flat(), expected.probabilities as Float32Array);
  });
});
