#!/usr/bin/env node
/**
 * The command line: `sluice serve [--port N] [--model-dir DIR] [--backend cpu|webgpu|auto]`, as run by
 * `docker run IMAGE serve`. Argument parsing only; the work is in `serve.ts`.
 */
import { loadConfig, parseServeFlags } from "./config.js";
import { ConfigError } from "./errors.js";
import { Logger } from "./log.js";
import { startServer } from "./serve.js";

const USAGE = "usage: sluice serve [--port N] [--model-dir DIR] [--backend cpu|webgpu|auto]";

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command !== "serve") {
    const reason = command === undefined ? "no command given" : `unknown command ${JSON.stringify(command)}`;
    process.stderr.write(`sluice: ${reason}; ${USAGE}\n`);
    return 2;
  }
  const log = new Logger();
  const config = loadConfig(process.env, parseServeFlags(rest));
  const running = await startServer(config, log);
  running.modelLoaded.catch(() => {
    // Inside a batch job nobody can fix the model at run time: fail fast so the job reports the reason.
    if (config.batchJob) {
      log.error("exiting: the model could not be loaded inside a batch-transform job");
      process.exit(1);
    }
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping: finishing in-flight requests", { signal });
    running.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (error: Error) => {
        log.error("error while stopping", { reason: error.message });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
    process.stderr.write(`sluice: ${message}\n`);
    process.exitCode = 1;
  },
);
