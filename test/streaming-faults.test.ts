import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Backend } from "../src/backends/backend.js";
import { createCpuBackend } from "../src/backends/onnx-cpu.js";
import { BUILTIN_CODECS_MODULE, loadCodecPlugins } from "../src/codec/plugin-loader.js";
import { CodecRegistry } from "../src/codec/registry.js";
import { type PipelineOptions, runPipeline } from "../src/pipeline.js";
import { BODY_RING_BYTES } from "../src/threads/body-ring.js";
import { assertBodyWaitsForUnreadAnswer } from "./support/backpressure.js";
import { readAmazonRecord, readRecordIOFrames, readTfExample, readTfRecordFrames } from "./support/binary-writers.js";
import { hangingBody, lineFeeds, until } from "./support/hanging-body.js";
import { modelDir, smallMlp } from "./support/models.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const encoder = new TextEncoder();
const GOOD = "0.1,0.2,0.3,0.4";

describe("the per-record error policy SLUICE_ON_RECORD_ERROR=placeholder", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), {
      SLUICE_ON_RECORD_ERROR: "placeholder",
      SLUICE_BATCH_ROWS: "2",
    });
  });
  after(() => server.close());

  const body = [GOOD, "1,2,x,4", GOOD, "1,2,3", GOOD].join("\n");
  const send = async (accept: string) => {
    const response = await invoke(server, body, { "content-type": "text/csv", accept });
    assert.equal(response.status, 200, accept);
    return new Uint8Array(await response.arrayBuffer());
  };

  it("answers every record, bad ones with the output format's error marker, in order", async () => {
    const csv = new TextDecoder()
      .decode(await send("text/csv"))
      .trim()
      .split("\n");
    assert.equal(csv.length, 5);
    assert.deepEqual(
      csv.map((line) => line === "ERROR"),
      [false, true, false, true, false],
    );
    const lines = new TextDecoder()
      .decode(await send("application/jsonlines"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as number[] | { error: string; code: string });
    assert.deepEqual(
      lines.map((line) => (Array.isArray(line) ? "ok" : line.code)),
      ["ok", "CSV_FIELD_NOT_NUMERIC", "ok", "CSV_WIDTH_MISMATCH", "ok"],
    );
    const json = JSON.parse(new TextDecoder().decode(await send("application/json"))) as { predictions: unknown[] };
    assert.equal(json.predictions.length, 5);
    assert.match(JSON.stringify(json.predictions[1]), /"error":"field 2/);
    const records = readRecordIOFrames(await send("application/x-recordio-protobuf")).map((p) => readAmazonRecord(p));
    assert.deepEqual(
      records.map((r) => (r.metadata ? JSON.parse(r.metadata).code : r.tensors.score.length)),
      [3, "CSV_FIELD_NOT_NUMERIC", 3, "CSV_WIDTH_MISMATCH", 3],
    );
    const examples = readTfRecordFrames(await send("application/x-tfrecord")).map(readTfExample);
    assert.deepEqual(
      examples.map((e) => Object.keys(e)[0]),
      ["probabilities", "error", "probabilities", "error", "probabilities"],
    );
  });

  it("answers one record per JSON line, bad ones in place, whichever path read each", async () => {
    // Rows without spaces are read as CSV rows are; with spaces, nested or bad, by the general path.
    const rows = ["[0.1,0.2,0.3,0.4]", "[0.1, 0.2, 0.3, 0.4]", '[1,2,"x",4]', "[[0.1,0.2],[0.3,0.4]]", "[1,2,3]"];
    const body = [...rows, "[1,2,3,4,]", ...rows].join("\n");
    const response = await invoke(server, body, { "content-type": "application/jsonlines", accept: "text/csv" });
    assert.equal(response.status, 200);
    const answers = (await response.text()).trim().split("\n");
    const expected = ["ok", "ok", "ERROR", "ok", "ERROR", "ERROR", "ok", "ok", "ERROR", "ok", "ERROR"];
    assert.deepEqual(
      answers.map((line) => (line === "ERROR" ? line : "ok")),
      expected,
    );
    // The same four features, however written, get the same answer.
    assert.equal(new Set(answers.filter((line) => line !== "ERROR")).size, 1);
  });

  it("still fails the request on framing errors, which leave nothing to resynchronise on", async () => {
    const response = await invoke(server, `${GOOD}\n"1,2`, { "content-type": "text/csv" });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { code: string }).code, "CSV_QUOTE_NOT_CLOSED");
  });

  it("logs how many records failed, and the first of them", () => {
    assert.ok(server.logs.some((line) => /status=200 .*failed_records=2/.test(line)));
    const answeredAsCsv = server.records.filter(
      (record) => record.msg === "invocation" && record.accept === "text/csv",
    );
    assert.ok(answeredAsCsv.length > 0);
    for (const record of answeredAsCsv.filter((r) => r.content_type === "text/csv"))
      assert.deepEqual(record.first_failed_record, {
        record_index: 1,
        line: 2,
        byte_offset: GOOD.length + 1,
        code: "CSV_FIELD_NOT_NUMERIC",
        reason: 'field 2 "x" is not a number',
      });
    // The JSON Lines body: its first bad record is its third line.
    const jsonLines = answeredAsCsv.find((record) => record.content_type === "application/jsonlines");
    assert.equal((jsonLines?.first_failed_record as { record_index?: number } | undefined)?.record_index, 2);
  });
});

