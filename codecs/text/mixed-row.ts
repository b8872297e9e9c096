/**
 * CSV's quick path for a model of string and numeric inputs (skl2onnx converts a pipeline over a
 * DataFrame's columns to one input per column, categories as strings): each run of numeric inputs is
 * read by a {@link PlainNumberRowReader}, each string field between runs is cut out and decoded (the
 * same bytes as a recent field's to the same string, see {@link recentStrings}).
 */
import { isTextTensor, type RecordSlots, type TensorSpec } from "../../src/index.js";
import { PlainNumberRowReader } from "./plain-number-row.js";
import { recentStrings } from "./recent-strings.js";

const COMMA = 0x2c;
const QUOTE = 0x22;

/** Consecutive inputs read together: a run of numeric inputs, or one string input. */
interface RowSegment {
  /** The index of the segment's first input. */
  readonly input: number;
  /** A string input's width (its fields), for a string segment. */
  readonly width: number;
  /** The reader of a run of numeric inputs; undefined for a string input. */
  readonly numbers: PlainNumberRowReader | undefined;
}

/** Reads CSV rows of plain fields into a model of string and numeric inputs. */
export class MixedRowReader {
  readonly #segments: readonly RowSegment[];
  readonly #strings = recentStrings();
  /** Set by {@link #textField}: where the field it read ends (its comma, or the row's end). */
  #fieldEnd = 0;

  private constructor(segments: readonly RowSegment[]) {
    this.#segments = segments;
  }

  /** A reader for a model's `inputs` when some are strings and some numbers; else undefined. */
  static of(inputs: readonly TensorSpec[]): MixedRowReader | undefined {
    const texts = inputs.filter(isTextTensor).length;
    if (texts === 0 || texts === inputs.length) return undefined;
    const segments: RowSegment[] = [];
    for (let first = 0; first < inputs.length; ) {
      if (isTextTensor(inputs[first])) {
        segments.push({ input: first, width: inputs[first].width, numbers: undefined });
        first++;
        continue;
      }
      let after = first;
      while (after < inputs.length && !isTextTensor(inputs[after])) after++;
      const numbers = PlainNumberRowReader.of(inputs.slice(first, after), {
        quotedNumbers: true,
        emptyAsMissing: true,
        fieldsFollow: after < inputs.length,
      });
      segments.push({ input: first, width: 0, numbers });
      first = after;
    }
    return new MixedRowReader(segments);
  }

  /**
   * Reads the row `buffer[start, end)` into the record's slots; the byte at `end` must end a number, as
   * for {@link PlainNumberRowReader.readRecord}. Returns false, having written values that the caller's
   * general path then overwrites, for a row that needs more: a quoted string holding a doubled quote,
   * invalid UTF-8, a row of the wrong width, or any number the numeric reader leaves.
   */
  readRecord(buffer: Uint8Array, start: number, end: number, slots: RecordSlots): boolean {
    const segments = this.#segments;
    let pos = start;
    for (let s = 0; s < segments.length; s++) {
      const segment = segments[s];
      const last = s === segments.length - 1;
      const numbers = segment.numbers;
      if (numbers !== undefined) {
        numbers.runEnd = -1;
        if (!numbers.readRecord(buffer, pos, end, slots, segment.input)) return false;
        if (last) return true;
        // The row ended with this run, before the fields that follow it.
        if (numbers.runEnd < 0) return false;
        pos = numbers.runEnd + 1;
        continue;
      }
      const texts = slots.texts[segment.input];
      const base = slots.offset(segment.input);
      for (let j = 0; j < segment.width; j++) {
        const text = this.#textField(buffer, pos, end);
        if (text === undefined) return false;
        texts[base + j] = text;
        if (this.#fieldEnd === end) return last && j === segment.width - 1;
        pos = this.#fieldEnd + 1;
      }
      // The row goes on after the model's last field.
      if (last) return false;
    }
    return false;
  }

  /**
   * The string field at `pos`, unquoted or quoted without a doubled quote inside, ending at a comma or
   * at `end` (where {@link #fieldEnd} is left); undefined for anything else.
   */
  #textField(buffer: Uint8Array, pos: number, end: number): string | undefined {
    let from = pos;
    let to = pos;
    if (buffer[pos] === QUOTE) {
      from = pos + 1;
      to = from;
      while (to < end && buffer[to] !== QUOTE) to++;
      // No closing quote, a doubled one (`""`) or text after it: the general path reads or refuses it.
      if (to === end || (to + 1 !== end && buffer[to + 1] !== COMMA)) return undefined;
      this.#fieldEnd = to + 1;
    } else {
      while (to < end && buffer[to] !== COMMA) to++;
      this.#fieldEnd = to;
    }
    return this.#strings.decode(buffer, from, to);
  }
}
