/**
 * `npm run model:archive`: packs the bundled default model as SageMaker expects a model artifact —
 * `model.tar.gz` with `model.onnx` and an example `sluice.json` at its root — into `dist/model.tar.gz`.
 * Upload it to S3 and name it as the model's `ModelDataUrl`.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BUNDLED_MODEL_DIR } from "../src/model/model-location.js";
import { tarGz } from "./tar-gz.js";

/** The example configuration: every key of `sluice.json`, with values that suit the default model. */
export const EXAMPLE_MODEL_CONFIG = {
  model: "model.onnx",
  inputs: { pixels: "features" },
  batchRows: 256,
  accept: "text/csv",
};

/** Builds the archive's bytes. */
export function defaultModelArchive(): Uint8Array {
  return tarGz({
    "model.onnx": readFileSync(`${BUNDLED_MODEL_DIR}/model.onnx`),
    "sluice.json": Buffer.from(`${JSON.stringify(EXAMPLE_MODEL_CONFIG, null, 2)}\n`),
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = new URL("../model.tar.gz", import.meta.url);
  mkdirSync(new URL(".", out), { recursive: true });
  writeFileSync(out, defaultModelArchive());
  console.log(`wrote ${fileURLToPath(out)}`);
}
