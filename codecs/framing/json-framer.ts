/**
 * JSON framing: splits a stream of JSON text into record frames without parsing it, by tracking only
 * nesting depth and strings. It accepts one document or a sequence of values (one per line with a Line
 * split), and streams the records of the two batch shapes instead of holding the whole document:
 * - a top-level array of records (`[[…],[…]]`, `[{…},{…}]`): each element is a frame;
 * - a top-level object's `instances` array (`{"instances": […]}`): each element is a frame.
 * A top-level array is a batch when it is nested deeper than one record (`[[…]]` for flat records,
 * `[[[…]]]` for a model taking `[N, 28, 28]`) or holds objects; otherwise it is one record.
 * Every other top-level value (an object, a number) is one frame. Syntax inside
 * a frame is left to the record decoder, so a malformed record is reported as that record's error.
 */
import { Frame, type Framer, type FrameSink, FramingError } from "../../src/index.js";
import { FrameBuffer } from "./frame-buffer.js";

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const BYTE_ORDER_MARK = [0xef, 0xbb, 0xbf];
const INSTANCES = new TextEncoder().encode("instances");

const isSpace = (c: number) => c === SPACE || c === LF || c === CR || c === TAB;
/** Bytes that end a bare literal (number, `true`, `null`, …). */
const endsLiteral = (c: number) =>
  isSpace(c) || c === COMMA || c === CLOSE_ARRAY || c === CLOSE_OBJECT || c === OPEN_ARRAY || c === OPEN_OBJECT;

/** Index of the first byte at or after `from` that framing must look at inside a frame (or `chunk.length`). */
function skipPlain(chunk: Uint8Array, from: number): number {
  let i = from;
  for (; i < chunk.length; i++) {
    const c = chunk[i];
    if (c === QUOTE || c === OPEN_ARRAY || c === CLOSE_ARRAY || c === OPEN_OBJECT || c === CLOSE_OBJECT || c === LF)
      break;
  }
  return i;
}

enum Mode {
  /** Between top-level values. */
  TopLevel,
  /** After a top-level `[`, before its first element: decides between a record array and one flat record. */
  ArrayHead,
  /** Inside an array whose elements are records, between elements. */
  BetweenRecords,
  /** Inside a frame that ends when the depth falls back to `frameDepth`. */
  Container,
  /** Inside a bare literal frame. */
  Literal,
  /** Inside a top-level object, after its `instances` array: skipped up to the closing brace. */
  ObjectTail,
}

/** Splits JSON text into record frames; see the module comment for which values become frames. */
export class JsonFramer implements Framer {
  readonly #pending = new FrameBuffer();
  readonly #frame = new Frame();
  #mode = Mode.TopLevel;
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** Depth at which the current frame started (it ends when the depth returns to this). */
  #frameDepth = 0;
  /** True after an element of the record array, until its comma. */
  #expectComma = false;
  /** Body offset and line of the current frame's first byte; -1 when no frame is open. */
  #frameOffset = -1;
  #frameLine = 0;
  /** Within a top-level object: state of the key being matched against `instances`. */
  #topObject = false;
  #expectKey = false;
  #keyMatched = -1;
  #instancesKey = false;
  #afterInstancesColon = false;
  /** Offset of the chunk being scanned from the start of the body, and the current line. */
  #chunkOffset = 0;
  #line = 1;
  #bomChecked = 0;
  /** Array nesting of one record: 1 for flat records, more for a model that takes e.g. `[N, 28, 28]`. */
  readonly #recordRank: number;
  /** Brackets opened so far at the head of a top-level array, and where the second one is. */
  #headBrackets = 0;
  #firstRecordOffset = 0;
  #firstRecordLine = 0;

  /**
   * @param recordRank Array nesting of one record. A top-level array nested deeper than this is a batch
   * of records; one nested no deeper is a single record.
   */
  constructor(recordRank = 1) {
    this.#recordRank = Math.max(1, recordRank);
  }

