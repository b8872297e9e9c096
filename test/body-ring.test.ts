import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../src/testing/seeded-random.js";
import { BODY_RING_BYTES, BodyRingReader, BodyRingWriter, createBodyRing } from "../src/threads/body-ring.js";

test("bytes cross the ring in order, across many laps and at any alignment, with room and waiting flags kept", () => {
  const ring = createBodyRing();
  const writer = new BodyRingWriter(ring);
  const reader = new BodyRingReader(ring);
  const random = seededRandom(7);
  const total = 5 * BODY_RING_BYTES + 12345;
  const source = Uint8Array.from({ length: total }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
  let written = 0;
  let read = 0;
  let readerWoken = 0;
  let writerWoken = 0;
  assert.equal(reader.take(), undefined);
  assert.equal(reader.waitForBytes(), true, "nothing published: the reader sleeps");
  while (read < total) {
    // Write a random amount (as chunks arrive), as far as there is room.
    const want = Math.min(total - written, Math.floor(random() * 3 * BODY_RING_BYTES));
    // Chunks arrive at any alignment (a socket read's first body byte follows the headers).
    const shift = Math.floor(random() * 8);
    const arrived = new Uint8Array(want + shift).fill(0xee).subarray(shift);
    arrived.set(source.subarray(written, written + want));
    for (let offset = 0; offset < arrived.byteLength && writer.room > 0; ) {
      const { taken, wakeReader } = writer.write(arrived, offset);
      if (wakeReader) readerWoken++;
      offset += taken;
      written += taken;
    }
    if (writer.room === 0) assert.equal(writer.waitForRoom(), true, "a full ring: the writer sleeps");
    // Read everything published, releasing each chunk once done with it.
    for (let chunk = reader.take(); chunk; chunk = reader.take()) {
      assert.deepEqual(chunk, source.subarray(read, read + chunk.byteLength));
      read += chunk.byteLength;
      if (reader.release(chunk.byteLength)) writerWoken++;
    }
    if (read < total) assert.equal(reader.waitForBytes(), true);
  }
  assert.equal(writer.room, BODY_RING_BYTES);
  assert.ok(readerWoken > 0 && writerWoken > 0, `wake-ups: reader ${readerWoken}, writer ${writerWoken}`);
});

test("a side that finds work after raising its flag does not sleep, and takes no spurious wake-up", () => {
  const ring = createBodyRing();
  const writer = new BodyRingWriter(ring);
  const reader = new BodyRingReader(ring);
  writer.write(new Uint8Array([1, 2, 3]), 0);
  assert.equal(reader.waitForBytes(), false, "bytes are there: no sleep");
  assert.equal(writer.write(new Uint8Array([4]), 0).wakeReader, false, "the flag was lowered again");
  const chunk = reader.take();
  assert.deepEqual(chunk, new Uint8Array([1, 2, 3, 4]));
  assert.equal(reader.release(4), false, "the writer never waited");
});

test("the body's end crosses the ring after its last bytes, waking the reader only when it sleeps", () => {
  const ring = createBodyRing();
  const writer = new BodyRingWriter(ring);
  const reader = new BodyRingReader(ring);
  writer.write(new Uint8Array([1, 2]), 0);
  assert.equal(writer.end(), false, "the reader was not waiting: no message");
  assert.equal(reader.ended, true);
  assert.deepEqual(reader.take(), new Uint8Array([1, 2]), "bytes written before the end are still read");
  assert.equal(reader.waitForBytes(), false, "an ended body: the reader does not sleep");

  const next = createBodyRing();
  const sleeper = new BodyRingReader(next);
  assert.equal(sleeper.waitForBytes(), true, "nothing yet: the reader sleeps");
  assert.equal(new BodyRingWriter(next).end(), true, "an empty body's end wakes the sleeping reader");
  assert.equal(sleeper.ended, true);
  assert.equal(sleeper.take(), undefined);
});
