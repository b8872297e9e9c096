/**
 * NumPy `.npy` (`application/x-npy`): what the SageMaker SDK's `NumpySerializer` sends. Versions 1–3 of
 * the format; every numeric dtype NumPy writes (bool, int8–int64, uint8–uint64, float16–float64) in
 * either byte order; C or Fortran order. One record per row of the array (per element of a 1-d array).
 * Answers are one `.npy` (float32, or float64 when an output is float64): shape `(N, width)`.
 *
 * Written only against Sluice's public plugin API (`sluice`, `sluice/codec-kit`); the worked example of
 * `docs/writing-a-codec.md`.
 */
import {
  type Codec,
  type CodecContext,
  describeIntegerType,
  type ElementType,
  Frame,
  FrameBuffer,
  type Framer,
  type FrameSink,
  FramingError,
  type IntegerRange,
  integerRange,
  isIntegerIn,
  type OutputBatch,
  type RecordDecoder,
  type RecordEncoder,
  RecordError,
  type RecordSink,
  totalInputWidth,
} from "sluice/codec-kit";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** What the header says about the array. */
interface NpyHeader {
  readonly kind: "b" | "i" | "u" | "f";
  readonly itemSize: number;
  readonly littleEndian: boolean;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
}

/** Parses the header dictionary, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. */
function parseHeader(text: string): NpyHeader {
  const descr = /'descr'\s*:\s*'([<>|=])([biuf])(\d+)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) {
    throw new FramingError("NPY_HEADER_INVALID", `the .npy header is not one NumPy writes: ${text.slice(0, 120)}`);
  }
  const kind = descr[2] as NpyHeader["kind"];
  const itemSize = Number(descr[3]);
  const sizes: Record<string, number[]> = { b: [1], i: [1, 2, 4, 8], u: [1, 2, 4, 8], f: [2, 4, 8] };
  if (!sizes[kind].includes(itemSize)) {
    throw new FramingError(
      "NPY_DTYPE_UNSUPPORTED",
      `dtype ${descr[1]}${kind}${itemSize} is not a number type Sluice reads`,
    );
  }
  return {
    kind,
    itemSize,
    // '|' (no order: one byte) and '=' (native: little-endian on every machine Sluice runs on).
    littleEndian: descr[1] !== ">",
    fortranOrder: fortran[1] === "True",
    shape: shape[1]
      .split(",")
      .map((dim) => dim.trim())
      .filter(Boolean)
      .map(Number),
  };
}

/**
 * Frames a `.npy` body: first the header (one frame, no record), then one frame per row in C order; a
 * Fortran-order array is held whole (its rows are interleaved) and passed as one frame.
 */
class NpyFramer implements Framer {
  readonly #frame = new Frame();
  readonly #whole = new FrameBuffer();
  #held = new Uint8Array(0);
  #offset = 0;
  #header: NpyHeader | undefined;
  #rowBytes = 0;

