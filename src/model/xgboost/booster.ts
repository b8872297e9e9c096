/**
 * Reads an XGBoost model (a `Booster` saved by `save_model`, as JSON, UBJSON or, before XGBoost 2.0, its
 * binary format: see `legacy-binary.ts`) into the trees and parameters Sluice converts: objective, base
 * score, classes, features, and per tree its nodes' splits, children, default directions and leaf values.
 * The file is recognised by its content, not its name: SageMaker's XGBoost writes `xgboost-model` without
 * an extension.
 */
import { ConfigError } from "../../errors.js";
import { LegacyBinaryFormatError, readLegacyBinaryBooster } from "./legacy-binary.js";
import { decodeUbjson, type UbjValue } from "./ubjson.js";

/** One regression tree, as parallel per-node arrays (node 0 is the root). */
export interface XgbTree {
  readonly left: ArrayLike<number>;
  readonly right: ArrayLike<number>;
  readonly splitFeature: ArrayLike<number>;
  /** The split threshold of a branch (go left when the feature is below it); the leaf value of a leaf. */
  readonly splitCondition: ArrayLike<number>;
  readonly defaultLeft: ArrayLike<number>;
  /** The output (class) the tree adds to. */
  readonly group: number;
  /** The tree's weight (DART boosters scale trees; 1 otherwise). */
  readonly weight: number;
}

/** A booster's trees and the parameters that turn their sum into predictions. */
export interface XgbBooster {
  readonly objective: string;
  /**
   * The base score as saved (a probability for logistic objectives, a mean for log-link ones, a margin
   * otherwise): one value, or one per class where XGBoost ≥ 3.1 estimated a multi-class model's.
   */
  readonly baseScore: readonly number[];
  /** Classes for multi-class objectives, 0 otherwise. */
  readonly numClass: number;
  /** Outputs of a multi-target booster (one tree per target and round), 1 otherwise. */
  readonly numTarget: number;
  readonly numFeature: number;
  readonly trees: readonly XgbTree[];
  /** `num_parallel_tree`: the trees of a forest each round grows per output (1 for plain boosting). */
  readonly parallelTrees: number;
  /**
   * The `best_ntree_limit` attribute XGBoost 1.x's `xgb.train` saves (early stopping's best round, plus
   * one, times {@link parallelTrees}), which SageMaker's XGBoost container predicts with; XGBoost ≥ 2
   * saves none, and the container then predicts with every tree.
   */
  readonly bestNtreeLimit?: number;
  /** The XGBoost version that saved the model, for logs. */
  readonly version: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** How to re-save a model Sluice cannot read, for error messages. */
const RESAVE =
  "re-save it as JSON with XGBoost ≥ 1.0: `import xgboost; b = xgboost.Booster(); b.load_model('xgboost-model'); " +
  "b.save_model('xgboost-model.json')` and ship that file instead";
/** The same for a pickled booster, which only Python (with the XGBoost that pickled it) can load. */
const RESAVE_PICKLE =
  "re-save it as JSON with the XGBoost that pickled it: `import pickle; b = pickle.load(open('xgboost-model', 'rb')); " +
  "b.save_model('xgboost-model.json')` and ship that file instead";

/** Whether `bytes` begin as Python's pickles (protocol 2 and later) do. */
const isPickle = (bytes: Uint8Array) => bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5;

/** The booster in XGBoost's binary format, or why the bytes are not that format. */
function binaryBoosterOrReason(bytes: Uint8Array, file: string): XgbBooster | LegacyBinaryFormatError {
  try {
    return readLegacyBinaryBooster(bytes, file);
  } catch (cause) {
    if (cause instanceof LegacyBinaryFormatError) return cause;
    throw cause;
  }
}

/** The booster in XGBoost's binary format, or a `ConfigError` saying what the file is instead. */
function readBinaryBooster(bytes: Uint8Array, file: string): XgbBooster {
  const booster = binaryBoosterOrReason(bytes, file);
  if (!(booster instanceof LegacyBinaryFormatError)) return booster;
  if (isPickle(bytes)) {
    throw new ConfigError(
      `${file} is a Python pickle (as SageMaker's XGBoost 0.90 saved models), which Sluice does not unpickle: ${RESAVE_PICKLE}`,
    );
  }
  throw new ConfigError(
    `${file} is not an XGBoost model Sluice reads (JSON, UBJSON or XGBoost's binary format): as the binary format, ${booster.message}; ${RESAVE}`,
  );
}

/**
 * The booster in `bytes`, read by content: JSON or UBJSON (a document: `{` first), else XGBoost's binary
 * format. A binary model can begin with `{` too (the low byte of its base score), so a document that is
 * not valid UBJSON is tried as the binary format before it is refused.
 */
export function readXgbBooster(bytes: Uint8Array, file: string): XgbBooster {
  let start = 0;
  while (
    start < bytes.length &&
    (bytes[start] === 0x20 || bytes[start] === 0x0a || bytes[start] === 0x0d || bytes[start] === 0x09)
  )
    start++;
  if (bytes[start] !== 0x7b) return readBinaryBooster(bytes, file);
  const second = bytes[start + 1];
  const isJson =
    second === 0x22 || second === 0x7d || second === 0x20 || second === 0x0a || second === 0x0d || second === 0x09;
  let document: UbjValue;
  try {
    document = isJson ? (JSON.parse(utf8.decode(bytes)) as UbjValue) : decodeUbjson(bytes);
  } catch (cause) {
    const binary = isJson ? undefined : binaryBoosterOrReason(bytes, file);
    if (binary !== undefined && !(binary instanceof LegacyBinaryFormatError)) return binary;
    throw new ConfigError(
      `${file} is not a valid XGBoost ${isJson ? "JSON" : "UBJSON"} model: ${(cause as Error).message}`,
    );
  }
  return boosterOfDocument(document, file);
}

type Table = { [key: string]: UbjValue };
const isTable = (value: UbjValue | undefined): value is Table =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);

