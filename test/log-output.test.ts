/**
 * The log's output when its reader falls behind (a container runtime's log driver waiting on CloudWatch):
 * the server keeps serving, lines keep their order, a bounded backlog waits, lines past it are dropped and
 * counted, and what is left is written at exit. Each case runs a real process writing to a real pipe that
 * this process stops reading.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { startChildServer } from "./support/child-server.js";
import { modelDir, smallMlp } from "./support/models.js";

const LOG_MODULE = new URL("../src/stream-logger.js", import.meta.url).href;
const OUTPUT_MODULE = new URL("../src/log-output.js", import.meta.url).href;

interface Run {
  /** Standard output, read only once `stallMs` had passed. */
  readonly stdout: string;
  /** The child's own report, on standard error (one JSON object). */
  readonly report: Record<string, number>;
  readonly code: number | null;
}

/** Runs `script` (an ES module) with standard output unread for its first `stallMs`. */
function runWithStalledReader(script: string, stallMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    // Paused with no reader, the pipe fills: the child's writes then find it full.
    child.stdout.pause();
    const resume = setTimeout(() => {
      child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
      child.stdout.resume();
    }, stallMs);
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(resume);
      try {
        resolve({ stdout: Buffer.concat(out).toString(), report: JSON.parse(err.trim() || "{}"), code });
      } catch {
        reject(new Error(`child said: ${err}`));
      }
    });
  });
}

const lines = (text: string) => text.split("\n").filter((line) => line !== "");

