/**
 * The threading model: codec threads run invocations, one inference thread runs the model. A dying
 * codec thread fails only its own invocation and is replaced; the thread budget follows the container's
 * cores; one chunk holding thousands of records never puts more batches in flight than allowed.
 */
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import zlib from "node:zlib";
import type { Backend } from "../src/backends/backend.js";
import { createCpuBackend } from "../src/backends/onnx-cpu.js";
import { BatchBufferPool } from "../src/batch-buffer-pool.js";
import { BUILTIN_CODECS_MODULE, loadCodecPlugins } from "../src/codec/plugin-loader.js";
import { CodecRegistry } from "../src/codec/registry.js";
import { loadConfig } from "../src/config.js";
import { InvocationService } from "../src/invocation-service.js";
import { runPipeline } from "../src/pipeline.js";
import { StreamLogger } from "../src/stream-logger.js";
import { signatureOf } from "../src/testing/index.js";
import { wideMlp } from "../src/testing/onnx-model-writer.js";
import { BODY_RING_BYTES } from "../src/threads/body-ring.js";
import { threadForInvocation } from "../src/threads/codec-thread-pool.js";
import type { ToInferenceThread } from "../src/threads/messages.js";
import { RemoteBackend } from "../src/threads/remote-backend.js";
import { threadCpuSeconds } from "../src/threads/thread-cpu.js";
import { CODEC_THREAD_NICENESS } from "../src/threads/thread-priority.js";
import { csvBlock } from "./support/child-server.js";
import { until } from "./support/hanging-body.js";
import { modelDir, randomRows, smallMlp } from "./support/models.js";
import { assertClose, parseCsvNumbers, referenceProbabilities } from "./support/reference.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const CRASHING_PLUGIN = fileURLToPath(new URL("fixtures/crashing-plugin.js", import.meta.url));

describe("codec threads", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), {
      SLUICE_PLUGINS: CRASHING_PLUGIN,
      // Later CSV bodies must reach the codec threads, not run on the main thread as small bodies do.
      SLUICE_SMALL_BODY_BYTES: "0",
      SLUICE_CODEC_THREADS: "2",
    });
  });
  after(() => server.close());

  it("a codec thread that dies fails only its invocation (500) and is replaced", async () => {
    // A slow body keeps one thread busy while the other one dies.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const encoder = new TextEncoder();
    const slowBody = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode("0.1,0.2,0.3,0.4\n"));
        await held;
        controller.enqueue(encoder.encode("0.5,0.6,0.7,0.8\n"));
        controller.close();
      },
    });
    const slow = invoke(server, slowBody, { "content-type": "text/csv", accept: "text/csv" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const crashed = await invoke(server, "1\ncrash\n", { "content-type": "application/x-crash-test" });
    assert.equal(crashed.status, 500);
    assert.equal(((await crashed.json()) as { code: string }).code, "WORKER_CRASHED");
    release();
    const survivor = await slow;
    assert.equal(survivor.status, 200);
    assert.equal((await survivor.text()).trim().split("\n").length, 2);
    // The replacement serves as the others do: every later request succeeds, whichever thread takes it.
    for (let i = 0; i < 6; i++) {
      const response = await invoke(server, "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
    assert.ok(server.logs.some((line) => line.includes("replacing a codec thread")));
    // A bug that throws where nothing catches it ends the thread the same way, its reason in the answer.
    const thrown = await invoke(server, "1\nthrow-later\n", { "content-type": "application/x-crash-test" });
    assert.equal(thrown.status, 500);
    assert.match(((await thrown.json()) as { error: string }).error, /a bug outside the decoder's call/);
    const served = await invoke(server, "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
    assert.equal(served.status, 200);
  });
});

describe("a codec thread stuck in an endless loop", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), {
      SLUICE_PLUGINS: CRASHING_PLUGIN,
      // Later CSV bodies must reach the codec threads, not run on the main thread as small bodies do.
      SLUICE_SMALL_BODY_BYTES: "0",
      SLUICE_CODEC_THREADS: "1",
    });
  });
  after(() => server.close());

  it("is ended and replaced once its invocation has been cancelled and not stopped, and serving goes on", async () => {
    const hung = fetch(`${server.url}/invocations`, {
      method: "POST",
      body: "1\nhang\n",
      headers: { "content-type": "application/x-crash-test" },
      signal: AbortSignal.timeout(300),
    });
    await assert.rejects(hung, /aborted/);
    const replaced = () => server.logs.some((line) => line.includes("replacing a codec thread"));
    for (let waited = 0; !replaced() && waited < 30_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    assert.ok(server.logs.some((line) => /error a codec thread is stuck; ending it .*endless loop/.test(line)));
    const next = await invoke(server, "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
    assert.equal(next.status, 200);
    assert.equal((await next.text()).trim().split(",").length, 3);
  });
});

