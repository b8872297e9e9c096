/**
 * RecordIO framing (MXNet's format, which SageMaker splits `SplitType=RecordIO` jobs by): each frame is
 * `uint32 magic 0xCED7230A`, `uint32 lrecord` (low 29 bits: payload length; high 3 bits: cflag — 0 whole
 * record, 1 first, 2 middle, 3 last part of a record split across frames), the payload, and zero
 * padding to a multiple of 4 bytes. Parts are reassembled into one frame per record.
 */
import { Frame, type Framer, type FrameSink, FramingError } from "../../src/index.js";
import { FrameBuffer } from "./frame-buffer.js";

/** The magic number that starts every RecordIO frame. */
export const RECORDIO_MAGIC = 0xced7230a;
const HEADER_BYTES = 8;
const LENGTH_MASK = (1 << 29) - 1;

enum Part {
  Whole = 0,
  First = 1,
  Middle = 2,
  Last = 3,
}

enum State {
  Header,
  Payload,
  Padding,
  /** SINGLE_RECORD body without a frame header: everything is one record. */
  Unframed,
}

/** Splits RecordIO bytes into one frame per record (multi-part records reassembled). */
export class RecordIOFramer implements Framer {
  readonly #header = new Uint8Array(HEADER_BYTES);
  readonly #headerView = new DataView(this.#header.buffer);
  readonly #pending = new FrameBuffer();
  readonly #frame = new Frame();
  readonly #acceptUnframed: boolean;
  #state = State.Header;
  #headerFilled = 0;
  /** Payload bytes (then padding bytes) still to come in the current frame. */
  #remaining = 0;
  #padding = 0;
  #part = Part.Whole;
  /** True between the first and the last part of a multi-part record. */
  #inMultipart = false;
  /** Body offsets: of the chunk being scanned, of the current frame's header, of the record's first header. */
  #chunkOffset = 0;
  #frameOffset = 0;
  #recordOffset = 0;

  /**
   * @param acceptUnframed With SINGLE_RECORD, a body that does not start with the magic number is one
   * record without a frame header.
   */
  constructor(acceptUnframed = false) {
    this.#acceptUnframed = acceptUnframed;
  }

