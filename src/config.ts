/**
 * Configuration: environment variables and command-line flags, validated once at start-up into one
 * typed `Config`. A malformed value is a `ConfigError` naming the variable and the value, never a
 * silent default.
 */
import { parseArgs } from "node:util";
import type { BackendChoice } from "./backends/select-backend.js";
import { parseMediaType } from "./codec/media-type.js";
import { ConfigError } from "./errors.js";
import type { LogFormat, LogLevel } from "./log.js";
import type { DimensionSizes } from "./model/model-config.js";
import type { RecordErrorPolicy } from "./pipeline.js";
import { MAX_MODEL_SESSIONS } from "./threads/model-sessions.js";

/**
 * Bodies up to this long run on the main thread by default: handing one to a codec thread and its answer
 * back costs more than decoding and encoding it (one 32-feature CSV row: half the CPU per request).
 */
export const DEFAULT_SMALL_BODY_BYTES = 16 * 1024;

/**
 * Bytes of a body that one codec thread takes before the rest may go, cut at a record's end, to another
 * that is idle (`SLUICE_PART_BYTES`).
 */
export const DEFAULT_PART_BYTES = 2 * 1024 * 1024;

/**
 * The most codec threads a server starts, set or by default (one per core). Each holds ~14 MB at rest and
 * takes its turn on the cores: past the largest instances' 192 vCPUs more only cost memory and start-up
 * time (999 took 190 s to start on 2 cores, at 14 GB).
 */
export const MAX_CODEC_THREADS = 256;

/** The codec threads a server starts unless `SLUICE_CODEC_THREADS` says: one per core, up to the most. */
export function defaultCodecThreads(cpus: number): number {
  return Math.min(cpus, MAX_CODEC_THREADS);
}

/**
 * Codec threads from which they accept connections themselves unless `SLUICE_ACCEPT` says otherwise. The
 * main thread, receiving every body, costs about a fifth of a record's CPU (tabular rows 0.16 of 0.85 CPU
 * s per million, MNIST rows 2.5 of 11.9, on 2 cores): from about six cores the other threads could serve
 * more than one thread can receive, and on 16 cores it was the limit at 95% busy (README, _On 16
 * cores_). Below, the main thread's hop costs less than serving connections on every thread does.
 */
export const EVERY_THREAD_FROM_CODEC_THREADS = 8;

/** Which threads accept connections: as `SLUICE_ACCEPT` says, else by how many codec threads there are. */
export function acceptingThreads(config: Pick<Config, "accept">, codecThreads: number): AcceptingThreads {
  return config.accept ?? (codecThreads >= EVERY_THREAD_FROM_CODEC_THREADS ? "every-thread" : "main");
}

/** How the platform packs records into requests. */
export type BatchStrategy = "SINGLE_RECORD" | "MULTI_RECORD";

/** Which threads accept connections (`SLUICE_ACCEPT`). */
export type AcceptingThreads = "main" | "every-thread";

