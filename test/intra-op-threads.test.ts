/**
 * ONNX Runtime's intra-op threads when `SLUICE_INFERENCE_THREADS` is not set: every core, unless timed
 * batches show the model no faster on them (`src/backends/intra-op-threads.ts`). Which way the timing
 * goes is the machine's business; these tests check that the choice follows the timing, that the
 * session kept answers, and that an operator's number is kept as set.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { setTimeout } from "node:timers/promises";
import { cpuBatchRows } from "../src/backends/cpu-tuning.js";
import {
  chooseIntraOpThreads,
  keepsEveryThread,
  SESSIONS_MARGIN,
  WORTHWHILE_SPEEDUP,
} from "../src/backends/intra-op-threads.js";
import { cpuSessionOptions, createCpuBackend } from "../src/backends/onnx-cpu.js";
import { OnnxModelSession } from "../src/backends/onnx-model-session.js";
import type { InputBatch } from "../src/batcher.js";
import { wideMlp } from "../src/testing/onnx-model-writer.js";
import { failingModel, modelDir, randomRows, smallMlp } from "./support/models.js";
import { assertClose } from "./support/reference.js";

const modelPath = path.join(modelDir(smallMlp()), "model.onnx");
const session = (threads: number) => OnnxModelSession.create({ modelPath, sessionOptions: cpuSessionOptions(threads) });
const rowsOf = (rows: number): InputBatch => ({
  rows,
  firstRecordIndex: 0,
  inputs: [randomRows(rows, 4, 3)],
  recordErrors: new Map(),
});

describe("intra-op threads", () => {
  it("keep every core only where a batch runs at least 1.3 times faster on them", () => {
    assert.equal(WORTHWHILE_SPEEDUP, 1.3);
    assert.equal(keepsEveryThread(2, 1), true);
    assert.equal(keepsEveryThread(1.3, 1), true);
    assert.equal(keepsEveryThread(1.2, 1), false);
    assert.equal(keepsEveryThread(0.9, 1), false);
  });

  it("keep every core only where the sessions one thread would get run under 1.5 times their batches", () => {
    assert.equal(SESSIONS_MARGIN, 1.5);
    // One session, or two (on 2 cores): the 1.3 bar, or next to it.
    assert.equal(keepsEveryThread(1.3, 1, 1), true);
    assert.equal(keepsEveryThread(1.34, 1, 2), true);
    assert.equal(keepsEveryThread(1.32, 1, 2), false);
    // A small model on many cores: 3× faster on all of them, where six one-thread sessions would run.
    assert.equal(keepsEveryThread(3, 1, 6), false);
    assert.equal(keepsEveryThread(4, 1, 6), true);
    assert.equal(keepsEveryThread(10, 1, 16), false);
    assert.equal(keepsEveryThread(11, 1, 16), true);
  });

  it("follow the timed batches, and the session kept answers as a one-thread session does", async () => {
    const many = await session(2);
    const choice = await chooseIntraOpThreads(modelPath, many, 2, cpuBatchRows(many.signature), () => session(1));
    const reference = await session(1);
    try {
      assert.ok(choice.timed, choice.reason);
      const { oneThreadMs, manyThreadsMs } = choice.timed;
      assert.equal(choice.threads, keepsEveryThread(oneThreadMs, manyThreadsMs) ? 2 : 1);
      assert.equal(choice.session === many, choice.threads === 2);
      assert.match(choice.reason, /^a 8192-record batch ran in [\d.]+ ms on one thread, [\d.]+ ms on 2$/);
      const batch = rowsOf(50);
      const [kept, expected] = [await choice.session.run(batch), await reference.run(batch)];
      assertClose(kept.outputs[0].data as Float32Array, expected.outputs[0].data as Float32Array);
    } finally {
      await Promise.all([choice.session.release(), reference.release()]);
    }
  });

  it("are one where the sessions one thread would get run more, a record's time given to count them", async () => {
    // One layer of 2048: its batch ran 1.65–2.0 times faster on two threads than on one here.
    const widePath = path.join(modelDir(wideMlp({ width: 2048, layers: 1, classes: 4, seed: 2 })), "model.onnx");
    const wideSession = (threads: number) =>
      OnnxModelSession.create({ modelPath: widePath, sessionOptions: cpuSessionOptions(threads) });
    const many = await wideSession(2);
    const rows = cpuBatchRows(many.signature);
    const asked: number[] = [];
    const choice = await chooseIntraOpThreads(
      widePath,
      many,
      2,
      rows,
      () => wideSession(1),
      (recordMicroseconds) => {
        asked.push(recordMicroseconds);
        return 64;
      },
    );
    try {
      assert.ok(choice.timed, choice.reason);
      const { oneThreadMs, manyThreadsMs } = choice.timed;
      assert.equal(choice.threads, 1, choice.reason);
      assert.deepEqual(asked, [(oneThreadMs * 1000) / rows]);
      if (keepsEveryThread(oneThreadMs, manyThreadsMs)) {
        assert.match(choice.reason, /; 64 one-thread sessions side by side would run more$/);
      }
    } finally {
      await choice.session.release();
    }
  });

  it("time a slow first batch again before the model counts as compute-bound", async () => {
    // A real session whose first batch is held back past the bar, as codec threads starting beside it can.
    const many = await session(2);
    let runs = 0;
    const heldBack: OnnxModelSession = Object.create(many);
    heldBack.runQuietly = async (batch) => {
      if (runs++ === 0) await setTimeout(60);
      return many.runQuietly(batch);
    };
    heldBack.release = () => many.release();
    const choice = await chooseIntraOpThreads(modelPath, heldBack, 2, 512, () => session(1));
    try {
      assert.ok(choice.timed, choice.reason);
      assert.match(choice.reason, /^a 512-record batch ran in/);
    } finally {
      await choice.session.release();
    }
  });

  it("are not timed on one core", async () => {
    const one = await session(1);
    try {
      const choice = await chooseIntraOpThreads(modelPath, one, 1, 64, () => assert.fail("no second session"));
      assert.deepEqual([choice.session, choice.threads, choice.reason, choice.timed], [one, 1, "one core", undefined]);
    } finally {
      await one.release();
    }
  });

  it("stay one per core for a model that fails on a batch of zeros, which still loads", async () => {
    // Reshapes [N, 2] to [N, 3]: fails unless N is a multiple of 3 (the trial batch has 8192 rows).
    const failing = path.join(modelDir(failingModel()), "model.onnx");
    const backend = await createCpuBackend({
      modelPath: failing,
      intraOpThreads: 2,
      chooseIntraOpThreads: true,
      cpus: 2,
    });
    try {
      assert.equal(backend.intraOpThreads, 2);
      assert.match(backend.description, /\(a batch of zeros failed: one per core\)/);
      // Its runs fail as they did before the trial: the model's failure, named by the backend.
      const batch: InputBatch = {
        rows: 2,
        firstRecordIndex: 0,
        inputs: [new Float32Array(4)],
        recordErrors: new Map(),
      };
      await assert.rejects(backend.run(batch), { name: "ModelExecutionError" });
    } finally {
      await backend.close();
    }
  });

  it("are what SLUICE_INFERENCE_THREADS says when it is set, and the backend says how many it uses", async () => {
    const set = await createCpuBackend({ modelPath, intraOpThreads: 3, chooseIntraOpThreads: false, cpus: 2 });
    const chosen = await createCpuBackend({ modelPath, intraOpThreads: 2, chooseIntraOpThreads: true, cpus: 2 });
    try {
      assert.equal(set.intraOpThreads, 3);
      assert.match(set.description, /1 session × 3 intra-op thread\(s\) \(SLUICE_INFERENCE_THREADS\)/);
      assert.ok(chosen.intraOpThreads === 1 || chosen.intraOpThreads === 2, String(chosen.intraOpThreads));
      assert.match(
        chosen.description,
        new RegExp(`× ${chosen.intraOpThreads} intra-op thread\\(s\\) \\(a 8192-record`),
      );
      const batch = rowsOf(10);
      const [fromChosen, fromSet] = [await chosen.run(batch), await set.run(batch)];
      assertClose(fromChosen.outputs[0].data as Float32Array, fromSet.outputs[0].data as Float32Array);
    } finally {
      await Promise.all([set.close(), chosen.close()]);
    }
  });
});
