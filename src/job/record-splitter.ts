/**
 * How the platform cuts an input object into records (`SplitType`): `Line` on line feeds (the platform's
 * split is byte-wise: a quoted CSV field holding a line break is cut there too), `RecordIO` and
 * `TFRecord` on their frames (a RecordIO record split across frames stays whole), `None` not at all.
 * Records come out as their raw bytes (frames with their headers), ready to be packed into bodies.
 */

/** The platform's split types. */
export type SplitType = "None" | "Line" | "RecordIO" | "TFRecord";

/**
 * A record larger than a body may be (`MaxPayloadInMB`): its input fails, as on the platform. Found as
 * soon as the bytes held for it pass the limit, so a record of gigabytes (a file without line feeds, a
 * frame header that claims 2 GB) is refused without being held.
 */
export class RecordTooLargeError extends Error {
  constructor(
    readonly recordIndex: number,
    readonly byteOffset: number,
    readonly bytes: number,
    readonly limit: number,
    /** Whether `bytes` is what was held when the record passed the limit, not its whole size. */
    readonly atLeast = false,
    /** What sets the limit, as the message says it. */
    limitName = "MaxPayloadInMB allows",
  ) {
    super(
      `record ${recordIndex} is ${atLeast ? "at least " : ""}${bytes} bytes, more than ${limitName} (${limit} bytes)`,
    );
  }
}

/** A record that could not be split out of the input (a truncated or corrupt frame). */
export class SplitError extends Error {
  constructor(
    message: string,
    readonly byteOffset: number,
  ) {
    super(message);
  }
}

const RECORDIO_MAGIC = 0xced7230a;

/** Bytes of a stream, consumed from the front; holds only what has not been consumed. */
class ByteQueue {
  #buffer = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  /** Offset of the first held byte from the start of the stream. */
  offset = 0;
  /** How far from the front a search for a line feed has already looked, so no byte is scanned twice. */
  searched = 0;
  /** The bytes that the frame headers read so far say the record at the front takes (frames split). */
  announced = 0;

