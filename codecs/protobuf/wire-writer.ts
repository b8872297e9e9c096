/**
 * Protobuf wire encoding straight into one growable buffer, for answers whose every record has the same
 * layout: the bytes around a record's values are built once per batch ({@link MessagePrefix}), and each
 * record writes only its values. protobufjs, by contrast, takes an object per message and returns a
 * buffer per record.
 */
import { maskedCrc32c } from "../framing/crc32c.js";

const LENGTH_DELIMITED = 2;
const utf8 = new TextEncoder();

/** The bytes of `value` as a varint (below 2^53). */
export function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

/** The key of a length-delimited field, then `length` as a varint. */
export const lengthDelimitedHeader = (field: number, length: number): number[] => [
  (field << 3) | LENGTH_DELIMITED,
  ...varint(length),
];

/** A whole length-delimited field holding `content`. */
export const lengthDelimited = (field: number, content: readonly number[]): number[] => [
  ...lengthDelimitedHeader(field, content.length),
  ...content,
];

/** A string field. */
const stringField = (field: number, text: string): number[] => lengthDelimited(field, [...utf8.encode(text)]);

/**
 * The head of a `map<string, message>` entry in field `mapField`, up to its value's contents: the entry's
 * header, its key (field 1), and its value's header (field 2) for a value of `valueLength` bytes.
 */
export function mapEntryHead(mapField: number, key: string, valueLength: number): number[] {
  const keyField = stringField(1, key);
  const valueHeader = lengthDelimitedHeader(2, valueLength);
  const entryLength = keyField.length + valueHeader.length + valueLength;
  return [...lengthDelimitedHeader(mapField, entryLength), ...keyField, ...valueHeader];
}

/** The bytes of a 64-bit integer, given by its 32-bit halves, as a varint. */
export function varint64Length(low: number, high: number): number {
  if (high === 0) return low < 2 ** 7 ? 1 : low < 2 ** 14 ? 2 : low < 2 ** 21 ? 3 : low < 2 ** 28 ? 4 : 5;
  return Math.ceil((64 - Math.clz32(high)) / 7);
}

/** A growable byte buffer with a little-endian view over it. */
export class WireWriter {
  /** Small at first: a writer lives as long as its invocation, and a small body's answer is a few bytes. */
  bytes = new Uint8Array(1024);
  length = 0;
  #view = new DataView(this.bytes.buffer);

  /** Makes room for `count` more bytes. */
  reserve(count: number): void {
    const needed = this.length + count;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  /** Appends a few bytes made once per batch (a loop: cheaper than `set` for tens of bytes). */
  piece(piece: Uint8Array): void {
    this.reserve(piece.length);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < piece.length; i++) bytes[at++] = piece[i];
    this.length = at;
  }

  /** Appends `bytes` whole. */
  append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Appends a little-endian 32-bit word (a RecordIO header's fields, a checksum). */
  uint32(value: number): void {
    this.reserve(4);
    this.#view.setUint32(this.length, value, true);
    this.length += 4;
  }

  /** Appends `count` zero bytes (a loop: RecordIO's padding is at most 3, and `fill` costs a call). */
  zeros(count: number): void {
    this.reserve(count);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < count; i++) bytes[at++] = 0;
    this.length = at;
  }

  /** Appends float32s `[start, end)`, given by their IEEE bits (a `Uint32Array` view of the output), as they are. */
  float32Bits(bits: Uint32Array, start: number, end: number): void {
    this.reserve(4 * (end - start));
    const view = this.#view;
    let at = this.length;
    for (let i = start; i < end; i++, at += 4) view.setUint32(at, bits[i], true);
    this.length = at;
  }

  /** Appends values `[start, end)` rounded to float32s. */
  roundedFloat32s(values: Float64Array, start: number, end: number): void {
    this.reserve(4 * (end - start));
    const view = this.#view;
    let at = this.length;
    for (let i = start; i < end; i++, at += 4) view.setFloat32(at, values[i], true);
    this.length = at;
  }

  /** Appends values `[start, end)` as float64s. */
  float64s(values: Float64Array, start: number, end: number): void {
    this.reserve(8 * (end - start));
    const view = this.#view;
    let at = this.length;
    for (let i = start; i < end; i++, at += 8) view.setFloat64(at, values[i], true);
    this.length = at;
  }

  /**
   * Appends 64-bit integers `[start, end)` as varints (protobuf's `int64`: a negative one takes ten
   * bytes), each given by its two little-endian 32-bit halves in `halves`.
   */
  varints64(halves: Uint32Array, start: number, end: number): void {
    this.reserve(10 * (end - start));
    const bytes = this.bytes;
    let at = this.length;
    for (let i = start; i < end; i++) {
      let low = halves[2 * i];
      let high = halves[2 * i + 1];
      while (high !== 0 || low > 0x7f) {
        bytes[at++] = (low & 0x7f) | 0x80;
        low = ((low >>> 7) | (high << 25)) >>> 0;
        high >>>= 7;
      }
      bytes[at++] = low;
    }
    this.length = at;
  }

  /** Appends the masked CRC-32C of the bytes from `start` on (TFRecord's checksum). */
  maskedCrc32cSince(start: number): void {
    const crc = maskedCrc32c(this.bytes, start, this.length);
    this.uint32(crc);
  }

  /** The bytes written, as a new array (the writer is emptied and keeps its buffer). */
  take(): Uint8Array {
    const taken = this.bytes.slice(0, this.length);
    this.length = 0;
    return taken;
  }
}
