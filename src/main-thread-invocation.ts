/**
 * Small invocations, run on the main thread. Handing a body to a codec thread and its answer back costs
 * more than framing, decoding and encoding a few kilobytes: wake-ups and messages between threads, on
 * both sides. A one-row CSV body cost 0.90–1.08 ms of CPU through a codec thread and 0.45–0.51 ms here,
 * the main thread's own share lower too (0.30–0.34 ms against 0.38–0.46). So the service runs here a body
 * that is declared small, is not compressed (a small compressed body may expand to anything), and is read
 * and written by built-in codecs (a plugin's code stays on codec threads, where a crash or an endless loop
 * is contained). The body is read whole, then run through the same pipeline. Its batches run on the
 * backend the service gives: a small, fast model's own session on this thread (a run of at most about a
 * millisecond; see `backends/main-thread-session.ts`), else the inference thread, so that the event loop
 * never waits long for the model.
 */
import { finished, Readable } from "node:stream";
import { BodyIdleTimeoutError, ClientClosedRequestError, SluiceError } from "./errors.js";
import type { Logger } from "./log.js";
import { type PipelineOptions, PipelineStats, runPipeline } from "./pipeline.js";

/** An invocation running on the main thread: its answer, and its counters as it goes. */
export interface MainThreadInvocation {
  readonly output: AsyncGenerator<Uint8Array>;
  readonly stats: PipelineStats;
}

/**
 * Reads `body` whole (a `408` if it stalls for `bodyIdleTimeoutMs`, a `499` if it breaks off), then runs
 * it through the pipeline. Nothing is read until the answer is first pulled.
 */
export function runOnMainThread(
  body: AsyncIterable<Uint8Array>,
  options: PipelineOptions,
  bodyIdleTimeoutMs: number,
  log: Logger,
): MainThreadInvocation {
  const stats = new PipelineStats();
  return { stats, output: answer(body, options, bodyIdleTimeoutMs, stats, log) };
}

async function* answer(
  body: AsyncIterable<Uint8Array>,
  options: PipelineOptions,
  bodyIdleTimeoutMs: number,
  stats: PipelineStats,
  log: Logger,
): AsyncGenerator<Uint8Array> {
  try {
    const whole =
      body instanceof Readable
        ? await readStream(body, bodyIdleTimeoutMs)
        : await readIterable(body, bodyIdleTimeoutMs);
    yield* runPipeline([whole], options, stats);
  } catch (error) {
    if (!(error instanceof SluiceError) && !options.signal?.aborted) {
      const failure = error instanceof Error ? error : new Error(String(error));
      log.error("invocation failed unexpectedly", { reason: failure.message, stack: failure.stack });
    }
    throw error;
  }
}

/** A body pushed by Node (an HTTP request): collected from its `data` events, the cheapest way to read it. */
function readStream(stream: Readable, idleTimeoutMs: number): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const idle = setTimeout(() => {
      stop();
      // The rest is left unread, for the refusal's drain (request-drain.ts) to deal with.
      stream.pause();
      reject(new BodyIdleTimeoutError(idleTimeoutMs / 1000));
    }, idleTimeoutMs);
    const onData = (chunk: Uint8Array) => {
      idle.refresh();
      chunks.push(chunk);
    };
    const stopWatching = finished(stream, { writable: false }, (error) => {
      stop();
      if (error) reject(new ClientClosedRequestError());
      else resolve(joined(chunks));
    });
    function stop(): void {
      clearTimeout(idle);
      stream.off("data", onData);
      stopWatching();
    }
    stream.on("data", onData);
  });
}

/** Any other body (a transform job's mini-batch, a web stream): pulled chunk by chunk. */
async function readIterable(source: AsyncIterable<Uint8Array>, idleTimeoutMs: number): Promise<Uint8Array> {
  const body = source[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BodyIdleTimeoutError(idleTimeoutMs / 1000)), idleTimeoutMs);
  });
  stalled.catch(() => {});
  try {
    for (;;) {
      timer?.refresh();
      let read: IteratorResult<Uint8Array>;
      try {
        read = await Promise.race([body.next(), stalled]);
      } catch (error) {
        if (error instanceof BodyIdleTimeoutError) {
          body.return?.().catch(() => {});
          throw error;
        }
        throw new ClientClosedRequestError();
      }
      if (read.done) return joined(chunks);
      chunks.push(read.value);
    }
  } finally {
    clearTimeout(timer);
  }
}

function joined(chunks: Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}
