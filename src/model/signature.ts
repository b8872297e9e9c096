/**
 * What a model takes and gives: tensor names, element types and shapes, as read from the ONNX file.
 * Codecs read this to know how many values a record holds for each input.
 */

/** Element types Sluice can feed to and read from a model. */
export type ElementType = "float32" | "float64" | "int32" | "int64" | "int8" | "uint8" | "int16" | "uint16" | "bool";

/** Typed arrays that hold plain numbers: the staging type of every model input. */
export type NumericArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

/** What an output tensor's data can be: plain numbers, or bigint for 64-bit integers. */
export type OutputValues = NumericArray | BigInt64Array | BigUint64Array;

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
}

/** A model's inputs and outputs, in graph order. */
export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Largest number of records per run the model accepts (its batch axis when fixed), or `Infinity`. */
  readonly maxBatchRows: number;
}

/** Sum of the widths of all inputs: the number of values a flat (CSV-like) record must hold. */
export function totalInputWidth(signature: ModelSignature): number {
  let total = 0;
  for (const input of signature.inputs) total += input.width;
  return total;
}
