/**
 * Starts a real Sluice server on a free loopback port, with a configuration built from an environment
 * map exactly as the CLI would build it, and captures its log lines.
 */
import http from "node:http";
import { type Config, loadConfig } from "../../src/config.js";
import { type RunningServer, startServer } from "../../src/start-server.js";
import { prettyLine, StreamLogger } from "../../src/stream-logger.js";

/** A server under test. */
export interface TestServer {
  readonly url: string;
  readonly running: RunningServer;
  readonly config: Config;
  /** Log lines rendered `time level message key=value …`, for pattern matching. */
  readonly logs: string[];
  /** The same lines as the JSON objects written. */
  readonly records: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a server for `modelDir` with extra environment variables; waits until the model is loaded. */
export async function startTestServer(
  modelDir: string,
  env: Record<string, string> = {},
  options: { waitForModel?: boolean } = {},
): Promise<TestServer> {
  const config = loadConfig({ ...env }, { port: "0", modelDir });
  const logs: string[] = [];
  const records: Record<string, unknown>[] = [];
  const sink = (line: string) => {
    logs.push(prettyLine(line));
    records.push(JSON.parse(line) as Record<string, unknown>);
  };
  const running = await startServer(config, new StreamLogger({ sink, format: "json", level: "debug" }));
  if (options.waitForModel !== false) await running.modelLoaded;
  return {
    url: `http://127.0.0.1:${running.port}`,
    running,
    config,
    logs,
    records,
    close: () => running.close(),
  };
}

/** POSTs a body to /invocations. */
export function invoke(
  server: TestServer,
  body: string | Uint8Array | ReadableStream<Uint8Array>,
  headers: Record<string, string>,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${server.url}/invocations`, {
    method: "POST",
    body,
    headers,
    signal: AbortSignal.timeout(60_000),
    ...init,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
}

/** An answer read whole through node:http. */
export interface NodeHttpAnswer {
  readonly status: number;
  /** The headers as sent, framing headers (`content-length`, `transfer-encoding`) included. */
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/** One exchange for {@link requestOverNodeHttp}. */
export interface NodeHttpRequest {
  /** `POST` unless said. */
  readonly method?: string;
  /** `/invocations` unless said. */
  readonly route?: string;
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  /**
   * Sent on a connection of its own, closed after the answer (`Connection: close`), rather than on one of
   * Node's pooled connections: the server accepts each such request anew.
   */
  readonly ownConnection?: boolean;
}

/**
 * Sends one request through node:http, which (unlike fetch) shows how the answer was framed, and reads the
 * whole answer; rejects when it stops short or nothing arrives for 30 s.
 */
export function requestOverNodeHttp(
  url: string,
  { method = "POST", route = "/invocations", body, headers = {}, ownConnection = false }: NodeHttpRequest,
): Promise<NodeHttpAnswer> {
  return new Promise((resolve, reject) => {
    const options: http.RequestOptions = ownConnection
      ? { method, headers: { connection: "close", ...headers }, agent: false }
      : { method, headers };
    const request = http.request(`${url}${route}`, options, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString(),
        }),
      );
      response.on("error", reject);
    });
    request.on("error", reject);
    request.setTimeout(30_000, () => request.destroy(new Error("no answer within 30 s")));
    request.end(body);
  });
}

/** The value of one series (`name{labels}`) in Prometheus text from /metrics, or undefined when absent. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
