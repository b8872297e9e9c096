/**
 * Where a protobuf feature's values land: one model input's slot array, or (for a flat feature) every
 * input's array in model order. Values are written in place into the batch's typed arrays.
 */
import {
  describeIntegerType,
  excerpt,
  integerRange,
  isIntegerIn,
  isTextTensor,
  type NumericArray,
  RecordError,
  type RecordSlots,
  type TensorSpec,
  type TextArray,
} from "../../src/index.js";
import type { FeatureTable } from "./feature-table.js";

/**
 * A cursor over the slot arrays one feature fills; reused from record to record. It writes into the
 * batch's arrays at the record's offsets: a view per record, or resizing its own lists, cost as much as
 * reading a small record.
 */
export class ValueDestination {
  /** Parts `0 … #parts − 1` are this record's: each an input's array, where the record starts in it, its spec. */
  readonly #arrays: NumericArray[] = [];
  readonly #offsets: number[] = [];
  readonly #specs: TensorSpec[] = [];
  #parts = 0;
  /** Number of values the destination holds. */
  width = 0;
  #part = 0;
  #position = 0;
  #checkIntegers = false;
  readonly #features: FeatureTable;
  /** The record and the feature in it whose values land here, named only when a message needs it. */
  #record: Uint8Array = new Uint8Array(0);
  #featureIndex = 0;
  #featureName: string | undefined;

  /** Set when the destination is a string input: its column and where this record's strings start. */
  #texts: TextArray | undefined;
  #textOffset = 0;

  /** @param features the table that lists the record's features (it names them for messages). */
  constructor(features: FeatureTable) {
    this.#features = features;
  }

  /** The feature's name, for messages: decoded from the record on first use, since most records need none. */
  get feature(): string {
    this.#featureName ??= this.#features.name(this.#record, this.#featureIndex);
    return this.#featureName;
  }

  /** Points the destination at input `inputIndex` of `slots`, for feature `feature` of `record`. */
  toInput(
    slots: RecordSlots,
    inputs: readonly TensorSpec[],
    inputIndex: number,
    record: Uint8Array,
    feature: number,
  ): this {
    this.#parts = 0;
    this.#texts = undefined;
    if (isTextTensor(inputs[inputIndex])) {
      this.#texts = slots.texts[inputIndex];
      this.#textOffset = slots.offset(inputIndex);
      this.#specs[this.#parts++] = inputs[inputIndex];
      return this.#ready(record, feature);
    }
    this.#add(slots.arrays[inputIndex], slots.offset(inputIndex), inputs[inputIndex]);
    return this.#ready(record, feature);
  }

  /** Points the destination at every input of `slots`, in model order, for feature `feature` of `record`. */
  toAllInputs(slots: RecordSlots, inputs: readonly TensorSpec[], record: Uint8Array, feature: number): this {
    if (inputs.length === 1) return this.toInput(slots, inputs, 0, record, feature);
    this.#name(record, feature);
    const text = inputs.find(isTextTensor);
    if (text !== undefined) {
      throw new RecordError(
        "FEATURE_MISSING",
        `feature ${excerpt(this.feature)} would feed every input, but string input ${JSON.stringify(text.name)} ` +
          "needs a feature of its own: name one feature per input",
      );
    }
    this.#parts = 0;
    this.#texts = undefined;
    for (let i = 0; i < inputs.length; i++) this.#add(slots.arrays[i], slots.offset(i), inputs[i]);
    return this.#ready(record, feature);
  }

  /** True when the destination is a string input (fill it with {@link putTexts}). */
  get takesText(): boolean {
    return this.#texts !== undefined;
  }

