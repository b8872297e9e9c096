/**
 * `sluice transform`'s record splitter (`SplitType` Line, RecordIO, TFRecord): the same records and byte
 * offsets wherever the input's pieces are cut, corrupt and truncated frames named with their offset, and a
 * record over the payload limit refused before the rest of it is read.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecordTooLargeError, SplitError, type SplitType, splitRecords } from "../src/job/record-splitter.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import { concat, recordIOFrame, recordIOMultipart, tfRecordFrame } from "./support/binary-writers.js";

const text = (value: string) => new TextEncoder().encode(value);

/** The input in pieces that end at `cuts`. */
function* pieces(input: Uint8Array, cuts: readonly number[]): Generator<Uint8Array> {
  let start = 0;
  for (const cut of [...cuts, input.length]) {
    yield input.slice(start, cut);
    start = cut;
  }
}

async function split(
  chunks: Iterable<Uint8Array>,
  splitType: SplitType,
  maxRecordBytes?: number,
): Promise<[string, number][]> {
  const records: [string, number][] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const record of splitRecords(
    source(),
    splitType,
    maxRecordBytes === undefined ? undefined : { bytes: maxRecordBytes },
  )) {
    records.push([Buffer.from(record.bytes).toString("latin1"), record.byteOffset]);
  }
  return records;
}

/** The error splitting `input` (in one piece) throws. */
async function failure(input: Uint8Array, splitType: SplitType, maxRecordBytes?: number): Promise<unknown> {
  try {
    await split([input], splitType, maxRecordBytes);
  } catch (error) {
    return error;
  }
  assert.fail("the split should have failed");
}

const payload = (length: number, seed: number) => Uint8Array.from({ length }, (_, k) => (k * 31 + seed) & 0xff);

const inputs: Record<Exclude<SplitType, "None">, Uint8Array> = {
  // CRLF and LF, blank lines and one of spaces, no line feed after the last record.
  Line: text("1,2,3\r\n\n4,5,6\n  \t\n\r\n7,8,9\n10,11,12"),
  // A record in one frame, one in three (with padding), one with an empty payload.
  RecordIO: concat([
    recordIOFrame(payload(13, 1)),
    recordIOMultipart(payload(30, 2), 3),
    recordIOFrame(new Uint8Array(0)),
    recordIOFrame(payload(4, 3)),
  ]),
  TFRecord: concat([tfRecordFrame(payload(9, 4)), tfRecordFrame(new Uint8Array(0)), tfRecordFrame(payload(40, 5))]),
};

