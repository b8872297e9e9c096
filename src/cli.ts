#!/usr/bin/env -S node --single-threaded-gc --initial-old-space-size=64
/**
 * The command line: `sluice serve` (what `docker run IMAGE serve` runs), `sluice transform` (a batch
 * transform job on local files, as the platform runs one), `sluice codecs` (what is installed) and
 * `sluice new-codec` (a plugin package to start from).
 * Dispatch only; the work is in `start-server.ts` and `job/transform-command.ts`.
 */
import "./telemetry.js";
import { createCodecRegistry } from "./codec/plugin-loader.js";
import { loadConfig, parseServeFlags } from "./config.js";
import { ConfigError } from "./errors.js";
import { TRANSFORM_USAGE } from "./job/job-options.js";
import { scaffoldCodec } from "./new-codec.js";
import { StreamLogger } from "./stream-logger.js";

const USAGE =
  "usage: sluice serve [--port N] [--model-dir DIR] [--backend cpu|webgpu|auto] | " +
  `${TRANSFORM_USAGE} | sluice codecs | sluice new-codec NAME [DIR]`;

/**
 * Prints the installed codecs (built-in and plugins), one per line: name, directions, media types, API
 * version, which directions carry string tensors, origin and settings.
 */
async function listCodecs(): Promise<number> {
  const config = loadConfig(process.env);
  const registry = await createCodecRegistry({ plugins: config.plugins, env: config.codecEnv });
  for (const { codec, origin, settings } of registry.registered) {
    const directions = [codec.input && "in", codec.output && "out"].filter(Boolean).join("+");
    const text = [codec.input?.textInputs && "in", codec.output?.textOutputs && "out"].filter(Boolean).join("+");
    const configured = Object.entries(settings)
      .map(([key, value]) => `${key}=${value}`)
      .join(" ");
    process.stdout.write(
      `${codec.name}\t${directions}\t${codec.mediaTypes.join(", ")}\tapi ${codec.apiVersion}\t` +
        `strings ${text || "none"}\t${origin}` +
        `${configured ? `\t${configured}` : ""}\n`,
    );
  }
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === "codecs") return listCodecs();
  if (command === "new-codec") {
    const [name, dir] = rest;
    if (!name) throw new ConfigError("usage: sluice new-codec NAME [DIR]");
    for (const file of scaffoldCodec(name, dir ?? `sluice-codec-${name}`)) process.stdout.write(`wrote ${file}\n`);
    return 0;
  }
  if (command === "transform") {
    const { transformCommand } = await import("./job/transform-command.js");
    return transformCommand(rest, { env: process.env, stdout: process.stdout, stderr: process.stderr });
  }
  if (command !== "serve") {
    const reason = command === undefined ? "no command given" : `unknown command ${JSON.stringify(command)}`;
    process.stderr.write(`sluice: ${reason}; ${USAGE}\n`);
    return 2;
  }
  // Listening for SIGTERM before the server's modules load and it starts (about half a second), so that a
  // stop in that time also ends the process with 0, once it has started, rather than with the signal's
  // default (status 143).
  let stopRequested: string | undefined;
  let stop = (signal: string) => {
    stopRequested ??= signal;
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  const config = loadConfig(process.env, parseServeFlags(rest));
  const log = new StreamLogger({ level: config.logLevel, format: config.logFormat });
  const { startServer } = await import("./start-server.js");
  const running = await startServer(config, log);
  running.modelLoaded.catch(() => {
    // Inside a batch job nobody can fix the model at run time: fail fast so the job reports the reason.
    if (config.batchJob) {
      log.error("exiting: the model could not be loaded inside a batch-transform job");
      process.exit(1);
    }
  });
  let stopping = false;
  stop = (signal: string) => {
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
  if (stopRequested) stop(stopRequested);
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
