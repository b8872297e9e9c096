/**
 * JSON (`application/json`): a document holding an array of records, `{"instances": [...]}`,
 * `{"inputs": ...}` (columnar) or one record, or (with a Line split) several such values one per line.
 * Answers `{"predictions": [...]}` with one entry per input record.
 */
import type { Codec, ModelSignature, OutputBatch, RecordEncoder } from "../src/index.js";
import { JsonFramer } from "./framing/json-framer.js";
import { JsonRecordDecoder } from "./json/json-record-decoder.js";
import { jsonErrorPlaceholder, jsonRecordWriter } from "./json/json-record-writer.js";
import { ByteWriter } from "./text/byte-writer.js";

/** Array nesting of one record: that of the model's input when it has one, else 1 (flat rows). */
function recordRank(signature: ModelSignature): number {
  return signature.inputs.length === 1 ? signature.inputs[0].recordShape.length : 1;
}

/** Writes `{"predictions":[…]}`, one entry per record. */
class JsonDocumentEncoder implements RecordEncoder {
  readonly #writer = new ByteWriter();
  #first = true;

  begin(): string {
    return '{"predictions":[';
  }

  encode(batch: OutputBatch): Uint8Array {
    const write = jsonRecordWriter(batch);
    const writer = this.#writer;
    for (let row = 0; row < batch.rows; row++) {
      if (!this.#first) writer.byte(0x2c);
      this.#first = false;
      const error = batch.recordErrors.get(row);
      if (error) writer.text(jsonErrorPlaceholder(error));
      else write(writer, row);
    }
    return writer.take();
  }

  end(): string {
    return "]}";
  }
}

/** The JSON codec. */
export const jsonCodec: Codec = {
  apiVersion: 1,
  name: "json",
  mediaTypes: ["application/json"],
  input: {
    createFramer: (context) => new JsonFramer(recordRank(context.signature)),
    createDecoder: (context) => new JsonRecordDecoder(context),
    textInputs: true,
  },
  output: {
    createEncoder: () => new JsonDocumentEncoder(),
    textOutputs: true,
  },
};
