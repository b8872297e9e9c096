/**
 * Scanning a chunk for the bytes framing looks for, sixteen at a time with WebAssembly SIMD (compiled
 * from `assembly/simd-scan.ts`):
 * - JSON framing skips a record's numbers, commas and spaces, most of a JSON body, to the next quote,
 *   bracket, brace or line feed. Walking them in JavaScript, even through a lookup table, took ~1 ns a
 *   byte, a fifth of a JSON record's cost.
 * - CSV framing finds each line feed, and in a record with quotes the first line feed outside them;
 *   cutting a CSV body into parts counts the quotes it passes. Node's `Buffer.prototype.indexOf` finds it with `memchr`, but each
 *   call crosses into C++ through type checks, dearer on a chunk in shared memory (as the codec threads'
 *   are): a tenth of a codec thread's time on 32-feature rows.
 *
 * A framer holds a {@link ChunkScanner} and hands it each chunk once ({@link ChunkScanner.load}: one copy,
 * at the chunk's own alignment so that a chunk in shared memory is copied a word at a time), then asks
 * where the next byte it wants is. The module's memory holds one chunk per thread: a framer used inside
 * another's frame callback (a plugin's decoder may frame a sub-format) loads its own chunk over it, so
 * each scanner notes which copy is in the memory and copies its chunk again when another's has replaced
 * it.
 *
 * The memory's first page is the float32 row reader's (`../text/float32-row.ts`): it reads CSV rows and
 * JSON arrays where the chunk already lies, rather than from a copy of its own, so the chunk's copy starts
 * at the second.
 * A scanner made to lend its chunk lets the decoders its framer hands frames to find the chunk there
 * ({@link placedAt}) until the framer releases it.
 */
import { copyBytes } from "../../src/index.js";
import { loadWebAssembly, PAGE } from "../webassembly-module.js";

interface ScannerExports {
  skipPlain(from: number, end: number): number;
  indexOfByte(byte: number, from: number, end: number): number;
  lineFeedOutsideQuotes(from: number, end: number): number;
  quotedBreaks(): number;
  countByte(byte: number, from: number, end: number): number;
}

/** The largest chunk scanned here; larger ones are scanned in JavaScript. */
const CAPACITY = 4 * PAGE;
/** Room before a chunk (to keep its alignment) and after it (the scans read whole 16-byte blocks). */
const SLACK = 32;

/** Where chunks are copied: after the row reader's page. */
const CHUNKS = PAGE;

/** The scanner, in the memory the chunks are copied into, which the row reader shares (its first page). */
export const scannerModule = loadWebAssembly<ScannerExports>(
  new URL("./simd-scan.wasm", import.meta.url),
  Math.ceil((CHUNKS + CAPACITY + SLACK) / PAGE),
);
const scanner = scannerModule.exports;
const memoryBytes = new Uint8Array(scannerModule.memory);
/** Counts the copies made into the memory: which one is there now. */
let copies = 0;
/** The chunk a lending scanner copied into the memory (see {@link placedAt}), where, and by which copy. */
let placed: Uint8Array | undefined;
let placedBase = 0;
let placedCopy = -1;

/**
 * Where `bytes` starts in the memory, when it is the chunk that a scanner made to lend it has there now,
 * between its {@link ChunkScanner.load} and {@link ChunkScanner.release}; else -1.
 */
export function placedAt(bytes: Uint8Array): number {
  return bytes === placed && placedCopy === copies ? placedBase : -1;
}

/** Scans the chunks one framer is given, one at a time. */
export class ChunkScanner {
  #chunk: Uint8Array = new Uint8Array(0);
  /** Where the chunk starts in the memory, and which copy put it there. */
  #base = 0;
  #copy = -1;

  /**
   * @param lends whether the chunk is lent to the decoders that the framer hands its frames to
   * ({@link placedAt}): the framer then calls {@link release} before it returns, even when it throws.
   */
  constructor(private readonly lends = false) {}

  /** Takes `chunk` for the calls that follow; false (and nothing taken) when it is too large to scan. */
  load(chunk: Uint8Array): boolean {
    if (chunk.length > CAPACITY) return false;
    this.#chunk = chunk;
    this.#place();
    return true;
  }

  /**
   * The index of the first `"`, `[`, `]`, `{`, `}` or line feed at or after `from` in the chunk, or its
   * length.
   */
  skipPlain(from: number): number {
    if (this.#copy !== copies) this.#place();
    const base = this.#base;
    return scanner.skipPlain(base + from, base + this.#chunk.length) - base;
  }

  /** The index of the first `byte` at or after `from` in the chunk, or -1. */
  indexOfByte(byte: number, from: number): number {
    if (this.#copy !== copies) this.#place();
    const base = this.#base;
    const found = scanner.indexOfByte(byte, base + from, base + this.#chunk.length);
    return found < 0 ? -1 : found - base;
  }

  /**
   * The index of the first line feed outside double quotes at or after `from` (outside quotes itself) in
   * the chunk, or -1; {@link quotedBreaks} then counts the line feeds inside quotes before it.
   */
  lineFeedOutsideQuotes(from: number): number {
    if (this.#copy !== copies) this.#place();
    const base = this.#base;
    const found = scanner.lineFeedOutsideQuotes(base + from, base + this.#chunk.length);
    return found < 0 ? -1 : found - base;
  }

  /** How many `byte`s the chunk holds from `from` on. */
  countByte(byte: number, from: number): number {
    if (this.#copy !== copies) this.#place();
    const base = this.#base;
    return scanner.countByte(byte, base + from, base + this.#chunk.length);
  }

  /** Line feeds inside quotes before the one {@link lineFeedOutsideQuotes} last found. */
  get quotedBreaks(): number {
    return scanner.quotedBreaks();
  }

  /**
   * Ends the loan of this scanner's chunk: {@link placedAt} no longer finds it (once the framer returns,
   * its bytes may be reused for other data, and a later chunk may even be the same view of them).
   */
  release(): void {
    if (placed === this.#chunk) placed = undefined;
  }

  #place(): void {
    this.#base = CHUNKS + (this.#chunk.byteOffset & 7);
    copyBytes(memoryBytes, this.#base, this.#chunk);
    this.#copy = ++copies;
    if (this.lends) {
      placed = this.#chunk;
      placedBase = this.#base;
      placedCopy = this.#copy;
    }
  }
}
