/**
 * Scanning a chunk for the bytes framing looks for, sixteen at a time with WebAssembly SIMD (compiled
 * from `assembly/simd-scan.ts`):
 * - JSON framing skips a record's numbers, commas and spaces, most of a JSON body, to the next quote,
 *   bracket, brace or line feed. Walking them in JavaScript, even through a lookup table, took ~1 ns a
 *   byte, a fifth of a JSON record's cost.
 * - CSV framing finds each line feed. Node's `Buffer.prototype.indexOf` finds it with `memchr`, but each
 *   call crosses into C++ through type checks, dearer on a chunk in shared memory (as the codec threads'
 *   are): a tenth of a codec thread's time on 32-feature rows.
 *
 * The framer hands each chunk over once ({@link loadChunk}: one copy, at the chunk's own alignment so
 * that a chunk in shared memory is copied a word at a time), then asks where the next byte it wants is.
 * Framers run synchronously, so one chunk per thread is loaded at a time.
 */
import { copyBytes } from "../../src/index.js";
import { loadWebAssembly, PAGE } from "../webassembly-module.js";

interface ScannerExports {
  skipPlain(from: number, end: number): number;
  indexOfByte(byte: number, from: number, end: number): number;
}

/** The largest chunk scanned here; larger ones are scanned in JavaScript. */
const CAPACITY = 4 * PAGE;
/** Room before a chunk (to keep its alignment) and after it (the scans read whole 16-byte blocks). */
const SLACK = 32;

const { exports: scanner, memory } = loadWebAssembly<ScannerExports>(
  new URL("./simd-scan.wasm", import.meta.url),
  Math.ceil((CAPACITY + SLACK) / PAGE),
);
const memoryBytes = new Uint8Array(memory);
/** Where the loaded chunk starts in the memory. */
let base = 0;

/** Copies `chunk` into the scanner for {@link skipPlainInChunk}; false when it is too large to hold. */
export function loadChunk(chunk: Uint8Array): boolean {
  if (chunk.length > CAPACITY) return false;
  base = chunk.byteOffset & 7;
  copyBytes(memoryBytes, base, chunk);
  return true;
}

/**
 * The index of the first `"`, `[`, `]`, `{`, `}` or line feed at or after `from` in the chunk last
 * loaded (`length` bytes long), or `length`.
 */
export function skipPlainInChunk(from: number, length: number): number {
  return scanner.skipPlain(base + from, base + length) - base;
}

/** The index of the first `byte` at or after `from` in the chunk last loaded (`length` bytes long), or -1. */
export function indexOfByteInChunk(byte: number, from: number, length: number): number {
  const found = scanner.indexOfByte(byte, base + from, base + length);
  return found < 0 ? -1 : found - base;
}
