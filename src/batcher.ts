/**
 * Packs decoded records into contiguous typed arrays, one per model input, so that a batch goes to the
 * backend without copying value by value.
 */
import { BatchBufferPool } from "./batch-buffer-pool.js";
import type { RecordDecoder, RecordSink, RecordSlots } from "./codec/record-codec.js";
import type { RecordError } from "./errors.js";
import {
  type InputArray,
  isTextTensor,
  type ModelSignature,
  type NumericArray,
  type TextArray,
} from "./model/signature.js";

/** Records ready for the backend: `inputs[i]` holds `rows × width` values of input i (plus unused capacity). */
export interface InputBatch {
  readonly rows: number;
  readonly firstRecordIndex: number;
  readonly inputs: readonly InputArray[];
  /** Rows that hold no real record (decode failed under the placeholder policy). */
  readonly recordErrors: ReadonlyMap<number, RecordError>;
  /** Answer the records around those the model fails on, rather than fail the batch (placeholder policy). */
  readonly isolateFailures?: boolean;
}

const NO_NUMBERS = new Float64Array(0);
const NO_TEXTS: TextArray = [];

class Batch implements RecordSlots {
  rows = 0;
  readonly inputs: InputArray[];
  readonly arrays: NumericArray[];
  readonly texts: TextArray[];
  readonly recordErrors = new Map<number, RecordError>();
  readonly #widths: number[];

  constructor(
    signature: ModelSignature,
    readonly capacity: number,
    readonly firstRecordIndex: number,
    buffers: BatchBufferPool,
    zeroed: boolean,
  ) {
    this.#widths = signature.inputs.map((input) => input.width);
    this.inputs = signature.inputs.map((input, i) =>
      isTextTensor(input)
        ? new Array<string>(capacity * input.width).fill("")
        : buffers.take(i, capacity * input.width, zeroed),
    );
    this.arrays = this.inputs.map((input) => (Array.isArray(input) ? NO_NUMBERS : input));
    this.texts = this.inputs.map((input) => (Array.isArray(input) ? input : NO_TEXTS));
  }

  input(inputIndex: number): NumericArray {
    const width = this.#widths[inputIndex];
    const start = (this.rows - 1) * width;
    return this.arrays[inputIndex].subarray(start, start + width);
  }

  offset(inputIndex: number): number {
    return (this.rows - 1) * this.#widths[inputIndex];
  }
}

/**
 * The record sink the pipeline hands to decoders. Starts a new batch when the current one is full and
 * passes each full batch to `onBatch`, in order.
 */
export class Batcher implements RecordSink {
  /** The batch being filled; made when its first record begins, so an empty body (or a body's end) stages nothing. */
  #batch: Batch | undefined;
  #nextRecordIndex = 0;
  readonly #buffers: BatchBufferPool;

  /**
   * @param buffers Where staging arrays come from (and return to after a run); a private pool by default.
   * @param zeroed Whether each batch's arrays start zero-filled (false for a decoder that
   *   {@link RecordDecoder.fillsEveryValue}; a failed record's row is zero-filled all the same).
   */
  constructor(
    readonly signature: ModelSignature,
    readonly maxRows: number,
    private readonly onBatch: (batch: InputBatch) => void,
    buffers = new BatchBufferPool(signature),
    private readonly zeroed = true,
  ) {
    this.#buffers = buffers;
  }

  get nextRecordIndex(): number {
    return this.#nextRecordIndex;
  }

  beginRecord(): RecordSlots {
    if (this.#batch?.rows === this.maxRows) this.flush();
    this.#batch ??= new Batch(this.signature, this.maxRows, this.#nextRecordIndex, this.#buffers, this.zeroed);
    this.#batch.rows++;
    this.#nextRecordIndex++;
    return this.#batch;
  }

  /** Marks the most recently begun record as failed: its row stays (so order holds) but is answered with a placeholder. */
  markLastRecordFailed(error: RecordError): void {
    const batch = this.#batch;
    if (!batch) throw new Error("markLastRecordFailed before any record began");
    const row = batch.rows - 1;
    this.signature.inputs.forEach(({ width }, i) => {
      const input = batch.inputs[i];
      if (Array.isArray(input)) input.fill("", row * width, (row + 1) * width);
      else input.fill(0, row * width, (row + 1) * width);
    });
    batch.recordErrors.set(row, error);
  }

  /** Hands over the current batch if it holds any record. */
  flush(): void {
    const full = this.#batch;
    if (!full) return;
    this.#batch = undefined;
    this.onBatch(full);
  }
}
