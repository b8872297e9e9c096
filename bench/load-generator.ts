/**
 * The bench's load: clients that post whole bodies back to back, as the platform drives a container. Up
 * to {@link CLIENTS_PER_THREAD} clients run on the calling thread; more are spread over worker threads
 * (`load-thread.ts`), since one thread's event loop is a ceiling of its own: on 16 cores, one load
 * generator thread was full at ~7.9 M tabular records/s while the server had cores to spare.
 */
import http from "node:http";
import { Worker } from "node:worker_threads";

/** Clients one load-generator thread drives. */
export const CLIENTS_PER_THREAD = 8;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Posts `body` once with a Content-Length, as the platform does, and reads the whole answer. */
export function post(url: string, body: Uint8Array, contentType: string, accept: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}/invocations`,
      {
        method: "POST",
        agent,
        headers: { "content-type": contentType, accept, "content-length": body.byteLength },
      },
      (response) => {
        let bytes = 0;
        response.on("data", (chunk: Buffer) => {
          bytes += chunk.byteLength;
        });
        response.on("end", () =>
          response.statusCode === 200 ? resolve(bytes) : reject(new Error(`status ${response.statusCode}`)),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * `concurrency` clients each post `body` back to back until `deadline` (a `performance.now()` time), as
 * the platform drives a container; `answered` hears of each body with its time, request to last answer
 * byte.
 */
export async function postBackToBack(
  url: string,
  body: Uint8Array,
  concurrency: number,
  deadline: number,
  answered: (milliseconds: number) => void,
  contentType = "text/csv",
  accept = "text/csv",
): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const posted = performance.now();
        await post(url, body, contentType, accept);
        answered(performance.now() - posted);
      }
    }),
  );
}

/** What a load thread is given (`load-thread.ts`). */
export interface LoadThreadData {
  readonly url: string;
  readonly body: Uint8Array;
  readonly clients: number;
  readonly contentType: string;
  readonly accept: string;
}

/** `load.clients` clients posting `load.body` back to back for `milliseconds`; the bodies answered. */
export async function postFor(load: LoadThreadData, milliseconds: number): Promise<number> {
  let bodies = 0;
  await postBackToBack(
    load.url,
    load.body,
    load.clients,
    performance.now() + milliseconds,
    () => {
      bodies++;
    },
    load.contentType,
    load.accept,
  );
  return bodies;
}

/**
 * `concurrency` clients, started and ready to post: on this thread, or spread over worker threads when
 * there are more than {@link CLIENTS_PER_THREAD}. Started before a measurement so that the threads'
 * start-up falls outside it.
 */
export class LoadGenerator {
  private constructor(
    private readonly request: LoadThreadData,
    private readonly threads: readonly Worker[],
  ) {}

  static async start(
    url: string,
    body: Uint8Array,
    concurrency: number,
    contentType: string,
    accept: string,
  ): Promise<LoadGenerator> {
    const request = { url, body, clients: concurrency, contentType, accept };
    const threadCount = Math.ceil(concurrency / CLIENTS_PER_THREAD);
    if (threadCount <= 1) return new LoadGenerator(request, []);
    const threads = Array.from({ length: threadCount }, (_, i) => {
      const clients = Math.floor(concurrency / threadCount) + (i < concurrency % threadCount ? 1 : 0);
      const data: LoadThreadData = { ...request, clients };
      return new Worker(new URL("./load-thread.js", import.meta.url), { workerData: data });
    });
    const generator = new LoadGenerator(request, threads);
    try {
      await Promise.all(threads.map((thread) => nextMessage(thread)));
    } catch (error) {
      await generator.close();
      throw error;
    }
    return generator;
  }

  /** Posts for `seconds`; the bodies answered. */
  async run(seconds: number): Promise<number> {
    if (this.threads.length === 0) return postFor(this.request, seconds * 1000);
    const answered = this.threads.map((thread) => nextMessage(thread));
    for (const thread of this.threads) thread.postMessage(seconds * 1000);
    const counts = await Promise.all(answered);
    return counts.reduce((sum: number, count) => sum + Number(count), 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }
}

/** The next message `thread` posts; rejects if it fails or exits first. */
function nextMessage(thread: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const cleanUp = () => {
      thread.off("message", onMessage);
      thread.off("error", onError);
      thread.off("exit", onExit);
    };
    const onMessage = (message: unknown) => {
      cleanUp();
      resolve(message);
    };
    const onError = (error: Error) => {
      cleanUp();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanUp();
      reject(new Error(`a load thread exited (${code})`));
    };
    thread.on("message", onMessage);
    thread.on("error", onError);
    thread.on("exit", onExit);
  });
}
