/**
 * Reuses the typed arrays batches are staged in: a batch's arrays come back from the backend after its
 * run and stage a later batch, so a long invocation allocates a handful of arrays, not one set per batch.
 */
import type { ElementType, InputArray, ModelSignature, NumericArray } from "./model/signature.js";

/**
 * The typed array a batch stages numbers of an element type in (64-bit integers are staged as doubles,
 * halves as float32: both are converted as they are fed).
 */
export function stagingArray(type: Exclude<ElementType, "string">, length: number): NumericArray {
  switch (type) {
    case "float32":
    case "float16":
      return new Float32Array(length);
    case "int32":
      return new Int32Array(length);
    case "int16":
      return new Int16Array(length);
    case "int8":
      return new Int8Array(length);
    case "uint8":
    case "bool":
      return new Uint8Array(length);
    case "uint16":
      return new Uint16Array(length);
    default:
      return new Float64Array(length);
  }
}

/** Arrays kept per input: enough for the batches one invocation keeps in flight, a few invocations over. */
const KEPT_PER_INPUT = 16;

/** Staging arrays for one model's inputs, zero-filled when handed out unless the taker fills every value. */
export class BatchBufferPool {
  readonly #free: NumericArray[][];

  constructor(readonly signature: ModelSignature) {
    this.#free = signature.inputs.map(() => []);
  }

  /**
   * An array of `length` values for input `inputIndex`: zero-filled, or when `zeroed` is false, as a
   * previous batch left it (for a taker that writes every value).
   */
  take(inputIndex: number, length: number, zeroed = true): NumericArray {
    const free = this.#free[inputIndex];
    while (free.length > 0) {
      const reused = free.pop() as NumericArray;
      if (reused.length === length) return zeroed ? reused.fill(0) : reused;
    }
    const type = this.signature.inputs[inputIndex].type;
    if (type === "string") throw new TypeError("string inputs are staged in string arrays, not typed arrays");
    return stagingArray(type, length);
  }

  /** Returns a batch's typed arrays (in input order) for reuse; string arrays are left to the collector. */
  give(arrays: readonly InputArray[]): void {
    arrays.forEach((array, inputIndex) => {
      const free = this.#free[inputIndex];
      if (free !== undefined && free.length < KEPT_PER_INPUT && !Array.isArray(array) && array.byteLength > 0)
        free.push(array);
    });
  }
}
