/**
 * `npm run bench`: measures codec throughput, end-to-end records/s against ONNX Runtime alone, peak RSS
 * for a 150 MB body and /ping latency under load, prints them, and writes `docs/benchmarks.md`.
 */
import "../src/telemetry.js";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describeAdapter, probeWebGpuAdapter } from "../src/backends/webgpu-adapter.js";
import { acceptingThreads, defaultCodecThreads } from "../src/config.js";
import { removeTemporaryDirectory } from "../src/temporary-directory.js";
import { turnOffOnStackReplacement } from "../src/threads/on-stack-replacement.js";
import {
  blocks,
  categoryJsonLines,
  categoryRows,
  csvBlock,
  featuresLines,
  mnistImageRows,
  mnistRows,
  NUMBER_FORMS,
  numberRows,
  tokenIdRows,
} from "./bodies.js";
import { concurrencyChart } from "./chart.js";
import {
  categoryModelSignature,
  decodeThroughput,
  decodeThroughputFor,
  encodeThroughput,
  FLOAT_INPUT_SIGNATURE,
  FLOAT64_INPUT_SIGNATURE,
  MISSING_VALUES_SIGNATURE,
  TOKEN_ID_SIGNATURE,
} from "./codec-throughput.js";
import { peakRssFor, pingUnderLoad, throughputVersusRuntime } from "./end-to-end.js";
import {
  AGED_AGAINST_FRESH_ROUNDS,
  CLASSIC,
  cores,
  csvValues,
  MALLOC_KEPT,
  type Measurement,
  measure,
  peakRssAtConcurrency,
  peerUnavailable,
  pooled,
  runtimeAlone,
  startPeer,
  startSluice,
  underSustainedLoad,
} from "./side-by-side.js";
import { csvDirectory, transformJobComparison } from "./transform-job.js";
import {
  computeBoundWorkload,
  deepNarrowWorkload,
  fullPrecisionWorkload,
  mnistWorkload,
  singleRecordWorkload,
  tabularWorkload,
} from "./workloads.js";

const MB = 2 ** 20;
/** Which threads accept connections in Sluice's default rows on this machine, and the mode measured beside it. */
const DEFAULT_ACCEPT = acceptingThreads({ accept: undefined }, defaultCodecThreads(cores()));
const OTHER_ACCEPT = DEFAULT_ACCEPT === "main" ? "every-thread" : "main";
/** The other mode's name in the tables, and in the sentences after them. */
const OTHER_MODE =
  OTHER_ACCEPT === "every-thread"
    ? { row: "Sluice, every thread accepting (`SLUICE_ACCEPT=every-thread`)", prose: "every thread accepting" }
    : { row: "Sluice, the main thread accepting (`SLUICE_ACCEPT=main`)", prose: "the main thread accepting" };
const CLASSIC_MALLOC_KEPT = `${CLASSIC}, glibc's freed memory kept (\`MALLOC_MMAP_THRESHOLD_\`, \`MALLOC_TRIM_THRESHOLD_\` = 1 GiB)`;

// The codecs are measured in this process as the server's codec threads run them: without on-stack
// replacement (see src/threads/on-stack-replacement.ts), which otherwise left one run in ten at half speed.
turnOffOnStackReplacement();
const FORMATS = [
  "text/csv",
  "application/json",
  "application/jsonlines",
  "application/x-recordio-protobuf",
  "application/x-tfrecord",
];
const TARGETS: Record<string, number> = {
  "text/csv": 250,
  "application/jsonlines": 150,
  "application/x-recordio-protobuf": 1024,
  "application/x-tfrecord": 1024,
};

const fixed = (value: number, digits = 0) => value.toFixed(digits);
const lines: string[] = [];
const say = (line = "") => {
  console.log(line);
  lines.push(line);
};

const rows = mnistRows(1000);
const bodies = blocks(rows);

