/**
 * Converts an XGBoost booster (or a k-fold training's boosters) to an ONNX graph that ONNX Runtime runs:
 * its trees become one `TreeEnsembleRegressor` (ai.onnx.ml) whose splits are XGBoost's (`feature <
 * threshold` goes left, a missing value (NaN) goes the way XGBoost learned), summed onto the base score
 * and transformed as the objective says. The graph takes `features [N, num_feature]` (float32) and
 * answers `predictions` as SageMaker's XGBoost container does with XGBoost's `predict`: one value per
 * record and target (a probability for logistic objectives, `exp` of the margin for log-link ones, the
 * class for `multi:softmax`) or, for `multi:softprob`, one probability per class.
 */
import { ConfigError } from "../../errors.js";
import { type Initializer, type NodeSpec, writeModel } from "../onnx-writer.js";
import type { XgbBooster, XgbTree } from "./booster.js";

/** Input and output names of converted models. */
export const XGBOOST_INPUT = "features";
export const XGBOOST_OUTPUT = "predictions";

/** The widest input served: a float32 row of 2^28 features is already 1 GiB. */
const MAX_FEATURES = 2 ** 28;

/**
 * How each supported objective turns the sum of leaves (the margin) into a prediction, and how its saved
 * base score becomes a margin (XGBoost's `PredTransform` and `ProbToMargin`; checked against XGBoost's
 * own `predict` for every objective here, see `scripts/make-tabular-fixtures.py`).
 */
const OBJECTIVES: Readonly<
  Record<
    string,
    { margin: "identity" | "logit" | "log"; transform: "NONE" | "LOGISTIC" | "SOFTMAX" | "ARGMAX" | "EXP" | "STEP" }
  >
> = {
  "reg:squarederror": { margin: "identity", transform: "NONE" },
  // The name of reg:squarederror before XGBoost 1.0.
  "reg:linear": { margin: "identity", transform: "NONE" },
  "reg:squaredlogerror": { margin: "identity", transform: "NONE" },
  "reg:pseudohubererror": { margin: "identity", transform: "NONE" },
  "reg:absoluteerror": { margin: "identity", transform: "NONE" },
  "reg:logistic": { margin: "logit", transform: "LOGISTIC" },
  "binary:logistic": { margin: "logit", transform: "LOGISTIC" },
  // The margin itself; its base score is a margin too (XGBoost does not take the logit of it).
  "binary:logitraw": { margin: "identity", transform: "NONE" },
  // 1 where the margin is positive, else 0.
  "binary:hinge": { margin: "identity", transform: "STEP" },
  "count:poisson": { margin: "log", transform: "EXP" },
  "reg:gamma": { margin: "log", transform: "EXP" },
  "reg:tweedie": { margin: "log", transform: "EXP" },
  // The hazard ratio, and the predicted survival time.
  "survival:cox": { margin: "log", transform: "EXP" },
  "survival:aft": { margin: "log", transform: "EXP" },
  // Ranking scores are margins.
  "rank:pairwise": { margin: "identity", transform: "NONE" },
  "rank:ndcg": { margin: "identity", transform: "NONE" },
  "rank:map": { margin: "identity", transform: "NONE" },
  "multi:softprob": { margin: "identity", transform: "SOFTMAX" },
  "multi:softmax": { margin: "identity", transform: "ARGMAX" },
};

/** The objectives {@link boostersToOnnx} converts. */
const SUPPORTED_OBJECTIVES = Object.keys(OBJECTIVES);

type Transform = (typeof OBJECTIVES)[string]["transform"];

/** Objectives whose folds vote (their answers are classes) rather than average. */
export const VOTED: ReadonlySet<string> = new Set(["multi:softmax", "binary:hinge"]);

/** One booster's part of the graph: the nodes that compute its predictions, and their shape. */
interface BoosterNodes {
  readonly nodes: NodeSpec[];
  readonly targets: number;
  readonly transform: Transform;
}

