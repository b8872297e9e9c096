/**
 * LibSVM (`text/libsvm`, also `text/x-libsvm`): one sparse row per line, `label index:value …` with
 * 1-based, increasing indices, as SageMaker's XGBoost reads them. The label is optional and ignored
 * (inference has none to use). A feature not listed is missing (NaN) for an XGBoost booster, as XGBoost
 * and SageMaker's XGBoost container read LibSVM, and 0 for any other model; the codec's `missing` setting
 * (`zero`, `nan`) overrides that. Input only: answers come in CSV, JSON or JSON Lines.
 */
import {
  type Codec,
  type CodecContext,
  describeIntegerType,
  excerpt,
  type Frame,
  type IntegerRange,
  integerRange,
  isIntegerIn,
  LineFramer,
  type RecordDecoder,
  RecordError,
  type RecordSink,
  type TensorSpec,
  totalInputWidth,
} from "sluice/codec-kit";

const latin1 = new TextDecoder("latin1");

class LibSvmDecoder implements RecordDecoder {
  readonly #width: number;
  readonly #widths: number[];
  readonly #inputs: readonly TensorSpec[];
  /** Per input, the integers it takes, or undefined for a float input. */
  readonly #integers: (IntegerRange | undefined)[];
  /** Per input, what a feature not listed is. */
  readonly #fills: number[];

  constructor(context: CodecContext) {
    this.#width = totalInputWidth(context.signature);
    this.#inputs = context.signature.inputs;
    this.#widths = this.#inputs.map((input) => input.width);
    this.#integers = this.#inputs.map((input) => integerRange(input.type));
    const missing = context.settings.missing;
    this.#fills = this.#inputs.map((input) =>
      missing === "nan" || (missing === "auto" && input.absentIsMissing === true) ? Number.NaN : 0,
    );
  }

  decode(frame: Frame, sink: RecordSink): void {
    const tokens = latin1.decode(frame.bytes).trim().split(/\s+/);
    const slots = sink.beginRecord();
    this.#widths.forEach((width, input) => {
      const fill = this.#fills[input];
      if (fill !== 0) slots.arrays[input].fill(fill, slots.offset(input), slots.offset(input) + width);
    });
    let previous = 0;
    for (const [position, token] of tokens.entries()) {
      const colon = token.indexOf(":");
      if (colon < 0) {
        if (position === 0) continue; // the label
        throw new RecordError("LIBSVM_TOKEN", `token ${excerpt(token)} is not index:value`);
      }
      const index = Number(token.slice(0, colon));
      const value = Number(token.slice(colon + 1));
      if (!Number.isInteger(index) || index < 1) {
        throw new RecordError("LIBSVM_INDEX", `index ${excerpt(token.slice(0, colon))} is not a positive integer`);
      }
      if (index <= previous)
        throw new RecordError("LIBSVM_ORDER", `index ${index} follows ${previous}; indices must increase`);
      if (index > this.#width) {
        throw new RecordError("LIBSVM_INDEX", `index ${index} is beyond the model's ${this.#width} features`);
      }
      if (token.slice(colon + 1).trim() === "" || Number.isNaN(value)) {
        throw new RecordError(
          "LIBSVM_VALUE",
          `value ${excerpt(token.slice(colon + 1))} of index ${index} is not a number`,
        );
      }
      previous = index;
      // 1-based index → the input holding it and the place within that input.
      let k = index - 1;
      let input = 0;
      while (k >= this.#widths[input]) k -= this.#widths[input++];
      const integers = this.#integers[input];
      if (integers !== undefined && !isIntegerIn(value, integers)) {
        const { name, type } = this.#inputs[input];
        throw new RecordError(
          "LIBSVM_VALUE",
          `value ${value} of index ${index} is not ${describeIntegerType(type)}, as ${excerpt(name)} takes`,
        );
      }
      slots.arrays[input][slots.offset(input) + k] = value;
    }
  }
}

/** The codec. */
const libsvm: Codec = {
  apiVersion: 1,
  name: "libsvm",
  mediaTypes: ["text/libsvm", "text/x-libsvm"],
  extensions: [".libsvm", ".svm"],
  settings: {
    missing: {
      description:
        "what a feature not listed on a row is: auto (missing for an XGBoost booster, as XGBoost reads LibSVM; else 0), zero or nan",
      default: "auto",
      allowed: ["auto", "zero", "nan"],
    },
  },
  input: { createFramer: () => new LineFramer(), createDecoder: (context) => new LibSvmDecoder(context) },
};

export default libsvm;
