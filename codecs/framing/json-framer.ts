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
import { INSTANCES_KEY } from "../json/request-shapes.js";
import { BYTE_ORDER_MARK, ByteOrderMarkSkipper } from "./byte-order-mark.js";
import { FrameBuffer } from "./frame-buffer.js";
import { ChunkScanner } from "./simd-scan.js";

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
const INSTANCES = new TextEncoder().encode(INSTANCES_KEY);

const isSpace = (c: number) => c === SPACE || c === LF || c === CR || c === TAB;
/** Bytes that end a bare literal (number, `true`, `null`, …). */
const endsLiteral = (c: number) =>
  isSpace(c) || c === COMMA || c === CLOSE_ARRAY || c === CLOSE_OBJECT || c === OPEN_ARRAY || c === OPEN_OBJECT;

/** 1 for the bytes framing must look at inside a frame: quotes, brackets, braces and line feeds. */
const STRUCTURAL = Uint8Array.from({ length: 256 }, (_, c) =>
  c === QUOTE || c === OPEN_ARRAY || c === CLOSE_ARRAY || c === OPEN_OBJECT || c === CLOSE_OBJECT || c === LF ? 1 : 0,
);

/**
 * Index of the first byte at or after `from` that framing must look at inside a frame (or `chunk.length`),
 * for a chunk too large for the WebAssembly scanner: one table lookup a byte, where six comparisons each
 * took a branch.
 */
