/**
 * Runs a measurement twice in a fresh Node process, on its main thread and then in a worker thread
 * started after `setup`: how tests check what a process-wide setting does to threads started later.
 */
import { execFileSync } from "node:child_process";

/** A measurement's result on each thread. */
export interface PerThread {
  readonly main: number;
  readonly worker: number;
}

/**
 * `measure` is module code that calls `report(number)` once; `setup` runs first on the main thread
 * (both may `await`). The process gets `flags` on its command line.
 */
export function measureOnMainAndWorker(flags: readonly string[], setup: string, measure: string): PerThread {
  const script = `
    const { Worker } = await import("node:worker_threads");
    ${setup}
    const main = await new Promise(async (report) => { ${measure} });
    const worker = await new Promise((resolve, reject) => {
      const inWorker = \`(async () => {
        const { parentPort } = await import("node:worker_threads");
        const report = (n) => parentPort.postMessage(n);
        ${measure.replaceAll("\\", "\\\\").replaceAll("`", "\\`").replaceAll("${", "\\${")}
      })();\`;
      const thread = new Worker(inWorker, { eval: true });
      thread.once("message", resolve);
      thread.once("error", reject);
    });
    console.log(JSON.stringify({ main, worker }));
  `;
  const out = execFileSync(process.execPath, [...flags, "--input-type=module", "-e", script], { encoding: "utf8" });
  return JSON.parse(out) as PerThread;
}
