/** The check that a client which stops reading an answer stops the server reading its body. */
import assert from "node:assert/strict";
import { lineFeeds, repeatedBody } from "./hanging-body.js";
import { invoke, type TestServer } from "./server.js";

/**
 * Posts `block` (CSV rows) `times` over and reads the answer's first chunk, then stops reading until the
 * server has stopped reading the body too (nothing more let in for 0.5 s; failing after 10 s). Asserts
 * that it did stop, with fewer than `maxLetIn(total)` bytes of the body let in; then reads the rest and
 * asserts that every record was answered, once.
 */
export async function assertBodyWaitsForUnreadAnswer(
  server: TestServer,
  block: Uint8Array,
  times: number,
  maxLetIn: (total: number) => number,
): Promise<void> {
  const body = repeatedBody(block, times);
  const response = await invoke(server, body.stream, { "content-type": "text/csv" });
  assert.equal(response.status, 200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const first = await reader.read();
  let lines = first.value ? lineFeeds(first.value) : 0;
  try {
    let before = -1;
    for (let waited = 0; body.pulled() !== before && waited < 20; waited++) {
      before = body.pulled();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const letIn = body.pulled();
    assert.equal(letIn, before, "reading the body stalls while the answer is not read");
    assert.ok(letIn < maxLetIn(body.total), `read ${letIn} of ${body.total} bytes while the client paused`);
    for (let next = await reader.read(); !next.done; next = await reader.read()) lines += lineFeeds(next.value);
  } finally {
    await reader.cancel().catch(() => {});
  }
  assert.equal(body.pulled(), body.total);
  assert.equal(lines, times * lineFeeds(block), "every record answered, once");
}
