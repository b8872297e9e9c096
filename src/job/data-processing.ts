/**
 * SageMaker's DataProcessing, which the platform applies around each record outside the container:
 * `InputFilter` picks what the model receives, `JoinSource=Input` joins each output with its whole input
 * record, `OutputFilter` picks what is written. Only for CSV, JSON and JSON Lines; a CSV row is a JSON
 * array of its fields. CSV joins append the output's fields to the input's; JSON joins add the output under
 * `SageMakerOutput` (or wrap both as `SageMakerInput` / `SageMakerOutput` when the input is no object).
 */
import { ConfigError } from "../errors.js";
import { compileJsonPath, type Json, type JsonPath, JsonPathError } from "./json-path.js";

/** The job's DataProcessing settings. */
export interface DataProcessingOptions {
  readonly inputFilter: string;
  readonly outputFilter: string;
  readonly joinSource: "None" | "Input";
}

/** A record that DataProcessing cannot handle (a filter selecting what is not there). */
export class DataProcessingError extends Error {}

type TextFormat = "csv" | "json";

const FORMATS: Readonly<Record<string, TextFormat>> = {
  "text/csv": "csv",
  "application/json": "json",
  "application/jsonlines": "json",
  "application/x-jsonlines": "json",
  "application/jsonl": "json",
};

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** The fields of one CSV line (RFC 4180 quoting), as strings. */
export function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** One CSV line from values (quoted when needed). */
export function csvLine(values: readonly Json[]): string {
  return values
    .map((value) => {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    })
    .join(",");
}

/** Applies DataProcessing to records of one input and output format. */
export class DataProcessing {
  readonly #input: TextFormat | undefined;
  readonly #output: TextFormat | undefined;
  readonly #inputFilter: JsonPath | undefined;
  readonly #outputFilter: JsonPath | undefined;
  readonly #join: boolean;

  /** Validates the settings for these formats; throws `ConfigError` for what the platform refuses. */
  constructor(options: DataProcessingOptions, inputType: string, outputType: string) {
    this.#input = FORMATS[inputType];
    this.#output = FORMATS[outputType];
    const inputFilter = options.inputFilter.trim() === "$" ? undefined : compileJsonPath(options.inputFilter);
    const outputFilter = options.outputFilter.trim() === "$" ? undefined : compileJsonPath(options.outputFilter);
    if (options.inputFilter.length > 63) throw new ConfigError("--input-filter is limited to 63 characters");
    this.#join = options.joinSource === "Input";
    if ((inputFilter || outputFilter || this.#join) && (!this.#input || !this.#output)) {
      throw new ConfigError(
        `DataProcessing (filters other than $, --join-source Input) needs CSV, JSON or JSON Lines in and out; ` +
          `this job reads ${inputType} and writes ${outputType}`,
      );
    }
    if (this.#join && this.#input === "json" && this.#output === "csv") {
      throw new ConfigError("--join-source Input cannot join JSON input with CSV output; ask for JSON output");
    }
    this.#inputFilter = inputFilter;
    this.#outputFilter = outputFilter;
  }

  /** True when records must be taken apart: any filter or a join. */
  get active(): boolean {
    return this.#inputFilter !== undefined || this.#outputFilter !== undefined || this.#join;
  }

  /** True when the model receives part of each record (an `InputFilter`), not the record as it is. */
  get filtersInput(): boolean {
    return this.#inputFilter !== undefined;
  }

  #read(bytes: Uint8Array, format: TextFormat): Json {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new DataProcessingError("a record to filter or join is not valid UTF-8");
    }
    if (format === "csv") return csvFields(text);
    try {
      return JSON.parse(text) as Json;
    } catch (error) {
      // A record the model server answered with a placeholder may be one that is not JSON at all.
      throw new DataProcessingError(`a record to filter or join is not valid JSON: ${(error as Error).message}`);
    }
  }

  #write(value: Json, format: TextFormat): Uint8Array {
    if (format === "csv") return encoder.encode(csvLine(Array.isArray(value) ? value : [value]));
    try {
      return encoder.encode(JSON.stringify(value));
    } catch (error) {
      // JSON.stringify recurses, and a record JSON.parse read may be nested deeper than it can follow.
      throw new DataProcessingError(
        `a filtered or joined record cannot be written as JSON: ${(error as Error).message}`,
      );
    }
  }

  #select(filter: JsonPath | undefined, value: Json, which: string): Json {
    if (!filter) return value;
    try {
      return filter.select(value);
    } catch (error) {
      if (error instanceof JsonPathError) throw new DataProcessingError(`${which} ${filter.text}: ${error.message}`);
      throw error;
    }
  }

  /** The bytes the model receives for one input record (its `InputFilter` selection). */
  modelInput(record: Uint8Array): Uint8Array {
    if (!this.#inputFilter) return record;
    const format = this.#input as TextFormat;
    return this.#write(this.#select(this.#inputFilter, this.#read(record, format), "--input-filter"), format);
  }

  /** The record written for one input and the model's output for it (joined, then `OutputFilter`ed). */
  outputRecord(input: Uint8Array, output: Uint8Array): Uint8Array {
    const format = this.#output as TextFormat;
    let value = this.#read(output, format);
    if (this.#join) {
      const source = this.#read(input, this.#input as TextFormat);
      if (format === "csv") {
        value = [...(source as Json[]), ...(Array.isArray(value) ? value : [value])];
      } else if (source !== null && typeof source === "object" && !Array.isArray(source)) {
        value = { ...source, SageMakerOutput: value };
      } else {
        value = { SageMakerInput: source, SageMakerOutput: value };
      }
    }
    return this.#write(this.#select(this.#outputFilter, value, "--output-filter"), format);
  }
}

/**
 * The answer for `count` records split into one output record each: CSV and JSON Lines answers by line,
 * a JSON answer by the entries of its `predictions`. The answer to a `SplitType=None` input (`wholeInput`)
 * is one record, as the input is: a JSON answer whole, `{"predictions": [...]}` and all.
 */
export function splitAnswer(answer: Uint8Array, outputType: string, count: number, wholeInput = false): Uint8Array[] {
  const format = FORMATS[outputType];
  let records: Uint8Array[];
  if (format === "json" && outputType === "application/json" && wholeInput) {
    records = [answer];
  } else if (format === "json" && outputType === "application/json") {
    const document = JSON.parse(utf8.decode(answer)) as { predictions?: Json[] };
    records = (document.predictions ?? []).map((prediction) => encoder.encode(JSON.stringify(prediction)));
  } else {
    records = [];
    let start = 0;
    for (let i = 0; i <= answer.length; i++) {
      if (i === answer.length || answer[i] === 0x0a) {
        if (i > start || i < answer.length) records.push(answer.subarray(start, i));
        start = i + 1;
      }
    }
  }
  if (records.length !== count) {
    const why = wholeInput ? " (a SplitType=None input is one record: ask for a JSON answer to filter or join it)" : "";
    throw new DataProcessingError(`the answer holds ${records.length} record(s) for ${count} sent${why}`);
  }
  return records;
}
