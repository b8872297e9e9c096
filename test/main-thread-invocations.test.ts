/**
 * Small bodies run on the main thread (handing them to a codec thread costs more than the work): only an
 * uncompressed body declared at most `SLUICE_SMALL_BODY_BYTES` long, read and written by built-in codecs.
 * Their answers are those a codec thread gives; a bad record and a stalled or broken body (here and in
 * `hostile-input.test.ts`) are handled as on a codec thread, and the server goes on serving.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { createCpuBackend } from "../src/backends/onnx-cpu.js";
import { createCodecRegistry } from "../src/codec/plugin-loader.js";
import { DEFAULT_SMALL_BODY_BYTES, loadConfig } from "../src/config.js";
import { runOnMainThread } from "../src/main-thread-invocation.js";
import type { PipelineOptions } from "../src/pipeline.js";
import { StreamLogger } from "../src/stream-logger.js";
import { mlpClassifier } from "../src/testing/onnx-model-writer.js";
import { recordIOFrame } from "./support/binary-writers.js";
import { csvBlock } from "./support/child-server.js";
import { until } from "./support/hanging-body.js";
import { modelDir, smallMlp } from "./support/models.js";
import { assertClose, parseCsvNumbers, referenceProbabilities } from "./support/reference.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const RAW_FLOAT32_PLUGIN = fileURLToPath(new URL("fixtures/raw-float32-plugin.js", import.meta.url));
const csv = { "content-type": "text/csv", accept: "text/csv" };

/** The `thread` of the `count`-th invocation line, once it is written. */
async function threadOf(server: TestServer, count: number): Promise<unknown> {
  const lines = () => server.records.filter((record) => record.msg === "invocation");
  await until(() => lines().length >= count, `invocation line ${count}`);
  return lines()[count - 1].thread;
}

const SMALL_MLP_FILE = path.join(modelDir(smallMlp()), "model.onnx");
/** The model's probabilities for a CSV body of 4-feature rows, from ONNX Runtime directly. */
const expectedFor = (body: Uint8Array) => referenceProbabilities(SMALL_MLP_FILE, body, 4);

describe("where an invocation runs", () => {
  let server: TestServer;
  let invocations = 0;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), { SLUICE_PLUGINS: RAW_FLOAT32_PLUGIN });
  });
  after(() => server.close());

  it("a body up to SLUICE_SMALL_BODY_BYTES on the main thread, a longer one on a codec thread, with the same answers", async () => {
    assert.equal(server.config.smallBodyBytes, DEFAULT_SMALL_BODY_BYTES);
    // 4 × "0.xxxx" per row: 28 bytes a row.
    const small = csvBlock(Math.floor(DEFAULT_SMALL_BODY_BYTES / 28), 4, 3);
    const large = csvBlock(Math.ceil(DEFAULT_SMALL_BODY_BYTES / 28) + 10, 4, 3);
    assert.ok(small.byteLength <= DEFAULT_SMALL_BODY_BYTES && large.byteLength > DEFAULT_SMALL_BODY_BYTES);
    for (const [body, thread] of [
      [small, "main"],
      [large, "codec"],
    ] as const) {
      const response = await invoke(server, body, csv);
      const text = await response.text();
      assert.equal(response.status, 200, text.slice(0, 200));
      assertClose(parseCsvNumbers(text).flat(), await expectedFor(body));
      assert.equal(await threadOf(server, ++invocations), thread);
    }
  });

  it("a compressed body, one of unknown length, and one a plugin reads on a codec thread, however small", async () => {
    const body = csvBlock(3, 4, 5);
    const expected = await expectedFor(body);
    const gzipped = await invoke(server, zlib.gzipSync(body), { ...csv, "content-encoding": "gzip" });
    assertClose(parseCsvNumbers(await gzipped.text()).flat(), expected);
    assert.equal(await threadOf(server, ++invocations), "codec");
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body);
        controller.close();
      },
    });
    const unknownLength = await invoke(server, chunked, csv);
    assertClose(parseCsvNumbers(await unknownLength.text()).flat(), expected);
    assert.equal(await threadOf(server, ++invocations), "codec");
    const features = new Float32Array([0.1, 0.2, 0.3, 0.4]);
    const plugin = await invoke(server, recordIOFrame(new Uint8Array(features.buffer)), {
      "content-type": "application/x-recordio",
      accept: "text/csv",
    });
    assert.equal(plugin.status, 200);
    await plugin.arrayBuffer();
    assert.equal(await threadOf(server, ++invocations), "codec");
  });

  it("a bad record in a small body is a 400 naming its index, and the next body is served", async () => {
    const bad = await invoke(server, "0.1,0.2,0.3,0.4\n0.5,oops,0.7,0.8\n", csv);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { recordIndex: number }).recordIndex, 1);
    assert.equal(await threadOf(server, ++invocations), "main");
    const good = await invoke(server, "0.1,0.2,0.3,0.4\n", csv);
    assert.equal(good.status, 200);
    await good.arrayBuffer();
    assert.equal(await threadOf(server, ++invocations), "main");
  });
});

