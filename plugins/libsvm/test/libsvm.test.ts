/** The LibSVM codec through Sluice's conformance kit and a real server, compared with ONNX Runtime. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";
import {
  type CodecTestServer,
  checkDecoderConformance,
  contextFor,
  decodeBody,
  mlpClassifier,
  modelDirectory,
  runOnnxRuntime,
  signatureOf,
  startCodecTestServer,
} from "sluice/testing";
import libsvm from "../src/index.js";

const PLUGIN = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const text = (s: string) => new TextEncoder().encode(s);
const BODY = "1 1:0.5 3:2\n0 2:-1.25 4:8\n\n2:3\n";
const ROWS = [
  [0.5, 0, 2, 0],
  [0, -1.25, 0, 8],
  [0, 3, 0, 0],
];

describe("the libsvm codec", () => {
  const context = contextFor(signatureOf({ features: ["float32", 4] }), "text/libsvm", {
    settings: { missing: "zero" },
  });

  it("reads sparse rows with or without a label, 1-based, absent features 0", () => {
    assert.deepEqual(
      decodeBody(libsvm, context, [text(BODY)]),
      ROWS.map((row) => [row]),
    );
  });

  it("reads absent features as missing, by default, for an input that reads them so (an XGBoost booster's)", () => {
    const booster = contextFor(
      signatureOf({ features: ["float32", 4, { acceptsMissing: true, absentIsMissing: true }] }),
      "text/libsvm",
      {
        settings: { missing: "auto" },
      },
    );
    assert.deepEqual(decodeBody(libsvm, booster, [text("1:1 4:4\n")]), [[[1, Number.NaN, Number.NaN, 4]]]);
    const network = contextFor(signatureOf({ features: ["float32", 4] }), "text/libsvm", {
      settings: { missing: "auto" },
    });
    assert.deepEqual(decodeBody(libsvm, network, [text("1:1 4:4\n")]), [[[1, 0, 0, 4]]]);
    const forcedZero = contextFor(signatureOf({ features: ["float32", 4, { absentIsMissing: true }] }), "text/libsvm", {
      settings: { missing: "zero" },
    });
    assert.deepEqual(decodeBody(libsvm, forcedZero, [text("1:1 4:4\n")]), [[[1, 0, 0, 4]]]);
  });

  it("reads absent features as NaN with the missing=nan setting", () => {
    const nan = contextFor(signatureOf({ features: ["float32", 4] }), "text/libsvm", { settings: { missing: "nan" } });
    assert.deepEqual(decodeBody(libsvm, nan, [text("1:1 4:4\n")]), [[[1, Number.NaN, Number.NaN, 4]]]);
  });

  it("refuses a value an integer input cannot hold, rather than store it wrapped around", () => {
    const integers = contextFor(signatureOf({ ids: ["int8", 4] }), "text/libsvm", { settings: { missing: "zero" } });
    assert.deepEqual(decodeBody(libsvm, integers, [text("1:127 4:-128\n")]), [[[127, 0, 0, -128]]]);
    assert.throws(
      () => decodeBody(libsvm, integers, [text("1:300\n")]),
      (error: Error & { code?: string }) =>
        error.code === "LIBSVM_VALUE" && /value 300 of index 1 is not an int8 \(-128 to 127\)/.test(error.message),
    );
  });

  it("passes Sluice's conformance suite", () => {
    checkDecoderConformance(libsvm, {
      context,
      body: text(BODY),
      expected: ROWS.map((row) => [row]),
      refused: [text("1 5:1\n"), text("1 2:1 1:1\n"), text("1 0:1\n"), text("1 2:x\n"), text("1 two\n")],
    });
  });

  describe("served", () => {
    let server: CodecTestServer;
    const dir = modelDirectory(mlpClassifier({ inputWidth: 4, hidden: 8, classes: 3, seed: 7 }));
    before(async () => {
      server = await startCodecTestServer(dir, { plugins: [PLUGIN] });
    });
    after(() => server.close());

    it("answers in CSV what ONNX Runtime answers for the dense rows", async () => {
      const response = await server.invoke(BODY, { "content-type": "text/x-libsvm", accept: "text/csv" });
      assert.equal(response.status, 200);
      const answer = (await response.text())
        .trim()
        .split("\n")
        .flatMap((line) => line.split(",").map((value) => Math.fround(Number(value))));
      const expected = await runOnnxRuntime(path.join(dir, "model.onnx"), {
        features: new ort.Tensor("float32", Float32Array.from(ROWS.flat()), [3, 4]),
      });
      assert.deepEqual(answer, Array.from(expected.probabilities as Float32Array));
    });

    it("answers an XGBoost booster as XGBoost does: a feature left out is missing", async () => {
      const fixture = path.resolve(PLUGIN, "../../test/fixtures/tabular/xgb-binary-logistic");
      const expected = JSON.parse(readFileSync(`${fixture}.expected.json`, "utf8")) as {
        rows: (number | null)[][];
        predictions: number[][];
      };
      const body = expected.rows
        .map((row) => `0 ${row.flatMap((value, k) => (value === null ? [] : [`${k + 1}:${value}`])).join(" ")}\n`)
        .join("");
      const booster = await startCodecTestServer(fixture, { plugins: [PLUGIN] });
      try {
        const response = await booster.invoke(body, { "content-type": "text/libsvm", accept: "text/csv" });
        assert.equal(response.status, 200);
        const answers = (await response.text()).trim().split("\n").map(Number);
        assert.equal(answers.length, expected.predictions.length);
        answers.forEach((answer, r) => {
          assert.ok(
            Math.abs(answer - expected.predictions[r][0]) < 1e-5,
            `row ${r}: ${answer}, XGBoost ${expected.predictions[r][0]}`,
          );
        });
      } finally {
        await booster.close();
      }
    });

    it("refuses an index beyond the model's features, naming the record", async () => {
      const response = await server.invoke("1 1:1\n1 9:1\n", { "content-type": "text/libsvm" });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { code: string; recordIndex: number };
      assert.deepEqual([body.code, body.recordIndex], ["LIBSVM_INDEX", 1]);
    });
  });
});