/** The validated configuration of a `serve` process. */
export interface Config {
  readonly port: number;
  /** Directory given by flag or `SLUICE_MODEL_DIR`; `undefined` means the platform default (`/opt/ml/model`). */
  readonly modelDir: string | undefined;
  /** `SAGEMAKER_BATCH=true`: running inside a batch-transform job. */
  readonly batchJob: boolean;
  /** `SAGEMAKER_MAX_PAYLOAD_IN_MB` in bytes; `undefined` when unlimited (0) or not set. */
  readonly maxPayloadBytes: number | undefined;
  /** `SAGEMAKER_MAX_PAYLOAD_IN_MB` as given, for the log and /execution-parameters. */
  readonly maxPayloadInMB: number | undefined;
  readonly batchStrategy: BatchStrategy | undefined;
  /** `SAGEMAKER_MAX_CONCURRENT_TRANSFORMS`: invocations allowed to run at once. */
  readonly maxConcurrentTransforms: number | undefined;
  /** `SLUICE_MAX_QUEUED_INVOCATIONS`: invocations that may wait for a slot before 503 + Retry-After. */
  readonly maxQueuedInvocations: number | undefined;
  /** `SLUICE_BATCH_ROWS`: records per batch; `undefined` lets the backend choose. */
  readonly batchRows: number | undefined;
  /**
   * `SLUICE_DIMENSIONS` (`sequence=128,height=224`): sizes for the model's named dynamic dimensions,
   * before `sluice.json`'s `dimensions`.
   */
  readonly dimensions: DimensionSizes | undefined;
  /** `SLUICE_RESPONSE_HOLD_MB` in bytes: output kept back before the status is committed. */
  readonly responseHoldBytes: number;
  readonly backend: BackendChoice;
  readonly recordErrorPolicy: RecordErrorPolicy;
  /** `SLUICE_PLUGINS`: module specifiers of codec plugins to load. */
  readonly plugins: readonly string[];
  /** The `SLUICE_CODEC_<NAME>_<KEY>` variables: codec settings, checked against what codecs declare. */
  readonly codecEnv: Readonly<Record<string, string>>;
  /** `SLUICE_EXECUTION_PARAMETERS_SPELLING`: how /execution-parameters spells BatchStrategy. */
  readonly batchStrategySpelling: "platform" | "api";
  /** `SLUICE_LOG_LEVEL`: the least severe level logged. */
  readonly logLevel: LogLevel;
  /** `SLUICE_LOG_FORMAT`: `json`, or `pretty`; `undefined` chooses by whether the output is a terminal. */
  readonly logFormat: LogFormat | undefined;
  /** `SLUICE_METRICS`: whether `GET /metrics` serves Prometheus metrics. */
  readonly metrics: boolean;
  /** `SLUICE_BODY_IDLE_TIMEOUT_S`: an invocation whose body stalls this long fails (408) and frees its slot. */
  readonly bodyIdleTimeoutSeconds: number;
  /** `SLUICE_MAX_DECOMPRESSION_RATIO`: how many times its size a compressed body may expand. */
  readonly maxDecompressionRatio: number;
  /** `SLUICE_CODEC_THREADS`: threads that frame, decode and encode; `undefined` means one per core. */
  readonly codecThreads: number | undefined;
  /**
   * `SLUICE_INFERENCE_THREADS`: ONNX Runtime's intra-op threads; `undefined` means one per core, or one
   * for a model that a timed batch shows no faster on them, or faster as sessions side by side.
   */
  readonly inferenceThreads: number | undefined;
  /**
   * `SLUICE_MODEL_SESSIONS`: sessions of the model, each run by an inference thread of its own;
   * `undefined` means one, or more for a small model on one intra-op thread (see `model-sessions.ts`).
   */
  readonly modelSessions: number | undefined;
  /**
   * `SLUICE_SMALL_BODY_BYTES`: an uncompressed body declared at most this long, with built-in codecs, runs on
   * the main thread rather than a codec thread; 0 sends every body to a codec thread.
   */
  readonly smallBodyBytes: number;
  /**
   * `SLUICE_PART_BYTES`: while codec threads are idle, a body is cut at record ends into parts of about
   * this many bytes, each framed, decoded and encoded on a thread of its own; 0 never cuts one.
   */
  readonly partBytes: number;
  /**
   * `SLUICE_ACCEPT`: which threads accept connections. `main`: the main thread takes every request and
   * hands each body to a codec thread; `every-thread`: the codec threads accept connections too and serve
   * them end to end, so no one thread receives every body. Unset, it follows the codec threads' count
   * ({@link acceptingThreads}).
   */
  readonly accept: AcceptingThreads | undefined;
  /**
   * `SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`: the answers' media type for a request without `Accept` (or
   * `*∕*`), as SageMaker's built-in algorithm containers read it; before `sluice.json`'s `accept`.
   */
  readonly defaultAccept: string | undefined;
  /** Where each setting that was given came from, by variable name (absent: the default applies). */
  readonly origins: Readonly<Record<string, "flag" | "environment">>;
}

/** Where a setting's value came from, for the start-up log. */
export type SettingOrigin = "default" | "environment" | "flag" | "sluice.json" | "measured";