describe("a small body that is not a Node stream (a transform job's, a web stream)", () => {
  const run = async (body: AsyncIterable<Uint8Array>, bodyIdleTimeoutMs: number) => {
    const registry = await createCodecRegistry({});
    const backend = await createCpuBackend({
      modelPath: `${modelDir(smallMlp())}/model.onnx`,
      cpus: 1,
      intraOpThreads: 1,
    });
    const input = registry.resolveInput("text/csv");
    const options: PipelineOptions = {
      backend,
      input,
      output: registry.resolveOutput("text/csv", input),
      batchRows: 16,
      maxBodyBytes: undefined,
      recordErrorPolicy: "fail",
      singleRecord: false,
      maxPendingBatches: 2,
    };
    const log = new StreamLogger({ sink: () => {}, format: "json", level: "error" });
    try {
      let text = "";
      for await (const chunk of runOnMainThread(body, options, bodyIdleTimeoutMs, log).output) {
        text += new TextDecoder().decode(chunk);
      }
      return text;
    } finally {
      await backend.close();
    }
  };
  const encoder = new TextEncoder();

  it("is read chunk by chunk and answered", async () => {
    async function* body() {
      yield encoder.encode("0.1,0.2,");
      yield encoder.encode("0.3,0.4\n0.5,0.6,0.7,0.8\n");
    }
    assert.equal(parseCsvNumbers(await run(body(), 1000)).length, 2);
  });

  it("fails with 408 when it stalls, and with 499 when it breaks off", { timeout: 10_000 }, async () => {
    async function* stalls() {
      yield encoder.encode("0.1,0.2,");
      await new Promise(() => {});
    }
    await assert.rejects(run(stalls(), 50), (error: Error & { status?: number }) => error.status === 408);
    async function* breaks() {
      yield encoder.encode("0.1,0.2,");
      throw new Error("the connection was reset");
    }
    await assert.rejects(run(breaks(), 1000), (error: Error & { status?: number }) => error.status === 499);
  });
});

describe("a model that answers more values than it reads", () => {
  it("counts a body as that many times longer: its answers are encoded on a codec thread unless tiny", async () => {
    // 4 features → 256 probabilities: a body counts 64 times its length.
    const server = await startTestServer(modelDir(mlpClassifier({ inputWidth: 4, hidden: 8, classes: 256, seed: 11 })));
    try {
      for (const [rows, thread] of [
        [1, "main"],
        [40, "codec"],
      ] as const) {
        const body = csvBlock(rows, 4, 2);
        assert.equal(body.byteLength * 64 > DEFAULT_SMALL_BODY_BYTES, thread === "codec");
        const response = await invoke(server, body, csv);
        assert.equal(response.status, 200);
        assert.equal(parseCsvNumbers(await response.text()).flat().length, rows * 256);
        assert.equal(await threadOf(server, rows === 1 ? 1 : 2), thread);
      }
    } finally {
      await server.close();
    }
  });
});

describe("SLUICE_SMALL_BODY_BYTES", () => {
  it("is 16 KiB by default, 0 to send every body to a codec thread, and refused past 1 MiB", () => {
    assert.equal(loadConfig({}).smallBodyBytes, 16 * 1024);
    assert.equal(loadConfig({ SLUICE_SMALL_BODY_BYTES: "0" }).smallBodyBytes, 0);
    assert.throws(() => loadConfig({ SLUICE_SMALL_BODY_BYTES: String(2 ** 20 + 1) }), /SLUICE_SMALL_BODY_BYTES/);
  });

  it("= 0 runs even a one-row body on a codec thread", async () => {
    const server = await startTestServer(modelDir(smallMlp()), { SLUICE_SMALL_BODY_BYTES: "0" });
    try {
      const response = await invoke(server, "0.1,0.2,0.3,0.4\n", csv);
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      assert.equal(await threadOf(server, 1), "codec");
    } finally {
      await server.close();
    }
  });
});
