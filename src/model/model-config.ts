/**
 * `sluice.json`, the optional model configuration shipped beside the model in `model.tar.gz`:
 *
 * ```json
 * { "model": "classifier.onnx", "inputs": { "pixels": "features" }, "batchRows": 256, "accept": "application/jsonlines" }
 * ```
 * - `model`: the model file to serve (needed when the directory holds several): ONNX, or an XGBoost
 *   model (`xgboost-model`, `*.json`, `*.ubj`);
 * - `inputs`: feature names used in records → the model inputs they feed (JSON keys, Record and Example
 *   feature names), for models whose input names are not what clients send;
 * - `batchRows`: records per batch (`SLUICE_BATCH_ROWS` still wins);
 * - `accept`: the output media type when a request's Accept is missing or `*∕*`;
 * - `codecs`: codec plugins shipped in the model directory (paths relative to it, or package names), so
 *   a codec arrives with `model.tar.gz` and needs no new image;
 * - `codecSettings`: settings per codec, `{"csv": {"header": "present"}}`;
 * - `missingValues`: `"nan"` when the model reads NaN as "missing" though Sluice does not see it (its
 *   own `IsNaN` handling, an imputer); `"refuse"` to refuse missing values even for tree ensembles.
 *   By default float inputs of models with tree ensembles take them;
 * - `dimensions`: sizes for the model's named dynamic dimensions other than the batch axis
 *   (`{"sequence": 128}` for an input `[batch, sequence]`), so that each record has a fixed size.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../errors.js";
import type { ModelSignature } from "./signature.js";

/** The file name of the model configuration. */
export const MODEL_CONFIG_FILE = "sluice.json";

/** A validated `sluice.json`. */
export interface ModelConfig {
  readonly model?: string;
  readonly inputs?: Readonly<Record<string, string>>;
  readonly batchRows?: number;
  readonly accept?: string;
  readonly codecs?: readonly string[];
  readonly codecSettings?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly missingValues?: "nan" | "refuse";
  readonly dimensions?: DimensionSizes;
}

/** Sizes for a model's named (dynamic) dimensions, by name. */
export type DimensionSizes = Readonly<Record<string, number>>;

const KEYS = ["model", "inputs", "batchRows", "accept", "codecs", "codecSettings", "missingValues", "dimensions"];

/** Reads and validates `<dir>/sluice.json`; `undefined` when there is none. */
export function readModelConfig(dir: string): ModelConfig | undefined {
  const file = path.join(dir, MODEL_CONFIG_FILE);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new ConfigError(`${file} is not valid JSON: ${(cause as Error).message}`);
  }
  const fail = (what: string): never => {
    throw new ConfigError(`${file}: ${what}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("must hold a JSON object");
  const config = raw as Record<string, unknown>;
  const unknown = Object.keys(config).filter((key) => !KEYS.includes(key));
  if (unknown.length > 0) fail(`unknown key(s) ${unknown.join(", ")} (known: ${KEYS.join(", ")})`);
  const { model, inputs, batchRows, accept, codecs, codecSettings, missingValues, dimensions } = config;
  if (model !== undefined && (typeof model !== "string" || model.includes("/") || model === "")) {
    fail('"model" must be the name of a model file in the model directory');
  }
  if (missingValues !== undefined && missingValues !== "nan" && missingValues !== "refuse") {
    fail('"missingValues" must be "nan" or "refuse"');
  }
  if (
    inputs !== undefined &&
    (typeof inputs !== "object" ||
      inputs === null ||
      Array.isArray(inputs) ||
      !Object.values(inputs).every((target) => typeof target === "string"))
  ) {
    fail('"inputs" must map feature names to model input names, e.g. {"pixels": "features"}');
  }
  if (batchRows !== undefined && !(Number.isInteger(batchRows) && (batchRows as number) >= 1)) {
    fail('"batchRows" must be a positive integer');
  }
  if (accept !== undefined && (typeof accept !== "string" || !accept.includes("/"))) {
    fail('"accept" must be a media type such as "application/jsonlines"');
  }
  if (codecs !== undefined && !(Array.isArray(codecs) && codecs.every((entry) => typeof entry === "string"))) {
    fail('"codecs" must list codec plugins, e.g. ["./codecs/npy"]');
  }
  const isTable = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);
  if (
    codecSettings !== undefined &&
    !(
      isTable(codecSettings) &&
      Object.values(codecSettings).every(
        (settings) => isTable(settings) && Object.values(settings).every((value) => typeof value === "string"),
      )
    )
  ) {
    fail('"codecSettings" must map codec names to settings, e.g. {"csv": {"header": "present"}}');
  }
  if (
    dimensions !== undefined &&
    !(
      isTable(dimensions) &&
      Object.values(dimensions).every((size) => Number.isSafeInteger(size) && (size as number) >= 1)
    )
  ) {
    fail('"dimensions" must give named dimensions positive integer sizes, e.g. {"sequence": 128}');
  }
  return config as ModelConfig;
}

/**
 * The signature the codecs see: the model's, with each input renamed to the feature name that feeds it
 * (`inputs` in `sluice.json`) and missing values allowed or refused as `missingValues` says. Throws a
 * `ConfigError` naming the model's inputs when a mapping targets one that does not exist.
 */
export function codecSignature(signature: ModelSignature, config: ModelConfig | undefined): ModelSignature {
  return withMissingValues(renameInputs(signature, config?.inputs), config?.missingValues);
}

function renameInputs(signature: ModelSignature, mapping: ModelConfig["inputs"]): ModelSignature {
  if (!mapping) return signature;
  const names = signature.inputs.map((input) => input.name);
  const featureFor = new Map<string, string>();
  for (const [feature, input] of Object.entries(mapping)) {
    if (!names.includes(input)) {
      throw new ConfigError(
        `${MODEL_CONFIG_FILE} maps "${feature}" to "${input}", which is not an input of the model (its inputs: ${names.join(", ")})`,
      );
    }
    featureFor.set(input, feature);
  }
  return {
    ...signature,
    inputs: signature.inputs.map((input) => ({ ...input, name: featureFor.get(input.name) ?? input.name })),
  };
}

/**
 * The signature with `sluice.json`'s `missingValues` applied to its float inputs (`refuse` also makes a
 * value a sparse record leaves out 0 again).
 */
function withMissingValues(signature: ModelSignature, policy: ModelConfig["missingValues"]): ModelSignature {
  if (policy === undefined) return signature;
  return {
    ...signature,
    inputs: signature.inputs.map((input) =>
      input.type.startsWith("float")
        ? { ...input, acceptsMissing: policy === "nan", absentIsMissing: policy === "nan" && input.absentIsMissing }
        : input,
    ),
  };
}
