/**
 * What operators see: one JSON log line per invocation (ids, sizes, per-stage milliseconds), the start-up
 * configuration with where each value came from, the log level, and Prometheus metrics on /metrics.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../src/config.js";
import { singleRecordCeiling } from "../src/start-server.js";
import { StreamLogger } from "../src/stream-logger.js";
import { processCpuSeconds } from "../src/threads/thread-cpu.js";
import { modelDir, smallMlp } from "./support/models.js";
import { invoke, metricValue, startTestServer, type TestServer } from "./support/server.js";

const ROWS = "0.1,0.2,0.3,0.4\n".repeat(5);
/** CPU time by thread is read from Linux's `/proc`. */
const linux = existsSync("/proc/thread-self");

describe("the log", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), { SAGEMAKER_MAX_PAYLOAD_IN_MB: "6" });
  });
  after(() => server.close());

  const invocationLines = () => server.records.filter((record) => record.msg === "invocation");

  it("writes one JSON line per invocation with its id, sizes, records, batches and stage timings", async () => {
    const response = await invoke(server, ROWS, {
      "content-type": "text/csv",
      "x-amzn-sagemaker-inference-id": "job-7",
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-amzn-sagemaker-inference-id"), "job-7");
    await response.text();
    const line = invocationLines().find((record) => record.inference_id === "job-7");
    assert.ok(line);
    assert.equal(line.level, "info");
    assert.equal(line.status, 200);
    assert.equal(line.content_type, "text/csv");
    assert.equal(line.records, 5);
    assert.equal(line.batches, 1);
    assert.equal(line.bytes_in, ROWS.length);
    assert.ok((line.bytes_out as number) > 0);
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
    const ms = line.ms as Record<string, number>;
    for (const stage of ["total", "admission", "decode", "model_wait", "model", "encode", "write"]) {
      assert.equal(typeof ms[stage], "number", stage);
    }
  });

  it("makes up an inference id when the platform sent none, and sends it back", async () => {
    const response = await invoke(server, ROWS, { "content-type": "text/csv" });
    const id = response.headers.get("x-amzn-sagemaker-inference-id");
    assert.match(id ?? "", /^[0-9a-f-]{36}$/);
    await response.text();
    const line = invocationLines().find((record) => record.inference_id === id);
    assert.ok(line);
    assert.equal("custom_attributes" in line, false, "no custom attributes were sent");
  });

  it("logs the platform's custom attributes with the request", async () => {
    const attributes = "trace_id=7f3c,run=nightly";
    const response = await invoke(server, ROWS, {
      "content-type": "text/csv",
      "x-amzn-sagemaker-inference-id": "job-attributes",
      "x-amzn-sagemaker-custom-attributes": attributes,
    });
    assert.equal(response.status, 200);
    await response.text();
    const line = invocationLines().find((record) => record.inference_id === "job-attributes");
    assert.equal(line?.custom_attributes, attributes);
  });

  it("names the error code, the record and the reason of a refusal, as a warning", async () => {
    const response = await invoke(server, `${ROWS}1,2\n`, { "content-type": "text/csv" });
    assert.equal(response.status, 400);
    const id = response.headers.get("x-amzn-sagemaker-inference-id");
    await response.text();
    const line = invocationLines().find((record) => record.inference_id === id);
    assert.ok(line);
    assert.equal(line.level, "warn");
    assert.equal(line.code, "CSV_WIDTH_MISMATCH");
    assert.equal(line.record_index, 5);
    assert.match(String(line.reason), /field/);
  });

  it("counts no answer bytes or records out for a refusal, whatever was encoded before the bad record", async () => {
    const counted = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return [
        metricValue(text, 'sluice_records_total{outcome="answered"}'),
        metricValue(text, 'sluice_bytes_total{direction="out"}'),
      ];
    };
    const before = await counted();
    // Past the small-body limit, so that a codec thread encodes batches of the 40 000 rows before the bad one.
    const response = await invoke(server, `${ROWS.repeat(8000)}1,2\n`, { "content-type": "text/csv" });
    assert.equal(response.status, 400);
    const id = response.headers.get("x-amzn-sagemaker-inference-id");
    await response.text();
    const line = invocationLines().find((record) => record.inference_id === id);
    assert.ok(line);
    assert.equal(line.record_index, 40_000);
    assert.equal(line.thread, "codec");
    assert.equal(line.bytes_out, 0, "the answer to the rows before it was never sent");
    assert.deepEqual(await counted(), before);
  });

  it("logs the configuration at start-up, each value with where it came from", () => {
    const line = server.records.find((record) => record.msg === "configuration");
    assert.ok(line);
    const settings = line.settings as Record<string, { value: unknown; from: string }>;
    assert.deepEqual(settings.SAGEMAKER_MAX_PAYLOAD_IN_MB, { value: 6, from: "environment" });
    assert.deepEqual(settings.SLUICE_BACKEND, { value: "cpu", from: "default" });
    assert.equal(settings.SLUICE_MODEL_DIR.from, "flag");
    assert.equal(typeof (line.measured as Record<string, number>).cpus, "number");
    const loaded = server.records.find((record) => record.msg === "model loaded");
    assert.ok(loaded);
    assert.equal(loaded.batch_rows_from, "measured");
    assert.match(String(loaded.inputs), /features:float32\[N,4\]/);
  });

  it("logs no warning at start-up with the platform's defaults", () => {
    // (Refused invocations are warnings too: the tests above send one.)
    const warnings = server.records.filter((record) => record.level === "warn" && record.msg !== "invocation");
    assert.deepEqual(warnings, []);
  });
});

