import assert from "node:assert/strict";
import { copyFileSync, cpSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import ort from "onnxruntime-node";
import { csvCodec } from "../codecs/csv.js";
import type { PluginSources } from "../src/codec/plugin-loader.js";
import { CodecRegistry } from "../src/codec/registry.js";
import { DuplicateCodecError } from "../src/errors.js";
import { temporaryDirectory } from "../src/temporary-directory.js";
import { concat, recordIOFrame } from "./support/binary-writers.js";
import { modelDir, randomRows, smallMlp } from "./support/models.js";
import { assertClose, runReference } from "./support/reference.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const PLUGIN = fileURLToPath(new URL("fixtures/raw-float32-plugin.js", import.meta.url));
const FUTURE = fileURLToPath(new URL("fixtures/future-api-plugin.js", import.meta.url));
const OTHER_COPY = fileURLToPath(new URL("fixtures/other-copy-plugin.js", import.meta.url));
const NPY_PLUGIN = fileURLToPath(new URL("../../plugins/npy", import.meta.url));

describe("codec plugins (SLUICE_PLUGINS)", () => {
  let server: TestServer;
  const dir = modelDir(smallMlp());
  before(async () => {
    server = await startTestServer(dir, { SLUICE_PLUGINS: PLUGIN });
  });
  after(() => server.close());

  it("a plugin takes over a built-in media type and its records run like any other", async () => {
    const rows = 6;
    const values = randomRows(rows, 4, 5);
    const body = concat(
      Array.from({ length: rows }, (_, r) => recordIOFrame(new Uint8Array(values.buffer.slice(r * 16, r * 16 + 16)))),
    );
    const response = await invoke(server, body, { "content-type": "application/x-recordio", accept: "text/csv" });
    assert.equal(response.status, 200);
    const answer = (await response.text())
      .trim()
      .split("\n")
      .map((line) => line.split(",").map(Number));
    const expected = await runReference(path.join(dir, "model.onnx"), {
      features: new ort.Tensor("float32", values, [rows, 4]),
    });
    assertClose(answer.flat(), expected.probabilities as Float32Array);
    assert.ok(server.logs.some((line) => line.includes("raw-float32-recordio")));
  });

  it("the plugin's record errors are reported like built-in ones", async () => {
    const response = await invoke(server, recordIOFrame(new Uint8Array(12)), {
      "content-type": "application/x-recordio",
    });
    assert.equal(response.status, 400);
    assert.deepEqual(
      { ...((await response.json()) as object), error: undefined },
      { error: undefined, code: "RAW_WIDTH", recordIndex: 0, byteOffset: 0 },
    );
  });

  it("negotiates the same headers the same way every time, and sees a codec registered after", () => {
    const registry = new CodecRegistry().register(csvCodec, { builtIn: true });
    const input = registry.resolveInput("text/csv; charset=utf-8");
    assert.equal(registry.resolveInput("text/csv; charset=utf-8"), input, "remembered");
    assert.equal(registry.resolveOutput(undefined, input).codec, csvCodec);
    const plugin = { ...csvCodec, name: "my-csv" };
    registry.register(plugin);
    assert.equal(registry.resolveInput("text/csv; charset=utf-8").codec, plugin);
    assert.equal(registry.resolveOutput(undefined, registry.resolveInput("text/csv")).codec, plugin);
    assert.throws(() => registry.resolveOutput("application/json", input), { code: "NOT_ACCEPTABLE" });
  });

  it("two plugins claiming one media type are refused at start-up, naming both", async () => {
    await assert.rejects(
      startTestServer(dir, { SLUICE_PLUGINS: `${PLUGIN},${PLUGIN}` }),
      (error: unknown) => error instanceof DuplicateCodecError && /raw-float32-recordio/.test(error.message),
    );
    const registry = new CodecRegistry().register(csvCodec);
    assert.throws(() => registry.register({ ...csvCodec, name: "other" }), DuplicateCodecError);
  });

  it("a plugin that cannot be loaded stops start-up with the reason", async () => {
    await assert.rejects(startTestServer(dir, { SLUICE_PLUGINS: "/nonexistent/plugin.js" }), /could not be loaded/);
  });

  it("a plugin written for another plugin API version stops start-up, naming it and the versions", async () => {
    await assert.rejects(
      startTestServer(dir, { SLUICE_PLUGINS: FUTURE }),
      /from-the-future.*version 99.*serves version 1/,
    );
  });
});

/** Threads of this process before and after a fresh worker thread creates a codec registry from `sources`. */
async function threadsAroundRegistry(sources: PluginSources): Promise<{ before: number; after: number }> {
  const loader = new URL("../src/codec/plugin-loader.js", import.meta.url).href;
  const worker = new Worker(
    `const { readdirSync } = require("node:fs");
    const { parentPort, workerData } = require("node:worker_threads");
    import(${JSON.stringify(loader)}).then(async ({ createCodecRegistry }) => {
      const before = readdirSync("/proc/self/task").length;
      await createCodecRegistry(workerData);
      parentPort.postMessage({ before, after: readdirSync("/proc/self/task").length });
    });`,
    { eval: true, workerData: sources },
  );
  try {
    return await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
  } finally {
    await worker.terminate();
  }
}

describe("the resolve hook that plugins' imports of sluice need", () => {
  // Node runs such hooks on a thread of their own, an isolate (~8 MB) for every thread that registers one:
  // registered in every codec thread, 64 threads held 0.5 GB more.
  it("is registered only by a thread that loads plugins", { skip: process.platform !== "linux" }, async () => {
    const plain = await threadsAroundRegistry({});
    assert.equal(plain.after, plain.before);
    const withPlugin = await threadsAroundRegistry({ plugins: [PLUGIN] });
    assert.equal(withPlugin.after, withPlugin.before + 1);
  });
});

describe("plugins with their own copy of Sluice, and plugin bugs", () => {
  let server: TestServer;
  const dir = modelDir(smallMlp());
  before(async () => {
    // A copy of errors.js is a second copy of Sluice's error classes, as a plugin's own `sluice` would be.
    const copyDir = temporaryDirectory("sluice-copy");
    copyFileSync(fileURLToPath(new URL("../src/errors.js", import.meta.url)), path.join(copyDir, "errors.js"));
    process.env.SLUICE_TEST_ERRORS_COPY = pathToFileURL(path.join(copyDir, "errors.js")).href;
    server = await startTestServer(dir, { SLUICE_PLUGINS: OTHER_COPY, SLUICE_ON_RECORD_ERROR: "placeholder" });
  });
  after(async () => {
    await server.close();
    delete process.env.SLUICE_TEST_ERRORS_COPY;
  });

  it("recognises the other copy's RecordError as a record error (a placeholder, not a 500)", async () => {
    const response = await invoke(server, "1\nbad\n3\n", {
      "content-type": "application/x-other-copy",
      accept: "application/jsonlines",
    });
    assert.equal(response.status, 200);
    const lines = (await response.text()).trim().split("\n");
    assert.equal(lines.length, 3);
    assert.equal((JSON.parse(lines[1]) as { code: string }).code, "OTHER_COPY_REFUSED");
  });

  it("answers a plugin's bug with a 500 whose body has no stack, and logs the stack", async () => {
    const response = await invoke(server, "1\nbug\n", { "content-type": "application/x-other-copy" });
    assert.equal(response.status, 500);
    const body = (await response.json()) as { code: string; error: string };
    assert.equal(body.code, "INTERNAL");
    assert.doesNotMatch(JSON.stringify(body), /at .*\.js:\d+/);
    assert.ok(
      server.logs.some((line) => line.includes("invocation failed unexpectedly") && /at .*\.js:\d+/.test(line)),
    );
  });
});

describe("codecs shipped with the model (sluice.json)", () => {
  it("loads the codecs sluice.json lists, relative to the model directory, with their settings", async () => {
    const dir = modelDir(smallMlp());
    cpSync(NPY_PLUGIN, path.join(dir, "codecs", "npy"), { recursive: true });
    writeFileSync(
      path.join(dir, "sluice.json"),
      JSON.stringify({ codecs: ["./codecs/npy"], codecSettings: { csv: { header: "present" } } }),
    );
    const server = await startTestServer(dir, {});
    try {
      const csv = await invoke(server, "a,b,c,d\n0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
      assert.equal(csv.status, 200);
      assert.equal((await csv.text()).trim().split("\n").length, 1, "the header line is skipped");
      const npy = await invoke(server, new Uint8Array([0x93]), { "content-type": "application/x-npy" });
      assert.notEqual(npy.status, 415, "the model's codec is installed");
      await npy.arrayBuffer();
    } finally {
      await server.close();
    }
  });
});
