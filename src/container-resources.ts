/**
 * The CPU and memory this process may really use: the host's figures, lowered by cgroup (v2 or v1)
 * limits, since a container sees the host's cores and memory through `os` but is throttled to its quota.
 */
import { readFileSync } from "node:fs";
import os from "node:os";

/** Cores and bytes of memory available. */
export interface ContainerResources {
  readonly cpus: number;
  readonly memoryBytes: number;
}

function readNumbers(path: string): string[] | undefined {
  try {
    return readFileSync(path, "utf8").trim().split(/\s+/);
  } catch {
    return undefined;
  }
}

function cgroupCpuLimit(root: string): number | undefined {
  const v2 = readNumbers(`${root}/cpu.max`);
  if (v2 && v2[0] !== "max") {
    const quota = Number(v2[0]);
    const period = Number(v2[1] ?? 100000);
    if (quota > 0 && period > 0) return quota / period;
  }
  const quota = Number(readNumbers(`${root}/cpu/cpu.cfs_quota_us`)?.[0]);
  const period = Number(readNumbers(`${root}/cpu/cpu.cfs_period_us`)?.[0]);
  return quota > 0 && period > 0 ? quota / period : undefined;
}

function cgroupMemoryLimit(root: string): number | undefined {
  for (const path of [`${root}/memory.max`, `${root}/memory/memory.limit_in_bytes`]) {
    const value = readNumbers(path)?.[0];
    if (value === undefined || value === "max") continue;
    const bytes = Number(value);
    // cgroup v1 reports "no limit" as a huge page-aligned number.
    if (Number.isFinite(bytes) && bytes > 0 && bytes < 2 ** 60) return bytes;
  }
  return undefined;
}

/** Reads the limits; `cgroupRoot` is a parameter so tests can point it at a fixture directory. */
export function containerResources(cgroupRoot = "/sys/fs/cgroup"): ContainerResources {
  const hostCpus = os.availableParallelism();
  const quota = cgroupCpuLimit(cgroupRoot);
  const cpus = Math.max(1, Math.min(hostCpus, quota === undefined ? hostCpus : Math.floor(quota) || 1));
  const memoryLimit = cgroupMemoryLimit(cgroupRoot);
  const memoryBytes = Math.min(os.totalmem(), memoryLimit ?? Number.POSITIVE_INFINITY);
  return { cpus, memoryBytes };
}
