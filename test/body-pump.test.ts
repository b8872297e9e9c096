/**
 * The main thread's pump from a request body into its ring: a Node stream is pushed through `data`
 * events and paused while the ring is full, any other body is pulled; both deliver every byte in order,
 * publish the end only after the last byte, let go of the body when the invocation settles, and tell
 * an idle or broken body apart from one waiting for room.
 */
import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { seededRandom } from "../src/testing/seeded-random.js";
import { BodyPump, type BodyPumpOwner } from "../src/threads/body-pump.js";
import { BODY_RING_BYTES, BodyRingReader, createBodyRing } from "../src/threads/body-ring.js";

/** An owner that records what the pump reports, and settles when told to. */
class RecordingOwner implements BodyPumpOwner {
  isSettled = false;
  readerWakes = 0;
  idle = 0;
  broken = 0;
  settled(): boolean {
    return this.isSettled;
  }
  wakeReader(): void {
    this.readerWakes++;
  }
  bodyIdle(): void {
    this.idle++;
  }
  bodyBroken(): void {
    this.broken++;
  }
}

const bodyOf = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 131 + (i >> 9)) & 0xff);

/** Reads the ring to the body's end, `pauseMs` between chunks, waking the pump as a codec thread would. */
async function drainRing(ring: SharedArrayBuffer, pump: () => BodyPump, pauseMs: number): Promise<Uint8Array> {
  const reader = new BodyRingReader(ring);
  const parts: Uint8Array[] = [];
  for (;;) {
    const ended = reader.ended;
    const chunk = reader.take();
    if (chunk) {
      parts.push(chunk.slice());
      if (reader.release(chunk.byteLength)) pump().wake();
      if (pauseMs > 0) await sleep(pauseMs);
      continue;
    }
    if (ended) return Buffer.concat(parts);
    await sleep(1);
  }
}

/** A Node stream giving `body` in pieces of random sizes (up to 200 KiB), some of them late. */
function pieces(body: Uint8Array, seed: number): PassThrough {
  const stream = new PassThrough({ highWaterMark: 16 * 1024 });
  const random = seededRandom(seed);
  void (async () => {
    for (let at = 0; at < body.length; ) {
      const size = Math.min(body.length - at, 1 + Math.floor(random() * 200 * 1024));
      if (!stream.write(body.subarray(at, at + size))) await new Promise((resolve) => stream.once("drain", resolve));
      at += size;
      if (random() < 0.1) await sleep(1);
    }
    stream.end();
  })();
  return stream;
}

describe("body pump", () => {
  async function* pulled(stream: Readable): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream) yield chunk;
  }
  for (const [name, source] of [
    ["a Node stream, pushed", (body: Uint8Array, seed: number): AsyncIterable<Uint8Array> => pieces(body, seed)],
    ["an async iterable, pulled", (body: Uint8Array, seed: number) => pulled(pieces(body, seed))],
  ] as const) {
    it(`${name}: every byte in order across laps of a slow reader, the end only after the last`, async () => {
      const body = bodyOf(3 * BODY_RING_BYTES + 4321);
      const ring = createBodyRing();
      const owner = new RecordingOwner();
      const pump = new BodyPump(ring, source(body, 7), owner, 60_000);
      const received = await drainRing(ring, () => pump, 0.2);
      assert.equal(received.length, body.length);
      assert.ok(Buffer.from(received).equals(Buffer.from(body)), "the bytes arrive as sent");
      assert.equal(owner.idle, 0, "waiting for room is not idleness");
      assert.equal(owner.broken, 0);
    });
  }

  it("an end that comes while the last chunk waits for room is published after that chunk", async () => {
    const body = bodyOf(BODY_RING_BYTES + 1000);
    const ring = createBodyRing();
    const owner = new RecordingOwner();
    // One chunk larger than the ring, then the end at once: the pump must hold the end back.
    const stream = Readable.from([Buffer.from(body)]);
    const pump = new BodyPump(ring, stream, owner, 60_000);
    await sleep(20);
    const reader = new BodyRingReader(ring);
    assert.equal(reader.ended, false, "the end waits for the bytes still outside the ring");
    const received = await drainRing(ring, () => pump, 0);
    assert.ok(Buffer.from(received).equals(Buffer.from(body)));
  });

  for (const waitingForRoom of [true, false]) {
    it(`lets go of a pushed body when the invocation settles${waitingForRoom ? " while it waits for room" : ""}, so that another reader can drain it`, async () => {
      const ring = createBodyRing();
      const owner = new RecordingOwner();
      const stream = new PassThrough();
      const pump = new BodyPump(ring, stream, owner, 60_000);
      stream.write(Buffer.alloc(waitingForRoom ? BODY_RING_BYTES + 10 : 10));
      await sleep(10);
      assert.equal(stream.isPaused(), waitingForRoom, "only a full ring pauses the body");
      owner.isSettled = true;
      pump.wake();
      assert.equal(stream.listenerCount("data"), 0, "the pump no longer listens");
      // A refusal's drain (request-drain.ts) then reads the rest: nothing pauses it again.
      let drained = 0;
      stream.on("data", (chunk: Buffer) => {
        drained += chunk.byteLength;
      });
      stream.resume();
      stream.write(Buffer.alloc(5000));
      stream.end();
      await new Promise((resolve) => stream.once("end", resolve));
      assert.equal(drained, 5000, "the later bytes reach the drain, not the pump");
      assert.equal(new BodyRingReader(ring).ended, false, "a settled invocation's body is not published as ended");
    });
  }

  it("reports a body that stops arriving as idle, and one that breaks off as broken", async () => {
    const idleOwner = new RecordingOwner();
    const idleStream = new PassThrough();
    new BodyPump(createBodyRing(), idleStream, idleOwner, 50);
    idleStream.write(Buffer.from("1,2\n"));
    await sleep(150);
    assert.equal(idleOwner.idle, 1, "no byte for the timeout: idle");

    const waitingOwner = new RecordingOwner();
    const waitingStream = new PassThrough();
    new BodyPump(createBodyRing(), waitingStream, waitingOwner, 50);
    waitingStream.write(Buffer.alloc(BODY_RING_BYTES + 1));
    await sleep(150);
    assert.equal(waitingOwner.idle, 0, "a pump waiting for room is not idle, however long");

    const brokenOwner = new RecordingOwner();
    const brokenStream = new PassThrough();
    new BodyPump(createBodyRing(), brokenStream, brokenOwner, 60_000);
    brokenStream.write(Buffer.from("1,2\n"));
    brokenStream.destroy(new Error("socket hang up"));
    await sleep(10);
    assert.equal(brokenOwner.broken, 1);
    assert.equal(brokenOwner.idle, 0);

    const brokenPull = new RecordingOwner();
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from("1,2\n");
      throw new Error("socket hang up");
    }
    new BodyPump(createBodyRing(), failing(), brokenPull, 60_000);
    await sleep(10);
    assert.equal(brokenPull.broken, 1);
  });
});