/** The booster saved as the JSON or UBJSON `document` (read from `file`, named in errors). */
function boosterOfDocument(document: UbjValue, file: string): XgbBooster {
  const fail = (what: string): never => {
    throw new ConfigError(`${file}: ${what}`);
  };
  const table = (value: UbjValue | undefined, path: string): Table => (isTable(value) ? value : fail(`has no ${path}`));
  const numberOf = (value: UbjValue | undefined, path: string): number => {
    // XGBoost writes parameters as strings ("5E-1"); Number("") would be 0.
    let number = value;
    if (typeof value === "string") number = value.trim() === "" ? Number.NaN : Number(value);
    else if (typeof value === "bigint") number = Number(value);
    return typeof number === "number" && !Number.isNaN(number) ? number : fail(`${path} is not a number`);
  };
  // XGBoost ≥ 2 writes base_score as a list in a string: "[5E-1]", one value per class from 3.1 on.
  const baseScoreOf = (value: UbjValue | undefined, path: string): number[] => {
    const list = typeof value === "string" ? /^\[(.*)\]$/.exec(value)?.[1] : undefined;
    return list === undefined ? [numberOf(value, path)] : list.split(",").map((item) => numberOf(item, path));
  };
  const numbers = (value: UbjValue | undefined, path: string): ArrayLike<number> => {
    if (Array.isArray(value)) return value.map((item, k) => numberOf(item, `${path}[${k}]`));
    if (value instanceof BigInt64Array) return Array.from(value, Number);
    if (ArrayBuffer.isView(value)) return value as ArrayLike<number> as Float32Array;
    return fail(`has no ${path}`);
  };

  const root = table(document, "JSON object");
  const learner = table(root.learner, "learner (is this an XGBoost model saved with save_model?)");
  const params = table(learner.learner_model_param, "learner.learner_model_param");
  const objective = table(learner.objective, "learner.objective").name;
  if (typeof objective !== "string") fail("has no learner.objective.name");
  const booster = table(learner.gradient_booster, "learner.gradient_booster");
  const boosterName = booster.name;
  if (boosterName === "gblinear") fail("is a linear booster (gblinear); Sluice converts tree boosters (gbtree, dart)");
  const gbtree = boosterName === "dart" ? table(booster.gbtree, "learner.gradient_booster.gbtree") : booster;
  const model = table(gbtree.model, "learner.gradient_booster.model");
  const rawTrees = model.trees;
  if (!Array.isArray(rawTrees)) fail("has no learner.gradient_booster.model.trees");
  const treeInfo = numbers(model.tree_info, "learner.gradient_booster.model.tree_info");
  const weights =
    boosterName === "dart" ? numbers(booster.weight_drop, "learner.gradient_booster.weight_drop") : undefined;
  const trees = (rawTrees as UbjValue[]).map((raw, t): XgbTree => {
    const tree = table(raw, `tree ${t}`);
    const path = (key: string) => `learner.gradient_booster.model.trees[${t}].${key}`;
    const splitType = tree.split_type === undefined ? undefined : numbers(tree.split_type, path("split_type"));
    const leafVector = isTable(tree.tree_param) ? tree.tree_param.size_leaf_vector : undefined;
    if (leafVector !== undefined && numberOf(leafVector, path("tree_param.size_leaf_vector")) > 1) {
      fail(`tree ${t} has vector leaves (multi_strategy=multi_output_tree), which Sluice does not convert`);
    }
    if (splitType !== undefined && Array.prototype.some.call(splitType, (type: number) => type !== 0)) {
      fail(`tree ${t} has categorical splits, which Sluice does not convert; one-hot encode the category instead`);
    }
    return {
      left: numbers(tree.left_children, path("left_children")),
      right: numbers(tree.right_children, path("right_children")),
      splitFeature: numbers(tree.split_indices, path("split_indices")),
      splitCondition: numbers(tree.split_conditions, path("split_conditions")),
      defaultLeft: numbers(tree.default_left, path("default_left")),
      group: treeInfo[t] ?? 0,
      weight: weights?.[t] ?? 1,
    };
  });
  const numTarget = Math.max(1, params.num_target === undefined ? 1 : numberOf(params.num_target, "num_target"));
  const numClass = numberOf(params.num_class ?? "0", "learner.learner_model_param.num_class");
  const treeParams = isTable(model.gbtree_model_param) ? model.gbtree_model_param : {};
  const parallelTrees = numberOf(treeParams.num_parallel_tree ?? "1", "gbtree_model_param.num_parallel_tree");
  const attributes = isTable(learner.attributes) ? learner.attributes : {};
  const version = Array.isArray(root.version) ? root.version.join(".") : "unknown";
  return {
    objective: objective as string,
    baseScore: baseScoreOf(params.base_score, "learner.learner_model_param.base_score"),
    numClass,
    numTarget,
    numFeature: numberOf(params.num_feature, "learner.learner_model_param.num_feature"),
    trees,
    parallelTrees: Math.max(1, parallelTrees),
    bestNtreeLimit:
      attributes.best_ntree_limit === undefined ? undefined : numberOf(attributes.best_ntree_limit, "best_ntree_limit"),
    version,
  };
}