function skipPlain(chunk: Uint8Array, from: number): number {
  const n = chunk.length;
  let i = from;
  while (i < n && STRUCTURAL[chunk[i]] === 0) i++;
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

/**
 * Watches the keys of a top-level object for `instances`, so that the framer can stream that array's
 * records instead of holding the object whole.
 */
class InstancesKeyWatcher {
  /** True inside a top-level object, at its own level. */
  active = false;
  #expectKey = false;
  /** Bytes of the key being read that match `instances` so far; -1 when no key is being read. */
  #matched = -1;
  #isInstances = false;
  #afterColon = false;

  /** A top-level object opened. */
  start(): void {
    this.active = true;
    this.#expectKey = true;
  }

  /** The object is over, or its `instances` array is being streamed. */
  stop(): void {
    this.active = false;
    this.#expectKey = false;
    this.#isInstances = false;
    this.#afterColon = false;
  }

  /** A string opened at the object's level: a key, when one is expected. */
  stringOpened(): void {
    if (this.#expectKey) this.#matched = 0;
  }

  /** True while a key is being read (its bytes go to {@link keyByte}). */
  get readingKey(): boolean {
    return this.#matched >= 0;
  }

  keyByte(c: number): void {
    const k = this.#matched;
    this.#matched = k < INSTANCES.length && INSTANCES[k] === c ? k + 1 : Number.MAX_SAFE_INTEGER;
  }

  stringClosed(): void {
    if (this.#matched < 0) return;
    this.#isInstances = this.#matched === INSTANCES.length;
    this.#matched = -1;
    this.#expectKey = false;
  }

  /** A byte outside strings at the object's level; true when it opens the array of `instances`. */
  opensInstances(c: number): boolean {
    if (this.#afterColon && !isSpace(c)) {
      this.#afterColon = false;
      if (c === OPEN_ARRAY) return true;
    }
    if (c === COLON) this.#afterColon = this.#isInstances;
    else if (c === COMMA) this.#expectKey = true;
    return false;
  }
}

/** Splits JSON text into record frames; see the module comment for which values become frames. */
export class JsonFramer implements Framer {
  readonly #pending = new FrameBuffer();
  readonly #frame = new Frame();
  readonly #keys = new InstancesKeyWatcher();
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
  /** Where the open frame starts in the chunk being scanned (0 when it started in an earlier one). */
  #frameStart = 0;
  /** Lends each chunk it scans to the decoder (a record's array of numbers is read where it lies). */
  readonly #scanner = new ChunkScanner(true);
  /** Whether the chunk being pushed is in {@link #scanner} (it is unless too large). */
  #chunkLoaded = false;
  /** Offset of the chunk being scanned from the start of the body, and the current line. */
  #chunkOffset = 0;
  #line = 1;
  readonly #byteOrderMark = new ByteOrderMarkSkipper();
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

  /**
   * The tokenizer: strings and line counting here, every other byte to the handler of the current mode,
   * which returns the index to go on from.
   */
  push(chunk: Uint8Array, emit: FrameSink): void {
    const n = chunk.length;
    this.#frameStart = 0;
    this.#chunkLoaded = this.#scanner.load(chunk);
    // The chunk is lent to the decoder until the release, which must come even on a throw.
    try {
      for (let i = this.#skipByteOrderMark(chunk); i < n; i++) {
        const c = chunk[i];
        if (this.#inString) {
          if (this.#escaped) this.#escaped = false;
          else if (c === BACKSLASH) this.#escaped = true;
          else if (c === QUOTE) this.#endString();
          else if (this.#keys.readingKey) this.#keys.keyByte(c);
          if (c === LF) this.#line++;
          continue;
        }
        if (c === LF) this.#line++;
        switch (this.#mode) {
          case Mode.TopLevel:
            this.#topLevel(c, i);
            break;
          case Mode.ArrayHead:
            i = this.#arrayHead(c, i);
            break;
          case Mode.BetweenRecords:
            this.#betweenRecords(c, i);
            break;
          case Mode.Container:
            i = this.#container(chunk, c, i, emit);
            break;
          case Mode.Literal:
            i = this.#literal(chunk, c, i, emit);
            break;
          case Mode.ObjectTail:
            this.#objectTail(c);
            break;
        }
      }
    } finally {
      this.#scanner.release();
    }
    if (this.#frameOffset >= 0) this.#pending.append(chunk, this.#frameStart, n);
    this.#chunkOffset += n;
  }

  /** Between top-level values: the next value opens a frame (an array's may turn into a batch). */
  #topLevel(c: number, i: number): void {
    if (isSpace(c)) return;
    this.#openFrame(i);
    if (c === OPEN_ARRAY) {
      this.#depth = 1;
      this.#headBrackets = 1;
      this.#mode = Mode.ArrayHead;
    } else if (c === OPEN_OBJECT) {
      this.#depth = 1;
      this.#frameDepth = 0;
      this.#mode = Mode.Container;
      this.#keys.start();
    } else if (c === QUOTE) {
      this.#frameDepth = 0;
      this.#mode = Mode.Container;
      this.#inString = true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      this.#unexpected(c, i);
    } else {
      this.#mode = Mode.Literal;
    }
  }

  /**
   * The batch-depth rule, at the head of a top-level array: nested deeper than one record, it is a batch
   * whose records are framed one by one (so are objects); otherwise it is one record.
   */
  #arrayHead(c: number, i: number): number {
    if (isSpace(c)) return i;
    if (c === OPEN_ARRAY) {
      this.#headBrackets++;
      this.#depth++;
      if (this.#headBrackets === 2) {
        this.#firstRecordOffset = this.#chunkOffset + i;
        this.#firstRecordLine = this.#line;
      }
      if (this.#headBrackets > this.#recordRank) {
        // Nested deeper than one record: a batch; its first record starts at the second bracket.
        this.#rebaseFrame();
        this.#frameDepth = 1;
        this.#mode = Mode.Container;
      }
      return i;
    }
    if (c === CLOSE_ARRAY && this.#headBrackets === 1) {
      // `[]`: a batch of no records.
      this.#closeFrame();
      this.#depth = 0;
      this.#mode = Mode.TopLevel;
      return i;
    }
    if (c === OPEN_OBJECT && this.#headBrackets === 1) {
      this.#closeFrame();
      this.#expectComma = false;
      this.#mode = Mode.BetweenRecords;
    } else {
      // Not nested deeper than one record: the whole array is one record.
      this.#frameDepth = 0;
      this.#mode = Mode.Container;
    }
    // Scan this byte again in the new mode.
    return i - 1;
  }

  /** Inside an array of records, between them: commas, and the next record's first byte. */
  #betweenRecords(c: number, i: number): void {
    if (isSpace(c)) return;
    if (c === CLOSE_ARRAY) {
      this.#depth--;
      this.#mode = this.#depth === 0 ? Mode.TopLevel : Mode.ObjectTail;
    } else if (c === COMMA && this.#expectComma) {
      this.#expectComma = false;
    } else if (this.#expectComma || c === COMMA || c === CLOSE_OBJECT) {
      this.#unexpected(c, i);
    } else {
      this.#openFrame(i);
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
  }

  /** Inside a frame: brackets until the depth it started at, and `instances` in a top-level object. */
  #container(chunk: Uint8Array, c: number, i: number, emit: FrameSink): number {
    const keys = this.#keys;
    const objectLevel = keys.active && this.#depth === 1;
    if (c === QUOTE) {
      this.#inString = true;
      if (objectLevel) keys.stringOpened();
      return i;
    }
    if (objectLevel && keys.opensInstances(c)) {
      // `{"instances": [`: stream the array's elements, forget the object's head.
      this.#closeFrame();
      keys.stop();
      this.#depth = 2;
      this.#expectComma = false;
      this.#mode = Mode.BetweenRecords;
      return i;
    }
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) this.#depth++;
    else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      this.#depth--;
      if (this.#depth === this.#frameDepth) {
        this.#emitFrame(chunk, this.#frameStart, i + 1, emit);
        this.#afterFrame();
        return i;
      }
    }
    // Numbers, commas and spaces inside a frame matter to nobody here: skip them in a tight loop.
    if (keys.active && this.#depth <= 1) return i;
    return (this.#chunkLoaded ? this.#scanner.skipPlain(i + 1) : skipPlain(chunk, i + 1)) - 1;
  }

  /** Inside a bare literal frame (a number, `true`, …): it ends at the first byte that cannot continue it. */
  #literal(chunk: Uint8Array, c: number, i: number, emit: FrameSink): number {
    if (!endsLiteral(c) && c !== QUOTE) return i;
    this.#emitFrame(chunk, this.#frameStart, i, emit);
    this.#afterFrame();
    // Scan the delimiter again in the enclosing mode.
    if (c === LF) this.#line--;
    return i - 1;
  }

  /** After the `instances` array: the rest of the object is skipped to its closing brace. */
  #objectTail(c: number): void {
    if (c === QUOTE) this.#inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) this.#depth++;
    else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      this.#depth--;
      if (this.#depth === 0) this.#mode = Mode.TopLevel;
    }
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

  /**
   * Skips a UTF-8 byte order mark at the very start of the body (it may arrive split across chunks). The
   * start of one followed by anything else is refused at its first byte, which no JSON value starts with
   * (read on, it would have been taken into the first record, refused as invalid UTF-8 wherever its end).
   */
  #skipByteOrderMark(chunk: Uint8Array): number {
    if (this.#byteOrderMark.done) return 0;
    const { drop, replay } = this.#byteOrderMark.skip(chunk);
    // Its start in earlier chunks, or in this one.
    if (replay !== undefined) this.#unexpected(replay[0], -replay.length);
    if (this.#byteOrderMark.done && drop === 0 && chunk[0] === BYTE_ORDER_MARK[0]) this.#unexpected(chunk[0], 0);
    return drop;
  }

  #openFrame(i: number): void {
    this.#frameOffset = this.#chunkOffset + i;
    this.#frameLine = this.#line;
    this.#frameStart = i;
    this.#pending.clear();
  }

  /**
   * Makes the open frame start at the head's second bracket (the first record of a batch) instead of at
   * the top-level bracket.
   */
  #rebaseFrame(): void {
    const dropped = this.#firstRecordOffset - this.#frameOffset;
    this.#frameOffset = this.#firstRecordOffset;
    this.#frameLine = this.#firstRecordLine;
    if (dropped < this.#pending.length) {
      this.#pending.discardFront(dropped);
      this.#frameStart = 0;
      return;
    }
    this.#pending.clear();
    this.#frameStart = this.#firstRecordOffset - this.#chunkOffset;
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
    this.#keys.stop();
    if (this.#depth === 0) {
      this.#mode = Mode.TopLevel;
    } else {
      this.#mode = Mode.BetweenRecords;
      this.#expectComma = true;
    }
  }

  #endString(): void {
    this.#inString = false;
    this.#keys.stringClosed();
    if (this.#mode === Mode.Container && this.#depth === this.#frameDepth) {
      // A string was the whole frame: let the literal rule end it at the next byte.
      this.#mode = Mode.Literal;
    }
  }

  #unexpected(c: number, i: number): never {
    throw new FramingError("JSON_UNEXPECTED_CHARACTER", `unexpected ${JSON.stringify(String.fromCharCode(c))}`, {
      byteOffset: this.#chunkOffset + i,
      line: this.#line,
    });
  }
}
