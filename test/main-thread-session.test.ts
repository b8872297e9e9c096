/**
 * A small, fast model gets a second session on the main thread for small bodies' batches; any other
 * model keeps its weights once, on the inference thread. Either way small bodies get the answers ONNX
 * Runtime gives, and the start-up log says which way and why.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Backend } from "../src/backends/backend.js";
import {
  MAIN_THREAD_BATCH_MS,
  MAIN_THREAD_MODEL_BYTES,
  MAIN_THREAD_STALL_MS,
  type MainThreadFallback,
  openMainThreadSession,
} from "../src/backends/main-thread-session.js";
import { BatchBufferPool, stagingArray } from "../src/batch-buffer-pool.js";
import { mlpClassifier } from "../src/testing/onnx-model-writer.js";
import { csvBlock } from "./support/child-server.js";
import { dataDependentModel, failingModel, modelDir, smallMlp } from "./support/models.js";
import { assertClose, parseCsvNumbers, referenceProbabilities } from "./support/reference.js";
import { invoke, metricValue, startTestServer, type TestServer } from "./support/server.js";

const csv = { "content-type": "text/csv", accept: "text/csv" };

/** A fallback for a session that must not retire: its runs fail the test. */
const noFallback: MainThreadFallback = {
  backend: {
    kind: "none",
    description: "a fallback that must not be used",
    signature: { inputs: [], outputs: [], maxBatchRows: Number.POSITIVE_INFINITY },
    tuning: { batchRows: 0, suggestedConcurrentTransforms: 1, preferredPayloadMB: 0 },
    run: () => Promise.reject(new Error("the session retired")),
    close: async () => {},
  },
  onRetired: (runMs) => assert.fail(`the session retired after a run of ${runMs} ms`),
};

/** The `main_thread_session` field of the server's "model loaded" line. */
const sessionChoice = (server: TestServer) =>
  String(server.records.find((record) => record.msg === "model loaded")?.main_thread_session);

/** Posts a small body of `rows` rows of `width` features and checks the answers against ONNX Runtime's own. */
async function assertSmallBodyAnswered(server: TestServer, modelFile: string, rows: number, width: number) {
  const body = csvBlock(rows, width, 5);
  const response = await invoke(server, body, csv);
  const text = await response.text();
  assert.equal(response.status, 200, text.slice(0, 200));
  const expected = await referenceProbabilities(modelFile, body, width);
  const answered = parseCsvNumbers(text);
  assert.equal(answered.length, rows);
  assertClose(answered.flat(), expected);
  const line = server.records.filter((record) => record.msg === "invocation").at(-1);
  assert.equal(line?.thread, "main");
}

