import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { csvCodec } from "../codecs/csv.js";
import { BatchBufferPool } from "../src/batch-buffer-pool.js";
import { Batcher, type InputBatch } from "../src/batcher.js";
import { Frame } from "../src/codec/framing.js";
import { RecordError } from "../src/errors.js";
import { contextFor, decodeBody, encodeAll, outputBatch, signatureOf } from "../src/testing/index.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import { splitAt } from "./support/chunks.js";
import { besideFloat32Halfway } from "./support/float32-halfway.js";
import { referenceFloat32Text } from "./support/float32-reference.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const single = signatureOf({ x: ["float32", 3] });

const decodeError = (text: string, context = contextFor(single, "text/csv")) => {
  try {
    decodeBody(csvCodec, context, [bytes(text)]);
  } catch (error) {
    if (error instanceof RecordError) return error;
    throw error;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
};

describe("CSV record decoding", () => {
  it("reads numeric fields, quoted numbers and spaces", () => {
    const records = decodeBody(csvCodec, contextFor(single, "text/csv"), [bytes('1,2.5,-3e2\r\n"4", 5 ,"6.0"\n')]);
    assert.deepEqual(records, [[[1, 2.5, -300]], [[4, 5, 6]]]);
  });

  it("reads rows whose every field is quoted (as Athena writes them) as the same rows unquoted, whatever the split", () => {
    const random = seededRandom(43);
    const rows = Array.from({ length: 200 }, () =>
      Array.from({ length: 3 }, () => String(Math.round((random() - 0.5) * 1e4) / 100)),
    );
    const plain = bytes(rows.map((row) => `${row.join(",")}\n`).join(""));
    const quoted = bytes(rows.map((row) => `${row.map((field) => `"${field}"`).join(",")}\r\n`).join(""));
    const expected = decodeBody(csvCodec, contextFor(single, "text/csv"), [plain]);
    assert.equal(expected.length, rows.length);
    for (let at = 0; at <= quoted.length; at += 97) {
      assert.deepEqual(decodeBody(csvCodec, contextFor(single, "text/csv"), splitAt(quoted, at)), expected, `at ${at}`);
    }
    // A quoted field holding a comma is still one field: the row is one field short.
    assert.equal(decodeError('"1,2",3\n').code, "CSV_WIDTH_MISMATCH");
    assert.equal(decodeError('"1,2",3,4,5\n').code, "CSV_WIDTH_MISMATCH");
  });

  it("decodes the same records whatever byte the body is split at", () => {
    const body = bytes('1,2,3\n"4",5,6\r\n\n7,8,"9"');
    const expected = decodeBody(csvCodec, contextFor(single, "text/csv"), [body]);
    assert.equal(expected.length, 3);
    for (let at = 0; at <= body.length; at++) {
      assert.deepEqual(decodeBody(csvCodec, contextFor(single, "text/csv"), splitAt(body, at)), expected, `at ${at}`);
    }
  });

  it("reads signs, bare zeros and −0 alike whether the rows before were sparse or dense", () => {
    // Sparse rows switch the fast path's zero test on and dense rows switch it off again (it is
    // re-checked every 64th row): every value must come out the same either way.
    const random = seededRandom(11);
    const width = 6;
    const lines: string[] = [];
    for (let row = 0; row < 400; row++) {
      const sparse = Math.floor(row / 70) % 2 === 0;
      const fields = Array.from({ length: width }, () => {
        const pick = random();
        if (sparse && pick < 0.8) return "0";
        if (pick < 0.05) return "-0";
        if (pick < 0.1) return "0.0";
        const value = (random() - 0.5) * 10 ** Math.floor(random() * 6 - 2);
        return String(Number(value.toFixed(Math.floor(random() * 5))));
      });
      lines.push(fields.join(","));
    }
    const signature = signatureOf({ x: ["float32", width] });
    const records = decodeBody(csvCodec, contextFor(signature, "text/csv"), [bytes(`${lines.join("\n")}\n`)]);
    assert.equal(records.length, lines.length);
    records.forEach(([values], row) => {
      const expected = lines[row].split(",").map((field) => Math.fround(Number(field)));
      values.forEach((value, j) => {
        assert.ok(Object.is(value, expected[j]), `row ${row} field ${j}: ${value}`);
      });
    });
  });

  it("reads numbers of every length of integer and fraction part as the general path does", () => {
    // The fast path reads the first digits of each part by unrolled steps and the rest in a loop; a
    // quoted field always takes the general path, so each row is decoded both ways.
    const random = seededRandom(5);
    const digits = (count: number) => Array.from({ length: count }, () => Math.floor(random() * 10)).join("");
    const fields: string[] = [];
    for (let integerDigits = 0; integerDigits <= 17; integerDigits++) {
      for (let fractionDigits = -1; fractionDigits <= 32; fractionDigits++) {
        if (integerDigits === 0 && fractionDigits <= 0) continue;
        const sign = random() < 0.5 ? "-" : "";
        fields.push(`${sign}${digits(integerDigits)}${fractionDigits < 0 ? "" : `.${digits(fractionDigits)}`}`);
      }
    }
    // Past eight fraction digits the rest is read as a number of its own: rests of zeros, and rests that
    // start with zeros, whose length alone says where their digits go; with exponents too.
    for (let zeros = 0; zeros <= 30; zeros++) {
      for (const rest of ["", "1", "25", "9999999"]) {
        const field = `3.14159265${"0".repeat(zeros)}${rest}`;
        fields.push(field, `-${field}`, `${field}e-7`, `0.${"0".repeat(zeros)}${rest || "0"}e3`);
      }
    }
    const width = 4;
    while (fields.length % width !== 0) fields.push("7");
    const rows: string[][] = [];
    for (let at = 0; at < fields.length; at += width) rows.push(fields.slice(at, at + width));
    const signature = signatureOf({ x: ["float32", width] });
    const decode = (text: string) => decodeBody(csvCodec, contextFor(signature, "text/csv"), [bytes(text)]);
    const plain = decode(`${rows.map((row) => row.join(",")).join("\n")}\n`);
    const quoted = decode(`${rows.map((row) => row.map((field) => `"${field}"`).join(",")).join("\n")}\n`);
    assert.equal(plain.length, rows.length);
    plain.forEach(([values], row) => {
      values.forEach((value, j) => {
        const field = rows[row][j];
        assert.ok(Object.is(value, quoted[row][0][j]), `${field}: ${value}, quoted ${quoted[row][0][j]}`);
        // The float32 that Number() of the text rounds to: exactly up to 15 digits, by an estimate checked
        // against float32 rounding boundaries past that, else by the exact path.
        assert.ok(Object.is(value, Math.fround(Number(field))), `${field}: ${value}`);
      });
    });
  });

  it("reads float64 values printed in full (as pandas writes them) as Number() and a float32 store do, for one input or several", () => {
    // Past 15 digits the fast path estimates the value and keeps it only when no float32 rounding
    // boundary is near; values at or beside a boundary (halfway between two float32s) take the exact path.
    // Exponents too: Python writes 4.6348195085252013e-07, JavaScript 4.6348195085252013e-7.
    const random = seededRandom(17);
    const exponent = () => Math.floor(random() * 60 - 35);
    const spell = (kind: number): string => {
      if (kind === 0) return String((random() - 0.5) * 10 ** Math.floor(random() * 8 - 3));
      if (kind === 1) return ((random() - 0.5) * 100).toPrecision(16 + Math.floor(random() * 4));
      if (kind === 2) return String((random() - 0.5) * 10 ** exponent());
      if (kind === 3) {
        const text = ((random() - 0.5) * 10 ** exponent()).toExponential(Math.floor(random() * 19));
        // Python's spelling: a two-digit exponent; and E as often as e.
        return text.replace(/e([+-])(\d)$/, "e$10$2").replace("e", random() < 0.5 ? "e" : "E");
      }
      const magnitude = (random() + 0.01) * 10 ** Math.floor(random() * 6 - 2);
      const value = besideFloat32Halfway(magnitude, Math.floor(random() * 7) - 3);
      return kind === 4 ? String(value) : value.toPrecision(19);
    };
    const width = 6;
    // Rows of one kind each: one field the fast path leaves sends its whole row to the general path.
    const rows = Array.from({ length: 1500 }, (_, row) => Array.from({ length: width }, () => spell(row % 6)));
    const text = `${rows.map((row) => row.join(",")).join("\n")}\n`;
    // Several float inputs are read in the same pass and then split: of one type, or float32 beside float64.
    const signatures = [
      signatureOf({ x: ["float32", width] }),
      signatureOf({ x: ["float64", width] }),
      signatureOf({ a: ["float32", 2], b: ["float32", 4] }),
      signatureOf({ a: ["float32", 1], b: ["float64", 3], c: ["float32", 2] }),
    ];
    for (const signature of signatures) {
      const types = signature.inputs.flatMap((input) => Array<string>(input.width).fill(input.type));
      const records = decodeBody(csvCodec, contextFor(signature, "text/csv"), [bytes(text)]);
      assert.equal(records.length, rows.length);
      records.forEach((inputs, row) => {
        (inputs.flat() as number[]).forEach((value, j) => {
          const exact = Number(rows[row][j]);
          const expected = types[j] === "float32" ? Math.fround(exact) : exact;
          assert.ok(Object.is(value, expected), `${types.join()} ${rows[row][j]}: ${value}, expected ${expected}`);
        });
      });
    }
  });

  it("reads a record only up to its end, whatever byte follows it in the buffer", () => {
    // The CSV framer ends a record at a line feed; another framer (or a reused buffer) may leave a digit
    // or a dot right after it, which must not be read as more of the last number.
    const decoder = csvCodec.input?.createDecoder(contextFor(single, "text/csv"));
    assert.ok(decoder);
    const records: number[][] = [];
    const batcher = new Batcher(single, 8, (batch) => {
      for (let row = 0; row < batch.rows; row++)
        records.push(Array.from((batch.inputs[0] as Float32Array).subarray(3 * row, 3 * row + 3)));
    });
    const frame = new Frame();
    for (const [text, end] of [
      ["1.5,-2,0.25\n", 11],
      ["1.5,-2,0.2517", 11],
      ["1.5,-2,0.25.7", 11],
      ["1.5,-2,0.25", 11],
      ["9,1.5,-2,0.25", 13],
    ] as const) {
      const buffer = bytes(text);
      decoder.decode(frame.set(buffer, end - 11, end, 0, 1), batcher);
    }
    batcher.flush();
    assert.deepEqual(records, [
      [1.5, -2, 0.25],
      [1.5, -2, 0.25],
      [1.5, -2, 0.25],
      [1.5, -2, 0.25],
      [1.5, -2, 0.25],
    ]);
  });

  it("writes every value, so reused batch arrays are not zero-filled first; a failed record's row is", () => {
    const decoder = csvCodec.input?.createDecoder(contextFor(single, "text/csv"));
    assert.ok(decoder?.fillsEveryValue);
    const pool = new BatchBufferPool(single);
    pool.give([new Float32Array(4 * 3).fill(Number.NaN)]);
    const batches: InputBatch[] = [];
    const batcher = new Batcher(single, 4, (batch) => batches.push(batch), pool, false);
    const frame = new Frame();
    for (const line of ["1,2,3", "4,x,6", "7,8", '"9", 10 ,1e1']) {
      try {
        decoder.decode(frame.set(bytes(line), 0, line.length, 0, 1), batcher);
      } catch (error) {
        assert.ok(error instanceof RecordError);
        batcher.markLastRecordFailed(error);
      }
    }
    batcher.flush();
    assert.deepEqual(Array.from(batches[0].inputs[0] as Float32Array), [1, 2, 3, 0, 0, 0, 0, 0, 0, 9, 10, 10]);
  });

  it("feeds several inputs in model order, split by their widths", () => {
    const signature = signatureOf({ a: ["float32", 2], b: ["float32", 3] });
    const records = decodeBody(csvCodec, contextFor(signature, "text/csv"), [bytes("1,2,3,4,5\n")]);
    assert.deepEqual(records, [
      [
        [1, 2],
        [3, 4, 5],
      ],
    ]);
  });

  it("treats every line as data unless the header is declared present", () => {
    assert.throws(
      () => decodeBody(csvCodec, contextFor(single, "text/csv"), [bytes("a,b,c\n1,2,3\n")]),
      (error: unknown) => error instanceof RecordError && error.code === "CSV_FIELD_NOT_NUMERIC",
    );
    for (const context of [
      contextFor(single, "text/csv; header=present"),
      contextFor(single, "text/csv", { settings: { header: "present" } }),
    ]) {
      assert.deepEqual(decodeBody(csvCodec, context, [bytes("a,b,c\n1,2,3\n")]), [[[1, 2, 3]]]);
    }
  });

  it("refuses a row of the wrong width, naming both widths", () => {
    // Rows of bare zeros, read several a pass, must stop at the width too.
    for (const text of ["1,2\n", "1,2,3,4\n", '1,"2,3"\n', "0,0\n", "0,0,0,0\n", "0,0,0,0,0,0,0,0,0\n", "0,0,0,1\n"]) {
      const error = decodeError(text);
      assert.equal(error.code, "CSV_WIDTH_MISMATCH", text);
      assert.match(error.message, /the model takes 3/);
    }
  });

  it("says what a refused row most likely is, where its shape says so plainly", () => {
    const hints: [string, RegExp | undefined][] = [
      // A header line, as the body's first line only, and only of several names.
      ["a,b,c\n", /is not a number; a header line\? Every line is read as data: take it out of the file/],
      ['"age","income","score"\r\n1,2,3\n', /"age" is not a number; a header line\?/],
      ["1,2,3\na,b,c\n", undefined],
      ["a,2,3\n", undefined],
      // Another separator than commas, when it would make the model's width.
      ["1;2;3\n", /has 1 field\(s\); the model takes 3 \(x\[3\]\); its fields seem separated by semicolons/],
      ["1\t2\t3\n", /seem separated by tabs/],
      ["1|2|3\n", /seem separated by vertical bars/],
      ["1;2\n", undefined],
      // One field too many: a comma at the end, else a leading id or label column.
      ["1,2,3,\n", /has 4 field\(s\); the model takes 3 \(x\[3\]\); the row ends with a comma/],
      ["1,2,3,\r\n", /the row ends with a comma/],
      ['"row-17",1,2,3\n', /if the first field is an id or a label, .*InputFilter \$\[1:\]/],
      ["1,2\n", undefined],
      ["1,2,3,4,5\n", undefined],
    ];
    for (const [text, hint] of hints) {
      const { message } = decodeError(text);
      if (hint) assert.match(message, hint, text);
      else assert.doesNotMatch(message, /; (a header|its fields seem|the row ends|if the first)/, text);
    }
  });

  it("refuses non-numeric, empty and mis-quoted fields", () => {
    assert.equal(decodeError("1,abc,3\n").code, "CSV_FIELD_NOT_NUMERIC");
    assert.equal(decodeError("1,,3\n").code, "CSV_FIELD_NOT_NUMERIC");
    assert.equal(decodeError("1,2,\n").code, "CSV_FIELD_NOT_NUMERIC");
    assert.equal(decodeError('1,"2"x,3\n').code, "CSV_QUOTE_MISPLACED");
    assert.equal(decodeError('1,"a""b",3\n').code, "CSV_FIELD_NOT_NUMERIC");
    assert.equal(decodeError("1,0x10,3\n").code, "CSV_FIELD_NOT_NUMERIC");
    for (const exponent of ["1e", "1e+", "2e-", "2e5.5", "3e1e1", "4E--2"])
      assert.equal(decodeError(`1,${exponent},3\n`).code, "CSV_FIELD_NOT_NUMERIC", exponent);
  });

  it("quotes a refused field in its error as the UTF-8 text it is, cut before a character, never inside one", () => {
    assert.equal(decodeError("1,\u0661\u0662,3\n").message, 'field 1 "\u0661\u0662" is not a number');
    // 39 ASCII bytes, then a 2-byte character straddling the 40-byte cut: left out whole.
    const long = `${"x".repeat(39)}é${"y".repeat(10)}`;
    assert.equal(decodeError(`1,${long},3\n`).message, `field 1 "${"x".repeat(39)}…" is not a number`);
    const invalid = new Uint8Array([0x31, 0x2c, 0xff, 0x2c, 0x33, 0x0a]);
    try {
      decodeBody(csvCodec, contextFor(single, "text/csv"), [invalid]);
      assert.fail("expected the record to be refused");
    } catch (error) {
      assert.ok(error instanceof RecordError);
      assert.equal(error.message, 'field 1 "\ufffd" is not a number');
    }
  });

  it("refuses fractions for integer inputs", () => {
    const ints = signatureOf({ ids: ["int64", 2] });
    assert.deepEqual(decodeBody(csvCodec, contextFor(ints, "text/csv"), [bytes("3,4\n")]), [[[3, 4]]]);
    assert.equal(decodeError("3,4.5\n", contextFor(ints, "text/csv")).code, "CSV_FIELD_NOT_NUMERIC");
  });

  it("reads rows for float, integer and bool inputs together as each input's store does, whole numbers in range only where integers go", () => {
    const mixed = signatureOf({ x: ["float32", 2], ids: ["int64", 2], flag: ["bool", 1], small: ["int8", 1] });
    const context = contextFor(mixed, "text/csv");
    const rows = ["0.1,-2.5,3,-4,1,7", "1e-3,2.000000001,1e3,4.0,0,-128", '"0.5",2,3,4,1,9', "0,0,-0,0,0,127"];
    const records = decodeBody(csvCodec, context, [bytes(`${rows.join("\n")}\n`)]);
    const stores = [Math.fround, Math.fround, Number, Number, Number, Number];
    assert.deepEqual(
      records.map((inputs) => inputs.flat()),
      rows.map((row) => row.split(",").map((field, j) => stores[j](Number(field.replaceAll('"', ""))))),
    );
    // Fractions, and whole numbers the input's type cannot hold (an Int8Array would keep 300 as 44).
    for (const bad of [
      "0.1,0.2,3.5,4,1,7",
      "0.1,0.2,3,4,0.5,7",
      "0.1,0.2,3,4,1,1e-1",
      "0.1,0.2,3,4,1,300",
      "0.1,0.2,3,4,1,-129",
      "0.1,0.2,3,4,2,7",
      "0.1,0.2,3,1e19,1,7",
    ]) {
      assert.equal(decodeError(`${bad}\n`, context).code, "CSV_FIELD_NOT_NUMERIC", bad);
    }
  });
});

describe("CSV text", () => {
  it("writes float32 answers in their shortest form, a batch at once or around failed records", () => {
    const random = seededRandom(41);
    const width = 7;
    const rows = 3000; // 21 000 values: three runs of the printer, the last one short
    const values = new Float32Array(rows * width);
    const bits = new Uint32Array(values.buffer);
    for (let i = 0; i < values.length; i++) bits[i] = Math.floor(random() * 2 ** 32) >>> 0;
    values.set([0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45, 3.4028235e38]);
    const lines = Array.from({ length: rows }, (_, row) =>
      Array.from(values.subarray(row * width, (row + 1) * width), referenceFloat32Text).join(","),
    );
    const context = contextFor(single, "text/csv");
    const whole = outputBatch(values, rows, { width });
    assert.equal(new TextDecoder().decode(encodeAll(csvCodec, context, [whole])), `${lines.join("\n")}\n`);
    const failed = new Map([[1, new RecordError("CSV_FIELD_NOT_NUMERIC", "field 0 is not a number")]]);
    const withFailure = outputBatch(values, rows, { width }, failed);
    lines[1] = "ERROR";
    assert.equal(new TextDecoder().decode(encodeAll(csvCodec, context, [withFailure])), `${lines.join("\n")}\n`);
  });

  it("writes string outputs as fields, quoted only when they need it", () => {
    const batch = outputBatch(["plain", "a,b", 'say "hi"', " padded", "line\nbreak", "ünï"], 6, {
      width: 1,
      type: "string",
    });
    const written = new TextDecoder().decode(encodeAll(csvCodec, contextFor(single, "text/csv"), [batch]));
    assert.equal(written, 'plain\n"a,b"\n"say ""hi"""\n" padded"\n"line\nbreak"\nünï\n');
  });

  it("reads text fields for string inputs as written, quotes undone, and refuses invalid UTF-8", () => {
    const signature = signatureOf({ cat: ["string", 2], x: ["float32", 1] });
    const records = decodeBody(csvCodec, contextFor(signature, "text/csv"), [bytes(' a ,"b ""c"", d",1\n,"",2\n')]);
    assert.deepEqual(records, [
      [[" a ", 'b "c", d'], [1]],
      [["", ""], [2]],
    ]);
    // A model of strings only is read field by field: the same bytes quoted, unquoted and doubled.
    const texts = signatureOf({ a: ["string", 1], b: ["string", 1], c: ["string", 1] });
    const repeated = 'red,"red",red\n"re""d",re""d,redd\nred,"",re\n';
    assert.deepEqual(decodeBody(csvCodec, contextFor(texts, "text/csv"), [bytes(repeated.repeat(3))]), [
      ...Array.from({ length: 3 }, () => [
        [["red"], ["red"], ["red"]],
        [['re"d'], ['re""d'], ["redd"]],
        [["red"], [""], ["re"]],
      ]).flat(),
    ]);
    const invalid = Uint8Array.from([0x22, 0xff, 0x22, 0x2c, 0x61, 0x2c, 0x31, 0x0a]);
    assert.throws(
      () => decodeBody(csvCodec, contextFor(signature, "text/csv"), [invalid]),
      (error: unknown) => error instanceof RecordError && error.code === "INVALID_UTF8",
    );
  });

  it("reads an empty field as NaN only for inputs that accept missing values", () => {
    const lenient = signatureOf({ x: ["float32", 3, { acceptsMissing: true }] });
    const [[values]] = decodeBody(csvCodec, contextFor(lenient, "text/csv"), [bytes('1,,""\n')]);
    assert.deepEqual(values, [1, Number.NaN, Number.NaN]);
    assert.match(decodeError("1,,3\n").message, /field 1 is empty, and "x" takes no missing values/);
  });

  it("reads rows with empty fields anywhere as NaN there (as XGBoost's data has them), whatever the split", () => {
    const lenient = signatureOf({ x: ["float32", 5, { acceptsMissing: true }] });
    const random = seededRandom(47);
    const rows = Array.from({ length: 300 }, () =>
      Array.from({ length: 5 }, () =>
        random() < 0.3 ? pick(random, ["", " "]) : String(Math.round(random() * 1e4) / 100),
      ),
    );
    const body = bytes(rows.map((row) => `${row.join(",")}\n`).join(""));
    const expected = rows.map((row) => [
      row.map((field) => (field.trim() === "" ? Number.NaN : Math.fround(Number(field)))),
    ]);
    for (let at = 0; at <= body.length; at += 89) {
      assert.deepEqual(decodeBody(csvCodec, contextFor(lenient, "text/csv"), splitAt(body, at)), expected, `at ${at}`);
    }
  });
});

const pick = <T>(random: () => number, items: readonly T[]) => items[Math.floor(random() * items.length)];

describe("CSV rows for models of string and numeric inputs", () => {
  const takesMissing = { acceptsMissing: true } as const;
  // String inputs first, between numeric runs, last, and one input per column (as skl2onnx converts a
  // pipeline over a DataFrame).
  const signatures = [
    signatureOf({ cat: ["string", 1], x: ["float32", 4, takesMissing] }),
    signatureOf({ x: ["float32", 2, takesMissing], cat: ["string", 2], y: ["float64", 1, takesMissing] }),
    signatureOf({ x: ["float32", 3, takesMissing], cat: ["string", 1] }),
    signatureOf({
      a: ["float32", 1, takesMissing],
      b: ["string", 1],
      c: ["float32", 1, takesMissing],
      d: ["string", 1],
    }),
  ];
  const texts = ["red", "ünï", "", " padded ", "1.5", "a,b", 'say "hi"', "x\ny", "-"];
  const csvText = (random: () => number, text: string) =>
    /[",\n]/.test(text) || random() < 0.3 ? `"${text.replaceAll('"', '""')}"` : text;

  it("reads every field as the general path does, whatever the split", () => {
    const random = seededRandom(53);
    for (const signature of signatures) {
      const expected: (number[] | string[])[][] = [];
      const lines: string[] = [];
      for (let row = 0; row < 200; row++) {
        const record: (number[] | string[])[] = [];
        const fields: string[] = [];
        for (const input of signature.inputs) {
          if (input.type === "string") {
            const values = Array.from({ length: input.width }, () => pick(random, texts));
            record.push(values);
            fields.push(...values.map((text) => csvText(random, text)));
            continue;
          }
          const values = Array.from({ length: input.width }, () =>
            random() < 0.2 ? Number.NaN : Math.round((random() - 0.5) * 1e5) / 100,
          );
          record.push(values.map((value) => (input.type === "float32" ? Math.fround(value) : value)));
          fields.push(
            ...values.map((value) => (Number.isNaN(value) ? "" : random() < 0.3 ? `"${value}"` : String(value))),
          );
        }
        expected.push(record);
        lines.push(fields.join(","));
      }
      const body = bytes(`${lines.join("\n")}\n`);
      const context = contextFor(signature, "text/csv");
      for (let at = 0; at <= body.length; at += 97) {
        assert.deepEqual(decodeBody(csvCodec, context, splitAt(body, at)), expected, `at ${at}`);
      }
    }
  });

  it("refuses rows of the wrong width and invalid UTF-8, naming them", () => {
    const [, middle] = signatures;
    const context = contextFor(middle, "text/csv");
    for (const row of ["1,2,a,b", "1,2,a,b,3,4", "1,2", "1,2,a", "1,2,a,b,3,", '1,2,"a",b,3,"c"']) {
      assert.equal(decodeError(`${row}\n`, context).code, "CSV_WIDTH_MISMATCH", row);
    }
    assert.equal(decodeError("1,x,a,b,3\n", context).code, "CSV_FIELD_NOT_NUMERIC");
    const invalid = Uint8Array.from([0x31, 0x2c, 0x32, 0x2c, 0xff, 0x2c, 0x61, 0x2c, 0x33, 0x0a]);
    assert.throws(
      () => decodeBody(csvCodec, context, [invalid]),
      (error: unknown) => error instanceof RecordError && error.code === "INVALID_UTF8",
    );
    assert.deepEqual(decodeBody(csvCodec, context, [bytes("1,2,a,b,3\n")]), [[[1, 2], ["a", "b"], [3]]]);
  });
});
