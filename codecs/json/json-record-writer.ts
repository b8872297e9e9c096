/**
 * Writes one record's model outputs as a JSON value, shared by the JSON and JSON Lines encoders: the
 * output's values (shaped by its record shape: a number for `[N]`, nested arrays for `[N, 2, 3]`; an
 * object keyed by class for a map output such as ZipMap's) when the model has one output, an object keyed
 * by output name when it has several. Numbers read back to the same float32/float64; NaN and infinities,
 * which JSON cannot hold, are written as `null`; strings as JSON strings.
 */
import type { OutputBatch, OutputTensor, RecordError } from "../../src/index.js";
import { type ByteWriter, ValuePrinter } from "../text/byte-writer.js";
import { printableValues, RowPlan, type RowSegment } from "../text/shortest-float32.js";

const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Writes row `row` of one output. */
type OutputWriter = (writer: ByteWriter, row: number) => void;

/** The record shape to nest values by, or `undefined` to write them as one flat array. */
function nestingOf(output: OutputTensor): readonly number[] | undefined {
  const shape = output.spec.recordShape;
  if (shape.length < 2 || shape.some((dim) => !(dim > 0))) return undefined;
  return shape.reduce((product, dim) => product * dim, 1) === output.width ? shape : undefined;
}

function writeNested(
  writer: ByteWriter,
  printer: ValuePrinter,
  start: number,
  shape: readonly number[],
  axis: number,
): void {
  const size = shape[axis];
  writer.byte(OPEN_BRACKET);
  if (axis === shape.length - 1) {
    printer.write(writer, start, start + size, COMMA, "null");
  } else {
    let stride = 1;
    for (let k = axis + 1; k < shape.length; k++) stride *= shape[k];
    for (let j = 0; j < size; j++) {
      if (j > 0) writer.byte(COMMA);
      writeNested(writer, printer, start + j * stride, shape, axis + 1);
    }
  }
  writer.byte(CLOSE_BRACKET);
}

function outputWriter(output: OutputTensor): OutputWriter {
  const width = output.width;
  const printer = new ValuePrinter(output.data, JSON.stringify);
  const keys = output.spec.mapKeys;
  if (keys !== undefined && keys.length === width) {
    const prefixes = keys.map((key, k) => `${k === 0 ? "{" : ","}${JSON.stringify(key)}:`);
    return (writer, row) => {
      if (width === 0) writer.byte(0x7b);
      for (let k = 0; k < width; k++) {
        writer.text(prefixes[k]);
        printer.write(writer, row * width + k, row * width + k + 1, COMMA, "null");
      }
      writer.byte(0x7d);
    };
  }
  if (output.spec.recordShape.length === 0 && width === 1) {
    return (writer, row) => printer.write(writer, row, row + 1, COMMA, "null");
  }
  const shape = nestingOf(output);
  if (shape) return (writer, row) => writeNested(writer, printer, row * width, shape, 0);
  return (writer, row) => {
    writer.byte(OPEN_BRACKET);
    printer.write(writer, row * width, (row + 1) * width, COMMA, "null");
    writer.byte(CLOSE_BRACKET);
  };
}

/** Returns a function that appends row `row` of `batch` as a JSON value (see the module comment). */
export function jsonRecordWriter(batch: OutputBatch): OutputWriter {
  const writers = batch.outputs.map(outputWriter);
  if (writers.length === 1) return writers[0];
  const keys = batch.outputs.map((output) => `${JSON.stringify(output.spec.name)}:`);
  return (writer, row) => {
    writer.byte(0x7b);
    for (let o = 0; o < writers.length; o++) {
      if (o > 0) writer.byte(COMMA);
      writer.text(keys[o]);
      writers[o](writer, row);
    }
    writer.byte(0x7d);
  };
}

/** Builds a {@link RowPlan}: texts between runs of values. */
class RowPlanBuilder {
  readonly segments: RowSegment[] = [];
  /** Text written since the last run of values. */
  pending = "";

  text(text: string): void {
    this.pending += text;
  }

  values(output: number, column: number, count: number): void {
    this.segments.push({ text: this.pending, output, column, count });
    this.pending = "";
  }
}

/** Plans output `o` of a record as {@link outputWriter} writes it. */
function planOutput(plan: RowPlanBuilder, o: number, output: OutputTensor): void {
  const width = output.width;
  const keys = output.spec.mapKeys;
  if (keys !== undefined && keys.length === width) {
    if (width === 0) plan.text("{");
    keys.forEach((key, k) => {
      plan.text(`${k === 0 ? "{" : ","}${JSON.stringify(key)}:`);
      plan.values(o, k, 1);
    });
    plan.text("}");
    return;
  }
  if (output.spec.recordShape.length === 0 && width === 1) {
    plan.values(o, 0, 1);
    return;
  }
  const shape = nestingOf(output);
  if (shape) {
    planNested(plan, o, 0, shape, 0);
    return;
  }
  plan.text("[");
  plan.values(o, 0, width);
  plan.text("]");
}

function planNested(plan: RowPlanBuilder, o: number, start: number, shape: readonly number[], axis: number): void {
  plan.text("[");
  if (axis === shape.length - 1) {
    plan.values(o, start, shape[axis]);
  } else {
    let stride = 1;
    for (let k = axis + 1; k < shape.length; k++) stride *= shape[k];
    for (let j = 0; j < shape[axis]; j++) {
      if (j > 0) plan.text(",");
      planNested(plan, o, start + j * stride, shape, axis + 1);
    }
  }
  plan.text("]");
}

/**
 * Writes every record of `batch` at once, each followed by `terminator` and `separator` between them, as
 * {@link jsonRecordWriter} would one by one, when every output is float32 or integers (the commonest
 * models: one float32 output, or a label and its probabilities); returns false, having written nothing,
 * otherwise.
 */
export function writeNumericJsonRecords(
  writer: ByteWriter,
  batch: OutputBatch,
  separator: string,
  terminator: string,
): boolean {
  const values = printableValues(batch.outputs.map((output) => output.data));
  if (values === undefined) return false;
  const plan = new RowPlanBuilder();
  if (batch.outputs.length === 1) {
    planOutput(plan, 0, batch.outputs[0]);
  } else {
    plan.text("{");
    batch.outputs.forEach((output, o) => {
      plan.text(`${o > 0 ? "," : ""}${JSON.stringify(output.spec.name)}:`);
      planOutput(plan, o, output);
    });
    plan.text("}");
  }
  const rows = new RowPlan(plan.segments, `${plan.pending}${terminator}${separator}`, ",", "null");
  const widths = batch.outputs.map((output) => output.width);
  if (!writer.planRows(rows, values, widths, batch.rows)) return false;
  // Every record was followed by the separator; the last one is not.
  writer.length -= separator.length;
  return true;
}

/** The JSON written in place of a record that could not be decoded (placeholder policy). */
export function jsonErrorPlaceholder(error: RecordError): string {
  return JSON.stringify({ error: error.message, code: error.code });
}