  push(chunk: Uint8Array, emit: FrameSink): void {
    const bytes = this.#held.length > 0 ? concat(this.#held, chunk) : chunk;
    let at = 0;
    if (!this.#header) {
      const size = this.#headerSize(bytes);
      if (size === undefined) {
        this.#held = bytes.slice();
        return;
      }
      this.#header = parseHeader(new TextDecoder().decode(bytes.subarray(size.start, size.end)));
      emit(this.#frame.set(bytes, 0, size.end, 0));
      const rowShape = this.#header.shape.slice(1);
      this.#rowBytes = rowShape.reduce((n, d) => n * d, 1) * this.#header.itemSize;
      at = size.end;
      this.#offset = size.end;
    }
    if (this.#header.fortranOrder || this.#rowBytes === 0) {
      // Rows interleave: hold the data whole (up to Sluice's record limit) and pass it as one frame.
      this.#whole.append(bytes, at, bytes.length);
      this.#held = new Uint8Array(0);
      return;
    }
    while (bytes.length - at >= this.#rowBytes) {
      emit(this.#frame.set(bytes, at, at + this.#rowBytes, this.#offset));
      at += this.#rowBytes;
      this.#offset += this.#rowBytes;
    }
    this.#held = bytes.slice(at);
  }

  end(emit: FrameSink): void {
    if (!this.#header) {
      if (this.#held.length > 0) throw new FramingError("NPY_TRUNCATED", "the body ends inside the .npy header");
      return;
    }
    if (this.#header.fortranOrder || this.#rowBytes === 0) {
      const data = this.#whole.view();
      emit(this.#frame.set(data, 0, data.length, this.#offset));
      return;
    }
    if (this.#held.length > 0) {
      throw new FramingError(
        "NPY_TRUNCATED",
        `the body ends inside a row (${this.#held.length} of ${this.#rowBytes} bytes)`,
        {
          byteOffset: this.#offset,
        },
      );
    }
  }

  /** Where the header text is, once the preamble has arrived. */
  #headerSize(bytes: Uint8Array): { start: number; end: number } | undefined {
    if (bytes.length < 10) return undefined;
    for (let i = 0; i < MAGIC.length; i++) {
      if (bytes[i] !== MAGIC[i]) throw new FramingError("NPY_MAGIC", "the body is not a .npy array (no \\x93NUMPY)");
    }
    const major = bytes[6];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const start = major === 1 ? 10 : 12;
    if (major !== 1 && major !== 2 && major !== 3)
      throw new FramingError("NPY_VERSION", `.npy version ${major} is not 1, 2 or 3`);
    if (bytes.length < start) return undefined;
    const length = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
    return bytes.length < start + length ? undefined : { start, end: start + length };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** float16 bits to a number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Reads element `index` of `view` as the header's dtype. */
function readElement(view: DataView, index: number, header: NpyHeader): number {
  const at = index * header.itemSize;
  const le = header.littleEndian;
  switch (header.kind) {
    case "b":
      return view.getUint8(at) ? 1 : 0;
    case "f":
      if (header.itemSize === 2) return halfToNumber(view.getUint16(at, le));
      return header.itemSize === 4 ? view.getFloat32(at, le) : view.getFloat64(at, le);
    case "i":
      if (header.itemSize === 1) return view.getInt8(at);
      if (header.itemSize === 2) return view.getInt16(at, le);
      if (header.itemSize === 4) return view.getInt32(at, le);
      return Number(view.getBigInt64(at, le));
    default:
      if (header.itemSize === 1) return view.getUint8(at);
      if (header.itemSize === 2) return view.getUint16(at, le);
      if (header.itemSize === 4) return view.getUint32(at, le);
      return Number(view.getBigUint64(at, le));
  }
}

/** Decodes the header frame (no record), then each row frame (one record) or a Fortran-order array (all). */
class NpyDecoder implements RecordDecoder {
  #header: NpyHeader | undefined;
  readonly #widths: number[];
  readonly #width: number;
  readonly #types: ElementType[];
  /** Per input, the integers it takes, or undefined for a float input. */
  readonly #integers: (IntegerRange | undefined)[];

  constructor(context: CodecContext) {
    this.#widths = context.signature.inputs.map((input) => input.width);
    this.#width = totalInputWidth(context.signature);
    this.#types = context.signature.inputs.map((input) => input.type);
    this.#integers = this.#types.map(integerRange);
  }

  decode(frame: Frame, sink: RecordSink): void {
    const header = this.#header;
    if (!header) {
      this.#header = parseHeader(new TextDecoder().decode(frame.bytes));
      const rowWidth = this.#header.shape.slice(1).reduce((n, d) => n * d, 1);
      if (rowWidth !== this.#width) {
        throw new FramingError(
          "NPY_WIDTH_MISMATCH",
          `the array's rows hold ${rowWidth} value(s) (shape (${this.#header.shape.join(", ")})); the model takes ${this.#width}`,
        );
      }
      return;
    }
    const view = new DataView(frame.buffer.buffer, frame.buffer.byteOffset + frame.start, frame.end - frame.start);
    if (!header.fortranOrder) {
      this.#record(sink, (k) => readElement(view, k, header));
      return;
    }
    // Fortran order: element (row, k) of an (N, …) array is at row + N·k.
    const rows = header.shape[0] ?? 1;
    for (let row = 0; row < rows; row++) this.#record(sink, (k) => readElement(view, row + rows * k, header));
  }

  #record(sink: RecordSink, value: (k: number) => number): void {
    const slots = sink.beginRecord();
    let k = 0;
    this.#widths.forEach((width, input) => {
      const target = slots.arrays[input];
      const base = slots.offset(input);
      const integers = this.#integers[input];
      for (let j = 0; j < width; j++) {
        const v = value(k++);
        if (integers !== undefined && !isIntegerIn(v, integers)) {
          const type = describeIntegerType(this.#types[input]);
          throw new RecordError(
            Number.isNaN(v) ? "NPY_VALUE_NOT_A_NUMBER" : "NPY_VALUE_OUT_OF_RANGE",
            `value ${k - 1} (${v}) is not ${type}, as input ${input} takes`,
          );
        }
        target[base + j] = v;
      }
    });
  }
}

/** One `.npy` answer: `(N, width)` float32 (float64 if any output is), written once the count is known. */
class NpyEncoder implements RecordEncoder {
  #rows: { data: Float64Array | Float32Array; width: number }[] = [];
  #float64 = false;

  begin(): string {
    return "";
  }

  encode(batch: OutputBatch): string {
    const width = batch.outputs.reduce((n, output) => n + output.width, 0);
    this.#float64 ||= batch.outputs.some((output) => output.data instanceof Float64Array);
    const data = new Float64Array(batch.rows * width);
    for (let row = 0; row < batch.rows; row++) {
      let k = row * width;
      for (const output of batch.outputs) {
        for (let j = 0; j < output.width; j++) {
          data[k++] = batch.recordErrors.has(row) ? Number.NaN : Number(output.data[row * output.width + j]);
        }
      }
    }
    this.#rows.push({ data, width });
    return "";
  }

  end(summary: { records: number }): Uint8Array {
    const width = this.#rows[0]?.width ?? 0;
    const itemSize = this.#float64 ? 8 : 4;
    const shape = width === 1 ? `(${summary.records},)` : `(${summary.records}, ${width})`;
    let text = `{'descr': '<${this.#float64 ? "f8" : "f4"}', 'fortran_order': False, 'shape': ${shape}, }`;
    // Version 1.0: the whole preamble is padded with spaces to a multiple of 64 bytes, ending in \n.
    text += `${" ".repeat(64 - ((10 + text.length + 1) % 64 || 64))}\n`;
    const out = new Uint8Array(10 + text.length + summary.records * width * itemSize);
    out.set(MAGIC, 0);
    out[6] = 1;
    out[7] = 0;
    new DataView(out.buffer).setUint16(8, text.length, true);
    out.set(new TextEncoder().encode(text), 10);
    const values = new DataView(out.buffer, 10 + text.length);
    let at = 0;
    for (const { data } of this.#rows) {
      for (const v of data) {
        if (itemSize === 8) values.setFloat64(at, v, true);
        else values.setFloat32(at, v, true);
        at += itemSize;
      }
    }
    this.#rows = [];
    return out;
  }
}

/** The codec. */
const npy: Codec = {
  apiVersion: 1,
  name: "npy",
  mediaTypes: ["application/x-npy"],
  extensions: [".npy"],
  input: { createFramer: () => new NpyFramer(), createDecoder: (context) => new NpyDecoder(context) },
  output: { createEncoder: () => new NpyEncoder() },
};

export default npy;