describe("the codec thread an invocation goes to", () => {
  const thread = (name: string, started: boolean, ...stopping: boolean[]) => ({
    name,
    started,
    active: new Map(stopping.map((isStopping, id) => [id, { stopping: isStopping }])),
  });
  const pick = (...threads: ReturnType<typeof thread>[]) => threadForInvocation(threads).name;

  it("is the least busy, a started one of those equally busy, a cold one rather than a busier one", () => {
    assert.equal(pick(thread("a", true, false), thread("b", true)), "b");
    // A replacement still loading its codecs, first in line, beside an idle started thread.
    assert.equal(pick(thread("replacement", false), thread("warm", true)), "warm");
    assert.equal(pick(thread("warm", true), thread("replacement", false)), "warm");
    assert.equal(pick(thread("busy", true, false), thread("replacement", false)), "replacement");
    assert.equal(pick(thread("a", false), thread("b", false)), "a");
  });

  it("passes over a thread slow to stop an invocation while another is free of such", () => {
    assert.equal(pick(thread("stuck", true, true), thread("busy", true, false, false)), "busy");
    assert.equal(pick(thread("stuck", true, true), thread("replacement", false)), "replacement");
    assert.equal(pick(thread("stuck", true, true), thread("also stuck", true, false, true)), "stuck");
  });
});

describe("a stuck codec thread beside a healthy one", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), {
      SLUICE_PLUGINS: CRASHING_PLUGIN,
      // Later CSV bodies must reach the codec threads, not run on the main thread as small bodies do.
      SLUICE_SMALL_BODY_BYTES: "0",
      SLUICE_CODEC_THREADS: "2",
      // The stuck invocation keeps its slot until its thread is ended: leave room for the others.
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "4",
    });
  });
  after(() => server.close());

  it("is passed over by new invocations while it waits to be ended", async () => {
    const cancelHang = new AbortController();
    const hung = fetch(`${server.url}/invocations`, {
      method: "POST",
      body: "hang\n",
      headers: { "content-type": "application/x-crash-test" },
      signal: cancelHang.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // A slow body on the other thread, so that both threads run one invocation: a tie.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowBody = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode("0.1,0.2,0.3,0.4\n"));
        await held;
        controller.close();
      },
    });
    const slow = invoke(server, slowBody, { "content-type": "text/csv" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    cancelHang.abort();
    await assert.rejects(hung, /aborted/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 4; i++) {
      const response = await invoke(server, "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
    assert.ok(
      !server.logs.some((line) => line.includes("replacing a codec thread")),
      "served before the stuck one went",
    );
    release();
    assert.equal((await slow).status, 200);
  });
});

describe("one codec thread, several invocations", () => {
  let server: TestServer;
  before(async () => {
    // Small bodies would run on the main thread: send every body to the one codec thread.
    server = await startTestServer(modelDir(smallMlp()), { SLUICE_CODEC_THREADS: "1", SLUICE_SMALL_BODY_BYTES: "0" });
  });
  after(() => server.close());

  it("a small invocation is answered while a large one streams through the same thread", async () => {
    const block = new TextEncoder().encode("0.1,0.2,0.3,0.4\n".repeat(4096));
    let sent = 0;
    const large = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ === 1000) controller.close();
        else controller.enqueue(block);
      },
    });
    let largeDone = false;
    const largeAnswer = invoke(server, large, { "content-type": "text/csv" }).then(async (response) => {
      await response.arrayBuffer();
      largeDone = true;
      return response.status;
    });
    while (sent < 50) await new Promise((resolve) => setTimeout(resolve, 5));
    const small = await invoke(server, "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
    assert.equal(small.status, 200);
    await small.arrayBuffer();
    assert.equal(largeDone, false, "the small invocation waited for the large one");
    assert.equal(await largeAnswer, 200);
  });
});

