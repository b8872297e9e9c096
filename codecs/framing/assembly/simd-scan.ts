/**
 * Finding the bytes that framing looks for, sixteen bytes at a time (WebAssembly SIMD; see
 * `../simd-scan.ts` for the JavaScript side). The chunk being framed is copied into this module's memory
 * once; each call then skips the bytes in between.
 */

/**
 * The position of the first `"`, `[`, `]`, `{`, `}` or line feed in `[from, end)`, or `end`. Reads up to
 * fifteen bytes past `end`, which the caller keeps inside the memory.
 */
export function skipPlain(from: usize, end: usize): usize {
  const quote = i8x16.splat(0x22);
  const lineFeed = i8x16.splat(0x0a);
  // `[` and `{` differ in bit 0x20 only, as do `]` and `}`: setting it folds each pair into one test.
  const caseBit = i8x16.splat(0x20);
  const openBrace = i8x16.splat(0x7b);
  const closeBrace = i8x16.splat(0x7d);
  for (let at = from; at < end; at += 16) {
    const block = v128.load(at);
    const folded = v128.or(block, caseBit);
    const hits = v128.or(
      v128.or(i8x16.eq(block, quote), i8x16.eq(block, lineFeed)),
      v128.or(i8x16.eq(folded, openBrace), i8x16.eq(folded, closeBrace)),
    );
    const mask = i8x16.bitmask(hits);
    if (mask !== 0) {
      const found = at + <usize>ctz(mask);
      return found < end ? found : end;
    }
  }
  return end;
}

/** The position of the first `byte` in `[from, end)`, or -1. Reads up to fifteen bytes past `end`. */
export function indexOfByte(byte: u8, from: usize, end: usize): isize {
  const wanted = i8x16.splat(byte);
  for (let at = from; at < end; at += 16) {
    const mask = i8x16.bitmask(i8x16.eq(v128.load(at), wanted));
    if (mask !== 0) {
      const found = at + <usize>ctz(mask);
      return found < end ? <isize>found : -1;
    }
  }
  return -1;
}
