/**
 * Record codecs: how one frame becomes model input values, and how model outputs become bytes.
 */
import type { RecordError } from "../errors.js";
import type { ModelSignature, NumericArray, OutputValues, TensorSpec, TextArray } from "../model/signature.js";
import type { InputFormat, OutputFormat } from "./codec.js";
import type { Frame } from "./framing.js";

/**
 * The slots of one record in the batch being filled: one zero-filled array per model input (unless the
 * decoder declares {@link RecordDecoder.fillsEveryValue}). Numbers are
 * staged by element type: float32 in `Float32Array`; float64, int64 and uint32 in `Float64Array` (64-bit
 * integers are exact up to 2^53); int32, int16, int8, uint16 and uint8/bool in their own typed arrays.
 * Strings (inputs of type `string`) are staged in `texts`, filled with `""`.
 * Slots are valid until the next `beginRecord()`: write a record's values before beginning the next.
 */
export interface RecordSlots {
  /**
   * The values of numeric input `inputIndex` for this record, exactly `signature.inputs[inputIndex].width`
   * long, zero-filled. Write into it; it is a view of the batch's contiguous array.
   */
  input(inputIndex: number): NumericArray;
  /**
   * The batch's whole staging arrays, one per input: this record's values for numeric input `i` go to
   * `arrays[i][offset(i) … offset(i) + width)`. Hot loops write there directly (no view per record).
   * Empty for a string input.
   */
  readonly arrays: readonly NumericArray[];
  /**
   * The batch's string columns, one per input: this record's strings for string input `i` go to
   * `texts[i][offset(i) … offset(i) + width)`. Empty for a numeric input. Only a codec whose
   * {@link InputFormat.textInputs} is set is handed a model with string inputs.
   */
  readonly texts: readonly TextArray[];
  /** Where this record's values for input `inputIndex` start in `arrays[inputIndex]` (or `texts`). */
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
 * Decodes frames into records.
 *
 * - A frame may yield **no record** (a header the framer passes on, which the decoder remembers), **one**
 *   (the usual case: `sink.beginRecord()` once), or **several** (a columnar or whole-file format).
 * - Throw a `RecordError` (400) for a frame that cannot be decoded or does not fit the model; its index
 *   and location are filled in when left out. Under `SLUICE_ON_RECORD_ERROR=placeholder` the record
 *   being decoded is answered with a placeholder — when the frame fails half-way, the records it has
 *   already begun stay (with whatever values were written) and the last one begun is the placeholder;
 *   so a decoder of several records per frame should check a record before beginning the next.
 *   Throw a `FramingError` when the body cannot be read any further (no placeholder can stand in), and
 *   another `SluiceError` to refuse the whole body with its status (e.g. 415). Anything else thrown is a
 *   bug: the invocation fails with 500, its stack goes to the server log, never to the client.
 * - The frame's bytes are valid only during the call. A decoder built on a library with only an async
 *   API may return a promise; Sluice waits for it before framing further, but must copy what it needs
 *   synchronously. Such decoders suit formats of one frame per body (whole files).
 */
export interface RecordDecoder {
  /** Decodes one frame into zero, one or several records through `sink`. */
  decode(frame: Frame, sink: RecordSink): void | Promise<void>;
  /**
   * True when this decoder writes every numeric value of each record it begins (or throws, and Sluice
   * zero-fills that record): its batches' reused arrays are then not zero-filled first, a pass over
   * every value saved (about 4% of the CPU of 784-value CSV rows). Leave it unset when a record may keep
   * values unwritten, as sparse formats do.
   */
  readonly fillsEveryValue?: boolean;
}

/**
 * One model output for a batch of records: `rows × width` values, row-major. `data` is a `string[]` for
 * a string output, which only an encoder whose {@link OutputFormat.textOutputs} is set is handed.
 */
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
 * response, so it may keep state (e.g. whether a separator is due). Return fresh bytes (or strings) from
 * each call: Sluice may move them to another thread, so never return a view of a buffer you reuse.
 */
export interface RecordEncoder {
  /** Bytes before the first record (e.g. `{"predictions":[`); may be empty. */
  begin(): string | Uint8Array;
  /** Encodes every row of `batch`. */
  encode(batch: OutputBatch): string | Uint8Array;
  /**
   * Bytes after the last record; may be empty. `summary.records` is how many records were encoded: a
   * format that states the count up front (a header with the array's shape, say) can hold its output
   * until here and write it all at once. Such an encoder holds the whole answer in memory; the
   * platform's payload limit (`MaxPayloadInMB`) bounds the records of one body, so keep to formats whose
   * answer for that many records is small.
   */
  end(summary: EncodeSummary): string | Uint8Array;
}

/** What an encoder is told at the end of a response. */
export interface EncodeSummary {
  /** Records encoded. */
  readonly records: number;
}
