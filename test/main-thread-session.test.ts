/**
 * A small, fast model gets a second session on the main thread for small bodies' batches; any other
 * model keeps its weights once, on the inference thread. Either way small bodies get the answers ONNX
 * Runtime gives, and the start-up log says which way and why.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  MAIN_THREAD_BATCH_MS,
  MAIN_THREAD_MODEL_BYTES,
  openMainThreadSession,
} from "../src/backends/main-thread-session.js";
import { BatchBufferPool, stagingArray } from "../src/batch-buffer-pool.js";
import { mlpClassifier } from "../src/testing/onnx-model-writer.js";
import { csvBlock } from "./support/child-server.js";
import { failingModel, modelDir, smallMlp } from "./support/models.js";
import { assertClose, parseCsvNumbers, referenceProbabilities } from "./support/reference.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const csv = { "content-type": "text/csv", accept: "text/csv" };

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

    it(`needs the largest small-body batch to run within ${MAIN_THREAD_BATCH_MS} ms`, async () => {
      const refused = await openMainThreadSession(smallFile, 64, pool(), {
        maxModelBytes: MAIN_THREAD_MODEL_BYTES,
        maxBatchMs: 0,
      });
      assert.equal(refused.backend, undefined);
      assert.match(refused.reason, /^a 64-record batch ran in [\d.]+ ms$/);
    });

    it("needs a batch of zeros to run", async () => {
      // Its reshape takes a multiple of 3 records only.
      const failing = path.join(modelDir(failingModel()), "model.onnx");
      const refused = await openMainThreadSession(failing, 64, pool());
      assert.equal(refused.backend, undefined);
      assert.match(refused.reason, /^the trial batch failed/);
    });

    it("gives each batch's input arrays back to the pool once it has run", async () => {
      const buffers = new BatchBufferPool({
        inputs: [{ name: "features", type: "float32", recordShape: [4], width: 4 }],
        outputs: [],
        maxBatchRows: Number.POSITIVE_INFINITY,
      });
      const opened = await openMainThreadSession(smallFile, 64, buffers);
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
  });
});
