/**
 * TFRecord framing: `uint64 length`, `uint32 masked_crc32c(length bytes)`, `data[length]`,
 * `uint32 masked_crc32c(data)`, all little-endian. Both checksums are verified; the data checksum is
 * computed as the bytes arrive, so a frame is never read twice.
 */
import { FramingError } from "../../src/index.js";
import { CRC32C_INITIAL, crc32cFinish, crc32cUpdate, maskCrc, maskedCrc32c } from "./crc32c.js";
import { type FrameHeader, type FrameLayout, type FramePart, LengthPrefixedFramer } from "./length-prefixed-framer.js";

const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;
/** Larger records are refused before any of their bytes are held (a length this large is corrupt). */
const MAX_TFRECORD_LENGTH = 2 ** 31 - 1;

/** TFRecord's frames: the length and its checksum in the header, the data's checksum as the trailer. */
class TfRecordLayout implements FrameLayout {
  readonly headerBytes = HEADER_BYTES;
  readonly maxTrailerBytes = FOOTER_BYTES;
  readonly trailerOptionalAtEnd = false;
  readonly readsInPlace = true;
  /** The data's checksum so far. */
  #crc = CRC32C_INITIAL;

  readHeader(
    bytes: Uint8Array,
    header: DataView,
    frameOffset: number,
    mayBeUnframed: boolean,
    frame: FrameHeader,
    at: number,
  ): boolean {
    if (header.getUint32(at + 8, true) !== maskedCrc32c(bytes, at, at + 8)) {
      if (mayBeUnframed) return false;
      throw new FramingError(
        "TFRECORD_BAD_LENGTH_CRC",
        "the checksum of a TFRecord frame's length does not match (the body is not TFRecord, or is corrupt here)",
        { byteOffset: frameOffset },
      );
    }
    const high = header.getUint32(at + 4, true);
    const length = header.getUint32(at, true);
    if (high !== 0 || length > MAX_TFRECORD_LENGTH) {
      throw new FramingError("TFRECORD_TOO_LARGE", "a TFRecord frame declares a record of 2 GiB or more", {
        byteOffset: frameOffset,
      });
    }
    this.#crc = CRC32C_INITIAL;
    frame.payloadBytes = length;
    frame.trailerBytes = FOOTER_BYTES;
    return true;
  }

  readPayload(chunk: Uint8Array, start: number, end: number): void {
    this.#crc = crc32cUpdate(this.#crc, chunk, start, end);
  }

  readTrailer(trailer: DataView, frameOffset: number, at: number): void {
    const expected = trailer.getUint32(at, true);
    const actual = maskCrc(crc32cFinish(this.#crc));
    if (expected !== actual) {
      throw new FramingError(
        "TFRECORD_BAD_DATA_CRC",
        `the checksum of a TFRecord's data does not match (stored 0x${expected.toString(16)}, computed 0x${actual.toString(16)})`,
        { byteOffset: frameOffset },
      );
    }
  }

  truncated(part: FramePart, frameOffset: number): FramingError {
    const where = part === "header" ? "header" : part === "payload" ? "data" : "data checksum";
    return new FramingError("TFRECORD_TRUNCATED", `the body ends inside a TFRecord frame (${where})`, {
      byteOffset: frameOffset,
    });
  }
}

/** Splits TFRecord bytes into one frame per record, verifying both checksums. */
export class TfRecordFramer extends LengthPrefixedFramer {
  /**
   * @param acceptUnframed With SINGLE_RECORD, a body that does not start with a valid header is one
   * record without a frame.
   */
  constructor(acceptUnframed = false) {
    super(new TfRecordLayout(), acceptUnframed);
  }
}

/** The header of a TFRecord of `length` data bytes: the length (64-bit) and its masked CRC-32C. */
export function tfRecordHeader(length: number): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, length, true);
  view.setUint32(4, Math.floor(length / 2 ** 32), true);
  view.setUint32(8, maskedCrc32c(header, 0, 8), true);
  return header;
}

/** Frames `data` as one TFRecord (length, its checksum, data, its checksum). */
export function encodeTfRecordFrame(data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + data.length + FOOTER_BYTES);
  const view = new DataView(frame.buffer);
  frame.set(tfRecordHeader(data.length));
  frame.set(data, HEADER_BYTES);
  view.setUint32(HEADER_BYTES + data.length, maskedCrc32c(data), true);
  return frame;
}