say("# Benchmarks");
say();
say(
  `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus()[0]?.model ?? "unknown CPU"}, ` +
    `${os.cpus().length} cores, ${fixed(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}. Records are MNIST-sized ` +
    "(784 values, ~80% zeros, the rest multiples of 1/256). Absolute figures move by up to 30% from hour to hour " +
    "(single codec figures by up to 60% between runs on some machines); the side-by-side ratios are what to compare.",
);
say();
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
/** Turns each server takes at each concurrency in the side-by-side runs. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** Seconds each server serves a workload, unmeasured, before its turns. */
const WARM_UP_SECONDS = 2;
const concurrencies = [...new Set([1, cores(), 2 * cores()])];
const peerProblem = peerUnavailable();
const row = (m: Measurement) =>
  `| ${m.server} | ${m.concurrency} | ${fixed(m.recordsPerSecond)} | ${fixed(m.coresBusy, 2)} | ${fixed(m.cpuSecondsPerMillion, 2)} | ` +
  `${fixed(m.loadGeneratorCoresBusy, 2)} | ${fixed(m.idleCores, 2)} |`;

say("## Side by side with the classic container");
say();
say(
  "The platform sends `MaxConcurrentTransforms` bodies at once; here `c` clients each post whole CSV bodies back to " +
    `back for ${SECONDS} s (${ROUNDS} turns each, alternating, pooled, after ${WARM_UP_SECONDS} s of unmeasured warm-up), answers in CSV, against Sluice (\`sluice serve\`, its defaults: one codec thread per core, ` +
    "and an intra-op thread per core unless timed batches show the model no faster on them) and the classic container (`../shared/peers/flask-byoc`: nginx + gunicorn with one " +
    "worker per core + Flask + pandas + numpy), on the same machine, in the same run. Server CPU is read from `/proc` " +
    "(all of Sluice's threads; all of the peer's processes). The load generator (this process) shares the machine: " +
    "the last two columns give its cores busy and the cores the whole machine left idle (`/proc/stat`); where " +
    "next to none are idle, the machine's cores, not the server, set the records/s, and only the CPU per record " +
    "tells the servers apart. The classic " +
    "container runs twice: as shipped, and with glibc's malloc told to keep freed memory. As shipped, each " +
    "gunicorn worker either takes fresh pages from the kernel for each body's buffers or reuses its own, by " +
    "chance of glibc's sliding mmap threshold, and serves about half the records/s the first way.",
);
say();
if (peerProblem) say(`The classic container was not measured: ${peerProblem}.`);
for (const workload of [tabularWorkload(), fullPrecisionWorkload(), mnistWorkload(), singleRecordWorkload()]) {
  const size =
    workload.body.length < MB ? `${workload.body.length} bytes` : `${fixed(workload.body.length / MB, 1)} MB`;
  say(`### ${workload.name} (${size}, ${workload.records} ${workload.records === 1 ? "row" : "rows"} per body)`);
  say();
  say(
    "| server | c | records/s | server cores busy | server CPU s per million records | load generator cores busy | machine cores idle |",
  );
  say("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  // Both servers stay up (the idle one costs nothing) and take turns, ROUNDS times at each concurrency, so
  // that a slow spell of the machine falls on both rather than on one server's figures.
  const servers = [
    await startSluice(workload.modelDir),
    await startSluice(workload.modelDir, { SLUICE_ACCEPT: OTHER_ACCEPT }, OTHER_MODE.row),
  ];
  const intraOpThreads = servers[0].intraOpThreads ?? cores();
  const results: Measurement[][] = [[], []];
  try {
    if (!peerProblem) {
      servers.push(await startPeer(workload.modelDir, 9091));
      servers.push(await startPeer(workload.modelDir, 9092, MALLOC_KEPT, CLASSIC_MALLOC_KEPT));
      results.push([], []);
    }
    // Steady state is what a long job sees: V8 compiles Sluice's hot paths on background threads during
    // its first seconds of load, which a six-second turn of one-record bodies would count. Both get it.
    for (const server of servers) await measure(server, workload.body, workload.records, cores(), WARM_UP_SECONDS);
    for (const c of concurrencies) {
      const rounds: Measurement[][] = servers.map(() => []);
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, server] of servers.entries()) {
          rounds[i].push(await measure(server, workload.body, workload.records, c, SECONDS));
        }
      }
      rounds.forEach((measured, i) => {
        results[i].push(pooled(measured));
      });
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  for (const series of results) for (const result of series) say(row(result));
  const values = csvValues(workload.body);
  const width = values.length / workload.records;
  const tensorRows = Math.min(2048, workload.records);
  const modelPath = path.join(workload.modelDir, "model.onnx");
  const alone = await runtimeAlone(modelPath, values, width, tensorRows, SECONDS, intraOpThreads);
  const threads = `${intraOpThreads} intra-op thread${intraOpThreads === 1 ? "" : "s"}, as Sluice chose`;
  say(
    `| ONNX Runtime alone (pre-built ${tensorRows}-row tensors, no I/O, ${threads}) | — | ${fixed(alone.recordsPerSecond)} | — | ${fixed(alone.cpuSecondsPerMillion, 2)} | — | — |`,
  );
  say();
  if (results.length === 4) {
    const [sluice, otherMode, peer, peerMallocKept] = results;
    const atCores = (series: Measurement[]) =>
      series.find((m) => m.concurrency === cores()) ?? series[series.length - 1];
    const s = atCores(sluice);
    const e = atCores(otherMode);
    const p = atCores(peer);
    const k = atCores(peerMallocKept);
    const ratios = (sluiceSide: Measurement, peerSide: Measurement) =>
      `${fixed(sluiceSide.recordsPerSecond / peerSide.recordsPerSecond, 1)}× the records/s and ` +
      `${fixed(peerSide.cpuSecondsPerMillion / sluiceSide.cpuSecondsPerMillion, 1)}× less CPU per record`;
    say(
      `At c = ${cores()} (one per core), against the classic container as shipped: Sluice ${ratios(s, p)} (with ` +
        `${OTHER_MODE.prose}: ${ratios(e, p)}). Against it with glibc's freed memory kept: ${ratios(s, k)} ` +
        `(${OTHER_MODE.prose}: ${ratios(e, k)}).`,
    );
    if (s.cpuSecondsPerMillionByThread) {
      say();
      say(
        `Sluice's CPU seconds per million records there, by thread (\`sluice_thread_cpu_seconds_total\`): ` +
          Object.entries(s.cpuSecondsPerMillionByThread)
            .map(([thread, perMillion]) => `${thread} ${fixed(perMillion, 3)}`)
            .join(", ") +
          ".",
      );
    }
    const chart = `benchmarks-${workload.slug}.svg`;
    writeFileSync(
      new URL(`../../docs/${chart}`, import.meta.url),
      concurrencyChart(
        results.map((series) => ({ name: series[0].server, points: series })),
        `${workload.name}; ${os.cpus().length} cores; ${new Date().toISOString().slice(0, 10)}`,
      ),
    );
    say();
    say(`![records/s and CPU per record against concurrency](${chart})`);
    say();
  }
}

