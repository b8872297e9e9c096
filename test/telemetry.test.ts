/**
 * ONNX Runtime's telemetry stays off however Sluice runs: the CLI (`npm start`, `npx sluice`, the image's
 * entrypoint) and a program embedding Sluice, unless the user set ORT_DISABLE_TELEMETRY themselves.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { describe, it } from "node:test";
import { temporaryDirectory } from "../src/temporary-directory.js";
import { exitOf, waitForLog } from "./support/child-server.js";
import { modelDir, smallMlp } from "./support/models.js";

const CLI = new URL("../src/cli.js", import.meta.url).pathname;
const INDEX = new URL("../src/index.js", import.meta.url).href;

/** The environment without ORT_DISABLE_TELEMETRY, with a fresh, empty HOME. */
function cleanEnvironment(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.ORT_DISABLE_TELEMETRY;
  return env;
}

describe("ONNX Runtime telemetry", () => {
  it("serving a request writes nothing under $HOME or /tmp and logs nothing about telemetry", async () => {
    const home = temporaryDirectory("sluice-home");
    const session = "/tmp/.ses";
    const sessionBefore = existsSync(session) ? statSync(session).mtimeMs : undefined;
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--model-dir", modelDir(smallMlp())], {
      env: cleanEnvironment(home),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (data: Buffer) => {
      output += data.toString();
    });
    child.stderr?.on("data", (data: Buffer) => {
      output += data.toString();
    });
    try {
      const listening = waitForLog(child, /info listening/);
      await waitForLog(child, /model loaded/);
      const port = Number(/port=(\d+)/.exec(await listening)?.[1]);
      const response = await fetch(`http://127.0.0.1:${port}/invocations`, {
        method: "POST",
        body: "0.1,0.2,0.3,0.4\n",
        headers: { "content-type": "text/csv" },
      });
      assert.equal(response.status, 200);
      await response.text();
      child.kill("SIGTERM");
      assert.equal(await exitOf(child), 0);
      assert.deepEqual(readdirSync(home), [], "nothing written under $HOME");
      assert.ok(!existsSync(`/tmp/mat-debug-${child.pid}.log`), "no /tmp/mat-debug-<pid>.log");
      const sessionAfter = existsSync(session) ? statSync(session).mtimeMs : undefined;
      assert.equal(sessionAfter, sessionBefore, "/tmp/.ses untouched");
      assert.doesNotMatch(output, /telemetry/i);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("is turned off by importing Sluice, and a value the user set is kept", () => {
    const probe = `import(${JSON.stringify(INDEX)}).then(() => console.log(process.env.ORT_DISABLE_TELEMETRY))`;
    const home = temporaryDirectory("sluice-home");
    const embedded = spawnSync(process.execPath, ["-e", probe], { env: cleanEnvironment(home), encoding: "utf8" });
    assert.equal(embedded.stdout.trim(), "1");
    const chosen = spawnSync(process.execPath, ["-e", probe], {
      env: { ...cleanEnvironment(home), ORT_DISABLE_TELEMETRY: "0" },
      encoding: "utf8",
    });
    assert.equal(chosen.stdout.trim(), "0");
  });
});
