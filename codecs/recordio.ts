/**
 * Plain RecordIO (`application/x-recordio`): RecordIO frames whose payloads Sluice treats as opaque. A
 * payload that is an Amazon `Record` is decoded as one (that is what SageMaker tools write); any other
 * payload is refused with a 415 that points to codec plugins, which can register this media type with a
 * decoder of their own. Answers like RecordIO-protobuf.
 */
import type { Codec } from "../src/index.js";
import { RecordIOFramer } from "./framing/recordio-framer.js";
import { AmazonRecordDecoder, AmazonRecordEncoder } from "./protobuf/amazon-record.js";

const MEDIA_TYPE = "application/x-recordio";

/** The plain RecordIO codec. */
export const recordIOCodec: Codec = {
  apiVersion: 1,
  name: "recordio",
  mediaTypes: [MEDIA_TYPE],
  input: {
    createFramer: (context) => new RecordIOFramer(context.singleRecord),
    createDecoder: (context) => new AmazonRecordDecoder(context, { opaqueMediaType: MEDIA_TYPE }),
    textInputs: true,
  },
  output: {
    createEncoder: () => new AmazonRecordEncoder(),
    textOutputs: true,
  },
};
