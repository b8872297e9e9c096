/**
 * `sluice transform` on a directory of CSV files, in process and driving `sluice serve` over HTTP at the
 * same concurrency: records/s and peak resident memory (polled from /proc) of each process.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { removeTemporaryDirectory, temporaryDirectory } from "../src/temporary-directory.js";
import { SERVER_NODE_FLAGS, startChildServer } from "../test/support/child-server.js";

const CLI = new URL("../src/cli.js", import.meta.url).pathname;
const MB = 2 ** 20;

function peakRss(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** Writes `files` CSV files of about `fileMB` each (a block repeated) and returns the directory and row count. */
export function csvDirectory(block: Uint8Array, rowsPerBlock: number, files: number, fileMB: number) {
  const dir = temporaryDirectory("sluice-job-bench");
  const repeats = Math.max(1, Math.round((fileMB * MB) / block.length));
  for (let f = 0; f < files; f++) {
    const file = path.join(dir, `part-${String(f).padStart(3, "0")}.csv`);
    writeFileSync(file, block);
    for (let r = 1; r < repeats; r++) writeFileSync(file, block, { flag: "a" });
  }
  return { dir, rows: files * repeats * rowsPerBlock, bytes: files * repeats * block.length };
}

/** Runs one `sluice transform` and returns its seconds and peak RSS. */
async function transformRun(args: string[]): Promise<{ seconds: number; peakMB: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, CLI, "transform", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  let peak = 0;
  const poll = setInterval(() => {
    peak = Math.max(peak, peakRss(child.pid as number));
  }, 100);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearInterval(poll);
  if (code !== 0) throw new Error(`sluice transform exited ${code}: ${stderr.slice(-2000)}`);
  return { seconds: (performance.now() - started) / 1000, peakMB: peak / MB };
}

/** The job in process and over HTTP, at `concurrency`. */
export async function transformJobComparison(modelDir: string, input: string, concurrency: number) {
  const out = temporaryDirectory("sluice-job-out");
  const common = [
    "--input",
    input,
    "--split-type",
    "Line",
    "--max-concurrent",
    String(concurrency),
    "--max-payload-mb",
    "6",
  ];
  try {
    mkdirSync(out, { recursive: true });
    const local = await transformRun([...common, "--output", path.join(out, "local"), "--model-dir", modelDir]);
    const server = await startChildServer(modelDir, {});
    let remote: { seconds: number; peakMB: number };
    let serverPeakMB: number;
    try {
      remote = await transformRun([...common, "--output", path.join(out, "http"), "--endpoint", server.url]);
      serverPeakMB = server.peakRss() / MB;
    } finally {
      await server.stop();
    }
    return { local, remote, serverPeakMB };
  } finally {
    removeTemporaryDirectory(out);
  }
}