/**
 * Converts a booster, read from `files[0]`, to ONNX model bytes; or the boosters of a k-fold training
 * (SageMaker's `_kfold` leaves `xgboost-model-0` … `-k-1`) to one model that combines them as SageMaker's
 * XGBoost container does: the mean of their predictions, or for `multi:softmax` and `binary:hinge` the
 * most common answer (the smallest on a tie, as `scipy.stats.mode`). Throws a `ConfigError` naming what
 * it cannot convert.
 */
export function boostersToOnnx(boosters: readonly XgbBooster[], files: readonly string[]): Uint8Array {
  const parts = boosters.map((booster, k) =>
    boosters.length === 1
      ? predictionNodes(booster, files[k], "", XGBOOST_OUTPUT)
      : predictionNodes(booster, files[k], `fold${k}_`, `fold${k}_predictions`),
  );
  const { targets, transform } = parts[0];
  const first = boosters[0];
  boosters.forEach((booster, k) => {
    if (
      booster.objective !== first.objective ||
      booster.numFeature !== first.numFeature ||
      parts[k].targets !== targets
    ) {
      throw new ConfigError(
        `${files[k]} (${booster.objective}, ${booster.numFeature} features, ${parts[k].targets} outputs) does not match ` +
          `${files[0]} (${first.objective}, ${first.numFeature} features, ${targets} outputs): the folds of one training are alike`,
      );
    }
  });
  const nodes = parts.flatMap((part) => part.nodes);
  const initializers: Initializer[] = [];
  const folds = parts.map((_, k) => `fold${k}_predictions`);
  if (boosters.length > 1 && VOTED.has(first.objective)) {
    // A vote: each fold's answer (a class, or hinge's 0 or 1) one-hot, summed, the first of the most votes.
    const depth = transform === "ARGMAX" ? targets : 2;
    initializers.push(
      { name: "vote_depth", dims: [], data: BigInt64Array.of(BigInt(depth)) },
      { name: "vote_values", dims: [2], data: Float32Array.of(0, 1) },
    );
    for (const [k, fold] of folds.entries()) {
      nodes.push(
        { op: "Cast", inputs: [fold], outputs: [`fold${k}_answer`], attributes: { to: 7 } },
        { op: "OneHot", inputs: [`fold${k}_answer`, "vote_depth", "vote_values"], outputs: [`fold${k}_vote`] },
      );
    }
    nodes.push(
      { op: "Sum", inputs: folds.map((_, k) => `fold${k}_vote`), outputs: ["votes"] },
      { op: "ArgMax", inputs: ["votes"], outputs: ["winner"], attributes: { axis: -1, keepdims: 0 } },
      { op: "Cast", inputs: ["winner"], outputs: [XGBOOST_OUTPUT], attributes: { to: 1 } },
    );
  } else if (boosters.length > 1) {
    nodes.push({ op: "Mean", inputs: folds, outputs: [XGBOOST_OUTPUT] });
  }
  const name = boosters.length === 1 ? first.objective : `${first.objective}_${boosters.length}_folds`;
  return writeModel({
    name: `xgboost_${name.replace(":", "_")}`,
    inputs: [{ name: XGBOOST_INPUT, type: "float32", shape: ["N", first.numFeature] }],
    outputs: [{ name: XGBOOST_OUTPUT, type: "float32", shape: ["N", transform === "ARGMAX" ? 1 : targets] }],
    initializers,
    nodes,
    opset: 13,
    domainOpsets: { "ai.onnx.ml": 3 },
  });
}

/**
 * The nodes that compute `booster`'s predictions from the features into `output`, their intermediate
 * values named with `prefix`.
 */
