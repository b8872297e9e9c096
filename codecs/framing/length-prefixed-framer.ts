/**
 * Framing for binary formats whose frames are a fixed-size header that gives the payload's length, the
 * payload, and a fixed-size trailer: RecordIO (magic, length and part flags; zero padding) and TFRecord
 * (length and its checksum; the data's checksum). The state machine, the body offsets, the payloads that
 * arrive split across chunks, and a SINGLE_RECORD body sent without any frame are handled here; a
 * {@link FrameLayout} reads one format's headers and trailers.
 */
import { Frame, type Framer, type FrameSink, type FramingError } from "../../src/index.js";
import { FrameBuffer } from "./frame-buffer.js";

/** What a header says about its frame (filled in by {@link FrameLayout.readHeader}, reused per frame). */
export interface FrameHeader {
  /** Payload bytes after the header. */
  payloadBytes: number;
  /** Trailer bytes after the payload. */
  trailerBytes: number;
  /** The frame's payload starts a record (false for the middle and last parts of a RecordIO record). */
  startsRecord: boolean;
  /** The frame's payload ends a record (false for the first and middle parts). */
  endsRecord: boolean;
}

/** Where a body may end too early, for {@link FrameLayout.truncated}. */
export type FramePart = "header" | "payload" | "trailer";

/** One format's frames: its header and trailer, read by {@link LengthPrefixedFramer}. */
export interface FrameLayout {
  readonly headerBytes: number;
  /** The largest trailer a header can announce. */
  readonly maxTrailerBytes: number;
  /** A body may end without the last frame's trailer (RecordIO's padding). */
  readonly trailerOptionalAtEnd: boolean;
  /**
   * True when {@link readHeader} and {@link readTrailer} read at `at`, their last argument: the framer then
   * hands them a header or trailer where it lies in the chunk, without copying it (a third of a small
   * record's framing). Without it they always get a copy at offset 0.
   */
  readonly readsInPlace?: boolean;
  /**
   * Reads a complete header (`bytes` from `at`, also seen as `view`; at `frameOffset` in the body) into
   * `frame`. Returns false when `mayBeUnframed` and the bytes are not a header: the body is then one
   * record sent without a frame. Throws a `FramingError` for a bad header.
   */
  readHeader(
    bytes: Uint8Array,
    view: DataView,
    frameOffset: number,
    mayBeUnframed: boolean,
    frame: FrameHeader,
    at: number,
  ): boolean;
  /** Sees each piece of a payload as it arrives (to checksum it). */
  readPayload(chunk: Uint8Array, start: number, end: number): void;
  /** Checks a complete trailer (`view` from `at`); throws a `FramingError`. */
  readTrailer(view: DataView, frameOffset: number, at: number): void;
  /**
   * The error for a body that ends inside `part` of a frame (`inRecord`: inside a record of several
   * frames, which starts at `recordOffset`).
   */
  truncated(part: FramePart, frameOffset: number, recordOffset: number, inRecord: boolean): FramingError;
}

enum State {
  Header,
  Payload,
  Trailer,
  /** SINGLE_RECORD body without a frame header: everything is one record. */
  Unframed,
}

const PARTS: Readonly<Record<State, FramePart>> = {
  [State.Header]: "header",
  [State.Payload]: "payload",
  [State.Trailer]: "trailer",
  [State.Unframed]: "payload",
};

/** Splits a length-prefixed body into one frame per record. */
export class LengthPrefixedFramer implements Framer {
  readonly #layout: FrameLayout;
  readonly #acceptUnframed: boolean;
  readonly #small: Uint8Array;
  readonly #smallView: DataView;
  readonly #pending = new FrameBuffer();
  readonly #frame = new Frame();
  #state = State.Header;
  /** Bytes of the header or trailer collected so far. */
  #filled = 0;
  /** Payload bytes still to come; then the trailer's size. */
  #remaining = 0;
  readonly #header: FrameHeader = { payloadBytes: 0, trailerBytes: 0, startsRecord: true, endsRecord: true };
  /** True from the first frame of a record of several frames until its last frame is complete. */
  #inRecord = false;
  /**
   * The current frame's payload, `#chunk[#inChunkStart, #inChunkEnd)`, when it lies whole inside the chunk
   * being scanned (else #inChunkStart is -1): emitted where it lies, without a view of its own.
   */
  #chunk: Uint8Array = new Uint8Array(0);
  #inChunkStart = -1;
  #inChunkEnd = 0;
  /** Body offsets: of the chunk being scanned, of the current frame, of the current record's first frame. */
  #chunkOffset = 0;
  #frameOffset = 0;
  #recordOffset = 0;

  /**
   * @param acceptUnframed With SINGLE_RECORD, a body that does not start with a frame header is one
   * record without a frame.
   */
  constructor(layout: FrameLayout, acceptUnframed = false) {
    this.#layout = layout;
    this.#acceptUnframed = acceptUnframed;
    this.#small = new Uint8Array(Math.max(layout.headerBytes, layout.maxTrailerBytes));
    this.#smallView = new DataView(this.#small.buffer);
  }

