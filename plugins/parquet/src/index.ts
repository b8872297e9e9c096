/**
 * Apache Parquet (`application/x-parquet`): a whole file per body (`SplitType=None`), read by hyparquet
 * (a maintained, dependency-free Parquet reader). Each row is a record. Numeric columns feed the model's
 * inputs by name when every input has a column of its name (a list column feeds an input wider than 1),
 * else, for a one-input model, in column order (as many numeric columns as the input is wide). Nulls are
 * NaN (missing values, for the models that take them). Input only: answers in CSV, JSON or JSON Lines.
 */
import { parquetMetadata, parquetReadObjects, parquetSchema } from "hyparquet";
import {
  type Codec,
  type CodecContext,
  describeIntegerType,
  excerpt,
  Frame,
  type Framer,
  type FrameSink,
  FramingError,
  integerRange,
  isIntegerIn,
  type RecordDecoder,
  RecordError,
  type RecordSink,
  type TensorSpec,
} from "sluice/codec-kit";

/** The largest Parquet body held (the platform's payloads stop at 100 MB). */
const MAX_FILE_BYTES = 512 * 2 ** 20;

/** Holds the whole body and passes it on as one frame at its end. */
class WholeFileFramer implements Framer {
  #bytes = new Uint8Array(1 << 16);
  #length = 0;

  push(chunk: Uint8Array): void {
    if (this.#length + chunk.length > MAX_FILE_BYTES) {
      throw new FramingError("PARQUET_TOO_LARGE", `a Parquet body is limited to ${MAX_FILE_BYTES / 2 ** 20} MiB`);
    }
    if (this.#length + chunk.length > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + chunk.length));
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
    }
    this.#bytes.set(chunk, this.#length);
    this.#length += chunk.length;
  }

  end(emit: FrameSink): void {
    if (this.#length > 0) emit(new Frame().set(this.#bytes, 0, this.#length, 0));
  }
}

type Cell = number | bigint | boolean | null | undefined | readonly unknown[];

function numeric(cell: unknown, column: string, row: number): number {
  if (cell === null || cell === undefined) return Number.NaN;
  if (typeof cell === "number") return cell;
  if (typeof cell === "bigint") return Number(cell);
  if (typeof cell === "boolean") return cell ? 1 : 0;
  throw new RecordError(
    "PARQUET_VALUE_NOT_NUMERIC",
    `row ${row}, column ${excerpt(column)}: ${excerpt(String(cell))} is not a number`,
  );
}

/** `value`, unless `input` is an integer input it does not fit (a typed array would wrap it around). */
function fitting(value: number, input: TensorSpec, column: string, row: number): number {
  const range = integerRange(input.type);
  if (range === undefined || isIntegerIn(value, range)) return value;
  const missing = Number.isNaN(value);
  throw new RecordError(
    missing ? "PARQUET_VALUE_MISSING" : "PARQUET_VALUE_OUT_OF_RANGE",
    `row ${row}, column ${excerpt(column)}: ${missing ? "a null" : value} is not ${describeIntegerType(input.type)}, ` +
      `as ${excerpt(input.name)} takes`,
  );
}

/** Reads a Parquet file (asynchronously: hyparquet has no synchronous API) into one record per row. */
class ParquetDecoder implements RecordDecoder {
  readonly #inputs: readonly TensorSpec[];

  constructor(context: CodecContext) {
    this.#inputs = context.signature.inputs;
  }

  decode(frame: Frame, sink: RecordSink): Promise<void> {
    // The frame is only valid now: copy the file before the first await.
    const file = frame.buffer.slice(frame.start, frame.end).buffer as ArrayBuffer;
    return this.#decodeFile(file, sink);
  }

  async #decodeFile(file: ArrayBuffer, sink: RecordSink): Promise<void> {
    let columns: string[];
    let rows: Record<string, unknown>[];
    try {
      const metadata = parquetMetadata(file);
      columns = parquetSchema(metadata).children.map((child) => child.element.name);
      rows = (await parquetReadObjects({ file, metadata })) as Record<string, unknown>[];
    } catch (error) {
      throw new FramingError("PARQUET_INVALID", `the body is not a readable Parquet file: ${(error as Error).message}`);
    }
    const byName = this.#inputs.every((input) => columns.includes(input.name));
    if (!byName && this.#inputs.length > 1) {
      throw new FramingError(
        "PARQUET_COLUMNS",
        `the model's inputs (${this.#inputs.map((i) => i.name).join(", ")}) are not all columns (${columns.join(", ")})`,
      );
    }
    rows.forEach((row, index) => {
      const slots = sink.beginRecord();
      if (byName) {
        this.#inputs.forEach((input, i) => {
          const cell = row[input.name] as Cell;
          const values = Array.isArray(cell) ? cell : [cell];
          if (values.length !== input.width) {
            throw new RecordError(
              "PARQUET_WIDTH_MISMATCH",
              `row ${index}, column ${excerpt(input.name)} holds ${values.length} value(s); the input takes ${input.width}`,
            );
          }
          values.forEach((value, k) => {
            slots.arrays[i][slots.offset(i) + k] = fitting(numeric(value, input.name, index), input, input.name, index);
          });
        });
        return;
      }
      const input = this.#inputs[0];
      if (columns.length !== input.width) {
        throw new RecordError(
          "PARQUET_WIDTH_MISMATCH",
          `the file has ${columns.length} column(s); the model takes ${input.width}`,
        );
      }
      columns.forEach((column, k) => {
        slots.arrays[0][slots.offset(0) + k] = fitting(numeric(row[column], column, index), input, column, index);
      });
    });
  }
}

/** The codec. */
const parquet: Codec = {
  apiVersion: 1,
  name: "parquet",
  mediaTypes: ["application/x-parquet", "application/vnd.apache.parquet"],
  extensions: [".parquet"],
  input: { createFramer: () => new WholeFileFramer(), createDecoder: (context) => new ParquetDecoder(context) },
};

export default parquet;
