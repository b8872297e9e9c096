/**
 * Where a transform job sends its bodies: the service in this process (the same threads, pipeline and
 * model as `sluice serve`, without HTTP), or a running container over HTTP, asked first for its
 * `/execution-parameters` as the platform asks.
 */
import http from "node:http";
import type { ExecutionParameters } from "../execution-parameters.js";
import type { InvocationService } from "../invocation-service.js";
import type { RecordFailure } from "../pipeline.js";

/** The media types of one invocation. */
export interface BodyTypes {
  readonly contentType: string;
  readonly accept: string | undefined;
}

/** One answer: its bytes as they come, and the stage timings when the service is in this process. */
export interface Answer {
  /** The answer's media type. */
  readonly contentType: string;
  readonly chunks: AsyncIterable<Uint8Array>;
  /** What the service counted, once the answer has been read (in-process only). */
  stats(): AnswerStats | undefined;
}

/** Counters of one answered invocation. */
export interface AnswerStats {
  readonly records: number;
  readonly failedRecords: number;
  /** The first record answered with a placeholder, if any (its index counted in the body). */
  readonly firstFailure?: RecordFailure;
  readonly stageMs: Readonly<Record<string, number>>;
}

/** A failed invocation, with what the server said. */
export class InvocationFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }

  /** Whether the platform would retry it (a server error or a broken connection, not a refusal). */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 0;
  }

  /**
   * Seconds to wait when the server was busy (503 with `Retry-After`) rather than failing: a body to
   * send again then, not a failure. Undefined for any other answer.
   */
  get busyFor(): number | undefined {
    if (this.status !== 503) return undefined;
    const seconds = this.details.retryAfterSeconds;
    return typeof seconds === "number" ? seconds : undefined;
  }
}

/** Errors of a connection that was never made: nothing listens there, or the name leads nowhere. */
const UNREACHABLE = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/** The model server cannot be reached at all (`code` `ENDPOINT_UNREACHABLE`); retried like a broken connection. */
export class EndpointUnreachable extends InvocationFailure {
  constructor(endpoint: string, cause: Error) {
    super(0, "ENDPOINT_UNREACHABLE", `cannot reach ${endpoint}: ${cause.message}`);
  }
}

/** The `code` of an error body (`{"error": …, "code": …}`), when it is one. */
function errorCode(text: string): unknown {
  try {
    return (JSON.parse(text) as { code?: unknown }).code;
  } catch {
    return undefined;
  }
}

/** The failure for a request that failed before an answer: unreachable, or a broken connection. */
function connectionFailure(endpoint: string, error: Error): InvocationFailure {
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && UNREACHABLE.has(code)
    ? new EndpointUnreachable(endpoint, error)
    : new InvocationFailure(0, "CONNECTION_FAILED", error.message);
}

/** Sends bodies to a model. */
export interface Invoker {
  /** What the model server suggests for the job's unset parameters (nothing, when it has no suggestion). */
  executionParameters(): Promise<Partial<ExecutionParameters>>;
  /** Resolves once the model server answers `/ping` with 200, as the platform waits before sending bodies. */
  ready(): Promise<void>;
  /**
   * Sends one body: streamed as it is read, or whole, in pieces sent one after another. Rejects with
   * `InvocationFailure` when it is not answered with 200.
   */
  invoke(body: InvocationBody, types: BodyTypes, signal: AbortSignal): Promise<Answer>;
  close(): Promise<void>;
}

/** A body to send: streamed as it is read, or whole, in pieces (a mini-batch's). */
export type InvocationBody = AsyncIterable<Uint8Array> | readonly Uint8Array[];

const isWhole = (body: InvocationBody): body is readonly Uint8Array[] => Array.isArray(body);

/** The length of a whole body. */
function lengthOf(parts: readonly Uint8Array[]): number {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  return length;
}

async function* inTurn(parts: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* parts;
}

/** The service in this process. */
export class InProcessInvoker implements Invoker {
  constructor(private readonly service: InvocationService) {}

  async executionParameters(): Promise<ExecutionParameters> {
    return this.service.executionParameters();
  }

  /** The service here has loaded its model before the job starts. */
  async ready(): Promise<void> {}

