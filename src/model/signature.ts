/**
 * What a model takes and gives: tensor names, element types and shapes, as read from the ONNX file.
 * Codecs read this to know how many values a record holds for each input.
 */

/** Element types Sluice can feed to and read from a model. */
export type ElementType =
  | "float32"
  | "float16"
  | "float64"
  | "int32"
  | "int64"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "bool"
  | "string";

/** Typed arrays that hold plain numbers: the staging type of every numeric model input. */
export type NumericArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

/** Typed arrays of integers that fit in 32 bits: every integer type but the 64-bit ones. */
export type Int32RangeArray = Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

/** Whether `values` is an {@link Int32RangeArray}. */
export function isInt32RangeArray(values: unknown): values is Int32RangeArray {
  return (
    values instanceof Int32Array ||
    values instanceof Int16Array ||
    values instanceof Int8Array ||
    values instanceof Uint8Array ||
    values instanceof Uint16Array
  );
}

/** The staging of a string input: one JavaScript string per value. */
export type TextArray = string[];

/** What an input is staged in: typed arrays for numbers, {@link TextArray} for strings. */
export type InputArray = NumericArray | TextArray;

/** What an output tensor's data can be: plain numbers, bigint for 64-bit integers, or strings. */
export type OutputValues = NumericArray | BigInt64Array | BigUint64Array | readonly string[];

/** One model input or output. */
export interface TensorSpec {
  /** The tensor's name in the graph. */
  readonly name: string;
  /** Its element type. */
  readonly type: ElementType;
  /** Its shape without the leading batch axis (`[784]` for `[N, 784]`; `[]` for `[N]`). */
  readonly recordShape: readonly number[];
  /** Values per record: the product of `recordShape` (1 for `[N]`). */
  readonly width: number;
  /**
   * Inputs only: true for a float input whose model reads missing values (NaN), as tree ensembles do.
   * Codecs then write NaN for a value the record leaves out (an empty CSV field, a JSON `null`); otherwise
   * such a record is refused.
   */
  readonly acceptsMissing?: boolean;
  /**
   * Outputs only: set when the model answers a map per record (scikit-learn's ZipMap, a sequence of
   * maps from class to probability). Sluice runs the model for the map's values, a tensor of
   * `keys.length` values per record in this order; encoders that can write a map pair them with these
   * keys (class labels, integer labels written in decimal).
   */
  readonly mapKeys?: readonly string[];
}

/** A model's inputs and outputs, in graph order. */
export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Largest number of records per run the model accepts (its batch axis when fixed), or `Infinity`. */
  readonly maxBatchRows: number;
}

/** True when `spec` holds strings (the codec must read or write text for it). */
export function isTextTensor(spec: TensorSpec): boolean {
  return spec.type === "string";
}

/** Sum of the widths of all inputs: the number of values a flat (CSV-like) record must hold. */
export function totalInputWidth(signature: ModelSignature): number {
  return totalWidth(signature.inputs);
}

/** Sum of the widths of all outputs: the number of values answered per record. */
export function totalOutputWidth(signature: ModelSignature): number {
  return totalWidth(signature.outputs);
}

function totalWidth(specs: readonly TensorSpec[]): number {
  let total = 0;
  for (const spec of specs) total += spec.width;
  return total;
}
