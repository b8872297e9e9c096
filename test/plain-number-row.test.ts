import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PlainNumberRowReader } from "../codecs/text/plain-number-row.js";
import type { RecordSlots } from "../src/codec/record-codec.js";
import { seededRandom } from "../src/testing/seeded-random.js";

const WIDTH = 4;

/**
 * Reads `text` (a row, then a line feed as the CSV framer leaves it) with the row reader alone, for CSV
 * (quoted numbers, empty fields) or JSON (`null`), for an input that takes missing values or not.
 */
function readRow(text: string, csv = false, acceptsMissing = false): number[] | undefined {
  const input = { name: "x", type: "float32", recordShape: [WIDTH], width: WIDTH, acceptsMissing } as const;
  const reader = PlainNumberRowReader.of([input], {
    quotedNumbers: csv,
    emptyAsMissing: csv,
    nullAsMissing: !csv,
    jsonNumbers: !csv,
  });
  assert.ok(reader);
  const values = new Float32Array(WIDTH);
  const slots: RecordSlots = { input: () => values, arrays: [values], texts: [], offset: () => 0 };
  const buffer = new TextEncoder().encode(`${text}\n`);
  return reader.readRecord(buffer, 0, buffer.length - 1, slots) ? Array.from(values) : undefined;
}

