import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createCodecRegistry } from "../src/codec/plugin-loader.js";
import { CodecRegistry } from "../src/codec/registry.js";
import {
  acceptingThreads,
  describeConfiguration,
  EVERY_THREAD_FROM_CODEC_THREADS,
  loadConfig,
  MAX_CODEC_THREADS,
  parseServeFlags,
} from "../src/config.js";
import { ConfigError } from "../src/errors.js";
import { InvocationService } from "../src/invocation-service.js";
import { StreamLogger } from "../src/stream-logger.js";
import { MAX_MODEL_SESSIONS } from "../src/threads/model-sessions.js";

const refuses = (env: Record<string, string>, name: string) =>
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => error instanceof ConfigError && error.message.includes(name),
    `${JSON.stringify(env)} should be refused naming ${name}`,
  );

describe("configuration", () => {
  it("has the platform's defaults when nothing is set", () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.batchJob, false);
    assert.equal(config.maxPayloadBytes, undefined);
    assert.equal(config.backend, "cpu");
    assert.equal(config.recordErrorPolicy, "fail");
  });

  it("reads the SageMaker variables", () => {
    const config = loadConfig({
      SAGEMAKER_BATCH: "true",
      SAGEMAKER_MAX_PAYLOAD_IN_MB: "6",
      SAGEMAKER_BATCH_STRATEGY: "SINGLE_RECORD",
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "4",
      SAGEMAKER_BIND_TO_PORT: "9090",
    });
    assert.equal(config.batchJob, true);
    assert.equal(config.maxPayloadBytes, 6 * 1024 * 1024);
    assert.equal(config.batchStrategy, "SINGLE_RECORD");
    assert.equal(config.maxConcurrentTransforms, 4);
    assert.equal(config.port, 9090);
  });

  it("takes both spellings of the batch strategy", () => {
    assert.equal(loadConfig({ SAGEMAKER_BATCH_STRATEGY: "MultiRecord" }).batchStrategy, "MULTI_RECORD");
    assert.equal(loadConfig({ SAGEMAKER_BATCH_STRATEGY: "SingleRecord" }).batchStrategy, "SINGLE_RECORD");
  });

  it("reads a payload of 0 as unlimited", () => {
    assert.equal(loadConfig({ SAGEMAKER_MAX_PAYLOAD_IN_MB: "0" }).maxPayloadBytes, undefined);
  });

  it("refuses malformed values, naming the variable", () => {
    refuses({ SAGEMAKER_MAX_PAYLOAD_IN_MB: "six" }, "SAGEMAKER_MAX_PAYLOAD_IN_MB");
    refuses({ SAGEMAKER_MAX_PAYLOAD_IN_MB: "-1" }, "SAGEMAKER_MAX_PAYLOAD_IN_MB");
    refuses({ SAGEMAKER_MAX_PAYLOAD_IN_MB: "1.5" }, "SAGEMAKER_MAX_PAYLOAD_IN_MB");
    refuses({ SAGEMAKER_BATCH_STRATEGY: "BATCH" }, "SAGEMAKER_BATCH_STRATEGY");
    refuses({ SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "0" }, "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS");
    refuses({ SAGEMAKER_BATCH: "yes" }, "SAGEMAKER_BATCH");
    refuses({ SAGEMAKER_BIND_TO_PORT: "70000" }, "SAGEMAKER_BIND_TO_PORT");
    refuses({ SLUICE_BATCH_ROWS: "0" }, "SLUICE_BATCH_ROWS");
    refuses({ SLUICE_BACKEND: "tpu" }, "SLUICE_BACKEND");
    refuses({ SLUICE_ON_RECORD_ERROR: "skip" }, "SLUICE_ON_RECORD_ERROR");
    refuses({ SLUICE_LOG_LEVEL: "loud" }, "SLUICE_LOG_LEVEL");
    refuses({ SLUICE_CODEC_THREADS: "0" }, "SLUICE_CODEC_THREADS");
    refuses({ SLUICE_CODEC_THREADS: String(MAX_CODEC_THREADS + 1) }, "SLUICE_CODEC_THREADS");
    refuses({ SLUICE_MODEL_SESSIONS: "0" }, "SLUICE_MODEL_SESSIONS");
    refuses({ SLUICE_MODEL_SESSIONS: String(MAX_MODEL_SESSIONS + 1) }, "SLUICE_MODEL_SESSIONS");
    refuses({ SLUICE_MODEL_SESSIONS: "two" }, "SLUICE_MODEL_SESSIONS");
    assert.equal(loadConfig({ SLUICE_MODEL_SESSIONS: "3" }).modelSessions, 3);
    assert.equal(loadConfig({}).modelSessions, undefined);
    for (const dimensions of ["sequence", "sequence=0", "sequence=12.5", "=128", "sequence=128,", "a=1;b=2"]) {
      refuses({ SLUICE_DIMENSIONS: dimensions }, "SLUICE_DIMENSIONS");
    }
  });

  it("starts one codec thread per core, up to MAX_CODEC_THREADS", () => {
    assert.equal(loadConfig({ SLUICE_CODEC_THREADS: String(MAX_CODEC_THREADS) }).codecThreads, MAX_CODEC_THREADS);
    const threadsFor = (cpus: number, env: Record<string, string> = {}) =>
      new InvocationService(loadConfig(env), new CodecRegistry(), new StreamLogger({ sink: () => {} }), {
        cpus,
        memoryBytes: 2 ** 34,
      }).threads.codecThreads;
    assert.equal(threadsFor(96), 96);
    assert.equal(threadsFor(448), MAX_CODEC_THREADS);
    assert.equal(threadsFor(448, { SLUICE_CODEC_THREADS: "3" }), 3);
  });

  it("has codec threads accept connections from EVERY_THREAD_FROM_CODEC_THREADS of them, unless told", () => {
    const many = EVERY_THREAD_FROM_CODEC_THREADS;
    assert.equal(acceptingThreads(loadConfig({}), many - 1), "main");
    assert.equal(acceptingThreads(loadConfig({}), many), "every-thread");
    assert.equal(acceptingThreads(loadConfig({ SLUICE_ACCEPT: "main" }), 96), "main");
    assert.equal(acceptingThreads(loadConfig({ SLUICE_ACCEPT: "every-thread" }), 2), "every-thread");
    refuses({ SLUICE_ACCEPT: "all" }, "SLUICE_ACCEPT");
  });

  it("reads dimension sizes as name=size pairs", () => {
    assert.equal(loadConfig({}).dimensions, undefined);
    assert.deepEqual(loadConfig({ SLUICE_DIMENSIONS: "sequence=128, height = 224,width=224" }).dimensions, {
      sequence: 128,
      height: 224,
      width: 224,
    });
  });

  it("refuses a codec setting a codec does not allow, and one no codec declares", async () => {
    await assert.rejects(
      createCodecRegistry({ env: { SLUICE_CODEC_CSV_HEADER: "maybe" } }),
      /SLUICE_CODEC_CSV_HEADER="maybe"/,
    );
    await assert.rejects(
      createCodecRegistry({ env: { SLUICE_CODEC_CSV_HEADR: "present" } }),
      /SLUICE_CODEC_CSV_HEADR names no setting/,
    );
    const registry = await createCodecRegistry({ env: { SLUICE_CODEC_CSV_HEADER: "present" } });
    assert.deepEqual(registry.resolveInput("text/csv").settings, { header: "present" });
    assert.deepEqual((await createCodecRegistry()).resolveInput("text/csv").settings, { header: "absent" });
  });

  it("lets flags override the environment", () => {
    const flags = parseServeFlags(["--port", "1234", "--model-dir=/models/x", "--backend", "auto"]);
    const config = loadConfig({ SAGEMAKER_BIND_TO_PORT: "9090", SLUICE_MODEL_DIR: "/elsewhere" }, flags);
    assert.equal(config.port, 1234);
    assert.equal(config.modelDir, "/models/x");
    assert.equal(config.backend, "auto");
  });

  it("refuses unknown flags and flags without values", () => {
    assert.throws(() => parseServeFlags(["--verbose"]), ConfigError);
    assert.throws(() => parseServeFlags(["--port"]), ConfigError);
  });

  it("lists every setting it reads in the README's configuration table", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const table = readme.slice(readme.indexOf("\n## Configuration"), readme.indexOf("\n## Errors"));
    const listed = new Set([...table.matchAll(/^\| `(\w+)`/gm)].map(([, name]) => name));
    const missing = Object.keys(describeConfiguration(loadConfig({}))).filter((name) => !listed.has(name));
    assert.deepEqual(missing, []);
  });
});
