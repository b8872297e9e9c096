/**
 * The main thread's heap floor (`--initial-old-space-size`, one of the server's Node flags) must not
 * reach the worker threads: `useDefaultHeapSizingForWorkers` clears it before they start. Seen through
 * V8's own collections: the same garbage that a thread with the floor holds without a full collection
 * makes a thread with V8's default sizing run one.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
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

function fullCollections(clearForWorkers: boolean): PerThread {
  const setup = clearForWorkers
    ? `(await import(${JSON.stringify(WORKER_HEAP)})).useDefaultHeapSizingForWorkers();`
    : "";
  return measureOnMainAndWorker(FLAGS, setup, CHURN);
}

describe("the main thread's heap floor", () => {
  it("holds on the main thread and, once cleared, not on worker threads", () => {
    const cleared = fullCollections(true);
    assert.equal(cleared.main, 0, "the main thread skips full collections below its floor");
    assert.ok(cleared.worker > 0, "a worker thread collects as V8 sizes it by default");
  });

  it("reaches worker threads when not cleared (so the check above can fail)", () => {
    const inherited = fullCollections(false);
    assert.equal(inherited.worker, 0);
  });
});
