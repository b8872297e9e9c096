import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CsvFramer } from "../codecs/framing/csv-framer.js";
import { MAX_RECORD_BYTES } from "../codecs/framing/frame-buffer.js";
import { JsonFramer } from "../codecs/framing/json-framer.js";
import { LineFramer } from "../codecs/framing/line-framer.js";
import { RecordIOFramer } from "../codecs/framing/recordio-framer.js";
import type { Framer } from "../src/codec/framing.js";
import { FramingError } from "../src/errors.js";
import { recordIOFrame } from "./support/binary-writers.js";

const MB = 2 ** 20;

/** Feeds `chunk` repeatedly until the framer refuses or `limit` bytes have gone in. */
function feed(framer: Framer, chunk: Uint8Array, first?: Uint8Array): unknown {
  try {
    if (first) framer.push(first, () => {});
    for (let sent = 0; sent <= MAX_RECORD_BYTES + MB; sent += chunk.length) framer.push(chunk, () => {});
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("a record without an end", () => {
  const digits = new TextEncoder().encode("1,".repeat(MB / 2));

  for (const [name, framer, first] of [
    ["CSV", new CsvFramer(), undefined],
    ["JSON", new JsonFramer(), new TextEncoder().encode("[")],
    ["JSON Lines", new LineFramer(), undefined],
  ] as const) {
    it(`${name}: is refused once it passes ${MAX_RECORD_BYTES / MB} MiB, instead of growing without bound`, () => {
      const error = feed(framer, digits, first);
      assert.ok(error instanceof FramingError, String(error));
      assert.equal(error.code, "RECORD_TOO_LARGE");
    });
  }

  it("RecordIO: a multi-part record that never ends is refused the same way", () => {
    const part = recordIOFrame(new Uint8Array(MB - 8), 2);
    const error = feed(new RecordIOFramer(), part, recordIOFrame(new Uint8Array(8), 1));
    assert.ok(error instanceof FramingError, String(error));
    assert.equal(error.code, "RECORD_TOO_LARGE");
  });
});
