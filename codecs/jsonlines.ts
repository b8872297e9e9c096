/**
 * JSON Lines (`application/jsonlines`, also `application/x-jsonlines` and `application/jsonl`): one JSON
 * record per line (the forms `application/json` accepts for one record), blank lines skipped; one JSON
 * value per line out.
 */
import type { Codec, OutputBatch, RecordEncoder } from "../src/index.js";
import { LineFramer } from "./framing/line-framer.js";
import { JsonRecordDecoder } from "./json/json-record-decoder.js";
import { jsonErrorPlaceholder, jsonRecordWriter } from "./json/json-record-writer.js";
import { ByteWriter } from "./text/byte-writer.js";

/** Writes one line per record. */
class JsonLinesEncoder implements RecordEncoder {
  readonly #writer = new ByteWriter();

  begin(): string {
    return "";
  }

  encode(batch: OutputBatch): Uint8Array {
    const write = jsonRecordWriter(batch);
    const writer = this.#writer;
    for (let row = 0; row < batch.rows; row++) {
      const error = batch.recordErrors.get(row);
      if (error) writer.text(jsonErrorPlaceholder(error));
      else write(writer, row);
      writer.byte(0x0a);
    }
    return writer.take();
  }

  end(): string {
    return "";
  }
}

/** The JSON Lines codec. */
export const jsonLinesCodec: Codec = {
  apiVersion: 1,
  name: "jsonlines",
  mediaTypes: ["application/jsonlines", "application/x-jsonlines", "application/jsonl"],
  input: {
    createFramer: () => new LineFramer(),
    createDecoder: (context) => new JsonRecordDecoder(context),
    textInputs: true,
  },
  output: {
    createEncoder: () => new JsonLinesEncoder(),
    textOutputs: true,
  },
};
