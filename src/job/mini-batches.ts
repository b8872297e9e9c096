/**
 * Packing records into request bodies as the platform does: `MultiRecord` packs as many whole records as
 * fit in `MaxPayloadInMB`, `SingleRecord` sends one each. Line records are sent newline-terminated,
 * frames as they are. A single record larger than the payload limit fails its input, as on the platform.
 */
import type { DataProcessing } from "./data-processing.js";
import { RecordTooLargeError, type SplitType, splitRecords } from "./record-splitter.js";

/** The platform's batch strategies. */
export type BatchStrategy = "SingleRecord" | "MultiRecord";

/** One request body and the records in it. */
export interface MiniBatch {
  /** Its place in the input (0, 1, …). */
  readonly sequence: number;
  /** Index of its first record in the input. */
  readonly firstRecordIndex: number;
  /** Records in it. */
  readonly count: number;
  /**
   * The body, in pieces sent one after another: views of the input as it was read, not a copy of it (see
   * {@link lineBatches}).
   */
  readonly parts: readonly Uint8Array[];
  /** The body's length in bytes. */
  readonly byteLength: number;
  /** Byte offset of record `index` (counted in this body) in the input, when it can be told. */
  locate(index: number): number | undefined;
  /** The input records themselves, when DataProcessing joins outputs to them. */
  readonly inputs: readonly Uint8Array[] | undefined;
}

/**
 * The largest record an input filter takes apart, whatever the payload limit: it reads the whole record
 * into values (a CSV row into an array of its fields) that take several times its size, and a 300 MB line
 * ran the job out of memory. No body the platform sends is larger than 100 MB.
 */
const MAX_FILTERED_RECORD_BYTES = 100 * 2 ** 20;

/** How an input is packed. */
export interface PackingOptions {
  readonly splitType: Exclude<SplitType, "None">;
  readonly strategy: BatchStrategy;
  /** The most bytes in one body; 0 for no limit. */
  readonly maxBodyBytes: number;
  /** Applied to each record before it is packed; `undefined` when inactive. */
  readonly processing: DataProcessing | undefined;
}

const NEWLINE = new Uint8Array([0x0a]);

/** The bodies of one input, in order. */
export function miniBatches(input: AsyncIterable<Uint8Array>, options: PackingOptions): AsyncGenerator<MiniBatch> {
  if (options.splitType === "Line" && options.strategy === "MultiRecord" && !options.processing) {
    return lineBatches(input, options.maxBodyBytes > 0 ? options.maxBodyBytes : Number.POSITIVE_INFINITY);
  }
  return recordBatches(input, options);
}