  async invoke(body: InvocationBody, types: BodyTypes, signal: AbortSignal): Promise<Answer> {
    let invocation: Awaited<ReturnType<InvocationService["invoke"]>>;
    try {
      invocation = await this.service.invoke({
        body: isWhole(body) ? inTurn(body) : body,
        contentType: types.contentType,
        accept: types.accept,
        contentLength: isWhole(body) ? lengthOf(body) : undefined,
        signal,
      });
    } catch (error) {
      throw failureOf(error);
    }
    const current = invocation;
    let finished = false;
    return {
      contentType: current.contentType,
      chunks: (async function* () {
        try {
          yield* current.output;
          finished = true;
        } catch (error) {
          throw failureOf(error);
        } finally {
          current.release();
        }
      })(),
      stats: () => (finished ? current.stats : undefined),
    };
  }

  close(): Promise<void> {
    return this.service.close();
  }
}

function failureOf(error: unknown): InvocationFailure {
  if (error instanceof InvocationFailure) return error;
  const known = error as { status?: number; code?: string; message?: string; details?: () => Record<string, unknown> };
  return new InvocationFailure(
    typeof known.status === "number" ? known.status : 500,
    known.code ?? "INTERNAL",
    known.message ?? String(error),
    typeof known.details === "function" ? known.details() : {},
  );
}

/** A container listening at `endpoint` (e.g. `http://localhost:8080`). */
export class HttpInvoker implements Invoker {
  readonly #agent: http.Agent;

  constructor(
    private readonly endpoint: string,
    concurrency: number,
  ) {
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, concurrency) });
  }

  /** GETs `route`; a request that gets no answer fails as {@link connectionFailure} says. */
  async #get(route: string): Promise<Response> {
    try {
      return await fetch(new URL(route, this.endpoint));
    } catch (error) {
      // fetch's own error says only "fetch failed"; the reason is its cause.
      const cause = (error as { cause?: unknown }).cause;
      throw connectionFailure(this.endpoint, cause instanceof Error ? cause : (error as Error));
    }
  }

  /**
   * Polls `/ping` until it answers 200, for at most `timeoutMs` (the model may still be loading). A
   * model that failed to load, or a server not there at all, is an error at once.
   */
  async ready(timeoutMs = 10 * 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.#get("/ping");
      const text = await response.text();
      if (response.ok) return;
      if (errorCode(text) === "MODEL_LOAD_FAILED" || Date.now() > deadline) {
        throw new InvocationFailure(
          response.status,
          "NOT_READY",
          `${this.endpoint}/ping answered ${response.status}: ${text.slice(0, 500)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async executionParameters(): Promise<Partial<ExecutionParameters>> {
    const response = await this.#get("/execution-parameters");
    // The route is optional: without an answer the platform applies its defaults, and so does the job.
    if (!response.ok) {
      await response.body?.cancel();
      return {};
    }
    return (await response.json()) as ExecutionParameters;
  }

  invoke(body: InvocationBody, types: BodyTypes, signal: AbortSignal): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { "content-type": types.contentType };
      if (types.accept) headers.accept = types.accept;
      if (isWhole(body)) headers["content-length"] = lengthOf(body);
      const request = http.request(
        new URL("/invocations", this.endpoint),
        { method: "POST", headers, agent: this.#agent, signal },
        (response) => {
          if (response.statusCode === 200) {
            const contentType = String(response.headers["content-type"] ?? "")
              .split(";")[0]
              .trim()
              .toLowerCase();
            resolve({ contentType, chunks: response, stats: () => undefined });
            return;
          }
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            if (text.length < 65536) text += chunk;
          });
          response.on("end", () => {
            let parsed: { error?: string; code?: string } & Record<string, unknown> = {};
            try {
              parsed = JSON.parse(text);
            } catch {
              // Not Sluice, or not JSON: the text is the reason.
            }
            const { error, code, ...details } = parsed;
            const retryAfter = Number(response.headers["retry-after"]);
            if (Number.isFinite(retryAfter)) details.retryAfterSeconds = retryAfter;
            reject(
              new InvocationFailure(
                response.statusCode ?? 0,
                code ?? "HTTP_ERROR",
                error ?? text.slice(0, 500),
                details,
              ),
            );
          });
          response.on("error", (error) => reject(new InvocationFailure(0, "CONNECTION_FAILED", error.message)));
        },
      );
      request.on("error", (error) => reject(connectionFailure(this.endpoint, error)));
      if (isWhole(body)) {
        // Corked, the pieces leave in as few writes as the socket takes.
        request.cork();
        for (const part of body) request.write(part);
        request.end();
        return;
      }
      (async () => {
        for await (const chunk of body) {
          if (!request.write(chunk)) await new Promise((done) => request.once("drain", done));
        }
        request.end();
      })().catch((error: Error) => request.destroy(error));
    });
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }
}