{
  const workload = tabularWorkload();
  say("### The cost of metrics");
  say();
  say(
    `Sluice on the tabular workload at c = ${cores()}, with \`/metrics\` on (the default) and \`SLUICE_METRICS=off\`, ` +
      "alternating, two rounds each:",
  );
  say();
  say("| SLUICE_METRICS | records/s | server CPU s per million records |");
  say("| --- | ---: | ---: |");
  const results: Record<string, Measurement[]> = { on: [], off: [] };
  for (let round = 0; round < 2; round++) {
    for (const setting of ["on", "off"]) {
      const server = await startSluice(workload.modelDir, { SLUICE_METRICS: setting });
      try {
        results[setting].push(await measure(server, workload.body, workload.records, cores(), SECONDS));
      } finally {
        await server.stop();
      }
    }
  }
  const mean = (list: Measurement[], pick: (m: Measurement) => number) =>
    list.reduce((sum, m) => sum + pick(m), 0) / list.length;
  for (const setting of ["on", "off"]) {
    say(
      `| ${setting} | ${fixed(mean(results[setting], (m) => m.recordsPerSecond))} | ` +
        `${fixed(
          mean(results[setting], (m) => m.cpuSecondsPerMillion),
          2,
        )} |`,
    );
  }
  say();
}

