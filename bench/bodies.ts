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

const encoder = new TextEncoder();

/** One block of each format holding `rows`; a benchmark repeats the block to reach its size. */
export function blocks(rows: number[][]): Record<string, Uint8Array> {
  return {
    "text/csv": encoder.encode(rows.map((row) => `${row.join(",")}\n`).join("")),
    "application/json": encoder.encode(JSON.stringify({ instances: rows })),
    "application/jsonlines": encoder.encode(rows.map((row) => `${JSON.stringify(row)}\n`).join("")),
    "application/x-recordio-protobuf": concat(
      rows.map((row) => recordIOFrame(amazonRecord({ values: { type: "float32", values: row } }))),
    ),
    "application/x-tfrecord": concat(rows.map((row) => tfRecordFrame(tfExample({ values: { float: row } })))),
  };
}
