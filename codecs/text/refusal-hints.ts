/**
 * What a refused text record most likely is, added to its error: the mistakes that stop most jobs in
 * their first body. A header line sent as data, fields separated by semicolons or tabs (a spreadsheet's
 * export in many locales), an id or label column the model does not take, a comma at the end of every
 * line. Each hint is given only when the record's shape says so plainly, and only on the error path.
 */

const COMMA = 0x2c;
const QUOTE = 0x22;

/** Separators a CSV row may have been written with instead of commas, and their names. */
const OTHER_SEPARATORS: readonly [number, string][] = [
  [0x3b, "semicolons"],
  [0x09, "tabs"],
  [0x7c, "vertical bars"],
];

const lenientUtf8 = new TextDecoder();

/** How often `byte` occurs in `bytes`. */
function occurrences(bytes: Uint8Array, byte: number): number {
  let count = 0;
  for (let i = bytes.indexOf(byte); i !== -1; i = bytes.indexOf(byte, i + 1)) count++;
  return count;
}

/**
 * A hint for a row of `fields` fields where the model takes `modelWidth` (to follow the error's own
 * words), or "": fields separated by something other than commas, a comma at the end of the row, or one
 * leading field too many.
 */
export function widthHint(row: Uint8Array, fields: number, modelWidth: number): string {
  if (fields === 1) {
    for (const [separator, name] of OTHER_SEPARATORS) {
      if (occurrences(row, separator) + 1 === modelWidth) {
        return `; its fields seem separated by ${name}, and CSV's are separated by commas`;
      }
    }
    return "";
  }
  if (fields !== modelWidth + 1) return "";
  // The framer has taken a CRLF's carriage return off the row already.
  if (row.length > 0 && row[row.length - 1] === COMMA)
    return "; the row ends with a comma, which makes an empty last field";
  return leadingExtraHint("field");
}

/**
 * The hint for a flat record (a CSV row, a JSON array) of one `unit` (`field`, `value`) more than the
 * model takes: the first is likely an id or a label, as in a training set's files.
 */
export function leadingExtraHint(unit: string): string {
  return (
    `; if the first ${unit} is an id or a label, leave it out of what the model receives ` +
    "(a transform job's InputFilter $[1:] does, and JoinSource=Input puts the whole record back beside the answer)"
  );
}

/**
 * Where each field of a CSV row ends (at a comma outside quotes, or at the row's end), for the error
 * path: a refused row's field count, and its fields' texts for a hint.
 */
export function csvFieldEnds(row: Uint8Array): number[] {
  const ends: number[] = [];
  let quoted = false;
  for (let i = 0; i < row.length; i++) {
    if (row[i] === QUOTE) quoted = !quoted;
    else if (row[i] === COMMA && !quoted) ends.push(i);
  }
  ends.push(row.length);
  return ends;
}

/** The fields of a row as text: split at commas outside quotes, quotes removed, spaces trimmed. */
function fieldTexts(row: Uint8Array): string[] {
  let start = 0;
  return csvFieldEnds(row).map((end) => {
    const text = lenientUtf8.decode(row.subarray(start, end)).replaceAll('"', "").trim();
    start = end + 1;
    return text;
  });
}

/**
 * A hint for a row of several fields none of which is a number or empty, as a header line's names are
 * (`age,income,…`), or "" (one word alone says too little); the decoder asks it for a body's first line.
 * It asks rather than tells, since a body may be a later slice of its file, and it points at the file
 * rather than at `header=present`, which skips the first line of every body: with `SplitType=Line`, a
 * line of data from every body after the first.
 */
export function headerHint(row: Uint8Array): string {
  const fields = fieldTexts(row);
  const looksLikeNames =
    fields.length > 1 &&
    fields.every((text) => text !== "" && Number.isNaN(Number(text)) && !/^[+-]?(nan|inf|infinity)$/i.test(text));
  return looksLikeNames
    ? "; a header line? Every line is read as data: take it out of the file (a SplitType=None job may instead " +
        "send Content-Type: text/csv; header=present, which skips a body's first line)"
    : "";
}
