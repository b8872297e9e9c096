/**
 * Record codecs: how one frame becomes model input values, and how model outputs become bytes.
 */
import type { RecordError } from "../errors.js";
import type { ModelSignature, NumericArray, OutputValues, TensorSpec } from "../model/signature.js";
import type { Frame } from "./framing.js";

/** The slots of one record in the batch being filled: one zero-filled array per model input. */
export interface RecordSlots {
  /**
   * The values of model input `inputIndex` for this record, exactly `signature.inputs[inputIndex].width`
   * long, zero-filled. Write into it; it is a view of the batch's contiguous array.
   */
  input(inputIndex: number): NumericArray;
  /**
   * The batch's whole staging arrays, one per input: this record's values for input `i` go to
   * `arrays[i][offset(i) … offset(i) + width)`. Hot loops write there directly (no view per record).
   */
  readonly arrays: readonly NumericArray[];
  /** Where this record's values for input `inputIndex` start in `arrays[inputIndex]`. */
  offset(inputIndex: number): number;
}

/** Where a record decoder puts what it decodes. */
export interface RecordSink {
  /** The model being fed. */
  readonly signature: ModelSignature;
  /** Index (within the body) that the next record will get. */
  readonly nextRecordIndex: number;
  /** Starts the next record and returns its slots. Call once per record (usually once per frame). */
  beginRecord(): RecordSlots;
}

/**
 * Decodes frames into records. Throw a `RecordError` for a frame that cannot be decoded or does not fit
 * the model; its index and location are filled in by the pipeline when left out.
 */
export interface RecordDecoder {
  /** Decodes one frame into one record (or, for columnar formats, several) through `sink`. */
  decode(frame: Frame, sink: RecordSink): void;
}

/** One model output for a batch of records: `rows × spec.width` values, row-major. */
export interface OutputTensor {
  readonly spec: TensorSpec;
  /** Values per record (from the tensor the model returned). */
  readonly width: number;
  readonly data: OutputValues;
}

/** The model's answer for consecutive records of one body. */
export interface OutputBatch {
  /** Number of records in this batch. */
  readonly rows: number;
  /** Index of the batch's first record within the body. */
  readonly firstRecordIndex: number;
  /** One entry per model output, in the model's order. */
  readonly outputs: readonly OutputTensor[];
  /**
   * Records that could not be decoded, by row, when the error policy asks for placeholders; their output
   * values are meaningless and the encoder writes its error marker instead.
   */
  readonly recordErrors: ReadonlyMap<number, RecordError>;
}

/**
 * Encodes outputs, one output record per input record, in order. An encoder instance serves one
 * response, so it may keep state (e.g. whether a separator is due).
 */
export interface RecordEncoder {
  /** Bytes before the first record (e.g. `{"predictions":[`); may be empty. */
  begin(): string | Uint8Array;
  /** Encodes every row of `batch`. */
  encode(batch: OutputBatch): string | Uint8Array;
  /** Bytes after the last record; may be empty. */
  end(): string | Uint8Array;
}