describe("the plain-number row reader", () => {
  it("reads rows with spaces before fields (as Python's json.dumps writes arrays) as it reads compact ones", () => {
    const compact = readRow("1.5,-2,0.25,7");
    assert.deepEqual(compact, [1.5, -2, 0.25, 7]);
    for (const spaced of ["1.5, -2, 0.25, 7", " 1.5, -2,  0.25, 7", "1.5,-2, 0.25,7"]) {
      assert.deepEqual(readRow(spaced), compact, spaced);
    }
    assert.deepEqual(readRow("0, 0, -0.5, 0"), [0, 0, -0.5, 0]);
  });

  it("reads quoted numbers for CSV (as Athena writes every field), and leaves them to JSON's path", () => {
    const compact = [1.5, -2, 0.25, 0];
    for (const quoted of ['"1.5","-2","0.25","0"', '1.5,"-2",0.25,"0"', '"1.5", "-2", "0.25", "0"']) {
      assert.deepEqual(readRow(quoted, true), compact, quoted);
      assert.equal(readRow(quoted, false), undefined, quoted);
    }
    // Anything else in or around the quotes goes to the general path.
    for (const row of ['"1"2,-2,0.25,0', '1",-2,0.25,0', '"1,-2,0.25,0', '""1"",-2,0.25,0', '" 1",-2,0.25,0']) {
      assert.equal(readRow(row, true), undefined, row);
    }
    for (const row of ['"1 ",-2,0.25,0', '"",-2,0.25,0', '"abc",-2,0.25,0', '"1e5",-2,0.25,0', '1.5,-2,0.25,"0']) {
      assert.equal(readRow(row, true), undefined, row);
    }
    // A quoted field holding a comma is one field, not two numbers.
    for (const row of ['"1,-2",0.25,0,5', '1.5,-2,"0.25,0",7', '"1,-2",0.25,"0,5"']) {
      assert.equal(readRow(row, true), undefined, row);
    }
  });

  it("reads empty CSV fields as missing values (NaN) for an input that takes them, and only then", () => {
    const nan = Number.NaN;
    for (const [row, values] of [
      ["1.5,,0.25,7", [1.5, nan, 0.25, 7]],
      [",-2,0.25,", [nan, -2, 0.25, nan]],
      [",,,", [nan, nan, nan, nan]],
      ['"1.5",,"0.25",', [1.5, nan, 0.25, nan]],
    ] as const) {
      assert.deepEqual(readRow(row, true, true), values, row);
      assert.equal(readRow(row, true, false), undefined, row);
      assert.equal(readRow(row, false, true), undefined, row);
    }
    // Still refused here: a row of the wrong width, a lone sign.
    for (const row of [",,,,", ",,", "1.5,-,0.25,7"]) assert.equal(readRow(row, true, true), undefined, row);
  });

  it("reads JSON's null as a missing value (NaN) for an input that takes them, and only then", () => {
    const nan = Number.NaN;
    for (const [row, values] of [
      ["1.5,null,0.25,7", [1.5, nan, 0.25, 7]],
      ["null,-2,0.25,null", [nan, -2, 0.25, nan]],
      ["null,null,null,null", [nan, nan, nan, nan]],
      ["null, 0, 0, null", [nan, 0, 0, nan]],
      ["0,0,null,0", [0, 0, nan, 0]],
    ] as const) {
      assert.deepEqual(readRow(row, false, true), values, row);
      assert.equal(readRow(row, false, false), undefined, row);
      assert.equal(readRow(row, true, true), undefined, row);
    }
    // Anything else is left to JSON's own path, which reads or refuses it.
    for (const row of [
      "nul,-2,0.25,7",
      "nulll,-2,0.25,7",
      "null ,-2,0.25,7",
      "1.5,-2,0.25,nul",
      "1.5,-2,0.25,null,",
      "1.5,-2,0.25,nullnull",
      "-null,-2,0.25,7",
      "1.5,null,0.25",
      "null,null,null,null,null",
      "1.5,,0.25,7",
    ]) {
      assert.equal(readRow(row, false, true), undefined, row);
    }
  });

  it("reads JSON's numbers only, and the NaN and infinities Python's json.dumps writes; CSV's in any case", () => {
    const nan = Number.NaN;
    for (const [row, values] of [
      ["NaN,-2,0.25,7", [nan, -2, 0.25, 7]],
      ["1,Infinity,-Infinity,NaN", [1, Infinity, -Infinity, nan]],
      ["0, NaN, 0, -0.5", [0, nan, 0, -0.5]],
    ] as const) {
      // For any input: NaN is a value here, not a missing one.
      assert.deepEqual(readRow(row, false, false), values, row);
      assert.deepEqual(readRow(row, true, false), values, row);
    }
    // CSV's words, as NumPy's savetxt writes them and the general path reads them: any case, signed.
    for (const [row, values] of [
      ["nan,-nan,NAN,Nan", [nan, nan, nan, nan]],
      ["inf,-inf,INF,-Inf", [Infinity, -Infinity, Infinity, -Infinity]],
      ["infinity,-INFINITY,1,-0", [Infinity, -Infinity, 1, -0]],
    ] as const) {
      assert.deepEqual(readRow(row, true, false), values, row);
      assert.equal(readRow(row, false, false), undefined, row);
    }
    for (const row of ["nana,1,2,3", "infinit,1,2,3", "infx,1,2,3", "n,1,2,3", "i,1,2,3", "1,2,3,nan4"]) {
      assert.equal(readRow(row, true, false), undefined, row);
    }
    for (const row of [
      "-NaN,-2,0.25,7",
      "NaN ,-2,0.25,7",
      "Na,-2,0.25,7",
      "1,Infinit,2,3",
      "1,Infinityy,2,3",
      "nan,-2,0.25,7",
      "1,inf,2,3",
      // Spellings Number() reads and JSON does not have.
      ".5,-2,0.25,7",
      "-.5,-2,0.25,7",
      "5.,-2,0.25,7",
      "05,-2,0.25,7",
      "-00,-2,0.25,7",
      "1.e5,-2,0.25,7",
    ]) {
      assert.equal(readRow(row, false, true), undefined, row);
    }
    assert.deepEqual(readRow(".5,-.5,5.,05", true), [0.5, -0.5, 5, 5]);
  });

  it("reads CSV's plus signs (as C's %+f writes them), and leaves every other use of one to the general path", () => {
    assert.deepEqual(readRow("+1.5,-2,+.25,+0", true), [1.5, -2, 0.25, 0]);
    assert.deepEqual(readRow(" +7,+1e1,+0,+2.5e-1", true), [7, 10, 0, 0.25]);
    // Number() refuses these; JSON has no plus sign.
    for (const row of ["+-1,2,3,4", "++1,2,3,4", "+ 1,2,3,4", "1,2,3,+", "1,+,3,4", "-+1,2,3,4", "1,2,+.,4"]) {
      assert.equal(readRow(row, true), undefined, row);
    }
    assert.equal(readRow("+1.5,-2,0.25,0", false), undefined);
  });

  it("reads spaces after a number up to its comma (a left-justified column), in CSV and JSON", () => {
    for (const csv of [true, false]) {
      for (const row of ["1.5 ,-2  ,0.25,7 ", "1.5\t,-2 ,0.25 ,7\t", "1.5,-2,2.5e-1 ,7  ", "1.5 , -2 ,  0.25 , 7"]) {
        assert.deepEqual(readRow(row, csv), [1.5, -2, 0.25, 7], row);
      }
    }
    // In JSON an array may break its lines anywhere: `[1.5,\n -2,…]` as json.dumps(indent=…) writes it.
    assert.deepEqual(readRow("1.5 \r\n,-2\n,0.25,7\n"), [1.5, -2, 0.25, 7]);
  });

  it("leaves rows with other spaces, or fields that are only spaces, to the general path", () => {
    for (const row of [
      "1.5,- 2,0.25,7",
      "1.5 2,-2,0.25,7",
      "1.5, ,0.25,7",
      "1.5,\t-2,0.25,7",
      "1.5,-2,0.25, ",
      "1.5 x,-2,0.25,7",
      "1e5 x,-2,0.25,7",
    ]) {
      assert.equal(readRow(row), undefined, row);
    }
  });
});

