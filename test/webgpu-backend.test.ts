/**
 * The WebGPU backend against the CPU backend: every codec's answer must match. Without a GPU this runs
 * on Mesa's software Vulkan adapter (llvmpipe), which `.ci/run` installs; where no adapter exists the
 * comparison is skipped with the reason, and the fallback tests still run. `SLUICE_BACKEND=auto` takes only a
 * hardware adapter; on llvmpipe it falls back to the CPU.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { probeWebGpuAdapter } from "../src/backends/webgpu-adapter.js";
import { temporaryDirectory } from "../src/temporary-directory.js";
import { answerRows } from "./support/answers.js";
import { amazonRecord, concat, recordIOFrame, tfExample, tfRecordFrame } from "./support/binary-writers.js";
import { exitOf, waitForLog } from "./support/child-server.js";
import { modelDir, randomRows, smallMlp } from "./support/models.js";
import { assertClose } from "./support/reference.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const CLI = new URL("../src/cli.js", import.meta.url).pathname;
const probe = await probeWebGpuAdapter();
const noAdapter = probe.available ? false : `no WebGPU adapter here: ${probe.reason}`;

/** Starts `sluice serve` with `SLUICE_BACKEND=auto`: it must log why WebGPU was left (`reason`), then load on the CPU. */
async function autoFallsBackToCpu(env: NodeJS.ProcessEnv, reason: RegExp): Promise<void> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0"], { env: { ...env, SLUICE_BACKEND: "auto" } });
  try {
    const fallback = waitForLog(child, /WebGPU unavailable, using the CPU backend/);
    const loaded = waitForLog(child, /model loaded/);
    assert.match(await fallback, reason);
    assert.match(await loaded, /backend=cpu/);
  } finally {
    child.kill("SIGTERM");
    await exitOf(child);
  }
}

const RECORDIO = "application/x-recordio-protobuf";
const TFRECORD = "application/x-tfrecord";

describe("the WebGPU backend answers like the CPU backend", { skip: noAdapter }, () => {
  let gpu: TestServer;
  let cpu: TestServer;
  const dir = modelDir(smallMlp());
  const rows = 50;
  const data = randomRows(rows, 4, 17);
  const row = (r: number) => Array.from(data.subarray(r * 4, r * 4 + 4));
  const all = Array.from({ length: rows }, (_, r) => row(r));
  const bodies: Record<string, Uint8Array> = {
    "text/csv": new TextEncoder().encode(all.map((r) => r.join(",")).join("\n")),
    "application/json": new TextEncoder().encode(JSON.stringify({ instances: all })),
    "application/jsonlines": new TextEncoder().encode(all.map((r) => JSON.stringify({ features: r })).join("\n")),
    [RECORDIO]: concat(all.map((r) => recordIOFrame(amazonRecord({ values: { type: "float32", values: r } })))),
    [TFRECORD]: concat(all.map((r) => tfRecordFrame(tfExample({ features: { float: r } })))),
  };

  before(async () => {
    gpu = await startTestServer(dir, { SLUICE_BACKEND: "webgpu", SLUICE_BATCH_ROWS: "16" });
    cpu = await startTestServer(dir, { SLUICE_BACKEND: "cpu", SLUICE_BATCH_ROWS: "16" });
  });
  after(async () => {
    await gpu?.close();
    await cpu?.close();
  });

  it("names the backend and the adapter in the start-up log", () => {
    const line = gpu.logs.find((l) => l.includes("model loaded")) ?? "";
    assert.match(line, /backend=webgpu/);
    if (probe.available && probe.info) assert.ok(line.includes(probe.info.description), line);
  });

  for (const input of Object.keys(bodies)) {
    it(`${input} in, every format out`, async () => {
      for (const accept of Object.keys(bodies)) {
        const headers = { "content-type": input, accept };
        const [onGpu, onCpu] = await Promise.all([
          invoke(gpu, bodies[input], headers),
          invoke(cpu, bodies[input], headers),
        ]);
        assert.equal(onGpu.status, 200, `${input} → ${accept}`);
        assert.equal(onCpu.status, 200);
        const gpuValues = answerRows(accept, new Uint8Array(await onGpu.arrayBuffer())).flat();
        const cpuValues = answerRows(accept, new Uint8Array(await onCpu.arrayBuffer())).flat();
        assert.equal(gpuValues.length, rows * 3, `${input} → ${accept}`);
        assertClose(gpuValues, cpuValues, 1e-6);
      }
    });
  }

  it("asks the platform for one invocation per core, as the CPU does, with payloads at least as large", async () => {
    const onGpu = (await (await fetch(`${gpu.url}/execution-parameters`)).json()) as Record<string, number>;
    const onCpu = (await (await fetch(`${cpu.url}/execution-parameters`)).json()) as Record<string, number>;
    assert.equal(onGpu.MaxConcurrentTransforms, onCpu.MaxConcurrentTransforms);
    assert.ok(onGpu.MaxPayloadInMB >= onCpu.MaxPayloadInMB);
    assert.ok(onGpu.MaxPayloadInMB * onGpu.MaxConcurrentTransforms <= 100);
  });
});