  push(chunk: Uint8Array, emit: FrameSink): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      switch (this.#state) {
        case State.Header: {
          const take = Math.min(HEADER_BYTES - this.#headerFilled, n - i);
          if (this.#headerFilled === 0) this.#frameOffset = this.#chunkOffset + i;
          this.#header.set(chunk.subarray(i, i + take), this.#headerFilled);
          this.#headerFilled += take;
          i += take;
          if (this.#headerFilled === HEADER_BYTES || this.#isUnframed()) this.#readHeader(emit);
          break;
        }
        case State.Payload: {
          const take = Math.min(this.#remaining, n - i);
          const whole = this.#pending.length === 0 && take === this.#remaining && !this.#inMultipart;
          this.#remaining -= take;
          if (whole) {
            // The common case: the whole payload is inside this chunk, so the frame is a view of it.
            this.#emit(chunk.subarray(i, i + take), emit);
          } else {
            this.#pending.append(chunk, i, i + take);
            if (this.#remaining === 0) this.#endPart(emit);
          }
          i += take;
          if (this.#remaining === 0) this.#state = this.#padding > 0 ? State.Padding : State.Header;
          break;
        }
        case State.Padding: {
          const take = Math.min(this.#padding, n - i);
          this.#padding -= take;
          i += take;
          if (this.#padding === 0) this.#state = State.Header;
          break;
        }
        case State.Unframed:
          this.#pending.append(chunk, i, n);
          i = n;
          break;
      }
    }
    this.#chunkOffset += n;
  }

  end(emit: FrameSink): void {
    if (this.#state === State.Header && this.#headerFilled > 0 && this.#mayBeUnframed()) {
      // SINGLE_RECORD body shorter than a frame header.
      this.#pending.append(this.#header, 0, this.#headerFilled);
      this.#state = State.Unframed;
    }
    if (this.#state === State.Unframed) {
      this.#recordOffset = 0;
      this.#emit(this.#pending.view(), emit);
      return;
    }
    // A missing final padding is harmless: the record is complete.
    const complete = this.#state === State.Header && this.#headerFilled === 0;
    if ((!complete && this.#state !== State.Padding) || this.#inMultipart) {
      throw new FramingError(
        "RECORDIO_TRUNCATED",
        this.#inMultipart
          ? "the body ends before the last part of a multi-part RecordIO record"
          : `the body ends inside a RecordIO frame (${this.#state === State.Header ? "header" : "payload"})`,
        { byteOffset: this.#inMultipart ? this.#recordOffset : this.#frameOffset },
      );
    }
  }

  /** True when the body may be a SINGLE_RECORD record without a frame header (we are at its start). */
  #mayBeUnframed(): boolean {
    return this.#acceptUnframed && this.#frameOffset === 0;
  }

  /** True once the body is known not to start with a frame header. */
  #isUnframed(): boolean {
    if (!this.#mayBeUnframed()) return false;
    for (let k = 0; k < Math.min(4, this.#headerFilled); k++) {
      if (this.#header[k] !== ((RECORDIO_MAGIC >>> (8 * k)) & 0xff)) return true;
    }
    return false;
  }

  #readHeader(emit: FrameSink): void {
    if (this.#isUnframed()) {
      // SINGLE_RECORD without a header: keep every byte seen so far as the record's start.
      this.#pending.append(this.#header, 0, this.#headerFilled);
      this.#headerFilled = 0;
      this.#state = State.Unframed;
      return;
    }
    this.#headerFilled = 0;
    const magic = this.#headerView.getUint32(0, true);
    if (magic !== RECORDIO_MAGIC) {
      throw new FramingError(
        "RECORDIO_BAD_MAGIC",
        `expected the RecordIO magic number 0xced7230a, found 0x${magic.toString(16).padStart(8, "0")}`,
        { byteOffset: this.#frameOffset },
      );
    }
    const lrecord = this.#headerView.getUint32(4, true);
    const length = lrecord & LENGTH_MASK;
    this.#part = lrecord >>> 29;
    this.#checkPartSequence();
    if (this.#part === Part.Whole || this.#part === Part.First) this.#recordOffset = this.#frameOffset;
    this.#remaining = length;
    this.#padding = (4 - (length % 4)) % 4;
    this.#state = State.Payload;
    if (length === 0) {
      if (this.#part === Part.Whole) this.#emit(new Uint8Array(0), emit);
      else this.#endPart(emit);
      this.#state = this.#padding > 0 ? State.Padding : State.Header;
    }
  }

  #checkPartSequence(): void {
    const part = this.#part;
    const expected = this.#inMultipart ? part === Part.Middle || part === Part.Last : part <= Part.First;
    if (!expected) {
      throw new FramingError(
        "RECORDIO_PART_SEQUENCE",
        this.#inMultipart
          ? `a multi-part record is interrupted by a frame with cflag ${part}`
          : `a frame with cflag ${part} (${part === Part.Middle ? "middle" : "last"} part) has no first part before it`,
        { byteOffset: this.#frameOffset },
      );
    }
    if (part === Part.First) this.#inMultipart = true;
  }

  /** After a part's payload: emits the record when it was the whole record or its last part. */
  #endPart(emit: FrameSink): void {
    if (this.#part === Part.Whole || this.#part === Part.Last) {
      this.#inMultipart = false;
      this.#emit(this.#pending.view(), emit);
    }
  }

  #emit(bytes: Uint8Array, emit: FrameSink): void {
    emit(this.#frame.set(bytes, 0, bytes.length, this.#recordOffset));
    this.#pending.clear();
  }
}

/** Frames `payload` as one whole RecordIO record (header, payload, zero padding to 4 bytes). */
export function encodeRecordIOFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > LENGTH_MASK) throw new RangeError("a RecordIO payload is limited to 2^29 - 1 bytes");
  const padded = (payload.length + 3) & ~3;
  const frame = new Uint8Array(HEADER_BYTES + padded);
  const view = new DataView(frame.buffer);
  view.setUint32(0, RECORDIO_MAGIC, true);
  view.setUint32(4, payload.length, true);
  frame.set(payload, HEADER_BYTES);
  return frame;
}
