/**
 * The codec and inference threads run with V8's on-stack replacement turned off (see
 * `src/threads/on-stack-replacement.ts`). Seen through V8's own status of a running function: a loop in a
 * function called once is compiled mid-call when OSR is on, and stays unoptimised once it is turned off,
 * in a worker thread started afterwards too.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { measureOnMainAndWorker, type PerThread } from "./support/main-and-worker.js";

const MODULE = new URL("../src/threads/on-stack-replacement.js", import.meta.url).href;
/** V8's `%GetOptimizationStatus` bit for "the function's frame on top of the stack is optimised code". */
const TOPMOST_FRAME_IS_OPTIMISED = 1 << 12;

/**
 * A loop long enough for OSR, asking V8 every 2^20 turns whether its frame runs optimised code, and
 * stopping once it does (a busy machine may take a while to finish the compilation).
 */
const SPIN = `
  function spin(turns) {
    let status = 0;
    for (let i = 0; i < turns; i++) {
      if ((i & 0xfffff) === 0xfffff) {
        status = %GetOptimizationStatus(spin);
        if (status & ${TOPMOST_FRAME_IS_OPTIMISED}) break;
      }
    }
    return status;
  }
  report(spin(1e8));
`;

function loopStatus(turnOff: boolean): PerThread {
  const setup = turnOff ? `(await import(${JSON.stringify(MODULE)})).turnOffOnStackReplacement();` : "";
  return measureOnMainAndWorker(["--allow-natives-syntax"], setup, SPIN);
}

describe("on-stack replacement", () => {
  it("is off, once turned off, on the main thread and in worker threads started after", () => {
    const { main, worker } = loopStatus(true);
    assert.equal(main & TOPMOST_FRAME_IS_OPTIMISED, 0);
    assert.equal(worker & TOPMOST_FRAME_IS_OPTIMISED, 0);
  });

  it("compiles a long loop mid-call when left on (so the check above can fail)", () => {
    const { main, worker } = loopStatus(false);
    assert.notEqual(main & TOPMOST_FRAME_IS_OPTIMISED, 0);
    assert.notEqual(worker & TOPMOST_FRAME_IS_OPTIMISED, 0);
  });
});
