/**
 * The halving search for the records a model fails on, with runners whose failures are known: the first
 * failing record is found, every other record is answered in its place, and a failure no record causes
 * is blamed on none. `test/contract-routes.test.ts` runs the same through a real model and server.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { answerAroundFailures, firstFailingRow, type RowRunner } from "../src/backends/failing-records.js";
import type { OutputTensor } from "../src/codec/record-codec.js";
import { signatureOf } from "../src/testing/index.js";

const [numberSpec, textSpec] = signatureOf(
  { x: ["float32", 1] },
  { doubled: ["float32", 1], named: ["string", 2] },
).outputs;

/** A runner over `values` that fails on any part holding a negative value; counts its runs. */
function runnerOver(values: readonly number[]): RowRunner & { runs: number } {
  const run = async (firstRow: number, rows: number): Promise<OutputTensor[]> => {
    run.runs++;
    const part = values.slice(firstRow, firstRow + rows);
    const bad = part.find((value) => value < 0);
    if (bad !== undefined) throw new Error(`negative value ${bad}`);
    return [
      { spec: numberSpec, width: 1, data: Float32Array.from(part, (value) => value * 2) },
      { spec: textSpec, width: 2, data: part.flatMap((value) => [`v${value}`, "!"]) },
    ];
  };
  run.runs = 0;
  return run;
}

describe("the records a model fails on", () => {
  const values = Array.from({ length: 1000 }, (_, i) => ([3, 500, 501, 999].includes(i) ? -i : i));

  it("the first is found, in a few runs per halving", async () => {
    const run = runnerOver(values);
    const failing = await firstFailingRow(values.length, run);
    assert.equal(failing?.row, 3);
    assert.match(String(failing?.cause), /negative value -3/);
    assert.ok(run.runs <= 2 * Math.ceil(Math.log2(values.length)), `${run.runs} runs`);
  });

  it("every other record is answered in place, and each failing one named", async () => {
    const run = runnerOver(values);
    const answered = await answerAroundFailures(values.length, run);
    assert.ok(answered);
    assert.deepEqual([...answered.failedRows.keys()], [3, 500, 501, 999]);
    assert.equal(answered.failedRows.get(500), "negative value -500");
    const [doubled, named] = answered.outputs;
    values.forEach((value, row) => {
      const failed = value < 0;
      assert.equal(doubled.data[row], failed ? 0 : value * 2);
      assert.deepEqual([named.data[2 * row], named.data[2 * row + 1]], failed ? ["", ""] : [`v${value}`, "!"]);
    });
    assert.ok(run.runs <= 4 * 2 * Math.ceil(Math.log2(values.length)), `${run.runs} runs`);
  });

  it("none is blamed when no part runs (a failure that is not the records'), or every part does", async () => {
    const allFail: RowRunner = async () => {
      throw new Error("device lost");
    };
    assert.equal(await firstFailingRow(8, allFail), undefined);
    assert.equal(await answerAroundFailures(8, allFail), undefined);
    const wholeOnly = runnerOver([1, 2, 3, 4]);
    const tooBig: RowRunner = (firstRow, rows) =>
      rows === 4 ? Promise.reject(new Error("out of memory")) : wholeOnly(firstRow, rows);
    assert.equal(await firstFailingRow(4, tooBig), undefined);
    const answered = await answerAroundFailures(4, tooBig);
    assert.ok(answered);
    assert.deepEqual([...(answered.outputs[0].data as Float32Array)], [2, 4, 6, 8]);
    assert.equal(answered.failedRows.size, 0);
  });

  it("an abort ends the search with the abort's reason, answering nothing half done", async () => {
    const controller = new AbortController();
    const run = runnerOver(values);
    const aborting: RowRunner = (firstRow, rows) => {
      if (run.runs === 5) controller.abort(new Error("client went away"));
      return run(firstRow, rows);
    };
    await assert.rejects(answerAroundFailures(values.length, aborting, controller.signal), /client went away/);
  });
});