  push(chunk: Uint8Array, emit: FrameSink): void {
    const n = chunk.length;
    this.#chunk = chunk;
    const { headerBytes, readsInPlace } = this.#layout;
    // Headers and trailers that lie whole in the chunk (nearly all) are read where they are, when the
    // layout can; the others are gathered in #small first. Only a layout that reads in place needs a
    // view of the chunk.
    const view = readsInPlace ? new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength) : this.#smallView;
    let i = 0;
    while (i < n) {
      switch (this.#state) {
        case State.Header: {
          if (this.#filled === 0) {
            this.#frameOffset = this.#chunkOffset + i;
            if (readsInPlace && n - i >= headerBytes) {
              i += headerBytes;
              this.#readHeader(chunk, view, i - headerBytes, emit);
              break;
            }
          }
          const take = Math.min(headerBytes - this.#filled, n - i);
          this.#small.set(chunk.subarray(i, i + take), this.#filled);
          this.#filled += take;
          i += take;
          if (this.#filled === headerBytes) {
            this.#filled = 0;
            this.#readHeader(this.#small, this.#smallView, 0, emit);
          }
          break;
        }
        case State.Payload: {
          const take = Math.min(this.#remaining, n - i);
          this.#layout.readPayload(chunk, i, i + take);
          // The common case: the whole payload is inside this chunk, so the frame can be a view of it.
          if (this.#pending.length === 0 && take === this.#remaining) {
            this.#inChunkStart = i;
            this.#inChunkEnd = i + take;
          } else this.#pending.append(chunk, i, i + take);
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#endPayload(emit);
          break;
        }
        case State.Trailer: {
          const { trailerBytes } = this.#header;
          if (readsInPlace && this.#filled === 0 && n - i >= trailerBytes) {
            i += trailerBytes;
            this.#layout.readTrailer(view, this.#frameOffset, i - trailerBytes);
            this.#endFrame(emit);
            break;
          }
          const take = Math.min(trailerBytes - this.#filled, n - i);
          this.#small.set(chunk.subarray(i, i + take), this.#filled);
          this.#filled += take;
          i += take;
          if (this.#filled === trailerBytes) {
            this.#filled = 0;
            this.#layout.readTrailer(this.#smallView, this.#frameOffset, 0);
            this.#endFrame(emit);
          }
          break;
        }
        case State.Unframed:
          this.#pending.append(chunk, i, n);
          i = n;
          break;
      }
    }
    // A payload seen whole in this chunk whose frame is not finished must outlive the chunk.
    this.#keepInChunkPayload();
    this.#chunkOffset += n;
  }

  end(emit: FrameSink): void {
    if (this.#state === State.Header && this.#filled > 0 && this.#mayBeUnframed()) {
      // A SINGLE_RECORD body shorter than a frame header.
      this.#pending.append(this.#small, 0, this.#filled);
      this.#state = State.Unframed;
    }
    if (this.#state === State.Unframed) {
      this.#recordOffset = 0;
      this.#emitPending(emit);
      return;
    }
    if (this.#state === State.Trailer && this.#layout.trailerOptionalAtEnd) {
      this.#filled = 0;
      this.#endFrame(emit);
    }
    const complete = this.#state === State.Header && this.#filled === 0;
    if (!complete || this.#inRecord) {
      throw this.#layout.truncated(PARTS[this.#state], this.#frameOffset, this.#recordOffset, this.#inRecord);
    }
  }

  /** True when the body may be a SINGLE_RECORD record without a frame header (we are at its start). */
  #mayBeUnframed(): boolean {
    return this.#acceptUnframed && this.#frameOffset === 0;
  }

  /** Reads the complete header at `at` in `bytes` (also seen as `view`). */
  #readHeader(bytes: Uint8Array, view: DataView, at: number, emit: FrameSink): void {
    const header = this.#header;
    const { headerBytes } = this.#layout;
    if (!this.#layout.readHeader(bytes, view, this.#frameOffset, this.#mayBeUnframed(), header, at)) {
      // SINGLE_RECORD without a frame: every byte seen so far is the record's start.
      this.#pending.append(bytes, at, at + headerBytes);
      this.#state = State.Unframed;
      return;
    }
    if (header.startsRecord) this.#recordOffset = this.#frameOffset;
    if (!header.endsRecord) this.#inRecord = true;
    this.#remaining = header.payloadBytes;
    this.#state = State.Payload;
    if (header.payloadBytes === 0) this.#endPayload(emit);
  }

  #endPayload(emit: FrameSink): void {
    if (this.#header.trailerBytes > 0) this.#state = State.Trailer;
    else this.#endFrame(emit);
  }

  /** After a frame: emits the record when the frame ends one, else keeps the part for the next frames. */
  #endFrame(emit: FrameSink): void {
    this.#state = State.Header;
    if (this.#header.endsRecord) {
      this.#inRecord = false;
      if (this.#inChunkStart >= 0) {
        const start = this.#inChunkStart;
        this.#inChunkStart = -1;
        this.#emit(this.#chunk, start, this.#inChunkEnd, emit);
      } else this.#emitPending(emit);
    } else this.#keepInChunkPayload();
  }

  /** Moves a payload that lies in the chunk into #pending, where the next frames of its record join it. */
  #keepInChunkPayload(): void {
    if (this.#inChunkStart < 0) return;
    this.#pending.append(this.#chunk, this.#inChunkStart, this.#inChunkEnd);
    this.#inChunkStart = -1;
  }

  /** Emits the record gathered in #pending (one that straddled chunks, or was made of several frames). */
  #emitPending(emit: FrameSink): void {
    const payload = this.#pending.view();
    this.#emit(payload, 0, payload.length, emit);
  }

  #emit(bytes: Uint8Array, start: number, end: number, emit: FrameSink): void {
    emit(this.#frame.set(bytes, start, end, this.#recordOffset));
    this.#pending.clear();
  }
}