  push(chunk: Uint8Array, emit: FrameSink): void {
    const n = chunk.length;
    let i = this.#skipByteOrderMark(chunk);
    // Where the open frame starts in this chunk (0 when it started in an earlier one).
    let frameStart = 0;
    for (; i < n; i++) {
      const c = chunk[i];
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === BACKSLASH) this.#escaped = true;
        else if (c === QUOTE) this.#endString();
        else if (this.#keyMatched >= 0) this.#matchKey(c);
        if (c === LF) this.#line++;
        continue;
      }
      if (c === LF) this.#line++;
      switch (this.#mode) {
        case Mode.TopLevel:
          if (isSpace(c)) break;
          frameStart = this.#openFrame(i);
          if (c === OPEN_ARRAY) {
            this.#depth = 1;
            this.#headBrackets = 1;
            this.#mode = Mode.ArrayHead;
          } else if (c === OPEN_OBJECT) {
            this.#depth = 1;
            this.#frameDepth = 0;
            this.#mode = Mode.Container;
            this.#topObject = true;
            this.#expectKey = true;
          } else if (c === QUOTE) {
            this.#frameDepth = 0;
            this.#mode = Mode.Container;
            this.#inString = true;
          } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
            this.#unexpected(c, i);
          } else {
            this.#mode = Mode.Literal;
          }
          break;
        case Mode.ArrayHead:
          if (isSpace(c)) break;
          if (c === OPEN_ARRAY) {
            this.#headBrackets++;
            this.#depth++;
            if (this.#headBrackets === 2) {
              this.#firstRecordOffset = this.#chunkOffset + i;
              this.#firstRecordLine = this.#line;
            }
            if (this.#headBrackets > this.#recordRank) {
              // Nested deeper than one record: a batch; its first record starts at the second bracket.
              frameStart = this.#rebaseFrame();
              this.#frameDepth = 1;
              this.#mode = Mode.Container;
            }
          } else if (c === CLOSE_ARRAY && this.#headBrackets === 1) {
            // `[]`: a batch of no records.
            this.#closeFrame();
            this.#depth = 0;
            this.#mode = Mode.TopLevel;
          } else if (c === OPEN_OBJECT && this.#headBrackets === 1) {
            this.#closeFrame();
            this.#expectComma = false;
            this.#mode = Mode.BetweenRecords;
            i--;
          } else {
            // Not nested deeper than one record: the whole array is one record.
            this.#frameDepth = 0;
            this.#mode = Mode.Container;
            i--;
          }
          break;
        case Mode.BetweenRecords:
          if (isSpace(c)) break;
          if (c === CLOSE_ARRAY) {
            this.#depth--;
            this.#mode = this.#depth === 0 ? Mode.TopLevel : Mode.ObjectTail;
          } else if (c === COMMA && this.#expectComma) {
            this.#expectComma = false;
          } else if (this.#expectComma || c === COMMA || c === CLOSE_OBJECT) {
            this.#unexpected(c, i);
          } else {
            frameStart = this.#openFrame(i);
            this.#frameDepth = this.#depth;
            if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
              this.#depth++;
              this.#mode = Mode.Container;
            } else if (c === QUOTE) {
              this.#inString = true;
              this.#mode = Mode.Container;
            } else {
              this.#mode = Mode.Literal;
            }
          }
          break;
        case Mode.Container:
          if (c === QUOTE) {
            this.#inString = true;
            if (this.#topObject && this.#depth === 1 && this.#expectKey) this.#keyMatched = 0;
            break;
          }
          if (this.#topObject && this.#depth === 1) {
            if (this.#afterInstancesColon && !isSpace(c)) {
              this.#afterInstancesColon = false;
              if (c === OPEN_ARRAY) {
                // `{"instances": [`: stream the array's elements, forget the object's head.
                this.#closeFrame();
                this.#topObject = false;
                this.#depth = 2;
                this.#expectComma = false;
                this.#mode = Mode.BetweenRecords;
                break;
              }
            }
            if (c === COLON) this.#afterInstancesColon = this.#instancesKey;
            else if (c === COMMA) this.#expectKey = true;
          }
          if (c === OPEN_ARRAY || c === OPEN_OBJECT) this.#depth++;
          else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
            this.#depth--;
            if (this.#depth === this.#frameDepth) {
              this.#emitFrame(chunk, frameStart, i + 1, emit);
              this.#afterFrame();
              break;
            }
          }
          // Numbers, commas and spaces inside a frame matter to nobody here: skip them in a tight loop.
          if (!this.#topObject || this.#depth > 1) i = skipPlain(chunk, i + 1) - 1;
          break;
        case Mode.Literal:
          if (endsLiteral(c) || c === QUOTE) {
            this.#emitFrame(chunk, frameStart, i, emit);
            this.#afterFrame();
            // Scan the delimiter again in the enclosing mode.
            if (c === LF) this.#line--;
            i--;
          }
          break;
        case Mode.ObjectTail:
          if (c === QUOTE) this.#inString = true;
          else if (c === OPEN_ARRAY || c === OPEN_OBJECT) this.#depth++;
          else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
            this.#depth--;
            if (this.#depth === 0) this.#mode = Mode.TopLevel;
          }
          break;
      }
    }
    if (this.#frameOffset >= 0) this.#pending.append(chunk, frameStart, n);
    this.#chunkOffset += n;
  }

  end(emit: FrameSink): void {
    if (this.#mode === Mode.Literal && !this.#inString) {
      this.#emitFrame(new Uint8Array(0), 0, 0, emit);
      this.#afterFrame();
    }
    if (this.#mode !== Mode.TopLevel || this.#inString) {
      const start = this.#frameOffset >= 0 ? this.#frameOffset : undefined;
      throw new FramingError("JSON_TRUNCATED", "the body ends inside a JSON value (a bracket or quote is not closed)", {
        byteOffset: start ?? this.#chunkOffset,
        line: start === undefined ? this.#line : this.#frameLine,
      });
    }
  }

  /** Skips a UTF-8 byte order mark at the very start of the body (it may arrive split across chunks). */
  #skipByteOrderMark(chunk: Uint8Array): number {
    let i = 0;
    while (this.#bomChecked < BYTE_ORDER_MARK.length && i < chunk.length) {
      if (chunk[i] !== BYTE_ORDER_MARK[this.#bomChecked]) {
        if (this.#bomChecked > 0) this.#unexpected(chunk[i], i);
        this.#bomChecked = BYTE_ORDER_MARK.length;
        return 0;
      }
      this.#bomChecked++;
      i++;
    }
    return i;
  }

  #openFrame(i: number): number {
    this.#frameOffset = this.#chunkOffset + i;
    this.#frameLine = this.#line;
    this.#pending.clear();
    return i;
  }

  /**
   * Makes the open frame start at the head's second bracket (the first record of a batch) instead of at
   * the top-level bracket, and returns where the frame now starts in the chunk being scanned.
   */
  #rebaseFrame(): number {
    const dropped = this.#firstRecordOffset - this.#frameOffset;
    this.#frameOffset = this.#firstRecordOffset;
    this.#frameLine = this.#firstRecordLine;
    if (dropped < this.#pending.length) {
      this.#pending.discardFront(dropped);
      return 0;
    }
    this.#pending.clear();
    return this.#firstRecordOffset - this.#chunkOffset;
  }

  /** Forgets the open frame's bytes (its records will be streamed one by one instead). */
  #closeFrame(): void {
    this.#frameOffset = -1;
    this.#pending.clear();
  }

  #emitFrame(chunk: Uint8Array, frameStart: number, frameEnd: number, emit: FrameSink): void {
    const frame = this.#frame;
    if (this.#pending.length > 0) {
      this.#pending.append(chunk, frameStart, frameEnd);
      const held = this.#pending.view();
      frame.set(held, 0, held.length, this.#frameOffset, this.#frameLine);
    } else {
      frame.set(chunk, frameStart, frameEnd, this.#frameOffset, this.#frameLine);
    }
    this.#closeFrame();
    emit(frame);
  }

  #afterFrame(): void {
    this.#topObject = false;
    this.#expectKey = false;
    this.#instancesKey = false;
    this.#afterInstancesColon = false;
    if (this.#depth === 0) {
      this.#mode = Mode.TopLevel;
    } else {
      this.#mode = Mode.BetweenRecords;
      this.#expectComma = true;
    }
  }

  #endString(): void {
    this.#inString = false;
    if (this.#keyMatched >= 0) {
      this.#instancesKey = this.#keyMatched === INSTANCES.length;
      this.#keyMatched = -1;
      this.#expectKey = false;
    }
    if (this.#mode === Mode.Container && this.#depth === this.#frameDepth) {
      // A string was the whole frame: let the literal rule end it at the next byte.
      this.#mode = Mode.Literal;
    }
  }

  #matchKey(c: number): void {
    const k = this.#keyMatched;
    this.#keyMatched = k < INSTANCES.length && INSTANCES[k] === c ? k + 1 : Number.MAX_SAFE_INTEGER;
  }

  #unexpected(c: number, i: number): never {
    throw new FramingError("JSON_UNEXPECTED_CHARACTER", `unexpected ${JSON.stringify(String.fromCharCode(c))}`, {
      byteOffset: this.#chunkOffset + i,
      line: this.#line,
    });
  }
}
