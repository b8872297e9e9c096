/**
 * Where the model comes from: the directory the platform unpacks `model.tar.gz` into, or the bundled
 * default model when Sluice runs outside a batch job without one.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";

/** The directory SageMaker puts model artifacts in. */
export const PLATFORM_MODEL_DIR = "/opt/ml/model";

/** The model shipped with Sluice (`models/default`), served by `npm start` when no model is given. */
export const BUNDLED_MODEL_DIR = fileURLToPath(new URL("../../../models/default/", import.meta.url));

/** The model file chosen and why. */
export interface ModelLocation {
  readonly dir: string;
  readonly file: string;
  /** Set when the bundled model is used because no model directory exists; logged at start-up. */
  readonly fallbackReason?: string;
}

/** Picks `model.onnx`, or the only `*.onnx` file; several without `model.onnx` is an error listing them. */
export function findModelFile(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`model directory ${dir} does not exist`);
  const candidates = readdirSync(dir)
    .filter((name) => name.toLowerCase().endsWith(".onnx"))
    .sort();
  if (candidates.includes("model.onnx")) return path.join(dir, "model.onnx");
  if (candidates.length === 1) return path.join(dir, candidates[0]);
  if (candidates.length === 0) throw new ConfigError(`model directory ${dir} holds no .onnx file`);
  throw new ConfigError(
    `model directory ${dir} holds several .onnx files (${candidates.join(", ")}); name one model.onnx`,
  );
}

/**
 * Resolves the model: an explicit directory must exist; otherwise `/opt/ml/model`, and when that is
 * missing outside a batch job, the bundled default model.
 */
export function locateModel(explicitDir: string | undefined, batchJob: boolean): ModelLocation {
  if (explicitDir !== undefined) return { dir: explicitDir, file: findModelFile(explicitDir) };
  if (existsSync(PLATFORM_MODEL_DIR) || batchJob) {
    return { dir: PLATFORM_MODEL_DIR, file: findModelFile(PLATFORM_MODEL_DIR) };
  }
  return {
    dir: BUNDLED_MODEL_DIR,
    file: findModelFile(BUNDLED_MODEL_DIR),
    fallbackReason: `${PLATFORM_MODEL_DIR} does not exist and SAGEMAKER_BATCH is not true: serving the bundled default model`,
  };
}
