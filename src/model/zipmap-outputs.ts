/**
 * Classifiers converted by skl2onnx answer their probabilities through a ZipMap node: a sequence of
 * maps from class label to probability, which ONNX Runtime's Node binding cannot return. Sluice swaps
 * each ZipMap that produces a graph output for an Identity node, so the model answers the tensor the
 * ZipMap was given (one probability per class, in label order) under the same output name, and keeps
 * the labels so that encoders can write a map per record again.
 */
import { ConfigError } from "../errors.js";
import { GraphFields, type GraphLayout, lengthDelimited, readNodeAttribute, spliceGraph } from "./onnx-wire.js";
import { encodeNode, encodeValueInfo } from "./onnx-writer.js";

/** A model with its ZipMap outputs unwrapped. */
export interface UnwrappedZipMaps {
  readonly bytes: Uint8Array;
  /** The class labels of each unwrapped output, by output name. */
  readonly mapKeys: ReadonlyMap<string, readonly string[]>;
}

/** Rewrites the ZipMap nodes that produce outputs of the model in `bytes`; undefined when there are none. */
export function unwrapZipMapOutputs(bytes: Uint8Array, layout: GraphLayout): UnwrappedZipMaps | undefined {
  const outputs = new Map(layout.outputs.map((output) => [output.name, output]));
  const replacements = new Map<number, Uint8Array>();
  const mapKeys = new Map<string, readonly string[]>();
  for (const node of layout.nodes) {
    if (node.opType !== "ZipMap" || node.outputs.length !== 1) continue;
    const output = outputs.get(node.outputs[0]);
    if (output === undefined) continue;
    const labels =
      readNodeAttribute(bytes, node, "classlabels_int64s")?.ints ??
      readNodeAttribute(bytes, node, "classlabels_strings")?.strings;
    if (labels === undefined || labels.length === 0) {
      throw new ConfigError(`the ZipMap node producing output "${output.name}" lists no class labels`);
    }
    const identity = encodeNode(
      { op: "Identity", inputs: node.inputs, outputs: node.outputs },
      `${node.name}_unwrapped`,
    );
    replacements.set(node.wire.start, lengthDelimited(GraphFields.node, identity));
    const tensor = encodeValueInfo({ name: output.name, type: "float32", shape: ["N", labels.length] });
    replacements.set(output.wire.start, lengthDelimited(GraphFields.output, tensor));
    mapKeys.set(output.name, labels);
  }
  if (mapKeys.size === 0) return undefined;
  return { bytes: spliceGraph(bytes, layout, replacements), mapKeys };
}
