/**
 * The named features of one protobuf record (Amazon `Record.features`, `tf.train.Example` features), as
 * byte ranges into the frame, and the rule that matches them to the model's inputs:
 * 1. a feature per model input, by name;
 * 2. else a feature named `values` (the SageMaker convention) feeds every input in model order, like a CSV row;
 * 3. else, for a model with one input, a record's only feature, whatever its name.
 * Names are compared as bytes, so matching allocates nothing.
 */
import { excerpt, RecordError, type TensorSpec } from "../../src/index.js";
import type { MapEntrySink } from "./protobuf-wire.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const FLAT_FEATURE = utf8.encode("values");

/** How a record's features feed the model: `named[i]` feeds input i, or `flat` feeds all inputs in order. */
export interface FeatureChoice {
  readonly flat: number;
  readonly named: Int32Array;
}

/** The features of the record being decoded; reused from record to record. */
export class FeatureTable implements MapEntrySink {
  count = 0;
  #keyStart = new Int32Array(8);
  #keyEnd = new Int32Array(8);
  #valueStart = new Int32Array(8);
  #valueEnd = new Int32Array(8);
  readonly #inputNames: Uint8Array[];
  readonly #inputs: readonly TensorSpec[];
  readonly #named: Int32Array;
  readonly #choice: { flat: number; named: Int32Array };

  constructor(inputs: readonly TensorSpec[]) {
    this.#inputs = inputs;
    this.#inputNames = inputs.map((input) => utf8.encode(input.name));
    this.#named = new Int32Array(inputs.length);
    this.#choice = { flat: -1, named: this.#named };
  }

  /** Forgets the previous record's features. */
  reset(): void {
    this.count = 0;
  }

  /** Adds a feature whose name is `bytes[keyStart, keyEnd)` and whose value message is `[valueStart, valueEnd)`. */
  add(keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void {
    if (this.count === this.#keyStart.length) this.#grow();
    const k = this.count++;
    this.#keyStart[k] = keyStart;
    this.#keyEnd[k] = keyEnd;
    this.#valueStart[k] = valueStart;
    this.#valueEnd[k] = valueEnd;
  }

  valueStart(feature: number): number {
    return this.#valueStart[feature];
  }

  valueEnd(feature: number): number {
    return this.#valueEnd[feature];
  }

  /** The name of feature `feature`, for messages. */
  name(bytes: Uint8Array, feature: number): string {
    return text.decode(bytes.subarray(this.#keyStart[feature], this.#keyEnd[feature]));
  }

  /** Matches the features in `bytes` to the model's inputs (see the module comment) or explains why not. */
  choose(bytes: Uint8Array): FeatureChoice {
    const choice = this.#choice;
    let allNamed = true;
    for (let i = 0; i < this.#inputNames.length; i++) {
      this.#named[i] = this.#find(bytes, this.#inputNames[i]);
      if (this.#named[i] < 0) allNamed = false;
    }
    choice.flat = -1;
    if (allNamed) return choice;
    choice.flat = this.#find(bytes, FLAT_FEATURE);
    if (choice.flat < 0 && this.#inputs.length === 1 && this.count === 1) choice.flat = 0;
    if (choice.flat >= 0) return choice;
    const shown = Math.min(this.count, 10);
    const names = Array.from({ length: shown }, (_, k) => excerpt(this.name(bytes, k)));
    if (this.count > shown) names.push(`and ${this.count - shown} more`);
    throw new RecordError(
      "FEATURE_MISSING",
      `record has feature(s) ${names.join(", ") || "(none)"}; the model takes ` +
        `${this.#inputs.map((input) => `${input.name}[${input.width}]`).join(" + ")}: ` +
        'name one feature per input, or put all values under "values"',
    );
  }

  #find(bytes: Uint8Array, name: Uint8Array): number {
    outer: for (let k = 0; k < this.count; k++) {
      const start = this.#keyStart[k];
      if (this.#keyEnd[k] - start !== name.length) continue;
      for (let j = 0; j < name.length; j++) if (bytes[start + j] !== name[j]) continue outer;
      return k;
    }
    return -1;
  }

  #grow(): void {
    const grow = (array: Int32Array) => {
      const grown = new Int32Array(array.length * 2);
      grown.set(array);
      return grown;
    };
    this.#keyStart = grow(this.#keyStart);
    this.#keyEnd = grow(this.#keyEnd);
    this.#valueStart = grow(this.#valueStart);
    this.#valueEnd = grow(this.#valueEnd);
  }
}
