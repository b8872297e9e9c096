/**
 * Writes one record's model outputs as a JSON value, shared by the JSON and JSON Lines encoders: the
 * output's values (shaped by its record shape: a number for `[N]`, nested arrays for `[N, 2, 3]`) when
 * the model has one output, an object keyed by output name when it has several. Numbers read back to
 * the same float32/float64; NaN and infinities, which JSON cannot hold, are written as `null`.
 */
import type { OutputBatch, OutputTensor, OutputValues, RecordError } from "../../src/index.js";
import { valueFormatter } from "../text/number-format.js";

type Format = (index: number) => string;

function jsonNumberFormatter(data: OutputValues): Format {
  const format = valueFormatter(data);
  if (data instanceof Float32Array || data instanceof Float64Array) {
    return (i) => (Number.isFinite(data[i]) ? format(i) : "null");
  }
  return format;
}

/** The record shape to nest values by, or `undefined` to write them as one flat array. */
function nestingOf(output: OutputTensor): readonly number[] | undefined {
  const shape = output.spec.recordShape;
  if (shape.length < 2 || shape.some((dim) => !(dim > 0))) return undefined;
  return shape.reduce((product, dim) => product * dim, 1) === output.width ? shape : undefined;
}

function writeNested(format: Format, start: number, shape: readonly number[], axis: number): string {
  const size = shape[axis];
  let stride = 1;
  for (let k = axis + 1; k < shape.length; k++) stride *= shape[k];
  let text = "[";
  for (let j = 0; j < size; j++) {
    if (j > 0) text += ",";
    text += axis === shape.length - 1 ? format(start + j) : writeNested(format, start + j * stride, shape, axis + 1);
  }
  return `${text}]`;
}

/** Returns a function that writes row `row` of `batch` as a JSON value (see the module comment). */
export function jsonRecordWriter(batch: OutputBatch): (row: number) => string {
  const writers = batch.outputs.map((output): ((row: number) => string) => {
    const format = jsonNumberFormatter(output.data);
    const width = output.width;
    if (output.spec.recordShape.length === 0 && width === 1) return (row) => format(row);
    const shape = nestingOf(output);
    if (shape) return (row) => writeNested(format, row * width, shape, 0);
    return (row) => {
      let text = "[";
      for (let j = row * width, last = j + width; j < last; j++) text += (text.length > 1 ? "," : "") + format(j);
      return `${text}]`;
    };
  });
  if (writers.length === 1) return writers[0];
  const keys = batch.outputs.map((output) => `${JSON.stringify(output.spec.name)}:`);
  return (row) => {
    let text = "{";
    for (let o = 0; o < writers.length; o++) text += (o > 0 ? "," : "") + keys[o] + writers[o](row);
    return `${text}}`;
  };
}

/** The JSON written in place of a record that could not be decoded (placeholder policy). */
export function jsonErrorPlaceholder(error: RecordError): string {
  return JSON.stringify({ error: error.message, code: error.code });
}
