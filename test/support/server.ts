/**
 * Starts a real Sluice server on a free loopback port, with a configuration built from an environment
 * map exactly as the CLI would build it, and captures its log lines.
 */
import { type Config, loadConfig } from "../../src/config.js";
import { Logger, prettyLine } from "../../src/log.js";
import { type RunningServer, startServer } from "../../src/start-server.js";

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
  const running = await startServer(config, new Logger({ sink, format: "json", level: "debug" }));
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
