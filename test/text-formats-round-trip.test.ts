import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import ort from "onnxruntime-node";
import { answerRows } from "./support/answers.js";
import { splitBySizes, streamOf } from "./support/chunks.js";
import { int64Model, modelDir, randomRows, smallMlp, twoInputTwoOutput } from "./support/models.js";
import { assertClose, parseCsvNumbers, runReference } from "./support/reference.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const encoder = new TextEncoder();

/** A request body, with the content type it is sent under. */
interface Body {
  readonly name: string;
  readonly contentType: string;
  readonly text: string;
}

const OUTPUT_TYPES = ["text/csv", "application/json", "application/jsonlines"];

/** Sends `body` in 1–7 byte chunks and returns the answer's rows. */
async function transform(server: TestServer, body: Body, accept: string): Promise<number[][]> {
  const chunks = splitBySizes(encoder.encode(body.text), [1, 2, 3, 4, 5, 6, 7]);
  const response = await invoke(server, streamOf(chunks), { "content-type": body.contentType, accept });
  const text = await response.text();
  assert.equal(response.status, 200, `${body.name} → ${accept}: ${text}`);
  const contentType = response.headers.get("content-type") ?? "";
  assert.ok(contentType.startsWith(accept), `${body.name} → ${accept} answered as ${contentType}`);
  return answerRows(contentType, text);
}

describe("every text input format answered in every text output format, compared with ONNX Runtime", () => {
  let server: TestServer;
  const dir = modelDir(smallMlp());
  const rows = 25;
  const values = randomRows(rows, 4, 3);
  const row = (r: number) => Array.from(values.subarray(r * 4, r * 4 + 4));
  const all = Array.from({ length: rows }, (_, r) => row(r));
  const bodies: Body[] = [
    { name: "CSV", contentType: "text/csv", text: all.map((r) => r.join(",")).join("\n") },
    { name: "JSON array", contentType: "application/json", text: JSON.stringify(all) },
    {
      name: "JSON instances",
      contentType: "application/json; charset=utf-8",
      text: JSON.stringify({
        instances: all.map((r, i) => (i % 3 === 0 ? r : i % 3 === 1 ? { features: r } : { features: [r] })),
      }),
    },
    { name: "JSON columnar", contentType: "application/json", text: JSON.stringify({ inputs: { features: all } }) },
    {
      name: "JSON values one per line",
      contentType: "application/json",
      text: all.map((r, i) => JSON.stringify(i % 2 ? r : { features: r })).join("\n"),
    },
    {
      name: "JSON Lines",
      contentType: "application/jsonlines",
      text: `${all.map((r, i) => JSON.stringify(i % 2 ? r : { features: r })).join("\r\n")}\n\n`,
    },
    { name: "x-jsonlines", contentType: "application/x-jsonlines", text: all.map((r) => JSON.stringify(r)).join("\n") },
    { name: "jsonl", contentType: "Application/JSONL", text: all.map((r) => JSON.stringify(r)).join("\n") },
  ];
  let expected: number[];

  before(async () => {
    server = await startTestServer(dir, { SLUICE_BATCH_ROWS: "4" });
    const reference = await runReference(path.join(dir, "model.onnx"), {
      features: new ort.Tensor("float32", values, [rows, 4]),
    });
    expected = Array.from(reference.probabilities as Float32Array);
  });
  after(() => server.close());

  for (const body of bodies) {
    it(`${body.name} → CSV, JSON and JSON Lines`, async () => {
      for (const accept of OUTPUT_TYPES) {
        const answer = await transform(server, body, accept);
        assert.equal(answer.length, rows, `${body.name} → ${accept}`);
        assertClose(answer.flat(), expected);
      }
    });
  }

  it("prints float32 outputs so that they read back to the model's exact values", async () => {
    for (const accept of OUTPUT_TYPES) {
      const answer = await transform(server, bodies[0], accept);
      assert.deepEqual(
        answer.flat().map((v) => Math.fround(v)),
        expected,
      );
    }
  });

  it("picks the best installed encoder from a q-valued Accept list", async () => {
    const cases: [string, string][] = [
      ["application/json;q=0.5, text/csv", "text/csv"],
      ["text/csv;q=0.1, application/jsonlines;q=0.9", "application/jsonlines"],
      ["application/xml, application/x-jsonlines;q=0.2", "application/x-jsonlines"],
      ["application/*;q=0.8, text/csv;q=0.1", "application/json"],
      ["text/plain;q=1, */*;q=0.1", "application/json"],
    ];
    for (const [accept, chosen] of cases) {
      const response = await invoke(server, "[1,2,3,4]", { "content-type": "application/json", accept });
      assert.equal(response.status, 200, accept);
      assert.equal(response.headers.get("content-type"), chosen, accept);
      assert.equal(answerRows(chosen, await response.text()).length, 1);
    }
    const refused = await invoke(server, "[1,2,3,4]", {
      "content-type": "application/json",
      accept: "application/xml",
    });
    assert.equal(refused.status, 406);
    assert.match(((await refused.json()) as { error: string }).error, /application\/xml/);
  });

  it("400 naming the bad record's index and line, in every format, and keeps serving", async () => {
    const cases: [string, string, number, number][] = [
      ["application/json", "[[1,2,3,4],\n[1,2,3],\n[5,6,7,8]]", 1, 2],
      ["application/json", '{"instances": [[1,2,3,4], [1,2,3,4], {"features": [1,"x",3,4]}]}', 2, 1],
      ["application/json", "[1,2,3,4]\n[1,2,3,4]\n[1,2,3,4\n", 2, 3],
      ["application/jsonlines", "[1,2,3,4]\n\n{not json}\n[1,2,3,4]", 1, 3],
      ["application/jsonlines", '[1,2,3,4]\n{"feature": [1,2,3,4]}', 1, 2],
    ];
    for (const [contentType, text, recordIndex, line] of cases) {
      const response = await invoke(server, text, { "content-type": contentType, accept: "application/json" });
      const body = (await response.json()) as { error: string; code: string; recordIndex: number; line: number };
      assert.equal(response.status, 400, text);
      assert.equal(body.recordIndex, recordIndex, `${text}: ${JSON.stringify(body)}`);
      assert.equal(body.line, line, `${text}: ${JSON.stringify(body)}`);
      assert.ok(body.error.length > 0 && body.code.length > 0);
    }
    assert.equal((await invoke(server, "[1,2,3,4]", { "content-type": "application/json" })).status, 200);
  });

  it("answers a SINGLE_RECORD request with exactly one record", async () => {
    const single = await startTestServer(dir, { SAGEMAKER_BATCH_STRATEGY: "SINGLE_RECORD" });
    try {
      for (const [contentType, text] of [
        ["application/json", JSON.stringify(row(0))],
        ["application/jsonlines", `${JSON.stringify({ features: row(0) })}\n`],
        ["text/csv", row(0).join(",")],
      ]) {
        const response = await invoke(single, text, { "content-type": contentType, accept: "application/jsonlines" });
        assert.equal(response.status, 200);
        const answer = answerRows("application/jsonlines", await response.text());
        assert.equal(answer.length, 1);
        assertClose(answer[0], expected.slice(0, 3));
      }
    } finally {
      await single.close();
    }
  });
});

