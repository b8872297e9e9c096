import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import ort from "onnxruntime-node";
import { BUNDLED_MODEL_DIR } from "../src/model/model-location.js";
import { modelDir, randomRows, smallMlp } from "./support/models.js";
import { assertClose, parseCsvNumbers, runReference } from "./support/reference.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const TESTDATA = new URL("../../test/vectors/sagemaker-python-sdk/", import.meta.url);

describe("CSV transform compared with ONNX Runtime run directly", () => {
  let server: TestServer;
  const dir = modelDir(smallMlp());
  before(async () => {
    server = await startTestServer(dir, { SLUICE_BATCH_ROWS: "256" });
  });
  after(() => server.close());

  it("answers 10 000 rows, one line per row, in order", async () => {
    const rows = 10_000;
    const values = randomRows(rows, 4, 1);
    // Several spellings of the same float32 values, as different writers produce them.
    const spell = [(v: number) => String(v), (v: number) => v.toExponential(12), (v: number) => v.toFixed(9)];
    let body = "";
    const sent = new Float32Array(rows * 4);
    for (let r = 0; r < rows; r++) {
      const fields: string[] = [];
      for (let j = 0; j < 4; j++) {
        const text = spell[(r + j) % spell.length](values[r * 4 + j]);
        sent[r * 4 + j] = Number(text);
        fields.push(text);
      }
      body += `${fields.join(",")}${r % 3 === 0 ? "\r\n" : "\n"}`;
    }
    const response = await invoke(server, body, { "content-type": "text/csv", accept: "text/csv" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/csv");
    const answer = parseCsvNumbers(await response.text());
    assert.equal(answer.length, rows);
    const expected = await runReference(path.join(dir, "model.onnx"), {
      features: new ort.Tensor("float32", sent, [rows, 4]),
    });
    assertClose(answer.flat(), expected.probabilities as Float32Array);
    assert.match(server.logs.find((line) => line.includes("invocation")) ?? "", /status=200 .*records=10000/);
  });
});

describe("the bundled default model on the SageMaker SDK's transform input", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(BUNDLED_MODEL_DIR);
  });
  after(() => server.close());

  it("transforms transform_input.csv (10 MNIST rows) like ONNX Runtime does", async () => {
    const csv = readFileSync(new URL("transform_input.csv", TESTDATA), "utf8");
    const response = await invoke(server, csv, { "content-type": "text/csv" });
    assert.equal(response.status, 200);
    const answer = parseCsvNumbers(await response.text());
    assert.equal(answer.length, 10);
    assert.ok(answer.every((row) => row.length === 10));
    const pixels = Float32Array.from(
      csv
        .trim()
        .split("\n")
        .flatMap((line) => line.split(",").map(Number)),
    );
    const expected = await runReference(path.join(BUNDLED_MODEL_DIR, "model.onnx"), {
      features: new ort.Tensor("float32", pixels, [10, 784]),
    });
    assertClose(answer.flat(), expected.probabilities as Float32Array);
  });
});