  get length(): number {
    return this.#end - this.#start;
  }

  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buffer.length) {
      const held = this.length;
      const size = Math.max(this.#buffer.length, held + chunk.length);
      const next = size > this.#buffer.length ? new Uint8Array(size * 2) : this.#buffer;
      next.set(this.#buffer.subarray(this.#start, this.#end), 0);
      this.#buffer = next;
      this.#start = 0;
      this.#end = held;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The held bytes `[from, to)` relative to the front, as a view (valid until the next push). */
  view(from: number, to: number): Uint8Array {
    return this.#buffer.subarray(this.#start + from, this.#start + to);
  }

  indexOf(byte: number, from = 0): number {
    const at = this.#buffer.subarray(this.#start, this.#end).indexOf(byte, from);
    return at;
  }

  uint32(at: number): number {
    const b = this.#buffer;
    const i = this.#start + at;
    return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
  }

  consume(count: number): void {
    this.#start += count;
    this.offset += count;
    this.searched = 0;
    this.announced = 0;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
    }
  }
}

/** One record: its bytes (a view, valid until the next record is asked for) and where it starts. */
export interface SplitRecord {
  readonly bytes: Uint8Array;
  readonly byteOffset: number;
}

/** The most bytes a record may take (a line with its line feed, frames with their headers), and why. */
export interface RecordLimit {
  readonly bytes: number;
  /** What sets it, as {@link RecordTooLargeError}'s message says it ("MaxPayloadInMB allows"). */
  readonly name?: string;
}

/**
 * Splits `input` into records as the platform would for `splitType` (not `None`). A record known to take
 * more than `limit` throws {@link RecordTooLargeError} as soon as that is known, before the rest of it is
 * read.
 */
export async function* splitRecords(
  input: AsyncIterable<Uint8Array>,
  splitType: SplitType,
  limit: RecordLimit = { bytes: Number.POSITIVE_INFINITY },
): AsyncGenerator<SplitRecord> {
  const maxRecordBytes = limit.bytes;
  const queue = new ByteQueue();
  let recordIndex = 0;
  const take = (length: number): SplitRecord => {
    recordIndex++;
    return { bytes: queue.view(0, length), byteOffset: queue.offset };
  };
  // A whole record is measured by the caller, as it will be sent (after an input filter, perhaps).
  const next = (atEnd: boolean): RecordSize | undefined => {
    const size = nextRecordSize(queue, splitType, atEnd);
    const unfinished = size === undefined ? unfinishedBytes(queue, splitType, maxRecordBytes) : 0;
    if (unfinished > maxRecordBytes) {
      throw new RecordTooLargeError(recordIndex, queue.offset, unfinished, maxRecordBytes, true, limit.name);
    }
    return size;
  };
  for await (const chunk of input) {
    queue.push(chunk);
    for (;;) {
      const size = next(false);
      if (size === undefined) break;
      if (size.skip) {
        queue.consume(size.length);
        continue;
      }
      yield take(size.length);
      queue.consume(size.length + size.trailer);
    }
  }
  for (;;) {
    const size = next(true);
    if (size === undefined) break;
    if (!size.skip) yield take(size.length);
    queue.consume(size.length + size.trailer);
  }
}

/**
 * The least that the record at the front, not complete yet, will take in a body: a line's bytes so far
 * (its line feed may come next, after a carriage return that is left out), or the frames its headers
 * have announced. A line is looked at whole only once past `limit`: spaces and tabs alone may yet make a
 * blank line, which is no record (0).
 */
function unfinishedBytes(queue: ByteQueue, splitType: SplitType, limit: number): number {
  if (splitType !== "Line") return queue.announced;
  const held = queue.length;
  return held > limit && !queue.view(0, held).every((byte) => byte === 0x20 || byte === 0x09) ? held : 0;
}

interface RecordSize {
  /** Bytes of the record. */
  readonly length: number;
  /** Bytes after it that belong to no record (a line feed). */
  readonly trailer: number;
  /** True for bytes that are no record at all (a blank line). */
  readonly skip?: boolean;
}

function nextRecordSize(queue: ByteQueue, splitType: SplitType, atEnd: boolean): RecordSize | undefined {
  if (queue.length === 0) return undefined;
  if (splitType === "Line") {
    const newline = queue.indexOf(0x0a, queue.searched);
    if (newline < 0 && !atEnd) {
      queue.searched = queue.length;
      return undefined;
    }
    const end = newline < 0 ? queue.length : newline;
    const contentEnd = end > 0 && queue.view(end - 1, end)[0] === 0x0d ? end - 1 : end;
    const blank = queue.view(0, contentEnd).every((byte) => byte === 0x20 || byte === 0x09);
    if (blank) return { length: end + (newline < 0 ? 0 : 1), trailer: 0, skip: true };
    return { length: contentEnd, trailer: end - contentEnd + (newline < 0 ? 0 : 1) };
  }
  if (splitType === "RecordIO") return recordIOSize(queue, atEnd);
  if (splitType === "TFRecord") return tfRecordSize(queue, atEnd);
  throw new Error(`splitRecords does not split ${splitType}`);
}

function truncated(queue: ByteQueue, atEnd: boolean, what: string): undefined {
  if (atEnd) throw new SplitError(`the input ends inside a ${what}`, queue.offset);
  return undefined;
}

function recordIOSize(queue: ByteQueue, atEnd: boolean): RecordSize | undefined {
  // A record: one whole frame (cflag 0), or a first, middles and a last frame (cflag 1, 2…, 3).
  let at = 0;
  for (let part = 0; ; part++) {
    if (queue.length < at + 8) return truncated(queue, atEnd, "RecordIO frame header");
    if (queue.uint32(at) !== RECORDIO_MAGIC) {
      throw new SplitError("a RecordIO frame does not start with the magic number", queue.offset + at);
    }
    const header = queue.uint32(at + 4);
    const flag = header >>> 29;
    const payload = header & 0x1fffffff;
    const frame = 8 + ((payload + 3) & ~3);
    queue.announced = at + frame;
    if (queue.length < at + frame) return truncated(queue, atEnd, "RecordIO frame");
    at += frame;
    if ((part === 0 && flag === 0) || flag === 3) return { length: at, trailer: 0 };
    if ((part === 0 && flag !== 1) || (part > 0 && flag !== 2)) {
      throw new SplitError(`a RecordIO frame has continuation flag ${flag} out of place`, queue.offset + at - frame);
    }
  }
}

function tfRecordSize(queue: ByteQueue, atEnd: boolean): RecordSize | undefined {
  if (queue.length < 12) return truncated(queue, atEnd, "TFRecord header");
  const length = queue.uint32(0) + queue.uint32(4) * 2 ** 32;
  if (length > 2 ** 31) throw new SplitError(`a TFRecord claims ${length} bytes`, queue.offset);
  const frame = 16 + length;
  queue.announced = frame;
  if (queue.length < frame) return truncated(queue, atEnd, "TFRecord");
  return { length: frame, trailer: 0 };
}