function predictionNodes(booster: XgbBooster, file: string, prefix: string, output: string): BoosterNodes {
  const objective = OBJECTIVES[booster.objective];
  if (objective === undefined) {
    throw new ConfigError(
      `${file}: XGBoost objective ${booster.objective} is not one Sluice converts (${SUPPORTED_OBJECTIVES.join(", ")}); ` +
        "convert the model to ONNX yourself (onnxmltools) and ship the .onnx file",
    );
  }
  const multiClass = booster.objective.startsWith("multi:");
  if (multiClass && !(booster.numClass >= 2))
    throw new ConfigError(`${file}: ${booster.objective} needs num_class ≥ 2`);
  if (multiClass && booster.numTarget > 1)
    throw new ConfigError(`${file}: ${booster.objective} with ${booster.numTarget} targets (XGBoost trains neither)`);
  // A multi-target booster's outputs are transformed one by one, as a single target's is.
  const targets = multiClass ? booster.numClass : booster.numTarget;
  // Each boosting round adds a tree per output: more outputs than trees is a damaged file.
  if (targets > Math.max(booster.trees.length, 1)) {
    throw new ConfigError(`${file} says it has ${targets} outputs but has ${booster.trees.length} trees`);
  }
  if (!(booster.numFeature >= 1 && booster.numFeature <= MAX_FEATURES)) {
    throw new ConfigError(`${file} says it takes ${booster.numFeature} features (1 to ${MAX_FEATURES} can be served)`);
  }
  const scores = booster.baseScore;
  if (scores.length !== 1 && scores.length !== targets) {
    throw new ConfigError(`${file}: base_score has ${scores.length} values for ${targets} output(s)`);
  }
  const baseValues = Array.from({ length: targets }, (_, k) =>
    baseMargin(objective.margin, scores[scores.length === 1 ? 0 : k], file),
  );

  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missingTracksTrue: number[] = [];
  const targetTreeIds: number[] = [];
  const targetNodeIds: number[] = [];
  const targetIds: number[] = [];
  const targetWeights: number[] = [];
  treesPredictingWith(booster, file).forEach((tree, t) => {
    if (tree.group >= targets) throw new ConfigError(`${file}: tree ${t} adds to class ${tree.group} of ${targets}`);
    checkIsTree(tree, t, file);
    for (let node = 0; node < tree.left.length; node++) {
      const leaf = tree.left[node] === -1;
      treeIds.push(t);
      nodeIds.push(node);
      if (leaf) {
        featureIds.push(0);
        modes.push("LEAF");
        values.push(0);
        trueIds.push(0);
        falseIds.push(0);
        missingTracksTrue.push(0);
        targetTreeIds.push(t);
        targetNodeIds.push(node);
        targetIds.push(tree.group);
        targetWeights.push(tree.splitCondition[node] * tree.weight);
        continue;
      }
      const feature = tree.splitFeature[node];
      if (!(feature >= 0 && feature < booster.numFeature)) {
        throw new ConfigError(`${file}: tree ${t} splits on feature ${feature} of ${booster.numFeature}`);
      }
      featureIds.push(feature);
      modes.push("BRANCH_LT");
      values.push(tree.splitCondition[node]);
      trueIds.push(tree.left[node]);
      falseIds.push(tree.right[node]);
      missingTracksTrue.push(tree.defaultLeft[node] ? 1 : 0);
    }
  });

  const transform = objective.transform;
  const margins = `${prefix}margins`;
  const ensembleOutput = transform === "NONE" ? output : margins;
  const nodes: NodeSpec[] = [
    {
      op: "TreeEnsembleRegressor",
      domain: "ai.onnx.ml",
      inputs: [XGBOOST_INPUT],
      outputs: [ensembleOutput],
      attributes: {
        n_targets: targets,
        aggregate_function: "SUM",
        post_transform: "NONE",
        base_values: { floats: baseValues },
        nodes_treeids: treeIds,
        nodes_nodeids: nodeIds,
        nodes_featureids: featureIds,
        nodes_modes: { strings: modes },
        nodes_values: { floats: values },
        nodes_truenodeids: trueIds,
        nodes_falsenodeids: falseIds,
        nodes_missing_value_tracks_true: missingTracksTrue,
        target_treeids: targetTreeIds,
        target_nodeids: targetNodeIds,
        target_ids: targetIds,
        target_weights: { floats: targetWeights },
      },
    },
  ];
  // The transform runs as standard operators: ONNX Runtime's regressor ignores a LOGISTIC post_transform.
  if (transform === "LOGISTIC") nodes.push({ op: "Sigmoid", inputs: [margins], outputs: [output] });
  if (transform === "SOFTMAX")
    nodes.push({ op: "Softmax", inputs: [margins], outputs: [output], attributes: { axis: 1 } });
  if (transform === "EXP") nodes.push({ op: "Exp", inputs: [margins], outputs: [output] });
  // Relu(Sign(m)): 1 for a positive margin, 0 for zero or a negative one, as XGBoost's hinge answers.
  if (transform === "STEP") {
    nodes.push(
      { op: "Sign", inputs: [margins], outputs: [`${prefix}sign`] },
      { op: "Relu", inputs: [`${prefix}sign`], outputs: [output] },
    );
  }
  if (transform === "ARGMAX") {
    nodes.push(
      { op: "ArgMax", inputs: [margins], outputs: [`${prefix}class`], attributes: { axis: 1, keepdims: 1 } },
      { op: "Cast", inputs: [`${prefix}class`], outputs: [output], attributes: { to: 1 } },
    );
  }
  return { nodes, targets, transform };
}

