/**
 * Sluice's built-in codecs. The server loads this module exactly as it loads a third-party plugin.
 * Plugins import the framers from here (`sluice/codecs`) to reuse them with decoders of their own.
 */
import type { Codec } from "../src/index.js";
import { csvCodec } from "./csv.js";
import { jsonCodec } from "./json.js";
import { jsonLinesCodec } from "./jsonlines.js";
import { recordIOCodec, recordIOProtobufCodec } from "./recordio.js";
import { tfRecordCodec } from "./tfrecord.js";

export { CsvFramer } from "./framing/csv-framer.js";
export { FrameBuffer } from "./framing/frame-buffer.js";
export { JsonFramer } from "./framing/json-framer.js";
export { LineFramer } from "./framing/line-framer.js";
export { encodeRecordIOFrame, RecordIOFramer } from "./framing/recordio-framer.js";
export { encodeTfRecordFrame, TfRecordFramer } from "./framing/tfrecord-framer.js";
export { csvCodec, jsonCodec, jsonLinesCodec, recordIOCodec, recordIOProtobufCodec, tfRecordCodec };

/** In registration order: JSON first, as it answers when Accept allows anything and the input cannot. */
const builtinCodecs: readonly Codec[] = [
  jsonCodec,
  csvCodec,
  jsonLinesCodec,
  recordIOProtobufCodec,
  recordIOCodec,
  tfRecordCodec,
];
export default builtinCodecs;
