/**
 * `SLUICE_ACCEPT=every-thread`: codec threads accept connections on descriptors of their own and serve
 * them end to end, the main thread stops accepting, and every guarantee holds as it does on the main
 * thread: answers in order, refusals in JSON, one global gate, metrics, a stuck or dying thread replaced,
 * a graceful stop.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { EVERY_THREAD_FROM_CODEC_THREADS } from "../src/config.js";
import { createHttpServer } from "../src/http-server.js";
import { InvocationGate, type Release, SharedAdmission } from "../src/invocation-gate.js";
import { StreamLogger } from "../src/stream-logger.js";
import { RunningCounts } from "../src/threads/running-counts.js";
import { csvBlock } from "./support/child-server.js";
import { hangingBody, until } from "./support/hanging-body.js";
import { modelDir, smallMlp } from "./support/models.js";
import { assertClose, parseCsvNumbers, referenceProbabilities } from "./support/reference.js";
import { invoke, requestOverNodeHttp, startTestServer, type TestServer } from "./support/server.js";

const CRASHING_PLUGIN = fileURLToPath(new URL("fixtures/crashing-plugin.js", import.meta.url));

const EVERY_THREAD = { SLUICE_ACCEPT: "every-thread", SLUICE_CODEC_THREADS: "2" };

/** Starts a server whose codec threads accept connections, once they do. */
async function startAccepting(env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startTestServer(modelDir(smallMlp()), { ...EVERY_THREAD, ...env });
  await until(() => server.logs.some((line) => line.includes("codec threads accept connections")), "accepting");
  return server;
}

/** One request over a connection of its own (no keep-alive), read whole. */
const request = (server: TestServer, method: string, route: string, body?: string | Uint8Array, headers = {}) =>
  requestOverNodeHttp(server.url, { method, route, body, headers, ownConnection: true });

const invocationLines = (server: TestServer) =>
  server.records.filter((record) => record.msg === "invocation") as {
    thread?: string;
    status?: number;
    code?: string;
    delivered?: boolean;
    parts?: number;
  }[];

describe("codec threads that accept connections", () => {
  let server: TestServer;
  before(async () => {
    server = await startAccepting({ SAGEMAKER_MAX_PAYLOAD_IN_MB: "1" });
  });
  after(() => server.close());

  it("serve /ping, /execution-parameters and /invocations, the main thread no longer", async () => {
    const served = invocationLines(server).length;
    assert.equal((await request(server, "GET", "/ping")).status, 200);
    const parameters = await request(server, "GET", "/execution-parameters");
    assert.equal(parameters.status, 200);
    assert.equal(typeof JSON.parse(parameters.text).MaxConcurrentTransforms, "number");
    const body = csvBlock(3, 4);
    for (let i = 0; i < 6; i++) {
      const answer = await request(server, "POST", "/invocations", new TextDecoder().decode(body), {
        "content-type": "text/csv",
      });
      assert.equal(answer.status, 200);
      const file = path.join(server.config.modelDir as string, "model.onnx");
      assertClose(parseCsvNumbers(answer.text).flat(), await referenceProbabilities(file, body, 4));
    }
    await until(() => invocationLines(server).length >= served + 6, "the invocations' log lines");
    const threads = invocationLines(server)
      .slice(served)
      .map((line) => line.thread);
    assert.deepEqual(new Set(threads), new Set(["codec-accepted"]));
  });

  it("stream a large body through, every record answered in order", async () => {
    const rows = 30_000;
    const body = csvBlock(rows, 4, 5);
    let offset = 0;
    const chunked = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= body.length) controller.close();
        else {
          // Chunks that cut records anywhere.
          const end = Math.min(body.length, offset + 7919);
          controller.enqueue(body.subarray(offset, end));
          offset = end;
        }
      },
    });
    const response = await invoke(server, chunked, { "content-type": "text/csv" });
    assert.equal(response.status, 200);
    const answered = parseCsvNumbers(await response.text());
    assert.equal(answered.length, rows);
    const file = path.join(server.config.modelDir as string, "model.onnx");
    assertClose(answered.flat(), await referenceProbabilities(file, body, 4), 1e-6);
  });

  it("refuse what they cannot serve in JSON, and serve on", async () => {
    const unsupported = await request(server, "POST", "/invocations", "x", { "content-type": "image/gif" });
    assert.equal(unsupported.status, 415);
    assert.equal(JSON.parse(unsupported.text).code, "UNSUPPORTED_MEDIA_TYPE");
    // 2 MB streamed past a 1 MB limit: refused as the body crosses it.
    const block = new TextEncoder().encode("0.1,0.2,0.3,0.4\n".repeat(4096));
    let sent = 0;
    const tooLarge = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 2 * 2 ** 20) controller.close();
        else {
          controller.enqueue(block);
          sent += block.length;
        }
      },
    });
    const refused = await invoke(server, tooLarge, { "content-type": "text/csv" });
    assert.equal(refused.status, 413);
    assert.equal(((await refused.json()) as { code: string }).code, "PAYLOAD_TOO_LARGE");
    assert.equal((await request(server, "GET", "/ping")).status, 200);
  });

  it("count what they serve in the main thread's /metrics", async () => {
    const count = async () => {
      const text = (await request(server, "GET", "/metrics")).text;
      const line = text.split("\n").find((l) => l.startsWith('sluice_invocations_total{status="200"'));
      return line ? Number(line.split(" ").pop()) : 0;
    };
    const before = await count();
    for (let i = 0; i < 3; i++) {
      const answer = await request(server, "POST", "/invocations", "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
      assert.equal(answer.status, 200);
    }
    // Each thread posts its counts a few at a time.
    const deadline = Date.now() + 5000;
    while ((await count()) < before + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await count(), before + 3);
  });
});

