/**
 * Reads XGBoost's binary model format: what `save_model` wrote before XGBoost 2.0 for a file name without
 * `.json` or `.ubj`, and so what SageMaker's XGBoost containers (up to 1.7-1) leave as `xgboost-model`. The
 * format is XGBoost's C++ structs written as they sit in memory (little-endian):
 *
 * - the learner's parameters, 136 bytes: `base_score` (float32), `num_feature`, `num_class`, two flags,
 *   the saving version (major, minor) and, from 1.7 on, `num_target`;
 * - the objective's and the booster's names, each a uint64 length and its bytes;
 * - the tree booster's parameters, 160 bytes (`num_trees` first);
 * - each tree: its parameters (148 bytes, `num_nodes` second), then per node 20 bytes (parent, left and
 *   right child, the split feature with the default direction in its top bit, the threshold or leaf
 *   value), then per node 16 bytes of training statistics;
 * - one int32 per tree: the class it adds to;
 * - for DART, the trees' weights: a uint64 count and as many float32s.
 *
 * - the learner's attributes, when its header says it has some: a uint64 count of pairs of strings.
 *   Early stopping's `best_ntree_limit` is one.
 *
 * What follows (objective parameters, metrics) does not change predictions and is not read.
 */
import { ConfigError } from "../../errors.js";
import type { XgbBooster, XgbTree } from "./booster.js";

const LEARNER_PARAMETERS_BYTES = 136;
const TREE_BOOSTER_PARAMETERS_BYTES = 160;
const TREE_PARAMETERS_BYTES = 148;
const NODE_BYTES = 20;
const NODE_STATISTICS_BYTES = 16;
/** A node XGBoost's pruner deleted: unreachable from the root, its split index all ones. */
const DELETED_NODE = 0xffffffff;
/** Strings longer than this (names, attribute values such as a saved configuration) mean a damaged file. */
const MAX_STRING_BYTES = 1 << 20;

const utf8 = new TextDecoder("utf-8");

/** Why bytes could not be read as the binary format at all (they may be something else); the caller names the file. */
export class LegacyBinaryFormatError extends Error {}

/**
 * Reads the binary-format booster in `bytes` (which may begin with the `binf` marker some writers add),
 * from `file`. Throws a {@link LegacyBinaryFormatError} for bytes that are not the format, and a
 * `ConfigError` for a booster Sluice does not convert.
 */