{
  const workload = deepNarrowWorkload();
  say("### Sessions side by side");
  say();
  say(
    `Sluice at c = ${cores()} on a model that timed batches give one intra-op thread and whose records cost it ` +
      `more than the codec's work (${workload.name}; the tabular rows), with one session and with the sessions ` +
      "it chooses (`SLUICE_MODEL_SESSIONS` unset), alternating, two rounds each:",
  );
  say();
  say("| sessions | records/s | server cores busy | server CPU s per million records | of which inference threads |");
  say("| --- | ---: | ---: | ---: | ---: |");
  const settings: [string, Record<string, string>][] = [
    ["one (`SLUICE_MODEL_SESSIONS=1`)", { SLUICE_MODEL_SESSIONS: "1" }],
    ["chosen", {}],
  ];
  const results = new Map<string, Measurement[]>(settings.map(([name]) => [name, []]));
  let chosen: string | undefined;
  for (let round = 0; round < 2; round++) {
    for (const [name, env] of settings) {
      const server = await startSluice(workload.modelDir, env);
      if (name === "chosen") chosen = server.modelSessions;
      try {
        await measure(server, workload.body, workload.records, cores(), WARM_UP_SECONDS);
        results.get(name)?.push(await measure(server, workload.body, workload.records, cores(), SECONDS));
      } finally {
        await server.stop();
      }
    }
  }
  for (const [name] of settings) {
    const m = pooled(results.get(name) ?? []);
    say(
      `| ${name === "chosen" ? `chosen: ${chosen?.split(":")[0] ?? "?"}` : name} | ${fixed(m.recordsPerSecond)} | ` +
        `${fixed(m.coresBusy, 2)} | ${fixed(m.cpuSecondsPerMillion, 2)} | ` +
        `${fixed(m.cpuSecondsPerMillionByThread?.inference ?? Number.NaN, 2)} |`,
    );
  }
  say();
  say(`Why that many (the "model loaded" line's \`model_sessions\`): ${chosen ?? "not logged"}.`);
  say();
}

{
  // Every format's own paths end to end: the tables above send CSV only, and a slower JSON Lines path went
  // unnoticed there for a day.
  const workload = tabularWorkload();
  const rows = new TextDecoder()
    .decode(workload.body)
    .trimEnd()
    .split("\n")
    .map((line) => line.split(",").map(Number));
  const forms = blocks(rows);
  const formats: [string, string, Uint8Array][] = [
    ["CSV", "text/csv", workload.body],
    ["JSON Lines, arrays", "application/jsonlines", forms["application/jsonlines"]],
    ['JSON Lines, `{"features": [...]}`', "application/jsonlines", featuresLines(workload.body)],
    ['JSON, `{"instances": [...]}`', "application/json", forms["application/json"]],
    ["RecordIO-protobuf", "application/x-recordio-protobuf", forms["application/x-recordio-protobuf"]],
    ["TFRecord", "application/x-tfrecord", forms["application/x-tfrecord"]],
  ];
  say("### Every format, end to end");
  say();
  say(
    `Sluice on the tabular workload's rows at c = ${cores()}, each body written in one format and answered in the ` +
      `same, ${SECONDS} s each after a warm-up, one server:`,
  );
  say();
  say("| format | records/s | server CPU s per million records | of which codec threads | main thread |");
  say("| --- | ---: | ---: | ---: | ---: |");
  const server = await startSluice(workload.modelDir);
  try {
    for (const [name, mediaType, body] of formats) {
      await measure(server, body, workload.records, cores(), WARM_UP_SECONDS, mediaType, mediaType);
      const m = await measure(server, body, workload.records, cores(), SECONDS, mediaType, mediaType);
      const byThread = m.cpuSecondsPerMillionByThread ?? {};
      say(
        `| ${name} | ${fixed(m.recordsPerSecond)} | ${fixed(m.cpuSecondsPerMillion, 2)} | ` +
          `${fixed(byThread.codec ?? Number.NaN, 2)} | ${fixed(byThread.main ?? Number.NaN, 2)} |`,
      );
    }
  } finally {
    await server.stop();
  }
  say();
}

