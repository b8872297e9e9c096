/**
 * Framing: how a byte stream becomes record frames. A framer is fed the body chunk by chunk, at any
 * byte positions, and emits each complete frame as soon as its last byte arrives.
 */

const EMPTY = new Uint8Array(0);

/**
 * One record's bytes and where they were found. A framer keeps one `Frame` and points it at each record
 * in turn ({@link Frame.set}); the record is `buffer[start, end)`, without framing (no newline, no length
 * prefix). Valid only during the `FrameSink` call: framers hand out views of buffers they reuse.
 */
export class Frame {
  /** The buffer holding the record (often the whole chunk it arrived in). */
  buffer: Uint8Array = EMPTY;
  /** Where the record starts in {@link buffer}. */
  start = 0;
  /** Where the record ends in {@link buffer} (exclusive). */
  end = 0;
  /** Offset of the record's first byte from the start of the body. */
  byteOffset = 0;
  /** One-based line of the record's first byte, for line-based formats; 0 when the format has no lines. */
  line = 0;

  /** The record's bytes as their own view (made on each call; hot loops read `buffer[start, end)` instead). */
  get bytes(): Uint8Array {
    return this.buffer.subarray(this.start, this.end);
  }

  /** Points the frame at `buffer[start, end)`, found at `byteOffset` (and `line`) in the body. */
  set(buffer: Uint8Array, start: number, end: number, byteOffset: number, line = 0): this {
    this.buffer = buffer;
    this.start = start;
    this.end = end;
    this.byteOffset = byteOffset;
    this.line = line;
    return this;
  }
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
  /**
   * Line-based formats only: the line feeds in the body, once `end` has returned. A body cut into parts
   * (see {@link RecordBoundaryScanner}) numbers the lines of a later part's errors on from the parts
   * before it by these.
   */
  lineFeedCount?(): number;
}

/**
 * Finds where records end in a body, ahead of its framer, so that one large body can be cut at record
 * ends into parts that codec threads frame, decode and encode at the same time. It is fed the body's
 * bytes once each, in order, and keeps only what it needs to know across them (inside quotes, say).
 * Sluice runs it on the thread that receives the body, for the built-in codecs only.
 */
export interface RecordBoundaryScanner {
  /** Reads `bytes` without looking for a record's end. */
  skip(bytes: Uint8Array): void;
  /**
   * Reads `bytes` up to the end of the first record that ends in them, and returns how many bytes that
   * is (a new record starts there); reads them all and returns -1 when no record ends in them.
   */
  findEnd(bytes: Uint8Array): number;
}