describe("the log's output", () => {
  it("keeps the event loop turning while the reader is stalled, and loses no line", async () => {
    // 4 000 lines of ~1 KB: 4 MB, far more than a pipe holds. The child counts its 10 ms timer ticks in
    // the first 2 s, all of them with nobody reading; an event loop frozen by a full pipe ticks a few times.
    const script = `
      const { StreamLogger } = await import(${JSON.stringify(LOG_MODULE)});
      const log = new StreamLogger({ format: "json" });
      const started = performance.now();
      let ticks = 0;
      const ticker = setInterval(() => {
        if (performance.now() - started < 2000) ticks++;
      }, 10);
      for (let i = 0; i < 4000; i++) {
        log.info("invocation", { n: i, pad: "x".repeat(1000) });
        if (i % 100 === 99) await new Promise((done) => setTimeout(done, 1));
      }
      await new Promise((done) => setTimeout(done, 1000));
      clearInterval(ticker);
      process.stderr.write(JSON.stringify({ ticks }));
    `;
    const run = await runWithStalledReader(script, 3000);
    assert.equal(run.code, 0);
    assert.ok(run.report.ticks > 50, `the event loop ticked ${run.report.ticks} times in 2 s`);
    const written = lines(run.stdout).map((line) => JSON.parse(line) as { n: number; msg: string });
    assert.deepEqual(
      written.map((line) => line.n),
      Array.from({ length: 4000 }, (_, i) => i),
    );
  });

  it("drops the lines past its bound, then says how many, in order", async () => {
    const script = `
      const { LogOutput } = await import(${JSON.stringify(OUTPUT_MODULE)});
      const output = new LogOutput(process.stdout, { droppedLine: (count) => "dropped " + count, maxBacklogBytes: 300000 });
      for (let i = 0; i < 2000; i++) output.write("before " + i + " " + "x".repeat(1000) + "\\n");
      await new Promise((done) => setTimeout(done, 1500));
      for (let i = 0; i < 10; i++) output.write("after " + i + "\\n");
      await new Promise((done) => setTimeout(done, 200));
      process.stderr.write("{}");
    `;
    const run = await runWithStalledReader(script, 500);
    assert.equal(run.code, 0);
    const written = lines(run.stdout).map((line) => line.split(" ").slice(0, 2).join(" "));
    const kept = written.findIndex((line) => line.startsWith("dropped"));
    // The pipe holds some lines; 300 000 bytes of ~1 KB lines were held besides; the rest were dropped.
    assert.ok(kept > 290 && kept < 2000, `${kept} lines kept`);
    assert.deepEqual(
      written,
      [
        ...Array.from({ length: kept }, (_, i) => `before ${i}`),
        `dropped ${2000 - kept}`,
        ...Array.from({ length: 10 }, (_, i) => `after ${i}`),
      ],
      "the first lines, the count of the rest, then the lines after the reader caught up",
    );
  });

  it("retries a full pipe on its timer, not once per line", async () => {
    // 20 000 lines of ~100 bytes while nobody reads: the pipe fills after a few hundred. The child counts
    // its own write system calls (`syscw` in /proc/self/io counts refused ones too) over those lines; a
    // retry per line would make about 19 000 of them, each failing with EAGAIN.
    const script = `
      const { readFileSync } = await import("node:fs");
      const { LogOutput } = await import(${JSON.stringify(OUTPUT_MODULE)});
      const writes = () => Number(/syscw: (\\d+)/.exec(readFileSync("/proc/self/io", "utf8"))[1]);
      const output = new LogOutput(process.stdout, { droppedLine: (count) => "dropped " + count });
      const before = writes();
      for (let i = 0; i < 20000; i++) {
        output.write("line " + i + " " + "x".repeat(90) + "\\n");
        if (i % 500 === 499) await new Promise((done) => setTimeout(done, 1));
      }
      const during = writes() - before;
      process.stderr.write(JSON.stringify({ during }));
    `;
    const run = await runWithStalledReader(script, 1500);
    assert.equal(run.code, 0);
    assert.ok(run.report.during < 1000, `${run.report.during} write system calls for 20 000 lines`);
    const written = lines(run.stdout).map((line) => Number(line.split(" ")[1]));
    assert.deepEqual(
      written,
      Array.from({ length: 20000 }, (_, i) => i),
    );
  });

  it("writes what is left when the process exits, after the reader catches up", async () => {
    const script = `
      const { StreamLogger } = await import(${JSON.stringify(LOG_MODULE)});
      const log = new StreamLogger({ format: "json" });
      for (let i = 0; i < 500; i++) log.info("line", { n: i, pad: "x".repeat(1000) });
      log.info("stopped");
      process.exit(0);
    `;
    const run = await runWithStalledReader(script, 300);
    assert.equal(run.code, 0);
    const written = lines(run.stdout).map((line) => JSON.parse(line) as { n?: number; msg: string });
    assert.equal(written.length, 501);
    assert.deepEqual(
      written.slice(0, 500).map((line) => line.n),
      Array.from({ length: 500 }, (_, i) => i),
    );
    assert.equal(written[500].msg, "stopped");
  });

  it("writes an error line at once, not at the next interval", async () => {
    // The child writes an info line and an error line, then blocks its own thread for 2 s: only a write
    // made inside log.error can have reached the pipe by the time the parent reads it.
    const script = `
      const { StreamLogger } = await import(${JSON.stringify(LOG_MODULE)});
      const log = new StreamLogger({ format: "json" });
      log.info("first");
      log.error("failed");
      process.stderr.write("{}");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    const seen = await new Promise<string>((resolve) => {
      let text = "";
      child.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('"failed"')) resolve(text);
      });
      // Nothing arrived while the child was blocked: resolve with what there is once it has exited.
      child.on("close", () => resolve(`${text} (only after exit)`));
    });
    child.kill();
    assert.ok(!seen.includes("only after exit"), "the error line arrived while the child was still blocked");
    assert.deepEqual(
      lines(seen).map((line) => (JSON.parse(line) as { msg: string }).msg),
      ["first", "failed"],
    );
  });

  it("lets a server answer invocations and /ping while nobody reads its log, then writes every line", async () => {
    const server = await startChildServer(modelDir(smallMlp()));
    try {
      server.child.stdout?.pause();
      const invocationLines = () => server.log().split('"msg":"invocation"').length - 1;
      const before = invocationLines();
      // One line of ~330 bytes per invocation: 1 200 of them are several times what the pipe and this
      // process's paused stream hold.
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = 0; i < 300; i++) {
            const response = await fetch(`${server.url}/invocations`, {
              method: "POST",
              body: "0.1,0.2,0.3,0.4\n",
              headers: { "content-type": "text/csv" },
              signal: AbortSignal.timeout(30_000),
            });
            assert.equal(response.status, 200);
            await response.text();
          }
        }),
      );
      const ping = await fetch(`${server.url}/ping`, { signal: AbortSignal.timeout(30_000) });
      assert.equal(ping.status, 200);
      server.child.stdout?.resume();
      for (let waited = 0; invocationLines() < before + 1200 && waited < 30_000; waited += 50) {
        await new Promise((done) => setTimeout(done, 50));
      }
      assert.equal(invocationLines(), before + 1200, "every invocation's line arrived");
    } finally {
      server.child.stdout?.resume();
      await server.stop();
    }
  });
});
