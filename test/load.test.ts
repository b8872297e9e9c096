/**
 * The container under load, run as a child process like in production: memory stays bounded by the
 * batch, not the body, and /ping keeps answering while the heaviest bodies stream through. The bounds
 * asserted are the platform's (a health check fails after 2 s) and the memory budget, not
 * performance targets; the figures themselves are measured by `npm run bench`.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BUNDLED_MODEL_DIR } from "../src/model/model-location.js";
import { wideMlp } from "../src/testing/onnx-model-writer.js";
import { type ChildServer, csvBlock, repeatedBody, startChildServer } from "./support/child-server.js";
import { modelDir } from "./support/models.js";

const MB = 2 ** 20;
/** MNIST-sized rows (784 values) for the bundled model: about 5 KB each. */
const block = csvBlock(200, 784);

async function transform(server: ChildServer, bytes: number): Promise<number> {
  const response = await fetch(`${server.url}/invocations`, {
    method: "POST",
    body: repeatedBody(block, bytes),
    headers: { "content-type": "text/csv", accept: "text/csv" },
    duplex: "half",
    signal: AbortSignal.timeout(120_000),
  } as RequestInit);
  assert.equal(response.status, 200);
  let lines = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    for (const byte of chunk) if (byte === 0x0a) lines++;
  }
  return lines;
}

describe("under load", () => {
  let server: ChildServer;
  before(async () => {
    server = await startChildServer(BUNDLED_MODEL_DIR, { SAGEMAKER_MAX_PAYLOAD_IN_MB: "0" });
  });
  after(() => server.stop());

  it("streams a 150 MB CSV body with peak RSS under 300 MB", async () => {
    const bytes = 150 * MB;
    const lines = await transform(server, bytes);
    const rows = Math.ceil(bytes / block.length) * 200;
    assert.equal(lines, rows);
    const peak = server.peakRss();
    assert.ok(peak < 300 * MB, `peak RSS ${Math.round(peak / MB)} MB`);
  });

  it("answers /ping within 2 s while three 34 MB bodies stream at once", async () => {
    let loading = true;
    const latencies: number[] = [];
    const pings = (async () => {
      while (loading) {
        const started = performance.now();
        const response = await fetch(`${server.url}/ping`, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        assert.equal(response.status, 200);
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    // Rounds of three bodies until enough pings are in: on a fast machine a round streams in ~0.4 s, too
    // short for the pings this test needs to mean anything.
    let rounds = 0;
    do {
      await Promise.all([transform(server, 34 * MB), transform(server, 34 * MB), transform(server, 34 * MB)]);
      rounds++;
    } while (latencies.length <= 20 && rounds < 20);
    loading = false;
    await pings;
    assert.ok(latencies.length > 20, `only ${latencies.length} pings in ${rounds} rounds`);
    const worst = Math.max(...latencies);
    assert.ok(worst < 2000, `slowest /ping took ${Math.round(worst)} ms`);
  });
});

describe("a model with 64 MiB of weights", () => {
  const WIDTH = 1024;
  let server: ChildServer;
  before(async () => {
    const dir = modelDir(wideMlp({ width: WIDTH, layers: 16, classes: 10, seed: 1 }));
    server = await startChildServer(dir, {
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "4",
      SLUICE_CODEC_THREADS: "4",
      SAGEMAKER_MAX_PAYLOAD_IN_MB: "0",
    });
  });
  after(() => server.stop());

  it("holds the weights once, whether one invocation runs or four", async () => {
    const loaded = server.rss();
    const body = csvBlock(64, WIDTH, 3);
    const run = async () => {
      const response = await fetch(`${server.url}/invocations`, {
        method: "POST",
        body: repeatedBody(body, body.length * 4),
        headers: { "content-type": "text/csv" },
        duplex: "half",
        signal: AbortSignal.timeout(120_000),
      } as RequestInit);
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    };
    await run();
    await Promise.all([run(), run(), run(), run()]);
    const grown = server.peakRss() - loaded;
    // One more copy of the weights per concurrent invocation would add 64 MiB for each.
    assert.ok(grown < 64 * MB, `RSS grew by ${Math.round(grown / MB)} MiB with four invocations at once`);
  });
});