describe("admission, disconnects and backpressure", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), {
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "1",
      SLUICE_MAX_QUEUED_INVOCATIONS: "0",
      SLUICE_RESPONSE_HOLD_MB: "0",
      SLUICE_BATCH_ROWS: "16",
    });
  });
  after(() => server.close());
  const gate = () => server.running.service.ready().gate;

  it("refuses an invocation beyond the running and queued limits with 503 and Retry-After", async () => {
    const slow = hangingBody([`${GOOD}\n`]);
    const first = invoke(server, slow.stream, { "content-type": "text/csv" });
    await until(() => gate().running === 1, "the first invocation to start");
    const second = await invoke(server, `${GOOD}\n`, { "content-type": "text/csv" });
    assert.equal(second.status, 503);
    assert.equal(second.headers.get("retry-after"), "1");
    assert.equal(((await second.json()) as { code: string }).code, "OVERLOADED");
    slow.release();
    assert.equal((await first).status, 200);
    await until(() => gate().running === 0, "the slot to be released");
  });

  it("a client that disconnects mid-body frees its slot, and the next request is unaffected", async () => {
    const controller = new AbortController();
    // Fewer records than a batch: nothing is answered yet, so the client is still sending its body.
    const slow = hangingBody([`${GOOD}\n`.repeat(5), `${GOOD}\n`.repeat(5)]);
    const request = invoke(server, slow.stream, { "content-type": "text/csv" }, { signal: controller.signal });
    await until(() => gate().running === 1, "the invocation to start");
    controller.abort();
    await assert.rejects(request);
    await until(() => gate().running === 0, "the slot to be released");
    assert.ok(server.logs.some((line) => /warn invocation status=499 .*code=CLIENT_CLOSED_REQUEST/.test(line)));
    const next = await invoke(server, `${GOOD}\n`, { "content-type": "text/csv" });
    assert.equal(next.status, 200);
    assert.equal((await next.text()).trim().split("\n").length, 1);
    slow.release();
  });

  it("a client that stops reading mid-response frees its slot, and the next request is unaffected", async () => {
    const rows = 200_000;
    const response = await invoke(server, `${GOOD}\n`.repeat(rows), { "content-type": "text/csv" });
    assert.equal(response.status, 200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    await until(() => gate().running === 0, "the slot to be released");
    const line = server.records.find((record) => record.aborted === true);
    assert.ok(line, "the abandoned answer is logged as aborted");
    assert.equal(line.level, "warn");
    assert.equal(line.status, 200);
    assert.equal(line.code, "CLIENT_CLOSED_REQUEST");
    assert.ok((line.records as number) < rows, "decoding stopped before the end of the body");
    const next = await invoke(server, `${GOOD}\n`, { "content-type": "text/csv" });
    assert.equal(next.status, 200);
  });
});

describe("backpressure over HTTP", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), { SLUICE_RESPONSE_HOLD_MB: "0", SLUICE_BATCH_ROWS: "256" });
  });
  after(() => server.close());

  it("a client that stops reading the answer stops the server reading the body, and nothing is lost", async () => {
    // 40 MiB of input, about twice that of output. Unbounded, the server would take in the whole body while
    // the client pauses; what stays in flight is socket buffers, the body's ring and a few batches.
    await assertBodyWaitsForUnreadAnswer(
      server,
      encoder.encode(`${GOOD}\n`.repeat(4096)),
      640,
      () => BODY_RING_BYTES + 15 * 2 ** 20,
    );
  });
});

/**
 * A pipeline's options for CSV in and out, `batchRows` records a batch, on the small MLP run by ONNX
 * Runtime on one thread (the caller closes the backend).
 */
async function csvPipelineOptions(batchRows: number): Promise<PipelineOptions> {
  const registry = new CodecRegistry();
  await loadCodecPlugins(registry, [BUILTIN_CODECS_MODULE], { builtIn: true });
  const backend = await createCpuBackend({
    modelPath: `${modelDir(smallMlp())}/model.onnx`,
    cpus: 1,
    intraOpThreads: 1,
  });
  const input = registry.resolveInput("text/csv");
  return {
    backend,
    input,
    output: registry.resolveOutput("text/csv", input),
    batchRows,
    maxBodyBytes: undefined,
    recordErrorPolicy: "fail",
    singleRecord: false,
    maxPendingBatches: 2,
  };
}

/** `model`, with `beforeRun` called (with the run's signal) as each run starts. */
function watchingRuns(model: Backend, beforeRun: (signal: AbortSignal | undefined) => void): Backend {
  return {
    kind: model.kind,
    description: model.description,
    signature: model.signature,
    tuning: model.tuning,
    run(batch, signal) {
      beforeRun(signal);
      return model.run(batch, signal);
    },
    close: () => model.close(),
  };
}

