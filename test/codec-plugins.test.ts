import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";
import { csvCodec } from "../codecs/csv.js";
import { CodecRegistry } from "../src/codec/registry.js";
import { DuplicateCodecError } from "../src/errors.js";
import { concat, recordIOFrame } from "./support/binary-writers.js";
import { modelDir, randomRows, smallMlp } from "./support/models.js";
import { assertClose, runReference } from "./support/reference.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const PLUGIN = fileURLToPath(new URL("fixtures/raw-float32-plugin.js", import.meta.url));

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
});
