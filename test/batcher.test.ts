import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BatchBufferPool } from "../src/batch-buffer-pool.js";
import { Batcher, type InputBatch } from "../src/batcher.js";
import type { NumericArray } from "../src/model/signature.js";
import { signatureOf } from "../src/testing/index.js";

const signature = signatureOf({ x: ["float32", 2] });

/** A pool that counts the arrays it hands out. */
class CountingPool extends BatchBufferPool {
  taken = 0;
  override take(inputIndex: number, length: number, zeroed?: boolean): NumericArray {
    this.taken++;
    return super.take(inputIndex, length, zeroed);
  }
}

function fill(records: number, maxRows: number): { pool: CountingPool; batches: InputBatch[] } {
  const pool = new CountingPool(signature);
  const batches: InputBatch[] = [];
  const batcher = new Batcher(signature, maxRows, (batch) => batches.push(batch), pool);
  for (let record = 0; record < records; record++) {
    const slots = batcher.beginRecord();
    slots.arrays[0].set([record, -record], slots.offset(0));
  }
  batcher.flush();
  return { pool, batches };
}

describe("Batcher", () => {
  it("stages arrays only for the batches it hands over (an invocation of one record takes one)", () => {
    // Each array is a whole batch's (rows × width): one taken and dropped at every body's end cost a
    // one-record invocation more than its decoding and encoding together.
    assert.equal(fill(0, 4).pool.taken, 0);
    assert.equal(fill(1, 4).pool.taken, 1);
    assert.equal(fill(4, 4).pool.taken, 1);
    assert.equal(fill(5, 2).pool.taken, 3);
  });

  it("hands over full batches in order, the last one partial, with their first record indices", () => {
    const { batches } = fill(5, 2);
    assert.deepEqual(
      batches.map((batch) => [batch.firstRecordIndex, batch.rows]),
      [
        [0, 2],
        [2, 2],
        [4, 1],
      ],
    );
    assert.deepEqual(Array.from((batches[2].inputs[0] as Float32Array).subarray(0, 2)), [4, -4]);
  });
});
