/**
 * JSON Lines (`application/jsonlines`, also `application/x-jsonlines` and `application/jsonl`): one JSON
 * record per line (the forms `application/json` accepts for one record), blank lines skipped; one JSON
 * value per line out.
 */
import type { Codec } from "../src/index.js";
import { LineBoundaryScanner } from "./framing/line-boundary-scanner.js";
import { LineFramer } from "./framing/line-framer.js";
import { JsonRecordDecoder } from "./json/json-record-decoder.js";
import { jsonErrorPlaceholder, jsonRecordWriter, writeNumericJsonRecords } from "./json/json-record-writer.js";
import { TextRecordEncoder, type TextRecordLayout } from "./text/text-record-encoder.js";

/** One JSON value per line. */
const JSON_LINES_LAYOUT: TextRecordLayout = {
  open: "",
  separator: "",
  terminator: "\n",
  close: "",
  rowWriter: jsonRecordWriter,
  writeRecords: (writer, batch) => writeNumericJsonRecords(writer, batch, "", "\n"),
  placeholder: jsonErrorPlaceholder,
};

/** The JSON Lines codec. */
export const jsonLinesCodec: Codec = {
  apiVersion: 1,
  name: "jsonlines",
  mediaTypes: ["application/jsonlines", "application/x-jsonlines", "application/jsonl"],
  input: {
    createFramer: () => new LineFramer(),
    createDecoder: (context) => new JsonRecordDecoder(context),
    textInputs: true,
    createBoundaryScanner: () => new LineBoundaryScanner(),
  },
  output: {
    createEncoder: () => new TextRecordEncoder(JSON_LINES_LAYOUT),
    textOutputs: true,
    concatenates: true,
  },
};