{
  const workload = tabularWorkload();
  const GB = Number(process.env.BENCH_JOB_GB ?? 1);
  const files = 8;
  const { dir, rows, bytes } = csvDirectory(workload.body, workload.records, files, (GB * 1024) / files);
  const job = await transformJobComparison(workload.modelDir, dir, cores()).finally(() =>
    removeTemporaryDirectory(dir),
  );
  say("## `sluice transform`: a local job against the same job over HTTP");
  say();
  say(
    `${files} CSV files, ${fixed(bytes / MB)} MB, ${rows} rows (the tabular workload), \`--split-type Line\` ` +
      `MultiRecord 6 MB bodies, \`--max-concurrent ${cores()}\`:`,
  );
  say();
  say("| service | seconds | records/s | peak RSS |");
  say("| --- | ---: | ---: | ---: |");
  say(
    `| in process | ${fixed(job.local.seconds, 1)} | ${fixed(rows / job.local.seconds)} | ${fixed(job.local.peakMB)} MB |`,
  );
  say(
    `| \`--endpoint\` (\`sluice serve\` over HTTP) | ${fixed(job.remote.seconds, 1)} | ${fixed(rows / job.remote.seconds)} | ` +
      `${fixed(job.remote.peakMB)} MB client + ${fixed(job.serverPeakMB)} MB server |`,
  );
  say();
  say(
    `In process ${fixed((100 * job.remote.seconds) / job.local.seconds - 100, 0)}% faster than over HTTP ` +
      "(negative: slower); memory is the mini-batches in flight, not the files.",
  );
  say();
}

const big = computeBoundWorkload(13);
say(`### Memory with ${big.name.split(": ")[1]}`);
say();
say("Each row is a fresh server with `SAGEMAKER_MAX_CONCURRENT_TRANSFORMS=8` running c bodies of 256 rows at once.");
say();
say("| c | RSS after loading | peak RSS |");
say("| ---: | ---: | ---: |");
for (const c of [1, 2, 8]) {
  const memory = await peakRssAtConcurrency(big.modelDir, big.body, c);
  say(`| ${c} | ${fixed(memory.loadedMB)} MB | ${fixed(memory.peakMB)} MB |`);
}
say();
const compute = computeBoundWorkload(8);
{
  const server = await startSluice(compute.modelDir);
  try {
    const result = await measure(server, compute.body, compute.records, 1, SECONDS);
    say(
      `A ${compute.name.split(": ")[1]} model, one body at a time: ${fixed(result.recordsPerSecond)} records/s with ` +
        `${fixed(result.coresBusy, 2)} of ${cores()} cores busy: ONNX Runtime's intra-op threads use every core for one run.`,
    );
  } finally {
    await server.stop();
  }
}
say();