describe("the main thread's own session", () => {
  describe("for a small, fast model", () => {
    const dir = modelDir(smallMlp());
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dir);
    });
    after(() => server.close());

    it("is opened, said so at start-up, and answers small bodies as ONNX Runtime does", async () => {
      assert.match(sessionChoice(server), /^yes: a 2048-record batch ran in [\d.]+ ms$/);
      await assertSmallBodyAnswered(server, path.join(dir, "model.onnx"), 7, 4);
    });
  });

  describe(`for a model file over ${MAIN_THREAD_MODEL_BYTES / 2 ** 20} MiB`, () => {
    // 1 024 × 1 100 float weights: 4.3 MiB.
    const dir = modelDir(mlpClassifier({ inputWidth: 1024, hidden: 1100, classes: 3, seed: 11 }));
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dir);
    });
    after(() => server.close());

    it("is not opened: the weights stay once, on the inference thread, which answers small bodies", async () => {
      assert.match(sessionChoice(server), /^no: the model file is 4\.\d MiB$/);
      // Two rows of 1 024 features: 14 KiB, a small body.
      await assertSmallBodyAnswered(server, path.join(dir, "model.onnx"), 2, 1024);
    });
  });

  describe("the choice", () => {
    const smallFile = path.join(modelDir(smallMlp()), "model.onnx");
    const pool = () => new BatchBufferPool({ inputs: [], outputs: [], maxBatchRows: Number.POSITIVE_INFINITY });
    /** A pool for the small model's one input, 4 features a record. */
    const smallMlpPool = () =>
      new BatchBufferPool({
        inputs: [{ name: "features", type: "float32", recordShape: [4], width: 4 }],
        outputs: [],
        maxBatchRows: Number.POSITIVE_INFINITY,
      });

    it(`needs the largest small-body batch to run within ${MAIN_THREAD_BATCH_MS} ms`, async () => {
      const refused = await openMainThreadSession({ modelPath: smallFile }, 64, pool(), noFallback, {
        maxModelBytes: MAIN_THREAD_MODEL_BYTES,
        maxBatchMs: 0,
        maxStallMs: MAIN_THREAD_STALL_MS,
      });
      assert.equal(refused.backend, undefined);
      assert.match(refused.reason, /^a 64-record batch ran in [\d.]+ ms$/);
    });

    it("needs a batch of zeros to run", async () => {
      // Its reshape takes a multiple of 3 records only.
      const failing = path.join(modelDir(failingModel()), "model.onnx");
      const refused = await openMainThreadSession({ modelPath: failing }, 64, pool(), noFallback);
      assert.equal(refused.backend, undefined);
      assert.match(refused.reason, /^the trial batch failed/);
    });

    it("gives each batch's input arrays back to the pool once it has run", async () => {
      const buffers = smallMlpPool();
      const opened = await openMainThreadSession({ modelPath: smallFile }, 64, buffers, noFallback);
      assert.ok(opened.backend);
      try {
        const staged = stagingArray("float32", 8);
        staged.set([0.1, 0.2, 0.3, 0.4, 1, 2, 3, 4]);
        const answer = await opened.backend.run({
          rows: 2,
          firstRecordIndex: 0,
          inputs: [staged],
          recordErrors: new Map(),
        });
        assert.equal(answer.outputs[0].data.length, 6);
        assert.equal(buffers.take(0, 8, false), staged, "the batch's array is the next one handed out");
      } finally {
        await opened.backend.close();
      }
    });

    it("retires to its fallback after a run past the stall limit", async () => {
      const buffers = smallMlpPool();
      // The fallback is another real session, counted: every run after the first must reach it.
      const second = await openMainThreadSession({ modelPath: smallFile }, 64, buffers, noFallback);
      assert.ok(second.backend);
      const secondBackend: Backend = second.backend;
      let fallbackRuns = 0;
      const retirements: number[] = [];
      const fallback: MainThreadFallback = {
        backend: {
          kind: secondBackend.kind,
          description: secondBackend.description,
          signature: secondBackend.signature,
          tuning: secondBackend.tuning,
          run: (batch, signal) => {
            fallbackRuns++;
            return secondBackend.run(batch, signal);
          },
          close: () => secondBackend.close(),
        },
        onRetired: (runMs) => retirements.push(runMs),
      };
      // Every run takes longer than 0 ms: the first retires the session.
      const opened = await openMainThreadSession({ modelPath: smallFile }, 64, buffers, fallback, {
        maxModelBytes: MAIN_THREAD_MODEL_BYTES,
        maxBatchMs: MAIN_THREAD_BATCH_MS * 1000,
        maxStallMs: 0,
      });
      assert.ok(opened.backend);
      const batch = () => {
        const staged = stagingArray("float32", 4);
        staged.set([0.1, 0.2, 0.3, 0.4]);
        return { rows: 1, firstRecordIndex: 0, inputs: [staged], recordErrors: new Map() };
      };
      try {
        const first = await opened.backend.run(batch());
        assert.equal(fallbackRuns, 0, "the first run is the session's own");
        assert.equal(retirements.length, 1);
        assert.ok(retirements[0] > 0);
        const later = await Promise.all([opened.backend.run(batch()), opened.backend.run(batch())]);
        assert.equal(fallbackRuns, 2, "later runs go to the fallback");
        assert.equal(retirements.length, 1, "it retires once");
        for (const answer of later) assert.deepEqual(answer.outputs[0].data, first.outputs[0].data);
      } finally {
        await opened.backend.close();
        await secondBackend.close();
      }
    });
  });

  describe("for a model whose run time depends on its data", { skip: !existsSync("/proc/thread-self") }, () => {
    let server: TestServer;
    before(async () => {
      // One intra-op thread: the inference thread's runs are then counted as its own CPU time.
      server = await startTestServer(modelDir(dataDependentModel()), { SLUICE_INFERENCE_THREADS: "1" });
    });
    after(() => server.close());

    const retirements = () => server.records.filter((record) => String(record.msg).startsWith("a batch held"));
    const threadCpu = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const seconds = (thread: string) =>
        metricValue(text, `sluice_thread_cpu_seconds_total{thread="${thread}"}`) ?? Number.NaN;
      return { main: seconds("main"), inference: seconds("inference") };
    };
    /** A one-record body whose run multiplies two 4000 × 4000 matrices (64 G multiply-adds). */
    const slowBody = "4000\n";

    it("retires the main-thread session after a run that held the event loop, and answers on", async () => {
      assert.match(sessionChoice(server), /^yes: /, "zeros run fast, so the trial lets it on the main thread");
      const quick = await invoke(server, "0\n2.5\n", csv);
      assert.equal(await quick.text(), "0\n2.5\n");
      assert.equal(retirements().length, 0);

      const slow = await invoke(server, slowBody, csv);
      assert.equal(await slow.text(), slowBody);
      assert.equal(retirements().length, 1, "the slow run on the main thread retires the session");
      assert.ok(Number(retirements()[0].run_ms) > MAIN_THREAD_STALL_MS);
      assert.equal(retirements()[0].level, "warn");

      // The same record again runs on the inference thread: its CPU time grows, the main thread's hardly.
      const before = await threadCpu();
      const again = await invoke(server, slowBody, csv);
      assert.equal(await again.text(), slowBody);
      const after = await threadCpu();
      const inference = after.inference - before.inference;
      const main = after.main - before.main;
      assert.ok(inference > main, `inference thread ${inference} s, main thread ${main} s`);
      assert.equal(retirements().length, 1, "it retires once");
      const lines = server.records.filter((record) => record.msg === "invocation");
      assert.ok(lines.slice(-3).every((line) => line.thread === "main" && line.status === 200));
    });
  });
});
