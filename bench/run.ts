/**
 * `npm run bench`: measures codec throughput, end-to-end records/s against ONNX Runtime alone, peak RSS
 * for a 150 MB body and /ping latency under load, prints them, and writes `docs/benchmarks.md`.
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import { describeAdapter, probeWebGpuAdapter } from "../src/backends/webgpu-adapter.js";
import { blocks, mnistRows } from "./bodies.js";
import { decodeThroughput, encodeThroughput } from "./codec-throughput.js";
import { peakRssFor, pingUnderLoad, throughputVersusRuntime } from "./end-to-end.js";

const MB = 2 ** 20;
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
    "(784 values, ~80% zeros, the rest multiples of 1/256). Figures vary by about ±15% from run to run.",
);
say();
say("## Codecs, one core, in process (64 KiB chunks; framing + decoding + packing into batches)");
say();
say("| format | decode MB/s | decode records/s | target MB/s | encode MB/s | encode records/s |");
say("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const format of FORMATS) {
  const decoded = decodeThroughput(format, bodies[format], 128 * MB);
  const encoded = encodeThroughput(format, 200_000);
  say(
    `| \`${format}\` | ${fixed(decoded.mbPerSecond)} | ${fixed(decoded.recordsPerSecond)} | ${TARGETS[format] ?? "—"} | ` +
      `${fixed(encoded.mbPerSecond)} | ${fixed(encoded.recordsPerSecond)} |`,
  );
}
say();
say("Encoding writes 10 float32 probabilities per record, each in its shortest round-tripping form.");
say();

say("## End to end over HTTP (bundled 784→32→10 MLP, `sluice serve` as a child process, answer in the input's format)");
say();
const adapter = await probeWebGpuAdapter();
const backends = adapter.available ? ["cpu", "webgpu"] : ["cpu"];
say("| backend | format | body | Sluice records/s | ONNX Runtime alone records/s | Sluice / ORT |");
say("| --- | --- | --- | ---: | ---: | ---: |");
for (const backend of backends) {
  for (const format of ["text/csv", "application/x-recordio-protobuf"]) {
    const versus = await throughputVersusRuntime(format, bodies[format], rows, 40, backend);
    say(
      `| ${backend} | \`${format}\` | ${fixed(versus.bodyMB)} MB, ${versus.records} records | ` +
        `${fixed(versus.sluiceRecordsPerSecond)} | ${fixed(versus.runtimeRecordsPerSecond)} | ` +
        `${fixed(versus.sluiceRecordsPerSecond / versus.runtimeRecordsPerSecond, 2)} |`,
    );
  }
}
say();
if (!adapter.available) say(`WebGPU was not measured: ${adapter.reason}.`);
else if (adapter.info?.architecture === "software") {
  say(
    `WebGPU ran on ${describeAdapter(adapter.info)}: Mesa's software rasteriser on the same CPU, so these rows ` +
      "show that the WebGPU path works end to end, not how fast a GPU is. No GPU machine was available for this run.",
  );
} else say(`WebGPU ran on ${describeAdapter(adapter.info)}.`);
say();
say(
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

const ping = await pingUnderLoad(csv, 3, 34 * MB);
say("## /ping under load");
say();
say(
  `Three 34 MB CSV bodies at once (${fixed(ping.seconds, 1)} s): ${ping.pings} pings, p50 ${fixed(ping.p50, 1)} ms, ` +
    `p99 ${fixed(ping.p99, 1)} ms, max ${fixed(ping.max, 1)} ms.`,
);

writeFileSync(new URL("../../docs/benchmarks.md", import.meta.url), `${lines.join("\n")}\n`);
