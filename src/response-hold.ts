/**
 * Decides when an invocation's status is committed. The output is held back until the pipeline has
 * finished or `holdBytes` of it have accumulated: within that window a bad record late in the body still
 * gets a proper 400 naming it. Past it the answer streams out with backpressure, and a failure can no
 * longer change the status: the response is aborted so the platform sees a failed invocation (and
 * retries it) rather than a truncated success.
 */

import { ClientClosedRequestError } from "./errors.js";

/** The pipeline ended within the hold: the whole answer is in `chunks`. */
export interface CompleteOutput {
  readonly committed: false;
  readonly chunks: readonly Uint8Array[];
}

/** The hold filled up: send `chunks`, then whatever `rest` yields. */
export interface StreamingOutput {
  readonly committed: true;
  readonly chunks: readonly Uint8Array[];
  readonly rest: AsyncGenerator<Uint8Array>;
}

/** Pulls from `output` until it ends or `holdBytes` are held. Errors before the commit propagate. */
export async function holdOutput(
  output: AsyncGenerator<Uint8Array>,
  holdBytes: number,
): Promise<CompleteOutput | StreamingOutput> {
  const chunks: Uint8Array[] = [];
  let held = 0;
  for (;;) {
    const next = await output.next();
    if (next.done) return { committed: false, chunks };
    chunks.push(next.value);
    held += next.value.byteLength;
    if (held > holdBytes) return { committed: true, chunks, rest: output };
  }
}

/** Callbacks for the end of a streamed answer. */
export interface StreamEnd {
  /** Called once, with the error when the stream failed after the commit. */
  onEnd(error?: unknown): void;
}

/** Turns a committed answer into a byte stream that pulls from the pipeline only as the client reads. */
export function streamOutput(output: StreamingOutput, end: StreamEnd): ReadableStream<Uint8Array> {
  let index = 0;
  let finished = false;
  const finish = (error?: unknown) => {
    if (finished) return;
    finished = true;
    end.onEnd(error);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (index < output.chunks.length) {
          controller.enqueue(output.chunks[index++]);
          return;
        }
        try {
          const next = await output.rest.next();
          if (next.done) {
            controller.close();
            finish();
          } else {
            controller.enqueue(next.value);
          }
        } catch (error) {
          controller.error(error);
          finish(error);
        }
      },
      async cancel() {
        finish(new ClientClosedRequestError());
        await output.rest.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}
