/**
 * Prometheus metrics for `GET /metrics`: invocations by status, code and codec pair; records and bytes;
 * latency, batch size and per-stage histograms; admission refusals (these, updated once per invocation,
 * never per record, are `metric-families.ts`'); in-flight and queued invocations; the model; how busy the
 * main thread is and CPU time by thread; Node's process and event-loop metrics (these, read per scrape,
 * are prom-client's). All on the main thread.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { InvocationGate } from "./invocation-gate.js";
import type { ThreadIds } from "./invocation-service.js";
import { CounterFamily, HistogramFamily } from "./metric-families.js";
import { kernelThreadId, processCpuSeconds, threadCpuSeconds } from "./threads/thread-cpu.js";

/** What one finished invocation reports. */
export interface InvocationOutcome {
  readonly status: number;
  readonly code: string | undefined;
  readonly input: string;
  readonly output: string;
  readonly seconds: number;
  readonly recordsIn: number;
  readonly recordsFailed: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Seconds spent in each stage (see {@link STAGES}). */
  readonly stageSeconds: Readonly<Record<string, number>>;
  /** Records in each batch the invocation ran. */
  readonly batchRows: readonly number[];
}

/** What `GET /metrics` serves and counts: the main thread's {@link Metrics}, or a codec thread's way to them. */
export interface MetricsEndpoint {
  /** Counts one finished invocation. */
  invocation(outcome: InvocationOutcome): void;
  /** The metrics in Prometheus' text format. */
  exposition(): Promise<{ readonly text: string; readonly contentType: string }>;
}

/** The labels of `sluice_model_info`: which model runs, on which backend, in how many sessions and threads. */
export interface ModelLabels {
  readonly backend: string;
  readonly model: string;
  readonly inputs: string;
  readonly outputs: string;
  /** Sessions of the model side by side, each on an inference thread of its own. */
  readonly sessions: string;
  /** ONNX Runtime's intra-op threads for one run of a session (empty where the backend has none: WebGPU). */
  readonly intra_op_threads: string;
}

/** Stage names in `InvocationOutcome.stageSeconds`, whose series are made up front. */
const STAGES = ["admission", "decode", "model_wait", "model", "encode", "write"];