  /**
   * Writes a string input's values; exactly its width of them. Undefined (bytes that are not UTF-8) is
   * refused, naming the feature.
   */
  putTexts(texts: readonly string[] | undefined): void {
    if (texts === undefined)
      throw new RecordError(
        "INVALID_UTF8",
        `feature ${excerpt(this.feature)} holds bytes that are not valid UTF-8 text`,
      );
    this.expectDense(texts.length);
    const column = this.#texts as TextArray;
    for (let k = 0; k < texts.length; k++) column[this.#textOffset + k] = texts[k];
  }

  /** Throws the error for a feature of numbers sent to a string input. */
  refuseNumbers(): never {
    throw new RecordError(
      "FEATURE_NOT_TEXT",
      `feature ${excerpt(this.feature)} holds numbers; ${JSON.stringify(this.#specs[0].name)} takes strings (bytes)`,
    );
  }

  /**
   * The one float input's array the values go to (float32 and float16 inputs' `Float32Array`, a float64
   * input's `Float64Array`), for runs written straight into it: from {@link nextIndex} on, then
   * {@link advanceTo} their end. Undefined when they go to several inputs, an integer input or a string one.
   */
  get floatArray(): Float32Array | Float64Array | undefined {
    if (this.#parts !== 1 || this.#texts !== undefined || this.#checkIntegers) return undefined;
    const array = this.#arrays[0];
    return array instanceof Float32Array || array instanceof Float64Array ? array : undefined;
  }

  /** Where {@link put} would write the next value in {@link floatArray}. */
  get nextIndex(): number {
    return this.#offsets[0] + this.#position;
  }

  /** After a run written into {@link floatArray} up to `index` (exclusive): {@link put} goes on from there. */
  advanceTo(index: number): void {
    this.#position = index - this.#offsets[0];
  }

  /** Throws unless a dense tensor of `count` values fills the destination exactly. */
  expectDense(count: number): void {
    if (count !== this.width) {
      throw new RecordError(
        "FEATURE_WIDTH_MISMATCH",
        `feature ${excerpt(this.feature)} has ${count} value(s); the model takes ${this.width} (${this.#describe()})`,
      );
    }
  }

  /** Writes the next value (dense order). */
  put(value: number): void {
    while (this.#position === this.#specs[this.#part].width) {
      this.#part++;
      this.#position = 0;
    }
    if (this.#checkIntegers) this.#checkInteger(value, this.#part);
    this.#arrays[this.#part][this.#offsets[this.#part] + this.#position++] = value;
  }

  /**
   * Before a sparse tensor's values: the positions it may leave out become NaN in inputs that read them
   * as missing (XGBoost boosters, see `TensorSpec.absentIsMissing`); elsewhere they stay 0.
   */
  markAbsentMissing(): void {
    for (let part = 0; part < this.#parts; part++) {
      if (this.#specs[part].absentIsMissing !== true) continue;
      const start = this.#offsets[part];
      this.#arrays[part].fill(Number.NaN, start, start + this.#specs[part].width);
    }
  }

  /** Writes `value` at flat position `index` (sparse order); other positions stay as they are (see {@link markAbsentMissing}). */
  putAt(index: number, value: number): void {
    if (!(index >= 0 && index < this.width)) {
      // Keys are uint64, read as signed 64-bit: one past 2^63 comes negative.
      const key = index < 0 ? BigInt.asUintN(64, BigInt(index)) : index;
      throw new RecordError(
        "SPARSE_KEY_OUT_OF_RANGE",
        `feature ${excerpt(this.feature)} has key ${key}; the model takes ${this.width} value(s) (${this.#describe()})`,
      );
    }
    let part = 0;
    let offset = index;
    while (offset >= this.#specs[part].width) offset -= this.#specs[part++].width;
    if (this.#checkIntegers) this.#checkInteger(value, part);
    this.#arrays[part][this.#offsets[part] + offset] = value;
  }

  #add(array: NumericArray, offset: number, spec: TensorSpec): void {
    this.#arrays[this.#parts] = array;
    this.#offsets[this.#parts] = offset;
    this.#specs[this.#parts] = spec;
    this.#parts++;
  }

  #ready(record: Uint8Array, feature: number): this {
    this.width = 0;
    this.#checkIntegers = false;
    for (let part = 0; part < this.#parts; part++) {
      const spec = this.#specs[part];
      this.width += spec.width;
      if (!spec.type.startsWith("float")) this.#checkIntegers = true;
    }
    this.#part = 0;
    this.#position = 0;
    this.#name(record, feature);
    return this;
  }

  /** Makes feature `feature` of `record` the one {@link feature} names. */
  #name(record: Uint8Array, feature: number): void {
    this.#record = record;
    this.#featureIndex = feature;
    this.#featureName = undefined;
  }

  #checkInteger(value: number, part: number): void {
    const { name, type } = this.#specs[part];
    const range = integerRange(type);
    if (range !== undefined && !isIntegerIn(value, range)) {
      throw new RecordError(
        Number.isInteger(value) ? "FEATURE_VALUE_OUT_OF_RANGE" : "FEATURE_VALUE_NOT_INTEGER",
        `feature ${excerpt(this.feature)} holds ${value}, not ${describeIntegerType(type)}, as ${JSON.stringify(name)} takes`,
      );
    }
  }

  #describe(): string {
    return this.#specs
      .slice(0, this.#parts)
      .map((spec) => `${spec.name}[${spec.width}]`)
      .join(" + ");
  }
}
