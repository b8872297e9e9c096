/**
 * The main thread's heap floor (`--initial-old-space-size`, one of the server's Node flags) must reach
 * worker threads only where they receive sockets: `settleWorkerHeapSizing` clears it otherwise, before
 * they start, and the first call decides. Seen through
 * V8's own collections: the same garbage that a thread with the floor holds without a full collection
 * makes a thread with V8's default sizing run one. Codec threads also get a capped young generation.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ResourceLimits, Worker } from "node:worker_threads";
import { CODEC_THREAD_RESOURCE_LIMITS } from "../src/threads/worker-heap.js";
import { SERVER_NODE_FLAGS } from "./support/child-server.js";
import { measureOnMainAndWorker, type PerThread } from "./support/main-and-worker.js";

const WORKER_HEAP = new URL("../src/threads/worker-heap.js", import.meta.url).href;

/**
 * The floor for these checks: the server's flags, with a floor (512 MB) far above what the churn below
 * promotes. The churn promotes 40–80 MB, more on a busy machine, so with the server's own 64 MB floor
 * the main thread sometimes collected once, and the check failed in a full test run.
 */
const FLAGS = [...SERVER_NODE_FLAGS, "--initial-old-space-size=512"];

/** Counts full collections while ~100 MB of short-lived objects are promoted and dropped. */
const CHURN = `
  const { PerformanceObserver, constants } = await import("node:perf_hooks");
  let major = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
  });
  observer.observe({ entryTypes: ["gc"] });
  const kept = [];
  for (let i = 0; i < 4e6; i++) { kept.push({ i }); if (kept.length > 2e5) kept.length = 0; }
  setTimeout(() => { observer.disconnect(); report(major); }, 50);
`;

/** Full collections on each thread after `settleWorkerHeapSizing` was called with each of `calls`, in turn. */
function fullCollections(...calls: boolean[]): PerThread {
  const settle = calls.map((receiveSockets) => `settleWorkerHeapSizing(${receiveSockets});`).join(" ");
  const setup = `const { settleWorkerHeapSizing } = await import(${JSON.stringify(WORKER_HEAP)}); ${settle}`;
  return measureOnMainAndWorker(FLAGS, setup, CHURN);
}

describe("the main thread's heap floor", () => {
  it("holds on the main thread and is cleared for worker threads that receive no sockets", () => {
    const cleared = fullCollections(false);
    assert.equal(cleared.main, 0, "the main thread skips full collections below its floor");
    assert.ok(cleared.worker > 0, "a worker thread collects as V8 sizes it by default");
  });

  it("reaches worker threads that receive sockets (codec threads accepting connections)", () => {
    assert.equal(fullCollections(true).worker, 0);
  });

  it("is settled by the first call: the inference threads, starting after the codec threads, change nothing", () => {
    assert.equal(fullCollections(true, false).worker, 0);
    assert.ok(fullCollections(false, true).worker > 0);
  });
});

/** The most new space a worker started with `limits` takes while objects survive a scavenge or two. */
function mostNewSpace(limits: ResourceLimits | undefined): Promise<number> {
  const churn = `
    const v8 = require("node:v8");
    const { parentPort } = require("node:worker_threads");
    const newSpace = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === "new_space").space_size;
    let most = 0;
    const kept = [];
    for (let i = 0; i < 4e6; i++) {
      kept.push({ i });
      if (kept.length > 2e5) kept.length = 0;
      if ((i & 0xffff) === 0) most = Math.max(most, newSpace());
    }
    parentPort.postMessage(most);
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(churn, { eval: true, resourceLimits: limits });
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

describe("the codec threads' heap limits", () => {
  it("keep a codec thread's young generation within its cap, where V8's defaults let it grow", async () => {
    const cap = CODEC_THREAD_RESOURCE_LIMITS.maxYoungGenerationSizeMb * 2 ** 20;
    assert.ok((await mostNewSpace(CODEC_THREAD_RESOURCE_LIMITS)) <= cap);
    assert.ok((await mostNewSpace(undefined)) > cap, "the same churn grows a worker's young generation past the cap");
  });
});
