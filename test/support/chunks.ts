/**
 * Feeds framers their input split at chosen byte positions, to prove that framing does not depend on
 * where chunk boundaries fall.
 */
import type { Frame, Framer } from "../../src/codec/framing.js";

/** A frame copied out of the framer (frames are only valid during the callback). */
export interface CopiedFrame {
  text: string;
  bytes: Uint8Array;
  byteOffset: number;
  line: number;
}

const decoder = new TextDecoder();

/** Runs a framer over `chunks` and returns copies of every frame. */
export function frameAll(framer: Framer, chunks: readonly Uint8Array[]): CopiedFrame[] {
  const frames: CopiedFrame[] = [];
  const emit = (frame: Frame) => {
    const bytes = frame.bytes.slice();
    frames.push({ text: decoder.decode(bytes), bytes, byteOffset: frame.byteOffset, line: frame.line });
  };
  for (const chunk of chunks) framer.push(chunk, emit);
  framer.end(emit);
  return frames;
}

/** `bytes` split into two chunks at `at`. */
export const splitAt = (bytes: Uint8Array, at: number): Uint8Array[] => [bytes.subarray(0, at), bytes.subarray(at)];

/** `bytes` split into chunks of sizes cycling through `sizes`. */
export function splitBySizes(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** A web stream that delivers `chunks` one by one (each on its own turn of the event loop). */
export function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setImmediate(resolve));
      if (index < chunks.length) controller.enqueue(chunks[index++]);
      else controller.close();
    },
  });
}