describe("with only a software adapter (Mesa's llvmpipe)", {
  skip: probe.available && probe.info?.software ? false : "the adapter here is not a software one",
}, () => {
  it("SLUICE_BACKEND=auto leaves it for the CPU backend, with one line saying why", () =>
    autoFallsBackToCpu({ ...process.env, SLUICE_MODEL_DIR: modelDir(smallMlp()) }, /reason=.*software/));
});

describe("without a WebGPU adapter", () => {
  // A Vulkan loader pointed at no driver: what a machine without a GPU or Mesa looks like to Dawn. The
  // loader prefers VK_DRIVER_FILES to VK_ICD_FILENAMES, and GPU hosts often set it; both are overridden.
  const noDriver = {
    ...process.env,
    VK_DRIVER_FILES: "/nonexistent/icd.json",
    VK_ICD_FILENAMES: "/nonexistent/icd.json",
    VK_ADD_DRIVER_FILES: "",
    SLUICE_MODEL_DIR: modelDir(smallMlp()),
  };

  it("SLUICE_BACKEND=auto falls back to the CPU with one line saying why", () =>
    autoFallsBackToCpu(noDriver, /reason=/));

  it("SLUICE_BACKEND=webgpu is a start-up error naming the reason (exit 1 in a batch job)", async () => {
    const tmp = temporaryDirectory("sluice-xdg-parent");
    const { XDG_RUNTIME_DIR: _unset, ...env }: NodeJS.ProcessEnv = noDriver;
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0"], {
      env: { ...env, TMPDIR: tmp, SLUICE_BACKEND: "webgpu", SAGEMAKER_BATCH: "true" },
    });
    const [line, code] = await Promise.all([waitForLog(child, /model failed to load/), exitOf(child)]);
    assert.match(line, /WebGPU is unavailable/);
    assert.equal(code, 1);
    assert.deepEqual(readdirSync(tmp), [], "the runtime directory it made is gone");
  });
});

describe("the WebGPU runtime directory", { skip: noAdapter }, () => {
  it("is made when XDG_RUNTIME_DIR is unset, and removed when the server stops", async () => {
    const tmp = temporaryDirectory("sluice-xdg-parent");
    const { XDG_RUNTIME_DIR: _unset, ...env } = process.env;
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0"], {
      env: { ...env, TMPDIR: tmp, SLUICE_BACKEND: "webgpu", SLUICE_MODEL_DIR: modelDir(smallMlp()) },
    });
    try {
      assert.match(await waitForLog(child, /model loaded/), /backend=webgpu/);
      assert.match(readdirSync(tmp).join(" "), /^sluice-xdg-\w{6}$/);
    } finally {
      child.kill("SIGTERM");
      await exitOf(child);
    }
    assert.deepEqual(readdirSync(tmp), []);
  });
});