say("## Codecs, one core, in process (64 KiB chunks; framing + decoding + packing into batches)");
say();
say(
  "| format | decode MB/s | decode records/s | target MB/s | encode MB/s | encode records/s | with a label, records/s | as float64, records/s |",
);
say("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const format of FORMATS) {
  const decoded = decodeThroughput(format, bodies[format], 128 * MB);
  const encoded = encodeThroughput(format, 200_000);
  const labelled = encodeThroughput(format, 200_000, { labelled: true });
  const doubles = encodeThroughput(format, 200_000, { float64: true });
  say(
    `| \`${format}\` | ${fixed(decoded.mbPerSecond)} | ${fixed(decoded.recordsPerSecond)} | ${TARGETS[format] ?? "—"} | ` +
      `${fixed(encoded.mbPerSecond)} | ${fixed(encoded.recordsPerSecond)} | ${fixed(labelled.recordsPerSecond)} | ` +
      `${fixed(doubles.recordsPerSecond)} |`,
  );
}
{
  const decoded = decodeThroughput("text/csv", csvBlock(mnistImageRows(1000)), 128 * MB);
  say();
  say(
    `MNIST rows decoded above have their zeros scattered one by one, each field a coin toss for the processor; ` +
      `rows shaped like digit images (the same share of zeros, in runs around the digit) decode as CSV at ` +
      `${fixed(decoded.mbPerSecond)} MB/s (${fixed(decoded.recordsPerSecond)} records/s).`,
  );
}
say();
say(
  "Encoding writes 10 float32 probabilities per record (a softmax's, 7–9 significant digits), each in its " +
    "shortest round-tripping form; the last column writes an int64 label before them (a scikit-learn " +
    "classifier's two outputs).",
);
say();
say(
  "Rows of 32 float32 features, by how their numbers are printed (decoding as above), and the same rows for a " +
    "model that takes them as float64 (skl2onnx's `DoubleTensorType`):",
);
say();
say(
  "| numbers | example | CSV MB/s | CSV rows/s | JSON Lines MB/s | JSON Lines rows/s | float64 input, CSV rows/s | float64 input, JSON Lines rows/s |",
);
say("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const form of NUMBER_FORMS) {
  const csv = numberRows(20_000, form.print, "text/csv");
  const jsonLines = numberRows(20_000, form.print, "application/jsonlines");
  const decoded = decodeThroughput("text/csv", csv, 64 * MB, 3, 32);
  const lines = decodeThroughput("application/jsonlines", jsonLines, 64 * MB, 3, 32);
  const decoded64 = decodeThroughputFor(FLOAT64_INPUT_SIGNATURE, "text/csv", csv, 64 * MB);
  const lines64 = decodeThroughputFor(FLOAT64_INPUT_SIGNATURE, "application/jsonlines", jsonLines, 64 * MB);
  const example = new TextDecoder().decode(csv.subarray(0, csv.indexOf(0x2c)));
  say(
    `| ${form.name} | \`${example}\` | ${fixed(decoded.mbPerSecond)} | ${fixed(decoded.recordsPerSecond)} | ` +
      `${fixed(lines.mbPerSecond)} | ${fixed(lines.recordsPerSecond)} | ${fixed(decoded64.recordsPerSecond)} | ` +
      `${fixed(lines64.recordsPerSecond)} |`,
  );
}
{
  const [twoDecimals] = NUMBER_FORMS;
  const csvRows = numberRows(20_000, twoDecimals.print, "text/csv");
  const perColumn = (format: "text/csv" | "application/jsonlines", rows: Uint8Array) =>
    decodeThroughput(format, rows, 64 * MB, 3, 32, 32);
  const csv = perColumn("text/csv", csvRows);
  const lines = perColumn("application/jsonlines", numberRows(20_000, twoDecimals.print, "application/jsonlines"));
  say();
  say(
    `The same two-decimal rows for a model that takes each feature as an input of its own (as skl2onnx ` +
      `converts a pipeline over a DataFrame's columns): CSV ${fixed(csv.mbPerSecond)} MB/s ` +
      `(${fixed(csv.recordsPerSecond)} rows/s), JSON Lines ${fixed(lines.mbPerSecond)} MB/s ` +
      `(${fixed(lines.recordsPerSecond)} rows/s).`,
  );
  const perSeparator = (separator: string) =>
    decodeThroughputFor(FLOAT_INPUT_SIGNATURE, "application/jsonlines", featuresLines(csvRows, separator), 64 * MB);
  const compact = perSeparator(",");
  const spaced = perSeparator(", ");
  const withCategory = categoryRows(csvRows, ["red", "green", "blue", "amber"]);
  const perCategoryModel = (inputPerColumn: boolean) =>
    decodeThroughputFor(categoryModelSignature(inputPerColumn), "text/csv", withCategory, 64 * MB);
  const categoryThen31 = perCategoryModel(false);
  const categoryPerColumn = perCategoryModel(true);
  const categoryArrays = decodeThroughputFor(
    categoryModelSignature(false),
    "application/jsonlines",
    categoryJsonLines(withCategory, "array"),
    64 * MB,
  );
  const categoryColumns = decodeThroughputFor(
    categoryModelSignature(true),
    "application/jsonlines",
    categoryJsonLines(withCategory, "columns"),
    64 * MB,
  );
  say();
  say(
    `The same two-decimal rows in SageMaker's JSON Lines form, \`{"features": [...]}\`, for a model whose ` +
      `input is named \`float_input\` (as skl2onnx names it): ${fixed(compact.mbPerSecond)} MB/s ` +
      `(${fixed(compact.recordsPerSecond)} rows/s); as \`json.dumps\` writes them, a space after each comma, ` +
      `${fixed(spaced.mbPerSecond)} MB/s (${fixed(spaced.recordsPerSecond)} rows/s).`,
  );
  say();
  say(
    `The same CSV rows with a category (\`red\`) for the first field, for a model of a string input and ` +
      `31 float features: ${fixed(categoryThen31.mbPerSecond)} MB/s (${fixed(categoryThen31.recordsPerSecond)} ` +
      `rows/s); with one input per column (as skl2onnx converts a pipeline over a DataFrame), ` +
      `${fixed(categoryPerColumn.mbPerSecond)} MB/s (${fixed(categoryPerColumn.recordsPerSecond)} rows/s). ` +
      `As JSON Lines, \`["red", 0.43, ...]\` for the first model ${fixed(categoryArrays.mbPerSecond)} MB/s ` +
      `(${fixed(categoryArrays.recordsPerSecond)} rows/s), and \`{"colour": "red", "x0": 0.43, ...}\` (as pandas' ` +
      `\`to_json(orient="records", lines=True)\` writes rows) for the second ${fixed(categoryColumns.mbPerSecond)} ` +
      `MB/s (${fixed(categoryColumns.recordsPerSecond)} rows/s).`,
  );
}
{
  const [twoDecimals] = NUMBER_FORMS;
  const quoted = decodeThroughput(
    "text/csv",
    numberRows(20_000, (value) => `"${twoDecimals.print(value)}"`, "text/csv"),
    64 * MB,
    3,
    32,
  );
  const withGaps = (gap: string, format: "text/csv" | "application/jsonlines") =>
    numberRows(20_000, (value) => (Math.abs(value) < 0.4 ? gap : twoDecimals.print(value)), format);
  const missing = decodeThroughputFor(MISSING_VALUES_SIGNATURE, "text/csv", withGaps("", "text/csv"), 64 * MB);
  const nulls = decodeThroughputFor(
    MISSING_VALUES_SIGNATURE,
    "application/jsonlines",
    withGaps("null", "application/jsonlines"),
    64 * MB,
  );
  say();
  say(
    `The same two-decimal CSV rows with every field quoted (\`"0.05"\`, as Athena writes query results): ` +
      `${fixed(quoted.mbPerSecond)} MB/s (${fixed(quoted.recordsPerSecond)} rows/s); with a fifth of the fields ` +
      `empty, for a model that takes missing values (a tree ensemble): ${fixed(missing.mbPerSecond)} MB/s ` +
      `(${fixed(missing.recordsPerSecond)} rows/s); the same rows as JSON Lines with \`null\` for those fields, ` +
      `${fixed(nulls.mbPerSecond)} MB/s (${fixed(nulls.recordsPerSecond)} rows/s).`,
  );
}
{
  const perFormat = (format: "text/csv" | "application/jsonlines") =>
    decodeThroughputFor(TOKEN_ID_SIGNATURE, format, tokenIdRows(5_000, format), 64 * MB);
  const csv = perFormat("text/csv");
  const lines = perFormat("application/jsonlines");
  say();
  say(
    `A sequence model's records (\`input_ids\` and \`attention_mask\`, int64 [N, 128] each; JSON Lines as ` +
      `\`json.dumps\` writes \`{"input_ids": [...], "attention_mask": [...]}\`): JSON Lines ` +
      `${fixed(lines.mbPerSecond)} MB/s (${fixed(lines.recordsPerSecond)} records/s); the same records as CSV ` +
      `rows, ${fixed(csv.mbPerSecond)} MB/s (${fixed(csv.recordsPerSecond)} records/s).`,
  );
}
say();

