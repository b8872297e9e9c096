/**
 * `sluice transform`, end to end: options → inputs → the service in this process or a container over HTTP
 * → the job → a summary on standard error. Ctrl-C stops it cleanly: bodies in flight are cancelled, no
 * partial `.out` is left under its final name, and the exit status is 130.
 */
import type { Writable } from "node:stream";
import { parseMediaType } from "../codec/media-type.js";
import { createCodecRegistry } from "../codec/plugin-loader.js";
import { loadConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import type { ExecutionParameters } from "../execution-parameters.js";
import { InvocationService } from "../invocation-service.js";
import { StreamLogger } from "../stream-logger.js";
import { DataProcessing } from "./data-processing.js";
import { listInputs } from "./input-files.js";
import { HttpInvoker, InProcessInvoker, InvocationFailure, type Invoker } from "./invoker.js";
import { parseJobOptions, TRANSFORM_USAGE } from "./job-options.js";
import { type InputFailure, type JobSummary, resolveParameters, runTransformJob } from "./transform-job.js";

const MB = 2 ** 20;

/** Inputs whose first placeholder the summary shows. */
const MAX_PLACEHOLDER_LINES = 20;

/** Standard streams and the environment of one run. */
export interface CommandIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: Writable;
  readonly stderr: NodeJS.WriteStream;
}

/** How many of the records answered were in failed inputs, whose outputs are not written, if any. */
function notWritten(summary: JobSummary): string {
  const lost = summary.records - summary.recordsWritten;
  return lost > 0 ? `, ${lost} of them in failed inputs, not written` : "";
}

function summaryLines(summary: JobSummary): string[] {
  const failed = summary.failures.length;
  const rate = summary.records / Math.max(summary.seconds, 0.001);
  const lines = [
    `sluice transform: ${summary.files} input(s): ${summary.filesDone} done, ${failed} failed` +
      `${summary.interrupted ? ", interrupted" : ""}${summary.stopped ? ", stopped" : ""}; ` +
      `${summary.records} records${notWritten(summary)} (${summary.failedRecords} answered with a placeholder); ` +
      `${(summary.bytesIn / MB).toFixed(1)} MB in, ${(summary.bytesOut / MB).toFixed(1)} MB out; ` +
      `${summary.seconds.toFixed(1)} s, ${Math.round(rate)} records/s`,
  ];
  const stages = summary.stageMs;
  if (Object.keys(stages).length > 0) {
    const s = (name: string) => `${((stages[name] ?? 0) / 1000).toFixed(1)} s`;
    lines.push(
      `  time in stages, summed over bodies: decode ${s("decode")}, model ${s("model")} ` +
        `(decoding waited ${s("modelWait")} for it), encode ${s("encode")}`,
    );
  }
  if (summary.stopped) {
    const untouched = summary.files - summary.filesDone - failed;
    lines.push(`  stopped: ${summary.stopped}; ${untouched} input(s) not transformed`);
  }
  const described = (failure: InputFailure) => {
    const where = [
      failure.recordIndex === undefined ? undefined : `record ${failure.recordIndex}`,
      failure.byteOffset === undefined ? undefined : `byte ${failure.byteOffset}`,
    ].filter(Boolean);
    const status = failure.status === undefined ? "" : ` (HTTP ${failure.status})`;
    return `${failure.file}${where.length ? ` (${where.join(", ")})` : ""}: ${failure.code}${status}: ${failure.reason}`;
  };
  for (const failure of summary.failures) lines.push(`  failed: ${described(failure)}`);
  const placeholders = summary.firstFailedRecords;
  for (const first of placeholders.slice(0, MAX_PLACEHOLDER_LINES))
    lines.push(`  first placeholder: ${described(first)}`);
  if (placeholders.length > MAX_PLACEHOLDER_LINES)
    lines.push(`  (placeholders in ${placeholders.length - MAX_PLACEHOLDER_LINES} more inputs)`);
  return lines;
}

/** Runs `sluice transform ARGS`; resolves with the exit status. */
export async function transformCommand(args: readonly string[], io: CommandIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout.write(`usage: ${TRANSFORM_USAGE}\n`);
    return 0;
  }
  const options = parseJobOptions(args);
  // The container sees the job's settings as SAGEMAKER_* variables; so does the service here.
  const env = { ...io.env };
  if (options.batchStrategy) env.SAGEMAKER_BATCH_STRATEGY = options.batchStrategy;
  if (options.maxConcurrent) env.SAGEMAKER_MAX_CONCURRENT_TRANSFORMS = String(options.maxConcurrent);
  if (options.maxPayloadMB !== undefined) env.SAGEMAKER_MAX_PAYLOAD_IN_MB = String(options.maxPayloadMB);
  const config = loadConfig(env, { modelDir: options.modelDir, backend: options.backend });
  const log = new StreamLogger({ level: config.logLevel, format: config.logFormat, fd: 2 });
  const registry = await createCodecRegistry({ plugins: config.plugins, env: config.codecEnv });
  const files = listInputs(
    options.input,
    options.contentType,
    registry,
    options.output,
    options.compressionType === "Gzip",
  );
  for (const type of new Set(files.map((file) => file.contentType))) {
    new DataProcessing(
      options.dataProcessing,
      type,
      (options.accept && parseMediaType(options.accept)?.essence) || type,
    );
  }

  let invoker: Invoker;
  if (options.endpoint) {
    invoker = new HttpInvoker(options.endpoint, options.maxConcurrent ?? 64);
  } else {
    const service = new InvocationService(config, registry, log);
    invoker = new InProcessInvoker(service);
    try {
      await service.load();
    } catch (error) {
      await invoker.close();
      throw error;
    }
  }
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    let suggested: Partial<ExecutionParameters>;
    try {
      await invoker.ready();
      suggested = await invoker.executionParameters();
    } catch (error) {
      throw error instanceof InvocationFailure ? new ConfigError(`--endpoint: ${error.message}`) : error;
    }
    const parameters = resolveParameters(options, { ...suggested });
    log.info("transform job", {
      inputs: files.length,
      split_type: options.splitType,
      batch_strategy: parameters.batchStrategy,
      max_payload_mb: parameters.maxPayloadMB,
      max_concurrent: parameters.maxConcurrent,
      assemble_with: options.assembleWith,
      engine: options.endpoint ?? "in process",
    });
    const summary = await runTransformJob(options, files, invoker, parameters, {
      stdout: io.stdout,
      signal: interrupt.signal,
      log,
      progress: options.output !== "-",
    });
    // The log writes to standard error too, in batches: what it holds goes first.
    log.flush();
    for (const line of summaryLines(summary)) io.stderr.write(`${line}\n`);
    log.info("transform job done", {
      inputs: summary.files,
      done: summary.filesDone,
      failed: summary.failures.length,
      records: summary.records,
      records_written: summary.recordsWritten,
      failed_records: summary.failedRecords || undefined,
      bytes_in: summary.bytesIn,
      bytes_out: summary.bytesOut,
      seconds: Math.round(summary.seconds * 10) / 10,
      interrupted: summary.interrupted || undefined,
      stopped: summary.stopped,
    });
    const [first] = summary.failures;
    if (options.output === "-" && first) {
      // As the HTTP answer would have said it: one JSON line, the last.
      log.flush();
      const { file: _file, status: _status, reason, code, ...where } = first;
      io.stderr.write(`${JSON.stringify({ error: reason, code, ...where })}\n`);
    }
    if (summary.interrupted) return 130;
    return summary.failures.length > 0 ? 1 : 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await invoker.close();
  }
}
