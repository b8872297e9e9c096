/**
 * The shapes a JSON request may take, in one place. Two are TensorFlow Serving's:
 * - `{"instances": [record, …]}`, row by row. The framer streams the records of the array, so a body
 *   of millions of records is never held whole.
 * - `{"inputs": …}`, columnar: one array of rows per input name, or an array of records. The decoder
 *   reads it as one frame and checks it whole before any record runs, since its columns must agree.
 * The others are a top-level array of records, and one record (an array of numbers, an object keyed
 * by input name, `{"features": […]}`, a bare number). Whether a top-level array is a batch or one
 * record depends on the model: it is a batch when nested deeper than one record ({@link recordRank}).
 */
import type { ModelSignature } from "../../src/index.js";

/** The key of TensorFlow Serving's row format, streamed by the framer. */
export const INSTANCES_KEY = "instances";

/** The key of TensorFlow Serving's columnar format, read whole by the decoder. */
export const INPUTS_KEY = "inputs";

/** The key of a record given as a flat array under a name. */
export const FEATURES_KEY = "features";

/** Array nesting of one record: that of the model's input when it has one, else 1 (flat rows). */
export function recordRank(signature: ModelSignature): number {
  return signature.inputs.length === 1 ? signature.inputs[0].recordShape.length : 1;
}
