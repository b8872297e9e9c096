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

/** Line feeds inside quotes before the line feed {@link lineFeedOutsideQuotes} last found. */
let quotedLineFeeds: u32 = 0;

/** Line feeds inside quotes before the line feed the last {@link lineFeedOutsideQuotes} call found. */
export function quotedBreaks(): u32 {
  return quotedLineFeeds;
}

/**
 * The position of the first line feed outside double quotes in `[from, end)`, `from` being outside
 * quotes, or -1. Reads up to fifteen bytes past `end`. Each block's quotes are turned into the positions
 * they enclose by a prefix XOR of its quote bits (a quote flips every bit after it), carried into the next
 * block; a CSV record whose every field is quoted then costs no branch per quote.
 */
export function lineFeedOutsideQuotes(from: usize, end: usize): isize {
  const quote = i8x16.splat(0x22);
  const lineFeed = i8x16.splat(0x0a);
  // 1 when the block starts inside quotes.
  let inside: u32 = 0;
  let quotedBreaks: u32 = 0;
  for (let at = from; at < end; at += 16) {
    const block = v128.load(at);
    let quotes = <u32>i8x16.bitmask(i8x16.eq(block, quote));
    let lineFeeds = <u32>i8x16.bitmask(i8x16.eq(block, lineFeed));
    const left = end - at;
    if (left < 16) {
      const mine = ((<u32>1) << (<u32>left)) - 1;
      quotes &= mine;
      lineFeeds &= mine;
    }
    let enclosed = quotes ^ (quotes << 1);
    enclosed ^= enclosed << 2;
    enclosed ^= enclosed << 4;
    enclosed ^= enclosed << 8;
    enclosed = (enclosed ^ (0 - inside)) & 0xffff;
    const outside = lineFeeds & ~enclosed;
    if (outside !== 0) {
      const first = ctz(outside);
      quotedLineFeeds = quotedBreaks + popcnt(lineFeeds & enclosed & (((<u32>1) << first) - 1));
      return <isize>(at + <usize>first);
    }
    quotedBreaks += popcnt(lineFeeds & enclosed);
    inside = (enclosed >> 15) & 1;
  }
  quotedLineFeeds = quotedBreaks;
  return -1;
}

/** How many `byte`s `[from, end)` holds. Reads up to fifteen bytes past `end`. */
export function countByte(byte: u8, from: usize, end: usize): u32 {
  const wanted = i8x16.splat(byte);
  let count: u32 = 0;
  let at = from;
  for (; at + 16 <= end; at += 16) count += popcnt(<u32>i8x16.bitmask(i8x16.eq(v128.load(at), wanted)));
  if (at < end) {
    const mine = ((<u32>1) << (<u32>(end - at))) - 1;
    count += popcnt(<u32>i8x16.bitmask(i8x16.eq(v128.load(at), wanted)) & mine);
  }
  return count;
}