/** The settings in effect, each with its value and origin (variables not given show their default). */
export function describeConfiguration(
  config: Config,
): Record<string, { readonly value: string | number | boolean; readonly from: SettingOrigin }> {
  const values: Record<string, string | number | boolean> = {
    SAGEMAKER_BIND_TO_PORT: config.port,
    SLUICE_MODEL_DIR: config.modelDir ?? "/opt/ml/model",
    SAGEMAKER_BATCH: config.batchJob,
    SAGEMAKER_MAX_PAYLOAD_IN_MB: config.maxPayloadInMB ?? "unlimited",
    SAGEMAKER_BATCH_STRATEGY: config.batchStrategy ?? "any",
    SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: config.maxConcurrentTransforms ?? "the backend's (one per core on the CPU)",
    SLUICE_MAX_QUEUED_INVOCATIONS: config.maxQueuedInvocations ?? "= concurrency",
    SLUICE_BATCH_ROWS: config.batchRows ?? "sluice.json's, else the backend's",
    SLUICE_DIMENSIONS: config.dimensions
      ? Object.entries(config.dimensions)
          .map(([name, size]) => `${name}=${size}`)
          .join(",")
      : "sluice.json's, else none",
    SLUICE_RESPONSE_HOLD_MB: config.responseHoldBytes / 2 ** 20,
    SLUICE_BACKEND: config.backend,
    SLUICE_ON_RECORD_ERROR: config.recordErrorPolicy,
    SLUICE_PLUGINS: config.plugins.join(",") || "none",
    SLUICE_EXECUTION_PARAMETERS_SPELLING: config.batchStrategySpelling,
    SLUICE_LOG_LEVEL: config.logLevel,
    SLUICE_LOG_FORMAT: config.logFormat ?? "json (pretty on a terminal)",
    SLUICE_METRICS: config.metrics ? "on" : "off",
    SLUICE_BODY_IDLE_TIMEOUT_S: config.bodyIdleTimeoutSeconds,
    SLUICE_MAX_DECOMPRESSION_RATIO: config.maxDecompressionRatio,
    SLUICE_CODEC_THREADS: config.codecThreads ?? "one per core",
    SLUICE_INFERENCE_THREADS:
      config.inferenceThreads ??
      "one per core, or one for a model no faster on more, or faster as sessions side by side",
    SLUICE_MODEL_SESSIONS:
      config.modelSessions ?? "one, or as many as the codec threads keep busy for a model on one intra-op thread",
    SLUICE_SMALL_BODY_BYTES: config.smallBodyBytes,
    SLUICE_PART_BYTES: config.partBytes,
    SLUICE_ACCEPT: config.accept ?? `every-thread from ${EVERY_THREAD_FROM_CODEC_THREADS} codec threads, else main`,
    SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: config.defaultAccept ?? "sluice.json's accept, else the request's format",
  };
  const described: Record<string, { value: string | number | boolean; from: SettingOrigin }> = {};
  for (const [name, value] of Object.entries(values))
    described[name] = { value, from: config.origins[name] ?? "default" };
  return described;
}

type Env = Readonly<Record<string, string | undefined>>;

function integer(name: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\s*\d+\s*$/.test(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a whole number`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is out of range (${min}…${max === Number.MAX_SAFE_INTEGER ? "" : max})`,
    );
  }
  return value;
}

function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  const value = raw.trim().toLowerCase();
  const match = allowed.find((option) => option.toLowerCase() === value);
  if (!match) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not one of ${allowed.join(", ")}`);
  return match;
}

function batchStrategy(raw: string): BatchStrategy {
  // The platform documents SINGLE_RECORD / MULTI_RECORD; the API (and the SDK's local mode) spells them
  // SingleRecord / MultiRecord. Accept both.
  const normalized = raw.trim().replace(/_/g, "").toLowerCase();
  if (normalized === "singlerecord") return "SINGLE_RECORD";
  if (normalized === "multirecord") return "MULTI_RECORD";
  throw new ConfigError(`SAGEMAKER_BATCH_STRATEGY=${JSON.stringify(raw)} is not SINGLE_RECORD or MULTI_RECORD`);
}

function boolean(name: string, raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0" || value === "") return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not true or false`);
}

/** Command-line flags `serve` takes; each overrides its environment variable. */
export interface ServeFlags {
  port?: string;
  modelDir?: string;
  backend?: string;
}

