/**
 * End-to-end figures over real HTTP against `sluice serve` running as a child process: records/s for the
 * bundled MLP compared with ONNX Runtime alone on the same rows, peak RSS for a 150 MB body, and /ping
 * latency while three 34 MB bodies stream at once (five times over), measured from another process.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import ort from "onnxruntime-node";
import { BUNDLED_MODEL_DIR } from "../src/model/model-location.js";
import { type ChildServer, startChildServer } from "../test/support/child-server.js";

const MB = 2 ** 20;
const PINGER = new URL("pinger.js", import.meta.url).pathname;

/**
 * Streams `block` repeated to `bytes` through /invocations with node:http (chunked, honouring
 * backpressure; leaner than fetch, so the client does not limit the figure) and returns the seconds
 * until the last byte of the answer.
 */
export function transform(
  server: ChildServer,
  block: Uint8Array,
  bytes: number,
  contentType = "text/csv",
): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${server.url}/invocations`,
      { method: "POST", headers: { "content-type": contentType, accept: contentType } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => {
          if (response.statusCode !== 200) chunks.push(chunk);
        });
        response.on("end", () => {
          if (response.statusCode === 200) resolve((performance.now() - started) / 1000);
          else reject(new Error(`status ${response.statusCode}: ${Buffer.concat(chunks).toString()}`));
        });
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    let sent = 0;
    const send = () => {
      while (sent < bytes) {
        sent += block.length;
        if (!request.write(block)) {
          request.once("drain", send);
          return;
        }
      }
      request.end();
    };
    send();
  });
}

/**
 * Records/s through Sluice over HTTP on `backend`, and through ONNX Runtime alone (same execution
 * provider) on the same rows in 512-row runs. Sluice first streams the same body, unmeasured, until
 * `warmUpSeconds` have passed: a fresh server's first body is ~35% slower while V8 compiles the codec
 * thread's hot paths (successive bodies went 65, 89, 103, 99 k records/s), and a job runs warm.
 */
export async function throughputVersusRuntime(
  contentType: string,
  block: Uint8Array,
  rows: number[][],
  repeats: number,
  warmUpSeconds: number,
  backend = "cpu",
) {
  const rowsPerBlock = rows.length;
  const server = await startChildServer(BUNDLED_MODEL_DIR, {
    SAGEMAKER_MAX_PAYLOAD_IN_MB: "0",
    SLUICE_BACKEND: backend,
  });
  let sluiceSeconds: number;
  try {
    for (let warm = 0; warm < warmUpSeconds; )
      warm += await transform(server, block, block.length * repeats, contentType);
    sluiceSeconds = await transform(server, block, block.length * repeats, contentType);
  } finally {
    await server.stop();
  }
  const records = rowsPerBlock * repeats;

  const session = await ort.InferenceSession.create(path.join(BUNDLED_MODEL_DIR, "model.onnx"), {
    executionProviders: [backend],
  });
  const batch = 512;
  const tensors: ort.Tensor[] = [];
  for (let start = 0; start < rows.length; start += batch) {
    const slice = rows.slice(start, start + batch);
    tensors.push(new ort.Tensor("float32", Float32Array.from(slice.flat()), [slice.length, slice[0].length]));
  }
  await session.run({ features: tensors[0] });
  const started = performance.now();
  let done = 0;
  while (done < records) {
    for (const tensor of tensors) {
      await session.run({ features: tensor });
      done += tensor.dims[0];
      if (done >= records) break;
    }
  }
  const runtimeSeconds = (performance.now() - started) / 1000;
  await session.release();
  return {
    records,
    sluiceRecordsPerSecond: records / sluiceSeconds,
    runtimeRecordsPerSecond: done / runtimeSeconds,
    bodyMB: (block.length * repeats) / MB,
  };
}

/** Peak RSS of a fresh server after streaming a body of `bytes`. */
export async function peakRssFor(block: Uint8Array, bytes: number) {
  const server = await startChildServer(BUNDLED_MODEL_DIR, { SAGEMAKER_MAX_PAYLOAD_IN_MB: "0" });
  try {
    const idle = server.peakRss();
    const seconds = await transform(server, block, bytes);
    return { idleMB: idle / MB, peakMB: server.peakRss() / MB, seconds, bodyMB: bytes / MB };
  } finally {
    await server.stop();
  }
}

/**
 * /ping latencies (ms), from a pinger process of its own (`pinger.ts`), while `bodies` bodies of `bytes`
 * each stream at once, `rounds` times over.
 */
export async function pingUnderLoad(
  block: Uint8Array,
  bodies: number,
  bytes: number,
  rounds: number,
  env: Record<string, string> = {},
) {
  const server = await startChildServer(BUNDLED_MODEL_DIR, { SAGEMAKER_MAX_PAYLOAD_IN_MB: "0", ...env });
  const pinger = spawn(process.execPath, [PINGER, server.url], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    let output = "";
    pinger.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => pinger.on("exit", resolve));
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      await Promise.all(Array.from({ length: bodies }, () => transform(server, block, bytes)));
    }
    const seconds = (performance.now() - started) / 1000;
    pinger.stdin.end();
    const code = await exited;
    if (code !== 0) throw new Error(`the pinger exited with ${code}`);
    const latencies = (JSON.parse(output) as number[]).sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return {
      pings: latencies.length,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: latencies[latencies.length - 1],
      seconds,
    };
  } finally {
    pinger.kill();
    await server.stop();
  }
}
