import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { CLIENTS_PER_THREAD, LoadGenerator } from "../bench/load-generator.js";

/** A server that answers every POST /invocations with `status` after reading its body, counting them. */
async function countingServer(
  status: number,
): Promise<{ url: string; answered: () => number; close(): Promise<void> }> {
  let answered = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      answered++;
      response.writeHead(status, { "content-type": "text/csv" }).end("0\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answered: () => answered,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const body = new TextEncoder().encode("1,2,3\n");

describe("the bench's load generator", () => {
  for (const clients of [2, CLIENTS_PER_THREAD + 1]) {
    it(`counts every body answered, with ${clients} clients (${clients > CLIENTS_PER_THREAD ? "worker threads" : "one thread"})`, async () => {
      const server = await countingServer(200);
      const load = await LoadGenerator.start(server.url, body, clients, "text/csv", "text/csv");
      try {
        const bodies = await load.run(0.3);
        assert.ok(bodies >= clients, `${bodies} bodies`);
        assert.equal(bodies, server.answered());
      } finally {
        await load.close();
        await server.close();
      }
    });
  }

  it("fails the run when a worker thread's body is refused", async () => {
    const server = await countingServer(503);
    const load = await LoadGenerator.start(server.url, body, CLIENTS_PER_THREAD + 1, "text/csv", "text/csv");
    try {
      await assert.rejects(load.run(0.3), /status 503/);
    } finally {
      await load.close();
      await server.close();
    }
  });
});