export function readLegacyBinaryBooster(bytes: Uint8Array, file: string): XgbBooster {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = bytes.length >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === "binf" ? 4 : 0;
  const need = (length: number, what: string) => {
    if (offset + length > bytes.length) {
      throw new LegacyBinaryFormatError(`it ends inside ${what} (byte ${offset} of ${bytes.length}, ${length} needed)`);
    }
  };
  /** A string as dmlc writes one: a uint64 length, then the bytes. */
  const text = (what: string): string => {
    need(8, what);
    const length = view.getBigUint64(offset, true);
    offset += 8;
    if (length > BigInt(MAX_STRING_BYTES))
      throw new LegacyBinaryFormatError(`its ${what} would be ${length} bytes long`);
    need(Number(length), what);
    const value = utf8.decode(bytes.subarray(offset, offset + Number(length)));
    offset += Number(length);
    return value;
  };
  const name = (what: string): string => {
    const value = text(what);
    if (!/^[\x21-\x7e]{1,256}$/.test(value)) throw new LegacyBinaryFormatError(`its ${what} is not a name`);
    return value;
  };

  need(LEARNER_PARAMETERS_BYTES, "the learner's parameters");
  const baseScore = view.getFloat32(offset, true);
  const numFeature = view.getUint32(offset + 4, true);
  const numClass = view.getInt32(offset + 8, true);
  const hasAttributes = view.getInt32(offset + 12, true) !== 0;
  const major = view.getUint32(offset + 20, true);
  const minor = view.getUint32(offset + 24, true);
  // Zero before 1.7, which had no such field.
  const numTarget = view.getUint32(offset + 28, true);
  offset += LEARNER_PARAMETERS_BYTES;
  const objective = name("objective");
  const boosterName = name("booster name");
  if (boosterName === "gblinear") {
    throw new ConfigError(`${file} is a linear booster (gblinear); Sluice converts tree boosters (gbtree, dart)`);
  }
  if (boosterName !== "gbtree" && boosterName !== "dart") {
    throw new LegacyBinaryFormatError(`its booster is "${boosterName}", not gbtree or dart`);
  }

  need(TREE_BOOSTER_PARAMETERS_BYTES, "the tree booster's parameters");
  const numTrees = view.getInt32(offset, true);
  const parallelTrees = view.getInt32(offset + 4, true);
  offset += TREE_BOOSTER_PARAMETERS_BYTES;
  if (numTrees < 0) throw new LegacyBinaryFormatError(`it says it has ${numTrees} trees`);

  const trees: Omit<XgbTree, "group" | "weight">[] = [];
  for (let t = 0; t < numTrees; t++) {
    need(TREE_PARAMETERS_BYTES, `tree ${t}'s parameters`);
    const numNodes = view.getInt32(offset + 4, true);
    const leafVector = view.getInt32(offset + 20, true);
    offset += TREE_PARAMETERS_BYTES;
    if (numNodes < 1) throw new LegacyBinaryFormatError(`tree ${t} says it has ${numNodes} nodes`);
    if (leafVector > 1) throw new ConfigError(`${file}: tree ${t} has vector leaves, which Sluice does not convert`);
    need(numNodes * (NODE_BYTES + NODE_STATISTICS_BYTES), `tree ${t}'s ${numNodes} nodes`);
    const left = new Int32Array(numNodes);
    const right = new Int32Array(numNodes);
    const splitFeature = new Uint32Array(numNodes);
    const splitCondition = new Float32Array(numNodes);
    const defaultLeft = new Uint8Array(numNodes);
    for (let node = 0; node < numNodes; node++, offset += NODE_BYTES) {
      const splitIndex = view.getUint32(offset + 12, true);
      const deleted = splitIndex === DELETED_NODE;
      left[node] = deleted ? -1 : view.getInt32(offset + 4, true);
      right[node] = deleted ? -1 : view.getInt32(offset + 8, true);
      splitFeature[node] = splitIndex & 0x7fffffff;
      defaultLeft[node] = splitIndex >>> 31;
      splitCondition[node] = deleted ? 0 : view.getFloat32(offset + 16, true);
      const isChild = (child: number) => child > 0 && child < numNodes && child !== node;
      if (left[node] !== -1 && !(isChild(left[node]) && isChild(right[node]))) {
        throw new LegacyBinaryFormatError(`tree ${t}'s node ${node} has children ${left[node]} and ${right[node]}`);
      }
    }
    offset += numNodes * NODE_STATISTICS_BYTES;
    trees.push({ left, right, splitFeature, splitCondition, defaultLeft });
  }
  need(4 * numTrees, "the trees' classes");
  const groups = Array.from({ length: numTrees }, (_, t) => view.getInt32(offset + 4 * t, true));
  offset += 4 * numTrees;
  let weights: Float32Array | undefined;
  if (boosterName === "dart") {
    need(8, "the DART trees' weights");
    const count = Number(view.getBigUint64(offset, true));
    offset += 8;
    if (count !== numTrees) throw new LegacyBinaryFormatError(`it has ${count} DART weights for ${numTrees} trees`);
    need(4 * count, "the DART trees' weights");
    weights = new Float32Array(count);
    for (let t = 0; t < count; t++) weights[t] = view.getFloat32(offset + 4 * t, true);
    offset += 4 * count;
  }
  // The learner's attributes (pairs of strings), where early stopping's best round is kept.
  let bestNtreeLimit: number | undefined;
  if (hasAttributes) {
    need(8, "the attributes");
    const count = view.getBigUint64(offset, true);
    offset += 8;
    if (count > 10_000n) throw new LegacyBinaryFormatError(`it says it has ${count} attributes`);
    for (let k = 0; k < Number(count); k++) {
      // Any text: users set attributes of their own with set_attr.
      const key = text("attribute name");
      const value = text("attribute value");
      if (key === "best_ntree_limit") bestNtreeLimit = Number(value);
    }
  }
  if (bestNtreeLimit !== undefined && !(Number.isInteger(bestNtreeLimit) && bestNtreeLimit >= 0)) {
    throw new LegacyBinaryFormatError("its best_ntree_limit attribute is not a count of trees");
  }
  return {
    objective,
    baseScore: [baseScore],
    numClass,
    numTarget: Math.max(1, numTarget),
    numFeature,
    parallelTrees: Math.max(1, parallelTrees),
    bestNtreeLimit,
    trees: trees.map((tree, t) => ({ ...tree, group: groups[t], weight: weights?.[t] ?? 1 })),
    version: major === 0 ? "before 1.0 (binary)" : `${major}.${minor} (binary)`,
  };
}
