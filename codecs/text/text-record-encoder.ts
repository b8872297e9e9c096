/**
 * The encoder of the text formats (CSV, JSON, JSON Lines): they differ only in what comes before,
 * between and after records, and in how one record is written.
 */
import type { OutputBatch, RecordEncoder, RecordError } from "../../src/index.js";
import { ByteWriter } from "./byte-writer.js";

/** Appends row `row` of a batch's outputs. */
export type RowWriter = (writer: ByteWriter, row: number) => void;

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
