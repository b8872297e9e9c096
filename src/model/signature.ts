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
  | "uint32"
  | "uint64"
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
   * Inputs only: true when a value a sparse record does not list (a LibSVM index left out, a key missing
   * from a RecordIO-protobuf record) means missing (NaN) rather than 0, as XGBoost reads sparse data: set
   * for the boosters Sluice converts, so that they answer as SageMaker's XGBoost container does.
   */
  readonly absentIsMissing?: boolean;
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

/** The values an integer element type holds, both bounds included. */
export interface IntegerRange {
  readonly min: number;
  readonly max: number;
}

const INTEGER_RANGES: Partial<Record<ElementType, IntegerRange>> = {
  bool: { min: 0, max: 1 },
  int8: { min: -128, max: 127 },
  uint8: { min: 0, max: 255 },
  int16: { min: -32768, max: 32767 },
  uint16: { min: 0, max: 65535 },
  int32: { min: -(2 ** 31), max: 2 ** 31 - 1 },
  uint32: { min: 0, max: 2 ** 32 - 1 },
  // The largest double below 2^63: the next one up would wrap around in a BigInt64Array.
  int64: { min: -(2 ** 63), max: 2 ** 63 - 1024 },
  // The largest double below 2^64, likewise for a BigUint64Array.
  uint64: { min: 0, max: 2 ** 64 - 2048 },
};

/**
 * The range of an integer element type, or undefined for a float or string one. A typed array stores a
 * value outside it wrapped around (300 in an `Int8Array` is 44), so a codec refuses such a value, as it
 * refuses a fraction, rather than let the model answer for another number.
 */
export function integerRange(type: ElementType): IntegerRange | undefined {
  return INTEGER_RANGES[type];
}

/** Whether `value` is an integer within `range`. */
export function isIntegerIn(value: number, range: IntegerRange): boolean {
  return Number.isInteger(value) && value >= range.min && value <= range.max;
}

/** What an integer element type takes, for messages: `an int8 (-128 to 127)`. */
export function describeIntegerType(type: ElementType): string {
  if (type === "bool") return "a bool (0 or 1)";
  if (type === "int64") return "an int64";
  if (type === "uint64") return "a uint64";
  const range = INTEGER_RANGES[type];
  return range ? `${type.startsWith("u") ? "a" : "an"} ${type} (${range.min} to ${range.max})` : type;
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
