/**
 * Finding the bytes that JSON framing must look at, sixteen bytes at a time (WebAssembly SIMD; see
 * `../structural-scan.ts` for the JavaScript side). The chunk being framed is copied into this module's memory
 * once; each call then skips the plain bytes (digits, signs, dots, commas, spaces, letters) up to the
 * next quote, bracket, brace or line feed.
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
