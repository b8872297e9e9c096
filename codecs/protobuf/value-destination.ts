/**
 * Where a protobuf feature's values land: one model input's slot array, or (for a flat feature) every
 * input's array in model order. Values are written in place into the batch's typed arrays.
 */
import {
  excerpt,
  isTextTensor,
  type NumericArray,
  RecordError,
  type RecordSlots,
  type TensorSpec,
  type TextArray,
} from "../../src/index.js";

/** A cursor over the slot arrays one feature fills; reused from record to record. */
export class ValueDestination {
  readonly #arrays: NumericArray[] = [];
  readonly #specs: TensorSpec[] = [];
  #parts = 0;
  /** Number of values the destination holds. */
  width = 0;
  #part = 0;
  #position = 0;
  #checkIntegers = false;
  /** The feature's name, for messages. */
  feature = "";

  /** Set when the destination is a string input: its column and where this record's strings start. */
  #texts: TextArray | undefined;
  #textOffset = 0;

  /** Points the destination at input `inputIndex` of `slots`. */
  toInput(slots: RecordSlots, inputs: readonly TensorSpec[], inputIndex: number, feature: string): this {
    this.#parts = 0;
    this.#texts = undefined;
    if (isTextTensor(inputs[inputIndex])) {
      this.#texts = slots.texts[inputIndex];
      this.#textOffset = slots.offset(inputIndex);
      this.#specs[this.#parts++] = inputs[inputIndex];
      return this.#ready(feature);
    }
    this.#add(slots.input(inputIndex), inputs[inputIndex]);
    return this.#ready(feature);
  }

  /** Points the destination at every input of `slots`, in model order. */
  toAllInputs(slots: RecordSlots, inputs: readonly TensorSpec[], feature: string): this {
    if (inputs.length === 1) return this.toInput(slots, inputs, 0, feature);
    const text = inputs.find(isTextTensor);
    if (text !== undefined) {
      throw new RecordError(
        "FEATURE_MISSING",
        `feature ${excerpt(feature)} would feed every input, but string input ${JSON.stringify(text.name)} ` +
          "needs a feature of its own: name one feature per input",
      );
    }
    this.#parts = 0;
    this.#texts = undefined;
    for (let i = 0; i < inputs.length; i++) this.#add(slots.input(i), inputs[i]);
    return this.#ready(feature);
  }

  /** True when the destination is a string input (fill it with {@link putTexts}). */
  get takesText(): boolean {
    return this.#texts !== undefined;
  }

  /** Writes a string input's values; exactly its width of them. */
  putTexts(texts: readonly string[]): void {
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

  /** The single Float32Array the values go to, when there is exactly one (the fast path). */
  get float32Target(): Float32Array | undefined {
    const array = this.#arrays[0];
    return this.#parts === 1 && array instanceof Float32Array ? array : undefined;
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
    this.#arrays[this.#part][this.#position++] = value;
  }

  /** Writes `value` at flat position `index` (sparse order); other positions stay zero. */
  putAt(index: number, value: number): void {
    if (!(index >= 0 && index < this.width)) {
      throw new RecordError(
        "SPARSE_KEY_OUT_OF_RANGE",
        `feature ${excerpt(this.feature)} has key ${index}; the model takes ${this.width} value(s) (${this.#describe()})`,
      );
    }
    let part = 0;
    let offset = index;
    while (offset >= this.#specs[part].width) offset -= this.#specs[part++].width;
    if (this.#checkIntegers) this.#checkInteger(value, part);
    this.#arrays[part][offset] = value;
  }

  #add(array: NumericArray, spec: TensorSpec): void {
    this.#arrays[this.#parts] = array;
    this.#specs[this.#parts] = spec;
    this.#parts++;
  }

  #ready(feature: string): this {
    this.#arrays.length = this.#texts === undefined ? this.#parts : 0;
    this.#specs.length = this.#parts;
    this.width = 0;
    this.#checkIntegers = false;
    for (const spec of this.#specs) {
      this.width += spec.width;
      if (!spec.type.startsWith("float")) this.#checkIntegers = true;
    }
    this.#part = 0;
    this.#position = 0;
    this.feature = feature;
    return this;
  }

  #checkInteger(value: number, part: number): void {
    if (!Number.isInteger(value) && !this.#specs[part].type.startsWith("float")) {
      throw new RecordError(
        "FEATURE_VALUE_NOT_INTEGER",
        `feature ${excerpt(this.feature)} holds ${value}; ${JSON.stringify(this.#specs[part].name)} is ${this.#specs[part].type}`,
      );
    }
  }

  #describe(): string {
    return this.#specs.map((spec) => `${spec.name}[${spec.width}]`).join(" + ");
  }
}
