/**
 * TFRecord framing: `uint64 length`, `uint32 masked_crc32c(length bytes)`, `data[length]`,
 * `uint32 masked_crc32c(data)`, all little-endian. Both checksums are verified; the data checksum is
 * computed as the bytes arrive, so a frame is never read twice.
 */
import { Frame, type Framer, type FrameSink, FramingError } from "../../src/index.js";
import { CRC32C_INITIAL, crc32cFinish, crc32cUpdate, maskCrc, maskedCrc32c } from "./crc32c.js";
import { FrameBuffer } from "./frame-buffer.js";

const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;
/** Larger records are refused before any of their bytes are held (a length this large is corrupt). */
const MAX_TFRECORD_LENGTH = 2 ** 31 - 1;

enum State {
  Header,
  Data,
  Footer,
  /** SINGLE_RECORD body without a frame header: everything is one record. */
  Unframed,
}

/** Splits TFRecord bytes into one frame per record, verifying both checksums. */
export class TfRecordFramer implements Framer {
  readonly #small = new Uint8Array(HEADER_BYTES);
  readonly #smallView = new DataView(this.#small.buffer);
  readonly #pending = new FrameBuffer();
  readonly #frame = new Frame();
  readonly #acceptUnframed: boolean;
  #state = State.Header;
  /** Bytes of the header or footer collected so far. */
  #filled = 0;
  #remaining = 0;
  #crc = CRC32C_INITIAL;
  /** Where the data of the current record is, when it lies whole inside the chunk being scanned. */
  #inChunk: Uint8Array | undefined;
  #chunkOffset = 0;
  #frameOffset = 0;

  /**
   * @param acceptUnframed With SINGLE_RECORD, a body that does not start with a valid header is one
   * record without a frame.
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
          if (this.#filled === 0) this.#frameOffset = this.#chunkOffset + i;
          const take = Math.min(HEADER_BYTES - this.#filled, n - i);
          this.#small.set(chunk.subarray(i, i + take), this.#filled);
          this.#filled += take;
          i += take;
          if (this.#filled === HEADER_BYTES) this.#readHeader();
          break;
        }
        case State.Data: {
          const take = Math.min(this.#remaining, n - i);
          this.#crc = crc32cUpdate(this.#crc, chunk, i, i + take);
          if (this.#pending.length === 0 && take === this.#remaining) this.#inChunk = chunk.subarray(i, i + take);
          else this.#pending.append(chunk, i, i + take);
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#state = State.Footer;
          break;
        }
        case State.Footer: {
          const take = Math.min(FOOTER_BYTES - this.#filled, n - i);
          this.#small.set(chunk.subarray(i, i + take), this.#filled);
          this.#filled += take;
          i += take;
          if (this.#filled === FOOTER_BYTES) this.#readFooter(emit);
          break;
        }
        case State.Unframed:
          this.#pending.append(chunk, i, n);
          i = n;
          break;
      }
    }
    // A record's data seen whole in this chunk but not yet checked must outlive the chunk.
    if (this.#inChunk) {
      this.#pending.append(this.#inChunk);
      this.#inChunk = undefined;
    }
    this.#chunkOffset += n;
  }

  end(emit: FrameSink): void {
    if (this.#state === State.Header && this.#filled > 0 && this.#acceptUnframed && this.#frameOffset === 0) {
      this.#pending.append(this.#small, 0, this.#filled);
      this.#state = State.Unframed;
    }
    if (this.#state === State.Unframed) {
      this.#emit(this.#pending.view(), 0, emit);
      return;
    }
    if (this.#state !== State.Header || this.#filled > 0) {
      throw new FramingError(
        "TFRECORD_TRUNCATED",
        `the body ends inside a TFRecord frame (${["header", "data", "data checksum"][this.#state]})`,
        { byteOffset: this.#frameOffset },
      );
    }
  }

  #readHeader(): void {
    this.#filled = 0;
    const view = this.#smallView;
    if (view.getUint32(8, true) !== maskedCrc32c(this.#small, 0, 8)) {
      if (this.#acceptUnframed && this.#frameOffset === 0) {
        this.#pending.append(this.#small);
        this.#state = State.Unframed;
        return;
      }
      throw new FramingError(
        "TFRECORD_BAD_LENGTH_CRC",
        "the checksum of a TFRecord frame's length does not match (the body is not TFRecord, or is corrupt here)",
        { byteOffset: this.#frameOffset },
      );
    }
    const high = view.getUint32(4, true);
    const length = view.getUint32(0, true);
    if (high !== 0 || length > MAX_TFRECORD_LENGTH) {
      throw new FramingError("TFRECORD_TOO_LARGE", "a TFRecord frame declares a record of 2 GiB or more", {
        byteOffset: this.#frameOffset,
      });
    }
    this.#remaining = length;
    this.#crc = CRC32C_INITIAL;
    this.#state = length > 0 ? State.Data : State.Footer;
  }

  #readFooter(emit: FrameSink): void {
    this.#filled = 0;
    const expected = this.#smallView.getUint32(0, true);
    const actual = maskCrc(crc32cFinish(this.#crc));
    if (expected !== actual) {
      throw new FramingError(
        "TFRECORD_BAD_DATA_CRC",
        `the checksum of a TFRecord's data does not match (stored 0x${expected.toString(16)}, computed 0x${actual.toString(16)})`,
        { byteOffset: this.#frameOffset },
      );
    }
    const data = this.#inChunk ?? this.#pending.view();
    this.#inChunk = undefined;
    this.#state = State.Header;
    this.#emit(data, this.#frameOffset, emit);
  }

  #emit(bytes: Uint8Array, byteOffset: number, emit: FrameSink): void {
    emit(this.#frame.set(bytes, 0, bytes.length, byteOffset));
    this.#pending.clear();
  }
}

/** Frames `data` as one TFRecord (length, its checksum, data, its checksum). */
export function encodeTfRecordFrame(data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + data.length + FOOTER_BYTES);
  const view = new DataView(frame.buffer);
  view.setUint32(0, data.length, true);
  view.setUint32(8, maskedCrc32c(frame, 0, 8), true);
  frame.set(data, HEADER_BYTES);
  view.setUint32(HEADER_BYTES + data.length, maskedCrc32c(data), true);
  return frame;
}
