/**
 * JSON (`application/json`): a document holding an array of records, `{"instances": [...]}`,
 * `{"inputs": ...}` (columnar) or one record, or (with a Line split) several such values one per line.
 * Answers `{"predictions": [...]}` with one entry per input record.
 */
import type { Codec } from "../src/index.js";
import { JsonFramer } from "./framing/json-framer.js";
import { JsonRecordDecoder } from "./json/json-record-decoder.js";
import { jsonErrorPlaceholder, jsonRecordWriter, writeNumericJsonRecords } from "./json/json-record-writer.js";
import { recordRank } from "./json/request-shapes.js";
import { TextRecordEncoder, type TextRecordLayout } from "./text/text-record-encoder.js";

/** `{"predictions":[…]}`, one entry per record. */
const JSON_LAYOUT: TextRecordLayout = {
  open: '{"predictions":[',
  separator: ",",
  terminator: "",
  close: "]}",
  rowWriter: jsonRecordWriter,
  writeRecords: (writer, batch) => writeNumericJsonRecords(writer, batch, ",", ""),
  placeholder: jsonErrorPlaceholder,
};

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
    createEncoder: () => new TextRecordEncoder(JSON_LAYOUT),
    textOutputs: true,
  },
};
