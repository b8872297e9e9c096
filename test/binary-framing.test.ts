import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CRC32C_INITIAL, crc32cFinish, crc32cUpdate } from "../codecs/framing/crc32c.js";
import { type FrameHeader, type FrameLayout, LengthPrefixedFramer } from "../codecs/framing/length-prefixed-framer.js";
import { RecordIOFramer } from "../codecs/framing/recordio-framer.js";
import { TfRecordFramer } from "../codecs/framing/tfrecord-framer.js";
import type { Framer } from "../src/codec/framing.js";
import { FramingError } from "../src/errors.js";
import { concat, crc32cBitwise, recordIOFrame, recordIOMultipart, tfRecordFrame } from "./support/binary-writers.js";
import { frameAll, splitAt, splitBySizes } from "./support/chunks.js";

const payload = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
const payloads = [payload(5, 1), payload(0, 2), payload(8, 3), payload(1000, 4), payload(7, 5)];

function framingError(framer: Framer, body: Uint8Array): FramingError {
  try {
    frameAll(framer, [body]);
  } catch (error) {
    if (error instanceof FramingError) return error;
    throw error;
  }
  assert.fail("expected the body to be refused");
}

/** Asserts that `makeFramer` finds `expected` payloads in `body` however it is split. */
function assertSplitInvariant(makeFramer: () => Framer, body: Uint8Array, expected: Uint8Array[]) {
  const whole = frameAll(makeFramer(), [body]);
  assert.deepEqual(
    whole.map((f) => f.bytes),
    expected,
  );
  for (let at = 0; at <= body.length; at++) {
    assert.deepEqual(frameAll(makeFramer(), splitAt(body, at)), whole, `split at ${at}`);
  }
  for (let size = 1; size <= 7; size++) {
    assert.deepEqual(frameAll(makeFramer(), splitBySizes(body, [size])), whole, `chunks of ${size}`);
  }
}

describe("CRC-32C", () => {
  it("matches the standard check value and a bit-by-bit computation, fed in any pieces", () => {
    const digits = new TextEncoder().encode("123456789");
    assert.equal(crc32cFinish(crc32cUpdate(CRC32C_INITIAL, digits)), 0xe3069283);
    const data = payload(1031, 9);
    let state = CRC32C_INITIAL;
    for (let at = 0; at < data.length; at += 13) state = crc32cUpdate(state, data, at, Math.min(at + 13, data.length));
    assert.equal(crc32cFinish(state), crc32cBitwise(data));
  });

  it("reads views at any offset, of ordinary and shared memory, one buffer after another", () => {
    const data = payload(4099, 3);
    const shared = new Uint8Array(new SharedArrayBuffer(data.length + 40));
    shared.set(data, 17);
    const ordinary = new Uint8Array(data.length + 40);
    ordinary.set(data, 5);
    for (const [start, end] of [
      [0, data.length],
      [3, 40],
      [1000, 1033],
      [7, 7],
    ]) {
      const expected = crc32cBitwise(data.subarray(start, end));
      for (const view of [shared.subarray(17, 17 + data.length), ordinary.subarray(5), data]) {
        assert.equal(crc32cFinish(crc32cUpdate(CRC32C_INITIAL, view, start, end)), expected);
      }
    }
  });
});

describe("RecordIO framing", () => {
  it("finds every record, padding and multi-part records included, wherever the body is split", () => {
    const body = concat([
      recordIOFrame(payloads[0]),
      recordIOFrame(payloads[1]),
      recordIOMultipart(payloads[2], 3),
      recordIOMultipart(payloads[3], 2),
      recordIOFrame(payloads[4]),
    ]);
    assertSplitInvariant(() => new RecordIOFramer(), body, payloads);
    const offsets = frameAll(new RecordIOFramer(), [body]).map((f) => f.byteOffset);
    assert.deepEqual(offsets, [0, 16, 24, 60, 1076]);
  });

  it("refuses a bad magic number, naming its byte offset", () => {
    const body = concat([recordIOFrame(payloads[0]), recordIOFrame(payloads[2])]);
    body[16] ^= 0xff;
    const error = framingError(new RecordIOFramer(), body);
    assert.equal(error.code, "RECORDIO_BAD_MAGIC");
    assert.equal(error.location.byteOffset, 16);
  });

  it("refuses a truncated final frame (header or payload) and an unfinished multi-part record", () => {
    const body = concat([recordIOFrame(payloads[0]), recordIOFrame(payloads[3])]);
    for (const cut of [20, body.length - 8]) {
      const error = framingError(new RecordIOFramer(), body.subarray(0, cut));
      assert.equal(error.code, "RECORDIO_TRUNCATED");
      assert.equal(error.location.byteOffset, 16);
    }
    const multipart = recordIOMultipart(payloads[3], 3);
    const lastPart = multipart.length - (8 + Math.ceil((1000 - 2 * 334) / 4) * 4);
    assert.equal(framingError(new RecordIOFramer(), multipart.subarray(0, lastPart)).code, "RECORDIO_TRUNCATED");
  });

  it("accepts a final frame whose padding is missing", () => {
    const frame = recordIOFrame(payloads[0]);
    assert.deepEqual(
      frameAll(new RecordIOFramer(), [frame.subarray(0, frame.length - 3)]).map((f) => f.bytes),
      [payloads[0]],
    );
  });

  it("refuses parts out of order", () => {
    assert.equal(framingError(new RecordIOFramer(), recordIOFrame(payloads[0], 3)).code, "RECORDIO_PART_SEQUENCE");
    const interrupted = concat([recordIOFrame(payloads[0], 1), recordIOFrame(payloads[0], 0)]);
    assert.equal(framingError(new RecordIOFramer(), interrupted).code, "RECORDIO_PART_SEQUENCE");
  });

  it("with SINGLE_RECORD, takes a body without a frame header as one record", () => {
    for (const data of [payload(3, 7), payload(50, 8), payload(6, 0)]) {
      assertSplitInvariant(() => new RecordIOFramer(true), data, [data]);
      assertSplitInvariant(() => new RecordIOFramer(true), recordIOFrame(data), [data]);
    }
    assert.equal(framingError(new RecordIOFramer(false), payload(50, 8)).code, "RECORDIO_BAD_MAGIC");
  });
});

