/**
 * The side-by-side workloads: the tabular one the issue tracker measures (50 000 rows × 32 features per
 * CSV body, ~8.6 MB, a 32→64→4 MLP), the same rows as pandas writes float64 values, MNIST (784
 * features, the bundled model) and one tabular row per body.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { BUNDLED_MODEL_DIR } from "../src/model/model-location.js";
import { temporaryDirectory } from "../src/temporary-directory.js";
import { mlpClassifier, wideMlp } from "../src/testing/onnx-model-writer.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import { blocks, mnistRows } from "./bodies.js";

/** A model directory and one CSV body for it. */
export interface Workload {
  readonly name: string;
  /** A short name for file names (charts). */
  readonly slug: string;
  readonly modelDir: string;
  readonly body: Uint8Array;
  readonly records: number;
}

/** Two decimals, as a feature store often exports features. */
const twoDecimals = (value: number) => String(Number(value.toFixed(2)));

/** Standard-normal features, printed with two decimals unless `print` says otherwise. */
function tabularCsv(rows: number, width: number, seed: number, print = twoDecimals): Uint8Array {
  const random = seededRandom(seed);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const fields: string[] = [];
    for (let j = 0; j < width; j++) {
      const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      fields.push(print(normal));
    }
    lines.push(fields.join(","));
  }
  return new TextEncoder().encode(`${lines.join("\n")}\n`);
}

/** A 32→64→4 MLP written to a temporary model directory. */
function tabularModelDirectory(): string {
  const modelDir = temporaryDirectory("sluice-bench-mlp32");
  writeFileSync(path.join(modelDir, "model.onnx"), mlpClassifier({ inputWidth: 32, hidden: 64, classes: 4, seed: 3 }));
  return modelDir;
}

/** 50 000 rows × 32 features for a 32→64→4 MLP. */
export function tabularWorkload(): Workload {
  const records = 50_000;
  return {
    name: "tabular: 32 features → 4 classes",
    slug: "tabular",
    modelDir: tabularModelDirectory(),
    body: tabularCsv(records, 32, 5),
    records,
  };
}

/**
 * The tabular workload with every feature a float64 printed in full (`-0.6104540824890137`), as pandas'
 * `to_csv` and Python's `repr` write them: 3.5 times the bytes, and 16–17 digits a number.
 */
export function fullPrecisionWorkload(): Workload {
  const records = 50_000;
  return {
    name: "tabular, float64 printed in full (pandas): 32 features → 4 classes",
    slug: "tabular-full-precision",
    modelDir: tabularModelDirectory(),
    body: tabularCsv(records, 32, 5, String),
    records,
  };
}

/**
 * The tabular model, one row per body: what the platform sends with `BatchStrategy=SingleRecord`, where
 * what each request costs around its record is all that counts.
 */
export function singleRecordWorkload(): Workload {
  return {
    name: "one record per body (SingleRecord): 32 features → 4 classes",
    slug: "single-record",
    modelDir: tabularModelDirectory(),
    body: tabularCsv(1, 32, 5),
    records: 1,
  };
}

/** 2 000 MNIST-like rows (784 features, ~5.4 MB of CSV) for the bundled 784→32→10 MLP. */
export function mnistWorkload(): Workload {
  const records = 2000;
  return {
    name: "MNIST: 784 features → 10 classes",
    slug: "mnist",
    modelDir: BUNDLED_MODEL_DIR,
    body: blocks(mnistRows(records))["text/csv"],
    records,
  };
}

/**
 * The tabular rows for a deep, narrow model (40 layers of 32): a record costs it more than the codec's
 * work on it, and timed batches give it one intra-op thread, so it runs as several sessions side by side.
 */
export function deepNarrowWorkload(): Workload {
  const modelDir = temporaryDirectory("sluice-bench-deep");
  writeFileSync(path.join(modelDir, "model.onnx"), wideMlp({ width: 32, layers: 40, classes: 4, seed: 3 }));
  const records = 50_000;
  return {
    name: "deep, narrow: 32 features → 40 layers of 32 → 4 classes",
    slug: "deep-narrow",
    modelDir,
    body: tabularCsv(records, 32, 5),
    records,
  };
}

/** A compute-bound model (8 layers of 2048, 128 MiB of weights) and 256 rows for it. */
export function computeBoundWorkload(layers = 8): Workload {
  const modelDir = temporaryDirectory("sluice-bench-wide");
  writeFileSync(path.join(modelDir, "model.onnx"), wideMlp({ width: 2048, layers, classes: 10, seed: 11 }));
  const records = 256;
  return {
    name: `compute-bound: ${layers} layers of 2048 (${layers * 16} MiB of weights)`,
    slug: "compute-bound",
    modelDir,
    body: tabularCsv(records, 2048, 13),
    records,
  };
}
