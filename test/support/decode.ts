/**
 * Runs a codec's framer and decoder over a body (split into chunks) without a server or model, and
 * returns the decoded rows per input, for codec unit tests.
 */
import { Batcher, type InputBatch } from "../../src/batcher.js";
import type { Codec, CodecContext } from "../../src/codec/codec.js";
import type { Frame } from "../../src/codec/framing.js";
import { parseMediaType } from "../../src/codec/media-type.js";
import type { ElementType, ModelSignature, TensorSpec } from "../../src/model/signature.js";

/** A signature with the given inputs (name → [type, width]) and one float32 output. */
export function signatureOf(inputs: Record<string, [ElementType, number]>): ModelSignature {
  const specs: TensorSpec[] = Object.entries(inputs).map(([name, [type, width]]) => ({
    name,
    type,
    width,
    recordShape: [width],
  }));
  return {
    inputs: specs,
    outputs: [{ name: "out", type: "float32", width: 1, recordShape: [1] }],
    maxBatchRows: Number.POSITIVE_INFINITY,
  };
}

/** A codec context for tests. */
export function contextFor(
  signature: ModelSignature,
  contentType: string,
  extra: Partial<Omit<CodecContext, "signature" | "mediaType">> = {},
): CodecContext {
  const mediaType = parseMediaType(contentType);
  if (!mediaType) throw new Error(`bad media type ${contentType}`);
  return { signature, mediaType, singleRecord: false, settings: {}, ...extra };
}

/** Decodes `chunks` and returns, per record, one plain array of numbers per input. */
export function decodeBody(codec: Codec, context: CodecContext, chunks: readonly Uint8Array[]): number[][][] {
  if (!codec.input) throw new Error(`${codec.name} has no input format`);
  const framer = codec.input.createFramer(context);
  const decoder = codec.input.createDecoder(context);
  const batches: InputBatch[] = [];
  const batcher = new Batcher(context.signature, 3, (batch) => batches.push(batch));
  const onFrame = (frame: Frame) => decoder.decode(frame, batcher);
  for (const chunk of chunks) framer.push(chunk, onFrame);
  framer.end(onFrame);
  batcher.flush();
  const records: number[][][] = [];
  for (const batch of batches) {
    for (let row = 0; row < batch.rows; row++) {
      records.push(
        context.signature.inputs.map((spec, i) =>
          Array.from(batch.inputs[i].subarray(row * spec.width, (row + 1) * spec.width)),
        ),
      );
    }
  }
  return records;
}