describe("body rings", () => {
  const dir = modelDir(smallMlp());
  let server: TestServer;
  before(async () => {
    // Whole bodies: a body cut into parts takes a ring per part (body-parts.test.ts counts those).
    server = await startTestServer(dir, {
      SLUICE_CODEC_THREADS: "2",
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "2",
      SLUICE_PART_BYTES: "0",
    });
  });
  after(() => server.close());

  it("are reused, never shared: answers stay right, and no more are made than invocations ran at once", async () => {
    // Three different bodies, each longer than a ring, so that writing it wraps around (rows of four
    // `0.xxxx` fields: 28 bytes).
    const rows = Math.ceil((1.3 * BODY_RING_BYTES) / 28);
    const bodies = [1, 2, 3].map((seed) => csvBlock(rows, 4, seed));
    const expected = await Promise.all(
      bodies.map((body) => referenceProbabilities(path.join(dir, "model.onnx"), body, 4)),
    );
    const csv = { "content-type": "text/csv" };
    const check = async (response: Response, which: number) => {
      const text = await response.text();
      assert.equal(response.status, 200, text.slice(0, 200));
      assertClose(parseCsvNumbers(text).flat(), expected[which]);
    };
    // A compressed body that fails at its second record, beside a good one: the failed invocation's ring
    // goes to the next invocation while its decompressor may still be reading ahead.
    const failing = bodies.map((body) =>
      zlib.gzipSync(Buffer.concat([Buffer.from("0.1,0.2,0.3,0.4\nx,y,z,w\n"), body])),
    );
    for (let round = 0; round < 4; round++) {
      const [failed, good] = await Promise.all([
        invoke(server, failing[round % 3], { ...csv, "content-encoding": "gzip" }),
        invoke(server, bodies[round % 3], csv),
      ]);
      assert.equal(failed.status, 400, await failed.text());
      await check(good, round % 3);
      const [first, second] = await Promise.all([
        invoke(server, bodies[(round + 1) % 3], csv),
        invoke(server, bodies[(round + 2) % 3], csv),
      ]);
      await check(first, (round + 1) % 3);
      await check(second, (round + 2) % 3);
    }
    assert.ok(
      server.running.service.bodyRingsCreated <= 2,
      `${server.running.service.bodyRingsCreated} rings for 16 invocations, two at a time`,
    );
  });

  it("let go of an abort signal that outlives them (a transform job's, shared by a file's mini-batches)", async () => {
    const job = new AbortController();
    for (let i = 0; i < 12; i++) {
      const invocation = await server.running.service.invoke({
        body: (async function* () {
          yield new TextEncoder().encode("0.1,0.2,0.3,0.4\n");
        })(),
        contentType: "text/csv",
        accept: "text/csv",
        contentLength: undefined,
        signal: job.signal,
      });
      for await (const _ of invocation.output);
      invocation.release();
    }
    assert.equal(getEventListeners(job.signal, "abort").length, 0);
  });
});

describe("thread budget", () => {
  const registry = new CodecRegistry();
  const quiet = new StreamLogger({ sink: () => {} });

  it("sizes codec threads and ONNX Runtime's threads to the cores the container has", () => {
    const service = new InvocationService(loadConfig({}), registry, quiet, { cpus: 3, memoryBytes: 2 ** 32 });
    assert.deepEqual(service.threads, { codecThreads: 3, inferenceThreads: 3 });
  });

  it("takes SLUICE_CODEC_THREADS and SLUICE_INFERENCE_THREADS when set", () => {
    const config = loadConfig({ SLUICE_CODEC_THREADS: "1", SLUICE_INFERENCE_THREADS: "4" });
    const service = new InvocationService(config, registry, quiet, { cpus: 8, memoryBytes: 2 ** 32 });
    assert.deepEqual(service.threads, { codecThreads: 1, inferenceThreads: 4 });
    assert.throws(() => loadConfig({ SLUICE_CODEC_THREADS: "0" }), /SLUICE_CODEC_THREADS/);
  });
});

describe("thread priority", { skip: process.platform !== "linux" && "thread priorities are Linux's" }, () => {
  const dir = modelDir(smallMlp());
  let server: TestServer;
  const processNiceness = os.getPriority(process.pid);
  before(async () => {
    server = await startTestServer(dir, { SLUICE_CODEC_THREADS: "2", SLUICE_SMALL_BODY_BYTES: "0" });
  });
  after(() => server.close());

  it("runs codec threads below the main and inference threads, which keep the process's priority", async () => {
    const response = await invoke(server, csvBlock(3, 4, 1), { "content-type": "text/csv" });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    const ids = server.running.service.threadIds();
    assert.equal(ids.codec.length, 2);
    for (const tid of ids.codec) {
      assert.equal(os.getPriority(tid), Math.min(19, processNiceness + CODEC_THREAD_NICENESS), `codec thread ${tid}`);
    }
    // One or more: a small model may run several sessions (see model-sessions.ts).
    assert.ok(ids.inference.length >= 1);
    for (const tid of ids.inference) assert.equal(os.getPriority(tid), processNiceness, `inference thread ${tid}`);
    assert.equal(os.getPriority(process.pid), processNiceness, "the main thread");
  });
});

