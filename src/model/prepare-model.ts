/**
 * Turns the model file into what ONNX Runtime loads, and notes what the signature alone does not say:
 * - an ONNX file loads as it is, unless outputs come through ZipMap (then unwrapped, see
 *   `zipmap-outputs.ts`);
 * - an XGBoost model (`xgboost-model`, `*.json`, `*.ubj`; or a k-fold training's `xgboost-model-<k>` files,
 *   together) is converted to an ONNX tree ensemble;
 * - a model holding tree ensembles reads missing values (NaN) by design.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { readGraphLayout, summarizeModelFile } from "./onnx-wire.js";
import { readXgbBooster, type XgbBooster } from "./xgboost/booster.js";
import { boostersToOnnx, treesPredictingWith, VOTED } from "./xgboost/booster-to-onnx.js";
import { foldSetOf } from "./xgboost/fold-files.js";
import { unwrapZipMapOutputs } from "./zipmap-outputs.js";

/** A model ready for ONNX Runtime. */
export interface PreparedModel {
  /** The ONNX file's path when it loads unchanged, else the ONNX bytes Sluice made. */
  readonly source: string | Uint8Array;
  /** What it was and what was done to it, for the start-up log (`onnx, ZipMap output(s) … unwrapped`). */
  readonly format: string;
  /** Class labels of outputs that were maps (ZipMap), by output name. */
  readonly mapKeys: ReadonlyMap<string, readonly string[]>;
  /** True when the model holds tree ensembles, which take NaN as "missing" and route it as they learned. */
  readonly readsMissingValues: boolean;
  /** True for an XGBoost booster, which reads what a sparse record leaves out as missing, not 0. */
  readonly sparseAbsentIsMissing?: boolean;
  /** What each graph output is (`tensor`, `sequence of map`, …), by name: the reason a non-tensor is refused. */
  readonly outputKinds: ReadonlyMap<string, string>;
}

/** ai.onnx.ml operators that route NaN features down a learned branch. */
const MISSING_AWARE_OPERATORS = new Set(["TreeEnsembleRegressor", "TreeEnsembleClassifier", "TreeEnsemble"]);

/** True for a file Sluice reads as XGBoost rather than ONNX (what `model-location.ts` picks besides `*.onnx`). */
function isXgboostFile(file: string): boolean {
  return !path.basename(file).toLowerCase().endsWith(".onnx");
}

/** The graph's operators and outputs; undefined when the file cannot be read as ONNX (ONNX Runtime will say why). */
function summarize(file: string): ReturnType<typeof summarizeModelFile> {
  try {
    return summarizeModelFile(file);
  } catch {
    return undefined;
  }
}

/** What was converted, for the start-up log: version, objective, folds and how they combine, trees used. */
function describeBoosters(boosters: readonly XgbBooster[], files: readonly string[]): string {
  const used = boosters.map((booster, k) => treesPredictingWith(booster, files[k]).length);
  const total = boosters.map((booster) => booster.trees.length);
  const limits = boosters.map((booster) => booster.bestNtreeLimit).join("/");
  const trees = used.some((count, k) => count < total[k])
    ? `the first ${used.join("/")} of ${total.join("/")} trees (best_ntree_limit ${limits}, from early stopping)`
    : `${used.join("/")} trees`;
  const [first] = boosters;
  const combined = VOTED.has(first.objective) ? "voting" : "averaged";
  const folds =
    files.length > 1
      ? `${files.length} folds (${files.map((fold) => path.basename(fold)).join(", ")}) ${combined}, `
      : "";
  return `xgboost ${first.version} ${first.objective}, ${folds}${trees}, converted to onnx`;
}

/** Reads and prepares the model at `file` (see the module comment). */
export function prepareModel(file: string): PreparedModel {
  if (isXgboostFile(file)) {
    const files = foldSetOf(file) ?? [file];
    const boosters = files.map((fold) => readXgbBooster(readFileSync(fold), fold));
    const onnx = boostersToOnnx(boosters, files);
    return {
      source: onnx,
      format: describeBoosters(boosters, files),
      mapKeys: new Map(),
      readsMissingValues: true,
      sparseAbsentIsMissing: true,
      outputKinds: new Map(),
    };
  }
  const summary = summarize(file);
  if (summary === undefined)
    return { source: file, format: "onnx", mapKeys: new Map(), readsMissingValues: false, outputKinds: new Map() };
  const readsMissingValues = summary.nodes.some(
    (node) => node.domain === "ai.onnx.ml" && MISSING_AWARE_OPERATORS.has(node.opType),
  );
  const outputKinds = new Map(summary.outputs.map((output) => [output.name, output.kind]));
  const outputNames = new Set(outputKinds.keys());
  const zipMapOutput = summary.nodes.some(
    (node) => node.opType === "ZipMap" && node.outputs.some((name) => outputNames.has(name)),
  );
  const unloaded = { source: file, format: "onnx", mapKeys: new Map(), readsMissingValues, outputKinds };
  if (!zipMapOutput) return unloaded;
  // Only a model to rewrite is read whole.
  const bytes = readFileSync(file);
  const layout = readGraphLayout(bytes);
  const unwrapped = layout && unwrapZipMapOutputs(bytes, layout);
  if (!unwrapped) return unloaded;
  return {
    source: unwrapped.bytes,
    format: `onnx, ZipMap output(s) ${[...unwrapped.mapKeys.keys()].join(", ")} unwrapped`,
    mapKeys: unwrapped.mapKeys,
    readsMissingValues,
    outputKinds,
  };
}