describe("a model with two named inputs and two outputs", () => {
  let server: TestServer;
  const dir = modelDir(twoInputTwoOutput());
  const a = [
    [1, 2],
    [0.5, -1],
    [3, 4],
  ];
  const b = [
    [3, 4, 5],
    [0.25, 0, 2],
    [-1, -2, -3],
  ];
  let expected: { sum: Float32Array; scaled: Float32Array };

  before(async () => {
    server = await startTestServer(dir);
    const reference = await runReference(path.join(dir, "model.onnx"), {
      a: new ort.Tensor("float32", Float32Array.from(a.flat()), [3, 2]),
      b: new ort.Tensor("float32", Float32Array.from(b.flat()), [3, 3]),
    });
    expected = { sum: reference.sum as Float32Array, scaled: reference.scaled as Float32Array };
  });
  after(() => server.close());

  it("takes named features from JSON objects and CSV rows in input order, answering per output name", async () => {
    const named = a.map((ai, i) => ({ b: b[i], a: ai }));
    const bodies: Body[] = [
      {
        name: "JSON Lines named",
        contentType: "application/jsonlines",
        text: named.map((r) => JSON.stringify(r)).join("\n"),
      },
      { name: "JSON instances", contentType: "application/json", text: JSON.stringify({ instances: named }) },
      { name: "JSON columnar", contentType: "application/json", text: JSON.stringify({ inputs: { a, b } }) },
      { name: "CSV", contentType: "text/csv", text: a.map((ai, i) => [...ai, ...b[i]].join(",")).join("\n") },
    ];
    for (const body of bodies) {
      const response = await invoke(server, body.text, {
        "content-type": body.contentType,
        accept: "application/jsonlines",
      });
      assert.equal(response.status, 200, body.name);
      const lines = (await response.text())
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { sum: number[]; scaled: number[] });
      assert.equal(lines.length, 3, body.name);
      assertClose(
        lines.flatMap((line) => line.sum),
        expected.sum,
      );
      assertClose(
        lines.flatMap((line) => line.scaled),
        expected.scaled,
      );
      assert.deepEqual(Object.keys(lines[0]), ["sum", "scaled"]);
    }
  });

  it("answers JSON with one object per record and CSV with all outputs flattened", async () => {
    const text = JSON.stringify({ inputs: { a, b } });
    const json = (await (await invoke(server, text, { "content-type": "application/json" })).json()) as {
      predictions: { sum: number[]; scaled: number[] }[];
    };
    assert.equal(json.predictions.length, 3);
    assertClose(
      json.predictions.flatMap((p) => [...p.sum, ...p.scaled]),
      [0, 1, 2].flatMap((r) => [expected.sum[r], ...expected.scaled.subarray(r * 3, r * 3 + 3)]),
    );
    const csv = await (await invoke(server, text, { "content-type": "application/json", accept: "text/csv" })).text();
    assert.deepEqual(
      parseCsvNumbers(csv).map((r) => r.length),
      [4, 4, 4],
    );
  });
});

describe("a model with int64 input and output", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(int64Model()));
  });
  after(() => server.close());

  it("reads integers from JSON and writes int64 outputs exactly (float32 ones in their shortest form)", async () => {
    const response = await invoke(server, '{"instances": [[1, 2, 3], {"ids": [-5, 0, 4503599627370496]}]}', {
      "content-type": "application/json",
    });
    assert.equal(response.status, 200);
    assert.equal(
      await response.text(),
      '{"predictions":[{"doubled":[2,4,6],"ids_out":[2,3,4]},{"doubled":[-10,0,9007199000000000],"ids_out":[-4,1,4503599627370497]}]}',
    );
  });

  it("refuses a fraction for an integer input", async () => {
    const response = await invoke(server, "[1, 2.5, 3]", { "content-type": "application/json" });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { code: string }).code, "JSON_VALUE_NOT_INTEGER");
  });
});