/** Parses `--port N`, `--port=N`, `--model-dir D`, `--backend B`; throws `ConfigError` on anything else. */
export function parseServeFlags(args: readonly string[]): ServeFlags {
  let values: { port?: string; "model-dir"?: string; backend?: string };
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: { port: { type: "string" }, "model-dir": { type: "string" }, backend: { type: "string" } },
    }));
  } catch (cause) {
    throw new ConfigError(`${(cause as Error).message} (serve takes --port, --model-dir, --backend)`);
  }
  return { port: values.port, modelDir: values["model-dir"], backend: values.backend };
}

function flagOrigins(flags: ServeFlags): Record<string, "flag"> {
  const origins: Record<string, "flag"> = {};
  if (flags.port !== undefined) origins.SAGEMAKER_BIND_TO_PORT = "flag";
  if (flags.modelDir !== undefined) origins.SLUICE_MODEL_DIR = "flag";
  if (flags.backend !== undefined) origins.SLUICE_BACKEND = "flag";
  return origins;
}

/** `name=size` pairs separated by commas (`sequence=128,height=224`), each size a positive integer. */
function dimensionSizes(name: string, raw: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const pair of raw.split(",")) {
    const match = /^\s*([^=\s][^=]*?)\s*=\s*(\d+)\s*$/.exec(pair);
    const size = Number(match?.[2]);
    if (!match || !Number.isSafeInteger(size) || size < 1) {
      throw new ConfigError(
        `${name}=${JSON.stringify(raw)} must list dimension sizes as name=size pairs, e.g. sequence=128,height=224`,
      );
    }
    sizes[match[1]] = size;
  }
  return sizes;
}