describe("TFRecord framing", () => {
  const body = concat(payloads.map(tfRecordFrame));

  it("finds every record wherever the body is split, checking both CRCs", () => {
    assertSplitInvariant(() => new TfRecordFramer(), body, payloads);
  });

  it("refuses a corrupt data CRC, a corrupt length CRC and a truncated frame, naming the frame's offset", () => {
    const dataCorrupt = body.slice();
    // Frames start at 0, 21, 37… (12-byte header, data, 4-byte CRC).
    const secondFrame = 21;
    const thirdFrame = 37;
    dataCorrupt[thirdFrame + 12 + 2] ^= 1;
    const error = framingError(new TfRecordFramer(), dataCorrupt);
    assert.equal(error.code, "TFRECORD_BAD_DATA_CRC");
    assert.equal(error.location.byteOffset, thirdFrame);

    const lengthCorrupt = body.slice();
    lengthCorrupt[secondFrame] = 99;
    const lengthError = framingError(new TfRecordFramer(), lengthCorrupt);
    assert.equal(lengthError.code, "TFRECORD_BAD_LENGTH_CRC");
    assert.equal(lengthError.location.byteOffset, secondFrame);

    const truncated = framingError(new TfRecordFramer(), body.subarray(0, body.length - 2));
    assert.equal(truncated.code, "TFRECORD_TRUNCATED");
  });

  it("with SINGLE_RECORD, takes a body without a frame as one record", () => {
    for (const data of [payload(3, 7), payload(50, 8)]) {
      assertSplitInvariant(() => new TfRecordFramer(true), data, [data]);
      assertSplitInvariant(() => new TfRecordFramer(true), tfRecordFrame(data), [data]);
    }
    assert.equal(framingError(new TfRecordFramer(false), payload(50, 8)).code, "TFRECORD_BAD_LENGTH_CRC");
  });
});

describe("a plugin's own length-prefixed layout", () => {
  /**
   * Written as a plugin author may have written it before layouts could read in place: a 2-byte length,
   * the payload, a 1-byte trailer that must be 0xee; it reads its header and trailer at offset 0.
   */
  class TwoByteLengthLayout implements FrameLayout {
    readonly headerBytes = 2;
    readonly maxTrailerBytes = 1;
    readonly trailerOptionalAtEnd = false;
    readHeader(_bytes: Uint8Array, view: DataView, _frameOffset: number, _unframed: boolean, frame: FrameHeader) {
      frame.payloadBytes = view.getUint16(0, true);
      frame.trailerBytes = 1;
      frame.startsRecord = true;
      frame.endsRecord = true;
      return true;
    }
    readPayload(): void {}
    readTrailer(trailer: DataView, frameOffset: number): void {
      if (trailer.getUint8(0) !== 0xee) throw new FramingError("BAD_TRAILER", "no 0xee", { byteOffset: frameOffset });
    }
    truncated(): FramingError {
      return new FramingError("TRUNCATED", "truncated", {});
    }
  }
  const frame = (data: Uint8Array) =>
    concat([Uint8Array.of(data.length & 0xff, data.length >> 8), data, Uint8Array.of(0xee)]);

  it("still gets its headers and trailers at offset 0, wherever the body is split", () => {
    const body = concat(payloads.map(frame));
    assertSplitInvariant(() => new LengthPrefixedFramer(new TwoByteLengthLayout()), body, payloads);
    const corrupt = body.slice();
    corrupt[2 + 5] = 0;
    const error = framingError(new LengthPrefixedFramer(new TwoByteLengthLayout()), corrupt);
    assert.equal(error.code, "BAD_TRAILER");
  });
});
