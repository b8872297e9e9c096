import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { temporaryDirectory } from "../src/temporary-directory.js";
import { streamOf } from "./support/chunks.js";
import { failingModel, lookupModel, modelDir, smallMlp } from "./support/models.js";
import { invoke, requestOverNodeHttp, startTestServer, type TestServer } from "./support/server.js";

const csvRows = (count: number) => "0.1,0.2,0.3,0.4\n".repeat(count);

describe("the serving contract over HTTP", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), { SAGEMAKER_MAX_PAYLOAD_IN_MB: "1" });
  });
  after(() => server.close());

  it("GET /ping answers 200 with an empty body once the model is loaded", async () => {
    const response = await fetch(`${server.url}/ping`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "");
  });

  it("GET /execution-parameters answers within the platform's limits", async () => {
    const response = await fetch(`${server.url}/execution-parameters`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ["BatchStrategy", "MaxConcurrentTransforms", "MaxPayloadInMB"]);
    const concurrency = body.MaxConcurrentTransforms as number;
    const payload = body.MaxPayloadInMB as number;
    assert.ok(Number.isInteger(concurrency) && concurrency >= 1);
    assert.ok(Number.isInteger(payload) && payload >= 1 && payload <= 100);
    assert.ok(concurrency * payload <= 100);
    assert.equal(body.BatchStrategy, "MULTI_RECORD");
  });

  it("answers */* and a missing Accept in the input's format", async () => {
    for (const accept of [undefined, "*/*", "text/csv; charset=utf-8"]) {
      const headers: Record<string, string> = { "content-type": "Text/CSV; charset=utf-8" };
      if (accept) headers.accept = accept;
      const response = await invoke(server, csvRows(3), headers);
      assert.equal(response.status, 200, String(accept));
      assert.equal(response.headers.get("content-type"), "text/csv");
      assert.equal((await response.text()).trim().split("\n").length, 3);
    }
  });

  it("logs the inference id with the request", async () => {
    await (
      await invoke(server, csvRows(1), { "content-type": "text/csv", "x-amzn-sagemaker-inference-id": "job-42" })
    ).text();
    assert.ok(server.logs.some((line) => line.includes("inference_id=job-42") && line.includes("records=1")));
  });

  it("415 for a Content-Type no codec reads, and for none at all", async () => {
    for (const headers of [{ "content-type": "application/x-unknown" }, {} as Record<string, string>]) {
      const response = await invoke(server, new TextEncoder().encode("1,2,3,4\n"), headers);
      assert.equal(response.status, 415);
      const body = (await response.json()) as { code: string; supported: string[] };
      assert.match(body.code, /UNSUPPORTED_MEDIA_TYPE|CONTENT_TYPE_MISSING/);
      assert.ok(body.supported.includes("text/csv"));
    }
  });

  it("415 for a Content-Type parameter a codec's setting does not allow (`header=yes`), naming it", async () => {
    const refused = await invoke(server, "a,b,c,d\n1,2,3,4\n", { "content-type": "text/csv; header=yes" });
    assert.equal(refused.status, 415);
    const body = (await refused.json()) as { code: string; error: string };
    assert.equal(body.code, "MEDIA_TYPE_PARAMETER_NOT_ALLOWED");
    assert.match(body.error, /header="yes" is not one of absent, present/);
    const allowed = await invoke(server, "a,b,c,d\n1,2,3,4\n", { "content-type": "text/csv; header=present" });
    assert.equal(allowed.status, 200);
    assert.equal((await allowed.text()).trim().split("\n").length, 1);
  });

  it("406 when Accept names no format that can carry the output", async () => {
    const response = await invoke(server, csvRows(1), { "content-type": "text/csv", accept: "image/png, text/*;q=0" });
    assert.equal(response.status, 406);
    assert.equal(((await response.json()) as { code: string }).code, "NOT_ACCEPTABLE");
  });

  it("413 for a body over SAGEMAKER_MAX_PAYLOAD_IN_MB, declared or streamed without a length", async () => {
    const big = csvRows(70_000); // 1.1 MiB
    const declared = await invoke(server, big, { "content-type": "text/csv" });
    assert.equal(declared.status, 413);
    assert.equal(((await declared.json()) as { code: string }).code, "PAYLOAD_TOO_LARGE");
    const bytes = new TextEncoder().encode(big);
    const chunks = Array.from({ length: 20 }, (_, i) => bytes.subarray(i * 60_000, (i + 1) * 60_000));
    const streamed = await invoke(server, streamOf(chunks), { "content-type": "text/csv" });
    assert.equal(streamed.status, 413);
    const ping = await fetch(`${server.url}/ping`);
    assert.equal(ping.status, 200);
  });

  it("400 for a bad row, naming its index and line, and keeps serving", async () => {
    const body = `${csvRows(5)}0.1,oops,0.3,0.4\n${csvRows(2)}`;
    const response = await invoke(server, body, { "content-type": "text/csv" });
    assert.equal(response.status, 400);
    const error = (await response.json()) as Record<string, unknown>;
    assert.equal(error.code, "CSV_FIELD_NOT_NUMERIC");
    assert.equal(error.recordIndex, 5);
    assert.equal(error.line, 6);
    assert.equal(error.byteOffset, 5 * 16);
    assert.match(String(error.error), /oops/);
    const next = await invoke(server, csvRows(2), { "content-type": "text/csv" });
    assert.equal(next.status, 200);
  });

  it("400 for a row of the wrong width", async () => {
    const response = await invoke(server, "1,2,3,4\n1,2,3\n", { "content-type": "text/csv" });
    assert.equal(response.status, 400);
    const error = (await response.json()) as Record<string, unknown>;
    assert.equal(error.code, "CSV_WIDTH_MISMATCH");
    assert.equal(error.recordIndex, 1);
  });

  it("404 with a JSON body for an unknown route", async () => {
    const response = await fetch(`${server.url}/predict`);
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { code: string }).code, "NOT_FOUND");
  });

  it("405 with an Allow header for a route asked with the wrong method", async () => {
    for (const [method, path, allowed] of [
      ["GET", "/invocations", ["POST"]],
      ["POST", "/ping", ["GET", "HEAD"]],
      ["DELETE", "/execution-parameters", ["GET", "HEAD"]],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, { method });
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.headers.get("allow"), allowed.join(", "));
      const body = (await response.json()) as { code: string; allowed: string[] };
      assert.equal(body.code, "METHOD_NOT_ALLOWED");
      assert.deepEqual(body.allowed, allowed);
    }
    const ping = await fetch(`${server.url}/ping`, { method: "HEAD" });
    assert.equal(ping.status, 200);
  });
});

