/**
 * How many sessions of the model run side by side (`src/threads/model-sessions.ts`): the rule, the timing
 * it reads from the CPU backend, and a server that follows it.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { keepsEveryThread } from "../src/backends/intra-op-threads.js";
import { createCpuBackend } from "../src/backends/onnx-cpu.js";
import { containerResources } from "../src/container-resources.js";
import { wideMlp } from "../src/testing/onnx-model-writer.js";
import {
  CODEC_RECORD_NS,
  CODEC_VALUE_NS,
  COPIED_WEIGHTS_BYTES,
  modelSessions,
  type SessionNeeds,
} from "../src/threads/model-sessions.js";
import { modelDir, smallMlp } from "./support/models.js";
import { startTestServer } from "./support/server.js";

/** The tabular model as timed on the development machine: ~0.13 µs a record, 32 values. */
const tabular: SessionNeeds = {
  configured: undefined,
  codecThreads: 2,
  intraOpThreads: 1,
  recordMicroseconds: 0.13,
  inputValues: 32,
  modelBytes: 10_000,
};

/** A model whose batches ran ~1.75× faster on two intra-op threads than on one, here. */
const oneWideLayer = wideMlp({ width: 768, layers: 1, classes: 4, seed: 2 });

describe("model sessions", () => {
  it("are as many as the codec threads keep busy, for a model on one intra-op thread", () => {
    const codecNs = CODEC_RECORD_NS + 32 * CODEC_VALUE_NS;
    const modelNs = 2 * 130;
    for (const codecThreads of [1, 2, 4, 8, 16, 64, 96]) {
      const { sessions, reason } = modelSessions({ ...tabular, codecThreads });
      assert.equal(sessions, Math.max(1, Math.ceil((codecThreads * modelNs) / (modelNs + codecNs))), `${codecThreads}`);
      assert.match(reason, new RegExp(`${codecThreads} codec thread`));
    }
    // One session keeps up with two codec threads' tabular rows, not with sixteen's.
    assert.equal(modelSessions(tabular).sessions, 1);
    assert.ok(modelSessions({ ...tabular, codecThreads: 16 }).sessions >= 4);
    // A model dearer than the codec's work gets a session per codec thread, never more.
    assert.equal(modelSessions({ ...tabular, codecThreads: 8, recordMicroseconds: 50 }).sessions, 8);
  });

  it("stay one where a batch runs on several intra-op threads, where none was timed, or as configured", () => {
    const wide = { ...tabular, codecThreads: 64 };
    assert.deepEqual(modelSessions({ ...wide, intraOpThreads: 4 }).sessions, 1);
    assert.deepEqual(modelSessions({ ...wide, recordMicroseconds: undefined }).sessions, 1);
    assert.deepEqual(modelSessions({ ...wide, configured: 3 }), { sessions: 3, reason: "SLUICE_MODEL_SESSIONS" });
  });

  it("keep all copies of the weights within their budget", () => {
    const heavy = { ...tabular, codecThreads: 64, recordMicroseconds: 50 };
    const capped = modelSessions({ ...heavy, modelBytes: COPIED_WEIGHTS_BYTES / 4 });
    assert.equal(capped.sessions, 4);
    assert.match(capped.reason, /copies of the model within 256 MiB/);
    assert.doesNotMatch(modelSessions(heavy).reason, /copies/);
    assert.equal(modelSessions({ ...heavy, modelBytes: COPIED_WEIGHTS_BYTES * 2 }).sessions, 1);
  });

  it("read a record's time from the CPU backend's timed batch, only where the model keeps one thread", async () => {
    const modelPath = path.join(modelDir(smallMlp()), "model.onnx");
    const chosen = await createCpuBackend({ modelPath, intraOpThreads: 2, chooseIntraOpThreads: true, cpus: 2 });
    const set = await createCpuBackend({ modelPath, intraOpThreads: 1, cpus: 2 });
    try {
      if (chosen.intraOpThreads === 1) assert.ok((chosen.recordMicroseconds ?? 0) > 0);
      else assert.equal(chosen.recordMicroseconds, undefined);
      assert.equal(set.recordMicroseconds, undefined, "no batch timed where the operator set the threads");
    } finally {
      await chosen.close();
      await set.close();
    }
  });

  it("are started as the 'model loaded' line says", async () => {
    // A deep, narrow model: dear per record, and little for intra-op threads to share.
    const server = await startTestServer(modelDir(wideMlp({ width: 16, layers: 24, classes: 3, seed: 5 })), {
      SLUICE_CODEC_THREADS: "2",
    });
    try {
      const loaded = server.logs.find((line) => line.includes("model loaded"));
      const stated = /model_sessions[^0-9]*(\d+): (.*)/.exec(loaded ?? "");
      assert.ok(stated, loaded);
      assert.equal(server.running.service.threadIds().inference.length, Number(stated[1]));
    } finally {
      await server.close();
    }
  });

  it("are weighed against the intra-op threads by the first session's trial", async () => {
    // One layer of 768 keeps both cores of 2 on its own (its batch ~1.75× faster on them); with seven
    // codec threads the rule gives it four or five one-thread sessions, which no 2-core speed-up matches
    // (on more cores, four codec threads a core: more sessions than any speed-up on them could match).
    const cores = containerResources().cpus;
    const codecThreads = cores <= 2 ? 7 : 4 * cores;
    const server = await startTestServer(modelDir(oneWideLayer), { SLUICE_CODEC_THREADS: String(codecThreads) });
    try {
      const loaded = server.logs.find((line) => line.includes("model loaded")) ?? "";
      assert.match(loaded, /inference_threads=1\b/);
      const sessions = Number(/model_sessions[^0-9]*(\d+):/.exec(loaded)?.[1]);
      assert.ok(sessions >= 4, loaded);
      assert.equal(server.running.service.threadIds().inference.length, sessions);
      const timed = /ran in ([\d.]+) ms on one thread, ([\d.]+) ms on (\d+)/.exec(loaded);
      if (timed && keepsEveryThread(Number(timed[1]), Number(timed[2]))) {
        assert.match(loaded, new RegExp(`${sessions} one-thread sessions side by side would run more`));
      }
    } finally {
      await server.close();
    }
  });

  it("set by SLUICE_MODEL_SESSIONS share the cores' intra-op threads", async () => {
    // The same model with a session per core (two here): a core each, where one session would keep all.
    const cores = Math.max(2, containerResources().cpus);
    const server = await startTestServer(modelDir(oneWideLayer), { SLUICE_MODEL_SESSIONS: String(cores) });
    try {
      const loaded = server.logs.find((line) => line.includes("model loaded")) ?? "";
      assert.match(loaded, new RegExp(`model_sessions="?${cores}: SLUICE_MODEL_SESSIONS`));
      assert.match(loaded, /inference_threads=1\b/);
      assert.equal(server.running.service.threadIds().inference.length, cores);
    } finally {
      await server.close();
    }
  });
});
