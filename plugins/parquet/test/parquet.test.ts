/**
 * The Parquet codec: files written by hyparquet-writer (an independent writer), served by a real Sluice,
 * answers compared with ONNX Runtime; columns by name and by order, nulls as NaN, bad files refused.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parquetWriteBuffer } from "hyparquet-writer";
import ort from "onnxruntime-node";
import {
  type CodecTestServer,
  mlpClassifier,
  modelDirectory,
  runOnnxRuntime,
  startCodecTestServer,
  writeModel,
} from "sluice/testing";

const PLUGIN = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const ROWS = [
  [0.5, 1, 2, 3],
  [4, -5, 6, 7],
  [8, 9, -10, 0.25],
];

function parquetFile(columns: Record<string, (number | null)[]>): Uint8Array {
  const columnData = Object.entries(columns).map(([name, data]) => ({ name, data, type: "DOUBLE" as const }));
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

describe("the parquet codec", () => {
  let server: CodecTestServer;
  const dir = modelDirectory(mlpClassifier({ inputWidth: 4, hidden: 8, classes: 3, seed: 7 }));
  before(async () => {
    server = await startCodecTestServer(dir, { plugins: [PLUGIN] });
  });
  after(() => server.close());

  const reference = async (rows: number[][]) =>
    Array.from(
      (
        await runOnnxRuntime(path.join(dir, "model.onnx"), {
          features: new ort.Tensor("float32", Float32Array.from(rows.flat()), [rows.length, 4]),
        })
      ).probabilities as Float32Array,
    );
  const answer = async (body: Uint8Array) => {
    const response = await server.invoke(body, {
      "content-type": "application/x-parquet",
      accept: "application/jsonlines",
    });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.text())
      .trim()
      .split("\n")
      .flatMap((line) => (JSON.parse(line) as number[]).map((v) => Math.fround(v)));
  };

  it("feeds numeric columns to a one-input model in column order, one record per row", async () => {
    const body = parquetFile({
      a: ROWS.map((r) => r[0]),
      b: ROWS.map((r) => r[1]),
      c: ROWS.map((r) => r[2]),
      d: ROWS.map((r) => r[3]),
    });
    assert.deepEqual(await answer(body), await reference(ROWS));
  });

  it("reads nulls as NaN (missing values), which reach the model", async () => {
    const body = parquetFile({ a: [null], b: [1], c: [2], d: [3] });
    const response = await server.invoke(body, {
      "content-type": "application/x-parquet",
      accept: "application/jsonlines",
    });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse((await response.text()).trim()), [null, null, null]);
  });

  it("refuses a value an integer input cannot hold (or a null there), rather than store it wrapped around", async () => {
    const castToFloat = writeModel({
      name: "int8_in",
      inputs: [{ name: "ids", type: "int8", shape: ["N", 2] }],
      outputs: [{ name: "read", type: "float32", shape: ["N", 2] }],
      nodes: [{ op: "Cast", inputs: ["ids"], outputs: ["read"], attributes: { to: 1 } }],
      opset: 13,
    });
    const integers = await startCodecTestServer(modelDirectory(castToFloat), { plugins: [PLUGIN] });
    try {
      const read = await integers.invoke(parquetFile({ a: [-128], b: [127] }), {
        "content-type": "application/x-parquet",
        accept: "text/csv",
      });
      assert.equal(await read.text(), "-128,127\n");
      const cases: [Record<string, (number | null)[]>, string][] = [
        [{ a: [300], b: [0] }, "PARQUET_VALUE_OUT_OF_RANGE"],
        [{ a: [null], b: [0] }, "PARQUET_VALUE_MISSING"],
      ];
      for (const [columns, code] of cases) {
        const refused = await integers.invoke(parquetFile(columns), { "content-type": "application/x-parquet" });
        assert.equal(refused.status, 400);
        const answer = (await refused.json()) as { code: string; error: string };
        assert.equal(answer.code, code);
        assert.match(answer.error, /is not an int8 \(-128 to 127\), as "ids" takes/);
      }
    } finally {
      await integers.close();
    }
  });

  it("refuses a body that is not Parquet, and a file of the wrong width, with a 400", async () => {
    const garbage = await server.invoke(new TextEncoder().encode("not parquet at all"), {
      "content-type": "application/x-parquet",
    });
    assert.equal(garbage.status, 400);
    assert.equal(((await garbage.json()) as { code: string }).code, "PARQUET_INVALID");
    const narrow = await server.invoke(parquetFile({ a: [1], b: [2] }), { "content-type": "application/x-parquet" });
    assert.equal(narrow.status, 400);
    assert.equal(((await narrow.json()) as { code: string }).code, "PARQUET_WIDTH_MISMATCH");
  });
});
