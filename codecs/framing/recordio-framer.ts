/**
 * RecordIO framing (MXNet's format, which SageMaker splits `SplitType=RecordIO` jobs by): each frame is
 * `uint32 magic 0xCED7230A`, `uint32 lrecord` (low 29 bits: payload length; high 3 bits: cflag — 0 whole
 * record, 1 first, 2 middle, 3 last part of a record split across frames), the payload, and zero
 * padding to a multiple of 4 bytes. Parts are reassembled into one frame per record.
 */
import { FramingError } from "../../src/index.js";
import { type FrameHeader, type FrameLayout, type FramePart, LengthPrefixedFramer } from "./length-prefixed-framer.js";

/** The magic number that starts every RecordIO frame. */
export const RECORDIO_MAGIC = 0xced7230a;
const HEADER_BYTES = 8;
const LENGTH_MASK = (1 << 29) - 1;
/** The longest payload one RecordIO record holds whole. */
export const RECORDIO_MAX_PAYLOAD = LENGTH_MASK;

enum Part {
  Whole = 0,
  First = 1,
  Middle = 2,
  Last = 3,
}

/** RecordIO's frames: magic and `lrecord` in the header, zero padding to 4 bytes as the trailer. */
class RecordIOLayout implements FrameLayout {
  readonly headerBytes = HEADER_BYTES;
  readonly maxTrailerBytes = 3;
  readonly trailerOptionalAtEnd = true;
  readonly readsInPlace = true;
  /** True between the header of a record's first part and that of its last part. */
  #continuing = false;

  readHeader(
    _bytes: Uint8Array,
    header: DataView,
    frameOffset: number,
    mayBeUnframed: boolean,
    frame: FrameHeader,
    at: number,
  ): boolean {
    const magic = header.getUint32(at, true);
    if (magic !== RECORDIO_MAGIC) {
      if (mayBeUnframed) return false;
      throw new FramingError(
        "RECORDIO_BAD_MAGIC",
        `expected the RecordIO magic number 0xced7230a, found 0x${magic.toString(16).padStart(8, "0")}`,
        { byteOffset: frameOffset },
      );
    }
    const lrecord = header.getUint32(at + 4, true);
    const length = lrecord & LENGTH_MASK;
    const part: Part = lrecord >>> 29;
    this.#checkPartSequence(part, frameOffset);
    frame.payloadBytes = length;
    frame.trailerBytes = (4 - (length % 4)) % 4;
    frame.startsRecord = part === Part.Whole || part === Part.First;
    frame.endsRecord = part === Part.Whole || part === Part.Last;
    return true;
  }

  #checkPartSequence(part: Part, frameOffset: number): void {
    const expected = this.#continuing ? part === Part.Middle || part === Part.Last : part <= Part.First;
    if (!expected) {
      throw new FramingError(
        "RECORDIO_PART_SEQUENCE",
        this.#continuing
          ? `a multi-part record is interrupted by a frame with cflag ${part}`
          : `a frame with cflag ${part} (${part === Part.Middle ? "middle" : "last"} part) has no first part before it`,
        { byteOffset: frameOffset },
      );
    }
    if (part === Part.First) this.#continuing = true;
    else if (part === Part.Last) this.#continuing = false;
  }

  readPayload(): void {}

  /** Padding is not checked: writers leave whatever bytes. */
  readTrailer(): void {}

  truncated(part: FramePart, frameOffset: number, recordOffset: number, inRecord: boolean): FramingError {
    return new FramingError(
      "RECORDIO_TRUNCATED",
      inRecord
        ? "the body ends before the last part of a multi-part RecordIO record"
        : `the body ends inside a RecordIO frame (${part})`,
      { byteOffset: inRecord ? recordOffset : frameOffset },
    );
  }
}

/** Splits RecordIO bytes into one frame per record (multi-part records reassembled). */
export class RecordIOFramer extends LengthPrefixedFramer {
  /**
   * @param acceptUnframed With SINGLE_RECORD, a body that does not start with the magic number is one
   * record without a frame header.
   */
  constructor(acceptUnframed = false) {
    super(new RecordIOLayout(), acceptUnframed);
  }
}

/** Frames `payload` as one whole RecordIO record (header, payload, zero padding to 4 bytes). */
export function encodeRecordIOFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > RECORDIO_MAX_PAYLOAD) throw new RangeError("a RecordIO payload is limited to 2^29 - 1 bytes");
  const padded = (payload.length + 3) & ~3;
  const frame = new Uint8Array(HEADER_BYTES + padded);
  const view = new DataView(frame.buffer);
  view.setUint32(0, RECORDIO_MAGIC, true);
  view.setUint32(4, payload.length, true);
  frame.set(payload, HEADER_BYTES);
  return frame;
}