say("## End to end over HTTP (bundled 784→32→10 MLP, `sluice serve` as a child process, answer in the input's format)");
say();
const adapter = await probeWebGpuAdapter();
const backends = adapter.available ? ["cpu", "webgpu"] : ["cpu"];
say("| backend | format | body | Sluice records/s | ONNX Runtime alone records/s | Sluice / ORT |");
say("| --- | --- | --- | ---: | ---: | ---: |");
for (const backend of backends) {
  for (const format of ["text/csv", "application/x-recordio-protobuf"]) {
    const versus = await throughputVersusRuntime(format, bodies[format], rows, 40, WARM_UP_SECONDS, backend);
    say(
      `| ${backend} | \`${format}\` | ${fixed(versus.bodyMB)} MB, ${versus.records} records | ` +
        `${fixed(versus.sluiceRecordsPerSecond)} | ${fixed(versus.runtimeRecordsPerSecond)} | ` +
        `${fixed(versus.sluiceRecordsPerSecond / versus.runtimeRecordsPerSecond, 2)} |`,
    );
  }
}
say();
if (!adapter.available) say(`WebGPU was not measured: ${adapter.reason}.`);
else if (adapter.info?.software) {
  say(
    `WebGPU ran on ${describeAdapter(adapter.info)}: Mesa's software rasteriser on the same CPU, so these rows ` +
      "show that the WebGPU path works end to end, not how fast a GPU is. Figures from an NVIDIA H200 are in the " +
      "README (_Benchmarks_, _On 16 cores, and on an H200_).",
  );
} else say(`WebGPU ran on ${describeAdapter(adapter.info)}.`);
say();
say(
  `Each row is one body of 40 000 records (chunked), streamed after ${WARM_UP_SECONDS} s of the same bodies unmeasured. ` +
    "ONNX Runtime alone runs pre-built 512-row tensors back to back in one session: this small model needs " +
    "about 25 k multiply-adds per record, so the ratio is the cost of everything around inference — reading " +
    "the body off a socket, decoding, batching, encoding, writing the answer.",
);
say();