describe("pipeline backpressure", () => {
  it("reads no further into the body than a few batches while the consumer does not pull", async () => {
    const options = await csvPipelineOptions(64);
    try {
      let bytesRead = 0;
      const chunk = encoder.encode(`${GOOD}\n`.repeat(64));
      async function* endlessBody() {
        for (;;) {
          bytesRead += chunk.length;
          yield chunk;
        }
      }
      const pipeline = runPipeline(endlessBody(), options);
      const first = await pipeline.next();
      assert.equal(first.done, false);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // One batch per chunk here: the batch being filled, the pending ones and the one emitted.
      assert.ok(bytesRead <= 6 * chunk.length, `read ${bytesRead} bytes`);
      await pipeline.return(undefined);
    } finally {
      await options.backend.close();
    }
  });
});

describe("a pipeline on a thread with other work", () => {
  it("lets the event loop turn while it decodes a batch, even from a body already in memory", async () => {
    const rows = 2_000_000;
    // One batch holds the whole body: decoding it (32 MB) is one long stretch of work between answers.
    const options = await csvPipelineOptions(rows);
    const model = options.backend;
    // Turns of the event loop, counted by a chain of immediates: none run while work stays in microtasks.
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    let turnsBeforeFirstRun: number | undefined;
    const backend = watchingRuns(model, () => {
      turnsBeforeFirstRun ??= turns;
    });
    try {
      const chunk = encoder.encode(`${GOOD}\n`.repeat(10_000));
      const body = Array.from({ length: rows / 10_000 }, () => chunk);
      setImmediate(tick);
      const started = turns;
      let lines = 0;
      for await (const answer of runPipeline(body, { ...options, backend })) {
        lines += lineFeeds(answer);
      }
      assert.equal(lines, rows);
      assert.ok(
        (turnsBeforeFirstRun ?? 0) - started >= 2,
        `the event loop turned ${(turnsBeforeFirstRun ?? 0) - started} times while the batch was decoded`,
      );
    } finally {
      ticking = false;
      await backend.close();
    }
  });
});

describe("the canceller a pipeline hands its runs", () => {
  /** A backend that runs the model and keeps the signal each run was given. */
  function recordingBackend(model: Backend, onRun?: (signal: AbortSignal) => void) {
    const signals: AbortSignal[] = [];
    const backend = watchingRuns(model, (signal) => {
      if (signal) {
        signals.push(signal);
        onRun?.(signal);
      }
    });
    return { backend, signals };
  }
  const body = [encoder.encode(`${GOOD}\n`)];
  const drain = async (pipeline: AsyncGenerator<Uint8Array>) => {
    let lines = 0;
    for await (const answer of pipeline) lines += lineFeeds(answer);
    return lines;
  };

  it("is taken over by the next invocation once one ended with nothing to cancel", async () => {
    const options = await csvPipelineOptions(64);
    try {
      const { backend, signals } = recordingBackend(options.backend);
      assert.equal(await drain(runPipeline(body, { ...options, backend })), 1);
      assert.equal(await drain(runPipeline(body, { ...options, backend })), 1);
      assert.equal(signals.length, 2);
      assert.equal(signals[1], signals[0], "the second invocation made a canceller of its own");
      assert.equal(signals[1].aborted, false);
    } finally {
      await options.backend.close();
    }
  });

  it("is not taken over once aborted, nor while a run left a listener on it", async () => {
    const options = await csvPipelineOptions(64);
    try {
      // An invocation whose caller aborts it: its canceller aborts with it and is not handed on.
      const caller = new AbortController();
      const aborting = recordingBackend(options.backend, () => caller.abort(new Error("client went away")));
      await assert.rejects(drain(runPipeline(body, { ...options, backend: aborting.backend, signal: caller.signal })));
      assert.equal(aborting.signals[0].aborted, true);
      const next = recordingBackend(options.backend);
      assert.equal(await drain(runPipeline(body, { ...options, backend: next.backend })), 1);
      assert.notEqual(next.signals[0], aborting.signals[0]);
      assert.equal(next.signals[0].aborted, false);

      // A run that leaves a listener behind keeps its canceller to itself.
      let heard = 0;
      const listening = recordingBackend(options.backend, (signal) =>
        signal.addEventListener("abort", () => {
          heard++;
        }),
      );
      assert.equal(await drain(runPipeline(body, { ...options, backend: listening.backend })), 1);
      const after = recordingBackend(options.backend);
      assert.equal(await drain(runPipeline(body, { ...options, backend: after.backend })), 1);
      assert.notEqual(after.signals[0], listening.signals[0]);
      // A later invocation aborted by its caller does not reach the listener left behind.
      const laterCaller = new AbortController();
      const later = recordingBackend(options.backend, () => laterCaller.abort(new Error("gone")));
      await assert.rejects(
        drain(runPipeline(body, { ...options, backend: later.backend, signal: laterCaller.signal })),
      );
      assert.equal(heard, 0);
    } finally {
      await options.backend.close();
    }
  });
});