/** The metrics of one server. */
export class Metrics implements MetricsEndpoint {
  /** prom-client's registry: Node's process metrics, the gauges, CPU by thread. */
  readonly registry = new Registry();
  readonly #invocations = new CounterFamily(
    "sluice_invocations_total",
    "Invocations answered, by HTTP status, error code and the input and output media types",
    ["status", "code", "input", "output"],
  );
  readonly #records = new CounterFamily(
    "sluice_records_total",
    "Records decoded (outcome=answered) and records answered with a placeholder (outcome=failed)",
    ["outcome"],
  );
  readonly #bytes = new CounterFamily(
    "sluice_bytes_total",
    "Body bytes read (direction=in, decompressed) and answer bytes written (direction=out)",
    ["direction"],
  );
  readonly #latency = new HistogramFamily(
    "sluice_invocation_duration_seconds",
    "Time from the request to the last byte of its answer",
    [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    ["status"],
  );
  readonly #batchRows = new HistogramFamily(
    "sluice_batch_rows",
    "Records per batch run on the model",
    [1, 4, 16, 64, 256, 1024, 2048, 4096, 8192, 16384],
  );
  readonly #stages = new HistogramFamily(
    "sluice_stage_seconds",
    `Seconds an invocation spent in each stage: ${STAGES.join(", ")}`,
    [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300],
    ["stage"],
  );
  readonly #overloaded = new CounterFamily(
    "sluice_admission_refusals_total",
    "Invocations refused with 503 because MaxConcurrentTransforms were running and the queue was full",
  );
  /** The families updated per invocation, in the order `/metrics` lists them. */
  readonly #families = [
    this.#invocations,
    this.#records,
    this.#bytes,
    this.#latency,
    this.#batchRows,
    this.#stages,
    this.#overloaded,
  ];
  /** The series updated by every invocation, found once. */
  readonly #answered = this.#records.series("answered");
  readonly #failed = this.#records.series("failed");
  readonly #bytesIn = this.#bytes.series("in");
  readonly #bytesOut = this.#bytes.series("out");
  readonly #allBatchRows = this.#batchRows.series();
  readonly #refusals = this.#overloaded.series();
  readonly #model: Gauge<keyof ModelLabels>;
  #gate: InvocationGate | undefined;
  #threads: (() => ThreadIds) | undefined;
  /** The main thread's kernel id (the metrics are made and scraped on it). */
  readonly #mainThreadId = kernelThreadId();
  /** Each thread's CPU seconds at the last scrape, by kernel id. */
  readonly #threadCpuSeen = new Map<number, number>();
  /** CPU seconds counted so far for the main, codec and inference threads together, and for the rest. */
  #knownCpuCounted = 0;
  #otherCpuCounted = 0;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Counted from the first scrape on, as Prometheus expects of a series, before any invocation.
    for (const stage of STAGES) this.#stages.series(stage);
    this.#model = new Gauge({
      name: "sluice_model_info",
      help: "The loaded model (value 1) with its backend, file, inputs, outputs, sessions and intra-op threads as labels",
      labelNames: ["backend", "model", "inputs", "outputs", "sessions", "intra_op_threads"],
      registers,
    });
    new Gauge({
      name: "sluice_invocations_in_flight",
      help: "Invocations running now",
      registers,
      collect: () => this.#collectGate("running"),
    });
    new Gauge({
      name: "sluice_invocations_queued",
      help: "Invocations waiting for a slot",
      registers,
      collect: () => this.#collectGate("queued"),
    });
    new Gauge({
      name: "sluice_main_thread_busy_ratio",
      help:
        "Share of the time since the previous scrape that the main thread, which receives every body, was busy (0 to 1); " +
        "near 1 under load, the instance takes in as much as one process can",
      registers,
      collect: () => this.#collectMainThread(),
    });
    const threadCpu: Counter<"thread"> = new Counter({
      name: "sluice_thread_cpu_seconds_total",
      help:
        "CPU seconds by thread: main (HTTP, the copy into body rings), codec (framing, decoding, encoding), " +
        "inference (the model runs), other (ONNX Runtime's intra-op pool, V8's collector and compiler helpers)",
      labelNames: ["thread"],
      registers,
      collect: () => this.#collectThreadCpu(threadCpu),
    });
  }

  /** Adds each role's CPU seconds since the last scrape (Linux only; left out where there is no `/proc`). */
  #collectThreadCpu(counter: Counter<"thread">): void {
    const ids = this.#threads?.();
    const roles: [string, readonly (number | undefined)[]][] = [
      ["main", [this.#mainThreadId]],
      ["codec", ids?.codec ?? []],
      ["inference", ids?.inference ?? []],
    ];
    for (const [thread, tids] of roles) {
      let added = 0;
      for (const tid of tids) {
        if (tid === undefined) continue;
        const seconds = threadCpuSeconds(tid);
        if (seconds === undefined) {
          this.#threadCpuSeen.delete(tid);
          continue;
        }
        added += seconds - (this.#threadCpuSeen.get(tid) ?? 0);
        this.#threadCpuSeen.set(tid, seconds);
      }
      if (added > 0) counter.inc({ thread }, added);
      this.#knownCpuCounted += added;
    }
    // Read after the threads, so that the process's total (which includes them) is never behind them.
    const total = processCpuSeconds();
    if (total === undefined) return;
    const other = total - this.#knownCpuCounted - this.#otherCpuCounted;
    if (other > 0) {
      counter.inc({ thread: "other" }, other);
      this.#otherCpuCounted += other;
    }
  }

  /** Where {@link Metrics} finds the codec and inference threads for `sluice_thread_cpu_seconds_total`. */
  watchThreads(threads: () => ThreadIds): void {
    this.#threads = threads;
  }

  #mainThreadSince = performance.eventLoopUtilization();

  #collectMainThread(): void {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, this.#mainThreadSince).utilization;
    this.#mainThreadSince = now;
    (this.registry.getSingleMetric("sluice_main_thread_busy_ratio") as Gauge | undefined)?.set(busy);
  }

  #collectGate(which: "running" | "queued"): void {
    const gauge = this.registry.getSingleMetric(`sluice_invocations_${which === "running" ? "in_flight" : "queued"}`);
    (gauge as Gauge | undefined)?.set(this.#gate?.[which] ?? 0);
  }

  /** Records the model once it is loaded, and the gate whose occupancy the gauges report. */
  modelLoaded(labels: ModelLabels, gate: InvocationGate): void {
    this.#model.reset();
    this.#model.set({ ...labels }, 1);
    this.#gate = gate;
  }

  async exposition(): Promise<{ text: string; contentType: string }> {
    let text = await this.registry.metrics();
    for (const family of this.#families) text += `\n${family.text()}`;
    return { text, contentType: this.registry.contentType };
  }

  invocation(outcome: InvocationOutcome): void {
    const status = String(outcome.status);
    this.#invocations.series(status, outcome.code ?? "", outcome.input, outcome.output).inc();
    if (outcome.code === "OVERLOADED") this.#refusals.inc();
    this.#latency.series(status).observe(outcome.seconds);
    this.#answered.inc(outcome.recordsIn - outcome.recordsFailed);
    if (outcome.recordsFailed > 0) this.#failed.inc(outcome.recordsFailed);
    this.#bytesIn.inc(outcome.bytesIn);
    this.#bytesOut.inc(outcome.bytesOut);
    const stageSeconds = outcome.stageSeconds;
    for (const stage in stageSeconds) this.#stages.series(stage).observe(stageSeconds[stage]);
    for (const rows of outcome.batchRows) this.#allBatchRows.observe(rows);
  }
}
