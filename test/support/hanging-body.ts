/** Request bodies that stall, for tests of slow and disconnecting clients. */

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