describe("the record splitter of sluice transform", () => {
  it("gives the same records at the same offsets wherever the input is cut", async () => {
    const random = seededRandom(7);
    for (const [splitType, input] of Object.entries(inputs) as [SplitType, Uint8Array][]) {
      const whole = await split([input], splitType);
      assert.ok(whole.length >= 3, splitType);
      for (let cut = 0; cut <= input.length; cut++) {
        assert.deepEqual(await split(pieces(input, [cut]), splitType), whole, `${splitType}, cut at ${cut}`);
      }
      assert.deepEqual(
        await split(
          pieces(
            input,
            Array.from({ length: input.length - 1 }, (_, k) => k + 1),
          ),
          splitType,
        ),
        whole,
        `${splitType}, byte by byte`,
      );
      for (let round = 0; round < 50; round++) {
        const cuts = [...new Set(Array.from({ length: 4 }, () => Math.floor(random() * input.length)))].sort(
          (a, b) => a - b,
        );
        assert.deepEqual(await split(pieces(input, cuts), splitType), whole, `${splitType}, cut at ${cuts}`);
      }
    }
    assert.deepEqual(await split([inputs.Line], "Line"), [
      ["1,2,3", 0],
      ["4,5,6", 8],
      ["7,8,9", 20],
      ["10,11,12", 26],
    ]);
  });

  it("names a corrupt or truncated frame, with its offset", async () => {
    const first = recordIOFrame(payload(13, 1));
    const cases: [Uint8Array, SplitType, RegExp, number][] = [
      [concat([first, text("not a frame at all")]), "RecordIO", /does not start with the magic number/, first.length],
      [
        concat([first, recordIOFrame(payload(8, 2)).subarray(0, 6)]),
        "RecordIO",
        /ends inside a RecordIO frame header/,
        24,
      ],
      [concat([first, recordIOFrame(payload(8, 2)).subarray(0, 12)]), "RecordIO", /ends inside a RecordIO frame$/, 24],
      [concat([first, recordIOFrame(payload(8, 2), 2)]), "RecordIO", /continuation flag 2 out of place/, 24],
      [concat([recordIOFrame(payload(8, 2), 1), first]), "RecordIO", /continuation flag 0 out of place/, 16],
      [tfRecordFrame(payload(9, 4)).subarray(0, 10), "TFRecord", /ends inside a TFRecord header/, 0],
      [
        concat([tfRecordFrame(payload(9, 4)), tfRecordFrame(payload(9, 4)).subarray(0, 20)]),
        "TFRecord",
        /ends inside a TFRecord$/,
        25,
      ],
      [Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0), "TFRecord", /claims 4294967296 bytes/, 0],
    ];
    for (const [input, splitType, message, byteOffset] of cases) {
      const error = await failure(input, splitType);
      assert.ok(error instanceof SplitError, `${message}: ${error}`);
      assert.match(error.message, message);
      assert.equal(error.byteOffset, byteOffset, String(message));
    }
  });

  it("refuses a record over the limit as soon as it is known to be, without reading the rest", async () => {
    const limit = 1000;
    const cases: [SplitType, Uint8Array, Uint8Array, number][] = [
      // Two records, then a line that never ends.
      ["Line", text("1,2\n3,4\n"), text("5,".repeat(32)), 8],
      // Two records, then a frame whose header announces more than the limit.
      [
        "RecordIO",
        concat([recordIOFrame(payload(8, 1)), recordIOFrame(payload(4, 2))]),
        recordIOFrame(payload(2000, 3)),
        28,
      ],
      // A record of several frames that pass the limit together.
      [
        "RecordIO",
        concat([recordIOFrame(payload(8, 1)), recordIOFrame(payload(4, 2))]),
        recordIOMultipart(payload(3000, 3), 6),
        28,
      ],
      [
        "TFRecord",
        concat([tfRecordFrame(payload(8, 1)), tfRecordFrame(payload(4, 2))]),
        tfRecordFrame(payload(2000, 3)),
        44,
      ],
    ];
    for (const [splitType, before, large, byteOffset] of cases) {
      let pulled = 0;
      // 10 000 pieces of 64 bytes: the large record, then more of the line, or any bytes after the frame.
      function* input(): Generator<Uint8Array> {
        const head = concat([before, large]);
        for (let at = 0; at < 64 * 10_000; at += 64) {
          pulled++;
          yield at < head.length ? head.slice(at, at + 64) : large.slice(0, 64).fill(0x37);
        }
      }
      let error: unknown;
      try {
        await split(input(), splitType, limit);
      } catch (caught) {
        error = caught;
      }
      assert.ok(error instanceof RecordTooLargeError, `${splitType}: ${error}`);
      assert.equal(error.recordIndex, 2, splitType);
      assert.equal(error.byteOffset, byteOffset, splitType);
      assert.ok(error.atLeast && error.bytes > limit, splitType);
      assert.match(error.message, /^record 2 is at least \d+ bytes, more than MaxPayloadInMB allows \(1000 bytes\)$/);
      assert.ok(pulled < 100, `${splitType}: ${pulled} pieces read before the refusal`);
    }
  });

  it("keeps to the limit what it may: records up to it, and a long blank line, which is no record", async () => {
    const line = `${"1,".repeat(499)}1`;
    const input = text(`${line}\n${" ".repeat(5000)}\n${line}\n`);
    const records = await split(pieces(input, [100, 700, 3000, 5500]), "Line", line.length + 1);
    assert.deepEqual(
      records.map(([, offset]) => offset),
      [0, 6001],
    );
    const frames = concat([tfRecordFrame(payload(984, 1)), tfRecordFrame(payload(984, 2))]);
    assert.equal((await split(pieces(frames, [10, 500]), "TFRecord", 1000)).length, 2);
  });
});
