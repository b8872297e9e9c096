/**
 * JSON Lines (`application/jsonlines`, also `application/x-jsonlines` and `application/jsonl`): one JSON
 * record per line (the forms `application/json` accepts for one record), blank lines skipped; one JSON
 * value per line out.
 */
import type { Codec, OutputBatch, RecordEncoder } from "../src/index.js";
import { LineFramer } from "./framing/line-framer.js";
import { JsonRecordDecoder } from "./json/json-record-decoder.js";
import { jsonErrorPlaceholder, jsonRecordWriter } from "./json/json-record-writer.js";

/** Writes one line per record. */
class JsonLinesEncoder implements RecordEncoder {
  begin(): string {
    return "";
  }

  encode(batch: OutputBatch): string {
    const write = jsonRecordWriter(batch);
    let text = "";
    for (let row = 0; row < batch.rows; row++) {
      const error = batch.recordErrors.get(row);
      text += `${error ? jsonErrorPlaceholder(error) : write(row)}\n`;
    }
    return text;
  }

  end(): string {
    return "";
  }
}

/** The JSON Lines codec. */
export const jsonLinesCodec: Codec = {
  name: "jsonlines",
  mediaTypes: ["application/jsonlines", "application/x-jsonlines", "application/jsonl"],
  input: {
    createFramer: () => new LineFramer(),
    createDecoder: (context) => new JsonRecordDecoder(context),
  },
  output: {
    createEncoder: () => new JsonLinesEncoder(),
  },
};
