/**
 * The two RecordIO codecs, which differ in one thing: what a payload that is not an Amazon `Record` means.
 * - RecordIO-protobuf (`application/x-recordio-protobuf`): frames of Amazon `Record` messages, the format
 *   of SageMaker's built-in algorithms and of `SplitType=RecordIO` jobs; anything else is a bad record.
 * - Plain RecordIO (`application/x-recordio`): payloads Sluice treats as opaque. One that is an Amazon
 *   `Record` is decoded as one (that is what SageMaker tools write); any other is refused with a 415 that
 *   points to codec plugins, which can register this media type with a decoder of their own.
 * Both answer one `Record` per input record, its outputs in the `label` map.
 */
import type { Codec } from "../src/index.js";
import { RecordIOFramer } from "./framing/recordio-framer.js";
import { AmazonRecordDecoder, AmazonRecordEncoder } from "./protobuf/amazon-record.js";

function recordIOCodecFor(name: string, mediaType: string, opaque: boolean): Codec {
  return {
    apiVersion: 1,
    name,
    mediaTypes: [mediaType],
    input: {
      createFramer: (context) => new RecordIOFramer(context.singleRecord),
      createDecoder: (context) => new AmazonRecordDecoder(context, opaque ? { opaqueMediaType: mediaType } : {}),
      textInputs: true,
    },
    output: {
      createEncoder: () => new AmazonRecordEncoder(),
      textOutputs: true,
      concatenates: true,
    },
  };
}

/** The RecordIO-protobuf codec. */
export const recordIOProtobufCodec = recordIOCodecFor("recordio-protobuf", "application/x-recordio-protobuf", false);

/** The plain RecordIO codec. */
export const recordIOCodec = recordIOCodecFor("recordio", "application/x-recordio", true);
