/**
 * Walks protobuf messages at the wire level: finds fields, map entries and repeated values, and reads
 * the numbers of repeated fields (packed or not) straight into a {@link ValueDestination}, without
 * building a JS value per number. Tags and lengths go through protobufjs's `Reader`; 64-bit varints are
 * decoded here into plain numbers (exact up to 2^53), as protobufjs would return `Long`s. Each decoder
 * owns one {@link WireReader}: the walking state is its own, never shared.
 */
import protobuf from "protobufjs";
import { copyBytes, excerpt, RecordError } from "../../src/index.js";
import { recentStrings } from "../text/recent-strings.js";
import { BatchArrayViews } from "./batch-array-views.js";
import type { ValueDestination } from "./value-destination.js";

/** How the elements of a repeated numeric field are encoded. */
export type ElementEncoding = "float32" | "float64" | "varint";

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** The wire type an unpacked element of `encoding` has. */
const unpackedWireType = (encoding: ElementEncoding) =>
  encoding === "float32" ? WIRE_FIXED32 : encoding === "float64" ? WIRE_FIXED64 : WIRE_VARINT;

/** True on little-endian hosts, where protobuf's fixed-width floats have the layout of a Float32Array. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Dense runs up to this long are copied value by value, longer ones by {@link copyBytes}. */
const VALUE_BY_VALUE_BYTES = 4 * 128;

const truncated = () =>
  new RecordError("PROTOBUF_TRUNCATED", "the record is not a valid protobuf message: a field runs past its end");

/** Number of varints in `bytes[start, end)`. */
function countVarints(bytes: Uint8Array, start: number, end: number): number {
  if (end > start && bytes[end - 1] >= 0x80) throw truncated();
  let count = 0;
  for (let i = start; i < end; i++) if (bytes[i] < 0x80) count++;
  return count;
}

/** Elements of `encoding` in a packed run `bytes[start, end)`. */
function elementsIn(encoding: ElementEncoding, bytes: Uint8Array, start: number, end: number): number {
  if (encoding === "varint") return countVarints(bytes, start, end);
  const size = encoding === "float32" ? 4 : 8;
  if ((end - start) % size !== 0) {
    throw new RecordError("PROTOBUF_PACKED_LENGTH", `a packed ${encoding} run of ${end - start} bytes is not whole`);
  }
  return (end - start) / size;
}

/** A repeated numeric field of a message: its number and how its elements are encoded. */
export class RepeatedField {
  constructor(
    readonly fieldNumber: number,
    readonly encoding: ElementEncoding,
  ) {}
}

/** A byte range of a message; reused by callers to avoid allocating one per lookup. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Where {@link WireReader.readMapEntries} puts each entry of a `map<string, Message>`. */
export interface MapEntrySink {
  add(keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void;
}

/** Walks messages in place; one per decoder, reused from record to record. */
export class WireReader {
  readonly #reader = protobuf.Reader.create(new Uint8Array(0));
  /** A string input's values: a category's bytes seen lately give back the string made for them. */
  readonly #strings = recentStrings();
  /** Views of the batch array dense runs are copied into. */
  readonly #views = new BatchArrayViews();
  /** The bytes {@link #dataView} views (see {@link #view}). */
  #viewed: Uint8Array | undefined;
  #dataView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  /** The end of the varint last read by {@link readVarint}. */
  #varintEnd = 0;

  /** The reader, pointed at `bytes[start, end)`; walks do not nest, so one reader serves them all. */
  #over(bytes: Uint8Array, start: number, end: number): protobuf.Reader {
    const reader = this.#reader;
    reader.buf = bytes;
    reader.pos = start;
    reader.len = end;
    return reader;
  }

