/**
 * Sluice and the classic container (`../shared/peers/flask-byoc`: nginx + gunicorn + Flask + pandas),
 * measured in the same run on the same bodies at the same concurrency, driven as the platform drives a
 * container: `concurrency` clients each post whole bodies back to back. Server CPU comes from `/proc`
 * (every thread of Sluice's process; every process of the peer's process group).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { processCpuSeconds as ownCpuSeconds, readProcStat, TICKS_PER_SECOND } from "../src/threads/thread-cpu.js";
import { type ChildServer, startChildServer } from "../test/support/child-server.js";
import { LoadGenerator, post, postBackToBack } from "./load-generator.js";

/** One measured configuration. */
export interface Measurement {
  readonly server: string;
  readonly concurrency: number;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  /** Server CPU seconds / wall seconds. */
  readonly coresBusy: number;
  /** Server CPU seconds per million records. */
  readonly cpuSecondsPerMillion: number;
  /** The same by thread (`main`, `codec`, …), for a server that reports it. */
  readonly cpuSecondsPerMillionByThread?: Readonly<Record<string, number>>;
  /** The load generator's (this process's, its threads included) CPU seconds / wall seconds: it shares the machine. */
  readonly loadGeneratorCoresBusy: number;
  /** Cores the whole machine left idle, on average (`/proc/stat`): none left means the machine was the limit. */
  readonly idleCores: number;
}

/** Seconds the machine's cores have been idle (idle and I/O wait, every core added up), from `/proc/stat`. */
function machineIdleSeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1).map(Number);
  return (fields[3] + fields[4]) / TICKS_PER_SECOND;
}

/** A server to measure: its URL and the processes whose CPU time counts. */
export interface ServerUnderTest {
  readonly name: string;
  readonly url: string;
  cpuSeconds(): number;
  /** CPU seconds so far by thread, for a server that reports them. */
  cpuSecondsByThread?(): Promise<Record<string, number>>;
  /** ONNX Runtime's intra-op threads the server gave the model, for a server that logs them. */
  readonly intraOpThreads?: number;
  /** How many sessions of the model it runs, and why (the "model loaded" line's `model_sessions`). */
  readonly modelSessions?: string;
  stop(): Promise<void>;
}

/** utime + stime of one process (all its threads), in seconds. */
function processCpuSeconds(pid: number): number {
  return readProcStat(`/proc/${pid}/stat`)?.cpuSeconds ?? 0;
}

/** CPU seconds of every live process in process group `group`. */
function groupCpuSeconds(group: number): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    // A process that ended while the table was read has no stat.
    const stat = readProcStat(`/proc/${entry}/stat`);
    if (stat?.group === group) total += stat.cpuSeconds;
  }
  return total;
}

/** Sluice as a child process serving `modelDir`, under `name` in the tables. */
export async function startSluice(
  modelDir: string,
  env: Record<string, string> = {},
  name = "Sluice",
): Promise<ServerUnderTest> {
  return underTest(await startChildServer(modelDir, { SAGEMAKER_MAX_PAYLOAD_IN_MB: "0", ...env }), name);
}

/** A running `sluice serve` child as a server to measure. */
function underTest(server: ChildServer, name: string): ServerUnderTest {
  const pid = server.child.pid as number;
  const loaded = server
    .log()
    .split("\n")
    .find((line) => line.includes('"msg":"model loaded"'));
  const fields = loaded ? (JSON.parse(loaded) as { inference_threads?: number; model_sessions?: string }) : {};
  return {
    name,
    url: server.url,
    intraOpThreads: fields.inference_threads,
    modelSessions: fields.model_sessions,
    cpuSeconds: () => processCpuSeconds(pid),
    cpuSecondsByThread: () => threadCpuFromMetrics(server.url),
    stop: () => server.stop(),
  };
}

/** `sluice_thread_cpu_seconds_total` from a Sluice server's `/metrics`, by thread. */
async function threadCpuFromMetrics(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const byThread: Record<string, number> = {};
  for (const [, thread, seconds] of text.matchAll(/^sluice_thread_cpu_seconds_total\{thread="(\w+)"\} (\S+)$/gm)) {
    byThread[thread] = Number(seconds);
  }
  return byThread;
}

/** The classic container's start script, when the checkout sits beside `../shared`. */
export const PEER_SCRIPT = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  "../../../shared/peers/flask-byoc/serve.sh",
);

