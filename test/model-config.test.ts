import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../src/config.js";
import { ConfigError } from "../src/errors.js";
import { codecSignature, readModelConfig } from "../src/model/model-config.js";
import { findModelFile, locateModel } from "../src/model/model-location.js";
import { temporaryDirectory } from "../src/temporary-directory.js";
import { modelDir, sequenceModel, smallMlp, twoInputTwoOutput } from "./support/models.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

function dirWith(files: Record<string, string | Uint8Array>): string {
  const dir = temporaryDirectory("sluice-config");
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

describe("sluice.json", () => {
  it("is optional, and validated when present, naming the file and the key", () => {
    assert.equal(readModelConfig(dirWith({})), undefined);
    const cases: [string, RegExp][] = [
      ["{", /not valid JSON/],
      ["[]", /JSON object/],
      ['{"modle": "a.onnx"}', /unknown key\(s\) modle/],
      ['{"model": "../a.onnx"}', /"model"/],
      ['{"inputs": {"a": 1}}', /"inputs"/],
      ['{"batchRows": 0}', /"batchRows"/],
      ['{"accept": "json"}', /"accept"/],
      ['{"dimensions": {"sequence": 0}}', /"dimensions"/],
      ['{"dimensions": {"sequence": "128"}}', /"dimensions"/],
      ['{"dimensions": [128]}', /"dimensions"/],
      ['{"missingValues": "zero"}', /"missingValues" must be "nan" or "refuse"/],
      ['{"codecs": "./codecs/npy"}', /"codecs" must list codec plugins/],
      ['{"codecSettings": {"csv": {"header": true}}}', /"codecSettings" must map codec names to settings/],
      ['{"codecSettings": ["csv"]}', /"codecSettings"/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => readModelConfig(dirWith({ "sluice.json": text })),
        (error: unknown) =>
          error instanceof ConfigError && /sluice\.json/.test(error.message) && message.test(error.message),
        text,
      );
    }
  });

  it("chooses the model file, and several .onnx files without it is an error listing them", () => {
    const dir = dirWith({ "a.onnx": smallMlp(), "b.onnx": smallMlp() });
    assert.throws(() => findModelFile(dir), /several model files \(a\.onnx, b\.onnx\).*sluice\.json/);
    assert.equal(findModelFile(dir, { model: "b.onnx" }), path.join(dir, "b.onnx"));
    assert.throws(() => findModelFile(dir, { model: "c.onnx" }), /names c\.onnx, which is not in .*a\.onnx, b\.onnx/);
  });

  it("a directory without a model says what it holds, and a model packed in a folder of the archive", () => {
    const dir = temporaryDirectory("sluice-nested");
    assert.throws(() => findModelFile(dir), /holds no model: .*; it holds nothing$/);
    mkdirSync(path.join(dir, "my-model"));
    writeFileSync(path.join(dir, "my-model", "model.onnx"), smallMlp());
    writeFileSync(path.join(dir, "notes.txt"), "");
    assert.throws(
      () => findModelFile(dir),
      /holds no model: .*; it holds my-model\/, notes\.txt \(the model is in my-model\/: a model\.tar\.gz must hold its files at its root/,
    );
  });

  it("renames inputs for the codecs, refusing a mapping to an input the model lacks", () => {
    const signature = {
      inputs: [
        { name: "a", type: "float32" as const, recordShape: [2], width: 2 },
        { name: "b", type: "float32" as const, recordShape: [3], width: 3 },
      ],
      outputs: [],
      maxBatchRows: Number.POSITIVE_INFINITY,
    };
    assert.deepEqual(
      codecSignature(signature, { inputs: { left: "a" } }).inputs.map((input) => input.name),
      ["left", "b"],
    );
    assert.throws(
      () => codecSignature(signature, { inputs: { x: "c" } }),
      /not an input of the model \(its inputs: a, b\)/,
    );
  });
});

describe("a model directory with sluice.json, served", () => {
  let server: TestServer;
  before(async () => {
    const dir = modelDir(twoInputTwoOutput(), "two.onnx");
    copyFileSync(path.join(modelDir(smallMlp()), "model.onnx"), path.join(dir, "other.onnx"));
    writeFileSync(
      path.join(dir, "sluice.json"),
      JSON.stringify({
        model: "two.onnx",
        inputs: { left: "a", right: "b" },
        batchRows: 2,
        accept: "application/jsonlines",
      }),
    );
    server = await startTestServer(dir);
  });
  after(() => server.close());

  it("serves the named model, takes the mapped feature names, and answers in the default Accept", async () => {
    const body =
      '{"left": [1, 2], "right": [3, 4, 5]}\n{"left": [0, 0], "right": [1, 1, 1]}\n{"left": [1, 1], "right": [0, 0, 0]}';
    const response = await invoke(server, body, { "content-type": "application/jsonlines" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/jsonlines");
    const lines = (await response.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { sum: number[] });
    assert.deepEqual(
      lines.map((line) => line.sum),
      [[15], [3], [2]],
    );
    const explicit = await invoke(server, body, { "content-type": "application/jsonlines", accept: "text/csv" });
    assert.equal(explicit.headers.get("content-type"), "text/csv");
    assert.ok(server.logs.some((line) => /model loaded .*two\.onnx.*batch_rows=2/.test(line)));
  });
});

describe("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", () => {
  it("answers a request without Accept (or with */*) in that format, before sluice.json's; one no codec writes stops start-up", async () => {
    const dir = modelDir(smallMlp());
    writeFileSync(path.join(dir, "sluice.json"), JSON.stringify({ accept: "application/jsonlines" }));
    const server = await startTestServer(dir, { SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: "application/json" });
    try {
      for (const accept of [undefined, "*/*"]) {
        const headers: Record<string, string> = { "content-type": "text/csv", ...(accept && { accept }) };
        const response = await invoke(server, "1,2,3,4\n", headers);
        assert.equal(response.headers.get("content-type"), "application/json", `Accept ${accept}`);
        assert.equal(((await response.json()) as { predictions: number[][] }).predictions[0].length, 3);
      }
      const explicit = await invoke(server, "1,2,3,4\n", { "content-type": "text/csv", accept: "text/csv" });
      assert.equal(explicit.headers.get("content-type"), "text/csv");
    } finally {
      await server.close();
    }
    const unwritable = await startTestServer(
      modelDir(smallMlp()),
      { SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: "application/x-parquet" },
      { waitForModel: false },
    );
    try {
      await assert.rejects(
        unwritable.running.modelLoaded,
        /SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT is application\/x-parquet, which no installed codec writes/,
      );
    } finally {
      await unwritable.close();
    }
    assert.throws(
      () => loadConfig({ SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: "csv" }),
      /SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT="csv" is not a media type/,
    );
  });
});

describe("a model.tar.gz given as the model directory", () => {
  it("is unpacked as the platform unpacks it, served, and named in the log", async () => {
    const source = dirWith({ "sluice.json": JSON.stringify({ inputs: { pixels: "features" } }) });
    writeFileSync(path.join(source, "model.onnx"), smallMlp());
    const archive = path.join(temporaryDirectory("sluice-archive"), "model.tar.gz");
    execFileSync("tar", ["-czf", archive, "-C", source, "model.onnx", "sluice.json"]);
    const server = await startTestServer(archive);
    try {
      const response = await invoke(server, '{"pixels": [1, 2, 3, 4]}', {
        "content-type": "application/json",
        accept: "application/json",
      });
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(((await response.json()) as { predictions: number[][] }).predictions[0].length, 3);
      const unpacked = server.records.find((record) => record.msg?.toString().startsWith("model archive unpacked"));
      assert.equal(unpacked?.archive, archive);
      assert.match(String(unpacked?.dir), /sluice-unpacked-model-/);
    } finally {
      await server.close();
    }
  });

  it("a file that is no archive, or a damaged archive, stops start-up with the reason", async () => {
    const dir = temporaryDirectory("sluice-archive");
    const onnx = path.join(dir, "model.onnx");
    writeFileSync(onnx, smallMlp());
    await assert.rejects(locateModel(onnx, false), /model directory .*model\.onnx is a file: give the directory/);
    const damaged = path.join(dir, "model.tar.gz");
    writeFileSync(damaged, new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    await assert.rejects(locateModel(damaged, false), /could not unpack the model archive .*model\.tar\.gz: .+/);
    // The directory the archive was downloaded to.
    const downloads = dirWith({ "model.tar.gz": new Uint8Array([0x1f, 0x8b]) });
    await assert.rejects(locateModel(downloads, false), /to serve the archive model\.tar\.gz, give it as the model/);
  });
});

describe("sizes for a model's dynamic dimensions (dimensions in sluice.json)", () => {
  const sequenceDir = (config?: object) => {
    const dir = modelDir(sequenceModel());
    if (config) writeFileSync(path.join(dir, "sluice.json"), JSON.stringify(config));
    return dir;
  };
  const loadFailure = async (dir: string) => {
    const server = await startTestServer(dir, {}, { waitForModel: false });
    try {
      await server.running.modelLoaded.catch(() => {});
      const ping = await fetch(`${server.url}/ping`);
      assert.equal(ping.status, 503);
      return ((await ping.json()) as { error: string }).error;
    } finally {
      await server.close();
    }
  };

  it("serve a [batch, sequence] model with records of that many values, its outputs sized too", async () => {
    const server = await startTestServer(sequenceDir({ dimensions: { sequence: 4 } }));
    try {
      const csv = await invoke(server, "1,2,3,4,1,1,0,0\n5,6,7,8,1,1,1,1\n", { "content-type": "text/csv" });
      assert.equal(csv.status, 200);
      assert.equal(await csv.text(), "3,1,2,3,4\n26,5,6,7,8\n");
      const json = await invoke(server, '{"input_ids": [9, 1, 1, 1], "attention_mask": [1, 0, 0, 1]}\n', {
        "content-type": "application/jsonlines",
        accept: "application/jsonlines",
      });
      assert.equal(await json.text(), '{"masked_sum":10,"ids_out":[9,1,1,1]}\n');
      const short = await invoke(server, "1,2,3,4,1,1,0\n", { "content-type": "text/csv" });
      assert.equal(short.status, 400);
      assert.ok(server.logs.some((line) => /inputs="?input_ids:int64\[N,4\] attention_mask:int64\[N,4\]/.test(line)));
    } finally {
      await server.close();
    }
  });

  it("take SLUICE_DIMENSIONS before sluice.json's", async () => {
    const server = await startTestServer(sequenceDir({ dimensions: { sequence: 4 } }), {
      SLUICE_DIMENSIONS: "sequence=2",
    });
    try {
      const csv = await invoke(server, "1,2,1,0\n", { "content-type": "text/csv" });
      assert.equal(await csv.text(), "1,1,2\n");
    } finally {
      await server.close();
    }
  });

  it("without them, the model is refused naming the dimension and the fix; a name the model lacks is refused", async () => {
    assert.match(
      await loadFailure(sequenceDir()),
      /model input "input_ids" has a dynamic dimension at axis 1 \("sequence"\); .*\{"dimensions": \{"sequence": 128\}\}/,
    );
    assert.match(
      await loadFailure(sequenceDir({ dimensions: { sequense: 4 } })),
      /for dimension\(s\) sequense, which the model's inputs and outputs do not have \(their named dimensions: batch, sequence\)/,
    );
  });
});

describe("a model directory that cannot be served", () => {
  it("answers 503 with the reason: several .onnx files and no sluice.json", async () => {
    const server = await startTestServer(
      dirWith({ "a.onnx": smallMlp(), "b.onnx": smallMlp() }),
      {},
      { waitForModel: false },
    );
    try {
      await server.running.modelLoaded.catch(() => {});
      const ping = await fetch(`${server.url}/ping`);
      assert.equal(ping.status, 503);
      assert.match(((await ping.json()) as { error: string }).error, /several model files \(a\.onnx, b\.onnx\)/);
    } finally {
      await server.close();
    }
  });
});
