/**
 * Runs `sluice serve` as a child process, as the container does, so that its memory and event loop can
 * be measured apart from the client's (used by the load tests and the benchmark harness).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { prettyLine } from "../../src/stream-logger.js";

const CLI = new URL("../../src/cli.js", import.meta.url).pathname;

/**
 * The flags Node runs Sluice with where it is deployed (the Dockerfile's ENTRYPOINT, `npm start`, the
 * `sluice` command's shebang; a test keeps the three equal), so that the load tests and the benchmark
 * measure the server as it runs.
 */
export const SERVER_NODE_FLAGS = ["--single-threaded-gc", "--initial-old-space-size=64"];

/** A running `sluice serve` process. */
export interface ChildServer {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it has logged so far. */
  readonly log: () => string;
  /** Peak resident memory of the process so far (VmHWM), in bytes. */
  peakRss(): number;
  /** Resident memory of the process now (VmRSS), in bytes. */
  rss(): number;
  stop(): Promise<void>;
}

/** A line of the child's JSON log rendered `time level message key=value …` (other lines as they are). */
const rendered = (line: string) => {
  try {
    return prettyLine(line);
  } catch {
    return line;
  }
};

/**
 * Waits for a log line (standard output, JSON, rendered `time level message key=value …`) matching
 * `pattern`, failing after `ms`.
 */
export function waitForLog(child: ChildProcess, pattern: RegExp, ms = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern} within ${ms} ms:\n${seen}`)), ms);
    const onData = (data: Buffer) => {
      seen += data.toString();
      const match = seen
        .split("\n")
        .map(rendered)
        .find((line) => pattern.test(line));
      if (match) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve(match);
      }
    };
    child.stdout?.on("data", onData);
  });
}

/** Resolves with the child's exit code, failing after `ms`. */
export const exitOf = (child: ChildProcess, ms = 20_000) =>
  new Promise<number | null>((resolve, reject) => {
    if (child.exitCode !== null) {
      resolve(child.exitCode);
      return;
    }
    const timer = setTimeout(() => reject(new Error("process did not exit")), ms);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

/** Starts `sluice serve` on a free port for `modelDir` and waits until the model is loaded. */
export async function startChildServer(modelDir: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, CLI, "serve", "--port", "0", "--model-dir", modelDir], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let logged = "";
  child.stdout?.on("data", (data: Buffer) => {
    logged += data.toString();
  });
  child.stderr?.on("data", (data: Buffer) => {
    logged += data.toString();
  });
  const listening = waitForLog(child, /info listening/);
  await waitForLog(child, /model loaded/);
  const port = Number(/port=(\d+)/.exec(await listening)?.[1]);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    log: () => logged,
    peakRss() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
    },
    rss() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
    },
    async stop() {
      child.kill("SIGTERM");
      await exitOf(child);
    },
  };
}

/** A request body of about `totalBytes` made of `block` repeated, generated as it is sent. */
export function repeatedBody(block: Uint8Array, totalBytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= totalBytes) controller.close();
      else {
        controller.enqueue(block);
        sent += block.length;
      }
    },
  });
}

/** CSV rows of `width` numbers, `rows` of them, as one block. */
export function csvBlock(rows: number, width: number, seed = 1): Uint8Array {
  let text = "";
  let state = seed;
  for (let r = 0; r < rows; r++) {
    const fields: string[] = [];
    for (let j = 0; j < width; j++) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      fields.push((state / 2 ** 31).toFixed(4));
    }
    text += `${fields.join(",")}\n`;
  }
  return new TextEncoder().encode(text);
}
