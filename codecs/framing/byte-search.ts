/**
 * Finding one byte value in a buffer, the innermost loop of text framing. V8's
 * `Uint8Array.prototype.indexOf` compares element by element (about 1 ns per byte on the benchmark
 * machine, most of a CSV framer's time); Node's `Buffer.prototype.indexOf` calls the C library's `memchr`,
 * which scans a word or a vector at a time, for a fixed cost per call. It works on any `Uint8Array`,
 * views of shared memory included, so chunks need not be wrapped in Buffers.
 */

const memchr = Buffer.prototype.indexOf;

/** The index of the first `byte` in `bytes` at or after `from`, or -1. */
export function indexOfByte(bytes: Uint8Array, byte: number, from: number): number {
  return memchr.call(bytes, byte, from);
}
