/**
 * Realistic benchmark bodies: MNIST-sized records (784 pixel values in [0, 1], most of them 0, as in the
 * SageMaker SDK's own test data) in every input format.
 */
import { seededRandom } from "../src/testing/seeded-random.js";
import { amazonRecord, concat, recordIOFrame, tfExample, tfRecordFrame } from "../test/support/binary-writers.js";

export const WIDTH = 784;

/** `rows` MNIST-like rows: ~80% zeros, the rest quantised to 1/256 like scanned pixels. */
export function mnistRows(rows: number, seed = 7): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: rows }, () =>
    Array.from({ length: WIDTH }, () => (random() < 0.8 ? 0 : Math.floor(random() * 256) / 256)),
  );
}

/**
 * `rows` rows shaped like real digit images: the non-zero pixels (~20%, as in {@link mnistRows}) lie in a
 * 12 × 17 box at the middle of the 28 × 28 image, so the zeros come in runs, as a scan's background does,
 * rather than scattered one by one.
 */
export function mnistImageRows(rows: number, seed = 7): number[][] {
  const random = seededRandom(seed);
  const inDigit = (pixel: number) => {
    const y = Math.floor(pixel / 28);
    const x = pixel % 28;
    return y >= 6 && y < 23 && x >= 8 && x < 20;
  };
  return Array.from({ length: rows }, () =>
    Array.from({ length: WIDTH }, (_, pixel) =>
      inDigit(pixel) && random() < 0.75 ? (1 + Math.floor(random() * 255)) / 256 : 0,
    ),
  );
}

const encoder = new TextEncoder();

/** `rows` as CSV lines. */
export function csvBlock(rows: number[][]): Uint8Array {
  return encoder.encode(rows.map((row) => `${row.join(",")}\n`).join(""));
}

/** One block of each format holding `rows`; a benchmark repeats the block to reach its size. */
export function blocks(rows: number[][]): Record<string, Uint8Array> {
  return {
    "text/csv": csvBlock(rows),
    "application/json": encoder.encode(JSON.stringify({ instances: rows })),
    "application/jsonlines": encoder.encode(rows.map((row) => `${JSON.stringify(row)}\n`).join("")),
    "application/x-recordio-protobuf": concat(
      rows.map((row) => recordIOFrame(amazonRecord({ values: { type: "float32", values: row } }))),
    ),
    "application/x-tfrecord": concat(rows.map((row) => tfRecordFrame(tfExample({ values: { float: row } })))),
  };
}

/** The shortest decimal that reads back as the float32 nearest `value`. */
function shortestFloat32(value: number): string {
  const single = Math.fround(value);
  for (let precision = 1; precision < 9; precision++) {
    const text = String(Number(single.toPrecision(precision)));
    if (Math.fround(Number(text)) === single) return text;
  }
  return String(Number(single.toPrecision(9)));
}

/** How a text body's numbers may be printed. */
export const NUMBER_FORMS: readonly { name: string; print: (value: number) => string }[] = [
  { name: "2 decimals", print: (value) => value.toFixed(2) },
  { name: "6 decimals (`%.6f`)", print: (value) => value.toFixed(6) },
  { name: "float32, shortest (NumPy float32)", print: shortestFloat32 },
  { name: "float64 in full (pandas, Python `repr`)", print: (value) => String(value) },
  {
    name: "float64 in full, small (Python `repr` of x·10⁻⁵)",
    print: (value) => (value * 1e-5).toExponential().replace(/e([+-])(\d)$/, "e$10$2"),
  },
  {
    name: "NumPy `savetxt`'s default (`%.18e`)",
    print: (value) => value.toExponential(18).replace(/e([+-])(\d)$/, "e$10$2"),
  },
];

/**
 * `rows` records of a sequence model: 128 token ids (up to 30 522, BERT's vocabulary, the tail padded
 * with 0) and their 128-value attention mask. JSON Lines as Python's `json.dumps` writes
 * `{"input_ids": [...], "attention_mask": [...]}`; CSV as the ids, then the mask.
 */
export function tokenIdRows(rows: number, format: "text/csv" | "application/jsonlines", seed = 13): Uint8Array {
  const random = seededRandom(seed);
  const lines = Array.from({ length: rows }, () => {
    const length = 16 + Math.floor(random() * 112);
    const ids = Array.from({ length: 128 }, (_, k) => (k < length ? 1 + Math.floor(random() * 30_521) : 0));
    const mask = ids.map((id) => (id === 0 ? 0 : 1));
    return format === "text/csv"
      ? `${[...ids, ...mask].join(",")}\n`
      : `{"input_ids": [${ids.join(", ")}], "attention_mask": [${mask.join(", ")}]}\n`;
  });
  return encoder.encode(lines.join(""));
}

/**
 * CSV rows as SageMaker's JSON Lines form, one `{"features": [...]}` a line, the values joined by
 * `separator` (`", "` as Python's `json.dumps` writes them, with `": "` after the key).
 */
export function featuresLines(csvRows: Uint8Array, separator = ","): Uint8Array {
  const colon = separator === "," ? ":" : ": ";
  const lines = new TextDecoder().decode(csvRows).trimEnd().split("\n");
  return encoder.encode(lines.map((line) => `{"features"${colon}[${line.split(",").join(separator)}]}\n`).join(""));
}

/** CSV rows with their first field replaced by one of `categories` in turn (a string column). */
export function categoryRows(csvRows: Uint8Array, categories: readonly string[]): Uint8Array {
  const lines = new TextDecoder().decode(csvRows).trimEnd().split("\n");
  return encoder.encode(
    lines.map((line, i) => `${categories[i % categories.length]}${line.slice(line.indexOf(","))}\n`).join(""),
  );
}

/**
 * {@link categoryRows} as JSON Lines: arrays (`["red", 0.43, …]`), or objects of one value per column
 * (`{"colour": "red", "x0": 0.43, …}`, as pandas' `to_json(orient="records", lines=True)` writes them).
 */
export function categoryJsonLines(categoryCsvRows: Uint8Array, form: "array" | "columns"): Uint8Array {
  const lines = new TextDecoder().decode(categoryCsvRows).trimEnd().split("\n");
  return encoder.encode(
    lines
      .map((line) => {
        const [category, ...numbers] = line.split(",");
        return form === "array"
          ? `["${category}", ${numbers.join(", ")}]\n`
          : `{"colour": "${category}", ${numbers.map((value, i) => `"x${i}": ${value}`).join(", ")}}\n`;
      })
      .join(""),
  );
}

/**
 * `rows` rows of 32 features printed by `print`, as CSV lines or JSON Lines arrays. The values have all 53
 * bits of a double, as computed data has (one 32-bit draw would leave many exactly halfway between two
 * float32s).
 */
export function numberRows(
  rows: number,
  print: (value: number) => string,
  format: "text/csv" | "application/jsonlines",
  seed = 11,
): Uint8Array {
  const random = seededRandom(seed);
  const value = () => (random() + random() * 2 ** -32 - 0.5) * 4;
  const line = () => Array.from({ length: 32 }, () => print(value())).join(",");
  const [open, close] = format === "text/csv" ? ["", ""] : ["[", "]"];
  return encoder.encode(Array.from({ length: rows }, () => `${open}${line()}${close}\n`).join(""));
}