describe("which threads accept connections when SLUICE_ACCEPT is unset", () => {
  it("the codec threads, from EVERY_THREAD_FROM_CODEC_THREADS of them; the main thread below", async () => {
    const many = await startTestServer(modelDir(smallMlp()), {
      SLUICE_CODEC_THREADS: String(EVERY_THREAD_FROM_CODEC_THREADS),
    });
    try {
      await until(() => many.logs.some((line) => line.includes("codec threads accept connections")), "accepting");
      const answer = await request(many, "POST", "/invocations", "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
      assert.equal(answer.status, 200);
      await until(() => invocationLines(many).length > 0, "the invocation's log line");
      assert.equal(invocationLines(many)[0].thread, "codec-accepted");
    } finally {
      await many.close();
    }
    const few = await startTestServer(modelDir(smallMlp()), {
      SLUICE_CODEC_THREADS: String(EVERY_THREAD_FROM_CODEC_THREADS - 1),
    });
    try {
      const answer = await request(few, "POST", "/invocations", "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
      assert.equal(answer.status, 200);
      await until(() => invocationLines(few).length > 0, "the invocation's log line");
      assert.equal(invocationLines(few)[0].thread, "main");
      assert.ok(!few.logs.some((line) => line.includes("codec threads accept connections")));
    } finally {
      await few.close();
    }
  });
});

describe("the gate, with codec threads that accept connections", () => {
  let server: TestServer;
  before(async () => {
    server = await startAccepting({
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "1",
      SLUICE_MAX_QUEUED_INVOCATIONS: "1",
      SLUICE_BODY_IDLE_TIMEOUT_S: "2",
    });
  });
  after(() => server.close());

  it("admits one at a time across threads, queues the next, refuses the one after (503)", async () => {
    const first = hangingBody(["0.1,0.2,0.3,0.4\n"]);
    const running = invoke(server, first.stream, { "content-type": "text/csv" });
    await until(() => server.running.service.ready().gate.running === 1, "the first invocation to be admitted");
    const queuedBody = hangingBody(["0.5,0.6,0.7,0.8\n"]);
    queuedBody.release();
    const queued = invoke(server, queuedBody.stream, { "content-type": "text/csv" });
    await until(() => server.running.service.ready().gate.queued === 1, "the second invocation to queue");
    const refused = await request(server, "POST", "/invocations", "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
    assert.equal(refused.status, 503);
    assert.equal(JSON.parse(refused.text).code, "OVERLOADED");
    first.release();
    assert.equal((await running).status, 200);
    const second = await queued;
    assert.equal(second.status, 200);
    assert.equal(parseCsvNumbers(await second.text()).length, 1);
    await until(() => server.running.service.ready().gate.running === 0, "every slot to be given back");
  });

  it("fails a stalled body with 408 and gives its slot back", async () => {
    const stalled = hangingBody(["0.1,0.2,"]);
    const response = await invoke(server, stalled.stream, { "content-type": "text/csv" });
    assert.equal(response.status, 408);
    assert.equal(((await response.json()) as { code: string }).code, "BODY_IDLE_TIMEOUT");
    stalled.release();
    await until(() => server.running.service.ready().gate.running === 0, "the slot to be given back");
    const next = await request(server, "POST", "/invocations", "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
    assert.equal(next.status, 200);
  });
});

describe("a codec thread that accepts connections and dies", () => {
  let server: TestServer;
  before(async () => {
    server = await startAccepting({
      SLUICE_PLUGINS: CRASHING_PLUGIN,
      SLUICE_RESPONSE_HOLD_MB: "0",
      SLUICE_PART_BYTES: "4096",
    });
  });
  after(() => server.close());

  const crashTest = { "content-type": "application/x-crash-test" };
  const replacements = () => server.logs.filter((line) => line.includes("replacing a codec thread")).length;

  /**
   * The log line of the invocation that failed as its thread died, among those written after the first
   * `logged` (lines of the invocations before may still be on their way from their threads).
   */
  async function crashedLine(logged: number) {
    const crashed = () =>
      invocationLines(server)
        .slice(logged)
        .find((line) => line.code === "WORKER_CRASHED");
    await until(() => crashed() !== undefined, "the failed invocation's log line");
    return crashed() as NonNullable<ReturnType<typeof crashed>>;
  }

  /** Waits for the dead thread's replacement, then checks that serving goes on and the slot came back. */
  async function servingGoesOn(replaced: number) {
    await until(() => replacements() > replaced, "the replacement");
    for (let i = 0; i < 8; i++) {
      const answer = await request(server, "POST", "/invocations", "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
      assert.equal(answer.status, 200);
    }
    await until(() => server.running.service.ready().gate.running === 0, "the dead thread's slot to come back");
  }

  for (const [line, reason] of [
    ["crash", "it exited with code 7"],
    ["throw-later", "a bug outside the decoder's call"],
  ] as const) {
    it(`answers its request with a 500 when a plugin's \`${line}\` ends it; its replacement accepts`, async () => {
      const replaced = replacements();
      const logged = invocationLines(server).length;
      // (A CSV answer has nothing to send before its first record; a JSON one would begin at once.)
      const answer = await request(server, "POST", "/invocations", `1\n${line}\n`, {
        ...crashTest,
        accept: "text/csv",
      });
      assert.equal(answer.status, 500);
      const body = JSON.parse(answer.text) as { code: string; error: string };
      assert.equal(body.code, "WORKER_CRASHED");
      assert.match(body.error, new RegExp(reason));
      assert.equal((await crashedLine(logged)).status, 500);
      await servingGoesOn(replaced);
    });
  }

  it("cuts an answer it had begun, and logs it as not delivered", async () => {
    const replaced = replacements();
    const logged = invocationLines(server).length;
    const cut = await new Promise<{ status: number; error?: Error }>((resolve) => {
      const outgoing = http.request(`${server.url}/invocations`, { method: "POST", headers: crashTest, agent: false });
      outgoing.on("response", (response) => {
        // The answer has begun (a JSON answer's opening, with nothing held back): now the line that ends the thread.
        outgoing.end("crash\n");
        response.resume();
        response.on("error", (error) => resolve({ status: response.statusCode ?? 0, error }));
        response.on("end", () => resolve({ status: response.statusCode ?? 0 }));
      });
      outgoing.on("error", (error) => resolve({ status: 0, error }));
      outgoing.write("1\n".repeat(5000));
    });
    assert.equal(cut.status, 200);
    assert.ok(cut.error, "the cut answer must not end as if complete");
    const line = await crashedLine(logged);
    assert.equal(line.status, 200);
    assert.equal(line.delivered, false);
    await servingGoesOn(replaced);
  });

  /**
   * Sends a large body until one is cut into parts: the dead thread's replacement accepts, and is linked
   * to the other thread, some moments after the other thread answers again.
   */
  async function cutIntoPartsAgain() {
    const rows = csvBlock(3000, 4);
    for (let attempt = 0; attempt < 100; attempt++) {
      const logged = invocationLines(server).length;
      const answer = await request(server, "POST", "/invocations", rows, { "content-type": "text/csv" });
      assert.equal(answer.status, 200);
      assert.equal(parseCsvNumbers(answer.text).length, 3000);
      await until(() => invocationLines(server).length > logged, "the large body's log line");
      if (
        (invocationLines(server)
          .slice(logged)
          .find((line) => line.status === 200)?.parts ?? 1) > 1
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.fail("no large body was cut into parts again");
  }

  it("fails a body with a 500 when a thread running a part of it dies, though another thread cut it", async () => {
    // The thread that accepts a body of unknown length cuts it, and its first part runs on the other
    // thread, which is idle. A plugin's body then ends one of the two; which one takes that connection
    // is the kernel's choice, so this goes on until it has been the one running the part.
    const PEER_GONE = "it ended while it ran a part of this body";
    const reasons: string[] = [];
    for (let attempt = 0; attempt < 20 && !reasons.includes(PEER_GONE); attempt++) {
      const replaced = replacements();
      const held = hangingBody(["0.1,0.2,0.3,0.4\n".repeat(10)]);
      const cut = invoke(server, held.stream, { "content-type": "text/csv" });
      await until(() => server.running.service.ready().gate.running === 1, "the body to be admitted");
      await new Promise((resolve) => setTimeout(resolve, 100));
      const crash = await request(server, "POST", "/invocations", "1\ncrash\n", { ...crashTest, accept: "text/csv" });
      assert.equal(crash.status, 500);
      const response = await cut;
      assert.equal(response.status, 500);
      const body = (await response.json()) as { code: string; error: string };
      assert.equal(body.code, "WORKER_CRASHED");
      const reason = [PEER_GONE, "it exited with code 7"].find((known) => body.error.includes(known));
      assert.ok(reason, body.error);
      reasons.push(reason);
      held.release();
      await servingGoesOn(replaced);
      await cutIntoPartsAgain();
    }
    assert.ok(reasons.includes(PEER_GONE), `only ${JSON.stringify(reasons)}`);
  });
});

describe("a codec thread that accepts connections and gets stuck", () => {
  let server: TestServer;
  before(async () => {
    server = await startAccepting({ SLUICE_PLUGINS: CRASHING_PLUGIN });
  });
  after(() => server.close());

  it("is ended by the watchdog once its event loop stops turning; its replacement accepts", async () => {
    // A decoder in an endless loop: nothing on that thread answers again, not even /ping.
    const stuck = request(server, "POST", "/invocations", "1\nhang\n", { "content-type": "application/x-crash-test" });
    await assert.rejects(stuck);
    assert.ok(server.logs.some((line) => line.includes("its event loop did not turn")));
    await until(() => server.logs.some((line) => line.includes("replacing a codec thread")), "the replacement");
    for (let i = 0; i < 8; i++) {
      const answer = await request(server, "POST", "/invocations", "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
      assert.equal(answer.status, 200);
    }
  });
});

describe("stopping, with codec threads that accept connections", () => {
  it("waits for the threads' own sessions to open before ending the threads", async () => {
    // Each thread opens a session of its own as it starts accepting; ONNX Runtime aborts the process (this
    // test's) when a thread ends while it does.
    for (let round = 0; round < 4; round++) {
      const server = await startAccepting();
      await server.close();
    }
  });

  it("finishes what the threads are serving, then stops taking connections", async () => {
    const server = await startAccepting();
    const held = hangingBody(["0.1,0.2,0.3,0.4\n"]);
    const running = invoke(server, held.stream, { "content-type": "text/csv" });
    await until(() => server.running.service.ready().gate.running === 1, "the invocation to be admitted");
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(closed, false, "close waits for the invocation a thread is serving");
    held.release();
    const response = await running;
    assert.equal(response.status, 200);
    assert.equal(parseCsvNumbers(await response.text()).length, 1);
    await closing;
    await assert.rejects(request(server, "GET", "/ping"));
  });
});

describe("a server that has stopped accepting", () => {
  it("answers a request on a connection it kept, at once, with Connection: close", async () => {
    // The routes answer /ping synchronously: the header must be set before they do.
    const app = new Hono();
    app.get("/ping", () => new Response(null, { status: 200 }));
    const http1 = createHttpServer(app, new StreamLogger({ sink: () => {} }));
    await new Promise<void>((resolve) => http1.server.listen(0, "127.0.0.1", resolve));
    const { port } = http1.server.address() as AddressInfo;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ping = () =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        http
          .get(`http://127.0.0.1:${port}/ping`, { agent }, (response) => {
            response.resume();
            response.on("end", () =>
              resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }),
            );
          })
          .on("error", reject);
      });
    try {
      assert.deepEqual(await ping(), { status: 200, connection: "keep-alive" });
      http1.stopAccepting();
      assert.deepEqual(await ping(), { status: 200, connection: "close" });
      await http1.stop();
    } finally {
      agent.destroy();
    }
  });
});

describe("the counts of what runs on each accepting thread", () => {
  it("are kept by the thread that started each, so that a dead one's can be dropped", () => {
    const counts = RunningCounts.create(3);
    const seen = new RunningCounts(counts.buffer);
    counts.add(0, 1, 1);
    counts.add(2, 1, 1);
    counts.add(2, 2, 1);
    assert.deepEqual([seen.on(0), seen.on(1), seen.on(2)], [0, 2, 1]);
    // Thread 2 died: what it started, on itself and on thread 1, is over.
    counts.forget(2);
    assert.deepEqual([seen.on(0), seen.on(1), seen.on(2)], [0, 1, 0]);
    // Thread 0 learns of it only now, and gives back what it had counted on thread 1.
    counts.add(0, 1, -1);
    assert.deepEqual([seen.on(0), seen.on(1), seen.on(2)], [0, 0, 0]);
  });
});

describe("the gate's shared counts", () => {
  /** The side of `gate` a codec thread at `slot` admits through, its freed slots said to `gate` at once. */
  function threadAdmission(gate: InvocationGate, slot: number, onFreed = () => {}) {
    const queue = async (signal: AbortSignal | undefined) => {
      await gate.acquire(signal, slot);
    };
    return new SharedAdmission(gate.counts, gate.maxRunning, slot, queue, () => {
      onFreed();
      gate.admitWaiting();
    });
  }

  /** `admission`, noting `name` in `order` once it is granted. */
  const noted = (order: string[], name: string, admission: Promise<Release>) =>
    admission.then((release) => {
      order.push(name);
      return release;
    });

  it("hold the bound across a thread's admissions and the main thread's, in arrival order, and take back a dead thread's", async () => {
    const gate = new InvocationGate(2, 2, 1, 1);
    const freed: string[] = [];
    const thread = threadAdmission(gate, 0, () => freed.push("freed"));
    const releaseThread = await thread.acquire();
    const releaseMain = await gate.acquire();
    assert.equal(gate.running, 2);
    const order: string[] = [];
    const queuedMain = noted(order, "main", gate.acquire());
    const queuedThread = noted(order, "thread", thread.acquire());
    await assert.rejects(gate.acquire(), /too many concurrent invocations/);
    assert.equal(gate.queued, 2);
    releaseThread();
    assert.deepEqual(freed, ["freed"]);
    (await queuedMain)();
    releaseMain();
    const lastThread = await queuedThread;
    assert.deepEqual(order, ["main", "thread"]);
    assert.equal(gate.running, 1);
    // The thread dies holding its slot: the gate takes it back.
    gate.reclaim(0);
    assert.equal(gate.running, 0);
    void lastThread;
  });

  it("give a freed slot to a waiter on the thread running the fewest, before one that came earlier", async () => {
    const gate = new InvocationGate(2, 4, 1, 2);
    const [first, second] = [threadAdmission(gate, 0), threadAdmission(gate, 1)];
    const releaseFirst = await first.acquire();
    const releaseSecond = await second.acquire();
    const order: string[] = [];
    const queuedOnFirst = noted(order, "first", first.acquire());
    const queuedOnSecond = noted(order, "second", second.acquire());
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(gate.queued, 2);
    // The second thread's slot comes free: in arrival order the first thread would run two, the second none.
    releaseSecond();
    (await queuedOnSecond)();
    assert.deepEqual(order, ["second"]);
    releaseFirst();
    (await queuedOnFirst)();
    assert.deepEqual(order, ["second", "first"]);
    assert.equal(gate.running, 0);
  });
});
