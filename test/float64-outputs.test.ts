/**
 * Float64 outputs through a real server and ONNX Runtime: a model that answers its float64 input
 * unchanged must give back, in every text format, the very text JavaScript prints for each value (the
 * shortest that reads back to the same double), whether the body is answered on the main thread or
 * on a codec thread.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { seededRandom } from "../src/testing/seeded-random.js";
import { float64IdentityModel, modelDir } from "./support/models.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

/** Doubles of every magnitude: the extremes, subnormals, integers past 2^53, everyday decimals. */
function values(count: number): number[] {
  const random = seededRandom(53);
  const special = [5e-324, Number.MAX_VALUE, 2.2250738585072014e-308, 1e21, 1e-7, 2 ** 53 + 2, 0.1, -123.456];
  return Array.from({ length: count }, (_, i) => {
    if (i < special.length) return special[i];
    const sign = random() < 0.5 ? -1 : 1;
    return i % 2 === 0 ? sign * random() * 10 ** Math.floor(random() * 40 - 20) : Math.round(random() * 1e6) / 1e3;
  });
}

describe("float64 outputs", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(float64IdentityModel()));
  });
  after(async () => {
    await server.close();
  });

  for (const rows of [4, 3000]) {
    it(`answers each value as JavaScript prints it, in CSV, JSON Lines and JSON (${rows} rows)`, async () => {
      const all = values(rows * 3);
      const lines = Array.from({ length: rows }, (_, row) =>
        all
          .slice(row * 3, row * 3 + 3)
          .map(String)
          .join(","),
      );
      const csv = `${lines.join("\n")}\n`;
      const asCsv = await invoke(server, csv, { "content-type": "text/csv", accept: "text/csv" });
      assert.equal(asCsv.status, 200);
      assert.equal(await asCsv.text(), csv);

      const asLines = await invoke(server, csv, { "content-type": "text/csv", accept: "application/jsonlines" });
      assert.equal(asLines.status, 200);
      assert.equal(await asLines.text(), lines.map((line) => `[${line}]\n`).join(""));

      const asJson = await invoke(server, csv, { "content-type": "text/csv", accept: "application/json" });
      assert.equal(asJson.status, 200);
      const predictions = ((await asJson.json()) as { predictions: number[][] }).predictions;
      assert.deepEqual(predictions.flat(), all);
    });
  }

  it("keeps the sign of −0, writes null for NaN in JSON, and NaN in CSV", async () => {
    const body = "-0,nan,-inf\n";
    const csv = await invoke(server, body, { "content-type": "text/csv", accept: "text/csv" });
    assert.equal(await csv.text(), "-0,NaN,-Infinity\n");
    const json = await invoke(server, body, { "content-type": "text/csv", accept: "application/jsonlines" });
    assert.equal(await json.text(), "[-0,null,null]\n");
  });
});