describe("the start-up warning for one-record bodies on many cores", () => {
  const warning = (records: Record<string, unknown>[]) =>
    records.find((record) => record.msg === "one-record bodies will use one core of this instance");

  it("warns that the main thread alone serves them, and says what to do instead", async () => {
    const server = await startTestServer(modelDir(smallMlp()), {
      SAGEMAKER_BATCH_STRATEGY: "SINGLE_RECORD",
      SLUICE_CODEC_THREADS: "4",
    });
    try {
      const line = warning(server.records);
      assert.ok(line, "no warning logged");
      assert.equal(line.level, "warn");
      assert.equal(line.codec_threads, 4);
      assert.match(String(line.instead), /SLUICE_ACCEPT=every-thread/);
      // It still serves one-record bodies as before.
      const response = await invoke(server, "0.1,0.2,0.3,0.4\n", { "content-type": "text/csv" });
      assert.equal(response.status, 200);
      assert.equal((await response.text()).trim().split("\n").length, 1);
    } finally {
      await server.close();
    }
  });

  it("stays quiet where the cores would not be used anyway, or are already", () => {
    const settings = (env: Record<string, string>) => loadConfig(env, { port: "0", modelDir: "/models" });
    const single = { SAGEMAKER_BATCH_STRATEGY: "SINGLE_RECORD" };
    assert.ok(singleRecordCeiling(settings(single), 4));
    assert.ok(singleRecordCeiling(settings({ ...single, SLUICE_ACCEPT: "main" }), 16));
    assert.equal(singleRecordCeiling(settings(single), 2), undefined, "two codec threads");
    assert.equal(singleRecordCeiling(settings(single), 16), undefined, "codec threads accept by default there");
    assert.equal(singleRecordCeiling(settings({ SAGEMAKER_BATCH_STRATEGY: "MULTI_RECORD" }), 16), undefined);
    assert.equal(singleRecordCeiling(settings({}), 16), undefined, "no strategy given");
    assert.equal(singleRecordCeiling(settings({ ...single, SLUICE_ACCEPT: "every-thread" }), 16), undefined);
    assert.equal(singleRecordCeiling(settings({ ...single, SLUICE_SMALL_BODY_BYTES: "0" }), 16), undefined);
  });
});

describe("log levels", () => {
  it("drops lines below SLUICE_LOG_LEVEL and cuts long field values", () => {
    const lines: string[] = [];
    const log = new StreamLogger({ level: "warn", sink: (line) => lines.push(line), format: "json" });
    log.info("quiet");
    log.warn("loud", { header: "x".repeat(10_000) });
    assert.equal(lines.length, 1);
    const record = JSON.parse(lines[0]) as { msg: string; header: string };
    assert.equal(record.msg, "loud");
    assert.ok(record.header.length < 600);
  });
});