describe("batches in flight", () => {
  it("stay within maxPendingBatches when one chunk holds thousands of records", async () => {
    const registry = new CodecRegistry();
    await loadCodecPlugins(registry, [BUILTIN_CODECS_MODULE], { builtIn: true });
    const cpu = await createCpuBackend({ modelPath: `${modelDir(smallMlp())}/model.onnx`, cpus: 1, intraOpThreads: 1 });
    let running = 0;
    let mostRunning = 0;
    const counting: Backend = {
      ...cpu,
      async run(batch, signal) {
        running++;
        mostRunning = Math.max(mostRunning, running);
        try {
          return await cpu.run(batch, signal);
        } finally {
          running--;
        }
      },
    };
    const records = 20_000;
    const chunk = new TextEncoder().encode("0.1,0.2,0.3,0.4\n".repeat(records));
    const input = registry.resolveInput("text/csv");
    const output = registry.resolveOutput("text/csv", input);
    let lines = 0;
    try {
      for await (const bytes of runPipeline([chunk], {
        backend: counting,
        input,
        output,
        batchRows: 16,
        maxBodyBytes: undefined,
        recordErrorPolicy: "fail",
        singleRecord: false,
        maxPendingBatches: 2,
      })) {
        for (const byte of bytes) if (byte === 0x0a) lines++;
      }
    } finally {
      await cpu.close();
    }
    assert.equal(lines, records);
    assert.ok(mostRunning <= 2, `${mostRunning} batches ran at once`);
    assert.ok(mostRunning >= 1);
  });
});

describe("a batch cancelled while the model runs it", () => {
  it("settles at once with the abort's reason, not when the run ends; the late reply is let go", async () => {
    const signature = signatureOf({ features: ["float32", 4] });
    const { port1, port2 } = new MessageChannel();
    // The inference thread's side: takes batches, answers only when told to (a slow model's run).
    const inbox: ToInferenceThread[] = [];
    let arrived: () => void = () => {};
    port2.on("message", (message: ToInferenceThread) => {
      inbox.push(message);
      arrived();
    });
    const nextMessage = async (): Promise<ToInferenceThread> => {
      while (inbox.length === 0) await new Promise<void>((resolve) => (arrived = resolve));
      return inbox.shift() as ToInferenceThread;
    };
    const backend = new RemoteBackend(port1, signature, new BatchBufferPool(signature));
    try {
      const cancel = new AbortController();
      const batch = { rows: 2, firstRecordIndex: 0, inputs: [new Float32Array(8)], recordErrors: new Map() };
      const run = backend.run(batch, cancel.signal);
      const first = await nextMessage();
      assert.equal(first.type, "run");
      cancel.abort(new Error("the client went away"));
      await assert.rejects(run, /the client went away/);
      assert.deepEqual(await nextMessage(), { type: "cancel", batch: first.batch });
      // The run ends later: its reply answers no one, and a batch sent after it is answered as usual.
      if (first.type !== "run") return;
      port2.postMessage({ type: "result", batch: first.batch, outputs: [], inputs: first.inputs });
      const next = backend.run({
        rows: 1,
        firstRecordIndex: 0,
        inputs: [new Float32Array(4)],
        recordErrors: new Map(),
      });
      const second = await nextMessage();
      assert.equal(second.type, "run");
      if (second.type !== "run") return;
      const outputs = [{ data: new Float32Array([7]), width: 1 }];
      port2.postMessage({ type: "result", batch: second.batch, outputs, inputs: second.inputs });
      assert.deepEqual([...((await next).outputs[0].data as Float32Array)], [7]);
    } finally {
      port1.close();
      port2.close();
    }
  });
});

/** A port to `server`'s inference thread and a backend over it, as a codec thread has. */
function connectToInferenceThread(server: TestServer): { port: MessagePort; backend: RemoteBackend } {
  return connectToSession(server, 0);
}

/** A port to the inference thread of `server`'s session `index` and a backend over it. */
function connectToSession(server: TestServer, index: number): { port: MessagePort; backend: RemoteBackend } {
  const service = server.running.service;
  const host = service.inferenceThreads?.host(index);
  assert.ok(host);
  const signature = service.ready().signature;
  const port = host.connect();
  return { port, backend: new RemoteBackend(port, signature, new BatchBufferPool(signature)) };
}

