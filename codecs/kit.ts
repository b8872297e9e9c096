/**
 * `sluice/codec-kit`: what a plugin author builds a codec from — the framers of the built-in codecs,
 * the byte writer and number printing the text encoders use, and the plugin API itself — without
 * loading any built-in codec (nor protobufjs, which two of them need).
 */
export * from "../src/index.js";
export { ByteOrderMarkSkipper } from "./framing/byte-order-mark.js";
export { CsvFramer } from "./framing/csv-framer.js";
export { FrameBuffer, MAX_RECORD_BYTES, recordTooLarge } from "./framing/frame-buffer.js";
export { JsonFramer } from "./framing/json-framer.js";
export {
  type FrameHeader,
  type FrameLayout,
  type FramePart,
  LengthPrefixedFramer,
} from "./framing/length-prefixed-framer.js";
export { isBlank, LineFramer } from "./framing/line-framer.js";
export { encodeRecordIOFrame, RecordIOFramer } from "./framing/recordio-framer.js";
export { encodeTfRecordFrame, TfRecordFramer } from "./framing/tfrecord-framer.js";
export { DecimalScanner, NOT_A_NUMBER, parseAsciiNumber } from "./text/ascii-number.js";
export { ByteWriter, type TextQuoter, ValuePrinter } from "./text/byte-writer.js";
export {
  FLOAT32_RUN,
  type Float32RowLayout,
  MAX_FLOAT32_BYTES,
  MAX_FLOAT64_BYTES,
  type PrintableValues,
  printableValues,
  printFloat32Rows,
  RowPlan,
  type RowSegment,
  writeFloat32,
  writeFloat32Bits,
  writeFloat64,
} from "./text/shortest-float.js";
export {
  plannedRowWriter,
  type RecordPlan,
  type RowWriter,
  TextRecordEncoder,
  type TextRecordLayout,
  writePlannedRecords,
} from "./text/text-record-encoder.js";