  /**
   * Reads the varint at `pos`, which must end before `end`, as a signed 64-bit integer (two's
   * complement), returned as a number.
   */
  readVarint(bytes: Uint8Array, pos: number, end: number): number {
    let i = pos;
    let low = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (i >= end) throw truncated();
      const b = bytes[i++];
      low |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.#varintEnd = i;
        return low >>> 0;
      }
    }
    // Past 28 bits: the fifth byte straddles the two 32-bit halves.
    if (i >= end) throw truncated();
    const straddling = bytes[i++];
    low |= (straddling & 0x0f) << 28;
    let high = (straddling & 0x7f) >> 4;
    if (straddling >= 0x80) {
      for (let shift = 3; ; shift += 7) {
        if (i >= end || shift > 31) throw truncated();
        const b = bytes[i++];
        high |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
    }
    this.#varintEnd = i;
    if (high < 0) {
      // Negative: value = −(2^64 − bits), taken word by word to stay exact.
      const negLow = (~low + 1) >>> 0;
      const negHigh = (~high + (negLow === 0 ? 1 : 0)) >>> 0;
      return -(negHigh * 4294967296 + negLow);
    }
    return high * 4294967296 + (low >>> 0);
  }

  /**
   * Finds the first length-delimited occurrence of `fieldNumber` in message `bytes[start, end)` and
   * stores its content's range in `found`. Returns false when the message has none.
   */
  findLengthDelimited(bytes: Uint8Array, start: number, end: number, fieldNumber: number, found: ByteRange): boolean {
    const reader = this.#over(bytes, start, end);
    while (reader.pos < end) {
      const tag = reader.uint32();
      if (tag >>> 3 === fieldNumber && (tag & 7) === WIRE_LENGTH_DELIMITED) {
        const length = reader.uint32();
        if (reader.pos + length > end) throw truncated();
        found.start = reader.pos;
        found.end = reader.pos + length;
        return true;
      }
      reader.skipType(tag & 7);
    }
    return false;
  }

  /** The product of the packed varints in `bytes[start, end)` (a tensor's shape), or 1 when there are none. */
  productOfVarints(bytes: Uint8Array, start: number, end: number): number {
    let product = 1;
    for (let i = start; i < end; i = this.#varintEnd) product *= this.readVarint(bytes, i, end);
    return product;
  }

  /**
   * Walks the entries of a `map<string, Message>` field (number `fieldNumber`) of message
   * `bytes[start, end)` and adds the byte ranges of each key and value to `entries`. Fields it does not
   * know are skipped.
   */
  readMapEntries(bytes: Uint8Array, start: number, end: number, fieldNumber: number, entries: MapEntrySink): void {
    const reader = this.#over(bytes, start, end);
    while (reader.pos < end) {
      const tag = reader.uint32();
      if (tag >>> 3 !== fieldNumber || (tag & 7) !== WIRE_LENGTH_DELIMITED) {
        reader.skipType(tag & 7);
        continue;
      }
      const entryEnd = reader.uint32() + reader.pos;
      if (entryEnd > end) throw truncated();
      let keyStart = -1;
      let keyEnd = -1;
      let valueStart = -1;
      let valueEnd = -1;
      while (reader.pos < entryEnd) {
        const entryTag = reader.uint32();
        if ((entryTag & 7) !== WIRE_LENGTH_DELIMITED || entryTag >>> 3 > 2) {
          reader.skipType(entryTag & 7);
          continue;
        }
        const length = reader.uint32();
        if (reader.pos + length > entryEnd) throw truncated();
        if (entryTag >>> 3 === 1) {
          keyStart = reader.pos;
          keyEnd = reader.pos + length;
        } else {
          valueStart = reader.pos;
          valueEnd = reader.pos + length;
        }
        reader.pos += length;
      }
      if (keyStart < 0) keyStart = keyEnd = entryEnd;
      if (valueStart < 0) valueStart = valueEnd = entryEnd;
      entries.add(keyStart, keyEnd, valueStart, valueEnd);
      reader.pos = entryEnd;
    }
  }

  /**
   * The repeated `bytes` field `fieldNumber` of the message in `bytes[start, end)`, each entry as UTF-8
   * text; undefined where an entry is not valid UTF-8.
   */
  readTexts(bytes: Uint8Array, start: number, end: number, fieldNumber: number): string[] | undefined {
    const texts: string[] = [];
    const entry: ByteRange = { start: 0, end: 0 };
    for (let at = start; this.findLengthDelimited(bytes, at, end, fieldNumber, entry); at = entry.end) {
      const text = this.#strings.decode(bytes, entry.start, entry.end);
      if (text === undefined) return undefined;
      texts.push(text);
    }
    return texts;
  }

  /** Number of elements of `field` in message `bytes[start, end)`. */
  countRepeated(field: RepeatedField, bytes: Uint8Array, start: number, end: number): number {
    return this.#walkRepeated(field, bytes, start, end, undefined);
  }

  /** Writes every element of `field`, in order, to `destination`. */
  writeRepeated(
    field: RepeatedField,
    bytes: Uint8Array,
    start: number,
    end: number,
    destination: ValueDestination,
  ): void {
    this.#walkRepeated(field, bytes, start, end, destination);
  }

  /** Visits each packed run, and each unpacked element (as a run of one): writes it, or only counts it. */
  #walkRepeated(
    field: RepeatedField,
    bytes: Uint8Array,
    start: number,
    end: number,
    destination: ValueDestination | undefined,
  ): number {
    const reader = this.#over(bytes, start, end);
    let count = 0;
    while (reader.pos < end) {
      const tag = reader.uint32();
      const wireType = tag & 7;
      let runStart: number;
      if (tag >>> 3 !== field.fieldNumber) {
        reader.skipType(wireType);
        continue;
      }
      if (wireType === WIRE_LENGTH_DELIMITED) {
        const length = reader.uint32();
        if (reader.pos + length > end) throw truncated();
        runStart = reader.pos;
        reader.pos += length;
      } else if (wireType === unpackedWireType(field.encoding)) {
        runStart = reader.pos;
        reader.skipType(wireType);
      } else {
        throw new RecordError("PROTOBUF_WIRE_TYPE", `field ${field.fieldNumber} has wire type ${wireType}`);
      }
      if (destination) this.#writeRun(field.encoding, bytes, runStart, reader.pos, destination);
      else count += elementsIn(field.encoding, bytes, runStart, reader.pos);
    }
    return count;
  }

  #writeRun(
    encoding: ElementEncoding,
    bytes: Uint8Array,
    start: number,
    end: number,
    destination: ValueDestination,
  ): void {
    // Into one float input's array (the hot path), a run goes straight in from where `put` would write
    // next; into several inputs, or integer ones (each value checked against its type), through `put`.
    const target = destination.floatArray;
    if (target === undefined) {
      this.#putRun(encoding, bytes, start, end, destination);
    } else if (encoding !== "varint") {
      destination.advanceTo(this.#floatsInto(encoding, bytes, start, end, target, destination.nextIndex));
    } else {
      // Varints (the SageMaker SDK writes a NumPy integer array as an `Int32Tensor`): values below 2^14
      // (one or two bytes: counts, codes, pixels) are read here, others by readVarint. (In a method of its
      // own, this loop read 784-value records 20% slower.)
      let k = destination.nextIndex;
      for (let i = start; i < end; k++) {
        const low = bytes[i];
        if (low < 0x80) {
          target[k] = low;
          i++;
        } else if (i + 1 < end && bytes[i + 1] < 0x80) {
          target[k] = (low & 0x7f) | (bytes[i + 1] << 7);
          i += 2;
        } else {
          target[k] = this.readVarint(bytes, i, end);
          i = this.#varintEnd;
        }
      }
      destination.advanceTo(k);
    }
  }

  /** A run through {@link ValueDestination.put}, value by value. */
  #putRun(encoding: ElementEncoding, bytes: Uint8Array, start: number, end: number, destination: ValueDestination) {
    if (encoding === "varint") {
      for (let i = start; i < end; i = this.#varintEnd) destination.put(this.readVarint(bytes, i, end));
    } else if (encoding === "float32") {
      const view = this.#view(bytes);
      for (let o = start; o < end; o += 4) destination.put(view.getFloat32(o, true));
    } else {
      const view = this.#view(bytes);
      for (let o = start; o < end; o += 8) destination.put(view.getFloat64(o, true));
    }
  }

  /**
   * A run of floats (packed, or one unpacked value) into a float input's array from `first` on; returns
   * where it ends. Floats of the input's own width are copied bit for bit, aligned or not (the body is
   * shared memory): a short run value by value (no view made, 42 against 115 ns for 32 float32s), a long
   * one through copyBytes, whose fixed cost it then outweighs. Others (the SageMaker SDK writes a NumPy
   * float64 array as a `Float64Tensor`, for float32 models too) are converted value by value, as
   * {@link ValueDestination.put} would, without its bookkeeping: 784 float64s into a float32 input went at
   * ~6 ns a value through it.
   */
  #floatsInto(
    encoding: "float32" | "float64",
    bytes: Uint8Array,
    start: number,
    end: number,
    target: Float32Array | Float64Array,
    first: number,
  ): number {
    const view = this.#view(bytes);
    const sameWidth = (encoding === "float32") === target instanceof Float32Array;
    if (sameWidth && end - start > VALUE_BY_VALUE_BYTES && LITTLE_ENDIAN) {
      copyBytes(this.#views.bytes(target), target.BYTES_PER_ELEMENT * first, bytes.subarray(start, end));
      return first + (end - start) / target.BYTES_PER_ELEMENT;
    }
    let k = first;
    if (encoding === "float32" && target instanceof Float32Array) {
      const words = this.#views.words(target);
      for (let o = start; o < end; o += 4) words[k++] = view.getUint32(o, true);
    } else if (encoding === "float32") {
      for (let o = start; o < end; o += 4) target[k++] = view.getFloat32(o, true);
    } else {
      for (let o = start; o < end; o += 8) target[k++] = view.getFloat64(o, true);
    }
    return k;
  }

  /** A view of `bytes` (offsets as in `bytes`), made once for the many records of a chunk. */
  #view(bytes: Uint8Array): DataView {
    if (bytes !== this.#viewed) {
      this.#viewed = bytes;
      this.#dataView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return this.#dataView;
  }

  /** Reads a sparse tensor: `values` scattered at `keys`; both must be packed runs of the same length. */
  writeSparse(
    bytes: Uint8Array,
    values: { encoding: ElementEncoding; start: number; end: number },
    keys: ByteRange,
    destination: ValueDestination,
  ): void {
    let keyPos = keys.start;
    let valuePos = values.start;
    const view = this.#view(bytes);
    const size = values.encoding === "float32" ? 4 : values.encoding === "float64" ? 8 : 0;
    // A key is read only while a value is left for it, and a value only whole: a record read where it lies
    // in its chunk must not read the next record's bytes.
    while (keyPos < keys.end && valuePos < values.end) {
      const key = this.readVarint(bytes, keyPos, keys.end);
      keyPos = this.#varintEnd;
      if (valuePos + size > values.end) break;
      let value: number;
      if (size === 4) {
        value = view.getFloat32(valuePos, true);
        valuePos += 4;
      } else if (size === 8) {
        value = view.getFloat64(valuePos, true);
        valuePos += 8;
      } else {
        value = this.readVarint(bytes, valuePos, values.end);
        valuePos = this.#varintEnd;
      }
      destination.putAt(key, value);
    }
    if (keyPos < keys.end || valuePos < values.end) {
      throw new RecordError(
        "SPARSE_LENGTH_MISMATCH",
        `sparse feature ${excerpt(destination.feature)} has more keys than values, or more values than keys`,
      );
    }
  }
}
