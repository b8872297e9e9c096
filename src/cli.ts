#!/usr/bin/env node
/**
 * The command line: `sluice serve` (what `docker run IMAGE serve` runs), `sluice transform` (one
 * invocation on a file, no HTTP) and `sluice codecs` (what is installed). Argument parsing only; the work
 * is in `serve.ts` and `transform.ts`.
 */
import "./telemetry.js";
import { createCodecRegistry } from "./codec/plugin-loader.js";
import { loadConfig, parseServeFlags, parseTransformArgs } from "./config.js";
import { ConfigError, SluiceError } from "./errors.js";
import { Logger } from "./log.js";
import { startServer } from "./serve.js";
import { runTransform } from "./transform.js";

const USAGE =
  "usage: sluice serve [--port N] [--model-dir DIR] [--backend cpu|webgpu|auto] | " +
  "sluice transform --content-type TYPE [--accept TYPE] [--model-dir DIR] [--backend B] [FILE] | sluice codecs";

/** Prints the installed codecs (built-in and plugins), one per line: name, media types, directions. */
async function listCodecs(): Promise<number> {
  const config = loadConfig(process.env);
  const registry = await createCodecRegistry(config.plugins);
  for (const codec of registry.codecs) {
    const directions = [codec.input && "in", codec.output && "out"].filter(Boolean).join("+");
    process.stdout.write(`${codec.name}\t${directions}\t${codec.mediaTypes.join(", ")}\n`);
  }
  return 0;
}

/** Runs one transform; a failure is one JSON line on standard error (as the HTTP body would be) and exit 1. */
async function transform(args: readonly string[]): Promise<number> {
  const parsed = parseTransformArgs(args);
  const config = loadConfig(process.env, parsed.flags);
  try {
    await runTransform(
      config,
      parsed,
      process.stdout,
      new Logger({ level: config.logLevel, format: config.logFormat, fd: 2 }),
    );
    return 0;
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    process.stderr.write(`${JSON.stringify({ error: error.message, code: error.code, ...error.details() })}\n`);
    return 1;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === "codecs") return listCodecs();
  if (command === "transform") return transform(rest);
  if (command !== "serve") {
    const reason = command === undefined ? "no command given" : `unknown command ${JSON.stringify(command)}`;
    process.stderr.write(`sluice: ${reason}; ${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(process.env, parseServeFlags(rest));
  const log = new Logger({ level: config.logLevel, format: config.logFormat });
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
