import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import path from "node:path";
import { describe, it } from "node:test";
import { temporaryDirectory } from "../src/temporary-directory.js";
import { exitOf, waitForLog } from "./support/child-server.js";
import { modelDir, smallMlp } from "./support/models.js";

const CLI = new URL("../src/cli.js", import.meta.url).pathname;
const SLOW_PLUGIN = new URL("fixtures/slow-loading-plugin.js", import.meta.url).pathname;

describe("the sluice command", () => {
  it("exits non-zero with a one-line reason for a missing or unknown command", () => {
    for (const args of [[], ["train"], ["srve"]]) {
      const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 20_000 });
      assert.notEqual(result.status, 0, args.join(" "));
      assert.equal(result.stderr.trim().split("\n").length, 1);
      assert.match(result.stderr, /usage: sluice serve/);
    }
  });

  it("runs as `npx sluice` once built: the command file is executable and finds Node itself", () => {
    // tsc writes files without the executable bit, and npm links a package's own bin only at install time.
    const result = spawnSync(CLI, ["codecs"], { encoding: "utf8", timeout: 20_000 });
    assert.equal(result.error, undefined);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /text\/csv/);
  });

  it("exits non-zero naming a malformed variable", () => {
    const result = spawnSync(process.execPath, [CLI, "serve", "--port", "0"], {
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "many" },
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /SAGEMAKER_MAX_CONCURRENT_TRANSFORMS="many"/);
  });

  it("exits non-zero inside a batch job when the model cannot load", async () => {
    const dir = temporaryDirectory("sluice-broken");
    writeFileSync(path.join(dir, "model.onnx"), "garbage");
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--model-dir", dir], {
      env: { ...process.env, SAGEMAKER_BATCH: "true" },
    });
    const [line, code] = await Promise.all([waitForLog(child, /model failed to load/), exitOf(child)]);
    assert.match(line, /reason=/);
    assert.equal(code, 1);
  });

  it("serves, and on SIGTERM finishes the request in flight before exiting 0", async () => {
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--model-dir", modelDir(smallMlp())], {
      env: { ...process.env, SLUICE_BATCH_ROWS: "64" },
    });
    try {
      const listening = waitForLog(child, /info listening/);
      await waitForLog(child, /model loaded/);
      const port = Number(/port=(\d+)/.exec(await listening)?.[1]);
      // A body that arrives slowly keeps the request in flight while SIGTERM comes in.
      const encoder = new TextEncoder();
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          if (sent === 3) child.kill("SIGTERM");
          if (sent++ < 20) controller.enqueue(encoder.encode("0.1,0.2,0.3,0.4\n".repeat(10)));
          else controller.close();
        },
      });
      const response = await fetch(`http://127.0.0.1:${port}/invocations`, {
        method: "POST",
        body,
        headers: { "content-type": "text/csv" },
        duplex: "half",
        signal: AbortSignal.timeout(20_000),
      } as RequestInit);
      assert.equal(response.status, 200);
      assert.equal((await response.text()).trim().split("\n").length, 200);
      assert.equal(await exitOf(child), 0);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("on SIGTERM exits as soon as the answers in flight are sent, not when their connections time out", async () => {
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--model-dir", modelDir(smallMlp())]);
    const agent = new http.Agent({ keepAlive: true });
    try {
      const listening = waitForLog(child, /info listening/);
      await waitForLog(child, /model loaded/);
      const port = Number(/port=(\d+)/.exec(await listening)?.[1]);
      // A slow body keeps a keep-alive request in flight while SIGTERM comes in; once answered, its
      // connection is idle, and Node would keep it open for its keep-alive timeout (5 s).
      const answered = await new Promise<number>((resolve, reject) => {
        const request = http.request(
          {
            port,
            host: "127.0.0.1",
            path: "/invocations",
            method: "POST",
            agent,
            headers: { "content-type": "text/csv" },
          },
          (response) => {
            response.resume();
            response.on("end", () => resolve(performance.now()));
          },
        );
        request.on("error", reject);
        let sent = 0;
        const send = () => {
          if (sent === 3) child.kill("SIGTERM");
          if (sent++ === 10) {
            request.end();
            return;
          }
          request.write("0.1,0.2,0.3,0.4\n");
          setTimeout(send, 30);
        };
        send();
      });
      assert.equal(await exitOf(child), 0);
      const seconds = (performance.now() - answered) / 1000;
      assert.ok(seconds < 3, `exited ${seconds.toFixed(1)} s after the last answer`);
    } finally {
      agent.destroy();
      child.kill("SIGKILL");
    }
  });

  it("on SIGTERM while still starting (its plugins loading), starts, stops and exits 0", async () => {
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--model-dir", modelDir(smallMlp())], {
      env: { ...process.env, SLUICE_PLUGINS: SLOW_PLUGIN },
    });
    try {
      let stderr = "";
      await new Promise<void>((resolve) =>
        child.stderr.on("data", (data: Buffer) => {
          stderr += data.toString();
          if (stderr.includes("slow plugin: loading")) resolve();
        }),
      );
      const stopped = waitForLog(child, /info stopped/);
      child.kill("SIGTERM");
      const [, code] = await Promise.all([stopped, exitOf(child)]);
      assert.equal(code, 0);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("transform, in its first form, sends one file as one body and writes the answer to standard output", () => {
    const dir = modelDir(smallMlp());
    const input = path.join(temporaryDirectory("sluice-transform"), "rows.csv");
    writeFileSync(input, "0.1,0.2,0.3,0.4\n1,2,3,4\n");
    const result = spawnSync(
      process.execPath,
      [CLI, "transform", "--content-type", "text/csv", "--accept", "application/jsonlines", "--model-dir", dir, input],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as number[]);
    assert.equal(lines.length, 2);
    assert.ok(lines.every((probabilities) => probabilities.length === 3));
    const log = result.stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(log.some((line) => line.msg === "transform job done" && line.records === 2 && line.level === "info"));

    const bad = spawnSync(process.execPath, [CLI, "transform", "--content-type", "text/csv", "--model-dir", dir, "-"], {
      input: "1,2,3,4\n1,2\n",
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(bad.status, 1);
    const error = JSON.parse(bad.stderr.trim().split("\n").at(-1) ?? "") as { code: string; recordIndex: number };
    assert.deepEqual([error.code, error.recordIndex], ["CSV_WIDTH_MISMATCH", 1]);

    const unknown = path.join(path.dirname(input), "rows.data");
    writeFileSync(unknown, "0.1,0.2,0.3,0.4\n");
    const usage = spawnSync(process.execPath, [CLI, "transform", unknown], { encoding: "utf8", timeout: 20_000 });
    assert.notEqual(usage.status, 0);
    assert.match(usage.stderr, /--content-type/);
  });

  it("codecs lists every installed codec with its media types", () => {
    const result = spawnSync(process.execPath, [CLI, "codecs"], { encoding: "utf8", timeout: 20_000 });
    assert.equal(result.status, 0);
    for (const type of [
      "text/csv",
      "application/json",
      "application/jsonlines",
      "application/x-recordio-protobuf",
      "application/x-tfrecord",
    ]) {
      assert.ok(result.stdout.includes(type), type);
    }
    assert.match(result.stdout, /^csv\tin\+out\ttext\/csv\tapi 1\tstrings in\+out\tbuilt-in/m);
  });

  it("exits non-zero with a one-line reason when the port is taken", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "0.0.0.0", resolve));
    try {
      const port = String((taken.address() as { port: number }).port);
      const child = spawn(process.execPath, [CLI, "serve", "--port", port, "--model-dir", modelDir(smallMlp())]);
      let stderr = "";
      child.stderr.on("data", (data: Buffer) => {
        stderr += data.toString();
      });
      assert.equal(await exitOf(child), 1);
      assert.match(stderr, new RegExp(`sluice: port ${port} is already in use`));
    } finally {
      taken.close();
    }
  });

  it("new-codec scaffolds a plugin package whose own tests pass as generated", () => {
    const dir = path.join(temporaryDirectory("sluice-new-codec"), "sluice-codec-demo");
    const made = spawnSync(process.execPath, [CLI, "new-codec", "demo", dir], { encoding: "utf8", timeout: 20_000 });
    assert.equal(made.status, 0, made.stderr);
    const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { scripts: { test: string } };
    const [, preload] = /--import (\S+)/.exec(manifest.scripts.test) ?? [];
    // A test run of its own, not a child reporting to this one.
    const { NODE_TEST_CONTEXT: _inherited, ...env } = process.env;
    const tested = spawnSync(process.execPath, ["--import", preload, "--test", path.join(dir, "test")], {
      encoding: "utf8",
      timeout: 120_000,
      env,
    });
    assert.equal(tested.status, 0, tested.stdout + tested.stderr);
    assert.match(tested.stdout, /# pass 2/);
    const again = spawnSync(process.execPath, [CLI, "new-codec", "demo", dir], { encoding: "utf8", timeout: 20_000 });
    assert.notEqual(again.status, 0, "an existing package is never overwritten");
  });
});