const csv = bodies["text/csv"];
const memory = await peakRssFor(csv, 150 * MB);
say("## Memory");
say();
say(
  `A ${fixed(memory.bodyMB)} MB CSV body (chunked, \`SAGEMAKER_MAX_PAYLOAD_IN_MB=0\`): peak RSS ${fixed(memory.peakMB)} MB ` +
    `(${fixed(memory.idleMB)} MB after loading the model), in ${fixed(memory.seconds, 1)} s.`,
);
say();
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
const tabular = tabularWorkload();
const soak = await underSustainedLoad(tabular.modelDir, tabular.body, tabular.records, cores(), SOAK_SECONDS);
const lastSample = soak.samples[soak.samples.length - 1];
say(
  `The tabular workload at c = ${cores()} for ${SOAK_SECONDS} s (${soak.invocations} invocations): RSS ` +
    `${fixed(soak.loadedMB)} MB after loading, ${fixed(soak.samples[0]?.rssMB ?? 0)} MB after the first tenth, ` +
    `${fixed(lastSample?.rssMB ?? 0)} MB at the last sample (peak ${fixed(soak.peakMB)} MB). By tenth of the run:`,
);
say();
say("| seconds | RSS MB | records/s | server CPU s per million records | slowest body ms |");
say("| ---: | ---: | ---: | ---: | ---: |");
let sampledUntil = 0;
for (const sample of soak.samples) {
  const records = sample.invocations * tabular.records;
  const recordsPerSecond = records / (sample.seconds - sampledUntil);
  sampledUntil = sample.seconds;
  say(
    `| ${fixed(sample.seconds)} | ${fixed(sample.rssMB)} | ${fixed(recordsPerSecond)} | ` +
      `${fixed((sample.cpuSeconds / records) * 1e6, 2)} | ${fixed(sample.slowestMs)} |`,
  );
}
say();
const agedRatio = soak.aged.recordsPerSecond / soak.fresh.recordsPerSecond;
say(
  `The machine's own speed moves as much over minutes, so the aged server was then measured in turn with a ` +
    `fresh one, ${AGED_AGAINST_FRESH_ROUNDS} turns of ${fixed(soak.turnSeconds)} s each on the same bodies: ` +
    `aged ${fixed(soak.aged.recordsPerSecond)} records/s (${fixed(soak.aged.cpuSecondsPerMillion, 2)} CPU s per ` +
    `million), fresh ${fixed(soak.fresh.recordsPerSecond)} (${fixed(soak.fresh.cpuSecondsPerMillion, 2)}): the aged ` +
    `one at ${fixed(agedRatio * 100)}% of the fresh one's pace.`,
);
say();

const PING_ROUNDS = 5;
say("## /ping under load");
say();
for (const [accept, label] of [
  [DEFAULT_ACCEPT, ""],
  [OTHER_ACCEPT, ` With ${OTHER_MODE.prose} (\`SLUICE_ACCEPT=${OTHER_ACCEPT}\`):`],
] as const) {
  const ping = await pingUnderLoad(csv, 3, 34 * MB, PING_ROUNDS, { SLUICE_ACCEPT: accept });
  say(
    `${label ? `${label.trim()} t` : "T"}hree 34 MB CSV bodies at once, ${PING_ROUNDS} times over (${fixed(ping.seconds, 1)} s), ` +
      `pinged every 10 ms from a process of its own: ${ping.pings} pings, p50 ${fixed(ping.p50, 1)} ms, ` +
      `p90 ${fixed(ping.p90, 1)} ms, p99 ${fixed(ping.p99, 1)} ms, max ${fixed(ping.max, 1)} ms.`,
  );
  say();
}

writeFileSync(new URL("../../docs/benchmarks.md", import.meta.url), `${lines.join("\n")}\n`);
