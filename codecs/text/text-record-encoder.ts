/**
 * The encoder of the text formats (CSV, JSON, JSON Lines): they differ only in what comes before,
 * between and after records, and in how one record is written.
 */
import type { OutputBatch, RecordEncoder, RecordError } from "../../src/index.js";
import { ByteWriter, type TextQuoter, ValuePrinter } from "./byte-writer.js";
import { printableValues, RowPlan, type RowSegment } from "./shortest-float.js";

/** Appends row `row` of a batch's outputs. */
export type RowWriter = (writer: ByteWriter, row: number) => void;

/**
 * How a format lays out one record of a batch: {@link RowSegment}s (a text, then some of one output's
 * values, a comma between values), then `closing`. Written a run of rows at a time by a {@link RowPlan}
 * when every output is floats, integers or strings ({@link writePlannedRecords}), else value by value
 * ({@link plannedRowWriter}): the same bytes either way.
 */
export interface RecordPlan {
  readonly segments: readonly RowSegment[];
  readonly closing: string;
}

const COMMA = ",";

/** Writes a record as `plan` lays it out, value by value; strings through `quote`. */
export function plannedRowWriter(
  batch: OutputBatch,
  plan: RecordPlan,
  quote: TextQuoter,
  nonFinite?: string,
): RowWriter {
  const printers = batch.outputs.map((output) => new ValuePrinter(output.data, quote));
  const widths = batch.outputs.map((output) => output.width);
  const separator = COMMA.charCodeAt(0);
  return (writer, row) => {
    for (const { text, output, column, count } of plan.segments) {
      if (text !== "") writer.text(text);
      const start = row * widths[output] + column;
      printers[output].write(writer, start, start + count, separator, nonFinite);
    }
    if (plan.closing !== "") writer.text(plan.closing);
  };
}

/**
 * Writes every record of `batch` as `plan` lays it out, each followed by `after`, a run of rows per call
 * into WebAssembly, when every output is floats, integers or strings (through `quote`); returns false,
 * having written nothing, otherwise (too many distinct strings for a run).
 */
export function writePlannedRecords(
  writer: ByteWriter,
  batch: OutputBatch,
  plan: RecordPlan,
  after: string,
  quote: TextQuoter,
  nonFinite?: string,
): boolean {
  const values = printableValues(
    batch.outputs.map((output) => output.data),
    quote,
  );
  if (values === undefined) return false;
  const rows = new RowPlan(plan.segments, `${plan.closing}${after}`, COMMA, nonFinite);
  const widths = batch.outputs.map((output) => output.width);
  return writer.planRows(rows, values, widths, batch.rows);
}

/** How a text format lays out an answer. */
export interface TextRecordLayout {
  /** Before the first record (`{"predictions":[`). */
  readonly open: string;
  /** Between two records (`,`). */
  readonly separator: string;
  /** After each record (a newline). */
  readonly terminator: string;
  /** After the last record (`]}`). */
  readonly close: string;
  /** Writes the records of `batch`, one row at a time. */
  rowWriter(batch: OutputBatch): RowWriter;
  /**
   * Writes every record of `batch` (at least one, none failed) in one go, each followed by the terminator
   * and the separator between them, or returns false, having written nothing, to have them written one
   * at a time. A separator before the batch's first record, when one is due, is already written.
   */
  writeRecords?(writer: ByteWriter, batch: OutputBatch): boolean;
  /** What stands in for a record that could not be decoded (placeholder policy). */
  placeholder(error: RecordError): string;
}

/** Writes records as `layout` says, straight into bytes. */
export class TextRecordEncoder implements RecordEncoder {
  readonly #writer = new ByteWriter();
  #first = true;

  constructor(private readonly layout: TextRecordLayout) {}

  begin(): string {
    return this.layout.open;
  }

  encode(batch: OutputBatch): Uint8Array {
    const { separator, terminator } = this.layout;
    const writer = this.#writer;
    if (batch.rows > 0 && batch.recordErrors.size === 0 && this.layout.writeRecords !== undefined) {
      const mark = writer.length;
      if (!this.#first) writer.text(separator);
      if (this.layout.writeRecords(writer, batch)) {
        this.#first = false;
        return writer.take();
      }
      writer.length = mark;
    }
    const write = this.layout.rowWriter(batch);
    for (let row = 0; row < batch.rows; row++) {
      if (!this.#first && separator !== "") writer.text(separator);
      this.#first = false;
      const error = batch.recordErrors.get(row);
      if (error) writer.text(this.layout.placeholder(error));
      else write(writer, row);
      if (terminator !== "") writer.text(terminator);
    }
    return writer.take();
  }

  end(): string {
    return this.layout.close;
  }
}
