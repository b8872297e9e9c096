/**
 * Where the model comes from: the directory the platform unpacks `model.tar.gz` into (with its optional
 * `sluice.json`), a `model.tar.gz` given locally (unpacked here as the platform would), or the bundled
 * default model when Sluice runs outside a batch job without one.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ConfigError } from "../errors.js";
import { temporaryDirectory } from "../temporary-directory.js";
import { MODEL_CONFIG_FILE, type ModelConfig, readModelConfig } from "./model-config.js";
import { foldFileNames } from "./xgboost/fold-files.js";

/** The directory SageMaker puts model artifacts in. */
export const PLATFORM_MODEL_DIR = "/opt/ml/model";

/** The model shipped with Sluice (`models/default`), served by `npm start` when no model is given. */
export const BUNDLED_MODEL_DIR = fileURLToPath(new URL("../../../models/default/", import.meta.url));

/** The model file chosen and why. */
export interface ModelLocation {
  readonly dir: string;
  readonly file: string;
  /** The directory's `sluice.json`, when it has one. */
  readonly config?: ModelConfig;
  /** Set when the bundled model is used because no model directory exists; logged at start-up. */
  readonly fallbackReason?: string;
  /** The archive {@link dir} was unpacked from, when the model was given as one; logged at start-up. */
  readonly archive?: string;
}

/** The file SageMaker's XGBoost algorithm saves its model as. */
export const SAGEMAKER_XGBOOST_FILE = "xgboost-model";

/**
 * XGBoost model files, when the directory holds no ONNX file: SageMaker's, then a k-fold training's
 * (its first fold stands for the set, which `prepare-model.ts` loads whole), then `*.ubj`, then `*.json`.
 */
function xgboostCandidates(names: readonly string[]): string[] {
  if (names.includes(SAGEMAKER_XGBOOST_FILE)) return [SAGEMAKER_XGBOOST_FILE];
  const folds = foldFileNames(names);
  if (folds.length > 0) return [folds[0]];
  const ubj = names.filter((name) => name.toLowerCase().endsWith(".ubj"));
  if (ubj.length > 0) return ubj;
  return names.filter((name) => name.toLowerCase().endsWith(".json") && name !== MODEL_CONFIG_FILE);
}

/** Whether `file` is named as a model archive is: `model.tar.gz`, `*.tgz`, `*.tar`. */
const isArchiveName = (file: string) => /\.(tar\.gz|tgz|tar)$/i.test(file);

/** What a directory holds, for an error: its entries (folders marked `/`), and where a folder holds a model. */
function describeEntries(dir: string, names: readonly string[]): string {
  if (names.length === 0) return "nothing";
  const folders = new Set(names.filter((name) => statSync(path.join(dir, name)).isDirectory()));
  const shown = names.slice(0, 20).map((name) => (folders.has(name) ? `${name}/` : name));
  const more = names.length > shown.length ? ` and ${names.length - shown.length} more` : "";
  const nested = [...folders].find((name) =>
    readdirSync(path.join(dir, name)).some((inner) => inner.toLowerCase().endsWith(".onnx")),
  );
  const archive = names.find(isArchiveName);
  let hint = "";
  if (nested) hint = ` (the model is in ${nested}/: a model.tar.gz must hold its files at its root, not in a folder)`;
  else if (archive) hint = ` (to serve the archive ${archive}, give it as the model directory: it is unpacked first)`;
  return `${shown.join(", ")}${more}${hint}`;
}

/**
 * Picks the file `sluice.json` names, else `model.onnx`, else the only `*.onnx` file, else an XGBoost
 * model (`xgboost-model` as SageMaker's XGBoost writes it, the only `*.ubj` or `*.json`); several
 * without a way to choose is an error listing them.
 */
export function findModelFile(dir: string, config?: ModelConfig): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`model directory ${dir} does not exist`);
  const names = readdirSync(dir).sort();
  if (config?.model !== undefined) {
    if (names.includes(config.model)) return path.join(dir, config.model);
    throw new ConfigError(
      `${MODEL_CONFIG_FILE} names ${config.model}, which is not in ${dir} (it holds: ${names.join(", ") || "nothing"})`,
    );
  }
  let candidates = names.filter((name) => name.toLowerCase().endsWith(".onnx"));
  if (candidates.includes("model.onnx")) return path.join(dir, "model.onnx");
  if (candidates.length === 0) candidates = xgboostCandidates(names);
  if (candidates.length === 1) return path.join(dir, candidates[0]);
  if (candidates.length === 0) {
    throw new ConfigError(
      `model directory ${dir} holds no model: no .onnx file, no XGBoost model (${SAGEMAKER_XGBOOST_FILE}, *.json, ` +
        `*.ubj); it holds ${describeEntries(dir, names)}`,
    );
  }
  throw new ConfigError(
    `model directory ${dir} holds several model files (${candidates.join(", ")}); name one model.onnx, ` +
      `or choose one with "model" in ${MODEL_CONFIG_FILE}`,
  );
}

/** Archives this process has unpacked, by path, to their directories: a model reloaded after a crash is not unpacked again. */
const unpackedArchives = new Map<string, string>();

/**
 * Unpacks the archive at `file` (the `model.tar.gz` a training job wrote) into a directory of its own,
 * removed when the process exits, with the system's `tar`, as the platform unpacks it into `/opt/ml/model`.
 * `tar` runs as a child process, so that `/ping` answers while a large archive unpacks.
 */
async function unpackArchive(file: string): Promise<string> {
  const known = unpackedArchives.get(file);
  if (known !== undefined) return known;
  const dir = temporaryDirectory("sluice-unpacked-model");
  try {
    await promisify(execFile)("tar", ["-xf", file, "-C", dir, "--no-same-owner"]);
  } catch (cause) {
    const { stderr, message } = cause as { stderr?: string; message: string };
    throw new ConfigError(`could not unpack the model archive ${file}: ${stderr?.trim() || message}`);
  }
  unpackedArchives.set(file, dir);
  return dir;
}

/**
 * Resolves the model: an explicit directory (or model archive, unpacked first) must exist; otherwise
 * `/opt/ml/model`, and when that is missing outside a batch job, the bundled default model.
 * `sluice.json` is read from the directory.
 */
export async function locateModel(explicitDir: string | undefined, batchJob: boolean): Promise<ModelLocation> {
  let dir = explicitDir ?? PLATFORM_MODEL_DIR;
  let fallbackReason: string | undefined;
  let archive: string | undefined;
  if (explicitDir === undefined && !existsSync(PLATFORM_MODEL_DIR) && !batchJob) {
    dir = BUNDLED_MODEL_DIR;
    fallbackReason = `${PLATFORM_MODEL_DIR} does not exist and SAGEMAKER_BATCH is not true: serving the bundled default model`;
  }
  if (existsSync(dir) && statSync(dir).isFile()) {
    if (!isArchiveName(dir)) {
      throw new ConfigError(
        `model directory ${dir} is a file: give the directory that holds the model, or its model.tar.gz`,
      );
    }
    archive = dir;
    dir = await unpackArchive(archive);
  }
  const config = existsSync(dir) ? readModelConfig(dir) : undefined;
  return { dir, file: findModelFile(dir, config), config, fallbackReason, archive };
}
