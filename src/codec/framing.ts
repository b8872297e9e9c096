/**
 * Framing: how a byte stream becomes record frames. A framer is fed the body chunk by chunk, at any
 * byte positions, and emits each complete frame as soon as its last byte arrives.
 */

/** One record's bytes and where they were found. */
export interface Frame {
  /**
   * The record's bytes, without framing (no newline, no length prefix). Only valid during the
   * `FrameSink` call: framers may hand out views of buffers they reuse.
   */
  bytes: Uint8Array;
  /** Offset of the frame's first byte from the start of the body. */
  byteOffset: number;
  /** One-based line of the frame's first byte, for line-based formats; 0 when the format has no lines. */
  line: number;
}

/** Receives frames in body order. */
export type FrameSink = (frame: Frame) => void;

/**
 * Splits a byte stream into frames. Implementations keep only the bytes of an unfinished frame between
 * calls and throw a `FramingError` (with `byteOffset`) when the stream cannot be split any further.
 *
 * @example
 * ```ts
 * const framer = codec.input.createFramer(context);
 * for await (const chunk of body) framer.push(chunk, onFrame);
 * framer.end(onFrame);
 * ```
 */
export interface Framer {
  /** Feeds the next chunk of the body; calls `emit` for every frame completed by it. */
  push(chunk: Uint8Array, emit: FrameSink): void;
  /** Signals the end of the body; emits a final unterminated frame, or throws if one is truncated. */
  end(emit: FrameSink): void;
}
