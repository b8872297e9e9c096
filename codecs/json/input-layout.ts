/**
 * What the JSON decoder needs to know of a model's inputs, value by value: worked out once per model
 * signature, not for every decoder. A decoder is made for every invocation, and making these tables
 * (arrays as wide as a record, the names as UTF-8) was nearly all of the ~17 µs a JSON decoder cost to
 * make, a one-record body's included.
 */
import {
  type IntegerRange,
  integerRange,
  isTextTensor,
  type ModelSignature,
  type TensorSpec,
  totalInputWidth,
} from "../../src/index.js";
import { FEATURES_KEY } from "./request-shapes.js";

/** A model's inputs laid out as one record's values; shared by every decoder of that model, never changed. */
export interface InputLayout {
  readonly inputs: readonly TensorSpec[];
  readonly totalWidth: number;
  /** `name[width] + …`, for errors. */
  readonly describeInputs: string;
  /** Per value of a record, 1 where its input takes missing values (`null` is then NaN), else 0. */
  readonly missingTaken: Uint8Array;
  /** Per value of a record, 1 where its input takes strings, else 0. */
  readonly textTaken: Uint8Array;
  /** Per value of a record, the integers its input takes (an integer type or bool), else undefined. */
  readonly integerRanges: readonly (IntegerRange | undefined)[];
  readonly anyInteger: boolean;
  readonly allFloat32: boolean;
  readonly anyText: boolean;
  /** The inputs' names, as UTF-8. */
  readonly names: readonly Uint8Array[];
  /** Where each input's values start in a record. */
  readonly offsets: readonly number[];
  /** Whether an input is named `features` (`{"features": [...]}` is then that input's values, not a row). */
  readonly featuresIsInput: boolean;
}

const layouts = new WeakMap<ModelSignature, InputLayout>();

/** The layout of `signature`'s inputs, made on first use. */
export function inputLayout(signature: ModelSignature): InputLayout {
  let layout = layouts.get(signature);
  if (layout === undefined) {
    layout = layOut(signature);
    layouts.set(signature, layout);
  }
  return layout;
}

function layOut(signature: ModelSignature): InputLayout {
  const inputs = signature.inputs;
  const totalWidth = totalInputWidth(signature);
  const offsets: number[] = [];
  let offset = 0;
  for (const input of inputs) {
    offsets.push(offset);
    offset += input.width;
  }
  const perValue = (flag: (input: TensorSpec) => boolean) => {
    const values = new Uint8Array(totalWidth);
    inputs.forEach((input, i) => {
      if (flag(input)) values.fill(1, offsets[i], offsets[i] + input.width);
    });
    return values;
  };
  const integerRanges = inputs.flatMap((input) =>
    new Array<IntegerRange | undefined>(input.width).fill(integerRange(input.type)),
  );
  const encoder = new TextEncoder();
  return {
    inputs,
    totalWidth,
    describeInputs: inputs.map((input) => `${input.name}[${input.width}]`).join(" + "),
    missingTaken: perValue((input) => input.acceptsMissing === true),
    textTaken: perValue(isTextTensor),
    integerRanges,
    anyInteger: integerRanges.some((range) => range !== undefined),
    allFloat32: inputs.every((input) => input.type === "float32"),
    anyText: inputs.some(isTextTensor),
    names: inputs.map((input) => encoder.encode(input.name)),
    offsets,
    featuresIsInput: inputs.some((input) => input.name === FEATURES_KEY),
  };
}