describe("the plain-number row reader, for a float64 input", () => {
  it("reads float64 values printed in full (16 to 19 digits, an exponent or not) as Number() does, or leaves the row", () => {
    const random = seededRandom(64);
    const input = { name: "x", type: "float64", recordShape: [WIDTH], width: WIDTH } as const;
    const reader = PlainNumberRowReader.of([input], { quotedNumbers: true, emptyAsMissing: true });
    assert.ok(reader);
    const values = new Float64Array(WIDTH);
    const slots: RecordSlots = { input: () => values, arrays: [values], texts: [], offset: () => 0 };
    const encoder = new TextEncoder();
    let read = 0;
    const rows = 20_000;
    for (let row = 0; row < rows; row++) {
      const fields = Array.from({ length: WIDTH }, (_, k) => {
        const double = (random() - 0.5) * 10 ** Math.floor(random() * 8 - 3);
        // pandas' and Python's spellings, a leading-zero fraction among them (`-0.0798301195320481`),
        // Python's `repr` below 10^-4 (`4.6348195085252013e-07`) and NumPy's `savetxt` by default (`%.18e`:
        // `4.634819508525200860e-02`).
        if (k === 0) return String(double);
        if (k === 1) return String(double / 100);
        if (k === 2) return `"${double}"`;
        const small = -double * 10 ** -Math.floor(random() * 12);
        return (row % 2 === 0 ? small.toExponential() : small.toExponential(18)).replace(/e([+-])(\d)$/, "e$10$2");
      });
      const buffer = encoder.encode(`${fields.join(",")}\n`);
      if (!reader.readRecord(buffer, 0, buffer.length - 1, slots)) continue;
      read++;
      for (let k = 0; k < WIDTH; k++) assert.equal(values[k], Number(fields[k].replaceAll('"', "")), fields[k]);
    }
    // Only values within 2^-98 of a midpoint between two doubles go to the general path.
    assert.ok(read >= 0.999 * rows, `${read} of ${rows} rows read here`);
  });
});
