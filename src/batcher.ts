/**
 * Packs decoded records into contiguous typed arrays, one per model input, so that a batch goes to the
 * backend without copying value by value.
 */
import type { RecordSink, RecordSlots } from "./codec/record-codec.js";
import type { RecordError } from "./errors.js";
import type { ElementType, ModelSignature, NumericArray } from "./model/signature.js";

/** Records ready for the backend: `inputs[i]` holds `rows × width` values of input i (plus unused capacity). */
export interface InputBatch {
  readonly rows: number;
  readonly firstRecordIndex: number;
  readonly inputs: readonly NumericArray[];
  /** Rows that hold no real record (decode failed under the placeholder policy). */
  readonly recordErrors: ReadonlyMap<number, RecordError>;
}

/** The typed array a batch stages values of an element type in (64-bit integers are staged as doubles). */
export function stagingArray(type: ElementType, length: number): NumericArray {
  switch (type) {
    case "float32":
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

class Batch implements RecordSlots {
  rows = 0;
  readonly inputs: NumericArray[];
  readonly recordErrors = new Map<number, RecordError>();
  readonly #widths: number[];

  constructor(
    signature: ModelSignature,
    readonly capacity: number,
    readonly firstRecordIndex: number,
  ) {
    this.#widths = signature.inputs.map((input) => input.width);
    this.inputs = signature.inputs.map((input) => stagingArray(input.type, capacity * input.width));
  }

  input(inputIndex: number): NumericArray {
    const width = this.#widths[inputIndex];
    const start = (this.rows - 1) * width;
    return this.inputs[inputIndex].subarray(start, start + width);
  }
}

/**
 * The record sink the pipeline hands to decoders. Starts a new batch when the current one is full and
 * passes each full batch to `onBatch`, in order.
 */
export class Batcher implements RecordSink {
  #batch: Batch;
  #nextRecordIndex = 0;

  constructor(
    readonly signature: ModelSignature,
    readonly maxRows: number,
    private readonly onBatch: (batch: InputBatch) => void,
  ) {
    this.#batch = new Batch(signature, maxRows, 0);
  }

  get nextRecordIndex(): number {
    return this.#nextRecordIndex;
  }

  beginRecord(): RecordSlots {
    if (this.#batch.rows === this.maxRows) this.flush();
    this.#batch.rows++;
    this.#nextRecordIndex++;
    return this.#batch;
  }

  /** Marks the most recently begun record as failed: its row stays (so order holds) but is answered with a placeholder. */
  markLastRecordFailed(error: RecordError): void {
    const row = this.#batch.rows - 1;
    this.signature.inputs.forEach(({ width }, i) => {
      this.#batch.inputs[i].fill(0, row * width, (row + 1) * width);
    });
    this.#batch.recordErrors.set(row, error);
  }

  /** Hands over the current batch if it holds any record. */
  flush(): void {
    if (this.#batch.rows === 0) return;
    const full = this.#batch;
    this.#batch = new Batch(this.signature, this.maxRows, this.#nextRecordIndex);
    this.onBatch(full);
  }
}
