/**
 * The npy codec: bodies written here byte by byte (an independent writer, every dtype NumPy writes for
 * numbers, both byte orders, C and Fortran order, format versions 1–3) through Sluice's conformance kit,
 * and a real server answering `.npy` with values equal to ONNX Runtime's.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";
import {
  type CodecTestServer,
  checkDecoderConformance,
  contextFor,
  decodeBody,
  mlpClassifier,
  modelDirectory,
  runOnnxRuntime,
  signatureOf,
  startCodecTestServer,
} from "sluice/testing";
import npy from "../src/index.js";

const PLUGIN = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));

type Dtype = { code: string; size: number; write: (view: DataView, at: number, value: number, le: boolean) => void };
const DTYPES: Dtype[] = [
  { code: "f8", size: 8, write: (v, at, x, le) => v.setFloat64(at, x, le) },
  { code: "f4", size: 4, write: (v, at, x, le) => v.setFloat32(at, x, le) },
  { code: "i8", size: 8, write: (v, at, x, le) => v.setBigInt64(at, BigInt(Math.round(x)), le) },
  { code: "i4", size: 4, write: (v, at, x, le) => v.setInt32(at, Math.round(x), le) },
  { code: "i2", size: 2, write: (v, at, x, le) => v.setInt16(at, Math.round(x), le) },
  { code: "i1", size: 1, write: (v, at, x) => v.setInt8(at, Math.round(x)) },
  { code: "u8", size: 8, write: (v, at, x, le) => v.setBigUint64(at, BigInt(Math.round(Math.abs(x))), le) },
  { code: "u4", size: 4, write: (v, at, x, le) => v.setUint32(at, Math.round(Math.abs(x)), le) },
  { code: "u2", size: 2, write: (v, at, x, le) => v.setUint16(at, Math.round(Math.abs(x)), le) },
  { code: "u1", size: 1, write: (v, at, x) => v.setUint8(at, Math.round(Math.abs(x))) },
  { code: "b1", size: 1, write: (v, at, x) => v.setUint8(at, x ? 1 : 0) },
];

/** A .npy file of `rows` (C or Fortran order), written the way NumPy writes one. */
function npyFile(
  rows: number[][],
  dtype: Dtype,
  options: { bigEndian?: boolean; fortran?: boolean; version?: 1 | 2 | 3 } = {},
) {
  const version = options.version ?? 1;
  const order = dtype.size === 1 ? "|" : options.bigEndian ? ">" : "<";
  const shape = `(${rows.length}, ${rows[0].length})`;
  let header = `{'descr': '${order}${dtype.code}', 'fortran_order': ${options.fortran ? "True" : "False"}, 'shape': ${shape}, }`;
  const preamble = version === 1 ? 10 : 12;
  header += `${" ".repeat(64 - ((preamble + header.length + 1) % 64 || 64))}\n`;
  const count = rows.length * rows[0].length;
  const bytes = new Uint8Array(preamble + header.length + count * dtype.size);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(bytes.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), preamble);
  let k = 0;
  const cols = rows[0].length;
  for (let i = 0; i < count; i++) {
    const [r, c] = options.fortran ? [i % rows.length, Math.floor(i / rows.length)] : [Math.floor(i / cols), i % cols];
    dtype.write(view, preamble + header.length + k * dtype.size, rows[r][c], !options.bigEndian);
    k++;
  }
  return bytes;
}

const rows = [
  [1, 2, 3, 4],
  [5, -6, 7, 8],
  [0, 9, 10, -11],
];

describe("the npy codec", () => {
  const context = contextFor(signatureOf({ features: ["float32", 4] }), "application/x-npy");

  it("reads every numeric dtype in either byte order, C and Fortran order, versions 1 to 3", () => {
    for (const dtype of DTYPES) {
      for (const bigEndian of [false, true]) {
        for (const fortran of [false, true]) {
          for (const version of [1, 2, 3] as const) {
            const body = npyFile(rows, dtype, { bigEndian, fortran, version });
            const expected = rows.map((row) => [
              row.map((x) => (dtype.code === "b1" ? (x ? 1 : 0) : dtype.code.startsWith("u") ? Math.abs(x) : x)),
            ]);
            assert.deepEqual(
              decodeBody(npy, context, [body]),
              expected,
              `${dtype.code} ${bigEndian} ${fortran} v${version}`,
            );
          }
        }
      }
    }
  });

  it("refuses a value an integer input cannot hold, rather than store it wrapped around", () => {
    const integers = contextFor(signatureOf({ features: ["int8", 4] }), "application/x-npy");
    const i4 = DTYPES.find((dtype) => dtype.code === "i4") as Dtype;
    assert.deepEqual(decodeBody(npy, integers, [npyFile([[1, -128, 127, 0]], i4)]), [[[1, -128, 127, 0]]]);
    assert.throws(
      () => decodeBody(npy, integers, [npyFile([[1, 300, 0, 0]], i4)]),
      (error: Error & { code?: string }) =>
        error.code === "NPY_VALUE_OUT_OF_RANGE" && /value 1 \(300\) is not an int8 \(-128 to 127\)/.test(error.message),
    );
  });

  it("passes Sluice's conformance suite (every cut, one byte at a time, refusals, mutations)", () => {
    checkDecoderConformance(npy, {
      context,
      body: npyFile(rows, DTYPES[1]),
      expected: rows.map((row) => [row]),
      refused: [npyFile([[1, 2, 3]], DTYPES[1]), npyFile(rows, DTYPES[1]).subarray(0, 100)],
    });
  });

  describe("served", () => {
    let server: CodecTestServer;
    const dir = modelDirectory(mlpClassifier({ inputWidth: 4, hidden: 8, classes: 3, seed: 7 }));
    before(async () => {
      server = await startCodecTestServer(dir, { plugins: [PLUGIN] });
    });
    after(() => server.close());

    it("answers one .npy whose values equal ONNX Runtime's", async () => {
      const response = await server.invoke(npyFile(rows, DTYPES[0]), { "content-type": "application/x-npy" });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/x-npy");
      const answer = new Uint8Array(await response.arrayBuffer());
      const headerLength = new DataView(answer.buffer).getUint16(8, true);
      const header = new TextDecoder().decode(answer.subarray(10, 10 + headerLength));
      assert.match(header, /'descr': '<f4'.*'shape': \(3, 3\)/);
      const values = new Float32Array(answer.slice(10 + headerLength).buffer);
      const expected = await runOnnxRuntime(path.join(dir, "model.onnx"), {
        features: new ort.Tensor("float32", Float32Array.from(rows.flat()), [3, 4]),
      });
      assert.deepEqual(Array.from(values), Array.from(expected.probabilities as Float32Array));
    });

    it("refuses an array of the wrong width with a 400 naming both widths", async () => {
      const response = await server.invoke(npyFile([[1, 2, 3]], DTYPES[1]), { "content-type": "application/x-npy" });
      assert.equal(response.status, 400);
      assert.match(((await response.json()) as { error: string }).error, /3 value\(s\).*takes 4/);
    });
  });
});
