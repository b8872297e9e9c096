/**
 * Reads an /invocations answer in any built-in output format back into rows of numbers (a record's
 * outputs flattened in model order), with readers independent of the codecs' encoders.
 */
import { readAmazonRecord, readRecordIOFrames, readTfExample, readTfRecordFrames } from "./binary-writers.js";
import { parseCsvNumbers } from "./reference.js";

/** The leaves of a JSON value, depth first (objects in key order): a record's outputs, flattened. */
export const flattenJson = <T = number>(value: unknown): T[] =>
  Array.isArray(value)
    ? value.flatMap((item) => flattenJson<T>(item))
    : typeof value === "object" && value !== null
      ? Object.values(value).flatMap((item) => flattenJson<T>(item))
      : [value as T];

/** One row of numbers per output record, whatever the answer's media type. */
export function answerRows(contentType: string, body: Uint8Array | string): number[][] {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const text = () => new TextDecoder().decode(bytes);
  const type = contentType.split(";")[0].trim().toLowerCase();
  switch (type) {
    case "application/x-recordio-protobuf":
    case "application/x-recordio":
      return readRecordIOFrames(bytes).map((payload) => flattenJson(readAmazonRecord(payload).tensors));
    case "application/x-tfrecord":
      return readTfRecordFrames(bytes).map((payload) => flattenJson(readTfExample(payload)));
    case "text/csv":
      return parseCsvNumbers(text());
    case "application/json":
      return (JSON.parse(text()) as { predictions: unknown[] }).predictions.map((value) => flattenJson(value));
    default:
      return text()
        .trim()
        .split("\n")
        .map((line) => flattenJson(JSON.parse(line)));
  }
}