/** Builds the configuration from the environment and flags. */
export function loadConfig(env: Env, flags: ServeFlags = {}): Config {
  const origins: Record<string, "flag" | "environment"> = {};
  const read = (name: string): string | undefined => {
    const value = env[name];
    if (value === undefined || value.trim() === "") return undefined;
    origins[name] = "environment";
    return value;
  };
  const port = flags.port ?? read("SAGEMAKER_BIND_TO_PORT");
  const payload = read("SAGEMAKER_MAX_PAYLOAD_IN_MB");
  const maxPayloadInMB =
    payload === undefined ? undefined : integer("SAGEMAKER_MAX_PAYLOAD_IN_MB", payload, 0, 100_000);
  const concurrency = read("SAGEMAKER_MAX_CONCURRENT_TRANSFORMS");
  const queued = read("SLUICE_MAX_QUEUED_INVOCATIONS");
  const batchRows = read("SLUICE_BATCH_ROWS");
  const dimensions = read("SLUICE_DIMENSIONS");
  const hold = read("SLUICE_RESPONSE_HOLD_MB");
  const strategy = read("SAGEMAKER_BATCH_STRATEGY");
  const backend = flags.backend ?? read("SLUICE_BACKEND");
  const onError = read("SLUICE_ON_RECORD_ERROR");
  const spelling = read("SLUICE_EXECUTION_PARAMETERS_SPELLING");
  const batch = read("SAGEMAKER_BATCH");
  const codecThreads = read("SLUICE_CODEC_THREADS");
  const ratio = read("SLUICE_MAX_DECOMPRESSION_RATIO");
  const idle = read("SLUICE_BODY_IDLE_TIMEOUT_S");
  const logLevel = read("SLUICE_LOG_LEVEL");
  const logFormat = read("SLUICE_LOG_FORMAT");
  const metrics = read("SLUICE_METRICS");
  const inferenceThreads = read("SLUICE_INFERENCE_THREADS");
  const modelSessions = read("SLUICE_MODEL_SESSIONS");
  const smallBody = read("SLUICE_SMALL_BODY_BYTES");
  const partBytes = read("SLUICE_PART_BYTES");
  const accept = read("SLUICE_ACCEPT");
  const defaultAccept = read("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT");
  if (defaultAccept !== undefined && parseMediaType(defaultAccept) === undefined) {
    throw new ConfigError(`SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT=${JSON.stringify(defaultAccept)} is not a media type`);
  }
  return {
    port: port === undefined ? 8080 : integer(flags.port ? "--port" : "SAGEMAKER_BIND_TO_PORT", port, 0, 65535),
    modelDir: flags.modelDir ?? read("SLUICE_MODEL_DIR"),
    batchJob: batch === undefined ? false : boolean("SAGEMAKER_BATCH", batch),
    maxPayloadInMB,
    maxPayloadBytes: maxPayloadInMB ? maxPayloadInMB * 1024 * 1024 : undefined,
    batchStrategy: strategy === undefined ? undefined : batchStrategy(strategy),
    maxConcurrentTransforms:
      concurrency === undefined ? undefined : integer("SAGEMAKER_MAX_CONCURRENT_TRANSFORMS", concurrency, 1, 1024),
    maxQueuedInvocations:
      queued === undefined ? undefined : integer("SLUICE_MAX_QUEUED_INVOCATIONS", queued, 0, 10_000),
    batchRows: batchRows === undefined ? undefined : integer("SLUICE_BATCH_ROWS", batchRows, 1, 1_000_000),
    dimensions: dimensions === undefined ? undefined : dimensionSizes("SLUICE_DIMENSIONS", dimensions),
    responseHoldBytes: (hold === undefined ? 16 : integer("SLUICE_RESPONSE_HOLD_MB", hold, 0, 4096)) * 1024 * 1024,
    backend:
      backend === undefined
        ? "cpu"
        : oneOf(flags.backend ? "--backend" : "SLUICE_BACKEND", backend, ["cpu", "webgpu", "auto"]),
    recordErrorPolicy:
      onError === undefined ? "fail" : oneOf("SLUICE_ON_RECORD_ERROR", onError, ["fail", "placeholder"]),
    plugins: (read("SLUICE_PLUGINS") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    codecEnv: Object.fromEntries(
      Object.entries(env).filter(
        (entry): entry is [string, string] =>
          entry[0].startsWith("SLUICE_CODEC_") && entry[0] !== "SLUICE_CODEC_THREADS" && entry[1] !== undefined,
      ),
    ),
    batchStrategySpelling:
      spelling === undefined
        ? "platform"
        : oneOf("SLUICE_EXECUTION_PARAMETERS_SPELLING", spelling, ["platform", "api"]),
    logLevel:
      logLevel === undefined
        ? "info"
        : oneOf<LogLevel>("SLUICE_LOG_LEVEL", logLevel, ["debug", "info", "warn", "error"]),
    logFormat:
      logFormat === undefined ? undefined : oneOf<LogFormat>("SLUICE_LOG_FORMAT", logFormat, ["json", "pretty"]),
    metrics: metrics === undefined ? true : oneOf("SLUICE_METRICS", metrics, ["on", "off"]) === "on",
    bodyIdleTimeoutSeconds: idle === undefined ? 60 : integer("SLUICE_BODY_IDLE_TIMEOUT_S", idle, 1, 86_400),
    maxDecompressionRatio: ratio === undefined ? 200 : integer("SLUICE_MAX_DECOMPRESSION_RATIO", ratio, 1, 1_000_000),
    codecThreads:
      codecThreads === undefined ? undefined : integer("SLUICE_CODEC_THREADS", codecThreads, 1, MAX_CODEC_THREADS),
    inferenceThreads:
      inferenceThreads === undefined ? undefined : integer("SLUICE_INFERENCE_THREADS", inferenceThreads, 1, 1024),
    modelSessions:
      modelSessions === undefined ? undefined : integer("SLUICE_MODEL_SESSIONS", modelSessions, 1, MAX_MODEL_SESSIONS),
    smallBodyBytes:
      smallBody === undefined ? DEFAULT_SMALL_BODY_BYTES : integer("SLUICE_SMALL_BODY_BYTES", smallBody, 0, 2 ** 20),
    partBytes: partBytes === undefined ? DEFAULT_PART_BYTES : integer("SLUICE_PART_BYTES", partBytes, 0, 2 ** 40),
    accept:
      accept === undefined ? undefined : oneOf<AcceptingThreads>("SLUICE_ACCEPT", accept, ["main", "every-thread"]),
    defaultAccept: defaultAccept?.trim(),
    origins: { ...origins, ...flagOrigins(flags) },
  };
}