/** True when `bytes[start, end)` (a line without its line feed) holds nothing but spaces, tabs or a CR. */
function blankLine(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

/** Where the `index`-th non-blank line of `body` (counting from 0) starts, or undefined. */
function lineStart(body: Uint8Array, index: number): number | undefined {
  let seen = 0;
  for (let start = 0; start < body.length; ) {
    const newline = body.indexOf(0x0a, start);
    const end = newline < 0 ? body.length : newline;
    if (!blankLine(body, start, end)) {
      if (seen === index) return start;
      seen++;
    }
    start = end + 1;
  }
  return undefined;
}

/**
 * The fast path for the commonest job (Line split, MultiRecord, no DataProcessing): bodies are cut at the
 * last line feed that fits, as runs of whole lines in the chunks the input was read in. A body is those
 * runs, not a copy: assembled into one buffer, each body cost two copies on the main thread (into a
 * growing buffer, then out of it) and fresh pages, and a local job took about twice the CPU per record of
 * `sluice serve`. Lines go as they are in the file (a CR stays; blank lines are sent, and not counted as
 * records). The input's chunks must not be reused by its reader once handed over, as a file's, standard
 * input's and gunzip's are not.
 */
async function* lineBatches(input: AsyncIterable<Uint8Array>, limit: number): AsyncGenerator<MiniBatch> {
  let parts: Uint8Array[] = [];
  let length = 0;
  let records = 0;
  let firstRecordIndex = 0;
  let bodyOffset = 0;
  let sequence = 0;
  /** The pieces of a line still open at the end of the previous chunk, their length, and whether they are blank. */
  let partial: Uint8Array[] = [];
  let partialLength = 0;
  let partialBlank = true;
  let inputOffset = 0;
  const add = (bytes: Uint8Array, start: number, end: number) => {
    if (end <= start) return;
    parts.push(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
    length += end - start;
  };
  const cut = (): MiniBatch => {
    const body = parts;
    const start = bodyOffset;
    const batch: MiniBatch = {
      sequence: sequence++,
      firstRecordIndex,
      count: records,
      parts: body,
      byteLength: length,
      // Only for a failure's report: joined then, not for every body.
      locate: (index) => {
        const at = lineStart(Buffer.concat(body), index);
        return at === undefined ? undefined : start + at;
      },
      inputs: undefined,
    };
    firstRecordIndex += records;
    bodyOffset += length;
    parts = [];
    length = 0;
    records = 0;
    return batch;
  };
  for await (const chunk of input) {
    let runStart = 0;
    let pos = 0;
    while (pos < chunk.length) {
      const newline = chunk.indexOf(0x0a, pos);
      if (newline < 0) break;
      const lineEnd = newline + 1;
      const lineLength = partialLength + lineEnd - pos;
      if (lineLength > limit) {
        throw new RecordTooLargeError(firstRecordIndex + records, inputOffset + pos - partialLength, lineLength, limit);
      }
      if (length + (pos - runStart) + lineLength > limit) {
        add(chunk, runStart, pos);
        runStart = pos;
        if (length > 0) yield cut();
      }
      if (partialLength > 0) {
        for (const piece of partial) add(piece, 0, piece.length);
        add(chunk, pos, lineEnd);
        if (!partialBlank || !blankLine(chunk, pos, newline)) records++;
        partial = [];
        partialLength = 0;
        partialBlank = true;
        runStart = lineEnd;
      } else if (!blankLine(chunk, pos, newline)) {
        records++;
      }
      pos = lineEnd;
    }
    add(chunk, runStart, pos);
    if (pos < chunk.length) {
      const rest = chunk.subarray(pos);
      if (partialLength + rest.length > limit) {
        throw new RecordTooLargeError(
          firstRecordIndex + records,
          inputOffset + pos - partialLength,
          partialLength + rest.length,
          limit,
          true,
        );
      }
      partial.push(rest);
      partialLength += rest.length;
      partialBlank &&= blankLine(rest, 0, rest.length);
    }
    inputOffset += chunk.length;
  }
  if (partialLength > 0) {
    // The last line, without a line feed: sent with one, as a Line split sends every record.
    if (length > 0 && length + partialLength + 1 > limit) yield cut();
    for (const piece of partial) add(piece, 0, piece.length);
    add(NEWLINE, 0, 1);
    if (!partialBlank) records++;
  }
  if (length > 0) yield cut();
}

/** Record by record: any split type, either strategy, DataProcessing. */
async function* recordBatches(input: AsyncIterable<Uint8Array>, options: PackingOptions): AsyncGenerator<MiniBatch> {
  const limit = options.maxBodyBytes > 0 ? options.maxBodyBytes : Number.POSITIVE_INFINITY;
  const line = options.splitType === "Line";
  let parts: Uint8Array[] = [];
  let size = 0;
  let offsets: number[] = [];
  let inputs: Uint8Array[] | undefined = options.processing ? [] : undefined;
  let sequence = 0;
  let recordIndex = 0;
  let firstRecordIndex = 0;
  const cut = (): MiniBatch => {
    const starts = offsets;
    const batch: MiniBatch = {
      sequence: sequence++,
      firstRecordIndex,
      count: starts.length,
      // Joined: a piece per record (and per line feed) would cost the body's reader a step each.
      parts: [Buffer.concat(parts, size)],
      byteLength: size,
      locate: (index) => starts[index],
      inputs,
    };
    parts = [];
    size = 0;
    offsets = [];
    inputs = options.processing ? [] : undefined;
    firstRecordIndex = recordIndex;
    return batch;
  };
  // An input filter may make a large record small: the payload limit is then for the record it leaves.
  const rawLimit = options.processing?.filtersInput
    ? { bytes: Math.max(MAX_FILTERED_RECORD_BYTES, Number.isFinite(limit) ? limit : 0), name: "an input filter reads" }
    : { bytes: limit };
  for await (const record of splitRecords(input, options.splitType, rawLimit)) {
    // The splitter's bytes are a view it reuses: keep a copy.
    const original = record.bytes.slice();
    const sent = options.processing ? options.processing.modelInput(original) : original;
    const recordSize = sent.byteLength + (line ? 1 : 0);
    if (recordSize > limit) throw new RecordTooLargeError(recordIndex, record.byteOffset, recordSize, limit);
    if (offsets.length > 0 && (options.strategy === "SingleRecord" || size + recordSize > limit)) yield cut();
    parts.push(sent);
    if (line) parts.push(NEWLINE);
    size += recordSize;
    offsets.push(record.byteOffset);
    inputs?.push(original);
    recordIndex++;
  }
  if (offsets.length > 0) yield cut();
}