describe("a model that fails", () => {
  it("500 when the model throws on valid input, and the server keeps serving", async () => {
    const server = await startTestServer(modelDir(failingModel()), { SLUICE_BATCH_ROWS: "1" });
    try {
      const response = await invoke(server, "1,2\n", { "content-type": "text/csv" });
      assert.equal(response.status, 500);
      const error = (await response.json()) as Record<string, unknown>;
      assert.equal(error.code, "MODEL_EXECUTION_FAILED");
      assert.equal(error.firstRecordIndex, 0);
      assert.equal((await fetch(`${server.url}/ping`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it("500 naming the record the model fails on, found by running the batch's parts", async () => {
    const rows = Array.from({ length: 3000 }, (_, r) => (r === 2500 ? "1,9" : `${r % 4},${(r + 1) % 4}`));
    for (const [batchRows, firstRecordIndex, recordCount] of [
      [undefined, 0, 3000],
      ["256", 2304, 256],
    ] as const) {
      const server = await startTestServer(modelDir(lookupModel()), batchRows ? { SLUICE_BATCH_ROWS: batchRows } : {});
      try {
        const response = await invoke(server, `${rows.join("\n")}\n`, { "content-type": "text/csv" });
        assert.equal(response.status, 500);
        const error = (await response.json()) as Record<string, unknown>;
        assert.equal(error.code, "MODEL_EXECUTION_FAILED");
        assert.equal(error.recordIndex, 2500);
        assert.match(String(error.error), /^the model failed on record 2500: .*idx=9/);
        assert.deepEqual([error.firstRecordIndex, error.recordCount], [firstRecordIndex, recordCount]);
        const good = await invoke(server, "3,0\n", { "content-type": "text/csv" });
        assert.equal(await good.text(), "9,10,11,0,1,2\n");
      } finally {
        await server.close();
      }
    }
  });

  it("with SLUICE_ON_RECORD_ERROR=placeholder, answers every record around those the model fails on", async () => {
    const bad = new Set([7, 1500, 2303, 2304, 2999]);
    const rows = Array.from({ length: 3000 }, (_, r) => (bad.has(r) ? `${r % 4},-9` : `${r % 4},${(r + 1) % 4}`));
    const server = await startTestServer(modelDir(lookupModel()), {
      SLUICE_ON_RECORD_ERROR: "placeholder",
      SLUICE_BATCH_ROWS: "256",
    });
    try {
      const response = await invoke(server, `${rows.join("\n")}\n`, { "content-type": "text/csv" });
      assert.equal(response.status, 200);
      const lines = (await response.text()).trimEnd().split("\n");
      assert.equal(lines.length, 3000);
      const table = (id: number) => [id * 3, id * 3 + 1, id * 3 + 2];
      lines.forEach((line, r) => {
        const expected = bad.has(r) ? "ERROR" : [...table(r % 4), ...table((r + 1) % 4)].join(",");
        assert.equal(line, expected, `record ${r}`);
      });
      const lined = await invoke(server, "1,2\n0,-9\n", {
        "content-type": "text/csv",
        accept: "application/jsonlines",
      });
      const [, failed] = (await lined.text()).trimEnd().split("\n");
      assert.match(
        failed,
        /^\{"error":"the model failed on this record: .*idx=-9.*","code":"MODEL_EXECUTION_FAILED"\}$/,
      );
      assert.ok(server.logs.some((line) => line.includes("records=3000 failed_records=5")));
      const logged = server.records.find((record) => record.records === 3000)?.first_failed_record as
        | Record<string, unknown>
        | undefined;
      assert.equal(logged?.record_index, 7);
      assert.equal(logged?.code, "MODEL_EXECUTION_FAILED");
      assert.match(String(logged?.reason), /^the model failed on this record: .*idx=-9/);
    } finally {
      await server.close();
    }
  });

  it("500 naming no record when no part of the batch runs either (not the records' fault)", async () => {
    const server = await startTestServer(modelDir(failingModel()), { SLUICE_BATCH_ROWS: "4" });
    try {
      const response = await invoke(server, "1,2\n3,4\n5,6\n7,8\n", { "content-type": "text/csv" });
      assert.equal(response.status, 500);
      const error = (await response.json()) as Record<string, unknown>;
      assert.equal(error.recordIndex, undefined);
      assert.deepEqual([error.firstRecordIndex, error.recordCount], [0, 4]);
      assert.match(String(error.error), /^the model failed: /);
    } finally {
      await server.close();
    }
  });

  it("sends an answer of many chunks whole, with its Content-Length: the answers of its halves, in order", async () => {
    // 64-row batches: the codec thread sends the answer in many chunks, all within the response hold.
    const server = await startTestServer(modelDir(smallMlp()), { SLUICE_BATCH_ROWS: "64" });
    try {
      const rows = Array.from({ length: 6000 }, (_, i) => `${i % 7},${(i % 13) / 4},-${i % 5},${i / 1000}\n`);
      const post = (body: string) => requestOverNodeHttp(server.url, { body, headers: { "content-type": "text/csv" } });
      const whole = await post(rows.join(""));
      assert.equal(whole.headers["transfer-encoding"], undefined);
      assert.equal(whole.headers["content-length"], String(Buffer.byteLength(whole.text)));
      assert.equal(whole.text.split("\n").length, rows.length + 1);
      const first = await post(rows.slice(0, 2500).join(""));
      const second = await post(rows.slice(2500).join(""));
      assert.equal(whole.text, first.text + second.text);
    } finally {
      await server.close();
    }
  });

  it("503 with the reason from /ping and /invocations when the model cannot load", async () => {
    const dir = temporaryDirectory("sluice-bad-model");
    writeFileSync(path.join(dir, "model.onnx"), "this is not an ONNX file");
    const server = await startTestServer(dir, {}, { waitForModel: false });
    try {
      await assert.rejects(server.running.modelLoaded);
      const ping = await fetch(`${server.url}/ping`);
      assert.equal(ping.status, 503);
      assert.equal(((await ping.json()) as { code: string }).code, "MODEL_LOAD_FAILED");
      const response = await invoke(server, "1\n", { "content-type": "text/csv" });
      assert.equal(response.status, 503);
      assert.ok(server.logs.some((line) => line.includes("model failed to load")));
    } finally {
      await server.close();
    }
  });
});