describe("GET /metrics", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), {});
  });
  after(() => server.close());

  const scrape = async () => {
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    return response.text();
  };

  it("counts invocations, records and bytes, and reports histograms, the model and the process", async () => {
    await (await invoke(server, ROWS, { "content-type": "text/csv", accept: "application/jsonlines" })).text();
    await (await invoke(server, "1,2\n", { "content-type": "text/csv" })).text();
    const text = await scrape();
    assert.equal(
      metricValue(
        text,
        'sluice_invocations_total{status="200",code="",input="text/csv",output="application/jsonlines"}',
      ),
      1,
    );
    assert.equal(
      metricValue(
        text,
        'sluice_invocations_total{status="400",code="CSV_WIDTH_MISMATCH",input="text/csv",output="text/csv"}',
      ),
      1,
    );
    assert.equal(metricValue(text, 'sluice_records_total{outcome="answered"}'), 5);
    assert.ok((metricValue(text, 'sluice_bytes_total{direction="in"}') ?? 0) >= ROWS.length);
    assert.equal(metricValue(text, 'sluice_invocation_duration_seconds_count{status="200"}'), 1);
    assert.equal(metricValue(text, 'sluice_stage_seconds_count{stage="decode"}'), 2);
    assert.equal(metricValue(text, 'sluice_batch_rows_bucket{le="16"}'), 1);
    assert.equal(metricValue(text, "sluice_invocations_in_flight"), 0);
    assert.equal(metricValue(text, "sluice_invocations_queued"), 0);
    const info =
      /^sluice_model_info\{backend="cpu",model="[^"]+model\.onnx",inputs="features:float32",outputs="probabilities:float32",sessions="(\d+)",intra_op_threads="(\d+)"\} 1$/m.exec(
        text,
      );
    assert.ok(info, text);
    // As the "model loaded" line says, and as many as the inference threads.
    const loaded = server.logs.find((line) => line.includes("model loaded")) ?? "";
    assert.match(loaded, new RegExp(`inference_threads=${info[2]} model_sessions="?${info[1]}:`));
    assert.equal(server.running.service.threadIds().inference.length, Number(info[1]));
    const busy = metricValue(text, "sluice_main_thread_busy_ratio") ?? Number.NaN;
    assert.ok(busy > 0 && busy <= 1, `main thread busy ratio ${busy}`);
    assert.match(text, /^process_cpu_seconds_total \d/m);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds \d/m);
  });

  it("reports CPU time by thread: the codec threads' grows with the records they decode", {
    skip: !linux,
  }, async () => {
    const roles = ["main", "codec", "inference", "other"];
    const cpu = (text: string) =>
      Object.fromEntries(
        roles.map((thread) => [thread, metricValue(text, `sluice_thread_cpu_seconds_total{thread="${thread}"}`)]),
      );
    const before = cpu(await scrape());
    // 8 MB of CSV: a tenth of a second or more of decoding and encoding, almost no model time.
    const rows = "0.1,0.2,0.3,0.4\n".repeat(500_000);
    const answer = await invoke(server, rows, { "content-type": "text/csv" });
    assert.equal(answer.status, 200);
    await answer.arrayBuffer();
    const processBefore = processCpuSeconds() ?? Number.NaN;
    const after = cpu(await scrape());
    const processAfter = processCpuSeconds() ?? Number.NaN;
    for (const thread of roles) assert.equal(typeof after[thread], "number", `${thread} is reported`);
    const grew = (thread: string) => (after[thread] as number) - ((before[thread] as number | undefined) ?? 0);
    // ~0.15 s here; CPU time is counted in 10 ms ticks.
    assert.ok(grew("codec") >= 0.05, `codec threads used ${grew("codec")} s`);
    assert.ok(grew("main") > 0, "the main thread received the body");
    assert.ok(grew("codec") > grew("inference"), "decoding, not the 4→3 model, took the time");
    // The four add up to the process's CPU time when scraped.
    const total = roles.reduce((sum, thread) => sum + (after[thread] as number), 0);
    assert.ok(
      total >= processBefore - 1e-6 && total <= processAfter + 1e-6,
      `${processBefore} ≤ ${total} ≤ ${processAfter}`,
    );
  });
});

describe("SLUICE_METRICS=off", () => {
  it("serves no /metrics", async () => {
    const server = await startTestServer(modelDir(smallMlp()), { SLUICE_METRICS: "off" });
    try {
      const response = await fetch(`${server.url}/metrics`);
      assert.equal(response.status, 404);
      await response.text();
    } finally {
      await server.close();
    }
  });
});
