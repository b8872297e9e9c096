/**
 * Scheduling priority of one thread. Linux applies `setpriority` to a kernel thread id as to that thread
 * alone, so a worker can lower its own priority without touching the rest of the process. Codec threads
 * do: on a machine whose cores they keep busy, the main thread (which answers `/ping` and feeds every
 * body) and the inference thread then run as soon as they wake instead of after a codec thread's time
 * slice. Lowering needs no privilege; raising it back would. Threads a codec thread starts afterwards
 * inherit its priority: only its ESM loader-hooks thread, busy while plugins load (libuv's pool and
 * V8's helpers are started by the main thread before any codec thread; checked with `strace -f`).
 */
import os from "node:os";
import { kernelThreadId } from "./thread-cpu.js";

/**
 * How much lower than the process codec threads run (nice steps). Measured on 2 cores, three 34 MB bodies
 * at once five times over and a pinger process of its own, three alternating turns: `/ping` p50 2.2–4.7 →
 * 1.4–2.1 ms, p90 13–19 → 10–14 ms; tabular bodies at c = 2 kept their records/s and CPU per record.
 */
export const CODEC_THREAD_NICENESS = 10;

/**
 * Lowers the calling thread's priority by `steps` nice steps (at most to 19). Returns false where that is
 * not possible (no `/proc`, not Linux, or refused).
 */
export function lowerThreadPriority(steps: number): boolean {
  const tid = kernelThreadId();
  if (tid === undefined || process.platform !== "linux") return false;
  try {
    os.setPriority(tid, Math.min(19, os.getPriority(tid) + steps));
    return true;
  } catch {
    return false;
  }
}
