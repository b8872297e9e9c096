/**
 * CPU time by thread, from Linux's `/proc`: each worker learns its kernel thread id and reports it, so
 * `/metrics` can say whether the main thread, the codec threads or the model use the cores. Elsewhere
 * (no `/proc`) every function answers undefined and the metric is left out.
 */
import { readFileSync, readlinkSync } from "node:fs";

/** `/proc` counts CPU time in clock ticks of 1/USER_HZ s; USER_HZ is 100 on every Linux that Node runs on. */
export const TICKS_PER_SECOND = 100;

/** The calling thread's kernel id (`/proc/thread-self` → `PID/task/TID`), or undefined without `/proc`. */
export function kernelThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** What a `/proc/…/stat` file says of a process or thread. */
export interface ProcStat {
  /** Its process group. */
  readonly group: number;
  /** User plus system CPU seconds (a process's include its threads', exited ones too). */
  readonly cpuSeconds: number;
}

/** Reads a `/proc` `stat` file (`/proc/PID/stat`, `/proc/self/task/TID/stat`), or undefined when it is gone. */
export function readProcStat(path: string): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
  // Fields after the parenthesised name (which may hold spaces): state, ppid, pgrp, … utime (14), stime (15).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { group: Number(fields[2]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
}

/** CPU seconds thread `tid` of this process has used, or undefined once it has exited. */
export function threadCpuSeconds(tid: number): number | undefined {
  return readProcStat(`/proc/self/task/${tid}/stat`)?.cpuSeconds;
}

/**
 * CPU seconds the whole process has used, exited threads included, counted as {@link threadCpuSeconds}
 * counts them (so the two can be subtracted).
 */
export function processCpuSeconds(): number | undefined {
  return readProcStat("/proc/self/stat")?.cpuSeconds;
}