/** Why the classic container cannot run here, or undefined when it can. */
export function peerUnavailable(): string | undefined {
  if (!existsSync(PEER_SCRIPT)) return `${PEER_SCRIPT} is missing`;
  if (!existsSync("/usr/sbin/nginx") || !existsSync("/usr/bin/gunicorn"))
    return "nginx or gunicorn is not installed (../shared/peers/setup.sh installs them)";
  return undefined;
}

async function waitForPing(url: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const response = await fetch(`${url}/ping`);
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer /ping within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The classic container's name in the tables. */
export const CLASSIC = "classic (nginx + gunicorn + Flask + pandas)";

/**
 * The environment that keeps the classic container's freed memory in glibc's heap. As shipped, glibc's
 * malloc hands large blocks back to the kernel, and whether it does so for each body's buffers depends on
 * its sliding mmap threshold: within one run, a worker either takes ~14 000 fresh pages (page faults) per
 * MNIST body, or almost none and serves about twice the records/s. These settings hold it in the fast mode.
 */
export const MALLOC_KEPT = { MALLOC_MMAP_THRESHOLD_: String(2 ** 30), MALLOC_TRIM_THRESHOLD_: String(2 ** 30) };

/** The classic container serving `modelDir` on `port`, in a process group of its own. */
export async function startPeer(
  modelDir: string,
  port: number,
  env: Record<string, string> = {},
  name = CLASSIC,
): Promise<ServerUnderTest> {
  const child: ChildProcess = spawn("bash", [PEER_SCRIPT, String(port), modelDir], {
    detached: true,
    stdio: "ignore",
    env: { ...process.env, ...env },
  });
  const group = child.pid as number;
  const url = `http://127.0.0.1:${port}`;
  await waitForPing(url);
  return {
    name,
    url,
    cpuSeconds: () => groupCpuSeconds(group),
    async stop() {
      try {
        process.kill(-group, "SIGTERM");
      } catch {
        // Already gone.
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      try {
        process.kill(-group, "SIGKILL");
      } catch {
        // Gone.
      }
    },
  };
}

/**
 * `concurrency` clients post `body` (holding `recordsPerBody` records) back to back until `seconds` have
 * passed; returns records/s, server cores busy and CPU per million records.
 */
export async function measure(
  server: ServerUnderTest,
  body: Uint8Array,
  recordsPerBody: number,
  concurrency: number,
  seconds: number,
  contentType = "text/csv",
  accept = "text/csv",
): Promise<Measurement> {
  await post(server.url, body, contentType, accept); // warm-up
  const load = await LoadGenerator.start(server.url, body, concurrency, contentType, accept);
  try {
    return await measureUnder(load, server, recordsPerBody, concurrency, seconds);
  } finally {
    await load.close();
  }
}

/** {@link measure} with its clients started. */
async function measureUnder(
  load: LoadGenerator,
  server: ServerUnderTest,
  recordsPerBody: number,
  concurrency: number,
  seconds: number,
): Promise<Measurement> {
  const threadsBefore = await server.cpuSecondsByThread?.();
  const cpuBefore = server.cpuSeconds();
  const loadGeneratorBefore = ownCpuSeconds() ?? 0;
  const idleBefore = machineIdleSeconds();
  const started = performance.now();
  const bodies = await load.run(seconds);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = server.cpuSeconds() - cpuBefore;
  const loadGeneratorCpu = (ownCpuSeconds() ?? 0) - loadGeneratorBefore;
  const idle = machineIdleSeconds() - idleBefore;
  const records = bodies * recordsPerBody;
  const threadsAfter = await server.cpuSecondsByThread?.();
  const byThread =
    threadsBefore &&
    threadsAfter &&
    Object.fromEntries(
      Object.entries(threadsAfter).map(([thread, seconds]) => [
        thread,
        ((seconds - (threadsBefore[thread] ?? 0)) / records) * 1e6,
      ]),
    );
  return {
    server: server.name,
    concurrency,
    records,
    seconds: elapsed,
    recordsPerSecond: records / elapsed,
    coresBusy: cpu / elapsed,
    cpuSecondsPerMillion: (cpu / records) * 1e6,
    cpuSecondsPerMillionByThread: byThread,
    loadGeneratorCoresBusy: loadGeneratorCpu / elapsed,
    idleCores: idle / elapsed,
  };
}

/** Several measurements of one server at one concurrency as one: records, seconds and CPU added up. */
export function pooled(measurements: readonly Measurement[]): Measurement {
  const records = measurements.reduce((sum, m) => sum + m.records, 0);
  const seconds = measurements.reduce((sum, m) => sum + m.seconds, 0);
  /** A per-second figure over all the measurements' seconds together. */
  const overTime = (perSecond: (m: Measurement) => number) =>
    measurements.reduce((sum, m) => sum + perSecond(m) * m.seconds, 0);
  const cpu = overTime((m) => m.coresBusy);
  // Per-million figures weighted by each measurement's records.
  let byThread: Record<string, number> | undefined;
  if (measurements.every((m) => m.cpuSecondsPerMillionByThread)) {
    byThread = {};
    for (const m of measurements) {
      for (const [thread, perMillion] of Object.entries(m.cpuSecondsPerMillionByThread ?? {})) {
        byThread[thread] = (byThread[thread] ?? 0) + (perMillion * m.records) / records;
      }
    }
  }
  return {
    server: measurements[0].server,
    concurrency: measurements[0].concurrency,
    records,
    seconds,
    recordsPerSecond: records / seconds,
    coresBusy: cpu / seconds,
    cpuSecondsPerMillion: (cpu / records) * 1e6,
    cpuSecondsPerMillionByThread: byThread,
    loadGeneratorCoresBusy: overTime((m) => m.loadGeneratorCoresBusy) / seconds,
    idleCores: overTime((m) => m.idleCores) / seconds,
  };
}

/** The cores this machine has (the concurrency the platform would use with Sluice's suggestion). */
export const cores = () => os.availableParallelism();

/** Peak RSS of a fresh Sluice serving `modelDir` while `concurrency` bodies run at once. */
export async function peakRssAtConcurrency(
  modelDir: string,
  body: Uint8Array,
  concurrency: number,
): Promise<{ loadedMB: number; peakMB: number }> {
  const server = await startChildServer(modelDir, {
    SAGEMAKER_MAX_PAYLOAD_IN_MB: "0",
    SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: String(concurrency),
  });
  try {
    const loadedMB = server.rss() / 2 ** 20;
    await Promise.all(Array.from({ length: concurrency }, () => post(server.url, body, "text/csv", "text/csv")));
    return { loadedMB, peakMB: server.peakRss() / 2 ** 20 };
  } finally {
    await server.stop();
  }
}

/** One tenth of a sustained run: where memory stood at its end, and how fast bodies went during it. */
export interface SustainedLoadSample {
  readonly seconds: number;
  readonly rssMB: number;
  readonly invocations: number;
  /** The slowest body's time, request to last answer byte. */
  readonly slowestMs: number;
  /** The server's CPU time during the tenth (all its threads). */
  readonly cpuSeconds: number;
}

/** What a sustained run found: memory, each tenth's pace, and the aged server beside a fresh one. */
export interface SustainedLoad {
  readonly loadedMB: number;
  readonly samples: readonly SustainedLoadSample[];
  readonly peakMB: number;
  readonly invocations: number;
  /** After the run, the aged server and a fresh one measured in turn ({@link AGED_AGAINST_FRESH_ROUNDS} each), pooled. */
  readonly aged: Measurement;
  readonly fresh: Measurement;
  /** Seconds of each of those turns. */
  readonly turnSeconds: number;
}

/** Turns each of the aged and the fresh server get after a sustained run. */
export const AGED_AGAINST_FRESH_ROUNDS = 4;
/** Load a fresh server gets before those turns: with 3 s, its compiler threads were still busy in them. */
const FRESH_WARM_UP_SECONDS = 10;

/**
 * Resident memory of a fresh Sluice while `concurrency` clients post `body` (`recordsPerBody` records)
 * back to back for `seconds`: after loading, at the end of each tenth of the run (with the bodies
 * answered in it, the slowest of them and the server's CPU time), and its peak. Memory that grows with the
 * invocations served rather than with those running at once shows here, not in a few seconds' run.
 * Whether the server slows down as it ages cannot be read off the tenths alone, as the machine's own speed
 * drifts by as much over minutes; so the aged server is then measured in turn with a fresh one, on the
 * same bodies at the same concurrency.
 */
export async function underSustainedLoad(
  modelDir: string,
  body: Uint8Array,
  recordsPerBody: number,
  concurrency: number,
  seconds: number,
): Promise<SustainedLoad> {
  const env = { SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: String(concurrency) };
  const server = await startChildServer(modelDir, { SAGEMAKER_MAX_PAYLOAD_IN_MB: "0", ...env });
  let fresh: ServerUnderTest | undefined;
  try {
    const aged = underTest(server, "aged");
    const loadedMB = server.rss() / 2 ** 20;
    const samples: SustainedLoadSample[] = [];
    const started = performance.now();
    let invocations = 0;
    let tenthInvocations = 0;
    let tenthSlowestMs = 0;
    let cpuAtTenth = aged.cpuSeconds();
    const sampler = setInterval(() => {
      const cpu = aged.cpuSeconds();
      samples.push({
        seconds: (performance.now() - started) / 1000,
        rssMB: server.rss() / 2 ** 20,
        invocations: tenthInvocations,
        slowestMs: tenthSlowestMs,
        cpuSeconds: cpu - cpuAtTenth,
      });
      cpuAtTenth = cpu;
      tenthInvocations = 0;
      tenthSlowestMs = 0;
    }, seconds * 100);
    await postBackToBack(server.url, body, concurrency, started + seconds * 1000, (milliseconds) => {
      tenthSlowestMs = Math.max(tenthSlowestMs, milliseconds);
      tenthInvocations++;
      invocations++;
    });
    clearInterval(sampler);
    const peakMB = server.peakRss() / 2 ** 20;
    fresh = await startSluice(modelDir, env, "fresh");
    const turnSeconds = Math.min(10, Math.max(3, seconds / 20));
    // Unmeasured, so that the fresh server's compiler has warmed up as the aged one's has.
    await measure(fresh, body, recordsPerBody, concurrency, FRESH_WARM_UP_SECONDS);
    const turns: Record<"aged" | "fresh", Measurement[]> = { aged: [], fresh: [] };
    for (let round = 0; round < AGED_AGAINST_FRESH_ROUNDS; round++) {
      turns.aged.push(await measure(aged, body, recordsPerBody, concurrency, turnSeconds));
      turns.fresh.push(await measure(fresh, body, recordsPerBody, concurrency, turnSeconds));
    }
    return {
      loadedMB,
      samples,
      peakMB,
      invocations,
      aged: pooled(turns.aged),
      fresh: pooled(turns.fresh),
      turnSeconds,
    };
  } finally {
    await fresh?.stop();
    await server.stop();
  }
}

/**
 * ONNX Runtime alone on the same rows, in this process: one session with the CPU backend's options and
 * `intraOpThreads` intra-op threads (as many as Sluice gave the model), `batchRows`-row tensors run back
 * to back for `seconds`.
 */
export async function runtimeAlone(
  modelPath: string,
  rows: Float32Array,
  width: number,
  batchRows: number,
  seconds: number,
  intraOpThreads: number,
): Promise<{ recordsPerSecond: number; cpuSecondsPerMillion: number }> {
  const ort = (await import("onnxruntime-node")).default;
  const { cpuSessionOptions } = await import("../src/backends/onnx-cpu.js");
  const session = await ort.InferenceSession.create(modelPath, cpuSessionOptions(intraOpThreads));
  const total = rows.length / width;
  batchRows = Math.min(batchRows, total);
  const tensors: InstanceType<typeof ort.Tensor>[] = [];
  for (let start = 0; start + batchRows <= total; start += batchRows) {
    tensors.push(
      new ort.Tensor("float32", rows.subarray(start * width, (start + batchRows) * width), [batchRows, width]),
    );
  }
  const input = session.inputNames[0];
  await session.run({ [input]: tensors[0] });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let records = 0;
  while (performance.now() - started < seconds * 1000) {
    for (const tensor of tensors) {
      await session.run({ [input]: tensor });
      records += batchRows;
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await session.release();
  return {
    recordsPerSecond: records / elapsed,
    cpuSecondsPerMillion: ((cpu.user + cpu.system) / 1e6 / records) * 1e6,
  };
}

/** The numbers of a CSV body, row after row, as float32. */
export function csvValues(body: Uint8Array): Float32Array {
  const text = new TextDecoder().decode(body);
  return Float32Array.from(text.trim().split(/[\n,]/), Number);
}
