/**
 * Copying bytes to or from shared memory. Body chunks reach codecs as views of a `SharedArrayBuffer`,
 * and V8 copies to or from shared memory word by word only when source and target have the same
 * alignment; otherwise it copies byte by byte, 8× slower (0.4 against 0.05 ns per byte here). A chunk's
 * alignment is arbitrary (the first body bytes of a socket read follow the headers), so framers that
 * keep an unfinished record, and the main thread filling a body ring, copy through here.
 */

/** The largest piece realigned at once. */
const BOUNCE_BYTES = 64 * 1024;
/** Ordinary memory to realign through, one per thread (module state is per thread). */
let bounce: Uint8Array | undefined;

const isShared = (bytes: Uint8Array) => bytes.buffer instanceof SharedArrayBuffer;

/**
 * Copies `source` into `target` at `targetOffset`, as `target.set(source, targetOffset)` does, at word
 * speed whatever the alignment when one side is shared memory (both shared and misaligned stays slow).
 */
export function copyBytes(target: Uint8Array, targetOffset: number, source: Uint8Array): void {
  const sourceShared = isShared(source);
  const misaligned = ((source.byteOffset - target.byteOffset - targetOffset) & 7) !== 0;
  if (!misaligned || (!sourceShared && !isShared(target))) {
    target.set(source, targetOffset);
    return;
  }
  bounce ??= new Uint8Array(BOUNCE_BYTES + 8);
  for (let done = 0; done < source.length; done += BOUNCE_BYTES) {
    const piece = source.subarray(done, done + BOUNCE_BYTES);
    // Place the piece in ordinary memory with the shared side's alignment: that copy is word by word.
    const lead = sourceShared ? piece.byteOffset & 7 : (target.byteOffset + targetOffset + done) & 7;
    bounce.set(piece, lead);
    target.set(bounce.subarray(lead, lead + piece.length), targetOffset + done);
  }
}
