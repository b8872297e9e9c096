/**
 * The options of `sluice transform`, with the platform's names and defaults (CreateTransformJob:
 * SplitType, CompressionType, BatchStrategy, MaxPayloadInMB, MaxConcurrentTransforms, AssembleWith,
 * DataProcessing, ModelClientConfig).
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../errors.js";
import type { DataProcessingOptions } from "./data-processing.js";
import type { BatchStrategy } from "./mini-batches.js";
import type { SplitType } from "./record-splitter.js";

/** A transform job. */
export interface JobOptions {
  /** A file, a directory (every file under it) or `-` (standard input). */
  readonly input: string;
  /** The directory the `.out` files go to, or `-` for standard output. */
  readonly output: string;
  /** The input's media type; guessed from each file's extension when absent. */
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly splitType: SplitType;
  /** Unset ones come from `/execution-parameters`, then the platform's defaults. */
  readonly batchStrategy: BatchStrategy | undefined;
  readonly maxPayloadMB: number | undefined;
  readonly maxConcurrent: number | undefined;
  readonly assembleWith: "None" | "Line";
  readonly dataProcessing: DataProcessingOptions;
  /** A running container to drive over HTTP; the in-process service when absent. */
  readonly endpoint: string | undefined;
  readonly modelDir: string | undefined;
  readonly backend: string | undefined;
  /** `CompressionType`: `Gzip` inputs are decompressed as they are read (the container never sees gzip). */
  readonly compressionType: "None" | "Gzip";
  /** `InvocationsTimeoutInSeconds`: how long one body may take, its answer read to the end (600). */
  readonly invocationsTimeoutS: number;
  /** `InvocationsMaxRetries`: retries of a body the server failed, or that timed out (3). */
  readonly invocationsMaxRetries: number;
}

/** The usage line of `sluice transform`. */
export const TRANSFORM_USAGE =
  "sluice transform --input PATH|- --output DIR|- [--content-type T] [--accept T] [--compression-type None|Gzip] " +
  "[--split-type None|Line|RecordIO|TFRecord] " +
  "[--batch-strategy SingleRecord|MultiRecord] [--max-payload-mb N] [--max-concurrent N] [--assemble-with None|Line] " +
  "[--input-filter JSONPATH] [--output-filter JSONPATH] [--join-source None|Input] [--endpoint URL] [--model-dir DIR] " +
  "[--backend cpu|webgpu|auto] [--invocations-timeout-s N] [--invocations-max-retries N]";

function choice<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T;
function choice<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined;
function choice<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback?: T) {
  if (value === undefined) return fallback;
  // The platform's API spellings, and its documentation's (MULTI_RECORD), both work.
  const normal = value.replace(/_/g, "").toLowerCase();
  const match = allowed.find((option) => option.toLowerCase() === normal);
  if (!match) throw new ConfigError(`${flag} ${value} is not one of ${allowed.join(", ")}`);
  return match;
}

function count(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${flag} ${value} is not a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

/**
 * Parses the arguments after `transform`. The earlier form — `--content-type T [--accept A] [FILE]`,
 * one body to standard output — still works: it is `--input FILE|- --output -`.
 */
export function parseJobOptions(args: readonly string[]): JobOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}; usage: ${TRANSFORM_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1 || (positionals.length === 1 && values.input !== undefined)) {
    throw new ConfigError(`give one input (--input PATH); usage: ${TRANSFORM_USAGE}`);
  }
  const input = values.input ?? positionals[0] ?? "-";
  const output = values.output ?? "-";
  return {
    input,
    output,
    contentType: values["content-type"],
    accept: values.accept,
    compressionType: choice("--compression-type", values["compression-type"], ["None", "Gzip"] as const, "None"),
    splitType: choice("--split-type", values["split-type"], ["None", "Line", "RecordIO", "TFRecord"] as const, "None"),
    batchStrategy: choice("--batch-strategy", values["batch-strategy"], ["SingleRecord", "MultiRecord"] as const),
    maxPayloadMB: count("--max-payload-mb", values["max-payload-mb"], 0, 100),
    maxConcurrent: count("--max-concurrent", values["max-concurrent"], 1, 1024),
    assembleWith: choice("--assemble-with", values["assemble-with"], ["None", "Line"] as const, "None"),
    dataProcessing: {
      inputFilter: values["input-filter"] ?? "$",
      outputFilter: values["output-filter"] ?? "$",
      joinSource: choice("--join-source", values["join-source"], ["None", "Input"] as const, "None"),
    },
    endpoint: values.endpoint,
    modelDir: values["model-dir"],
    backend: values.backend,
    invocationsTimeoutS: count("--invocations-timeout-s", values["invocations-timeout-s"], 1, 3600) ?? 600,
    invocationsMaxRetries: count("--invocations-max-retries", values["invocations-max-retries"], 0, 3) ?? 3,
  };
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      input: { type: "string" },
      output: { type: "string" },
      "content-type": { type: "string" },
      accept: { type: "string" },
      "compression-type": { type: "string" },
      "split-type": { type: "string" },
      "batch-strategy": { type: "string" },
      "max-payload-mb": { type: "string" },
      "max-concurrent": { type: "string" },
      "assemble-with": { type: "string" },
      "input-filter": { type: "string" },
      "output-filter": { type: "string" },
      "join-source": { type: "string" },
      endpoint: { type: "string" },
      "model-dir": { type: "string" },
      backend: { type: "string" },
      "invocations-timeout-s": { type: "string" },
      "invocations-max-retries": { type: "string" },
    },
  });
}
