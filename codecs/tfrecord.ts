/**
 * TFRecord (`application/x-tfrecord`): TFRecord frames (both checksums verified) of `tf.train.Example`
 * messages, the format of `SplitType=TFRecord` jobs. Answers one Example per input record.
 */
import type { Codec } from "../src/index.js";
import { TfRecordFramer } from "./framing/tfrecord-framer.js";
import { TfExampleDecoder, TfExampleEncoder } from "./protobuf/tf-example.js";

/** The TFRecord codec. */
export const tfRecordCodec: Codec = {
  apiVersion: 1,
  name: "tfrecord",
  mediaTypes: ["application/x-tfrecord"],
  input: {
    createFramer: (context) => new TfRecordFramer(context.singleRecord),
    createDecoder: (context) => new TfExampleDecoder(context),
    textInputs: true,
  },
  output: {
    createEncoder: () => new TfExampleEncoder(),
    textOutputs: true,
    concatenates: true,
  },
};
