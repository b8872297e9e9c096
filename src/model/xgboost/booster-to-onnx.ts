/**
 * Converts an XGBoost booster to an ONNX graph that ONNX Runtime runs: its trees become one
 * `TreeEnsembleRegressor` (ai.onnx.ml) whose splits are XGBoost's (`feature < threshold` goes left, a
 * missing value (NaN) goes the way XGBoost learned), summed onto the base score and transformed as the
 * objective says. The graph takes `features [N, num_feature]` (float32) and answers `predictions`, as
 * XGBoost's `predict` does: one value per record (a probability for logistic objectives, the class for
 * `multi:softmax`) or, for `multi:softprob`, one probability per class.
 */
import { ConfigError } from "../../errors.js";
import { type NodeSpec, writeModel } from "../onnx-writer.js";
import type { XgbBooster } from "./booster.js";

/** Input and output names of converted models. */
export const XGBOOST_INPUT = "features";
export const XGBOOST_OUTPUT = "predictions";

/** How each supported objective turns the sum of leaves (the margin) into a prediction. */
const OBJECTIVES: Readonly<
  Record<string, { margin: "identity" | "logit"; transform: "NONE" | "LOGISTIC" | "SOFTMAX" | "ARGMAX" }>
> = {
  "reg:squarederror": { margin: "identity", transform: "NONE" },
  // The name of reg:squarederror before XGBoost 1.0.
  "reg:linear": { margin: "identity", transform: "NONE" },
  "reg:logistic": { margin: "logit", transform: "LOGISTIC" },
  "binary:logistic": { margin: "logit", transform: "LOGISTIC" },
  "multi:softprob": { margin: "identity", transform: "SOFTMAX" },
  "multi:softmax": { margin: "identity", transform: "ARGMAX" },
};

/** The objectives {@link boosterToOnnx} converts. */
export const SUPPORTED_OBJECTIVES = Object.keys(OBJECTIVES);

/** Converts `booster` to ONNX model bytes; throws a `ConfigError` naming an objective it cannot convert. */
export function boosterToOnnx(booster: XgbBooster, file: string): Uint8Array {
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
  const targets = multiClass ? booster.numClass : 1;
  const base = objective.margin === "logit" ? Math.log(booster.baseScore / (1 - booster.baseScore)) : booster.baseScore;

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
  booster.trees.forEach((tree, t) => {
    if (tree.group >= targets) throw new ConfigError(`${file}: tree ${t} adds to class ${tree.group} of ${targets}`);
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
  const ensembleOutput = transform === "NONE" ? XGBOOST_OUTPUT : "margins";
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
        base_values: { floats: new Array(targets).fill(base) },
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
  if (transform === "LOGISTIC") nodes.push({ op: "Sigmoid", inputs: ["margins"], outputs: [XGBOOST_OUTPUT] });
  if (transform === "SOFTMAX")
    nodes.push({ op: "Softmax", inputs: ["margins"], outputs: [XGBOOST_OUTPUT], attributes: { axis: 1 } });
  if (transform === "ARGMAX") {
    nodes.push(
      { op: "ArgMax", inputs: ["margins"], outputs: ["class"], attributes: { axis: 1, keepdims: 1 } },
      { op: "Cast", inputs: ["class"], outputs: [XGBOOST_OUTPUT], attributes: { to: 1 } },
    );
  }
  return writeModel({
    name: `xgboost_${booster.objective.replace(":", "_")}`,
    inputs: [{ name: XGBOOST_INPUT, type: "float32", shape: ["N", booster.numFeature] }],
    outputs: [{ name: XGBOOST_OUTPUT, type: "float32", shape: ["N", transform === "SOFTMAX" ? targets : 1] }],
    nodes,
    opset: 13,
    domainOpsets: { "ai.onnx.ml": 3 },
  });
}
