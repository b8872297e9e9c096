/**
 * What decoding a protobuf record of named features (an Amazon `Record`, a `tf.train.Example`) takes,
 * in one pass: list the record's features, match them to the model's inputs (`FeatureTable`), then write
 * each chosen feature's values straight into the batch. A format supplies where its features are and how
 * one feature's values are laid out.
 */
import {
  type CodecContext,
  type Frame,
  type RecordDecoder,
  RecordError,
  type RecordSink,
  type TensorSpec,
} from "../../src/index.js";
import { FeatureTable } from "./feature-table.js";
import { WireReader } from "./protobuf-wire.js";
import { ValueDestination } from "./value-destination.js";

/** Decodes one record of named features per frame into the model's inputs. */
export abstract class FeatureRecordDecoder implements RecordDecoder {
  /** Walks this decoder's messages; its state is this decoder's alone. */
  protected readonly wire = new WireReader();
  readonly #features: FeatureTable;
  readonly #inputs: readonly TensorSpec[];
  readonly #destination: ValueDestination;

  constructor(context: CodecContext) {
    this.#inputs = context.signature.inputs;
    this.#features = new FeatureTable(this.#inputs);
    this.#destination = new ValueDestination(this.#features);
  }

  decode(frame: Frame, sink: RecordSink): void {
    // The record is read where it lies, `buffer[start, end)`, every position absolute in `buffer`: a view
    // of its own per record cost more than reading it (see the engineering notes).
    const { buffer: bytes, start, end } = frame;
    const features = this.#features;
    features.reset();
    try {
      this.listFeatures(bytes, start, end, features);
      const choice = features.choose(bytes);
      const slots = sink.beginRecord();
      const destination = this.#destination;
      const inputs = this.#inputs;
      if (choice.flat >= 0) {
        destination.toAllInputs(slots, inputs, bytes, choice.flat);
        this.writeFeature(bytes, features.valueStart(choice.flat), features.valueEnd(choice.flat), destination);
        return;
      }
      for (let i = 0; i < inputs.length; i++) {
        const feature = choice.named[i];
        destination.toInput(slots, inputs, i, bytes, feature);
        this.writeFeature(bytes, features.valueStart(feature), features.valueEnd(feature), destination);
      }
    } catch (cause) {
      if (cause instanceof RecordError) throw cause;
      throw this.invalid(cause as Error);
    }
  }

  /** Adds every feature of the record `bytes[start, end)` to `features`. */
  protected abstract listFeatures(bytes: Uint8Array, start: number, end: number, features: FeatureTable): void;

  /** Writes the values of the feature whose value message is `bytes[start, end)` to `destination`. */
  protected abstract writeFeature(bytes: Uint8Array, start: number, end: number, destination: ValueDestination): void;

  /** The error for a record that is not a valid message of the format (`cause` says why). */
  protected abstract invalid(cause: Error): RecordError;
}
