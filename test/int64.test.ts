/**
 * 64-bit integer inputs are fed as two 32-bit halves per value, not a `bigint` each
 * (`src/backends/int64.ts`): checked against `BigInt()` on the bounds and on a million random integers of
 * every magnitude, then through ONNX Runtime.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ort from "onnxruntime-node";
import { toInt64s, toUint64s } from "../src/backends/int64.js";
import { writeModel } from "../src/model/onnx-writer.js";
import { seededRandom } from "../src/testing/seeded-random.js";

/** Integers of every magnitude up to 2^`bits`, both signs when `signed`: each a double, so exact to 2^53. */
function randomIntegers(count: number, bits: number, signed: boolean): Float64Array {
  const random = seededRandom(64);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const magnitude = Math.floor(random() * 2 ** Math.floor(random() * bits));
    values[i] = signed && random() < 0.5 ? -magnitude : magnitude;
  }
  return values;
}

function assertSameAsBigInt(values: Float64Array, converted: BigInt64Array | BigUint64Array): void {
  assert.equal(converted.length, values.length);
  for (let i = 0; i < values.length; i++) {
    if (converted[i] !== BigInt(values[i])) assert.fail(`${values[i]} became ${converted[i]}`);
  }
}

describe("64-bit integer inputs", () => {
  it("hold the same values as BigInt() makes, at the bounds and at random", () => {
    const signedBounds = [0, -0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, -(2 ** 32), -(2 ** 32) - 1];
    const int64Edges = [...signedBounds, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 2 ** 63 - 1024, -(2 ** 63)];
    assertSameAsBigInt(Float64Array.from(int64Edges), toInt64s(Float64Array.from(int64Edges)));
    const uint64Edges = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 + 2, 2 ** 63, 2 ** 64 - 2048];
    assertSameAsBigInt(Float64Array.from(uint64Edges), toUint64s(Float64Array.from(uint64Edges)));
    const signed = randomIntegers(1_000_000, 63, true);
    assertSameAsBigInt(signed, toInt64s(signed));
    const unsigned = randomIntegers(1_000_000, 64, false);
    assertSameAsBigInt(unsigned, toUint64s(unsigned));
  });

  it("take any array of integers, a view into a batch's included", () => {
    const batch = Float64Array.from([7, -8, 9, 2 ** 40, -(2 ** 40)]);
    assert.deepEqual([...toInt64s(batch.subarray(1, 4))], [-8n, 9n, 2n ** 40n]);
    assert.deepEqual([...toInt64s(Int32Array.from([-3, 5]))], [-3n, 5n]);
    // A uint32 output's values, widened for the encoders.
    assert.deepEqual([...toInt64s(Uint32Array.from([0, 2 ** 31, 2 ** 32 - 1]))], [0n, 2n ** 31n, 2n ** 32n - 1n]);
  });

  it("reach ONNX Runtime as the same integers", async () => {
    const session = await ort.InferenceSession.create(
      writeModel({
        name: "identity_int64",
        inputs: [{ name: "x", type: "int64", shape: ["N"] }],
        outputs: [{ name: "y", type: "int64", shape: ["N"] }],
        nodes: [{ op: "Identity", inputs: ["x"], outputs: ["y"] }],
      }),
    );
    try {
      const values = randomIntegers(10_000, 63, true);
      const { y } = await session.run({ x: new ort.Tensor("int64", toInt64s(values), [values.length]) });
      assertSameAsBigInt(values, y.data as BigInt64Array);
    } finally {
      await session.release();
    }
  });
});
