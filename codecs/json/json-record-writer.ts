/**
 * Writes one record's model outputs as a JSON value, shared by the JSON and JSON Lines encoders: the
 * output's values (shaped by its record shape: a number for `[N]`, nested arrays for `[N, 2, 3]`; an
 * object keyed by class for a map output such as ZipMap's) when the model has one output, an object keyed
 * by output name when it has several. Numbers read back to the same float32/float64; NaN and infinities,
 * which JSON cannot hold, are written as `null`; strings as JSON strings.
 */
import type { OutputBatch, OutputTensor, RecordError } from "../../src/index.js";
import type { ByteWriter } from "../text/byte-writer.js";
import type { RowSegment } from "../text/shortest-float.js";
import { plannedRowWriter, type RecordPlan, type RowWriter, writePlannedRecords } from "../text/text-record-encoder.js";

/** The record shape to nest values by, or `undefined` to write them as one flat array. */
function nestingOf(output: OutputTensor): readonly number[] | undefined {
  const shape = output.spec.recordShape;
  if (shape.length < 2 || shape.some((dim) => !(dim > 0))) return undefined;
  return shape.reduce((product, dim) => product * dim, 1) === output.width ? shape : undefined;
}

/** Builds a {@link RecordPlan}: texts between runs of values. */
class RecordPlanBuilder {
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

/** Plans output `o` of a record: a map, a number, nested arrays or a flat array (see the module comment). */
function planOutput(plan: RecordPlanBuilder, o: number, output: OutputTensor): void {
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

function planNested(plan: RecordPlanBuilder, o: number, start: number, shape: readonly number[], axis: number): void {
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

/** A record of `batch` as a JSON value (see the module comment). */
function jsonRecordPlan(batch: OutputBatch): RecordPlan {
  const plan = new RecordPlanBuilder();
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
  return { segments: plan.segments, closing: plan.pending };
}

/** Returns a function that appends row `row` of `batch` as a JSON value, value by value. */
export const jsonRecordWriter = (batch: OutputBatch): RowWriter =>
  plannedRowWriter(batch, jsonRecordPlan(batch), JSON.stringify, "null");

/**
 * Writes every record of `batch` at once, each followed by `terminator` and `separator` between them,
 * when every output is float32 or integers (the commonest models: one float32 output, or a label and its
 * probabilities); returns false, having written nothing, otherwise.
 */
export function writeNumericJsonRecords(
  writer: ByteWriter,
  batch: OutputBatch,
  separator: string,
  terminator: string,
): boolean {
  const after = `${terminator}${separator}`;
  if (!writePlannedRecords(writer, batch, jsonRecordPlan(batch), after, JSON.stringify, "null")) return false;
  // Every record was followed by the separator; the last one is not.
  writer.length -= separator.length;
  return true;
}

/** The JSON written in place of a record that could not be decoded (placeholder policy). */
export function jsonErrorPlaceholder(error: RecordError): string {
  return JSON.stringify({ error: error.message, code: error.code });
}
