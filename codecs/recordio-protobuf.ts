/**
 * RecordIO-protobuf (`application/x-recordio-protobuf`): RecordIO frames of Amazon `Record` messages, the
 * format of SageMaker's built-in algorithms and of `SplitType=RecordIO` jobs. Answers one `Record` per
 * input record, its outputs in the `label` map.
 */
import type { Codec } from "../src/index.js";
import { RecordIOFramer } from "./framing/recordio-framer.js";
import { AmazonRecordDecoder, AmazonRecordEncoder } from "./protobuf/amazon-record.js";

/** The RecordIO-protobuf codec. */
export const recordIOProtobufCodec: Codec = {
  apiVersion: 1,
  name: "recordio-protobuf",
  mediaTypes: ["application/x-recordio-protobuf"],
  input: {
    createFramer: (context) => new RecordIOFramer(context.singleRecord),
    createDecoder: (context) => new AmazonRecordDecoder(context),
    textInputs: true,
  },
  output: {
    createEncoder: () => new AmazonRecordEncoder(),
    textOutputs: true,
  },
};