describe("the inference thread, after a cancelled batch", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), { SLUICE_CODEC_THREADS: "1" });
  });
  after(() => server.close());

  it("runs every later batch and answers it as before (a cancelled batch's signal never serves another)", async () => {
    const { backend } = connectToInferenceThread(server);
    const rows = randomRows(3, 4, 17);
    const batch = () => ({ rows: 3, firstRecordIndex: 0, inputs: [rows.slice()], recordErrors: new Map() });
    try {
      const expected = (await backend.run(batch())).outputs[0].data as Float32Array;
      for (let round = 0; round < 5; round++) {
        // The cancel follows the batch at once: the thread reads both before the run ends, or the run
        // ends first and the cancel finds nothing. Either way the next batches must run.
        const cancel = new AbortController();
        const doomed = backend.run(batch(), cancel.signal);
        cancel.abort(new Error("the client went away"));
        await assert.rejects(doomed, /the client went away/);
        for (let i = 0; i < 4; i++) {
          const answered = await backend.run(batch());
          assertClose(answered.outputs[0].data as Float32Array, expected);
        }
      }
    } finally {
      await backend.close();
    }
  });
});

describe("the inference thread, when it dies", () => {
  const dir = modelDir(smallMlp());
  let server: TestServer;
  before(async () => {
    server = await startTestServer(dir, { SLUICE_CODEC_THREADS: "1" });
  });
  after(() => server.close());

  it("fails the batch running on it (500), answers 503 while the model reloads on a new thread, then serves again", async () => {
    const service = server.running.service;
    const dying = service.inferenceThreads;
    const { port, backend } = connectToInferenceThread(server);
    // An exception escapes the thread's own code (a batch with no inputs array): the thread ends. The batch
    // sent after it is still waiting for its answer when that happens.
    const fatal = { type: "run", batch: -1, rows: 1, firstRecordIndex: 0 } as unknown as ToInferenceThread;
    port.postMessage(fatal);
    const running = backend.run({
      rows: 1,
      firstRecordIndex: 0,
      inputs: [new Float32Array(4)],
      recordErrors: new Map(),
    });
    await assert.rejects(running, (error: Error & { status?: number; code?: string }) => {
      assert.equal(error.status, 500);
      assert.equal(error.code, "WORKER_CRASHED");
      assert.match(error.message, /the inference thread running this invocation stopped/);
      return true;
    });
    await until(
      () => server.logs.some((line) => line.includes("the inference thread stopped; reloading the model")),
      "the reload to begin",
    );
    // Loading a model on a new thread takes far longer than a request on loopback.
    const ping = await fetch(`${server.url}/ping`);
    assert.equal(ping.status, 503);
    const early = await invoke(server, "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
    assert.equal(early.status, 503);
    await early.arrayBuffer();
    await until(() => service.state.status === "ready", "the model to load again", 30_000);
    assert.notEqual(service.inferenceThreads, dying);
    assert.equal((await fetch(`${server.url}/ping`)).status, 200);
    // Both kinds of invocation reach the new thread: a small body (run on the main thread) and a longer one
    // (on a codec thread).
    for (const body of [csvBlock(2, 4, 9), csvBlock(2000, 4, 9)]) {
      const answer = await invoke(server, body, { "content-type": "text/csv", accept: "text/csv" });
      assert.equal(answer.status, 200);
      const expected = await referenceProbabilities(path.join(dir, "model.onnx"), body, 4);
      assertClose(parseCsvNumbers(await answer.text()).flat(), expected);
    }
  });
});

describe("several sessions of a small model (SLUICE_MODEL_SESSIONS)", () => {
  // Deep enough that each session's share of the batches costs it whole clock ticks of CPU.
  const width = 32;
  const dir = modelDir(wideMlp({ width, layers: 32, classes: 3, seed: 9 }));
  let server: TestServer;
  before(async () => {
    server = await startTestServer(dir, {
      SLUICE_CODEC_THREADS: "2",
      SLUICE_MODEL_SESSIONS: "2",
      SLUICE_SMALL_BODY_BYTES: "0",
      // One body at a time is cut into parts on both codec threads, and so reaches both sessions.
      SLUICE_PART_BYTES: "65536",
    });
  });
  after(() => server.close());

  const answersRight = async (body: Uint8Array) => {
    const answer = await invoke(server, body, { "content-type": "text/csv", accept: "text/csv" });
    assert.equal(answer.status, 200);
    assertClose(
      parseCsvNumbers(await answer.text()).flat(),
      await referenceProbabilities(path.join(dir, "model.onnx"), body, width),
    );
  };
  /** Asserts that every inference thread ran some of the batches `send` makes. */
  const everySessionRuns = async (send: () => Promise<unknown>, what: string) => {
    const ids = server.running.service.threadIds().inference;
    assert.equal(ids.length, 2);
    const before = ids.map((tid) => threadCpuSeconds(tid) ?? 0);
    await send();
    ids.forEach((tid, i) => {
      assert.ok((threadCpuSeconds(tid) ?? 0) > before[i], `inference thread ${tid} ran batches of ${what}`);
    });
  };
  // Two bodies at once go to the two codec threads, and so to the two sessions.
  const twoAtOnce = async () => {
    const bodies = [csvBlock(10_000, width, 21), csvBlock(10_000, width, 22)];
    for (let round = 0; round < 3; round++) await Promise.all(bodies.map(answersRight));
  };

  it("runs each codec thread's batches on a session of its own, every answer right and in order", async () => {
    assert.ok(server.logs.some((line) => line.includes("model loaded") && line.includes("2: SLUICE_MODEL_SESSIONS")));
    await everySessionRuns(twoAtOnce, "two bodies at once");
    // One body at a time, cut into parts, goes to both too; its answers come back in order.
    await everySessionRuns(async () => {
      for (let round = 0; round < 3; round++) await answersRight(csvBlock(20_000, width, 25 + round));
    }, "one body in parts");
  });

  it("loads a session that dies again on a new thread, while the other keeps serving", async () => {
    const service = server.running.service;
    const threads = service.inferenceThreads;
    assert.ok(threads);
    const [survivor, dying] = [threads.host(0), threads.host(1)];
    const { backend: onSurvivor } = connectToSession(server, 0);
    const batch = () => ({ rows: 2, firstRecordIndex: 0, inputs: [randomRows(2, width, 3)], recordErrors: new Map() });
    const expected = (await onSurvivor.run(batch())).outputs[0].data as Float32Array;
    // An exception escapes the second thread's own code: it ends.
    const port = dying.connect();
    port.postMessage({ type: "run", batch: -1, rows: 1, firstRecordIndex: 0 } as unknown as ToInferenceThread);
    await until(
      () => server.logs.some((line) => line.includes("an inference thread stopped; loading its session again")),
      "the session's end to be noticed",
    );
    // The model stays loaded: the other session answers as before, and so does the service.
    assert.equal(service.state.status, "ready");
    assert.equal((await fetch(`${server.url}/ping`)).status, 200);
    assertClose((await onSurvivor.run(batch())).outputs[0].data as Float32Array, expected);
    await until(() => server.logs.some((line) => line.includes("session loaded again")), "the new session", 30_000);
    port.close();
    await onSurvivor.close();
    assert.equal(service.inferenceThreads, threads);
    assert.equal(threads.host(0), survivor);
    assert.notEqual(threads.host(1), dying);
    assert.ok(!server.logs.some((line) => line.includes("reloading the model")), "no reload of the whole model");
    // The codec threads the dead session served reach the new one.
    await everySessionRuns(twoAtOnce, "two bodies at once, after the new session");
  });

  it("lets a backend whose session died run its later batches on the new one (as the main thread's does)", async () => {
    const service = server.running.service;
    const threads = service.inferenceThreads;
    assert.ok(threads);
    const { backend } = connectToSession(server, 1);
    const batch = () => ({ rows: 2, firstRecordIndex: 0, inputs: [randomRows(2, width, 4)], recordErrors: new Map() });
    const expected = (await backend.run(batch())).outputs[0].data as Float32Array;
    const dying = threads.host(1);
    const loadedBefore = server.logs.filter((line) => line.includes("session loaded again")).length;
    const port = dying.connect();
    port.postMessage({ type: "run", batch: -1, rows: 1, firstRecordIndex: 0 } as unknown as ToInferenceThread);
    await until(
      () => server.logs.filter((line) => line.includes("session loaded again")).length > loadedBefore,
      "the new session",
      30_000,
    );
    port.close();
    await assert.rejects(backend.run(batch()), /the inference thread has stopped/);
    backend.reconnect(threads.connect(1));
    try {
      assertClose((await backend.run(batch())).outputs[0].data as Float32Array, expected);
    } finally {
      await backend.close();
    }
  });
});
