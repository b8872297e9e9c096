/** Request bodies that stall or are pulled slowly, for tests of slow, disconnecting and backpressured clients. */

const encoder = new TextEncoder();

/** A request body that sends `chunks` and then stays open until `release` is called. */
export function hangingBody(chunks: string[]) {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let index = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index < chunks.length) controller.enqueue(encoder.encode(chunks[index++]));
      else {
        await released;
        controller.close();
      }
    },
  });
  return { stream, release };
}

/** Waits until `condition()` holds, failing after `ms` with a message naming `what`. */
export async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A request body of `block` sent `times` over, each block made only when the client pulls it (as the
 * socket takes bytes): `pulled()` says how much of it the server has let in so far.
 */
export function repeatedBody(block: Uint8Array, times: number) {
  const total = block.length * times;
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) controller.close();
      else {
        controller.enqueue(block);
        pulled += block.length;
      }
    },
  });
  return { stream, total, pulled: () => pulled };
}

/** The line feeds in `chunk`: an answer's records, counted as it is read. */
export function lineFeeds(chunk: Uint8Array): number {
  let count = 0;
  for (const byte of chunk) if (byte === 0x0a) count++;
  return count;
}
