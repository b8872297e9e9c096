/**
 * A model that does not load says why, as the model's fault (a `ConfigError`, `/ping` 503 with the reason),
 * never as an internal error: a file that is not ONNX, a graph ONNX Runtime refuses, and an input or output
 * type that ONNX Runtime for Node cannot hand to JavaScript, which it names only by number.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { cpuSessionOptions } from "../src/backends/onnx-cpu.js";
import { OnnxModelSession } from "../src/backends/onnx-model-session.js";
import { ConfigError } from "../src/errors.js";
import { type ElementTypeName, writeModel } from "../src/model/onnx-writer.js";
import { temporaryDirectory } from "../src/temporary-directory.js";
import { modelDir } from "./support/models.js";
import { startTestServer } from "./support/server.js";

/** `y = Identity(x)`, both of `type`. */
const identityOf = (type: ElementTypeName) =>
  writeModel({
    name: `identity_${type}`,
    inputs: [{ name: "x", type, shape: ["N", 2] }],
    outputs: [{ name: "y", type, shape: ["N", 2] }],
    nodes: [{ op: "Identity", inputs: ["x"], outputs: ["y"] }],
  });

async function loadFailure(dir: string): Promise<ConfigError> {
  const modelPath = path.join(dir, "model.onnx");
  const failure = await OnnxModelSession.create({ modelPath, sessionOptions: cpuSessionOptions(1) }).then(
    () => assert.fail("the model loaded"),
    (error: unknown) => error,
  );
  assert.ok(failure instanceof ConfigError, String(failure));
  return failure;
}

describe("a model that does not load", () => {
  it("names a bfloat16 input or output, which ONNX Runtime for Node reports only as type 16", async () => {
    const failure = await loadFailure(modelDir(identityOf("bfloat16")));
    assert.match(failure.message, /^a model input or output has element type bfloat16, .* Sluice supports float32, /);
    assert.match(failure.message, /uint32, uint64/);
  });

  it("gives ONNX Runtime's reason for a file that is not ONNX and a type it cannot load", async () => {
    const garbage = temporaryDirectory("sluice-garbage");
    writeFileSync(path.join(garbage, "model.onnx"), "not a model");
    assert.match(
      (await loadFailure(garbage)).message,
      /^ONNX Runtime cannot load the model: .*Protobuf parsing failed/,
    );
    assert.match((await loadFailure(modelDir(identityOf("complex64")))).message, /complex64/);
  });

  it("answers /ping 503 with that reason, and no internal error", async () => {
    const server = await startTestServer(modelDir(identityOf("bfloat16")), {}, { waitForModel: false });
    try {
      await assert.rejects(server.running.modelLoaded);
      const ping = await fetch(`${server.url}/ping`);
      assert.equal(ping.status, 503);
      const body = (await ping.json()) as { code: string; error: string };
      assert.equal(body.code, "MODEL_LOAD_FAILED");
      assert.match(body.error, /^the model failed to load: a model input or output has element type bfloat16/);
    } finally {
      await server.close();
    }
  });
});