/**
 * The margin a saved base score stands for. XGBoost saves it as a prediction (a probability for the
 * logistic objectives, a mean for the log-link ones) and converts it when it loads the model.
 */
function baseMargin(margin: "identity" | "logit" | "log", score: number, file: string): number {
  if (margin === "identity") return score;
  if (margin === "logit") {
    if (!(score > 0 && score < 1)) throw new ConfigError(`${file}: base_score ${score} is not a probability in (0, 1)`);
    return Math.log(score / (1 - score));
  }
  if (!(score > 0)) throw new ConfigError(`${file}: base_score ${score} is not positive, as a log link needs`);
  return Math.log(score);
}

/**
 * Throws unless every node of `tree` is reached from the root once at most, through children that exist:
 * a damaged file could otherwise send ONNX Runtime round a loop.
 */
function checkIsTree(tree: XgbTree, t: number, file: string): void {
  const nodes = tree.left.length;
  const reached = new Uint8Array(nodes);
  const pending = [0];
  while (pending.length > 0) {
    const node = pending.pop() as number;
    if (!(node >= 0 && node < nodes) || reached[node] === 1) {
      throw new ConfigError(`${file}: tree ${t} is not a tree (node ${node} is missing or reached twice)`);
    }
    reached[node] = 1;
    if (tree.left[node] !== -1) pending.push(tree.left[node], tree.right[node]);
  }
}

/**
 * The trees predictions use: with a `best_ntree_limit` (XGBoost 1.x records early stopping's best round
 * so), those of the rounds up to the best, as SageMaker's XGBoost container predicts
 * (`ntree_limit=best_ntree_limit`, which XGBoost reads as that many rounds of `num_parallel_tree`
 * trees); else all of them.
 */
export function treesPredictingWith(booster: XgbBooster, file: string): readonly XgbTree[] {
  const limit = booster.bestNtreeLimit;
  if (limit === undefined || limit === 0) return booster.trees;
  if (!(Number.isInteger(limit) && limit > 0))
    throw new ConfigError(`${file}: best_ntree_limit ${limit} is not a count`);
  // Each round adds a forest of `parallelTrees` trees per class (or target).
  const treesPerRound = booster.parallelTrees * (booster.numClass >= 2 ? booster.numClass : booster.numTarget);
  return booster.trees.slice(0, Math.floor(limit / booster.parallelTrees) * treesPerRound);
}
