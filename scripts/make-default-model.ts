/**
 * Regenerates `models/default/model.onnx`, the model `npm start` serves when no model directory is given:
 * a fixed-weight MLP over 784 features (one 28×28 MNIST image per row, as in the SageMaker SDK's test
 * data) with 10 softmax outputs. Run with `npm run model:default`.
 */
import { writeFileSync } from "node:fs";
import { mlpClassifier } from "../src/testing/onnx-model-writer.js";

const target = new URL("../../models/default/model.onnx", import.meta.url);
const model = mlpClassifier({ inputWidth: 784, hidden: 32, classes: 10, seed: 20261125 });
writeFileSync(target, model);
console.log(`wrote ${model.byteLength} bytes to ${target.pathname}`);
