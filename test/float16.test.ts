/**
 * Models with float16 inputs and outputs. The conversions are checked bit for bit against ONNX Runtime's
 * own `Cast` (every half widened; halves' values, the midpoints between them and a million random
 * float32s narrowed), then a float16 model is served end to end, on the CPU and (where Dawn finds an
 * adapter, Mesa's software one included) the WebGPU backend.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import ort from "onnxruntime-node";
import { fromFloat16Bits, toFloat16Bits } from "../src/backends/float16.js";
import { probeWebGpuAdapter } from "../src/backends/webgpu-adapter.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import { readAmazonRecord, readRecordIOFrames } from "./support/binary-writers.js";
import { castModel, halfPrecisionModel, modelDir } from "./support/models.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

async function cast(from: "float32" | "float16", input: Float32Array | Uint16Array): Promise<ort.Tensor["data"]> {
  const session = await ort.InferenceSession.create(castModel(from));
  try {
    const { y } = await session.run({ x: new ort.Tensor(from, input, [input.length]) });
    return y.data;
  } finally {
    await session.release();
  }
}

const probe = await probeWebGpuAdapter();
const noAdapter = probe.available ? false : `no WebGPU adapter here: ${probe.reason}`;

/** Float32s given by their bits. */
const singles = (bits: readonly number[]) => new Float32Array(Uint32Array.from(bits).buffer);

describe("float16", () => {
  it("widens every half as ONNX Runtime's Cast does", async () => {
    const every = Uint16Array.from({ length: 0x10000 }, (_, bits) => bits);
    const theirs = (await cast("float16", every)) as Float32Array;
    const ours = fromFloat16Bits(every);
    for (let bits = 0; bits < 0x10000; bits++) {
      if (Number.isNaN(theirs[bits])) assert.ok(Number.isNaN(ours[bits]), `half 0x${bits.toString(16)}`);
      else
        assert.ok(Object.is(ours[bits], theirs[bits]), `half 0x${bits.toString(16)}: ${ours[bits]} ≠ ${theirs[bits]}`);
    }
  });

  it("narrows float32s to the nearest half, ties to even, as ONNX Runtime's Cast does", async () => {
    const finite = fromFloat16Bits(Uint16Array.from({ length: 0x7c00 }, (_, bits) => bits));
    const values: number[] = [];
    for (let i = 0; i < finite.length; i++) {
      values.push(finite[i], -finite[i]);
      // The midpoint to the next half: a tie (exact in float32), and below the float32s either side of it.
      if (i + 1 < finite.length) values.push((finite[i] + finite[i + 1]) / 2, -(finite[i] + finite[i + 1]) / 2);
    }
    const middles = new Float32Array(values);
    const neighbours = singles([...new Uint32Array(middles.buffer)].flatMap((bits) => [bits - 1, bits + 1]));
    const random = seededRandom(16);
    const randomSingles = singles(Array.from({ length: 1_000_000 }, () => Math.floor(random() * 2 ** 32)));
    const edges = new Float32Array([
      0,
      -0,
      65504,
      65519.99,
      65520,
      -65520,
      1e6,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      2 ** -24,
      2 ** -25,
      1.5 * 2 ** -25,
      2 ** -26,
      2 ** -14,
      2 ** -14 - 2 ** -25,
    ]);
    for (const input of [middles, neighbours, randomSingles, edges]) {
      const theirs = (await cast("float32", input)) as Uint16Array;
      const ours = toFloat16Bits(input);
      for (let i = 0; i < input.length; i++) {
        const nan = (bits: number) => (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
        if (nan(theirs[i])) assert.ok(nan(ours[i]), `${input[i]}`);
        else assert.equal(ours[i], theirs[i], `${input[i]}: 0x${ours[i].toString(16)} ≠ 0x${theirs[i].toString(16)}`);
      }
    }
  });

  for (const backend of ["cpu", "webgpu"]) {
    describe(`a float16 model, served on the ${backend} backend`, { skip: backend === "webgpu" && noAdapter }, () => {
      let server: TestServer;
      before(async () => {
        server = await startTestServer(modelDir(halfPrecisionModel()), { SLUICE_BACKEND: backend });
      });
      after(() => server.close());

      const rows = [
        [0.1, -2.5, 65519, 1e-7],
        [3.3, 0, -0.333, 70000],
      ];
      const half = (values: number[]) => Array.from(fromFloat16Bits(toFloat16Bits(new Float32Array(values))));
      /**
       * What the model reads (each value rounded to a half; 70 000 is past the largest, 65 504) and answers
       * (twice that, rounded to a half), as JSON writes them (infinities as null).
       */
      const expected = rows.map((row) => {
        const read = half(row);
        const inJson = (values: number[]) => values.map((v) => (Number.isFinite(v) ? v : null));
        return { read: inJson(read), doubled: inJson(half(read.map((v) => v * 2))) };
      });

      it("feeds halves and answers with them, in JSON", async () => {
        const response = await invoke(server, rows.map((row) => row.join(",")).join("\n"), {
          "content-type": "text/csv",
          accept: "application/json",
        });
        assert.equal(response.status, 200);
        const { predictions } = (await response.json()) as { predictions: { doubled: number[]; read: number[] }[] };
        assert.equal(predictions.length, 2);
        // Answers are printed as the shortest text that reads back as the same float32.
        const single = (value: number | null) => (value === null ? null : Math.fround(value));
        predictions.forEach((answer, r) => {
          assert.deepEqual(answer.read.map(single), expected[r].read, `record ${r}`);
          assert.deepEqual(answer.doubled.map(single), expected[r].doubled, `record ${r}`);
        });
        // 0.1 is read as the half nearest to it; 65519 doubled is past the largest half.
        assert.equal(predictions[0].read[0], 0.099975586);
        assert.equal(predictions[0].doubled[2], null);
      });

      it("answers halves as float32 tensors in RecordIO-protobuf", async () => {
        const response = await invoke(server, rows[0].join(","), {
          "content-type": "text/csv",
          accept: "application/x-recordio-protobuf",
        });
        assert.equal(response.status, 200);
        const [record] = readRecordIOFrames(new Uint8Array(await response.arrayBuffer())).map((payload) =>
          readAmazonRecord(payload),
        );
        assert.deepEqual(record.tensors.read, half(rows[0]));
      });
    });
  }
});
